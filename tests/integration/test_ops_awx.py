"""AWX as code: the data in awx/ against the role argument specs and the playbooks, and awx_configure.yml."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from playbook_harness import COLLECTIONS, REPO, STANDIN, run_playbook

AWX = REPO / "awx"
BIN = Path(sys.executable).parent
FIXTURE_ROLES = Path(__file__).resolve().parent / "fixtures" / "ops" / "playbooks" / "roles"
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
SECRET_INPUTS = {"password", "ssh_key_data", "ssh_key_unlock", "become_password", "token", "hf_token", "secret", "vault_password"}


@pytest.fixture(scope="module")
def survey_mod():
    spec = importlib.util.spec_from_file_location("autoport_survey_spec", AWX / "survey_spec.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=None)
def _data() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(AWX.glob("*.yml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


def _job_templates() -> list[dict[str, Any]]:
    return _data()["autoport_awx_job_templates"]


def _role_options(role: str, roles_dir: Path = REPO / "roles") -> dict[str, Any]:
    path = roles_dir / role / "meta" / "argument_specs.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]["main"].get("options") or {}


def _env() -> dict[str, str]:
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, STANDIN), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))


def _need_awx_collection() -> None:
    listing = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "awx.awx"], capture_output=True, text=True, env=_env(), check=False)
    if "awx.awx" not in listing.stdout:
        pytest.skip("awx.awx is not installed: pip install -r requirements/ops.in -c requirements/constraints.txt -c requirements/ops-constraints.txt")


# ------------------------------------------------------------ surveys from argument specs


def test_survey_maps_each_kind_of_option(survey_mod) -> None:
    survey = survey_mod.survey_from_specs(FIXTURE_ROLES, ["opsfix_collect", "opsfix_train"], name="fx")
    questions = {q["variable"]: q for q in survey["spec"]}
    assert survey["not_in_survey"] == ["opsfix_collect_env", "opsfix_collect_ports"]
    expected_options = set(_role_options("opsfix_collect", FIXTURE_ROLES)) | {"opsfix_train_epochs", "opsfix_train_workers"}
    assert set(questions) | set(survey["not_in_survey"]) == expected_options
    assert questions["opsfix_collect_strategy"] == {
        "variable": "opsfix_collect_strategy", "question_name": "Opsfix collect strategy", "question_description": "How to collect.",
        "required": False, "type": "multiplechoice", "choices": ["cumulative", "leave_one_out"], "default": "leave_one_out",
    }
    assert (questions["opsfix_collect_timeout"]["type"], questions["opsfix_collect_timeout"]["default"]) == ("integer", 900)
    assert (questions["opsfix_collect_ratio"]["type"], questions["opsfix_collect_ratio"]["default"]) == ("float", 0.5)
    assert questions["opsfix_collect_fail_fast"]["choices"] == ["true", "false"] and questions["opsfix_collect_fail_fast"]["default"] == "false"
    assert questions["opsfix_collect_phases"]["type"] == "multiselect" and questions["opsfix_collect_phases"]["default"] == "make"
    # A templated default means nothing to AWX: no default, and the description says what blank does.
    assert "default" not in questions["opsfix_collect_output_dir"]
    assert "(blank: {{ autoport_output_dir }}/collect)" in questions["opsfix_collect_output_dir"]["question_description"]
    assert questions["opsfix_collect_label"]["required"] is True and questions["opsfix_collect_label"]["type"] == "text"
    assert questions["opsfix_train_epochs"]["default"] == 1
    assert questions["opsfix_train_workers"]["type"] == "integer" and "default" not in questions["opsfix_train_workers"]


def test_survey_refuses_bad_roles(survey_mod, tmp_path: Path) -> None:
    with pytest.raises(survey_mod.SurveySpecError, match="has no argument spec"):
        survey_mod.survey_from_specs(FIXTURE_ROLES, ["nope"])
    with pytest.raises(survey_mod.SurveySpecError, match="invalid role name"):
        survey_mod.survey_from_specs(FIXTURE_ROLES, ["../etc"])
    (tmp_path / "broken" / "meta").mkdir(parents=True)
    (tmp_path / "broken" / "meta" / "argument_specs.yml").write_bytes(b"argument_specs: [\x00\xff")
    with pytest.raises(survey_mod.SurveySpecError, match="cannot read the argument spec"):
        survey_mod.survey_from_specs(tmp_path, ["broken"])
    shutil.copytree(FIXTURE_ROLES / "opsfix_train", tmp_path / "twin")
    with pytest.raises(survey_mod.SurveySpecError, match="declared by both"):
        survey_mod.survey_from_specs(tmp_path, ["twin", "twin"])


@pytest.mark.parametrize("template", _job_templates(), ids=lambda t: t["name"])
def test_each_job_template_survey_covers_its_roles_specs_one_to_one(survey_mod, template: dict[str, Any]) -> None:
    missing = [r for r in template["stage_roles"] if not (REPO / "roles" / r / "meta" / "argument_specs.yml").is_file()]
    if missing:
        pytest.skip("roles without an argument spec yet: %s" % ", ".join(missing))
    survey = survey_mod.survey_from_specs(REPO / "roles", template["stage_roles"], name=template["name"])
    variables = [q["variable"] for q in survey["spec"]]
    options = {}
    for role in template["stage_roles"]:
        options.update(_role_options(role))
    assert len(variables) == len(set(variables))
    assert sorted(variables + survey["not_in_survey"]) == sorted(options)
    for question in survey["spec"]:
        option = options[question["variable"]]
        assert question["type"] in SURVEY_TYPES
        assert question["required"] == bool(option.get("required", False)), question["variable"]
        if option.get("choices"):
            assert question["choices"] == [str(c) for c in option["choices"]]
    for name in survey["not_in_survey"]:
        assert options[name].get("type") in ("list", "dict"), name


# ------------------------------------------------------------ data against playbooks and itself


def _play_roles(play: dict[str, Any]) -> list[str]:
    names = [(r if isinstance(r, str) else r.get("role") or r.get("name")) for r in play.get("roles", [])]
    for section in ("pre_tasks", "tasks", "post_tasks"):
        for task in play.get(section) or []:
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if key in task:
                    names.append(task[key]["name"])
    return [name.split(".")[-1] for name in names]


def _playbook_roles(path: Path) -> set[str]:
    """Every role a playbook runs, following import_playbook."""
    roles: set[str] = set()
    for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        imported = play.get("ansible.builtin.import_playbook") or play.get("import_playbook")
        if imported:
            target = path.parent / imported
            if not target.is_file():
                pytest.skip("%s imports %s, which is not written yet" % (path.name, target.name))
            roles |= _playbook_roles(target)
        else:
            roles |= set(_play_roles(play))
    return roles


@pytest.mark.parametrize("template", _job_templates(), ids=lambda t: t["name"])
def test_job_template_stage_roles_are_the_roles_its_playbook_runs(template: dict[str, Any]) -> None:
    path = REPO / template["playbook"]
    if not path.is_file():
        pytest.skip("%s is not written yet" % template["playbook"])
    assert len(set(template["stage_roles"])) == len(template["stage_roles"])
    assert set(template["stage_roles"]) == _playbook_roles(path)


def test_every_stage_has_a_job_template_and_names_are_unique() -> None:
    templates = _job_templates()
    assert sorted(t["stage"] for t in templates) == sorted(["harvest", "mine", "curate", "taxonomy", "train", "site"])
    assert len({t["name"] for t in templates}) == len(templates)
    assert all(t["playbook"] == "playbooks/%s.yml" % t["stage"] for t in templates)


def test_workflow_chains_the_stages_through_existing_templates() -> None:
    names = {t["name"] for t in _job_templates()}
    for workflow in _data()["autoport_awx_workflows"]:
        nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
        edges = {i: [s["identifier"] for s in n.get("related", {}).get("success_nodes", [])] for i, n in nodes.items()}
        for node in nodes.values():
            assert node["unified_job_template"]["name"] in names
            assert node["unified_job_template"]["type"] == "job_template"
        assert all(target in nodes for targets in edges.values() for target in targets)
        parents = {i: [p for p, targets in edges.items() if i in targets] for i in nodes}
        roots = sorted(i for i in nodes if not parents[i])
        assert roots == ["harvest", "mine"]
        # Acyclic, and everything runs in stage order: a topological walk reaches every node.
        order, ready = [], list(roots)
        remaining = {i: len(p) for i, p in parents.items()}
        while ready:
            node = ready.pop(0)
            order.append(node)
            for target in edges[node]:
                remaining[target] -= 1
                if remaining[target] == 0:
                    ready.append(target)
        assert sorted(order) == sorted(nodes)
        assert order.index("curate") < order.index("taxonomy") < order.index("train")
        assert nodes["curate"]["all_parents_must_converge"] is True
        assert workflow["inventory"] in {i["name"] for i in _data()["autoport_awx_inventories"]}


def test_credentials_carry_no_secret_and_are_referenced_correctly() -> None:
    data = _data()
    types = {t["name"] for t in data["autoport_awx_credential_types"]} | {"Machine", "Source Control"}
    credentials = {c["name"]: c for c in data["autoport_awx_credentials"]}
    for credential in credentials.values():
        assert credential["credential_type"] in types
        assert not SECRET_INPUTS & set(credential.get("inputs", {})), credential["name"]
    for credential_type in data["autoport_awx_credential_types"]:
        for field in credential_type["inputs"]["fields"]:
            if field["id"] in SECRET_INPUTS:
                assert field.get("secret") is True, field["id"]
    for template in _job_templates():
        assert set(template["credentials"]) <= set(credentials), template["name"]
    machine = {c["name"] for c in credentials.values() if c["credential_type"] == "Machine"}
    assert {"autoport z/OS build host", "autoport AI host"} <= machine
    for path in AWX.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN" not in text and "PRIVATE KEY" not in text, path


def test_inventory_source_is_a_folder_of_the_project() -> None:
    for inventory in _data()["autoport_awx_inventories"]:
        for source in inventory["sources"]:
            assert source["source"] == "scm"
            folder = REPO / source["source_path"]
            assert folder.is_dir() and (folder / "hosts.yml").is_file(), source["source_path"]


# ------------------------------------------------------------ playbooks/awx_configure.yml


def test_awx_configure_passes_syntax_check_with_awx_awx() -> None:
    _need_awx_collection()
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", str(REPO / "playbooks" / "awx_configure.yml")],
        capture_output=True, text=True, env=_env(), cwd=str(REPO), check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@lru_cache(maxsize=None)
def _module_options(module: str) -> set[str]:
    out = subprocess.run([str(BIN / "ansible-doc"), "--json", "-t", "module", module], capture_output=True, text=True, env=_env(), check=True).stdout
    return set(json.loads(out)[module]["doc"]["options"])


def _tasks(tasks: list[dict[str, Any]]):
    for task in tasks or []:
        yield task
        yield from _tasks(task.get("block"))


def test_awx_configure_uses_only_real_awx_awx_options() -> None:
    _need_awx_collection()
    play = yaml.safe_load((REPO / "playbooks" / "awx_configure.yml").read_text(encoding="utf-8"))[0]
    used = []
    for task in _tasks(play.get("pre_tasks", []) + play.get("tasks", [])):
        for key, args in task.items():
            if key.startswith("awx.awx."):
                used.append(key)
                unknown = set(args) - _module_options(key)
                assert not unknown, "%s: %s are not options of %s" % (task["name"], sorted(unknown), key)
                if key == "awx.awx.credential":
                    # Secret inputs pass through this task: nothing of it may be logged.
                    assert task.get("no_log") is True and args.get("update_secrets") is False
    assert sorted(set(used)) == sorted("awx.awx.%s" % m for m in (
        "execution_environment", "credential_type", "credential", "project", "inventory", "inventory_source",
        "job_template", "workflow_job_template", "instance_group"))


def test_render_applies_surveys_from_the_specs_and_no_secret(survey_mod, tmp_path: Path) -> None:
    """A real run of awx_configure.yml in render mode, on a copy of the data pointed at the fixture roles."""
    awx_copy = tmp_path / "awx"
    shutil.copytree(AWX, awx_copy, ignore=shutil.ignore_patterns("__pycache__"))
    template = {"name": "fx collect", "description": "fixture", "stage": "collect", "playbook": "playbooks/fx.yml",
                "stage_roles": ["opsfix_collect", "opsfix_train"], "credentials": ["autoport AI host"], "timeout": 60}
    (awx_copy / "job_templates.yml").write_text(yaml.safe_dump({"autoport_awx_job_templates": [template]}), encoding="utf-8")
    render = tmp_path / "objects.json"
    run = run_playbook(
        "awx_configure.yml",
        extravars={"autoport_awx_scm_url": "https://git.example.invalid/autoport.git", "autoport_awx_render_file": str(render),
                   "autoport_awx_dir": str(awx_copy), "autoport_awx_roles_dir": str(FIXTURE_ROLES)},
        private_data_dir=str(tmp_path / "run"),
        envvars={"AUTOPORT_HF_TOKEN": "hf-render-must-not-show-1234"},
    )
    assert run.rc == 0, run.stdout[-3000:]
    objects = json.loads(render.read_text(encoding="utf-8"))
    expected = survey_mod.survey_from_specs(FIXTURE_ROLES, template["stage_roles"], name="fx collect",
                                            description="Options of opsfix_collect, opsfix_train")
    rendered = objects["job_templates"][0]
    assert rendered["survey_spec"] == {k: expected[k] for k in ("name", "description", "spec")}
    assert rendered["survey_enabled"] is True and rendered["ask_variables_on_launch"] is True
    assert (rendered["project"], rendered["playbook"], rendered["inventory"]) == ("autoport", "playbooks/fx.yml", "autoport")
    assert rendered["execution_environment"] == "autoport-zos-ee" and rendered["credentials"] == ["autoport AI host"]
    assert objects["project"]["scm_url"] == "https://git.example.invalid/autoport.git"
    assert objects["credential_types"][0]["injectors"]["env"]["HF_TOKEN"] == "{{ hf_token }}"
    assert "hf-render-must-not-show-1234" not in render.read_text(encoding="utf-8")
    # Every job runs in the container group that mounts the store, and gets the store's variables.
    assert rendered["instance_groups"] == ["autoport store"] and rendered["extra_vars"] == {"autoport_store": {"type": "path", "path": "/runner/store"}}
    assert "claimName: autoport-store" in objects["container_group"]["pod_spec_override"]
    # Same data, same objects: a second apply (and a --check one) changes nothing.
    extravars = {"autoport_awx_scm_url": "https://git.example.invalid/autoport.git", "autoport_awx_render_file": str(render),
                 "autoport_awx_dir": str(awx_copy), "autoport_awx_roles_dir": str(FIXTURE_ROLES)}
    again = run_playbook("awx_configure.yml", extravars=extravars, private_data_dir=str(tmp_path / "again"))
    check = run_playbook("awx_configure.yml", extravars=extravars, private_data_dir=str(tmp_path / "check"), check=True)
    assert (again.rc, again.changed, check.rc, check.changed) == (0, 0, 0, 0), again.changed_tasks() + check.changed_tasks()
    # What the playbook itself printed (the test harness's own `command` artifact stores its environment).
    for path in [Path(run.artifacts_dir) / "stdout"] + list((Path(run.artifacts_dir) / "job_events").glob("*.json")):
        assert b"hf-render-must-not-show-1234" not in path.read_bytes(), path


def test_a_missing_scm_url_fails_before_anything_is_applied(tmp_path: Path) -> None:
    run = run_playbook("awx_configure.yml", extravars={"autoport_awx_render_file": str(tmp_path / "x.json")},
                       private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    failed = [e["event_data"] for e in run.events if e.get("event") == "runner_on_failed"]
    assert failed and failed[0]["task"] == "Validate the inputs of the AWX configuration"
    assert "autoport_awx_scm_url" in str(failed[0]["res"].get("msg"))
    assert not (tmp_path / "x.json").exists()
