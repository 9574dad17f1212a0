# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Generate training data from a taxonomy with sdg_hub against a served teacher.

Runs inside the hub virtual environment, next to hub_sdg.py (copied from the collection's
module_utils). Every teacher call goes through sdg_hub's LLMChatBlock (LiteLLM) to the
OpenAI-compatible llama-cpp-python server at --url (several servers: each call's prompts are
dealt among them and asked in parallel).

Flows: skills (seed -> new question in the same error category -> answer with corrected
code), self-instruct (new instructions from the seeds and a replaceable prompt, ROUGE-L
deduplicated against the seeds, then answered), knowledge (markdown documents of the
knowledge leaves, chunked, no docling, no download -> question -> grounded answer); then
the rule filters and the LLM judge. Writes kept.jsonl (messages format), samples.jsonl
(every sample), rejected.jsonl (each with stage and reason) and summary.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

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


def spread(items: list, parts: int) -> list:
    """items dealt round-robin into at most `parts` lists of (index, item), none empty."""
    hands = [[(index, item) for index, item in enumerate(items) if index % parts == part] for part in range(parts)]
    return [hand for hand in hands if hand]


class Teacher:
    """The served teacher, asked through sdg_hub's LLMChatBlock: one block per server, the
    prompts of a call dealt among the servers and asked in parallel (a server answers one
    request at a time), the answers back in the prompts' order."""

    def __init__(self, urls: list, model: str, max_tokens: int, temperature: float, seed: int):
        from sdg_hub.core.blocks.llm.llm_chat_block import LLMChatBlock

        self.calls = 0
        self.blocks = [LLMChatBlock(
            block_name="teacher%d" % number, input_cols=["messages"], output_cols=["response"],
            model="openai/" + model, api_base=url, api_key="none", timeout=600.0, num_retries=1,
            max_tokens=max_tokens, temperature=temperature, seed=seed,
        ) for number, url in enumerate(urls)]

    def ask(self, prompts: list, max_tokens: int = 0, stop: list = None) -> list:
        """The teacher's answers, in order; max_tokens caps short replies (questions, verdicts),
        and the server stops a reply at any of the stop strings."""
        import pandas as pd

        from concurrent.futures import ThreadPoolExecutor

        if not prompts:
            return []
        self.calls += len(prompts)
        extra = {"max_tokens": max_tokens} if max_tokens else {}
        if stop:
            extra["stop"] = list(stop)

        def ask_one_server(block, hand: list) -> list:
            frame = pd.DataFrame({"messages": [[{"role": "user", "content": prompt}] for _index, prompt in hand]})
            return list(zip([index for index, _prompt in hand], block.generate(frame, **extra)["response"].tolist()))

        hands = spread(prompts, len(self.blocks))
        answers = [""] * len(prompts)
        with ThreadPoolExecutor(max_workers=len(hands)) as pool:
            for replies in pool.map(ask_one_server, self.blocks, hands):
                for index, value in replies:
                    while isinstance(value, list):
                        value = value[0] if value else ""
                    if isinstance(value, dict):
                        value = value.get("content") or ""
                    answers[index] = str(value or "").strip()
        return answers


def skills_samples(teacher: Teacher, seeds: list) -> tuple:
    """(samples, rejected): an empty question, or one the teacher already wrote for an earlier
    seed, is set aside before it is answered and judged (a small teacher often repeats itself)."""
    questions = [hub_sdg.clean_question(text) for text in teacher.ask(
        [hub_sdg.SKILL_QUESTION_PROMPT.format(**seed) for seed in seeds], QUESTION_TOKENS, hub_sdg.QUESTION_STOP)]
    indexes, set_aside = hub_sdg.distinct_questions(questions)
    rejected = [{"kind": "skills", "flow": "skills", "seed": seeds[i]["question"], "question": questions[i], "answer": "",
                 "stage": stage, "reason": reason} for i, (stage, reason) in sorted(set_aside.items())]
    fresh = [(seeds[i], questions[i]) for i in indexes]
    answers = teacher.ask([hub_sdg.ANSWER_PROMPT.format(question=question) for _seed, question in fresh])
    samples = [{"kind": "skills", "flow": "skills", "seed": seed["question"], "question": q, "answer": a}
               for (seed, q), a in zip(fresh, answers)]
    return samples, rejected


def self_instruct_samples(teacher: Teacher, seeds: list, template: str, count: int, threshold: float) -> tuple:
    if count <= 0:
        return [], []
    raw = teacher.ask([hub_sdg.self_instruct_prompt(template, seeds, count)])[0]
    candidates = hub_sdg.parse_instructions(raw)[:count]
    kept, dropped = hub_sdg.dedup_instructions(candidates, [seed["question"] for seed in seeds], threshold)
    answers = teacher.ask([hub_sdg.ANSWER_PROMPT.format(question=question) for question in kept])
    samples = [{"kind": "skills", "flow": "self_instruct", "question": q, "answer": a} for q, a in zip(kept, answers)]
    rejected = [{"kind": "skills", "flow": "self_instruct", "question": item["instruction"], "answer": "",
                 "stage": "dedup", "reason": item["reason"], "closest": item["closest"]} for item in dropped]
    return samples, rejected


def knowledge_samples(teacher: Teacher, chunks: list) -> list:
    questions = [hub_sdg.clean_question(text) for text in teacher.ask(
        [hub_sdg.KNOWLEDGE_QUESTION_PROMPT.format(passage=c["passage"]) for c in chunks], QUESTION_TOKENS, hub_sdg.QUESTION_STOP)]
    answers = teacher.ask([hub_sdg.KNOWLEDGE_ANSWER_PROMPT.format(passage=c["passage"], question=q) for c, q in zip(chunks, questions)])
    return [{"kind": "knowledge", "flow": "knowledge", "leaf": c["leaf"], "document": c["document"], "question": q, "answer": a}
            for c, q, a in zip(chunks, questions, answers)]


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
    teacher = Teacher([url.strip() for url in args.url.split(",") if url.strip()], args.model, args.max_tokens, args.temperature, args.seed)
    mark = time.monotonic()
    samples, dedup_rejected = skills_samples(teacher, skill_seeds)
    extra, instructions_rejected = self_instruct_samples(teacher, skill_seeds, template, args.num_instructions, args.rouge_threshold)
    dedup_rejected += instructions_rejected
    samples += extra + knowledge_samples(teacher, chunks)
    timings["generate"] = time.monotonic() - mark
    mark = time.monotonic()
    verdicts = {}
    if args.judge:
        candidates = [i for i, s in enumerate(samples) if not hub_sdg.rule_reject(s, args.filter)]
        answers = teacher.ask([hub_sdg.JUDGE_PROMPT.format(question=samples[i]["question"], answer=samples[i]["answer"])
                               for i in candidates], VERDICT_TOKENS)
        verdicts = {i: hub_sdg.judge_verdict(a) for i, a in zip(candidates, answers)}
    timings["judge"] = time.monotonic() - mark
    kept, rejected = hub_sdg.split_samples(samples, verdicts, args.filter)
    rejected = dedup_rejected + rejected
    write_jsonl(os.path.join(args.out, "samples.jsonl"), samples)
    write_jsonl(os.path.join(args.out, "kept.jsonl"), [dict(hub_sdg.messages_record(s["question"], s["answer"]), kind=s["kind"]) for s in kept])
    write_jsonl(os.path.join(args.out, "rejected.jsonl"), rejected)
    summary = dict(hub_sdg.summary_counts(kept, rejected), leaves=usable, skipped_leaves=skipped,
                   seed_examples=len(skill_seeds), knowledge_chunks=len(chunks), teacher_calls=teacher.calls,
                   seconds={k: round(v, 1) for k, v in timings.items()},
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
