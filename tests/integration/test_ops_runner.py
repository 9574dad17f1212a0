"""scripts/autoport_run.py running real playbooks: progress, run summary, JUnit, exit status, no secrets left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from playbook_harness import COLLECTIONS, REPO, STANDIN

SCRIPT = REPO / "scripts" / "autoport_run.py"
STAGE = Path(__file__).resolve().parent / "fixtures" / "ops" / "playbooks" / "runner_stage.yml"
SECRETS = {
    "zos_password": "zos-pw-7f3a9c1e",
    "api_token": "tok-5b2d8e4f06",
    "HF_TOKEN": "hf_passed_on_purpose_91ab",
    "DB_PASSWORD": "db-pw-never-passed-3c7d",
    "AUTOPORT_FAKE_TOKEN": "fake-token-never-passed-88e1",
}


def _run(args: list[str], env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, STANDIN))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(SCRIPT)] + args, capture_output=True, text=True, env=env, timeout=300, check=False)


def _vars_dirs() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("autoport-run-vars-")}


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory):
    """One real run with secrets in the environment and in extra vars marked secret by name."""
    work = tmp_path_factory.mktemp("runner")
    before = _vars_dirs()
    proc = _run(
        [
            "harvest", "--playbook", str(STAGE), "-o", str(work / "out"), "--pass-env", "HF_TOKEN",
            "-e", "fixture_dir=%s" % work,
            "-e", json.dumps({"zos_password": SECRETS["zos_password"], "api_token": SECRETS["api_token"]}),
        ],
        env_extra={k: SECRETS[k] for k in ("HF_TOKEN", "DB_PASSWORD", "AUTOPORT_FAKE_TOKEN")},
    )
    return work, proc, before


def test_success_prints_progress_and_writes_summary_and_junit(secret_run) -> None:
    work, proc = secret_run[:2]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "marker.txt").read_text(encoding="utf-8") == "stage ran\n"
    task_lines = [line for line in proc.stdout.splitlines() if " harvest #" in line]
    assert len(task_lines) == 7, proc.stdout
    assert "changed Write the marker file" in task_lines[1]
    assert "skipped Only on z/OS" in task_lines[4]
    assert "autoport_records=17" in proc.stdout.splitlines()[-2]

    summary = json.loads((work / "out" / "run-summary.json").read_text(encoding="utf-8"))
    assert summary["stage"] == "harvest" and summary["status"] == "successful" and summary["rc"] == 0
    assert summary["hosts"]["localhost"]["changed"] == 2 and summary["hosts"]["localhost"]["failures"] == 0
    assert summary["counts"] == {"autoport_records": 17, "autoport_rejected": 2, "autoport_training_loss": 0.25}
    assert summary["tasks"] == {"total": 7, "failed": 0, "skipped": 2}
    assert summary["duration_s"] > 0

    suite = ET.parse(work / "out" / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "7" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.findall("testcase")][:2] == ["Gathering Facts", "Write the marker file"]


def test_secrets_reach_the_run_only_as_allowed(secret_run) -> None:
    work = secret_run[0]
    received = json.loads((work / "received.json").read_text(encoding="utf-8"))
    # Extra variables and --pass-env arrive; secret-named environment variables do not.
    assert received == {
        "zos_password": SECRETS["zos_password"], "api_token": SECRETS["api_token"],
        "hf_token_env": SECRETS["HF_TOKEN"], "db_password_env": "", "fake_token_env": "",
    }


def test_no_secret_in_any_file_the_run_left_or_printed(secret_run) -> None:
    work, proc, before = secret_run
    out = work / "out"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "command" for p in files) and any(p.parent.name == "job_events" for p in files)
    assert any(p.parent.name == "fact_cache" for p in files), "facts were gathered: the fact cache must be checked too"
    assert not (out / "runner" / "env").exists()
    for path in files:
        data = path.read_bytes()
        for name, value in SECRETS.items():
            assert value.encode() not in data, "%s leaked into %s" % (name, path)
    for name, value in SECRETS.items():
        assert value not in proc.stdout + proc.stderr, name
    # The careless debug task was redacted, not dropped.
    assert any(b"zos password ********" in p.read_bytes() for p in files if p.name == "stdout")
    command = json.loads(next(p for p in files if p.name == "command").read_text(encoding="utf-8"))
    assert set(command) == {"command", "cwd"}
    # The private extra-vars file is gone.
    assert _vars_dirs() - before == set()


def test_failure_exits_non_zero_with_the_failure_in_junit(tmp_path: Path) -> None:
    proc = _run([
        "curate", "--playbook", str(STAGE), "-o", str(tmp_path / "out"),
        "-e", "fixture_dir=%s fixture_fail=true" % tmp_path,
        "-e", json.dumps({"zos_password": SECRETS["zos_password"], "api_token": SECRETS["api_token"]}),
    ])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "FAILED  Fail when told to" in proc.stdout
    assert "failed on localhost: login to zos1 failed with ********" in proc.stdout
    summary = json.loads((tmp_path / "out" / "run-summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and summary["rc"] == 2
    assert summary["failed_tasks"] == [
        {"task": "Fail when told to", "host": "localhost", "kind": "failed", "message": "login to zos1 failed with ********"}
    ]
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite.get("failures") == "1"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["Fail when told to"]
    assert SECRETS["zos_password"] not in (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args, message",
    [
        (["deploy"], "invalid choice: 'deploy'"),
        (["mine", "-i", "/nonexistent/inventory"], "inventory /nonexistent/inventory not found"),
        (["mine", "-e", "@/nonexistent/vars.yml"], "-e @/nonexistent/vars.yml: no such file"),
        (["mine", "--playbook", "/nonexistent/mine.yml"], "playbook /nonexistent/mine.yml not found"),
    ],
)
def test_usage_errors_exit_2_naming_the_input(args: list[str], message: str, tmp_path: Path) -> None:
    proc = _run(args + ["-o", str(tmp_path / "out")])
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_real_stage_mine_on_a_corpus_port(corpus_ports: Path, tmp_path: Path) -> None:
    port = corpus_ports / "bisonport"
    if not port.is_dir():
        pytest.skip("bisonport is not in the corpus")
    if not (REPO / "playbooks" / "mine.yml").is_file():
        pytest.skip("playbooks/mine.yml is not written yet")
    extravars = json.dumps({"mine_ports": [{"name": "bison", "src": str(port)}], "mine_output_dir": str(tmp_path / "mined")})
    proc = _run(["mine", "-e", extravars, "-o", str(tmp_path / "out")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "out" / "run-summary.json").read_text(encoding="utf-8"))
    records = [line for line in (tmp_path / "mined" / "bison.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert summary["status"] == "successful" and summary["tasks"]["total"] >= 3
    # The stage's own set_stats count is what the summary reports, and it matches the file.
    record_counts = {k: v for k, v in summary["counts"].items() if k.endswith("records")}
    assert record_counts and list(record_counts.values()) == [len(records)]
