# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Throughput and peak memory of build_log.parse_log on a large generated log.

Writes (streaming, to a temporary directory) a log of --size-mb megabytes mixing every
message kind the parser knows with ordinary noise (compile commands, configure checks,
make directory changes, passing tests), then, each in its own child process pinned to
one core:

  baseline  plain line iteration over the same file (for line in f: n += 1; for EBCDIC,
            blocks split on NL, 0x15)
  parser    parse_log(src=..., max_diagnostics=1000)

and prints MB/s, peak RSS (ru_maxrss of the child) and the parser/baseline ratios. The
goals are 40 MB/s or more and a peak under 150 MB: PASS or MISS is printed for each.
The parser's counts must equal what the generator wrote; a mismatch is a parse error
and the only reason for a non-zero exit.

    python benchmarks/bench_build_log_parse.py              # 200 MB
    python benchmarks/bench_build_log_parse.py --size-mb 20
    python benchmarks/bench_build_log_parse.py --encoding cp1047 --size-mb 50
    python benchmarks/bench_build_log_parse.py --per-mille 20   # four times the diagnostics
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_MB_PER_S = 40.0
GOAL_PEAK_MB = 150.0

# Noise: what most of a zopen build log is.
NOISE = (
    "ibm-clang64 -DHAVE_CONFIG_H -I. -I../include -O2 -m64 -fzos-le-char-mode=ascii -D_ALL_SOURCE -D_OPEN_SYS_FILE_EXT=1 "
    "-D_AE_BIMODAL=1 -D_ENHANCED_ASCII_EXT=0xFFFFFFFF -I/home/builder/zopen/usr/local/zopen/zoslib/zoslib/include -c -o lib/{w}.o lib/{w}.c",
    "  CC       lib/libfoo_la-{w}.lo",
    "  CCLD     {w}",
    "checking for {w}.h... yes",
    "checking whether {w} is declared... no",
    "checking for strerror_r... yes",
    "make[2]: Entering directory '/home/builder/zopen/dev/{w}port/{w}-1.2.3/lib'",
    "make[2]: Leaving directory '/home/builder/zopen/dev/{w}port/{w}-1.2.3/lib'",
    "libtool: link: ibm-clang64 -shared -o .libs/lib{w}.so .libs/a.o .libs/b.o -lzoslib",
    "config.status: creating {w}/Makefile",
    "gcc -Wall -Werror=implicit-function-declaration -O2 -c {w}.c -o {w}.o",
    "PASS: t/t{n}-{w}.sh {n} - {w} works",
    "ok {n} - {w} handles empty input",
    "    GEN {w}.1",
    "/bin/sh ../libtool  --tag=CC   --mode=compile xlclang -DHAVE_CONFIG_H -I. -qascii -c -o {w}.lo {w}.c",
    "   {n} |     return {w}(fd, buf, len);",
    "      |            ^~~~~~~~",
    "",
)

# Each kind: (lines, [(category, follow_up), ...] for the diagnostics it must give).
# Follow-up categories are inherited from the failure before them, so only the
# primaries' categories are compared (parse_log's counts), plus the totals.
KINDS = (
    (["{w}.c:{n}:5: error: call to undeclared function '{w}'; ISO C99 and later do not support implicit function declarations "
      "[-Wimplicit-function-declaration]", "   {n} |     {w}(x);", "      |     ^"], [("implicit-function", False)]),
    (["{w}.c:{n}:10: fatal error: '{w}.h' file not found"], [("missing-header", False)]),
    (["{w}.c:{n}:3: error: use of undeclared identifier 'O_{W}'", "{w}.h:{n}:9: note: expanded from macro 'X'"],
     [("undeclared-identifier", False), ("undeclared-identifier", True)]),
    (["{w}.c:{n}:7: error: conflicting types for '{w}'", "/usr/include/{w}.h:{n}:5: note: previous declaration is here"],
     [("conflicting-declaration", False), ("conflicting-declaration", True)]),
    (["{w}.c:{n}:1: warning: incompatible pointer types passing 'char *' to parameter of type 'int *'"], [("type-error", False)]),
    (["ERROR CCN3045 ./src/{w}.c:{n}   Undeclared identifier {W}_MAX.", "CCN0793(I) Compilation failed for file ./src/{w}.c.  Object file not created.",
      "FSUM3065 The COMPILE step ended with return code 12."],
     [("undeclared-identifier", False), ("undeclared-identifier", True), ("undeclared-identifier", True)]),
    (["\"src/{w}.c\", line {n}.12: CCN3296 (S) #include file <sys/{w}.h> not found."], [("missing-header", False)]),
    (["ERROR CCN3343 /usr/include/{w}.h:{n}    Redeclaration of {w} differs from previous declaration on line 9 of \"/usr/include/x.h\"."],
     [("conflicting-declaration", False)]),
    ([" IEW2456E 9207 SYMBOL __{w}_ascii UNRESOLVED.  MEMBER COULD NOT BE INCLUDED", "          FROM THE DESIGNATED CALL LIBRARY."],
     [("unresolved-symbol", False)]),
    ([" IEW2756S D609 SPACE IS NOT AVAILABLE"], [("resource-limit", False)]),
    (["{w}.o:(.text+0x{n}): undefined reference to `{w}'", "collect2: error: ld returned 1 exit status"],
     [("unresolved-symbol", False), ("unresolved-symbol", True)]),
    (["make[2]: *** [Makefile:{n}: {w}.o] Error 1"], [("build-system", True)]),
    (["make: *** No rule to make target '{w}.c', needed by '{w}.o'.  Stop."], [("build-system", False)]),
    (["libtool:   error: cannot build libtool library 'lib{w}.la' from non-libtool objects on this host: /tmp/{w}.o"],
     [("build-system", False)]),
    (["configure: error: in `/home/builder/{w}':", "configure: error: C compiler cannot create executables",
      "See `config.log' for more details"], [("toolchain", False)]),
    (["configure: error: Package requirements ({w} >= 1.2) were not met"], [("configure", False)]),
    (["CMake Error at CMakeLists.txt:{n} (find_package):", "  Could NOT find {W} (missing: {W}_LIBRARY)", ""], [("configure", False)]),
    (["./zopen-setup {n}: FSUM7332 syntax error: got |, expecting Newline"], [("encoding", False)]),
    (["/bin/sh: {w}: FSUM7351 not found"], [("environment", False)]),
    (["FSUM3010 Specify a file with the correct suffix (.c, .o, .a), or a corresponding data set name, instead of -L{w}."],
     [("toolchain", False)]),
    (["CEE3204S The system detected a protection exception (System Completion Code=0C4)."], [("runtime", False)]),
    (["cp: cannot open {w}: EDC5133I No space left on device."], [("resource-limit", False)]),
    (["FAIL: t/t{n}-{w}.sh {n} - {w} round trip"], [("test-failure", False)]),
    (["# FAIL:  {n}"], [("test-failure", True)]),
    (["make[3]: *** [Makefile:{n}: check-TESTS] Error 1"], [("test-failure", True)]),
    (["error: Cannot get {w} times on this platform"], [("unsupported-feature", False)]),
)

WORDS = ("hash", "xmalloc", "regex", "strtol", "wait4", "epoll", "getopt", "quotearg", "utimens", "sigsegv", "tmpfile", "iconv")


def _fill(template: str, rng: random.Random) -> str:
    word = rng.choice(WORDS)
    return template.replace("{w}", word).replace("{W}", word.upper()).replace("{n}", str(rng.randint(1, 9999)))


def generate(path: str, size_mb: float, encoding: str, per_mille: float = 5.0, seed: int = 7) -> dict:
    """Write the log; return what the parser must find (counts of primaries, follow-ups, total)."""
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    counts = {}
    follow_ups = total = written = 0
    codec = _encoder(encoding)
    with open(path, "wb") as handle:
        while written < target:
            lines = []
            for _line in range(2000):
                if rng.random() * 1000.0 < per_mille:
                    templates, expected = rng.choice(KINDS)
                    lines.extend(_fill(template, rng) for template in templates)
                    for category, follow_up in expected:
                        total += 1
                        if follow_up:
                            follow_ups += 1
                        else:
                            counts[category] = counts.get(category, 0) + 1
                else:
                    lines.append(_fill(rng.choice(NOISE), rng))
            block = codec("\n".join(lines) + "\n")
            handle.write(block)
            written += len(block)
    return {"counts": counts, "follow_ups": follow_ups, "total": total, "bytes": written}


def _encoder(encoding: str):
    if encoding == "cp1047":
        from ansible_collections.autoport.zos.plugins.module_utils.build_log import encode_cp1047

        return encode_cp1047
    return lambda text: text.encode(encoding)


def _import_path(tmp: str) -> None:
    # The module_utils import each other as ansible_collections.autoport.zos...: point a
    # collections tree at this checkout.
    link = os.path.join(tmp, "collections", "ansible_collections", "autoport", "zos")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link))
        os.symlink(REPO, link)
    sys.path.insert(0, os.path.join(tmp, "collections"))


def _pin_one_core() -> None:
    if hasattr(os, "sched_getaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[-1]})


def child(mode: str, path: str, tmp: str, encoding: str) -> None:
    """Run one measurement in this (child) process and print it as JSON."""
    _pin_one_core()
    _import_path(tmp)
    if mode == "parser":
        from ansible_collections.autoport.zos.plugins.module_utils.build_log import parse_log

        start = time.perf_counter()
        result = parse_log(src=path, max_diagnostics=1000)
        seconds = time.perf_counter() - start
        out = {key: result[key] for key in ("counts", "follow_ups", "total", "encoding", "lines", "truncated")}
    elif encoding == "cp1047":
        # Python's line iteration only knows '\n'; EBCDIC lines end in NL (0x15): split blocks on it.
        start = time.perf_counter()
        lines = 0
        carry = b""
        with open(path, "rb") as handle:
            while True:
                block = handle.read(1 << 20)
                if not block:
                    break
                pieces = (carry + block).split(b"\x15")
                carry = pieces.pop()
                for _line in pieces:
                    lines += 1
        lines += 1 if carry else 0
        seconds = time.perf_counter() - start
        out = {"lines": lines}
    else:
        start = time.perf_counter()
        lines = 0
        with open(path, "rb") as handle:
            for _line in handle:
                lines += 1
        seconds = time.perf_counter() - start
        out = {"lines": lines}
    out["seconds"] = seconds
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


def _run_child(mode: str, path: str, tmp: str, encoding: str) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--child", mode, "--log", path, "--tmp", tmp, "--encoding", encoding]
    done = subprocess.run(command,
                          check=True, stdout=subprocess.PIPE, universal_newlines=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--size-mb", type=float, default=200.0, help="size of the generated log (default 200)")
    parser.add_argument("--encoding", default="utf-8", choices=("utf-8", "iso8859-1", "cp1047"))
    parser.add_argument("--per-mille", type=float, default=5.0,
                        help="diagnostic groups per 1000 lines (default 5; a failed build with many warnings)")
    parser.add_argument("--keep", action="store_true", help="keep the generated log and print its path")
    parser.add_argument("--child", choices=("parser", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.log, args.tmp, args.encoding)
        return 0

    tmp = tempfile.mkdtemp(prefix="bench-build-log-")
    try:
        _import_path(tmp)
        path = os.path.join(tmp, "bench_build.log")
        start = time.perf_counter()
        expected = generate(path, args.size_mb, args.encoding, args.per_mille)
        size_mb = expected["bytes"] / (1024.0 * 1024.0)
        print("log: %.1f MB (%s), %d diagnostics written (%.0f per MB), generated in %.1f s" % (
            size_mb, args.encoding, expected["total"], expected["total"] / size_mb, time.perf_counter() - start))
        baseline = _run_child("baseline", path, tmp, args.encoding)
        parsed = _run_child("parser", path, tmp, args.encoding)
        base_rate = size_mb / baseline["seconds"]
        rate = size_mb / parsed["seconds"]
        print("baseline  line iteration : %8.1f MB/s  %6.2f s  peak %6.1f MB" % (base_rate, baseline["seconds"], baseline["max_rss_mb"]))
        print("parser    parse_log      : %8.1f MB/s  %6.2f s  peak %6.1f MB" % (rate, parsed["seconds"], parsed["max_rss_mb"]))
        print("ratio     parser/baseline: throughput %.3f, peak memory %.2f" % (rate / base_rate, parsed["max_rss_mb"] / baseline["max_rss_mb"]))
        print("goal      throughput >= %.0f MB/s: %s (%.1f)" % (GOAL_MB_PER_S, "PASS" if rate >= GOAL_MB_PER_S else "MISS", rate))
        peak_verdict = "PASS" if parsed["max_rss_mb"] < GOAL_PEAK_MB else "MISS"
        print("goal      peak memory < %.0f MB: %s (%.1f)" % (GOAL_PEAK_MB, peak_verdict, parsed["max_rss_mb"]))
        problems = []
        if parsed["counts"] != expected["counts"]:
            problems.append("counts differ: parser %s, written %s" % (parsed["counts"], expected["counts"]))
        for key in ("follow_ups", "total"):
            if parsed[key] != expected[key]:
                problems.append("%s differ: parser %s, written %s" % (key, parsed[key], expected[key]))
        if parsed["lines"] != baseline["lines"]:
            problems.append("line count differs: parser %d, baseline %d" % (parsed["lines"], baseline["lines"]))
        if parsed["encoding"] != args.encoding:
            problems.append("encoding detected as %s, written as %s" % (parsed["encoding"], args.encoding))
        if problems:
            print("PARSE ERROR: " + "; ".join(problems))
            return 1
        print("parse check: %d diagnostics, %d follow-ups, counts match what was written" % (parsed["total"], parsed["follow_ups"]))
        if args.keep:
            print("log kept at %s" % path)
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
