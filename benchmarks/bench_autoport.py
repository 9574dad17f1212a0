# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark the auto-port loop on the six sample ports with their patches removed.

Every sample port is harvested (patch_replay) and, per port, the OTHER ports' records
are curated (dataset_curate; its dataset.jsonl, every kept record) into the examples it
may learn from. Leave one port out is enforced, not assumed: before a port is
auto-ported the benchmark checks that no record of its examples is of that port or was
merged with one of it (``seen_in``), and that the loop's own reader drops nothing for
that reason. Then each port, its patch folders removed, is auto-ported once per
proposer set, all in this run:

* ``all``: every proposer given (retrieval, template, and model when a model is served
  or AUTOPORT_BENCH_MODEL_URL names an OpenAI-compatible endpoint);
* each proposer alone (the ablation). Fixes proven earlier in the same run are reused
  in every set (proposer ``reuse``): they come from that set's own proposers.

By default the model is the train stage's GGUF (``--model``, the demo's student in
``~/.cache/autoport/ilab/work/default/model``), served by llama-cpp-python's server
(the evaluate role's helper) and asked in the ilab format it was trained on
(``--prompt-format``); ``--no-model`` leaves it out.

Printed per port and set: errors met, errors fixed, the first build's root errors,
builds run, candidates tried per proposer, wall time, time per accepted fix, wall time
against the plain first build of the same run, and whether the final build passes; then
per set over all ports the fraction of errors fixed and which proposer fixed them.
``--save FILE`` writes every run's summary and per-error outcomes as JSON (the printed
figures are computed from that data).

Goal (issue 12): half of the errors fixed, and one port whose final build passes.

    python benchmarks/bench_autoport.py [--port tinyprocport] [--keep DIR] [--no-model] [--save FILE]

Exit status 1 when a run fails or leave one port out is broken; the goal is reported, not enforced.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
PORTS = ("tinyprocport", "inicfgport", "strkitport", "ringbufport", "pathutilport", "lnfindport")
HELPER = REPO / "roles" / "evaluate" / "files" / "model_server.py"
ILAB = Path(os.path.expanduser("~/.cache/autoport/ilab"))


def _modules():
    link = REPO / ".cache" / "collections" / "ansible_collections" / "autoport" / "zos"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(REPO / ".cache" / "collections"))
    from ansible_collections.autoport.zos.plugins.module_utils import autoport_loop, autoport_output, dataset_curate, patch_replay

    return autoport_loop, autoport_output, dataset_curate, patch_replay


def _first(pattern: str) -> str:
    found = sorted(glob.glob(pattern))
    return found[0] if found else ""


def curate_without_each(work: Path, ports: list, dataset_curate, patch_replay) -> dict:
    """{port: dataset.jsonl curated from every sample port but that one}."""
    records = work / "records"
    for port in PORTS:
        patch_replay.replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(work / "harvest"),
                                  "mirror_dir": str(SAMPLES / "mirror"), "dest": str(records / (port + ".jsonl"))})
    split = {}
    for port in ports:
        dest = work / ("curated-without-" + port)
        dataset_curate.curate({"src": [str(records / (name + ".jsonl")) for name in PORTS if name != port], "dest": str(dest),
                               "test_ratio": 0.0, "report": False})
        split[port] = dest / "dataset.jsonl"
    return split


def leave_one_out_problems(port: str, records: Path, autoport_loop) -> list:
    """Why the examples of ``port`` are not leave-one-port-out ([] when they are)."""
    problems = []
    lines = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines() if line.strip()]
    for number, record in enumerate(lines, 1):
        seen = [entry.get("port") for entry in record.get("seen_in") or [] if isinstance(entry, dict)]
        if record.get("port") == port or port in seen:
            problems.append("%s:%d is a record of %s" % (records, number, port))
    kept, dropped = autoport_loop.load_records([str(records)], port)
    if any("port itself" in reason for _where, reason in dropped):
        problems.append("the loop had to drop records of %s itself" % port)
    if not kept:
        problems.append("no examples left for %s" % port)
    return problems


def proposer_sets(with_model: bool) -> dict:
    every = ["retrieval", "template"] + (["model"] if with_model else [])
    sets = {"all": every}
    sets.update({name: [name] for name in every})
    return sets


def run_one(autoport_output, work: Path, port: str, records: Path, name: str, proposers: list, endpoint: dict) -> dict:
    port_dir = work / "bare" / name / port
    shutil.copytree(SAMPLES / "ports" / port, port_dir, ignore=shutil.ignore_patterns("*patches"))
    started = time.monotonic()
    result = autoport_output.run({"port_dir": str(port_dir), "port": port, "work_dir": str(work / "runs" / name), "output_dir": str(work / "out" / name),
                                  "mirror_dir": str(SAMPLES / "mirror"), "records": [str(records)], "proposers": proposers, "endpoint": endpoint})
    summary = dict(result["report"]["summary"], wall=round(time.monotonic() - started, 3), port=port, set=name)
    summary["first_build_seconds"] = _first_build_seconds(work / "runs" / name, port)
    summary["errors"] = [{"error": e["error"], "category": e.get("category"), "fixed_by": e.get("fixed_by"),
                          "candidates": [[c["proposer"], c["outcome"]] for c in e["candidates"]]} for e in result["report"]["errors"]]
    return summary


def _first_build_seconds(run_dir: Path, port: str) -> float:
    """The plain build (ap-001, before any candidate) of this run, from the replay state."""
    data = json.loads((run_dir / "autoport" / port / "state" / "replay.json").read_text())
    return float(data["builds"]["ap-001"]["seconds"])


def line(s: dict) -> str:
    per_fix = "%8.1f" % (s["wall"] / s["errors_fixed"]) if s["errors_fixed"] else "       -"
    tried = ", ".join("%s %d" % item for item in sorted(s["candidates_by_proposer"].items())) or "-"
    return "%-13s %-9s %4d %4d %5d %6d  %-40s %7.1f %s %7.1f  %s" % (
        s["port"], s["set"], s["errors_met"], s["errors_fixed"], s["first_build_errors"], s["builds"], tried, s["wall"], per_fix,
        s["wall"] / max(s["first_build_seconds"], 1e-3), "passes" if s["final_build_passes"] else "fails")


def totals(runs: list) -> list:
    """Per set over all ports: errors met, fixed, ports passing, fixes by proposer, candidates, wall."""
    out = {}
    for s in runs:
        t = out.setdefault(s["set"], {"set": s["set"], "met": 0, "fixed": 0, "passing": 0, "ports": 0, "fixed_by": {}, "tried": {}, "wall": 0.0})
        t["met"] += s["errors_met"]
        t["fixed"] += s["errors_fixed"]
        t["passing"] += 1 if s["final_build_passes"] else 0
        t["ports"] += 1
        t["wall"] += s["wall"]
        for key, field in (("fixed_by", "fixed_by_proposer"), ("tried", "candidates_by_proposer")):
            for who, count in s[field].items():
                t[key][who] = t[key].get(who, 0) + count
    return list(out.values())


def report(runs: list, with_model: bool) -> None:
    print("%-13s %-9s %4s %4s %5s %6s  %-40s %7s %8s %7s  %s" % (
        "port", "proposers", "met", "fix", "first", "builds", "candidates tried", "wall s", "s/fix", "x build", "final build"))
    for s in runs:
        print(line(s))
    print()
    for t in totals(runs):
        by = ", ".join("%s %d" % item for item in sorted(t["fixed_by"].items())) or "none"
        print("%-9s fixed %d of %d errors met (%.0f%%; by %s); final build passes for %d of %d ports; %.0f s"
              % (t["set"], t["fixed"], t["met"], 100.0 * t["fixed"] / t["met"] if t["met"] else 0.0, by, t["passing"], t["ports"], t["wall"]))
    if not with_model:
        print("model: not measured (no GGUF served and no AUTOPORT_BENCH_MODEL_URL)")


def serve(model: str, python: str, work: Path, port: int, threads: int) -> tuple:
    """Start llama-cpp-python's server with the GGUF (alias 'tuned'); (url, pid file)."""
    config = work / "server.json"
    config.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": [
        {"model": model, "model_alias": "tuned", "n_ctx": 4096, "n_threads": threads, "verbose": False}]}))
    pid = work / "server.pid"
    started = subprocess.run([python, str(HELPER), "start", "--config", str(config), "--port", str(port), "--log", str(work / "server.log"),
                              "--pid", str(pid), "--python", python], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        sys.exit("model server did not start: %s" % started.stderr[-2000:])
    return "http://127.0.0.1:%d/v1" % port, pid


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", action="append", choices=PORTS, help="only these sample ports (default all six)")
    parser.add_argument("--keep", help="work folder to keep (default a temporary one)")
    parser.add_argument("--save", help="write every run's summary as JSON here")
    parser.add_argument("--no-model", action="store_true", help="leave the model proposer out")
    parser.add_argument("--model", default=_first(str(ILAB / "work" / "default" / "model" / "*.gguf")), help="GGUF to serve")
    parser.add_argument("--prompt-format", default="ilab", choices=["chat", "ilab"])
    parser.add_argument("--python", default=_first(str(ILAB / "*" / "venv" / "bin" / "python")), help="an interpreter with llama_cpp")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--max-tokens", type=int, default=512, help="longest model answer")
    parser.add_argument("--server-port", type=int, default=8021)
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    autoport_loop, autoport_output, dataset_curate, patch_replay = _modules()
    ports = args.port or list(PORTS)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-autoport-"))
    work.mkdir(parents=True, exist_ok=True)
    url, pid = os.environ.get("AUTOPORT_BENCH_MODEL_URL") or None, None
    endpoint = {"url": url, "model": os.environ.get("AUTOPORT_BENCH_MODEL_NAME") or "default", "prompt_format": args.prompt_format,
                "max_tokens": args.max_tokens}
    try:
        if not url and not args.no_model and args.model and args.python and os.path.exists(args.model):
            url, pid = serve(args.model, args.python, work, args.server_port, args.threads)
            endpoint.update(url=url, model="tuned")
            print("model: %s served at %s, prompt format %s, at most %d tokens, %d threads"
                  % (args.model, url, args.prompt_format, args.max_tokens, args.threads))
        elif url and not args.no_model:
            print("model: %s at %s, prompt format %s" % (endpoint["model"], url, args.prompt_format))
        with_model = bool(url) and not args.no_model
        records = curate_without_each(work, ports, dataset_curate, patch_replay)
        broken = [problem for port in ports for problem in leave_one_out_problems(port, records[port], autoport_loop)]
        if broken:
            print("leave one port out is broken:\n  " + "\n  ".join(broken))
            return 1
        print("leave one port out: checked for %s (no example is of the port or merged with one of it)" % ", ".join(ports))
        runs = []
        for port in ports:
            for name, proposers in proposer_sets(with_model).items():
                runs.append(run_one(autoport_output, work, port, records[port], name, proposers, endpoint))
                print(line(runs[-1]), flush=True)
        print()
        report(runs, with_model)
        if args.save:
            Path(args.save).write_text(json.dumps({"runs": runs, "model": endpoint if with_model else None}, indent=1, sort_keys=True) + "\n")
    finally:
        if pid is not None:
            subprocess.run([args.python, str(HELPER), "stop", "--pid", str(pid)], capture_output=True, check=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
