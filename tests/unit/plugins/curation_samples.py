"""Realistic fix records for the curation and taxonomy tests.

Built with record.make_record from small tables of the kind of fixes z/OS ports carry
(headers guarded with __MVS__, undeclared functions, CCN/IEW messages, EBCDIC tagging,
config.guess entries, test skips), spread over many ports, files and categories. Each
patch is a real unified diff of the record's wrong_code -> correct_code, made by difflib.
Loaded by path from the test files (pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import difflib

from ansible_collections.autoport.zos.plugins.module_utils.record import make_record, record_id

PORTS = ("curlport", "gitport", "bashport", "makeport", "zlibport", "opensslport", "grepport", "sedport", "lessport", "m4port")


def unified_patch(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a/" + path, "b/" + path, n=3)
    return "".join(lines)


def _record(category, port, path, before, after, error="", phase="build", toolchain="clang", provenance=None, hunk=1, patch_dir="stable-patches",
            outside=False, **extra):
    provenance = provenance or ("build" if error else "static")
    # outside=True: a record as a third party could write it, never scrubbed (the
    # planted-secret tests); otherwise made by make_record like the harvest's.
    make = _outside_record if outside else make_record
    return make(
        port=port,
        patch_file="%s/%s.patch" % (patch_dir, path.replace("/", "_")),
        file=path,
        hunk=hunk,
        phase=phase,
        toolchain=toolchain,
        provenance=provenance,
        error=error,
        error_category=category,
        wrong_code=before,
        correct_code=after,
        patch=unified_patch(path, before, after),
        port_commit="0123456789abcdef0123456789abcdef01234567",
        **extra,
    )


def _outside_record(**fields):
    record = dict({"build_line": None}, **fields)
    record["id"] = record_id(record)
    return record


def _missing_header(i, port):
    pairs = [
        ("sys/poll.h", "poll.h"),
        ("alloca.h", "stdlib.h"),
        ("sys/sysmacros.h", "sys/types.h"),
        ("sys/prctl.h", "unistd.h"),
        ("execinfo.h", "stdio.h"),
        ("sys/vfs.h", "sys/statvfs.h"),
    ]
    missing, present = pairs[i % len(pairs)]
    path = ["lib/select.c", "compat/mmap.c", "src/dev.c", "src/proc.c", "lib/backtrace.c", "src/fsusage.c"][i % 6]
    before = "#include <errno.h>\n#include <%s>\n#include <string.h>\n" % missing
    after = "#include <errno.h>\n#ifdef __MVS__\n#include <%s>\n#else\n#include <%s>\n#endif\n#include <string.h>\n" % (present, missing)
    error = "%s:%d:10: fatal error: '%s' file not found" % (path, 20 + i, missing)
    return _record("missing-header", port, path, before, after, error, error_code=None)


def _implicit_function(i, port):
    table = [
        ("strcasecmp", "strings.h"),
        ("fdopen", "stdio.h"),
        ("setenv", "stdlib.h"),
        ("strnlen", "string.h"),
        ("getline", "stdio.h"),
        ("usleep", "unistd.h"),
    ]
    func, header = table[i % len(table)]
    path = ["src/util.c", "lib/io.c", "src/env.c", "lib/str.c", "src/read.c", "src/sleep.c"][i % 6]
    before = "static int check(const char *a, const char *b)\n{\n    return %s(a, b);\n}\n" % func
    after = "#include <%s>\n\nstatic int check(const char *a, const char *b)\n{\n    return %s(a, b);\n}\n" % (header, func)
    error = (
        "%s:%d:12: error: call to undeclared function '%s'; ISO C99 and later do not support implicit function declarations "
        "[-Wimplicit-function-declaration]" % (path, 40 + i, func)
    )
    return _record("implicit-function", port, path, before, after, error)


def _undeclared(i, port):
    names = ["PATH_MAX", "O_CLOEXEC", "MAP_ANONYMOUS", "SIGPWR", "AF_LOCAL", "NSIG"]
    values = ["1024", "0", "MAP_ANON", "SIGUSR2", "AF_UNIX", "64"]
    name = names[i % len(names)]
    path = ["src/path.c", "lib/open.c", "src/alloc.c", "src/sig.c", "lib/sock.c", "src/trap.c"][i % 6]
    before = "    char buf[16];\n    int flags = %s;\n    return flags;\n" % name
    after = "#if defined(__MVS__) && !defined(%s)\n#define %s %s\n#endif\n    char buf[16];\n    int flags = %s;\n    return flags;\n" % (
        name,
        name,
        values[i % 6],
        name,
    )
    error = "ERROR CCN3045 ./%s:%d     Undeclared identifier %s." % (path, 100 + i, name)
    return _record("undeclared-identifier", port, path, before, after, error, toolchain="xlclang", error_code="CCN3045")


def _unresolved(i, port):
    symbols = ["strndup", "getopt_long", "backtrace", "epoll_create", "pthread_setname_np", "clock_nanosleep"]
    sym = symbols[i % len(symbols)]
    path = ["Makefile", "src/Makefile.in", "Makefile.am", "build/Makefile", "lib/Makefile", "tools/Makefile"][i % 6]
    libs = ["-lzoslib", "-lzoslib -lpthread", "-L$(ZOSLIB_HOME)/lib -lzoslib", "-lzoslib -lm", "$(ZOSLIB_LIBS)", "-lzoslib -lrt"]
    before = "LIBS = -lm\nLDFLAGS = -L.\n"
    after = "LIBS = -lm %s\nLDFLAGS = -L.\n" % libs[i % len(libs)]
    error = "IEW2456E 9207 SYMBOL %s UNRESOLVED.  MEMBER COULD NOT BE INCLUDED FROM THE DESIGNATED CALL LIBRARY." % sym
    return _record("unresolved-symbol", port, path, before, after, error, phase="link", toolchain="binder", error_code="IEW2456E")


def _encoding(i, port):
    path = ["src/main.c", "lib/file.c", "src/output.c", "lib/pipe.c", "src/log.c", "lib/tty.c"][i % 6]
    before = "    fd = open(path, O_WRONLY | O_CREAT, 0644);\n    if (fd < 0)\n        return -1;\n"
    calls = [
        "__setfdtext(fd);",
        "(void) __chgfdccsid(fd, 819);",
        "__setfdbinary(fd);",
        "(void) __chgfdccsid(fd, 1047);",
        "__disableautocvt(fd);",
        "__setfdtext(fd);\n    (void) __chgfdccsid(fd, 819);",
    ]
    after = "    fd = open(path, O_WRONLY | O_CREAT, 0644);\n    if (fd < 0)\n        return -1;\n#ifdef __MVS__\n    %s\n#endif\n" % calls[i % len(calls)]
    return _record("encoding", port, path, before, after, phase="runtime")


def _configure(i, port):
    path = ["build-aux/config.guess", "config.guess", "support/config.guess", "autoconf/config.guess", "config/config.guess", "cnf/config.guess"][i % 6]
    before = "    s390x:Linux:*:*)\n\tGUESS=$UNAME_MACHINE-ibm-linux-$LIBC\n\t;;\n"
    guesses = ["i370-ibm-openedition", "s390x-ibm-zos", "$UNAME_MACHINE-ibm-zos", "s390x-ibm-openedition", "zos-ibm-mvs", "s390-ibm-zos"]
    after = "    s390x:Linux:*:*)\n\tGUESS=$UNAME_MACHINE-ibm-linux-$LIBC\n\t;;\n    *:OS/390:*:*)\n\tGUESS=%s\n\t;;\n" % guesses[i % len(guesses)]
    error = "" if i % 2 else "configure: error: cannot guess build type; you must specify one"
    return _record("configure", port, path, before, after, error, phase="configure", toolchain="sh")


def _test_failure(i, port):
    path = ["tests/test-locale.sh", "t/t0001-init.sh", "tests/run-tests.sh", "test/test_io.c", "tests/misc/printf.sh", "tests/encoding.sh"][i % 6]
    before = 'run_test "%s"\ncheck_output expected.out\n' % ("case%d" % i)
    after = 'if test "$(uname)" = "OS/390"; then\n  skip_ "ASCII-only output on z/OS"\nfi\nrun_test "%s"\ncheck_output expected.out\n' % ("case%d" % i)
    return _record("test-failure", port, path, before, after, phase="check", toolchain="sh")


def _build_system(i, port):
    path = ["Makefile", "src/Makefile.am", "CMakeLists.txt", "meson.build", "GNUmakefile", "lib/Makefile.in"][i % 6]
    before = "CFLAGS += -O2 -Wall\nLDFLAGS += -shared\n"
    flags = ["-fzos-le-char-mode=ascii", "-D_OPEN_SYS_FILE_EXT=1", "-D_XOPEN_SOURCE=600", "-D_ALL_SOURCE", "-mzos-target=zosv2r4", "-D_UNIX03_SOURCE"]
    after = "CFLAGS += -O2 -Wall\nifeq ($(shell uname),OS/390)\nCFLAGS += %s\nendif\nLDFLAGS += -shared\n" % flags[i % len(flags)]
    return _record("build-system", port, path, before, after, phase="build", toolchain="make")


def _type_error(i, port):
    path = ["src/hash.c", "lib/size.c", "src/buf.c", "lib/time.c", "src/num.c", "lib/crc.c"][i % 6]
    types = [("long", "size_t"), ("int", "ssize_t"), ("unsigned", "off_t"), ("short", "pid_t"), ("char", "wchar_t")]
    old, new = types[i % len(types)]
    before = "    %s n = strlen(s);\n    unsigned int *p = &n;\n" % old
    after = "    %s n = strlen(s);\n    %s *p = &n;\n" % (new, new)
    error = "%s:%d:23: error: incompatible pointer types initializing 'unsigned int *' with an expression of type '%s *'" % (path, 60 + i, old)
    return _record("type-error", port, path, before, after, error)


def _runtime(i, port):
    path = ["src/signal.c", "lib/fork.c", "src/term.c", "lib/mmap.c", "src/child.c", "lib/alarm.c"][i % 6]
    signal = ["SIGWINCH", "SIGPWR", "SIGIO", "SIGSTKFLT", "SIGPROF", "SIGURG"][i % 6]
    before = "    sigaction(%s, &sa, NULL);\n" % signal
    after = "#ifndef __MVS__\n    sigaction(%s, &sa, NULL);\n#endif\n" % signal
    return _record("runtime", port, path, before, after, phase="runtime")


def _conflicting(i, port):
    path = ["src/compat.h", "lib/strl.h", "src/getopt.h", "lib/err.h", "src/util.h"][i % 5]
    func = ["strdup", "strlcpy", "getopt", "err", "basename"][i % 5]
    before = "char *%s(const char *);\n" % func
    after = "#ifndef __MVS__\nchar *%s(const char *);\n#endif\n" % func
    error = "%s:%d:7: error: conflicting types for '%s'" % (path, 10 + i, func)
    return _record("conflicting-declaration", port, path, before, after, error)


def _resource_limit(i, port):
    path = "tests/Makefile"
    before = "check: all\n\t./run-tests\n"
    after = "check: all\n\tulimit -%s unlimited; ./run-tests\n" % "sv"[i % 2]
    return _record("resource-limit", port, path, before, after, phase="check", toolchain="make")


# (builder, how many records) per category: most have at least 5, two have fewer on purpose.
PLAN = (
    (_missing_header, 6),
    (_implicit_function, 6),
    (_undeclared, 6),
    (_unresolved, 6),
    (_encoding, 6),
    (_configure, 6),
    (_test_failure, 6),
    (_build_system, 6),
    (_type_error, 5),
    (_runtime, 5),
    (_conflicting, 3),
    (_resource_limit, 2),
)


def sample_records() -> list[dict]:
    """About seventy valid, distinct records across twelve categories and ten ports."""
    records = []
    for offset, (builder, count) in enumerate(PLAN):
        for i in range(count):
            records.append(builder(i, PORTS[(i + offset) % len(PORTS)]))
    return records


def categories_with(records, minimum):
    counts = {}
    for record in records:
        counts[record["error_category"]] = counts.get(record["error_category"], 0) + 1
    return sorted(category for category, n in counts.items() if n >= minimum)
