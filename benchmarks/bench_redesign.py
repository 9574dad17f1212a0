# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Issue 15 changed the structure, not the speed: the hot paths, old code against new, in one run.

The module_utils of the baseline commit (--baseline, default af0df7b, before the
redesign's last splits) are extracted with ``git archive`` into a temporary folder; the
current ones are this checkout. Each measurement runs in a child process that imports
one of the two as ``ansible_collections.autoport.zos`` (the same names, so the two can
never mix in one interpreter), repeats the work and keeps the best time. Old and new
alternate, the same inputs for both:

  build_log   build_log.parse_log on a log made of the unit-test fixture logs, repeated
              (--log-mb megabytes)
  static_mine static_mine.mine_port on every port of the shared corpus (records counted)
  patch_read  patch_read.read_patch_file on every active patch of the shared corpus, ten times
  curate      dataset_curate.curate on the corpus's mined records, with the report
  qna_render  qna_render.render_taxonomy (skills) on curate's dataset.jsonl
  replay      patch_replay.replay_port of one sample port (--replay-port), real builds;
              with --replay only (its time is the compiler's, so noisy on a shared host);
              build records counted (the baseline's harvest also wrote static ones)

Both versions must give the same counts (records, diagnostics, leaves); a difference
is an error. Prints new/old per path and exits 1 when a ratio exceeds --max-ratio
(1.25) or a count differs.

    .venv/bin/python benchmarks/bench_redesign.py
    .venv/bin/python benchmarks/bench_redesign.py --repeat 5 --replay
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus", "zopen-ports")

# The child: import one version, run one path `repeat` times, print {"best", "count"}.
CHILD = r'''
import json, os, shutil, sys, time
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["root"])
from ansible_collections.autoport.zos.plugins.module_utils import build_log, dataset_curate, patch_read, port_layout, qna_render, static_mine

def ports():
    corpus = spec["corpus"]
    return [os.path.join(corpus, name) for name in sorted(os.listdir(corpus)) if os.path.isdir(os.path.join(corpus, name))]

def active_patches():
    found = []
    for port_dir in ports():
        path = os.path.join(port_dir, "buildenv")
        env = port_layout.read_buildenv(path) if os.path.isfile(path) else {}
        patch_dir = port_layout.select_patch_dir(port_dir, env)[0]
        found.extend(port_layout.list_patches(patch_dir) if patch_dir else [])
    return found

def work(round_dir):
    task = spec["task"]
    if task == "build_log":
        result = build_log.parse_log(src=spec["log"], max_diagnostics=1000)
        return [result["total"], result["counts"]]
    if task == "static_mine":
        return sum(static_mine.mine_port(port_dir, None)["records"] for port_dir in ports())
    if task == "patch_read":
        hunks = refused = 0
        for path in spec["patches"] * 10:
            try:
                hunks += len(patch_read.read_patch_file(path).hunks)
            except patch_read.PatchReadError:
                refused += 1
        return [hunks, refused]
    if task == "curate":
        result = dataset_curate.curate({"src": [spec["records"]], "dest": os.path.join(round_dir, "curated"), "report": True})
        return result["counts"]
    if task == "qna_render":
        result = qna_render.render_taxonomy({"src": spec["dataset"], "taxonomy_dir": os.path.join(round_dir, "taxonomy"), "kinds": ["skills"]})
        return [len(result["leaves"]), result["records"]]
    if task == "replay":
        from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
        dest = os.path.join(round_dir, "records.jsonl")
        result = replay_port({"port_dir": spec["port_dir"], "work_dir": os.path.join(round_dir, "work"), "mirror_dir": spec["mirror"],
                              "dest": dest})
        # Build records only: since static records come from the mine stage alone, the
        # baseline's harvest also wrote static ones.
        with open(dest, encoding="utf-8") as handle:
            built = sum(1 for line in handle if line.strip() and json.loads(line).get("provenance") == "build")
        return [built, [p["outcome"] for p in result["patches"]]]
    raise SystemExit("unknown task " + task)

if spec["task"] == "patch_read":
    spec["patches"] = active_patches()
best, count = None, None
for index in range(spec["repeat"]):
    round_dir = os.path.join(spec["scratch"], "round-%d" % index)
    os.makedirs(round_dir)
    started = time.perf_counter()
    count = work(round_dir)
    seconds = time.perf_counter() - started
    best = seconds if best is None else min(best, seconds)
    shutil.rmtree(round_dir)
print(json.dumps({"best": best, "count": count}))
'''


def _extract_baseline(commit: str, dest: str) -> str:
    """module_utils of commit under dest/ansible_collections/autoport/zos; returns the sys.path root."""
    collection = os.path.join(dest, "ansible_collections", "autoport", "zos")
    os.makedirs(collection)
    archive = subprocess.run(["git", "-C", REPO, "archive", commit, "plugins/module_utils"], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(["tar", "-x", "-C", collection], input=archive, check=True)
    return dest


def _current(dest: str) -> str:
    """This checkout as ansible_collections.autoport.zos under dest; returns the sys.path root."""
    link = os.path.join(dest, "ansible_collections", "autoport", "zos")
    os.makedirs(os.path.dirname(link))
    os.symlink(REPO, link, target_is_directory=True)
    return dest


def _make_log(path: str, megabytes: float) -> None:
    folder = os.path.join(REPO, "tests", "unit", "fixtures", "logs")
    parts = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            data = handle.read()
        if b"\x00" not in data and data.isascii():
            parts.append(data if data.endswith(b"\n") else data + b"\n")
    block = b"".join(parts)
    with open(path, "wb") as handle:
        for _copy in range(max(1, int(megabytes * 1024 * 1024 / len(block)))):
            handle.write(block)


def _child(root: str, task: str, spec: dict, repeat: int, scratch: str) -> dict:
    payload = dict(spec, root=root, task=task, repeat=repeat, scratch=scratch)
    env = dict((name, value) for name, value in os.environ.items() if name != "PYTHONPATH")
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(payload)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit("%s (%s) failed:\n%s" % (task, root, done.stderr.decode("utf-8", "replace")[-3000:]))
    return json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])


def _prepare_records(new_root: str, dest: str, spec: dict) -> None:
    """The corpus's static records (mined once, by the current code) and curate's dataset for qna_render."""
    script = r'''
import json, os, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate, static_mine
corpus, dest = sys.argv[2], sys.argv[3]
os.makedirs(os.path.join(dest, "mined"))
for name in sorted(os.listdir(corpus)):
    if os.path.isdir(os.path.join(corpus, name)):
        static_mine.mine_port(os.path.join(corpus, name), os.path.join(dest, "mined", name + ".jsonl"))
dataset_curate.curate({"src": [os.path.join(dest, "mined")], "dest": os.path.join(dest, "curated"), "report": False})
'''
    env = dict((name, value) for name, value in os.environ.items() if name != "PYTHONPATH")
    subprocess.run([sys.executable, "-c", script, new_root, CORPUS, dest], env=env, check=True)
    spec["records"] = os.path.join(dest, "mined")
    spec["dataset"] = os.path.join(dest, "curated", "dataset.jsonl")


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="af0df7b", help="commit whose module_utils are the old code (default af0df7b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path per child; the best counts (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="old/new alternations per path; the best counts (default 2)")
    parser.add_argument("--log-mb", type=float, default=8.0, help="size of the build log parsed (default 8 MB)")
    parser.add_argument("--max-ratio", type=float, default=1.25, help="new/old above this fails (default 1.25)")
    parser.add_argument("--replay", action="store_true", help="also time patch_replay on one sample port (real builds)")
    parser.add_argument("--only", action="append", help="only this path (repeatable)")
    parser.add_argument("--replay-port", default="strkitport", help="sample port for --replay (default strkitport)")
    args = parser.parse_args(argv)
    tasks = ["build_log", "patch_read", "static_mine", "curate", "qna_render"] + (["replay"] if args.replay else [])
    if args.only:
        tasks = [task for task in tasks if task in args.only] + (["replay"] if "replay" in args.only and "replay" not in tasks else [])
    if not os.path.isdir(CORPUS):
        print("no shared corpus at %s" % CORPUS, file=sys.stderr)
        return 2

    temp = tempfile.mkdtemp(prefix="bench-redesign-")
    try:
        old_root = _extract_baseline(args.baseline, os.path.join(temp, "old"))
        new_root = _current(os.path.join(temp, "new"))
        spec = {"corpus": CORPUS, "log": os.path.join(temp, "build.log"), "mirror": os.path.join(REPO, "samples", "mirror"),
                "port_dir": os.path.join(REPO, "samples", "ports", args.replay_port)}
        _make_log(spec["log"], args.log_mb)
        _prepare_records(new_root, os.path.join(temp, "data"), spec)
        print("baseline %s (old) against this checkout (new); best of %d runs x %d rounds; log %.1f MB"
              % (args.baseline, args.repeat, args.rounds, os.path.getsize(spec["log"]) / 1e6))
        print("%-12s %10s %10s %8s  %s" % ("path", "old s", "new s", "new/old", "counts"))
        failed = False
        for task in tasks:
            best = {"old": None, "new": None}
            counts = {}
            for round_index in range(args.rounds):
                order = (("old", old_root), ("new", new_root)) if round_index % 2 == 0 else (("new", new_root), ("old", old_root))
                for name, root in order:
                    scratch = os.path.join(temp, "scratch-%s-%s-%d" % (task, name, round_index))
                    os.makedirs(scratch)
                    found = _child(root, task, spec, 1 if task == "replay" else args.repeat, scratch)
                    best[name] = found["best"] if best[name] is None else min(best[name], found["best"])
                    counts[name] = found["count"]
            ratio = best["new"] / best["old"] if best["old"] else float("inf")
            same = counts["old"] == counts["new"]
            verdict = "ok" if ratio <= args.max_ratio and same else ("COUNTS DIFFER" if not same else "SLOWER")
            failed = failed or verdict != "ok"
            shown = json.dumps(counts["new"], sort_keys=True)
            print("%-12s %10.3f %10.3f %8.2f  %s %s" % (task, best["old"], best["new"], ratio, shown[:60], verdict))
            if not same:
                print("    old counts: %s" % json.dumps(counts["old"], sort_keys=True)[:300])
        print("FAIL: a ratio above %.2f or a count that differs" % args.max_ratio if failed else "PASS: every ratio within %.2f" % args.max_ratio)
        return 1 if failed else 0
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
