from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.autoport.zos.plugins.modules import qna_render as module

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
def args(tmp_path):
    src = tmp_path / "train.jsonl"
    with open(src, "w") as handle:
        for record in samples.sample_records():
            handle.write(json.dumps(record) + "\n")
    return {"src": str(src), "taxonomy_dir": str(tmp_path / "taxonomy"), "docs_repo": str(tmp_path / "docs"), "licenses": {"zlibport": "Zlib"}}


def _commits(repo):
    return subprocess.run(["git", "-C", str(repo), "log", "--format=%H"], stdout=subprocess.PIPE, text=True, check=True).stdout.split()


def test_module_renders_commits_once_and_then_reports_no_change(args, tmp_path, capsys):
    first = run(args, capsys)
    assert first["changed"] is True and first["commit"] and not first.get("failed")
    kinds = sorted(set(leaf["kind"] for leaf in first["leaves"]))
    assert kinds == ["knowledge", "skills"]
    assert {s["category"] for s in first["left_out"]} == {"conflicting-declaration", "resource-limit"}
    assert "skipped" not in first
    leaf = next(leaf for leaf in first["leaves"] if leaf["kind"] == "knowledge")
    data = yaml.safe_load((tmp_path / "taxonomy" / leaf["path"]).read_text())
    assert data["document"]["commit"] == leaf["document_commit"] == _commits(tmp_path / "docs")[0]

    second = run(args, capsys)
    assert second["changed"] is False and second["commit"] is None
    assert _commits(tmp_path / "taxonomy") == [first["commit"]]


def test_module_check_mode_creates_nothing(args, tmp_path, capsys):
    result = run(args, capsys, check_mode=True)
    assert result["changed"] is True and result["commit"] is None
    assert not (tmp_path / "taxonomy").exists() and not (tmp_path / "docs").exists()


def test_module_needs_docs_repo_for_knowledge(args, capsys):
    del args["docs_repo"]
    result = run(args, capsys)
    assert result["failed"] is True and "docs_repo" in result["msg"]
    args["kinds"] = ["skills"]
    result = run(args, capsys)
    assert result["changed"] is True and all(leaf["kind"] == "skills" for leaf in result["leaves"])


def test_module_refuses_a_kind_it_does_not_know(args, capsys):
    args["kinds"] = ["skills", "recipes"]
    result = run(args, capsys)
    assert result["failed"] is True and "kinds" in result["msg"]
