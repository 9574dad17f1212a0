# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The data logic of the hub training backend (role hub_train), standard library only.

The role copies this file next to its scripts on the AI host, where hub_generate.py and
hub_lora.py import it as a plain module, so nothing here imports Ansible.

- Taxonomy leaves: skills leaves (seed question/answer pairs) and knowledge leaves (a
  document repository and the seed contexts drawn from it); which of them can be trained.
- Knowledge chunking: markdown documents split at headings into passages of at most a
  number of words, code fences kept whole where they fit; no docling, no download.
- Self-instruct (seed 002): the prompt from a template the user can replace, the numbered
  instructions parsed out of the teacher's answer, ROUGE-L deduplication against the seeds
  and against each other.
- The LLM judge's verdict parsed from its answer, and the rule filters (empty turn, no
  corrected code); every rejection is kept with its stage and reason.
- Training examples in the messages format and the ilab text format the student is
  trained and asked in.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

SYSTEM_PROMPT = "I am an AI assistant that helps port open-source software to z/OS."
# Text format of the student (the same as ilab's, so the evaluation's "ilab" prompt format
# asks both tuned models alike).
USER_TAG = "<|user|>"
ASSISTANT_TAG = "<|assistant|>"
SYSTEM_TAG = "<|system|>"
END_TAG = "<|endoftext|>"

DEFAULT_SELF_INSTRUCT_PROMPT = (
    "You are asked to come up with {count} new questions about porting open-source C programs "
    "to z/OS. Each question must be about a different problem than the examples, in the same "
    "style. Examples:\n{examples}\nWrite the {count} new questions as a numbered list, one per line.\n"
)
SKILL_QUESTION_PROMPT = (
    "Here is a question about porting software to z/OS and its answer.\n"
    "Question: {question}\nAnswer: {answer}\n"
    "Write one new question about a different program that fails in the same way (same error "
    "category). Reply with the question only."
)
ANSWER_PROMPT = (
    "Answer the question about porting software to z/OS. When code must change, show the "
    "corrected code in a ``` fenced block.\nQuestion: {question}"
)
KNOWLEDGE_QUESTION_PROMPT = (
    "Read the passage and write one question that the passage answers. Reply with the question only.\n"
    "Passage:\n{passage}"
)
KNOWLEDGE_ANSWER_PROMPT = (
    "Answer the question using only the passage.\nPassage:\n{passage}\nQuestion: {question}"
)
# The judge's turn follows the answer in the same conversation, so it sees what the answer
# was asked with (the passage, for knowledge) and the server reuses the prompt it has just read.
# Asked to start with YES or NO, the 135M teacher gives a verdict as often as it did to a
# separate judge prompt (8 of 18 demo samples accepted either way; 5 with "Reply YES or NO").
JUDGE_FOLLOW_UP = (
    "You are now a reviewer of training data. Is that answer correct, relevant to the question "
    "and complete? Start your reply with YES or NO, then give one sentence why."
)

_WORD = re.compile(r"[A-Za-z0-9_]+")
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.*\S)\s*$")
_HEADING = re.compile(r"^#{1,6}\s")
_CODE_HINT = re.compile(r"```|^\s{4}\S|#\s*(?:if|ifdef|ifndef|include|define)\b|[;{}]\s*$", re.MULTILINE)


class HubDataError(Exception):
    """The taxonomy or the data cannot be used; the message names the input."""


# --- Taxonomy leaves ------------------------------------------------------------------------------


def leaf_kind(relpath: str) -> str:
    """skills or knowledge, from the leaf's path in the taxonomy."""
    top = relpath.replace("\\", "/").split("/", 1)[0]
    if top == "knowledge":
        return "knowledge"
    if top in ("compositional_skills", "foundational_skills"):
        return "skills"
    return ""


def answer_prose(answer: str) -> str:
    """A seed answer without its code: the text before the first code fence, less a last line
    that only introduces the code ("Corrected code:"); the whole answer when it starts with code.
    A new question in the same error category needs the failure explained, not the fix's code,
    and the code is most of a seed's tokens that the teacher would otherwise read."""
    prose = (answer or "").split("```", 1)[0].rstrip()
    lines = prose.splitlines()
    if lines and lines[-1].rstrip().endswith(":"):
        lines = lines[:-1]
    prose = "\n".join(lines).strip()
    return prose or (answer or "").strip()


def skill_seeds(leaf: dict) -> list[dict]:
    """The question/answer pairs of a skills leaf (context kept when there is one)."""
    seeds = []
    for example in leaf.get("seed_examples") or []:
        if not isinstance(example, dict):
            continue
        question = str(example.get("question") or "").strip()
        answer = str(example.get("answer") or "").strip()
        if question and answer:
            seeds.append({"question": question, "answer": answer, "context": str(example.get("context") or "").strip()})
    return seeds


def knowledge_seeds(leaf: dict) -> list[dict]:
    """The seed question/answer pairs of a knowledge leaf, each with its context."""
    seeds = []
    for example in leaf.get("seed_examples") or []:
        if not isinstance(example, dict):
            continue
        context = str(example.get("context") or "").strip()
        for pair in example.get("questions_and_answers") or []:
            if isinstance(pair, dict) and str(pair.get("question") or "").strip() and str(pair.get("answer") or "").strip():
                seeds.append({"question": str(pair["question"]).strip(), "answer": str(pair["answer"]).strip(), "context": context})
    return seeds


def trainable_leaves(leaves: dict[str, dict]) -> tuple[list[str], list[dict]]:
    """Paths of the leaves that can be trained, and the others with the reason why not."""
    usable: list[str] = []
    skipped: list[dict] = []
    for path in sorted(leaves):
        leaf = leaves[path]
        kind = leaf_kind(path)
        if not isinstance(leaf, dict):
            skipped.append({"leaf": path, "reason": "not a YAML mapping"})
        elif not kind:
            skipped.append({"leaf": path, "reason": "not under compositional_skills/, foundational_skills/ or knowledge/"})
        elif kind == "skills" and not skill_seeds(leaf):
            skipped.append({"leaf": path, "reason": "no seed example with both a question and an answer"})
        elif kind == "knowledge" and not isinstance(leaf.get("document"), dict):
            skipped.append({"leaf": path, "reason": "knowledge leaf without a document (repo, commit, patterns)"})
        elif kind == "knowledge" and not knowledge_seeds(leaf):
            skipped.append({"leaf": path, "reason": "no seed context with questions and answers"})
        else:
            usable.append(path)
    if not usable:
        reasons = "; ".join("%s: %s" % (item["leaf"], item["reason"]) for item in skipped) or "no qna.yaml found"
        raise HubDataError("the taxonomy has no trainable leaf (%s)" % reasons)
    return usable, skipped


def local_repo_path(repo: str) -> str:
    """The local path of a knowledge document repository; remote URLs are refused (no download)."""
    repo = (repo or "").strip()
    if repo.startswith("file://"):
        return repo[len("file://"):]
    if repo.startswith("/"):
        return repo
    raise HubDataError(
        "document.repo %r is not a local path or file:// URL: the hub backend reads knowledge documents "
        "without downloading; ship the documents repository with the taxonomy" % repo
    )


# --- Knowledge chunking ---------------------------------------------------------------------------


def _sections(markdown: str) -> list[str]:
    sections: list[list[str]] = [[]]
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and _HEADING.match(line) and any(part.strip() for part in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return ["\n".join(part).strip() for part in sections if "\n".join(part).strip()]


def _blocks(section: str) -> list[str]:
    """Paragraphs of a section, each code fence kept as one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in section.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and not line.strip() and current:
            blocks.append("\n".join(current))
            current = []
            continue
        if line.strip() or in_fence:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def word_count(text: str) -> int:
    return len(text.split())


def chunk_markdown(markdown: str, max_words: int = 300) -> list[str]:
    """Passages of at most max_words words (a single longer block stays whole, a heading stays with
    the block under it), split at headings first and paragraphs second."""
    if max_words < 20:
        raise HubDataError("the knowledge chunk size must be at least 20 words (it is %d)" % max_words)
    chunks: list[str] = []
    for section in _sections(markdown):
        current: list[str] = []
        for block in _blocks(section):
            heading_only = len(current) == 1 and _HEADING.match(current[0]) is not None
            if current and not heading_only and word_count("\n\n".join(current + [block])) > max_words:
                chunks.append("\n\n".join(current))
                current = []
            current.append(block)
        if current:
            chunks.append("\n\n".join(current))
    return [chunk for chunk in chunks if word_count(chunk) >= 5]


# --- ROUGE-L and self-instruct ---------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text or "")]


def _lcs(first: list[str], second: list[str]) -> int:
    if not first or not second:
        return 0
    previous = [0] * (len(second) + 1)
    for left in first:
        current = [0]
        for index, right in enumerate(second):
            current.append(previous[index] + 1 if left == right else max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F-measure of two texts over lower-cased word tokens (0.0 when either is empty)."""
    first, second = tokens(candidate), tokens(reference)
    common = _lcs(first, second)
    if not common:
        return 0.0
    precision, recall = common / len(first), common / len(second)
    return 2 * precision * recall / (precision + recall)


def self_instruct_prompt(template: str, seeds: list[dict], count: int) -> str:
    """The self-instruct prompt: {examples} and {count} filled in from the seed questions."""
    if "{examples}" not in template:
        raise HubDataError("the self-instruct prompt file must contain {examples} (and may contain {count})")
    examples = "\n".join("%d. %s" % (index + 1, " ".join(seed["question"].split())) for index, seed in enumerate(seeds))
    return template.replace("{examples}", examples).replace("{count}", str(count))


def parse_instructions(text: str) -> list[str]:
    """Instructions from a numbered or bulleted list (unnumbered lines when there is no list)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    numbered = [match.group(1).strip() for match in map(_NUMBERED.match, lines) if match]
    found = numbered if numbered else [line.strip() for line in lines]
    return [item for item in found if word_count(item) >= 3]


def dedup_instructions(candidates: Iterable[str], seeds: list[str], threshold: float = 0.7) -> tuple[list[str], list[dict]]:
    """Candidates kept (ROUGE-L below threshold against every seed and every kept candidate) and
    the rejected ones with the closest text and its score."""
    if not 0.0 < threshold <= 1.0:
        raise HubDataError("the ROUGE-L threshold must be in (0, 1] (it is %s)" % threshold)
    kept: list[str] = []
    rejected: list[dict] = []
    for candidate in candidates:
        best_score, best_text, origin = 0.0, "", ""
        for origin_name, pool in (("seed", seeds), ("generated", kept)):
            for other in pool:
                score = rouge_l(candidate, other)
                if score > best_score:
                    best_score, best_text, origin = score, other, origin_name
        if best_score >= threshold:
            rejected.append({
                "instruction": candidate,
                "reason": "ROUGE-L %.2f >= %.2f against a %s instruction" % (best_score, threshold, origin),
                "closest": best_text,
            })
        else:
            kept.append(candidate)
    return kept, rejected


def distinct_questions(questions: Iterable[str]) -> tuple[list[int], dict[int, tuple[str, str]]]:
    """Indexes of the questions worth answering, and (stage, reason) for each one set aside:
    an empty question, or one with the same words as an earlier one (a small teacher often
    repeats itself, and answering and judging a repeat costs two teacher calls for nothing)."""
    fresh: list[int] = []
    set_aside: dict[int, tuple[str, str]] = {}
    seen: set[str] = set()
    for index, question in enumerate(questions):
        key = " ".join(tokens(question))
        if not key:
            set_aside[index] = ("rules", "empty turn: no question")
        elif key in seen:
            set_aside[index] = ("dedup", "the same question as an earlier skills sample")
        else:
            seen.add(key)
            fresh.append(index)
    return fresh, set_aside


# --- Judge and rule filters -------------------------------------------------------------------------


# A small teacher asked for a question often goes on to answer it: the answer is cut off
# by the server (stop) and a leading label is dropped, so the question is the question only.
QUESTION_STOP = ["\nAnswer:", "\nA:"]
_QUESTION_LABEL = re.compile(r"^\s*(?:question|q)[ \t]*:[ \t]*", re.IGNORECASE)


def clean_question(text: str) -> str:
    """The question a teacher wrote, without a "Question:" label or an answer it went on to write."""
    question = _QUESTION_LABEL.sub("", text or "", count=1)
    for stop in QUESTION_STOP:
        question = question.split(stop, 1)[0]
    return question.strip()


def judge_verdict(text: str) -> tuple[bool, str]:
    """(accepted, reason) from the judge's answer: YES accepts, NO rejects, anything else rejects."""
    answer = (text or "").strip()
    match = re.search(r"\b(yes|no)\b", answer, re.IGNORECASE)
    if not match:
        return False, "judge gave no verdict: %r" % answer[:120]
    accepted = match.group(1).lower() == "yes"
    why = " ".join(answer.split())[:200]
    return accepted, ("judge: " + why) if why else "judge: " + match.group(1)


def has_code(text: str) -> bool:
    """True when the answer shows code (a fence, an indented block, a preprocessor line or C syntax)."""
    return bool(_CODE_HINT.search(text or ""))


def rule_reject(sample: dict, mode: str = "code") -> str:
    """Why a sample is rejected by the rule filters, or "" when it passes.

    turns: an empty question or answer; code: that, and a skills answer without corrected code
    (knowledge answers are prose and only need both turns).
    """
    if mode not in ("code", "turns"):
        raise HubDataError("the sample filter must be code or turns (it is %r)" % mode)
    if not str(sample.get("question") or "").strip():
        return "empty turn: no question"
    if not str(sample.get("answer") or "").strip():
        return "empty turn: no answer"
    if mode == "code" and sample.get("kind") == "skills" and not has_code(sample["answer"]):
        return "no corrected code in the answer"
    return ""


def split_samples(samples: list[dict], verdicts: dict[int, tuple[bool, str]], mode: str) -> tuple[list[dict], list[dict]]:
    """Kept samples and rejected ones (each with stage and reason): rule filters first, then the judge."""
    kept: list[dict] = []
    rejected: list[dict] = []
    for index, sample in enumerate(samples):
        reason = rule_reject(sample, mode)
        if reason:
            rejected.append(dict(sample, stage="rules", reason=reason))
            continue
        verdict = verdicts.get(index)
        if verdict is not None and not verdict[0]:
            rejected.append(dict(sample, stage="judge", reason=verdict[1]))
            continue
        kept.append(sample)
    return kept, rejected


# --- Training examples --------------------------------------------------------------------------------


def messages_record(question: str, answer: str, system: str = SYSTEM_PROMPT) -> dict:
    return {"messages": [
        {"role": "system", "content": system},
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]}


def from_messages(record: dict) -> tuple[str, str, str]:
    """(system, user, assistant) of a messages record; the first of each role."""
    found = {"system": "", "user": "", "assistant": ""}
    for message in record.get("messages") or []:
        if isinstance(message, dict) and message.get("role") in found and not found[message["role"]]:
            found[message["role"]] = str(message.get("content") or "")
    return found["system"], found["user"], found["assistant"]


def from_alpaca(record: dict) -> tuple[str, str]:
    """(user, assistant) of an alpaca record: instruction and input joined, output."""
    instruction = str(record.get("instruction") or "").strip()
    extra = str(record.get("input") or "").strip()
    user = instruction + ("\n\n" + extra if extra else "")
    return user, str(record.get("output") or "").strip()


def ilab_text(system: str, user: str, assistant: str = "") -> str:
    """The student's text format; without an assistant turn it is the prompt to complete."""
    prompt = "%s\n%s\n%s\n%s\n%s\n" % (SYSTEM_TAG, system or SYSTEM_PROMPT, USER_TAG, user.strip(), ASSISTANT_TAG)
    return prompt + (assistant.strip() + END_TAG if assistant else "")


def training_texts(generated: list[dict], messages: list[dict], alpaca: list[dict],
                   max_curated: int = 0) -> tuple[list[dict], list[dict]]:
    """(examples, left_out): one {"prompt", "text", "source"} per usable example of the generated
    messages, curated messages and curated alpaca pairs, and one {"source", "index", "reason"} per
    record left out. The curate stage writes the same records in both curated formats, so an
    alpaca pair already taken as a curated message is left out; max_curated (0: all) caps the
    curated examples, first ones first, so a small host trains on the teacher's samples in minutes."""
    out: list[dict] = []
    left_out: list[dict] = []
    curated_pairs: set[tuple[tuple[str, ...], str]] = set()
    for source, records in (("generated", generated), ("curated_messages", messages), ("curated_alpaca", alpaca)):
        for index, record in enumerate(records):
            if source == "curated_alpaca":
                system, (user, assistant) = "", from_alpaca(record)
            else:
                system, user, assistant = from_messages(record)
            # Alpaca puts the question before the context, messages after it: compare the parts.
            pair = (tuple(sorted(part.strip() for part in user.split("\n\n") if part.strip())), assistant.strip())
            reason = ""
            if not (pair[0] and pair[1]):
                reason = "an empty user or assistant turn"
            elif source != "generated" and pair in curated_pairs:
                reason = "the same question and answer as a curated messages record"
            elif source != "generated" and max_curated and len(curated_pairs) >= max_curated:
                reason = "over the cap of %d curated examples" % max_curated
            if reason:
                left_out.append({"source": source, "index": index, "reason": reason})
                continue
            if source != "generated":
                curated_pairs.add(pair)
            out.append({"prompt": ilab_text(system, user), "text": ilab_text(system, user, assistant), "source": source})
    return out, left_out


def read_jsonl(path: str, missing_ok: bool = True) -> list[dict]:
    """Records of a JSON-lines file; a missing file is empty when missing_ok, a bad line an error naming it."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        if missing_ok:
            return []
        raise HubDataError("%s: no such file" % path)
    records = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise HubDataError("%s line %d is not JSON: %s" % (path, number, exc))
            if isinstance(value, dict):
                records.append(value)
    return records


def resource_problem(free_disk_mb: int, need_disk_mb: int, memory_mb: int, need_memory_mb: int) -> str:
    """Why the host cannot run the training, or "" when disk and memory suffice."""
    problems = []
    if free_disk_mb < need_disk_mb:
        problems.append("%d MiB free disk in the work area, %d MiB needed" % (free_disk_mb, need_disk_mb))
    if memory_mb < need_memory_mb:
        problems.append("%d MiB memory, %d MiB needed" % (memory_mb, need_memory_mb))
    return "; ".join(problems)


def student_needs_mb(student_bytes: int) -> tuple[int, int]:
    """(disk MiB, memory MiB) a LoRA run of a student of this many bytes of weights needs:
    disk for the merged copy, its GGUF and checkpoints (3x + 1 GiB), memory for weights,
    gradients of the adapters, activations and the teacher server (4x + 1.5 GiB)."""
    size_mb = max(1, student_bytes // (1024 * 1024))
    return 3 * size_mb + 1024, 4 * size_mb + 1536


def summary_counts(kept: list[dict], rejected: list[dict]) -> dict[str, Any]:
    """Counts of kept and rejected samples, by kind and by stage."""
    by_stage: dict[str, int] = {}
    for item in rejected:
        by_stage[item.get("stage", "unknown")] = by_stage.get(item.get("stage", "unknown"), 0) + 1
    kinds = sorted({item.get("kind", "") for item in kept + rejected})
    return {
        "generated": len(kept) + len(rejected),
        "kept": len(kept),
        "rejected": len(rejected),
        "rejected_by_stage": by_stage,
        "kept_by_kind": {kind: sum(1 for item in kept if item.get("kind") == kind) for kind in kinds},
    }
