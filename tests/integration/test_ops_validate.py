"""playbooks/tasks/validate_arguments.yml: a wrong or mistyped variable fails the first task, naming it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from playbook_harness import REPO, RunResult, run_playbook

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ops"
PLAYBOOK = FIXTURES / "playbooks" / "validated.yml"
VALIDATE = REPO / "playbooks" / "tasks" / "validate_arguments.yml"
GOOD = {"opsfix_collect_ports": [{"name": "zlib", "src": "/tmp/zlibport"}], "opsfix_collect_label": "nightly"}
STAGE_PLAYBOOKS = ("harvest", "mine", "curate", "taxonomy", "train")


def _run(tmp_path: Path, extravars: dict[str, Any], **kwargs: Any) -> RunResult:
    return run_playbook(str(kwargs.pop("playbook", PLAYBOOK)), extravars=extravars, private_data_dir=str(tmp_path / "run"), **kwargs)


def _failure(run: RunResult) -> tuple[str, str]:
    """(task name, message) of the first failed task."""
    for event in run.events:
        if event.get("event") == "runner_on_failed":
            data = event["event_data"]
            return data.get("task", ""), str(data.get("res", {}).get("msg", ""))
    raise AssertionError("nothing failed:\n%s" % run.stdout[-3000:])


def _role_tasks_ran(run: RunResult) -> list[str]:
    return [
        e["event_data"]["task"] for e in run.events
        if e.get("event") == "runner_on_ok" and e["event_data"].get("task") == "Record that the role ran"
    ]


def test_good_variables_pass_and_the_roles_run(tmp_path: Path) -> None:
    run = _run(tmp_path, dict(GOOD, opsfix_collect_timeout=60, opsfix_collect_phases=["make", "check"], opsfix_train_epochs=2))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.set_stats == {"opsfix_collect_ran": 1, "opsfix_train_ran": 1}


def test_roles_included_as_tasks_validate_without_their_defaults(tmp_path: Path) -> None:
    """A spec default the role templates at run time must not be type-checked literally."""
    playbook = FIXTURES / "playbooks" / "validated_dynamic.yml"
    run = _run(tmp_path, {}, playbook=playbook)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.set_stats == {"opsfix_train_ran": 1}
    run = _run(tmp_path, {"opsfix_train_workers": "many"}, playbook=playbook)
    assert run.rc != 0
    assert "argument 'opsfix_train_workers' is of type str" in _failure(run)[1]


def test_a_typo_fails_first_naming_the_variable(tmp_path: Path) -> None:
    run = _run(tmp_path, dict(GOOD, opsfix_collect_timout=60, opsfix_train_epoch=2))
    assert run.rc != 0
    task, message = _failure(run)
    assert task == "Reject unknown variables that carry a stage role prefix"
    assert "opsfix_collect_timout, opsfix_train_epoch" in message
    assert "opsfix_collect_timeout" in message  # the known names are listed to spot the right one
    assert _role_tasks_ran(run) == [] and run.set_stats == {}


def test_a_typo_in_inventory_group_vars_is_caught_too(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n", encoding="utf-8")
    (inventory / "group_vars" / "all" / "stage.yml").write_text("opsfix_collect_stratgy: cumulative\n", encoding="utf-8")
    run = _run(tmp_path, GOOD, inventory=str(inventory))
    assert run.rc != 0
    assert "opsfix_collect_stratgy" in _failure(run)[1]


@pytest.mark.parametrize(
    "extravars, expected",
    [
        ({"opsfix_collect_timeout": "soon"}, r"argument 'opsfix_collect_timeout' is of type str and we were unable to convert to int"),
        ({"opsfix_collect_strategy": "random"}, r"value of opsfix_collect_strategy must be one of: cumulative, leave_one_out, got: random"),
        ({"opsfix_collect_phases": ["make", "deploy"]}, r"opsfix_collect_phases must be one or more of: configure, make, check"),
        ({"opsfix_collect_label": None}, r"missing required arguments: opsfix_collect_label"),
    ],
)
def test_a_wrong_value_fails_naming_the_variable(tmp_path: Path, extravars: dict[str, Any], expected: str) -> None:
    variables = dict(GOOD)
    variables.update(extravars)
    if extravars.get("opsfix_collect_label", "") is None:
        del variables["opsfix_collect_label"]
    run = _run(tmp_path, variables)
    assert run.rc != 0
    task, message = _failure(run)
    assert task == "Validate the variables against the stage roles' argument specs"
    assert re.search(expected, message), message
    assert _role_tasks_ran(run) == []


def test_role_vars_and_other_prefixes_are_not_typos(tmp_path: Path) -> None:
    variables = dict(GOOD)
    variables.update({
        "opsfix_collect_internal_map": {"make": "x"},   # the role's own vars/main.yml
        "harvest_typo_of_another_stage": 1,             # not this stage's prefix
    })
    run = _run(tmp_path, variables)
    assert run.rc == 0, run.stdout[-3000:]


def test_validation_runs_even_when_tags_select_other_tasks(tmp_path: Path) -> None:
    run = _run(tmp_path, dict(GOOD, opsfix_collect_timout=1), tags="nothing_tagged_so")
    assert run.rc != 0
    assert "opsfix_collect_timout" in _failure(run)[1]


def test_a_role_without_spec_and_a_bad_role_list_are_reported(tmp_path: Path) -> None:
    playbook = tmp_path / "broken.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Broken stage", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Validate", "ansible.builtin.import_tasks": str(VALIDATE), "vars": {"autoport_stage_roles": "{{ stage_roles }}"}}],
    }]), encoding="utf-8")
    run = _run(tmp_path, {"stage_roles": ["opsfix_collect", "no_such_role"], "autoport_roles_dir": str(FIXTURES / "playbooks" / "roles")}, playbook=playbook)
    assert run.rc != 0
    assert "no_such_role/meta/argument_specs.yml" in _failure(run)[1]
    run = _run(tmp_path, {"stage_roles": "opsfix_collect"}, playbook=playbook)
    assert run.rc != 0
    assert "autoport_stage_roles must be a non-empty list of role names" in _failure(run)[1]


# ------------------------------------------------------------ the real stage playbooks


def _plays(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def _roles_of(play: dict[str, Any]) -> list[str]:
    names = []
    for role in play.get("roles", []):
        name = role if isinstance(role, str) else role.get("role") or role.get("name")
        names.append(name.split(".")[-1])
    for section in ("pre_tasks", "tasks", "post_tasks"):
        for task in play.get(section) or []:
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if key in task:
                    names.append(task[key]["name"].split(".")[-1])
    return names


def _validate_includes(play: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for section in ("pre_tasks", "tasks"):
        for task in play.get(section) or []:
            for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks", "import_tasks", "include_tasks"):
                if str(task.get(key, "")).endswith("validate_arguments.yml"):
                    found.append(task)
    return found


@pytest.mark.parametrize("stage", STAGE_PLAYBOOKS)
def test_each_stage_playbook_validates_first_with_its_own_roles(stage: str) -> None:
    path = REPO / "playbooks" / ("%s.yml" % stage)
    if not path.is_file():
        pytest.skip("playbooks/%s.yml is not written yet" % stage)
    plays = [play for play in _plays(path) if "hosts" in play]
    if not any(_validate_includes(play) for play in plays):
        pytest.skip("playbooks/%s.yml does not include tasks/validate_arguments.yml yet" % stage)
    for play in plays:
        includes = _validate_includes(play)
        assert len(includes) == 1, "%s: play %r must validate once" % (path.name, play.get("name"))
        first = (play.get("pre_tasks") or play.get("tasks"))[0]
        assert first is includes[0], "%s: the validation must be the first task" % path.name
        assert "always" in (first.get("tags") or []), "%s: the validation must run whatever --tags says" % path.name
        assert set(first["vars"]["autoport_stage_roles"]) == set(_roles_of(play)), path.name


def test_a_typo_on_a_real_stage_fails_before_any_role_task(tmp_path: Path) -> None:
    path = REPO / "playbooks" / "mine.yml"
    if not path.is_file() or not any(_validate_includes(p) for p in _plays(path) if "hosts" in p):
        pytest.skip("playbooks/mine.yml does not include tasks/validate_arguments.yml yet")
    run = run_playbook("mine.yml", extravars={"mine_ports": [], "mine_output_dri": str(tmp_path)}, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    task, message = _failure(run)
    assert task == "Reject unknown variables that carry a stage role prefix" and "mine_output_dri" in message
    assert not [e for e in run.events if e.get("event") == "runner_on_ok" and e["event_data"].get("role") == "mine"]
