# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark patch_replay: leave_one_out against cumulative on the sample ports.

For every sample port (samples/ports/*) both strategies run from an empty work
directory with the posix profile. A compiler wrapper first in PATH (and named by CC)
counts every compiler invocation: configure checks, compiles and links. Printed per
port and in total: builds, compiler invocations and wall time of each strategy and
the leave_one_out / cumulative ratio. cumulative, measured in the same run, is the
baseline.

Goal: leave_one_out needs at most 30% of cumulative's compiler invocations on the
port with the most patches (incremental rebuilds: after `git apply -R` make only
recompiles what the reverted patch touched).

    python benchmarks/bench_patch_replay.py [--port strkitport] [--keep DIR]

Exit status 1 when a harvest fails or the goal is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
GOAL = 0.30


def _import_replay():
    link = REPO / ".cache" / "collections" / "ansible_collections" / "autoport" / "zos"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(REPO / ".cache" / "collections"))
    from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port

    return replay_port


def _compiler_wrapper(folder: Path) -> Path:
    """A `cc` that appends one line per invocation to $AUTOPORT_CC_COUNT, then runs the real one."""
    real = shutil.which("cc") or shutil.which("gcc")
    if real is None:
        raise SystemExit("no C compiler (cc or gcc) on PATH")
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "cc"
    wrapper.write_text('#!/bin/sh\necho "$*" >> "$AUTOPORT_CC_COUNT"\nexec %s "$@"\n' % real)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def run(replay_port, port_dir: Path, strategy: str, scratch: Path, wrapper: Path) -> dict:
    work = scratch / ("%s-%s" % (port_dir.name, strategy))
    if work.exists():
        shutil.rmtree(str(work))
    work.mkdir(parents=True)
    count_file = work / "cc.count"
    count_file.write_text("")
    env = {
        "CC": str(wrapper),
        "PATH": "%s%s%s" % (wrapper.parent, os.pathsep, os.environ.get("PATH", "")),
        "AUTOPORT_CC_COUNT": str(count_file),
    }
    started = time.monotonic()
    result = replay_port(
        {
            "port_dir": str(port_dir),
            "work_dir": str(work),
            "mirror_dir": str(SAMPLES / "mirror"),
            "strategy": strategy,
            "profile": "posix",
            "env": env,
            "toolchain": "bench",
        }
    )
    seconds = time.monotonic() - started
    invocations = len([line for line in count_file.read_text().splitlines() if line.strip()])
    return {
        "builds": result["builds"],
        "compiles": invocations,
        "seconds": seconds,
        "records": result["records"],
        "patches": len(result["patches"]),
    }


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="leave_one_out vs cumulative on the sample ports")
    parser.add_argument("--port", action="append", help="only this sample port (repeatable)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    replay_port = _import_replay()
    ports = sorted(path for path in (SAMPLES / "ports").iterdir() if (path / "buildenv").is_file())
    if args.port:
        ports = [path for path in ports if path.name in args.port]
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-replay-"))
    wrapper = _compiler_wrapper(scratch / "bin")
    rows = []
    try:
        for port_dir in ports:
            cumulative = run(replay_port, port_dir, "cumulative", scratch, wrapper)
            leave_one_out = run(replay_port, port_dir, "leave_one_out", scratch, wrapper)
            rows.append((port_dir.name, cumulative, leave_one_out))
    finally:
        if not args.keep:
            shutil.rmtree(str(scratch), ignore_errors=True)

    header = "%-14s %7s | %-28s | %-28s | %-18s" % ("port", "patches", "cumulative (baseline)", "leave_one_out", "loo / cumulative")
    print(header)
    print("%-14s %7s | %6s %9s %9s  | %6s %9s %9s  | %8s %8s" % ("", "", "builds", "compiles", "seconds", "builds", "compiles", "seconds", "compiles", "time"))
    print("-" * len(header))
    totals = {"cumulative": [0, 0, 0.0], "leave_one_out": [0, 0, 0.0]}
    for name, cum, loo in rows:
        print("%-14s %7d | %6d %9d %9.2f  | %6d %9d %9.2f  | %8.2f %8.2f" % (
            name, cum["patches"], cum["builds"], cum["compiles"], cum["seconds"], loo["builds"], loo["compiles"], loo["seconds"],
            loo["compiles"] / max(cum["compiles"], 1), loo["seconds"] / max(cum["seconds"], 1e-9)))
        for key, item in (("cumulative", cum), ("leave_one_out", loo)):
            totals[key][0] += item["builds"]
            totals[key][1] += item["compiles"]
            totals[key][2] += item["seconds"]
    cum_t, loo_t = totals["cumulative"], totals["leave_one_out"]
    print("-" * len(header))
    print("%-14s %7s | %6d %9d %9.2f  | %6d %9d %9.2f  | %8.2f %8.2f" % (
        "total", "", cum_t[0], cum_t[1], cum_t[2], loo_t[0], loo_t[1], loo_t[2], loo_t[1] / max(cum_t[1], 1), loo_t[2] / max(cum_t[2], 1e-9)))
    if not rows:
        print("no sample ports found")
        return 1
    largest = max(rows, key=lambda row: row[1]["patches"])
    ratio = largest[2]["compiles"] / max(largest[1]["compiles"], 1)
    verdict = "PASS" if ratio <= GOAL else "MISS"
    print("\n%s: %s (%d patches) leave_one_out needs %.0f%% of cumulative's compiler invocations (goal <= %.0f%%)" % (
        verdict, largest[0], largest[1]["patches"], ratio * 100, GOAL * 100))
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
