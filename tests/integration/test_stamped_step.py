"""The stamped-step entry point of autoport.zos.ilab_env (used by every long ilab step).

A real ansible-playbook run around a small background job (run_async): the step runs once,
is skipped while its stamp matches, reports in check mode what would run, and runs again when
an input or a value changes or an output is gone. The figures stored with the stamp come from
ilab_env_run_result, the public result of run_async.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from playbook_harness import RunResult, assert_ok, run_playbook

pytestmark = pytest.mark.integration

PLAYBOOK = Path(__file__).resolve().parent / "fixtures" / "stamped_step" / "stamped_step.yml"
WORK = "Do the work: the copy step"


def _run(tmp_path: Path, name: str, suffix: str = "one", check: bool = False) -> RunResult:
    variables = {"stepfix_dir": str(tmp_path / "step"), "stepfix_suffix": suffix}
    return run_playbook(str(PLAYBOOK), variables, check=check, private_data_dir=str(tmp_path / name))


def _started(run: RunResult) -> list[str]:
    return [e["event_data"].get("task", "") for e in run.events if e.get("event") == "playbook_on_task_start"]


def _result(run: RunResult) -> dict[str, Any]:
    return run.task_results("Show the step's result")[0]["ilab_env_step_result"]


def test_a_stamped_step_runs_once_and_again_only_when_its_inputs_change(tmp_path: Path) -> None:
    step = tmp_path / "step"
    step.mkdir()
    (step / "input.txt").write_text("hello\n", encoding="utf-8")

    first = _run(tmp_path, "run1")
    assert_ok(first)
    assert WORK in _started(first) and "Start: copy" in _started(first)
    assert (step / "output.txt").read_text(encoding="utf-8") == "hello\none\n"
    assert _result(first)["ran"] is True and _result(first)["current"] is False
    stamp = json.loads((step / "stamps" / "copy.json").read_text(encoding="utf-8"))
    # The work stored run_async's public result with the stamp.
    assert stamp["extra"]["exit_code"] == 0 and isinstance(stamp["extra"]["seconds"], int)
    assert stamp["outputs"] == [str(step / "output.txt")]

    second = _run(tmp_path, "run2")
    assert_ok(second)
    assert second.changed == 0, second.changed_tasks()
    assert "Start: copy" not in _started(second)
    assert _result(second)["current"] is True and _result(second)["ran"] is False

    # A changed input: check mode says so, runs nothing and writes nothing.
    (step / "input.txt").write_text("bye\n", encoding="utf-8")
    check = _run(tmp_path, "run3", check=True)
    assert_ok(check)
    assert check.changed_tasks() == ["Check mode, would run: the copy step"]
    said = check.task_results("Check mode, would run: the copy step")[0]["msg"]
    assert said == "the copy step would run: inputs changed since the stamp was written"
    assert "Start: copy" not in _started(check)
    assert (step / "output.txt").read_text(encoding="utf-8") == "hello\none\n"
    assert json.loads((step / "stamps" / "copy.json").read_text(encoding="utf-8")) == stamp

    third = _run(tmp_path, "run4")
    assert_ok(third)
    assert (step / "output.txt").read_text(encoding="utf-8") == "bye\none\n"

    # A changed value, then a missing output, each make it run again.
    fourth = _run(tmp_path, "run5", suffix="two")
    assert_ok(fourth)
    assert (step / "output.txt").read_text(encoding="utf-8") == "bye\ntwo\n"
    (step / "output.txt").unlink()
    fifth = _run(tmp_path, "run6", suffix="two")
    assert_ok(fifth)
    assert "Start: copy" in _started(fifth)
    assert (step / "output.txt").read_text(encoding="utf-8") == "bye\ntwo\n"
