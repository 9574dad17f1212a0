"""The build_log_parse module: arguments, results, check mode and failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.autoport.zos.plugins.module_utils.build_log import encode_cp1047
from ansible_collections.autoport.zos.plugins.modules import build_log_parse

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"
RESULT_KEYS = {"changed", "diagnostics", "counts", "severity_counts", "follow_ups", "total", "truncated", "encoding", "lines", "bytes",
               "binary", "invocation"}


def run(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            build_log_parse.main()
    return json.loads(capsys.readouterr().out)


def _warnings(result):
    # ansible-core 2.19 returns warnings as {"event": {"msg": ...}} summaries, older ones as strings.
    return [item if isinstance(item, str) else item.get("event", {}).get("msg", "") for item in result.get("warnings", [])]


def test_parses_a_log_file(capsys):
    result = run({"src": str(LOGS / "20240312_104200_link.log")}, capsys)
    assert result["changed"] is False and "failed" not in result
    assert RESULT_KEYS <= set(result)
    assert result["encoding"] == "utf-8" and result["truncated"] is False and result["binary"] is False
    assert result["total"] == len(result["diagnostics"]) == 7
    assert result["counts"] == {"unresolved-symbol": 2, "toolchain": 1, "conflicting-declaration": 1}
    first = result["diagnostics"][0]
    assert (first["code"], first["category"], first["phase"], first["tool"]) == ("IEW2456E", "unresolved-symbol", "link", "binder")
    assert first["message"].endswith("FROM THE DESIGNATED CALL LIBRARY.")
    assert result["lines"] == 12 and result["bytes"] == (LOGS / "20240312_104200_link.log").stat().st_size


def test_check_mode_gives_the_same_result(capsys):
    args = {"src": str(LOGS / "20240312_101500_xlc_build.log")}
    normal = run(args, capsys)
    checked = run(args, capsys, check_mode=True)
    assert checked["changed"] is False
    assert checked["diagnostics"] == normal["diagnostics"] and checked["counts"] == normal["counts"]


def test_content_phase_and_max_diagnostics(capsys):
    text = (LOGS / "posix_gcc.log").read_text(encoding="utf-8")
    result = run({"content": text, "phase": "check", "max_diagnostics": 3}, capsys)
    assert len(result["diagnostics"]) == 3 and result["truncated"] is True and result["total"] == 8
    assert {d["phase"] for d in result["diagnostics"]} == {"check"}
    assert sum(result["counts"].values()) == 6
    # The log text is an input that may hold secrets: never echoed back.
    assert text not in json.dumps(result)


def test_ebcdic_file_with_the_ibm_name(tmp_path, capsys):
    path = tmp_path / "20240101_120000_build.log"
    path.write_bytes(encode_cp1047((LOGS / "20240312_101500_xlc_build.log").read_text(encoding="utf-8")))
    told = run({"src": str(path), "encoding": "IBM-1047"}, capsys)
    detected = run({"src": str(path)}, capsys)
    assert told["encoding"] == detected["encoding"] == "cp1047"
    assert told["diagnostics"] == detected["diagnostics"]
    assert told["diagnostics"][0]["code"] == "CCN3045"


def test_binary_file_warns_and_still_parses(tmp_path, capsys):
    path = tmp_path / "dump.bin"
    path.write_bytes(b"\x00\x01\x02" * 5000 + b"\nIEW2456E 9207 SYMBOL x UNRESOLVED.\n")
    result = run({"src": str(path)}, capsys)
    assert result["binary"] is True
    assert any("binary" in warning and str(path) in warning for warning in _warnings(result))
    assert [d["code"] for d in result["diagnostics"]] == ["IEW2456E"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"src": "/nonexistent/build.log"}, "build log /nonexistent/build.log: no such file"),
        ({}, "one of the following is required: src, content"),
        ({"src": "/tmp/x.log", "content": "x\n"}, "parameters are mutually exclusive: src|content"),
        ({"content": "x\n", "max_diagnostics": -1}, "max_diagnostics must be 0 or more"),
        ({"content": "x\n", "encoding": "utf-16"}, "value of encoding must be one of"),
        ({"content": "x\n", "phase": "compile"}, "value of phase must be one of"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(args, message, capsys):
    result = run(args, capsys)
    assert result["failed"] is True
    assert message in result["msg"]


def test_a_directory_fails_naming_it(tmp_path, capsys):
    result = run({"src": str(tmp_path)}, capsys)
    assert result["failed"] is True and result["msg"] == "build log %s is a directory, not a file" % tmp_path
