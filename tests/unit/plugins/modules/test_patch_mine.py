"""The patch_mine module: arguments, results, check mode, idempotence and failures."""

from __future__ import annotations

import json
import shutil

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.autoport.zos.plugins.module_utils.record import read_records
from ansible_collections.autoport.zos.plugins.modules import patch_mine


def run(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            patch_mine.main()
    return json.loads(capsys.readouterr().out)


def test_mines_a_corpus_port_then_reports_no_change(corpus_ports, tmp_path, capsys):
    port = tmp_path / "jqport"
    shutil.copytree(str(corpus_ports / "jqport"), str(port))
    dest = tmp_path / "out" / "jq.jsonl"
    args = {"port_dir": str(port), "dest": str(dest), "port_commit": "0123456789abcdef0123456789abcdef01234567"}

    preview = run(args, capsys, check_mode=True)
    assert preview["changed"] is True and preview["written"] == 0 and preview["records"] > 0
    assert not dest.exists()

    first = run(args, capsys)
    assert first["changed"] is True
    assert first["patch_dir"] == "stable-patches" and first["build_line"] == "STABLE"
    assert first["written"] == first["records"] == preview["records"]
    assert first["parsed"] == first["patch_files"] and first["left_out"] == []
    # A "skipped" key would make Ansible show the task as skipped although it wrote records.
    assert "skipped" not in first
    assert first["toolchain"] == "ibm-clang"
    records = [record for _line_number, record in read_records(str(dest))]
    assert len(records) == first["records"]
    assert {record["port"] for record in records} == {"jqport"}
    assert {record["port_commit"] for record in records} == {args["port_commit"]}

    second = run(args, capsys)
    assert second["changed"] is False and second["written"] == 0 and second["records"] == first["records"]


def test_port_name_and_build_line_options(corpus_ports, tmp_path, capsys):
    dest = tmp_path / "bash.jsonl"
    result = run({"port_dir": str(corpus_ports / "bashport"), "dest": str(dest), "build_line": "DEV", "port": "bash"}, capsys)
    assert result["patch_dir"] == "dev-patches" and result["build_line"] == "DEV"
    assert {record["port"] for _line_number, record in read_records(str(dest))} == {"bash"}


def test_bad_patches_are_listed_and_no_buildenv_is_said(tmp_path, capsys):
    port = tmp_path / "fooport"
    (port / "patches").mkdir(parents=True)
    (port / "patches" / "empty.patch").write_bytes(b"")
    (port / "patches" / "escape.patch").write_bytes(b"--- a/../x.c\n+++ b/../x.c\n@@ -1 +1 @@\n-a\n+b\n")
    (port / "patches" / "ok.patch").write_bytes(b"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n")
    result = run({"port_dir": str(port), "dest": str(tmp_path / "out.jsonl")}, capsys)
    assert result["changed"] is True and result["records"] == 1
    assert result["left_out"] == [
        {"file": "patches/empty.patch", "reason": "empty file, no patch in it"},
        {"file": "patches/escape.patch", "reason": "path '../x.c' escapes the source tree (..)"},
    ]
    assert any("no buildenv" in text for text in result["warnings_found"])
    # Also shown to the operator as Ansible warnings.
    assert any("no buildenv" in str(text) for text in result["warnings"])


def test_missing_port_dir_fails_naming_it(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    result = run({"port_dir": missing, "dest": str(tmp_path / "out.jsonl")}, capsys)
    assert result["failed"] is True
    assert missing in result["msg"] and "no such directory" in result["msg"]


def test_dest_that_is_a_directory_fails_cleanly(tmp_path, capsys):
    port = tmp_path / "fooport"
    (port / "patches").mkdir(parents=True)
    (port / "patches" / "ok.patch").write_bytes(b"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n")
    result = run({"port_dir": str(port), "dest": str(tmp_path)}, capsys)
    assert result["failed"] is True and str(tmp_path) in result["msg"]


def test_invalid_build_line_is_refused(tmp_path, capsys):
    result = run({"port_dir": str(tmp_path), "dest": str(tmp_path / "o.jsonl"), "build_line": "NIGHTLY"}, capsys)
    assert result["failed"] is True and "build_line" in result["msg"]
