"""static_mine: category/phase inference, and mining a port into JSONL records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import static_mine
from ansible_collections.autoport.zos.plugins.module_utils.patch_read import hunk_code, hunk_patch_text, parse_patch, read_patch_file
from ansible_collections.autoport.zos.plugins.module_utils.port_layout import PortLayoutError
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES, PHASES, read_records, validate_record
from ansible_collections.autoport.zos.plugins.module_utils.static_mine import explain_category, infer_category, infer_phase, mine_port


def one_hunk(path, body, old_start=10):
    """Parse a single-hunk patch of `path` whose body lines are given with their prefixes."""
    old_len = sum(1 for line in body if line[:1] in " -")
    new_len = sum(1 for line in body if line[:1] in " +")
    text = "--- a/%s\n+++ b/%s\n@@ -%d,%d +%d,%d @@\n%s\n" % (path, path, old_start, old_len, old_start, new_len, "\n".join(body))
    patch = parse_patch(text.encode("utf-8"), "t.patch")
    return patch.files[0], patch.files[0].hunks[0]


# ---------------------------------------------------------------------------
# Phase


@pytest.mark.parametrize(
    "path, phase",
    [
        ("configure", "configure"),
        ("configure.ac", "configure"),
        ("m4/gnulib-comp.m4", "configure"),
        ("build-aux/config.guess", "configure"),
        ("CMakeLists.txt", "configure"),
        ("cmake/deps.cmake", "configure"),
        ("Makefile.in", "build"),
        ("lib/Makefile.am", "build"),
        ("src/main.c", "build"),
        ("include/zos.h", "build"),
        ("tests/run-alias", "check"),
        ("test/lhash_test.c", "check"),
        ("t/t0001-init.sh", "check"),
        ("autogen.sh", "bootstrap"),
    ],
)
def test_infer_phase(path, phase):
    assert infer_phase(path) == phase
    assert phase in PHASES


# ---------------------------------------------------------------------------
# Category from hunk shapes (hand-made)


@pytest.mark.parametrize(
    "path, body, category",
    [
        ("src/a.c", [" #include <stdio.h>", "+#include <strings.h>", " ", " int x;"], "missing-header"),
        ("src/a.c", [" #include <stdio.h>", "+#ifdef __MVS__", "+# include <zos-base.h>", "+#endif", " int x;"], "missing-header"),
        ("src/a.h", [" #include <x.h>", "+#ifndef O_NOFOLLOW", "+#define O_NOFOLLOW 0", "+#endif", " "], "undeclared-identifier"),
        ("src/a.h", [" struct s;", "+extern int optreset;", " "], "undeclared-identifier"),
        ("src/a.c", [" #include <x.h>", "+char *strsignal(int sig);", " int y;"], "implicit-function"),
        ("src/a.c", [" }", "+", "+int vasprintf(char **out, const char *fmt, va_list ap)", "+{", "+  return -1;", "+}", " "], "unresolved-symbol"),
        ("src/a.h", [" #include <x.h>", "-int sem_init(sem_t *s, int p, unsigned v);", " int z;"], "conflicting-declaration"),
        ("src/a.c", ["   int r;", "-  long n = (long) read(fd, buf, len);", "+  ssize_t n = (ssize_t) read(fd, buf, len);", "   return r;"], "type-error"),
        ("src/a.c", ["   int r;", "+#ifndef __MVS__", "   madvise(p, n, MADV_DONTNEED);", "+#endif", "   return r;"], "unsupported-feature"),
        ("src/a.c", ["   int fd;", "+#ifdef __MVS__", "+  __setfdtext(fd);", "+#endif", "   return fd;"], "encoding"),
        ("src/a.c", ["   x();", "+#pragma convert(\"IBM-1047\")", "   y();"], "encoding"),
        ("src/a.c", ["   x();", "+  signal(SIGPIPE, SIG_IGN);", "   y();"], "runtime"),
        ("src/a.c", ["   x();", "+#if defined(__clang__) && defined(__MVS__)", "+__attribute__((noinline))", "+#endif", "   y();"], "toolchain"),
        ("Makefile.in", [" all:", "-CFLAGS = -O2", "+CFLAGS = -O2 -qascii", " "], "toolchain"),
        ("Makefile.am", [" bin_PROGRAMS = foo", "+foo_SOURCES += zos.c", " "], "build-system"),
        ("configure.ac", [" AC_INIT", "+AC_CHECK_FUNCS([strsignal])", " "], "configure"),
        ("tests/basic.sh", [" echo a", "-test_expect_success x", "+test_expect_failure x", " "], "test-failure"),
        ("src/a.c", ["   x();", "-  y( a );", "+  y(a);", "   z();"], "other"),
    ],
)
def test_infer_category_shapes(path, body, category):
    fp, hunk = one_hunk(path, body)
    assert infer_category(fp, hunk) == category, explain_category(fp, hunk)
    assert category in CATEGORIES


def test_infer_category_new_files():
    data = b"--- /dev/null\n+++ b/zos/compat.c\n@@ -0,0 +1,4 @@\n+#include <string.h>\n+int strverscmp(const char *a, const char *b)\n+{\n+}\n"
    patch = parse_patch(data, "n.patch")
    assert infer_category(*patch.hunks[0]) == "unresolved-symbol"
    data = b"--- /dev/null\n+++ b/zos/compat.h\n@@ -0,0 +1,1 @@\n+int strverscmp(const char *a, const char *b);\n"
    patch = parse_patch(data, "n.patch")
    assert infer_category(*patch.hunks[0]) == "missing-header"


# ---------------------------------------------------------------------------
# Category on real hunks of the shared corpus: one per category claimed

REAL_HUNKS = [
    ("util-linuxport", "patches/term_util_Makemodule.am.patch", 3, "build-system"),
    ("xzport", "patches/configure.patch", 1, "configure"),
    ("libuvport", "stable-patches/src/unix/os390-syscalls.h.patch", 3, "conflicting-declaration"),
    ("librdkafkaport", "patches/src/tinycthread.h.patch", 1, "conflicting-declaration"),
    ("gitport", "stable-patches/archive.c.patch", 1, "encoding"),
    ("bisonport", "patches/test_failure_fix.patch", 10, "implicit-function"),
    ("gitport", "stable-patches/date.c.patch", 1, "implicit-function"),
    ("llamacppport", "patches/src/llama-hparams.h.patch", 1, "missing-header"),
    ("util-linuxport", "patches/term-utils.patch", 3, "missing-header"),
    ("rpmport", "patches/misc_fts.c.patch", 4, "runtime"),
    ("libeventport", "patches/regress_http.c.patch", 2, "test-failure"),
    ("sudoport", "patches/PR1/src/Makefile.in.patch", 1, "toolchain"),
    ("diffutilsport", "patches/PR2/getprogname.c.patch", 1, "type-error"),
    ("util-linuxport", "patches/widechar.h.patch", 1, "undeclared-identifier"),
    ("tmuxport", "patches/alerts.c.patch", 1, "unresolved-symbol"),
    ("sudoport", "patches/PR1/lib/util/progname.c.patch", 1, "unsupported-feature"),
]


def test_infer_category_on_real_hunks(corpus_ports):
    seen = set()
    for port, patch_path, index, category in REAL_HUNKS:
        patch = read_patch_file(str(corpus_ports / port / patch_path))
        fp, hunk = next((fp, hunk) for fp, hunk in patch.hunks if hunk.index == index)
        assert infer_category(fp, hunk) == category, (port, patch_path, index, explain_category(fp, hunk))
        seen.add(category)
    # Every category static mining claims to recognise is shown on a real hunk.
    assert seen == set(CATEGORIES) - {"environment", "resource-limit", "other"}


def test_every_corpus_hunk_gets_a_valid_category_and_phase(corpus_ports):
    with open(str(corpus_ports / "INDEX.json")) as handle:
        repos = json.load(handle)["repos"]
    counts = {}
    for repo in repos:
        port = repo["repo"].split("/")[1]
        for entry in repo["patches"]:
            if not entry["hunks"] or entry["path"].endswith(("ping_common.h.patch", "inetd.c.patch")):
                continue
            for fp, hunk in read_patch_file(str(corpus_ports / port / entry["path"])).hunks:
                category = infer_category(fp, hunk)
                assert category in CATEGORIES and infer_phase(fp.path) in PHASES
                counts[category] = counts.get(category, 0) + 1
    # Most hunks get a specific category, not the catch-all.
    assert counts["other"] < 0.4 * sum(counts.values())


# ---------------------------------------------------------------------------
# mine_port on the corpus


def copy_port(corpus_ports, name, tmp_path):
    target = tmp_path / name
    shutil.copytree(str(corpus_ports / name), str(target))
    return target


def test_mine_port_on_corpus_port(corpus_ports, tmp_path):
    with open(str(corpus_ports / "INDEX.json")) as handle:
        repo = next(item for item in json.load(handle)["repos"] if item["repo"] == "zopencommunity/tmuxport")
    dest = str(tmp_path / "out" / "tmux.jsonl")
    result = mine_port(str(corpus_ports / "tmuxport"), dest, port_commit=repo["snapshot_commit"])
    assert result["patch_dir"] == "patches"
    assert result["patch_files"] == repo["active_n_patch_files"]
    assert result["left_out"] == [{"file": "patches/client.c.patch", "reason": "empty file, no patch in it"}]
    assert result["parsed"] == result["patch_files"] - 1
    assert result["records"] == repo["active_n_hunks"] == result["written"]
    assert result["changed"] is True
    records = [record for _line_number, record in read_records(dest)]
    assert len(records) == result["records"]
    for record in records:
        assert validate_record(record) == []
        assert record["error"] == ""
        assert record["provenance"] == "static"
        assert record["port"] == "tmuxport"
        assert record["port_commit"] == repo["snapshot_commit"]
        assert record["toolchain"] == "ibm-clang"
        assert record["build_line"] == "STABLE"
        assert record["patch_file"].startswith("patches/") and not os.path.isabs(record["patch_file"])
    # One record spot-checked against its hunk.
    alerts = [record for record in records if record["patch_file"] == "patches/alerts.c.patch"]
    assert [record["hunk"] for record in alerts] == [1]
    fp, hunk = read_patch_file(str(corpus_ports / "tmuxport" / "patches" / "alerts.c.patch")).hunks[0]
    assert (alerts[0]["wrong_code"], alerts[0]["correct_code"]) == hunk_code(hunk)
    assert alerts[0]["patch"] == hunk_patch_text(fp, hunk)
    assert alerts[0]["file"] == "alerts.c" and alerts[0]["error_category"] == "unresolved-symbol" and alerts[0]["phase"] == "build"

    # Idempotent: a second run changes nothing, byte for byte.
    before = open(dest, "rb").read()
    again = mine_port(str(corpus_ports / "tmuxport"), dest, port_commit=repo["snapshot_commit"])
    assert again["changed"] is False and again["written"] == 0 and again["records"] == result["records"]
    assert open(dest, "rb").read() == before


def test_mine_whole_corpus_static_records_have_empty_error(corpus_ports, tmp_path):
    dest = str(tmp_path / "all.jsonl")
    total = 0
    for name in sorted(os.listdir(str(corpus_ports))):
        if not os.path.isdir(str(corpus_ports / name)):
            continue
        result = mine_port(str(corpus_ports / name), dest)
        total += result["records"]
        for skipped in result["left_out"]:
            assert skipped["reason"]
    records = [record for _line_number, record in read_records(dest)]
    assert len(records) == total > 1000
    assert all(record["error"] == "" and record["provenance"] == "static" for record in records)
    assert len({record["id"] for record in records}) == len(records)


def test_check_mode_writes_nothing_but_reports(corpus_ports, tmp_path):
    dest = tmp_path / "records.jsonl"
    result = mine_port(str(corpus_ports / "jqport"), str(dest), check_mode=True)
    assert result["changed"] is True and result["written"] == 0 and result["would_write"] == result["records"] > 0
    assert not dest.exists()
    mine_port(str(corpus_ports / "jqport"), str(dest))
    result = mine_port(str(corpus_ports / "jqport"), str(dest), check_mode=True)
    assert result["changed"] is False and result["would_write"] == 0


def test_build_line_option_switches_folder(corpus_ports, tmp_path):
    stable = mine_port(str(corpus_ports / "bashport"), None)
    dev = mine_port(str(corpus_ports / "bashport"), None, build_line="DEV")
    assert (stable["patch_dir"], stable["build_line"]) == ("stable-patches", "STABLE")
    assert (dev["patch_dir"], dev["build_line"]) == ("dev-patches", "DEV")
    assert stable["records"] != dev["records"]


# ---------------------------------------------------------------------------
# Bad input in a hand-made port


GOOD = b"diff --git a/src/a.c b/src/a.c\n--- a/src/a.c\n+++ b/src/a.c\n@@ -1,2 +1,3 @@\n #include <stdio.h>\n+#include <strings.h>\n int x;\n"


def make_port(tmp_path, files, buildenv=None):
    port = tmp_path / "fooport"
    port.mkdir()
    if buildenv is not None:
        (port / "buildenv").write_text(buildenv)
    for name, data in files.items():
        path = port / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return port


def test_bad_patches_are_skipped_with_reasons_and_good_ones_mined(tmp_path):
    fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "patches")

    def fixture(name):
        with open(os.path.join(fixtures, name), "rb") as handle:
            return handle.read()

    port = make_port(
        tmp_path,
        {
            "patches/a-good.patch": GOOD,
            "patches/b-truncated.patch": fixture("truncated.patch"),
            "patches/c-dotdot.patch": fixture("dotdot.patch"),
            "patches/d-absolute.patch": fixture("absolute.patch"),
            "patches/e-binary.patch": fixture("binary.patch"),
            "patches/f-empty.patch": b"",
            "patches/g-latin1.patch": fixture("latin1.patch"),
            "patches/h-nul.patch": b"\x00\x01garbage",
            "patches/i-not-applied.diff": GOOD,
            "patches/$(touch pwned)\nname;rm -rf x.patch": GOOD.replace(b"src/a.c", b"src/b.c"),
        },
    )
    dest = tmp_path / "out.jsonl"
    result = mine_port(str(port), str(dest))
    reasons = {item["file"]: item["reason"] for item in result["left_out"]}
    assert result["patch_files"] == 9
    assert "truncated" in reasons["patches/b-truncated.patch"]
    assert "escapes the source tree" in reasons["patches/c-dotdot.patch"]
    assert "absolute path" in reasons["patches/d-absolute.patch"]
    assert reasons["patches/e-binary.patch"] == "binary patch, no text hunks"
    assert reasons["patches/f-empty.patch"] == "empty file, no patch in it"
    assert "binary data" in reasons["patches/h-nul.patch"]
    assert len(reasons) == 6
    assert result["parsed"] == 3 and result["records"] == 3
    assert not (tmp_path / "pwned").exists() and not (port / "pwned").exists()
    files = sorted(record["patch_file"] for _line_number, record in read_records(str(dest)))
    assert files == ["patches/$(touch pwned)\nname;rm -rf x.patch", "patches/a-good.patch", "patches/g-latin1.patch"]
    assert any("no buildenv" in warning for warning in result["warnings"])
    assert any("g-latin1.patch" in warning and "UTF-8" in warning for warning in result["warnings"])


def test_records_already_written_stay(tmp_path):
    port = make_port(tmp_path, {"patches/a.patch": GOOD}, buildenv="export ZOPEN_COMP=XLCLANG\n")
    dest = tmp_path / "out.jsonl"
    earlier = '{"note": "a line from an earlier run"}\n'
    dest.write_text(earlier)
    result = mine_port(str(port), str(dest), port="foo")
    assert result["written"] == 1 and result["toolchain"] == "xlclang"
    text = dest.read_text()
    assert text.startswith(earlier)
    record = json.loads(text.splitlines()[1])
    assert record["port"] == "foo" and record["toolchain"] == "xlclang" and record["error_category"] == "missing-header"


def test_symlinked_patch_outside_the_port_is_refused(tmp_path):
    port = make_port(tmp_path, {"patches/a.patch": GOOD})
    outside = tmp_path / "outside.patch"
    outside.write_bytes(GOOD.replace(b"src/a.c", b"src/secret.c"))
    os.symlink(str(outside), str(port / "patches" / "z.patch"))
    result = mine_port(str(port), None)
    assert result["left_out"] == [{"file": "patches/z.patch", "reason": "symlink leads outside the port directory"}]
    assert result["records"] == 1


def test_missing_port_dir_and_port_without_patches(tmp_path):
    with pytest.raises(PortLayoutError) as info:
        mine_port(str(tmp_path / "absent"), None)
    assert "absent" in str(info.value)
    port = make_port(tmp_path, {}, buildenv="export ZOPEN_BUILD_LINE=STABLE\n")
    result = mine_port(str(port), str(tmp_path / "out.jsonl"))
    assert result["patch_dir"] is None and result["records"] == 0 and result["changed"] is False
    assert not (tmp_path / "out.jsonl").exists()
    assert any("no patch folder" in warning for warning in result["warnings"])


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_port_commit_from_git_checkout(tmp_path):
    port = make_port(tmp_path, {"patches/a.patch": GOOD}, buildenv="export ZOPEN_COMP=CLANG\n")
    git = ["git", "-C", str(port), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "init"], check=True)
    head = subprocess.run(["git", "-C", str(port), "rev-parse", "HEAD"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    result = mine_port(str(port), str(tmp_path / "out.jsonl"))
    assert result["port_commit"] == head
    record = next(record for _line_number, record in read_records(str(tmp_path / "out.jsonl")))
    assert record["port_commit"] == head
    # An explicit commit wins over the checkout's HEAD.
    assert mine_port(str(port), None, port_commit="abc123")["port_commit"] == "abc123"
    assert static_mine.port_head_commit(str(tmp_path)) is None
