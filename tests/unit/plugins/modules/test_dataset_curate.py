from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.autoport.zos.plugins.modules import dataset_curate as module

_SPEC = importlib.util.spec_from_file_location("curation_samples", str(Path(__file__).resolve().parents[1] / "curation_samples.py"))
samples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(samples)


def run(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def records_file(tmp_path):
    path = tmp_path / "records" / "harvested.jsonl"
    path.parent.mkdir()
    with open(path, "w") as handle:
        for record in samples.sample_records():
            handle.write(json.dumps(record) + "\n")
        handle.write("garbage line\n")
    return path


def test_module_curates_then_reports_no_change(records_file, tmp_path, capsys):
    args = {"src": [str(records_file.parent)], "dest": str(tmp_path / "out"), "report": False, "test_ratio": 0.25}
    first = run(args, capsys)
    assert first["changed"] is True and not first.get("failed")
    assert first["counts"]["read"] == len(samples.sample_records()) + 1
    assert first["counts"]["kept"] + first["counts"]["rejected"] + first["counts"]["merged"] == first["counts"]["read"]
    assert first["rejected_by_kind"] == {"not JSON": 1}
    assert first["train_ports"] and first["test_ports"] and not set(first["train_ports"]) & set(first["test_ports"])
    assert Path(first["files"]["train_messages.jsonl"]).is_file()
    second = run(args, capsys)
    assert second["changed"] is False and second["changed_files"] == []


def test_module_check_mode_writes_nothing(records_file, tmp_path, capsys):
    result = run({"src": [str(records_file)], "dest": str(tmp_path / "out"), "report": False}, capsys, check_mode=True)
    assert result["changed"] is True and result["changed_files"]
    assert not (tmp_path / "out").exists()


def test_module_fails_clearly_on_a_missing_source(tmp_path, capsys):
    result = run({"src": [str(tmp_path / "absent")], "dest": str(tmp_path / "out")}, capsys)
    assert result["failed"] is True and str(tmp_path / "absent") in result["msg"]


def test_module_names_a_missing_library(records_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(module, "missing_libraries", lambda report=True: [("matplotlib", ImportError("No module named 'matplotlib'"))])
    result = run({"src": [str(records_file)], "dest": str(tmp_path / "out")}, capsys)
    assert result["failed"] is True and "matplotlib" in result["msg"]
    assert not (tmp_path / "out").exists()


def test_module_rejects_an_option_of_the_wrong_type(records_file, tmp_path, capsys):
    result = run({"src": [str(records_file)], "dest": str(tmp_path / "out"), "test_ratio": "lots"}, capsys)
    assert result["failed"] is True and "test_ratio" in result["msg"]
