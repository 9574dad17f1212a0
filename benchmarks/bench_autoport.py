# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark the auto-port loop on the sample ports with their patches removed.

Every sample port is harvested (patch_replay) and, per port, the OTHER ports' records
are curated (dataset_curate; its dataset.jsonl, every kept record) into the examples it may learn from: a port
never learns from its own patches. Then each port, its patch folders removed, is
auto-ported once per proposer set, all in this run:

* ``all``: every proposer given (retrieval, template, and model when
  AUTOPORT_BENCH_MODEL_URL names an OpenAI-compatible endpoint);
* each proposer alone (the ablation).

Printed per port and set: errors met, errors fixed, the first build's root errors,
builds run, candidates tried per proposer, wall time, time per accepted fix, and
whether the final build passes; the fraction of errors fixed by each set over all
ports; and the wall time against the plain first build measured in the same run
(how many builds one fix costs).

Goal (issue 12): half of the errors fixed, and one port whose final build passes.

    python benchmarks/bench_autoport.py [--port tinyprocport] [--keep DIR]

Exit status 1 when a run fails; the goal is reported, not enforced.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
PORTS = ("tinyprocport", "inicfgport", "strkitport", "ringbufport", "pathutilport")


def _modules():
    link = REPO / ".cache" / "collections" / "ansible_collections" / "autoport" / "zos"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(REPO / ".cache" / "collections"))
    from ansible_collections.autoport.zos.plugins.module_utils import autoport_output, dataset_curate, patch_replay

    return autoport_output, dataset_curate, patch_replay


def _curate(work: Path, ports: list, dataset_curate, patch_replay) -> dict:
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


def _proposer_sets(model_url: str | None) -> dict:
    every = ["retrieval", "template"] + (["model"] if model_url else [])
    sets = {"all": every}
    sets.update({name: [name] for name in every})
    return sets


def _run(autoport_output, work: Path, port: str, records: Path, name: str, proposers: list, endpoint: dict) -> dict:
    port_dir = work / "bare" / name / port
    shutil.copytree(SAMPLES / "ports" / port, port_dir, ignore=shutil.ignore_patterns("*patches"))
    started = time.monotonic()
    result = autoport_output.run({"port_dir": str(port_dir), "port": port, "work_dir": str(work / "runs" / name), "output_dir": str(work / "out" / name),
                                  "mirror_dir": str(SAMPLES / "mirror"), "records": [str(records)], "proposers": proposers, "endpoint": endpoint})
    summary = dict(result["report"]["summary"], wall=time.monotonic() - started)
    first = result["report"]["errors"]
    summary["first_build_seconds"] = _first_build_seconds(work / "runs" / name, port)
    summary["errors"] = first
    return summary


def _first_build_seconds(run_dir: Path, port: str) -> float:
    """The plain build (ap-001, before any candidate) of this run, from its phase logs' times."""
    import json

    state = run_dir / "autoport" / port / "state" / "replay.json"
    data = json.loads(state.read_text())
    return float(data["builds"]["ap-001"]["seconds"])


def _line(port: str, name: str, s: dict) -> str:
    per_fix = s["wall"] / s["errors_fixed"] if s["errors_fixed"] else float("nan")
    tried = ", ".join("%s %d" % item for item in sorted(s["candidates_by_proposer"].items())) or "-"
    return "%-13s %-9s %4d %4d %5d %6d  %-28s %7.1f %8.1f %7.1f  %s" % (
        port, name, s["errors_met"], s["errors_fixed"], s["first_build_errors"], s["builds"], tried, s["wall"], per_fix,
        s["wall"] / max(s["first_build_seconds"], 1e-3), "passes" if s["final_build_passes"] else "fails")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", action="append", choices=PORTS, help="only these sample ports (default all)")
    parser.add_argument("--keep", help="work folder to keep (default a temporary one)")
    args = parser.parse_args()
    autoport_output, dataset_curate, patch_replay = _modules()
    ports = args.port or list(PORTS)
    model_url = os.environ.get("AUTOPORT_BENCH_MODEL_URL") or None
    endpoint = {"url": model_url, "model": os.environ.get("AUTOPORT_BENCH_MODEL_NAME") or "default"}
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-autoport-"))
    try:
        records = _curate(work, ports, dataset_curate, patch_replay)
        sets = _proposer_sets(model_url)
        print("%-13s %-9s %4s %4s %5s %6s  %-28s %7s %8s %7s  %s" % (
            "port", "proposers", "met", "fix", "first", "builds", "candidates tried", "wall s", "s/fix", "x build", "final build"))
        totals = {name: [0, 0, 0] for name in sets}
        for port in ports:
            for name, proposers in sets.items():
                summary = _run(autoport_output, work, port, records[port], name, proposers, endpoint)
                totals[name][0] += summary["errors_met"]
                totals[name][1] += summary["errors_fixed"]
                totals[name][2] += 1 if summary["final_build_passes"] else 0
                print(_line(port, name, summary), flush=True)
        print()
        for name, (met, fixed, passing) in totals.items():
            print("%-9s fixed %d of %d errors met (%.0f%%); final build passes for %d of %d ports" % (
                name, fixed, met, 100.0 * fixed / met if met else 0.0, passing, len(ports)))
        if not model_url:
            print("model: not measured (set AUTOPORT_BENCH_MODEL_URL to an OpenAI-compatible endpoint)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
