"""scripts/autoport_run.py without a run: inputs, secrets, events to progress lines and JUnit."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "autoport_run.py"


@pytest.fixture(scope="module")
def run_mod():
    spec = importlib.util.spec_from_file_location("autoport_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["autoport_run"] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ -e parsing


def test_extra_vars_merge_in_order_like_ansible(run_mod, tmp_path: Path) -> None:
    vars_file = tmp_path / "ports.yml"
    vars_file.write_text("harvest_ports:\n  - {name: zlib, src: https://example.invalid/zlibport.git}\nharvest_strategy: cumulative\n", encoding="utf-8")
    merged = run_mod.parse_extra_vars([
        "@%s" % vars_file,
        "harvest_strategy=leave_one_out 'label=two words'",
        '{"harvest_build_timeout": 60}',
    ])
    assert merged == {
        "harvest_ports": [{"name": "zlib", "src": "https://example.invalid/zlibport.git"}],
        "harvest_strategy": "leave_one_out",
        "label": "two words",
        "harvest_build_timeout": 60,
    }


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"- a\n- b\n", "must be a mapping"),
        (b"key: [unclosed\n", "not valid YAML/JSON"),
        (b"\xc1\xc2\xc3\x40\x85\x89\x93\x85", "not UTF-8"),  # EBCDIC bytes
    ],
)
def test_bad_vars_files_name_the_file(run_mod, tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "vars.yml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(run_mod.UsageError) as err:
        run_mod.parse_extra_vars(["@%s" % path])
    assert message in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("item", ["novalue", "9bad=1", "a b=1"])
def test_malformed_key_value_is_refused(run_mod, item: str) -> None:
    with pytest.raises(run_mod.UsageError, match="expected name=value"):
        run_mod.parse_extra_vars([item])


# ------------------------------------------------------------ secrets


def test_secret_values_found_by_name_at_any_depth(run_mod) -> None:
    extravars = {
        "harvest_strategy": "cumulative",
        "zos_password": "pw-123456",
        "creds": {"api_token": "tok-abcdef", "user": "portbld"},
        "hosts": [{"ssh_key_data": "-----BEGIN KEY-----xyz"}],
        "my_var": "plainvalue",
        "short_secret": "abc",  # too short to redact everywhere
        "ssh_key_file": "/home/ci/.ssh/id_ed25519",  # a path, not a secret
    }
    environ = {"HOME": "/root", "GITHUB_TOKEN": "ghp_0123456789", "HTTPS_PROXY": "http://u:p4ss@proxy:3128"}
    found = run_mod.secret_values(extravars, environ, extra_secret_names=["my_var"])
    assert found == {"pw-123456", "tok-abcdef", "-----BEGIN KEY-----xyz", "plainvalue", "ghp_0123456789", "http://u:p4ss@proxy:3128"}


def test_run_environment_drops_secret_names_unless_passed(run_mod) -> None:
    environ = {
        "PATH": "/bin", "HOME": "/root", "LC_ALL": "C", "ANSIBLE_CONFIG": "/x/ansible.cfg",
        "AWS_SECRET_ACCESS_KEY": "s", "GITHUB_TOKEN": "t", "HF_TOKEN": "hf", "RANDOM_TOOL_SETTING": "1",
        "ANSIBLE_VAULT_PASSWORD_FILE": "/x/vault-pass",
    }
    env = run_mod.run_environment(environ, pass_env=["HF_TOKEN"])
    assert env == {
        "PATH": "/bin", "HOME": "/root", "LC_ALL": "C", "ANSIBLE_CONFIG": "/x/ansible.cfg", "HF_TOKEN": "hf",
        "ANSIBLE_VAULT_PASSWORD_FILE": "/x/vault-pass",  # a path to the secret, not the secret
    }


def test_redactor_covers_plain_and_json_escaped_forms(run_mod) -> None:
    secret = 'pa"ss\\wörd'
    redactor = run_mod.Redactor([secret])
    as_json = json.dumps({"msg": "login with %s failed" % secret})
    assert secret not in redactor.text("x %s y" % secret)
    assert json.loads(redactor.text(as_json)) == {"msg": "login with ******** failed"}
    assert redactor.blob(json.dumps(secret, ensure_ascii=True).encode()) == b'"********"'
    assert redactor.data({"k": [secret, 3]}) == {"k": ["********", 3]}


def test_scrub_removes_stored_environment_and_secret_values(run_mod, tmp_path: Path) -> None:
    pdd = tmp_path / "runner"
    art = pdd / "artifacts" / "abc"
    (art / "job_events").mkdir(parents=True)
    (pdd / "env").mkdir()
    (pdd / "env" / "envvars").write_text('{"TOKEN": "tok-abcdef"}', encoding="utf-8")
    stored = {"command": ["ansible-playbook", "x.yml"], "cwd": "/w", "env": {"API_TOKEN": "tok-abcdef", "OTHER": "v"}}
    (art / "command").write_text(json.dumps(stored), encoding="utf-8")
    (art / "job_events" / "1.json").write_text(json.dumps({"stdout": "got tok-abcdef"}), encoding="utf-8")
    (art / "stdout").write_bytes(b"binary \x00\xff tok-abcdef end")
    os.chmod(art / "stdout", 0o600)
    (art / "rc").write_text("0", encoding="utf-8")

    changed = run_mod.scrub_private_data_dir(pdd, run_mod.Redactor(["tok-abcdef"]))

    assert not (pdd / "env").exists()
    assert json.loads((art / "command").read_text(encoding="utf-8")) == {"command": ["ansible-playbook", "x.yml"], "cwd": "/w"}
    for path in pdd.rglob("*"):
        if path.is_file():
            assert b"tok-abcdef" not in path.read_bytes(), path
    assert (art / "stdout").read_bytes() == b"binary \x00\xff ******** end"
    assert (art / "stdout").stat().st_mode & 0o777 == 0o600
    assert str(art / "rc") not in changed


# ------------------------------------------------------------ events


def _events(task_results):
    """A minimal ansible-runner event stream: one play, tasks with per-host results, stats."""
    yield {"event": "playbook_on_play_start", "event_data": {"play": "Harvest fix records"}}
    for task, role, results in task_results:
        yield {"event": "playbook_on_task_start", "event_data": {"task": task, "role": role}}
        for kind, host, res, extra in results:
            data = {"host": host, "res": res}
            data.update(extra)
            yield {"event": kind, "event_data": data}
    yield {
        "event": "playbook_on_stats",
        "event_data": {
            "ok": {"zos1": 3, "zos2": 2}, "changed": {"zos1": 1}, "failures": {"zos2": 1}, "dark": {},
            "skipped": {"zos1": 1, "zos2": 1}, "rescued": {}, "ignored": {"zos1": 1},
            "artifact_data": {"autoport_harvest_ports": 2, "autoport_records": 17, "report": "output/report.md"},
        },
    }


def _tracked(run_mod, secrets=()):
    lines = []
    ticks = iter(float(i) for i in range(1000))
    tracker = run_mod.ProgressTracker("harvest", run_mod.Redactor(secrets), lines.append, clock=lambda: next(ticks))
    for event in _events([
        ("Gathering Facts", None, [("runner_on_ok", "zos1", {}, {}), ("runner_on_ok", "zos2", {}, {})]),
        ("Replay patches", "harvest", [
            ("runner_on_ok", "zos1", {"changed": True}, {}),
            ("runner_on_failed", "zos2", {"msg": "build of zlib failed: CCN3045 with pw-secret-1"}, {}),
        ]),
        ("Optional cleanup", "harvest", [("runner_on_failed", "zos1", {"msg": "no such dir"}, {"ignore_errors": True})]),
        ("Only on z/OS", "harvest", [("runner_on_skipped", "zos1", {}, {}), ("runner_on_skipped", "zos2", {}, {})]),
        ("Fetch logs", "harvest", [("runner_on_unreachable", "zos1", {"msg": "ssh: connect timed out"}, {})]),
    ]):
        assert tracker(event) is True
    return tracker, lines


def test_one_progress_line_per_task_with_counts_and_failures(run_mod) -> None:
    tracker, lines = _tracked(run_mod, secrets=["pw-secret-1"])
    task_lines = [line for line in lines if " #" in line]
    assert len(task_lines) == 5
    assert "#1 ok      Gathering Facts  (ok=2 changed=0 failed=0" in task_lines[0]
    assert "#2 FAILED  harvest : Replay patches  (ok=1 changed=1 failed=1" in task_lines[1]
    assert "#3 ok      harvest : Optional cleanup" in task_lines[2] and "ignored=1" in task_lines[2]
    assert "#4 skipped harvest : Only on z/OS" in task_lines[3]
    assert "#5 FAILED  harvest : Fetch logs" in task_lines[4] and "unreachable=1" in task_lines[4]
    assert any("failed on zos2: build of zlib failed: CCN3045 with ********" in line for line in lines)
    assert not any("pw-secret-1" in line for line in lines)
    assert tracker.set_stats["autoport_records"] == 17
    assert tracker.host_stats["zos2"] == {"ok": 2, "changed": 0, "failures": 1, "unreachable": 0, "skipped": 1, "rescued": 0, "ignored": 0}
    assert run_mod.numeric_counts(tracker.set_stats) == {"autoport_harvest_ports": 2, "autoport_records": 17}


def test_junit_has_one_testcase_per_task_and_failures_as_failures(run_mod, tmp_path: Path) -> None:
    tracker = _tracked(run_mod, secrets=["pw-secret-1"])[0]
    path = tmp_path / "junit.xml"
    run_mod.write_junit(path, "harvest", tracker.tasks, 12.5, "2026-01-01T00:00:00+00:00")
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("name") == "autoport.harvest"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "Gathering Facts", "harvest : Replay patches", "harvest : Optional cleanup", "harvest : Only on z/OS", "harvest : Fetch logs",
    ]
    assert all(c.get("classname") == "autoport.harvest.Harvest fix records" for c in cases)
    failure = cases[1].find("failure")
    assert failure.get("type") == "failed" and "zos2" in failure.get("message")
    assert "CCN3045 with ********" in failure.text and "pw-secret-1" not in path.read_text(encoding="utf-8")
    assert cases[2].find("failure") is None  # ignore_errors is not a failure
    assert cases[3].find("skipped") is not None
    assert cases[4].find("failure").get("type") == "unreachable"


def test_unknown_stage_and_missing_playbook_are_usage_errors(run_mod, tmp_path: Path) -> None:
    with pytest.raises(run_mod.UsageError, match="unknown stage 'deploy'"):
        run_mod.resolve_playbook("deploy", None, None)
    with pytest.raises(run_mod.UsageError, match="not found"):
        run_mod.resolve_playbook("mine", None, str(tmp_path))
    (tmp_path / "mine.yml").write_text("---\n", encoding="utf-8")
    assert run_mod.resolve_playbook("mine", None, str(tmp_path)) == (tmp_path / "mine.yml").resolve()


def test_exit_status(run_mod) -> None:
    assert run_mod.exit_status({"status": "successful", "rc": 0}) == 0
    assert run_mod.exit_status({"status": "failed", "rc": 2}) == 2
    assert run_mod.exit_status({"status": "timeout", "rc": 0}) == 1
    assert run_mod.exit_status({"status": "canceled", "rc": None}) == 1


def test_store_summary_takes_the_store_and_the_chain_from_set_stats(run_mod) -> None:
    stats = {"autoport_store_location": "path /runner/store", "curate_kept": 3,
             "autoport_runs": {"curate": {"inputs": {"harvest": "sha256:aa"}, "outputs": {"curated": "sha256:bb"}, "code_commit": "c1"}}}
    assert run_mod.store_summary(stats) == {"location": "path /runner/store", "runs": stats["autoport_runs"]}
    assert run_mod.store_summary({"curate_kept": 3}) == {"location": None, "runs": {}}
    assert run_mod.store_summary({"autoport_runs": "not a dict"})["runs"] == {}
