#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""How long the evaluation of the demo's test split takes, per system, with real GGUFs served
over HTTP by llama-cpp-python's server (the role's own helper starts and stops it).

Baselines measured in the same run on the same items:
  unchanged   the floor: no model, no search (the evaluator's own cost: scoring, git apply)
  retrieval   BM25 over train.jsonl and the fix carried over
Measured:
  base, tuned, tuned_rag   the served models (tuned only when its GGUF exists)
Printed: items/s and s/item per system and against retrieval, tokens/s of the server, the
evaluator's peak memory (this process, not the server), the whole run against the 3-minute goal.

Usage: bench_evaluate.py [--test output/curated/test.jsonl] [--train output/curated/train.jsonl]
       [--base GGUF] [--tuned GGUF] [--python INTERPRETER-WITH-llama_cpp] [--max-tokens 384] [--threads 1]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "autoport", "zos")
HELPER = os.path.join(REPO, "roles", "evaluate", "files", "model_server.py")
ILAB = os.path.expanduser("~/.cache/autoport/ilab")
GOAL_SECONDS = 180.0


def _import_collection():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK, target_is_directory=True)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


def _first(pattern: str) -> str:
    found = sorted(glob.glob(pattern), key=os.path.getmtime)
    return found[-1] if found else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", default=os.path.join(REPO, "output", "curated", "test.jsonl"))
    parser.add_argument("--train", default=os.path.join(REPO, "output", "curated", "train.jsonl"))
    parser.add_argument("--base", default=os.path.join(ILAB, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--tuned", default=_first(os.path.join(ILAB, "work", "default", "model", "*.gguf")))
    parser.add_argument("--python", default=_first(os.path.join(ILAB, "*", "venv", "bin", "python")))
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--port", type=int, default=8019)
    parser.add_argument("--out", default="", help="write predictions.jsonl here")
    args = parser.parse_args()
    _import_collection()
    from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import metric_summary, speed
    from ansible_collections.autoport.zos.plugins.module_utils.fix_evaluate import evaluate, predictions_jsonl

    for path, what in ((args.test, "--test"), (args.base, "--base"), (args.python, "--python")):
        if not path or not os.path.exists(path):
            sys.exit("%s: %r does not exist (run the demo's curate and train stages first)" % (what, path))
    models = [{"model": args.base, "model_alias": "base", "n_ctx": 4096, "n_threads": args.threads, "verbose": False}]
    systems = [{"name": "unchanged", "kind": "unchanged"}, {"name": "retrieval", "kind": "retrieval"}]
    work = tempfile.mkdtemp(prefix="bench-evaluate-")
    url = "http://127.0.0.1:%d/v1" % args.port
    systems.append({"name": "base", "kind": "model", "url": url, "model": "base"})
    if args.tuned and os.path.exists(args.tuned):
        models.append({"model": args.tuned, "model_alias": "tuned", "n_ctx": 4096, "n_threads": args.threads, "verbose": False})
        systems.append({"name": "tuned", "kind": "model", "url": url, "model": "tuned", "prompt_format": "ilab"})
        systems.append({"name": "tuned_rag", "kind": "model", "url": url, "model": "tuned", "prompt_format": "ilab", "rag_examples": 1})
    else:
        print("no tuned GGUF (--tuned): base only")
    config = os.path.join(work, "server.json")
    with open(config, "w", encoding="utf-8") as handle:
        json.dump({"host": "127.0.0.1", "port": args.port, "models": models}, handle)
    pid = os.path.join(work, "server.pid")
    log = os.path.join(work, "server.log")
    started = time.monotonic()
    server = subprocess.run([args.python, HELPER, "start", "--config", config, "--port", str(args.port), "--log", log, "--pid", pid, "--python", args.python],
                            capture_output=True, text=True, check=False)
    if server.returncode != 0:
        sys.exit(server.stderr)
    server_seconds = time.monotonic() - started
    try:
        started = time.monotonic()
        lines = evaluate(args.test, args.train, systems, {"samples": 1, "temperature": 0.0, "max_tokens": args.max_tokens, "timeout": 600})
        total = time.monotonic() - started
    finally:
        subprocess.run([args.python, HELPER, "stop", "--pid", pid], capture_output=True, check=False)
    if args.out:
        with open(args.out, "wb") as handle:
            handle.write(predictions_jsonl(lines))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    items = len({line["item"] for line in lines if line["status"] != "skipped"})
    print("test split %s: %d items; server ready in %.1f s (threads %d, max_tokens %d); server log %s"
          % (args.test, items, server_seconds, args.threads, args.max_tokens, log))
    reference = None
    print("%-10s %9s %9s %10s %9s %7s %7s %9s" % ("system", "items/s", "s/item", "vs retr.", "tokens/s", "exact", "applies", "edit_gain"))
    for system in systems:
        mine = [line for line in lines if line["system"] == system["name"]]
        pace = speed(mine)
        figures = metric_summary(mine)
        if system["name"] == "retrieval":
            reference = pace["seconds_per_item"]
        ratio = (pace["seconds_per_item"] / reference) if reference and pace["seconds_per_item"] else None
        print("%-10s %9s %9.3f %10s %9s %6.1f%% %6.1f%% %+9.3f  (unreadable %d, errors %d)" % (
            system["name"], pace["items_per_second"], pace["seconds_per_item"] or 0.0, ("x%.0f" % ratio) if ratio else "-",
            pace["tokens_per_second"] or "-", 100 * (figures["exact"]["mean"] or 0), 100 * (figures["applies"]["mean"] or 0),
            figures["edit_gain"]["mean"] or 0.0, figures["unreadable"], figures["errors"]))
    print("whole evaluation %.1f s (+ %.1f s server start) against the goal of %.0f s: %s; evaluator peak memory %.0f MB"
          % (total, server_seconds, GOAL_SECONDS, "met" if total + server_seconds < GOAL_SECONDS else "NOT met", peak_mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
