#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""How long static mining (patch_mine) takes on the whole shared corpus, against baselines.

Baselines measured in the same run on the same files:
  read-bytes   open and read every active patch file (the I/O floor)
  line-count   read every active patch file and count its '+'/'-' lines (a naive pass)
Measured:
  parse        read_patch_file + check_paths for every active patch
  mine         mine_port for every port into a fresh JSONL file (each port's records replaced in one atomic write)
  mine-again   the same again into the same file (idempotent run: nothing is written)

Usage: bench_patch_mine.py [CORPUS_DIR] [--repeat N]   (default ../shared/corpus/zopen-ports)
Goal: mine under 10 s for the whole corpus.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "autoport", "zos")


def _import_collection():
    # Same layout tests/conftest.py makes: the checkout as ansible_collections.autoport.zos.
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK, target_is_directory=True)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


_import_collection()

from ansible_collections.autoport.zos.plugins.module_utils import patch_read, port_layout, static_mine  # noqa: E402


def active_patches(corpus: str) -> list:
    """(port_dir, [patch paths]) for every port, with the folder zopen build would use."""
    ports = []
    for name in sorted(os.listdir(corpus)):
        port_dir = os.path.join(corpus, name)
        if not os.path.isdir(port_dir):
            continue
        buildenv_path = os.path.join(port_dir, "buildenv")
        env = port_layout.read_buildenv(buildenv_path) if os.path.isfile(buildenv_path) else {}
        patch_dir = port_layout.select_patch_dir(port_dir, env)[0]
        ports.append((port_dir, port_layout.list_patches(patch_dir) if patch_dir else []))
    return ports


def best_of(repeat: int, func):
    times = []
    value = None
    for dummy in range(repeat):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=os.path.join(os.path.dirname(REPO), "shared", "corpus", "zopen-ports"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.path.isdir(args.corpus):
        print("corpus not found: %s" % args.corpus, file=sys.stderr)
        return 2

    ports = active_patches(args.corpus)
    files = [path for port_dir, paths in ports for path in paths]

    def read_bytes():
        total = 0
        for path in files:
            with open(path, "rb") as handle:
                total += len(handle.read())
        return total

    def line_count():
        changed = 0
        for path in files:
            with open(path, "rb") as handle:
                for line in handle:
                    if line[:1] in (b"+", b"-") and not line.startswith((b"+++", b"---")):
                        changed += 1
        return changed

    def parse():
        hunks = 0
        for path in files:
            try:
                patch = patch_read.read_patch_file(path)
                patch_read.check_paths(patch)
            except patch_read.PatchReadError:
                continue
            hunks += len(patch.hunks)
        return hunks

    workdir = tempfile.mkdtemp(prefix="bench_patch_mine.")
    runs = {"n": 0}

    def mine():
        runs["n"] += 1
        dest = os.path.join(workdir, "run%d.jsonl" % runs["n"])
        records = sum(static_mine.mine_port(port_dir, dest)["records"] for port_dir, paths in ports)
        return records, dest

    def mine_again(dest):
        changed = False
        for port_dir, paths in ports:
            changed = static_mine.mine_port(port_dir, dest)["changed"] or changed
        return changed

    size_time, size = best_of(args.repeat, read_bytes)
    count_time, changed_lines = best_of(args.repeat, line_count)
    parse_time, hunks = best_of(args.repeat, parse)
    mine_time, (records, dest) = best_of(args.repeat, mine)
    again_time, changed = best_of(args.repeat, lambda: mine_again(dest))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print("corpus      %s" % args.corpus)
    print("ports       %d, active patch files %d, %d bytes, %d changed lines" % (len(ports), len(files), size, changed_lines))
    print("%-11s %9s %12s %12s" % ("step", "seconds", "x read-bytes", "x line-count"))
    for label, seconds in (
        ("read-bytes", size_time),
        ("line-count", count_time),
        ("parse", parse_time),
        ("mine", mine_time),
        ("mine-again", again_time),
    ):
        print("%-11s %9.3f %12.1f %12.1f" % (label, seconds, seconds / size_time, seconds / count_time))
    print("hunks parsed %d, records mined %d, second run changed=%s" % (hunks, records, changed))
    print("records/s   %.0f (mine), %.0f (mine-again)" % (records / mine_time, records / again_time))
    print("peak RSS    %.1f MiB" % (peak_kib / 1024.0))
    print("goal        mine < 10 s: %s" % ("met" if mine_time < 10 else "NOT met"))
    for name in os.listdir(workdir):
        os.remove(os.path.join(workdir, name))
    os.rmdir(workdir)
    return 0 if not changed else 1


if __name__ == "__main__":
    sys.exit(main())
