"""A port list entry is checked by the roles' argument specs (nested options), the name by one rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playbook_harness import RunResult, run_playbook

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PORT = REPO / "samples" / "ports" / "tinyprocport"


def _failures(run: RunResult) -> list[tuple[str, str]]:
    return [
        (e["event_data"].get("task", ""), str(e["event_data"].get("res", {}).get("msg", "")))
        for e in run.events
        if e.get("event") == "runner_on_failed" and not e["event_data"].get("ignore_errors")
    ]


def _mine(tmp_path: Path, ports: list[dict[str, Any]]) -> RunResult:
    variables = {"autoport_output_dir": str(tmp_path / "out"), "mine_ports": ports}
    return run_playbook("mine.yml", variables, private_data_dir=str(tmp_path / "run"))


@pytest.mark.parametrize(
    "entry, expected",
    [
        ({"name": "tinyprocport"}, "missing required arguments: src found in mine_ports"),
        ({"src": str(PORT)}, "missing required arguments: name found in mine_ports"),
        ({"name": "tinyprocport", "src": str(PORT), "buildline": "DEV"}, "buildline"),
        ({"name": "tinyprocport", "src": str(PORT), "build_line": "NEXT"}, "build_line must be one of: auto, STABLE, DEV"),
    ],
)
def test_a_malformed_port_entry_fails_validation_before_any_work(tmp_path: Path, entry: dict[str, Any], expected: str) -> None:
    run = _mine(tmp_path, [{"name": "tinyprocport", "src": str(PORT)}, entry])
    assert run.rc != 0
    failures = _failures(run)
    assert len(failures) == 1, failures
    task, message = failures[0]
    assert task == "Validate the variables against the stage roles' argument specs", failures
    assert expected in message, message
    assert not (tmp_path / "out").exists()


def test_a_port_name_that_cannot_be_a_folder_is_refused(tmp_path: Path) -> None:
    run = _mine(tmp_path, [{"name": "../escape", "src": str(PORT)}])
    assert run.rc != 0
    task, message = _failures(run)[0]
    assert task == "Check the port's name"
    assert '"../escape" is not usable' in message
    assert not list(tmp_path.rglob("escape.jsonl"))


def test_good_entries_pass(tmp_path: Path) -> None:
    run = _mine(tmp_path, [{"name": "tinyprocport", "src": str(PORT), "build_line": "auto"}])
    assert run.rc == 0, run.stdout[-3000:]
    assert (tmp_path / "out" / "mined" / "tinyprocport.jsonl").stat().st_size > 0
