"""patch_read: every patch form of the port repos, bad input, and the per-hunk outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils.patch_read import (
    PatchReadError,
    check_paths,
    hunk_code,
    hunk_patch_text,
    nearest_hunk,
    parse_patch,
    read_patch_file,
)
from ansible_collections.autoport.zos.plugins.module_utils.record import MAX_CODE_CHARS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patches"

# INDEX.json names the formats differently from PatchFile.format.
INDEX_FORMATS = {"git-diff": "git-diff", "git-diff+format-patch": "mail", "unified-diff": "unified"}


def fixture(name):
    return str(FIXTURES / name)


# ---------------------------------------------------------------------------
# Forms of patch


def test_git_diff_single_file():
    data = (
        b"diff --git a/src/x.c b/src/x.c\n"
        b"index 1111111..2222222 100644\n"
        b"--- a/src/x.c\n"
        b"+++ b/src/x.c\n"
        b"@@ -3,4 +3,5 @@ int main(void)\n"
        b" {\n"
        b"   int a;\n"
        b"+  int b;\n"
        b"   a = 1;\n"
        b" }\n"
    )
    patch = parse_patch(data, "x.c.patch")
    assert patch.format == "git-diff"
    assert patch.path == "x.c.patch"
    assert len(patch.files) == 1
    fp = patch.files[0]
    assert (fp.old_path, fp.new_path, fp.path) == ("src/x.c", "src/x.c", "src/x.c")
    assert not (fp.is_new or fp.is_deleted or fp.is_rename or fp.is_binary)
    assert fp.header_lines[0] == "diff --git a/src/x.c b/src/x.c"
    hunk = fp.hunks[0]
    assert (hunk.index, hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (1, 3, 4, 3, 5)
    assert hunk.header == "@@ -3,4 +3,5 @@ int main(void)"
    assert hunk.lines == [" {", "   int a;", "+  int b;", "   a = 1;", " }"]


def test_mail_patch_with_two_files_subject_and_signature():
    patch = read_patch_file(fixture("mail-two-files.patch"))
    assert patch.format == "mail"
    assert patch.subject == "Add z/OS support for signals and headers"
    assert [fp.path for fp in patch.files] == ["src/a.c", "src/b.c"]
    # Hunk indexes count across file sections.
    assert [hunk.index for _file_patch, hunk in patch.hunks] == [1, 2]
    last = patch.files[1].hunks[0]
    # The "-- " signature after the last hunk is not part of it.
    assert last.lines == [" {", "-  signal(SIGPWR, h);", "+  signal(SIGTERM, h);", " }"]


def test_plain_unified_diff_with_timestamps_and_short_hunk_header():
    patch = read_patch_file(fixture("plain-timestamps.patch"))
    assert patch.format == "unified"
    fp = patch.files[0]
    assert fp.path == "lib/x.c"
    assert fp.raw_old_path == "a/lib/x.c"
    hunk = fp.hunks[0]
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (3, 1, 3, 1)


def test_new_deleted_renamed_and_binary_files():
    new = read_patch_file(fixture("newfile.patch")).files[0]
    assert new.is_new and new.old_path is None and new.path == "zos/compat.h"
    deleted = read_patch_file(fixture("delete.patch")).files[0]
    assert deleted.is_deleted and deleted.new_path is None and deleted.path == "obsolete.h"
    renamed = read_patch_file(fixture("rename.patch")).files[0]
    assert renamed.is_rename and (renamed.old_path, renamed.new_path, renamed.path) == ("old/name.c", "new/name.c", "new/name.c")
    binary = read_patch_file(fixture("binary.patch"))
    assert binary.files[0].is_binary and binary.files[0].hunks == [] and binary.files[0].path == "logo.png"


def test_crlf_is_read_as_lf_with_a_warning():
    patch = read_patch_file(fixture("crlf.patch"))
    assert patch.files[0].hunks[0].lines == [" #ifndef UTIL_H", " #define UTIL_H", "+#include <strings.h>", " #endif"]
    assert any("CRLF" in warning for warning in patch.warnings)


def test_non_utf8_bytes_fall_back_to_latin1_with_a_warning():
    patch = read_patch_file(fixture("latin1.patch"))
    assert patch.files[0].hunks[0].lines[-1] == '+const char *greet = "h\xe9llo";'
    assert any("UTF-8" in warning for warning in patch.warnings)


def test_quoted_git_paths_are_unquoted():
    data = (
        b'diff --git "a/dir/sp ace\\303\\251.c" "b/dir/sp ace\\303\\251.c"\n'
        b'--- "a/dir/sp ace\\303\\251.c"\n'
        b'+++ "b/dir/sp ace\\303\\251.c"\n'
        b"@@ -1 +1 @@\n-a\n+b\n"
    )
    fp = parse_patch(data, "q.patch").files[0]
    assert fp.path == "dir/sp ace\xe9.c"


def test_empty_context_line_counts_as_context():
    data = b"--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,4 @@\n a\n\n+b\n c\n"
    hunk = parse_patch(data, "f.patch").files[0].hunks[0]
    assert hunk.lines == [" a", " ", "+b", " c"]


# ---------------------------------------------------------------------------
# Bad input: clear errors naming the input, never a crash


@pytest.mark.parametrize(
    "name, reason",
    [
        ("truncated.patch", "hunk 1 of src/main.c (line 5) is truncated"),
        ("no-diff.patch", "no diff found"),
    ],
)
def test_bad_fixture_patches_raise_with_name_and_reason(name, reason):
    with pytest.raises(PatchReadError) as info:
        read_patch_file(fixture(name))
    assert str(info.value).startswith(fixture(name) + ": ")
    assert reason in info.value.reason


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"@@ -1 +1 @@\n-a\n+b\n", "hunk header with no ---/+++ file header"),
        (b"--- a/f\n+++ b/f\n", "has no hunks"),
        (b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n-b\n-c\n+d\n", "does not match its header"),
        (b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+b\nstray text\n", "malformed"),
    ],
)
def test_bad_bytes_raise_with_reason(data, reason):
    with pytest.raises(PatchReadError) as info:
        parse_patch(data, "input.patch")
    assert info.value.name == "input.patch"
    assert reason in str(info.value)


def test_ebcdic_patch_is_named_as_such():
    text = "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-int a;\n+long a;\n"
    with pytest.raises(PatchReadError) as info:
        # z/OS text: EBCDIC letters (cp037 and IBM-1047 agree on these) and NL (0x15) line ends.
        parse_patch(text.encode("cp037").replace(b"\x25", b"\x15"), "ebcdic.patch")
    assert "EBCDIC" in str(info.value)


def test_missing_directory_and_huge_files(tmp_path, monkeypatch):
    with pytest.raises(PatchReadError) as info:
        read_patch_file(str(tmp_path / "absent.patch"))
    assert "absent.patch: no such file" in str(info.value)
    with pytest.raises(PatchReadError) as info:
        read_patch_file(str(tmp_path))
    assert "not a regular file" in str(info.value)
    big = tmp_path / "big.patch"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setattr(patch_read, "MAX_PATCH_BYTES", 1024)
    with pytest.raises(PatchReadError) as info:
        read_patch_file(str(big))
    assert "too big" in str(info.value) and "big.patch" in str(info.value)


@pytest.mark.parametrize("name, reason", [("dotdot.patch", "escapes the source tree"), ("absolute.patch", "absolute path")])
def test_check_paths_refuses_escaping_paths(name, reason):
    patch = read_patch_file(fixture(name))
    with pytest.raises(PatchReadError) as info:
        check_paths(patch)
    assert reason in str(info.value) and name in str(info.value)


def test_check_paths_accepts_normal_patches_and_refuses_control_characters():
    check_paths(read_patch_file(fixture("mail-two-files.patch")))
    data = b'--- "a/evil\\nname.c"\n+++ "b/evil\\nname.c"\n@@ -1 +1 @@\n-a\n+b\n'
    with pytest.raises(PatchReadError) as info:
        check_paths(parse_patch(data, "ctl.patch"))
    assert "control characters" in str(info.value)


# ---------------------------------------------------------------------------
# Per-hunk outputs


def test_hunk_code_before_and_after():
    hunk = read_patch_file(fixture("mail-two-files.patch")).files[1].hunks[0]
    assert hunk_code(hunk) == ("{\n  signal(SIGPWR, h);\n}", "{\n  signal(SIGTERM, h);\n}")
    deleted = read_patch_file(fixture("delete.patch")).files[0].hunks[0]
    assert hunk_code(deleted) == ("#define OBSOLETE 1\n#define ALSO_OBSOLETE 2", "")


def test_hunk_code_is_bounded():
    body = "".join("+line %d of a generated file\n" % number for number in range(2000)).encode()
    data = b"--- /dev/null\n+++ b/gen.c\n@@ -0,0 +1,2000 @@\n" + body
    hunk = parse_patch(data, "gen.patch").files[0].hunks[0]
    before, after = hunk_code(hunk)
    assert before == ""
    assert len(after) <= MAX_CODE_CHARS and after.endswith("[truncated]\n")


def test_hunk_patch_text_forms():
    renamed = read_patch_file(fixture("rename.patch")).files[0]
    assert hunk_patch_text(renamed, renamed.hunks[0]) == (
        "diff --git a/old/name.c b/new/name.c\n"
        "rename from old/name.c\n"
        "rename to new/name.c\n"
        "--- a/old/name.c\n"
        "+++ b/new/name.c\n"
        "@@ -1,4 +1,4 @@\n"
        " int f(void)\n"
        " {\n"
        "-  return 0;\n"
        "+  return 1;\n"
        " }\n"
    )
    new = read_patch_file(fixture("newfile.patch")).files[0]
    assert hunk_patch_text(new, new.hunks[0]).startswith("--- /dev/null\n+++ b/zos/compat.h\n@@ -0,0 +1,3 @@\n")
    deleted = read_patch_file(fixture("delete.patch")).files[0]
    assert hunk_patch_text(deleted, deleted.hunks[0]).startswith("--- a/obsolete.h\n+++ /dev/null\n")


def test_nearest_hunk():
    data = (
        b"--- a/src/big.c\n+++ b/src/big.c\n"
        b"@@ -10,3 +10,4 @@\n a\n+b\n c\n d\n"
        b"@@ -100,3 +101,4 @@\n a\n+b\n c\n d\n"
        b"--- a/src/other.c\n+++ b/src/other.c\n"
        b"@@ -5,1 +5,1 @@\n-x\n+y\n"
    )
    patch = parse_patch(data, "n.patch")
    assert nearest_hunk(patch, "/home/u/build/foo-1.0/src/big.c", 11)[1].index == 1
    assert nearest_hunk(patch, "src/big.c", 90)[1].index == 2
    assert nearest_hunk(patch, "big.c", 50)[1].index == 1
    assert nearest_hunk(patch, "big.c", 60)[1].index == 2
    assert nearest_hunk(patch, "src/big.c", None)[1].index == 1
    assert nearest_hunk(patch, "other.c", 500)[0].path == "src/other.c"
    assert nearest_hunk(patch, "missing.c", 1) is None
    assert nearest_hunk(patch, "g.c", 1) is None


# ---------------------------------------------------------------------------
# The shared corpus (INDEX.json is the ground truth)


def corpus_patches(corpus_ports):
    with open(str(corpus_ports / "INDEX.json")) as handle:
        repos = json.load(handle)["repos"]
    for repo in repos:
        port = repo["repo"].split("/")[1]
        for entry in repo["patches"]:
            yield port, entry


def test_corpus_every_patch_read_or_skipped_with_reason_and_counts_match(corpus_ports):
    read = 0
    skipped = []
    total = 0
    for port, entry in corpus_patches(corpus_ports):
        total += 1
        path = str(corpus_ports / port / entry["path"])
        try:
            patch = read_patch_file(path)
            check_paths(patch)
        except PatchReadError as exc:
            assert exc.reason and path in str(exc)
            skipped.append((port, entry["path"], exc.reason))
            continue
        read += 1
        hunks = [hunk for _file_patch, hunk in patch.hunks]
        where = "%s/%s" % (port, entry["path"])
        assert len(hunks) == entry["hunks"], where
        assert sum(hunk.added for hunk in hunks) == entry["added"], where
        assert sum(hunk.removed for hunk in hunks) == entry["removed"], where
        assert patch.format == INDEX_FORMATS[entry["format"]], where
        # INDEX lists the names as written; `path` is what git apply -p1 produces.
        written = sorted({fp.raw_new_path if fp.raw_new_path not in (None, "/dev/null") else fp.raw_old_path for fp in patch.files})
        assert written == sorted(set(entry["files"])) or sorted({fp.path for fp in patch.files}) == sorted(set(entry["files"])), where
    assert total == 541
    assert read / total >= 0.98
    # The ones that cannot be read are empty files or hunks cut short (git apply rejects them too).
    reasons = {reason.split(":")[0].split(" (")[0] for _port, _path, reason in skipped}
    assert reasons <= {"empty file, no patch in it", "hunk 1 of ping/ping_common.h", "hunk 1 of src/inetd.c"}
    assert len(skipped) == 4


def test_corpus_spot_check_git_diff_hunk(corpus_ports):
    patch = read_patch_file(str(corpus_ports / "autoconfport" / "patches" / "m4sh.m4.patch"))
    fp, hunk = patch.hunks[0]
    assert fp.path == "lib/m4sugar/m4sh.m4"
    wrong, correct = hunk_code(hunk)
    assert wrong == (
        "# a variable that is not already set.  You should not unset MAIL and\n"
        "# MAILCHECK, as that triggers a bug in Bash 2.01.\n"
        "m4_defun([AS_UNSET],\n"
        "[{ AS_LITERAL_WORD_IF([$1], [], [eval ])$1=; unset $1;}])\n"
        "\n\n"
    )
    assert correct == (
        "# a variable that is not already set.  You should not unset MAIL and\n"
        "# MAILCHECK, as that triggers a bug in Bash 2.01.\n"
        "m4_defun([AS_UNSET],\n"
        "[{ AS_LITERAL_WORD_IF([$1], [], [eval ]) unset $1;}])\n"
        "\n\n"
    )
    assert hunk_patch_text(fp, hunk) == (
        "--- a/lib/m4sugar/m4sh.m4\n"
        "+++ b/lib/m4sugar/m4sh.m4\n"
        "@@ -741,7 +741,7 @@ as_unset=as_fn_unset\n"
        " # a variable that is not already set.  You should not unset MAIL and\n"
        " # MAILCHECK, as that triggers a bug in Bash 2.01.\n"
        " m4_defun([AS_UNSET],\n"
        "-[{ AS_LITERAL_WORD_IF([$1], [], [eval ])$1=; unset $1;}])\n"
        "+[{ AS_LITERAL_WORD_IF([$1], [], [eval ]) unset $1;}])\n"
        " \n \n \n"
    )


def test_corpus_spot_check_plain_unified_hunk(corpus_ports):
    patch = read_patch_file(str(corpus_ports / "opensslport" / "stable-patches" / "lhash_test.c.patch"))
    assert patch.format == "unified"
    fp, hunk = patch.hunks[0]
    assert (fp.raw_old_path, fp.path) == ("openssl-4.0.0/test/lhash_test.c", "test/lhash_test.c")
    wrong, correct = hunk_code(hunk)
    assert wrong == '            num_workers = jobs;\n    }\n\n    TEST_info("using %d workers\\n", num_workers);\n\n    free(worker_exits);'
    assert correct == (
        "            num_workers = jobs;\n    }\n\n"
        "    if (num_workers < 1)\n        num_workers = 1;\n\n"
        '    TEST_info("using %d workers\\n", num_workers);\n\n    free(worker_exits);'
    )
    assert hunk_patch_text(fp, hunk).startswith("--- a/test/lhash_test.c\n+++ b/test/lhash_test.c\n@@ -515,6 +515,9 @@\n")


def test_corpus_spot_check_mail_hunk(corpus_ports):
    patch = read_patch_file(str(corpus_ports / "opensslport" / "hardware_patches" / "0007-006_lock_contention.patch"))
    assert patch.format == "mail"
    assert patch.subject == "006_lock_contention"
    fp, hunk = patch.hunks[0]
    assert fp.path == "crypto/bn/bn_blind.c"
    assert hunk_code(hunk) == (
        '#include "internal/cryptlib.h"\n#include "bn_local.h"\n\n#define BN_BLINDING_COUNTER     32\n\nstruct bn_blinding_st {\n    BIGNUM *A;',
        '#include "internal/cryptlib.h"\n#include "bn_local.h"\n\n/* Was 32 which is excessive */\n'
        '#define BN_BLINDING_COUNTER     1024\n\nstruct bn_blinding_st {\n    BIGNUM *A;',
    )
    # The "-- " signature and the version line after it stay out of the hunk.
    assert hunk.lines[-1] == "     BIGNUM *A;"
    assert hunk_patch_text(fp, hunk).endswith("+#define BN_BLINDING_COUNTER     1024\n \n struct bn_blinding_st {\n     BIGNUM *A;\n")


def _pre_image(hunk):
    """The file a single hunk applies to: filler up to old_start, its old lines, and filler after.

    git anchors a hunk whose trailing context is shorter than its leading context at
    the end of the file, so no filler follows such a hunk.
    """
    body = [line for line in hunk.lines if not line.startswith("\\")]
    leading = next((i for i, line in enumerate(body) if line[:1] != " "), len(body))
    trailing = next((i for i, line in enumerate(reversed(body)) if line[:1] != " "), len(body))
    head = ["filler %d" % number for number in range(1, hunk.old_start if hunk.old_len else hunk.old_start + 1)]
    old = [line[1:] for line in body if line[:1] in " -"]
    no_newline = any(line.startswith("\\") for line in hunk.lines)
    tail = ["tail %d" % number for number in range(3)] if trailing >= leading and not no_newline else []
    return "\n".join(head + old + tail) + ("" if no_newline else "\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_corpus_hunk_patch_text_applies_with_git_apply_check(corpus_ports, tmp_path):
    # A spread of real hunks: the first and last hunk of every 8th patch file
    # (several files per patch, mail patches and new files included).
    chosen = []
    for number, (port, entry) in enumerate(corpus_patches(corpus_ports)):
        if number % 8:
            continue
        try:
            patch = read_patch_file(str(corpus_ports / port / entry["path"]))
        except PatchReadError:
            continue
        hunks = patch.hunks
        chosen.extend({id(item[1]): item for item in (hunks[0], hunks[-1])}.values())
    assert len(chosen) > 80
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for index, (fp, hunk) in enumerate(chosen):
        work = tmp_path / ("w%d" % index)
        work.mkdir()
        if not fp.is_new:
            target = work / fp.old_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_pre_image(hunk).encode("utf-8", "surrogateescape"))
        (tmp_path / "one.patch").write_bytes(hunk_patch_text(fp, hunk).encode("utf-8"))
        result = subprocess.run(
            ["git", "apply", "--check", "--directory=w%d" % index, "one.patch"],
            cwd=str(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
        assert result.returncode == 0, (fp.path, hunk.index, result.stderr.decode())
        # A hunk moved one line off its position still applies (git finds it by context) ...
        if not fp.is_new and hunk.old_start > 1:
            target.write_bytes(("shifted\n" + _pre_image(hunk)).encode("utf-8", "surrogateescape"))
            result = subprocess.run(["git", "apply", "--check", "--directory=w%d" % index, "one.patch"], cwd=str(tmp_path), stderr=subprocess.PIPE,
                                    check=False)
            assert result.returncode == 0, (fp.path, hunk.index, result.stderr.decode())
    # ... and a pre-image that lacks the removed lines is refused: the check is real.
    fp, hunk = next((fp, hunk) for fp, hunk in chosen if hunk.removed and not fp.is_new)
    work = tmp_path / "wrong"
    (work / os.path.dirname(fp.old_path)).mkdir(parents=True, exist_ok=True)
    (work / fp.old_path).write_text("nothing like the original\n")
    (tmp_path / "one.patch").write_bytes(hunk_patch_text(fp, hunk).encode("utf-8"))
    result = subprocess.run(["git", "apply", "--check", "--directory=wrong", "one.patch"], cwd=str(tmp_path), stderr=subprocess.PIPE, check=False)
    assert result.returncode != 0


def test_messages_name_the_line_and_never_quote_it():
    secret = "ghp_" + "Pl4nted0GithubClassicTok3nAbCdEf012345"
    data = ("--- a/src/a.c\n+++ b/src/a.c\n@@ -1,3 +1,3 @@\n int a;\n-int b;\nTOKEN=%s not a hunk line\n" % secret).encode()
    with pytest.raises(patch_read.PatchReadError) as info:
        patch_read.parse_patch(data, "ports/x/bad.patch")
    message = str(info.value)
    assert "bad.patch" in message and "line 6" in message
    assert secret not in message and "not a hunk line" not in message


def test_unsafe_paths_are_named_scrubbed():
    secret = "ghp_" + "Pl4nted0GithubClassicTok3nAbCdEf012345"
    data = ("--- a/../%s/x.c\n+++ b/../%s/x.c\n@@ -1 +1 @@\n-a\n+b\n" % (secret, secret)).encode()
    patch = patch_read.parse_patch(data, "p.patch")
    with pytest.raises(patch_read.PatchReadError) as info:
        patch_read.check_paths(patch)
    assert "escapes the source tree" in str(info.value) and secret not in str(info.value)
