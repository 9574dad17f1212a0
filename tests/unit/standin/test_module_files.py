"""Stand-in module files run the way AnsiballZ runs them (no Ansible controller)."""

from __future__ import annotations

import json

import pytest


def test_ping(run_module):
    assert run_module("zos_ping", {}) == (0, {"changed": False, "ping": "pong", "invocation": {"module_args": {}}})


@pytest.mark.parametrize("module_name,args", [
    ("zos_copy", {"src": "/tmp/a", "dest": "/tmp/b"}),
    ("zos_fetch", {"src": "/tmp/a", "dest": "/tmp/b"}),
    ("zos_encode", {"src": "/tmp/a"}),
    ("zos_script", {"cmd": "/bin/true"}),
    ("zos_operator", {"cmd": "d a"}),
    ("zos_find", {"patterns": ["A.*"]}),
    ("zos_ping", {}),
])
def test_modules_without_check_mode_are_skipped_by_ansiblemodule(run_module, module_name, args):
    args = dict(args, _ansible_check_mode=True)
    rc, result = run_module(module_name, args)
    assert rc == 0 and result["skipped"] is True and "does not support check mode" in result["msg"]


def test_content_is_never_echoed(run_module, tmp_path):
    rc, result = run_module("zos_copy", {"content": "password=hunter2\n", "dest": str(tmp_path / "secret"),
                                         "remote_src": True})
    assert rc == 0, result
    assert "hunter2" not in json.dumps(result)
    assert (tmp_path / "secret").read_text(encoding="utf-8") == "password=hunter2\n"


def test_stat_of_a_directory_needs_get_checksum_false(run_module, tmp_path):
    rc, result = run_module("zos_stat", {"name": str(tmp_path), "type": "file"})
    assert rc == 1 and "checksum of directory" in result["msg"]
    rc, result = run_module("zos_stat", {"name": str(tmp_path), "type": "file", "get_checksum": False})
    assert rc == 0 and result["stat"]["attributes"]["isdir"] is True and result["stat"]["attributes"]["checksum"] is None


def test_fetch_module_refuses_binary_with_encoding_even_without_the_action(run_module, tmp_path):
    log = tmp_path / "x.log"
    log.write_bytes(b"x\n")
    rc, result = run_module("zos_fetch", {"src": str(log), "dest": "/tmp", "binary": True,
                                          "encoding": {"from": "IBM-1047", "to": "UTF-8"}})
    assert rc == 1 and "refuses" in result["msg"] and log.read_bytes() == b"x\n"


def test_gather_facts_from_a_fixture_file(run_module, tmp_path):
    fixture = tmp_path / "zinfo.json"
    fixture.write_text(json.dumps({"sys": {"sys_name": "PORT01"}, "cpu": {"cpc_nd_model": "A02"}}), encoding="utf-8")
    rc, result = run_module("zos_gather_facts", {"gather_subset": ["sys"]}, IBM_ZOS_CORE_STANDIN_FACTS=str(fixture))
    assert rc == 0 and result["ansible_facts"] == {"sys_name": "PORT01"}
    rc, result = run_module("zos_gather_facts", {}, IBM_ZOS_CORE_STANDIN_FACTS=str(tmp_path / "missing.json"))
    assert rc == 1 and "missing.json" in result["msg"]


def test_mvs_raw_in_check_mode_answers_like_the_real_module(run_module):
    rc, result = run_module("zos_mvs_raw", {"program_name": "idcams", "_ansible_check_mode": True})
    assert rc == 0 and result["changed"] is True and result["ret_code"] == {"code": 0}
    rc, result = run_module("zos_mvs_raw", {"program_name": "idcams"})
    assert rc == 1 and "not available in the test stand-in" in result["msg"]


def test_an_unwritable_tag_registry_is_a_clear_failure_not_a_traceback(run_module, tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("abc\n", encoding="utf-8")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    rc, result = run_module("zos_copy", {"src": str(source), "dest": str(tmp_path / "b.txt"), "remote_src": True,
                                         "encoding": {"from": "UTF-8", "to": "IBM-1047"}},
                            IBM_ZOS_CORE_STANDIN_TAGS=str(blocker / "tags.json"))
    assert rc == 1 and "could not complete the task" in result["msg"] and "not-a-dir" in result["msg"]
