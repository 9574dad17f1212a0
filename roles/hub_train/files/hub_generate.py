# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Generate training data from a taxonomy with sdg_hub against a served teacher.

Runs inside the hub virtual environment, next to hub_sdg.py (copied from the collection's
module_utils). Every teacher call goes through sdg_hub's LLMChatBlock (LiteLLM) to the
OpenAI-compatible llama-cpp-python server at --url (several servers: requests wait in one
queue and each server takes the next one when it is free).

Flows: skills (seed -> new question in the same error category -> answer with corrected
code), self-instruct (new instructions from the seeds and a replaceable prompt, ROUGE-L
deduplicated against the seeds, then answered), knowledge (markdown documents of the
knowledge leaves, chunked, no docling, no download -> question -> grounded answer); then
the rule filters and the LLM judge. Writes kept.jsonl (messages format), samples.jsonl
(every sample), rejected.jsonl (each with stage and reason) and summary.json.
"""

from __future__ import annotations

import argparse
import functools
import glob
import json
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hub_sdg  # noqa: E402

# A question or a verdict is short: capping them keeps a CPU teacher from rambling.
QUESTION_TOKENS = 64
VERDICT_TOKENS = 24


def read_leaves(taxonomy: str) -> dict:
    import yaml

    leaves = {}
    for root, _dirs, files in os.walk(taxonomy):
        if ".git" in root.split(os.sep) or "qna.yaml" not in files:
            continue
        path = os.path.join(root, "qna.yaml")
        rel = os.path.relpath(path, taxonomy)
        try:
            with open(path, "r", encoding="utf-8") as handle:
                leaves[rel] = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as exc:
            raise hub_sdg.HubDataError("%s: cannot read the leaf: %s" % (rel, exc))
    return leaves


def knowledge_chunks(leaf_path: str, leaf: dict, workdir: str, max_words: int) -> list:
    """Passages of the leaf's markdown documents, from a local clone of its document repository."""
    document = leaf["document"]
    repo = hub_sdg.local_repo_path(str(document.get("repo") or ""))
    target = os.path.join(workdir, "docs", leaf_path.replace(os.sep, "_").replace("/", "_"))
    if not os.path.isdir(os.path.join(target, ".git")):
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", repo, target], check=True, capture_output=True)
    commit = str(document.get("commit") or "").strip()
    if commit:
        subprocess.run(["git", "-C", target, "checkout", "-q", commit], check=True, capture_output=True)
    chunks = []
    for pattern in document.get("patterns") or ["*.md"]:
        for path in sorted(glob.glob(os.path.join(target, pattern), recursive=True)):
            if path.endswith(".md") and os.path.isfile(path):
                with open(path, "r", encoding="utf-8") as handle:
                    for chunk in hub_sdg.chunk_markdown(handle.read(), max_words):
                        chunks.append({"leaf": leaf_path, "document": os.path.relpath(path, target), "passage": chunk})
    if not chunks:
        raise hub_sdg.HubDataError("%s: no markdown document matches %s in %s" % (leaf_path, document.get("patterns"), repo))
    return chunks


class Ask(NamedTuple):
    """One request to the teacher: the prompt, a cap on the reply's tokens (0: the server's
    default), strings the server stops at and the conversation before the prompt (user and
    assistant turns); step names it in the summary's timings."""

    prompt: str
    step: str
    max_tokens: int = 0
    stop: tuple = ()
    before: tuple = ()


def reply_text(value: Any) -> str:
    """The text of one LLMChatBlock response (a string, or a list or dict around one)."""
    while isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("content") or ""
    return str(value or "").strip()


def sdg_asker(url: str, model: str, max_tokens: int, temperature: float, seed: int) -> Callable[[Ask], str]:
    """A function that asks the teacher served at url one request through sdg_hub's LLMChatBlock."""
    import pandas as pd
    from sdg_hub.core.blocks.llm.llm_chat_block import LLMChatBlock

    block = LLMChatBlock(
        block_name="teacher", input_cols=["messages"], output_cols=["response"],
        model="openai/" + model, api_base=url, api_key="none", timeout=600.0, num_retries=1,
        max_tokens=max_tokens, temperature=temperature, seed=seed,
    )

    def ask(request: Ask) -> str:
        extra: dict = {"max_tokens": request.max_tokens} if request.max_tokens else {}
        if request.stop:
            extra["stop"] = list(request.stop)
        messages = [{"role": role, "content": content} for role, content in request.before]
        frame = pd.DataFrame({"messages": [messages + [{"role": "user", "content": request.prompt}]]})
        return reply_text(block.generate(frame, **extra)["response"].tolist()[0])
    return ask


class Teacher:
    """The served teacher, one asker per server. Jobs wait in one queue and each server's
    thread takes the next one as soon as it is free (a server answers one request at a time;
    a share dealt in advance would leave a server idle while the other finishes a long reply).
    A job may ask several requests in a row (an answer, then its verdict) on its server."""

    def __init__(self, askers: list):
        self.askers = askers
        self.calls = 0
        self.seconds: dict = {}
        self._lock = threading.Lock()

    def _timed(self, asker: Callable[[Ask], str]) -> Callable[[Ask], str]:
        def ask(request: Ask) -> str:
            started = time.monotonic()
            reply = asker(request)
            with self._lock:
                self.calls += 1
                self.seconds[request.step] = self.seconds.get(request.step, 0.0) + time.monotonic() - started
            return reply
        return ask

    def map(self, jobs: list) -> list:
        """Each job's result, in order; a job is called with the ask function of the server that took it."""
        results: list = [None] * len(jobs)
        queue = iter(range(len(jobs)))

        def work(asker: Callable[[Ask], str]) -> None:
            ask = self._timed(asker)
            while True:
                with self._lock:
                    index = next(queue, None)
                if index is None:
                    return
                results[index] = jobs[index](ask)

        if jobs:
            with ThreadPoolExecutor(max_workers=len(self.askers)) as pool:
                list(pool.map(work, self.askers))
        return results

    def ask(self, requests: list) -> list:
        """The teacher's replies to the requests, in order."""
        return self.map([functools.partial(lambda request, ask: ask(request), request) for request in requests])


def question_requests(seeds: list, chunks: list, template: str, count: int) -> list:
    """The first round: a new question per skills seed, a question per knowledge passage, and
    (count > 0) one self-instruct list; the questions stop where the teacher starts answering."""
    requests = [Ask(hub_sdg.SKILL_QUESTION_PROMPT.format(question=seed["question"], answer=hub_sdg.answer_prose(seed["answer"])),
                    "question", QUESTION_TOKENS, tuple(hub_sdg.QUESTION_STOP)) for seed in seeds]
    requests += [Ask(hub_sdg.KNOWLEDGE_QUESTION_PROMPT.format(passage=chunk["passage"]), "question", QUESTION_TOKENS,
                     tuple(hub_sdg.QUESTION_STOP)) for chunk in chunks]
    if count > 0:
        requests.append(Ask(hub_sdg.self_instruct_prompt(template, seeds, count), "self-instruct"))
    return requests


def samples_to_answer(seeds: list, chunks: list, replies: list, count: int, threshold: float) -> tuple:
    """(samples to answer, each with the prompt that answers it; rejected): from the first round's
    replies, in the order question_requests asked. An empty or repeated skills question and a
    self-instruct instruction too close to a seed or another one are set aside unanswered."""
    questions = [hub_sdg.clean_question(text) for text in replies[:len(seeds)]]
    indexes, set_aside = hub_sdg.distinct_questions(questions)
    rejected = [{"kind": "skills", "flow": "skills", "seed": seeds[i]["question"], "question": questions[i], "answer": "",
                 "stage": stage, "reason": reason} for i, (stage, reason) in sorted(set_aside.items())]
    pending = [({"kind": "skills", "flow": "skills", "seed": seeds[i]["question"], "question": questions[i]},
                hub_sdg.ANSWER_PROMPT.format(question=questions[i])) for i in indexes]
    if count > 0:
        candidates = hub_sdg.parse_instructions(replies[-1])[:count]
        kept, dropped = hub_sdg.dedup_instructions(candidates, [seed["question"] for seed in seeds], threshold)
        pending += [({"kind": "skills", "flow": "self_instruct", "question": q}, hub_sdg.ANSWER_PROMPT.format(question=q)) for q in kept]
        rejected += [{"kind": "skills", "flow": "self_instruct", "question": item["instruction"], "answer": "",
                      "stage": "dedup", "reason": item["reason"], "closest": item["closest"]} for item in dropped]
    for chunk, text in zip(chunks, replies[len(seeds):len(seeds) + len(chunks)]):
        question = hub_sdg.clean_question(text)
        pending.append(({"kind": "knowledge", "flow": "knowledge", "leaf": chunk["leaf"], "document": chunk["document"],
                         "question": question},
                        hub_sdg.KNOWLEDGE_ANSWER_PROMPT.format(passage=chunk["passage"], question=question)))
    return pending, rejected


def answer_and_judge(sample: dict, prompt: str, judge: bool, mode: str) -> Callable[[Callable[[Ask], str]], tuple]:
    """A job: answer the sample, then (judge on, rule filters passed) ask for the verdict as the
    next turn of the same conversation on the same server, which has just read all but that turn."""
    def job(ask: Callable[[Ask], str]) -> tuple:
        answered = dict(sample, answer=ask(Ask(prompt, "answer")))
        if not judge or hub_sdg.rule_reject(answered, mode):
            return answered, None
        verdict = ask(Ask(hub_sdg.JUDGE_FOLLOW_UP, "judge", VERDICT_TOKENS, before=(("user", prompt), ("assistant", answered["answer"]))))
        return answered, hub_sdg.judge_verdict(verdict)
    return job


def write_jsonl(path: str, records: list) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(path + ".tmp", path)


def run(args) -> dict:
    timings = {}
    started = time.monotonic()
    leaves = read_leaves(args.taxonomy)
    usable, skipped = hub_sdg.trainable_leaves(leaves)
    skill_seeds, chunks = [], []
    for path in usable:
        if hub_sdg.leaf_kind(path) == "skills":
            skill_seeds.extend(hub_sdg.skill_seeds(leaves[path])[:args.max_seeds or None])
        else:
            chunks.extend(knowledge_chunks(path, leaves[path], args.out, args.chunk_words)[:args.max_chunks])
    with open(args.prompt_file, "r", encoding="utf-8") as handle:
        template = handle.read()
    timings["read"] = time.monotonic() - started
    urls = [url.strip() for url in args.url.split(",") if url.strip()]
    teacher = Teacher([sdg_asker(url, args.model, args.max_tokens, args.temperature, args.seed) for url in urls])
    # Two rounds, each a queue that every server takes from: all questions (skills, knowledge,
    # the self-instruct list), then each sample's answer followed by its verdict.
    mark = time.monotonic()
    count = args.num_instructions if skill_seeds else 0
    replies = teacher.ask(question_requests(skill_seeds, chunks, template, count))
    pending, dedup_rejected = samples_to_answer(skill_seeds, chunks, replies, count, args.rouge_threshold)
    timings["questions"] = time.monotonic() - mark
    mark = time.monotonic()
    answered = teacher.map([answer_and_judge(sample, prompt, args.judge, args.filter) for sample, prompt in pending])
    timings["answers and verdicts"] = time.monotonic() - mark
    samples = [sample for sample, _verdict in answered]
    verdicts = {index: verdict for index, (_sample, verdict) in enumerate(answered) if verdict is not None}
    kept, rejected = hub_sdg.split_samples(samples, verdicts, args.filter)
    rejected = dedup_rejected + rejected
    write_jsonl(os.path.join(args.out, "samples.jsonl"), samples)
    write_jsonl(os.path.join(args.out, "kept.jsonl"), [dict(hub_sdg.messages_record(s["question"], s["answer"]), kind=s["kind"]) for s in kept])
    write_jsonl(os.path.join(args.out, "rejected.jsonl"), rejected)
    summary = dict(hub_sdg.summary_counts(kept, rejected), leaves=usable, skipped_leaves=skipped,
                   seed_examples=len(skill_seeds), knowledge_chunks=len(chunks), teacher_calls=teacher.calls,
                   seconds={k: round(v, 1) for k, v in timings.items()},
                   teacher_seconds={k: round(v, 1) for k, v in sorted(teacher.seconds.items())},
                   peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1))
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taxonomy", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--url", required=True, help="the teacher's server, or several, comma-separated")
    parser.add_argument("--model", default="teacher")
    parser.add_argument("--prompt-file", required=True)
    parser.add_argument("--num-instructions", type=int, default=4)
    parser.add_argument("--rouge-threshold", type=float, default=0.7)
    parser.add_argument("--judge", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--filter", choices=["code", "turns"], default="code")
    parser.add_argument("--chunk-words", type=int, default=300)
    parser.add_argument("--max-chunks", type=int, default=6)
    parser.add_argument("--max-seeds", type=int, default=0, help="seed examples used per skills leaf (0: all)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    try:
        summary = run(args)
    except (hub_sdg.HubDataError, OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        print("hub_generate: %s %s" % (exc, detail.decode("utf-8", "replace") if isinstance(detail, bytes) else detail), file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in ("generated", "kept", "rejected", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
