"""The patch_replay module: documented interface, check mode, a real harvest, idempotence, failures."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.autoport.zos.plugins.module_utils.record import read_records
from ansible_collections.autoport.zos.plugins.modules import patch_replay

_SPEC = importlib.util.spec_from_file_location("module_docs", str(Path(__file__).resolve().parents[1] / "module_docs.py"))
_DOCS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_DOCS)

REPO = Path(__file__).resolve().parents[4]
PORT = REPO / "samples" / "ports" / "tinyprocport"
MIRROR = REPO / "samples" / "mirror"


def run(args, capsys, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            patch_replay.main()
    return json.loads(capsys.readouterr().out)


def test_documentation_matches_the_argument_spec():
    # As ansible-doc shows it: the shared port options come from the autoport.zos.port fragment.
    doc = _DOCS.ansible_doc("patch_replay")["patch_replay"]
    spec = patch_replay.argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, option in doc["options"].items():
        assert option["type"] == spec[name]["type"], name
        assert option.get("default") == spec[name].get("default"), name
        assert option.get("choices") == spec[name].get("choices"), name
        assert bool(option.get("required")) == bool(spec[name].get("required")), name
    assert doc["version_added"] == "0.1.0"
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["platform"]["platforms"] == ["posix", "zos"]
    yaml.safe_load(patch_replay.EXAMPLES)


@pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="needs cc, make and git")
def test_check_mode_then_harvest_then_no_change(tmp_path, capsys):
    work = tmp_path / "work"
    args = {"port_dir": str(PORT), "work_dir": str(work), "mirror_dir": str(MIRROR), "system": {"sys": "test"}}

    preview = run(args, capsys, check_mode=True)
    assert preview["changed"] is True and preview["builds"] == 0 and preview["builds_remaining"] == 5
    assert not work.exists()

    first = run(args, capsys)
    assert first["changed"] is True and first["builds"] == 5 and first["resumed"] is False
    documented = set(yaml.safe_load(patch_replay.RETURN))
    assert set(first) - {"changed", "invocation", "warnings"} <= documented
    assert [item["outcome"] for item in first["patches"]] == ["fixed"] * 4
    records = [item[1] for item in read_records(first["records_file"])]
    assert len(records) == first["records"] == first["records_written"]
    assert {record["system"]["sys"] for record in records} == {"test"}
    assert first["warnings_found"] == []

    second = run(args, capsys)
    assert second["changed"] is False and second["builds"] == 0 and second["records_written"] == 0


def test_failure_names_the_port(tmp_path, capsys):
    port = tmp_path / "nobuildenvport"
    port.mkdir()
    result = run({"port_dir": str(port), "work_dir": str(tmp_path / "work")}, capsys)
    assert result["failed"] is True
    assert "nobuildenvport: no buildenv in %s" % port in result["msg"]


def test_bad_choice_is_refused_by_the_argument_spec(tmp_path, capsys):
    result = run({"port_dir": str(PORT), "work_dir": str(tmp_path), "strategy": "bisect"}, capsys)
    assert result["failed"] is True and "strategy" in result["msg"]
