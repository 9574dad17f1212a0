# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark harvest scheduling: the whole z/OS Open Tools corpus on 1, 4 and 16 hosts.

Printed per host count: the makespan of each policy against the ideal (total work /
hosts; no schedule can beat it), and the ratio makespan / ideal.

  static slice      today's split: host i of n takes harvest_ports[i::n], in list order
  stable hash       rendezvous hashing (port_schedule.assign), each host its ports in order
  queue + affinity  a free slot takes its host's own (hashed) longest port first, then steals
                    the longest left (port_claim.ClaimQueue.claim's order); also prints the ports moved
                    (roles/harvest runs it so: a slot freed claims the next port at once)

Tables for 1 slot per host and for --slots (default 4). Printed per host count: the ideal
(total work / (hosts x slots)), the longest single port, and the bound max(ideal, longest):
no schedule beats it. Each makespan is given as x (against the ideal) and /b (against the bound).

Goal: the queue within 10% of the bound (ratio /b <= 1.10) on every host count: on 16 hosts the
longest port alone is longer than the ideal, so no schedule reaches the ideal there.

The build-time model (how long one port's harvest takes):

* Per-build seconds are MEASURED in this run: every sample port (samples/ports/*) is
  replayed with leave_one_out and the posix profile; seconds / builds is that port's
  per-build time. (--per-build S skips the measurement and uses S for every port.)
* Patch counts come from the shared corpus, ../shared/corpus/zopen-ports/INDEX.json
  (active_n_patch_files of its 55 port repositories), completed to the published
  distribution (zopencommunity/meta docs/upstreamstatus.md, 2026-05-17: 310 ports,
  1,044 current patch files, 190 ports with patches, 30 with 10 or more, the top 20 hold
  51%) by synthetic ports named synthetic-NNN, whose counts are fixed below.
* One port's harvest = (patches + 1) builds (leave_one_out: all patches, then each one
  out) x the per-build time of a sample port picked by a hash of the port's name, x a
  size factor: 1 + patches / 10 (ports with many patches are big projects, whose builds
  take longer; this makes the tail heavier, the hard case for a scheduler).
  Absolute hours depend on these choices; the ratios against the ideal barely do.

    python benchmarks/bench_schedule.py [--per-build SECONDS] [--slots N]

Exit status 1 when the queue misses the goal on any host count.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
INDEX = REPO.parent / "shared" / "corpus" / "zopen-ports" / "INDEX.json"
GOAL = 1.10
HOST_COUNTS = (1, 4, 16)
PUBLISHED = {"ports": 310, "patches": 1044, "with_patches": 190, "ten_or_more": 30, "top20_share": 0.51}
# Synthetic ports completing the shared corpus to the published distribution (see docstring):
# 15 more ports with >= 10 patches, 129 small ones (median 2), zeros for the rest.
SYNTHETIC_BIG = [47, 39, 33, 24, 16, 14, 13, 12, 12, 11, 11, 10, 10, 10, 10]
SYNTHETIC_SMALL = [1] * 58 + [2] * 28 + [3] * 16 + [4] * 11 + [5] * 7 + [6] * 5 + [7] * 2 + [8] * 1 + [9] * 1


def _import_schedule():
    link = REPO / ".cache" / "collections" / "ansible_collections" / "autoport" / "zos"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(REPO / ".cache" / "collections"))
    from ansible_collections.autoport.zos.plugins.module_utils import patch_replay, port_schedule

    return patch_replay, port_schedule


def corpus_patch_counts(index_path: Path) -> dict[str, int]:
    """Port name -> current patch files: the shared corpus plus the synthetic completion."""
    data = json.loads(index_path.read_text(encoding="utf-8"))
    counts = {repo["repo"].split("/")[-1]: int(repo.get("active_n_patch_files") or 0) for repo in data["repos"]}
    synthetic = SYNTHETIC_BIG + SYNTHETIC_SMALL
    synthetic += [0] * (PUBLISHED["ports"] - len(counts) - len(synthetic))
    for number, patches in enumerate(synthetic):
        counts["synthetic-%03d" % number] = patches
    return counts


def measure_per_build(patch_replay) -> dict[str, float]:
    """Seconds per build of every sample port, measured now (leave_one_out, posix profile)."""
    per_build = {}
    scratch = Path(tempfile.mkdtemp(prefix="bench-schedule-"))
    try:
        for port_dir in sorted(p for p in (SAMPLES / "ports").iterdir() if (p / "buildenv").is_file()):
            started = time.monotonic()
            result = patch_replay.replay_port({
                "port_dir": str(port_dir), "work_dir": str(scratch / port_dir.name), "mirror_dir": str(SAMPLES / "mirror"),
                "strategy": "leave_one_out", "profile": "posix", "toolchain": "bench",
            })
            per_build[port_dir.name] = (time.monotonic() - started) / max(int(result["builds"]), 1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return per_build


def port_durations(counts: dict[str, int], per_build: dict[str, float]) -> dict[str, float]:
    samples = sorted(per_build)
    durations = {}
    for port, patches in counts.items():
        pick = samples[int(hashlib.sha256(port.encode()).hexdigest(), 16) % len(samples)]
        durations[port] = (patches + 1) * per_build[pick] * (1 + patches / 10)
    return durations


def describe(counts: dict[str, int]) -> str:
    values = sorted(counts.values(), reverse=True)
    total = sum(values)
    return "%d ports, %d patch files, %d with patches, %d with >= 10, top 20 hold %.0f%% (published: %d, %d, %d, %d, %.0f%%)" % (
        len(values), total, sum(1 for v in values if v), sum(1 for v in values if v >= 10), 100 * sum(values[:20]) / total,
        PUBLISHED["ports"], PUBLISHED["patches"], PUBLISHED["with_patches"], PUBLISHED["ten_or_more"], 100 * PUBLISHED["top20_share"])


def _table(schedule, ports: list, durations: dict, total: float, longest: float, slots: int) -> bool:
    """One table for `slots` ports per host at once; True when every queue is within GOAL of the bound."""
    print("\n%d slot(s) per host" % slots)
    header = "%5s %8s %8s %8s | %-22s | %-15s | %-22s | %-28s" % (
        "hosts", "ideal s", "longest", "bound s", "static slice", "stable hash", "queue LPT", "queue + affinity (moved)")
    print(header)
    print("-" * len(header))
    verdict = True
    for count in HOST_COUNTS:
        hosts = ["zos%02d" % number for number in range(1, count + 1)]
        ideal = total / (count * slots)
        bound = max(ideal, longest)
        static = schedule.simulate_lists(schedule.static_slice(ports, hosts), durations, slots)
        stable = schedule.simulate_lists(schedule.assign(ports, hosts), durations, slots)
        queue, _ = schedule.simulate_queue(durations, hosts, slots)
        affinity, moved = schedule.simulate_queue(durations, hosts, slots, affinity=True)
        verdict = verdict and queue / bound <= GOAL and affinity / bound <= GOAL
        print("%5d %8.0f %8.0f %8.0f | %7.0f x%5.2f /b%5.2f | %6.0f x%5.2f | %7.0f x%5.2f /b%5.2f | %7.0f x%5.2f /b%5.2f %5d" % (
            count, ideal, longest, bound, static, static / ideal, static / bound, stable, stable / ideal,
            queue, queue / ideal, queue / bound, affinity, affinity / ideal, affinity / bound, moved))
    return verdict


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description="harvest scheduling policies on the whole corpus")
    parser.add_argument("--per-build", type=float, help="seconds per build for every port (skip the measurement)")
    parser.add_argument("--slots", type=int, default=4, help="ports one host replays at once, second table (default 4)")
    parser.add_argument("--index", default=str(INDEX), help="corpus INDEX.json (default ../shared/corpus/zopen-ports)")
    args = parser.parse_args(argv)
    patch_replay, schedule = _import_schedule()
    if not Path(args.index).is_file():
        print("corpus index %s not found (the shared folder beside the checkout)" % args.index)
        return 1
    counts = corpus_patch_counts(Path(args.index))
    print("corpus model: " + describe(counts))
    per_build = {"fixed": args.per_build} if args.per_build else measure_per_build(patch_replay)
    print("per-build seconds (%s): %s" % ("given" if args.per_build else "measured now, leave_one_out",
                                         ", ".join("%s %.3f" % item for item in sorted(per_build.items()))))
    durations = port_durations(counts, per_build)
    ports = list(counts)  # the order an operator lists them: INDEX order, then the rest
    total = sum(durations.values())
    print("total work: %.0f s on one slot; longest port %.0f s (%s)\n" % (total, max(durations.values()), max(durations, key=durations.get)))
    longest = max(durations.values())
    verdict = True
    for slots in sorted({1, args.slots}):
        verdict = _table(schedule, ports, durations, total, longest, slots) and verdict
    print("\nideal = total work / (hosts x slots); bound = max(ideal, longest port): no schedule beats either.")
    print("x = makespan / ideal, /b = makespan / bound. moved = ports the affinity queue ran off their hashed host.")
    print("%s: queue within %.0f%% of the bound on %s hosts" % ("PASS" if verdict else "MISS", (GOAL - 1) * 100, ", ".join(map(str, HOST_COUNTS))))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
