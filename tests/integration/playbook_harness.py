"""Test harness: real ansible-playbook runs through ansible-runner, against localhost.

`run_playbook` is what every integration test calls. It returns the run's rc,
status, per-host stats, events, the changed count and the set_stats data, and it
keeps the run's private data dir so a failure can be read afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"
STANDIN = REPO / "tests" / "collections"
LOCAL_INVENTORY = REPO / "inventory" / "local"
# Private data dirs of runs that name none; per user, so that two users never share one.
DEFAULT_RUNS = os.path.join(tempfile.gettempdir(), "autoport-test-runs-%d" % os.getuid())


@dataclass
class RunResult:
    rc: int
    status: str
    stats: dict[str, Any]
    events: list[dict[str, Any]]
    artifacts_dir: str
    stdout: str
    set_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    @property
    def failed(self) -> int:
        return sum(self.stats.get("failures", {}).values()) + sum(self.stats.get("dark", {}).values())

    def task_results(self, task_name: str) -> list[dict[str, Any]]:
        """event_data.res of every runner_on_ok/failed event of a task with this name."""
        found = []
        for event in self.events:
            data = event.get("event_data", {})
            if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task") == task_name:
                found.append(data.get("res", {}))
        return found

    def changed_tasks(self) -> list[str]:
        return [
            e["event_data"].get("task", "")
            for e in self.events
            if e.get("event") == "runner_on_ok" and e.get("event_data", {}).get("res", {}).get("changed")
        ]


def run_playbook(
    playbook: str,
    extravars: dict[str, Any] | None = None,
    check: bool = False,
    inventory: str | None = None,
    private_data_dir: str | None = None,
    envvars: dict[str, str] | None = None,
    tags: str | None = None,
    limit: str | None = None,
    event_handler=None,
) -> RunResult:
    """Run playbooks/<playbook> (or a path) with the repo's ansible.cfg and the test stand-ins.

    ``event_handler(event)`` sees every event while the run goes on (ansible-runner's hook).
    """
    path = Path(playbook)
    if not path.is_absolute():
        path = REPO / "playbooks" / playbook
    pdd = Path(private_data_dir) if private_data_dir else Path(os.environ.get("AUTOPORT_TEST_RUNS", DEFAULT_RUNS)) / path.stem
    if pdd.exists():
        shutil.rmtree(pdd)
    pdd.mkdir(parents=True)
    env = {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (COLLECTIONS, STANDIN),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        # The venv running pytest also holds ansible-playbook.
        "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]),
    }
    env.update(envvars or {})
    cmdline = "--check" if check else ""
    if tags:
        cmdline += " --tags %s" % tags
    result = ansible_runner.run(
        private_data_dir=str(pdd),
        playbook=str(path),
        inventory=str(inventory or LOCAL_INVENTORY),
        extravars=extravars or {},
        envvars=env,
        cmdline=cmdline.strip() or None,
        limit=limit,
        event_handler=event_handler,
        quiet=True,
        suppress_env_files=True,
    )
    events = list(result.events)
    set_stats: dict[str, Any] = {}
    stats: dict[str, Any] = result.stats or {}
    for event in events:
        if event.get("event") == "playbook_on_stats":
            set_stats = event.get("event_data", {}).get("artifact_data", {}) or {}
    stdout = result.stdout.read() if hasattr(result.stdout, "read") else ""
    return RunResult(
        rc=result.rc,
        status=result.status,
        stats=stats,
        events=events,
        artifacts_dir=str(result.config.artifact_dir),
        stdout=stdout,
        set_stats=set_stats,
    )


def run_twice(playbook: str, extravars: dict[str, Any], base: Path) -> tuple[RunResult, RunResult, tuple[float, float]]:
    """The playbook run twice (private data dirs base/run1 and base/run2), the first asserted ok,
    with the seconds each run took: a stage's first run, then the run that should change nothing."""
    started = time.time()
    first = run_playbook(playbook, extravars, private_data_dir=str(base / "run1"))
    first_seconds = time.time() - started
    assert_ok(first)
    started = time.time()
    second = run_playbook(playbook, extravars, private_data_dir=str(base / "run2"))
    return first, second, (first_seconds, time.time() - started)


def assert_ok(run: RunResult) -> None:
    assert run.rc == 0 and run.status == "successful", "playbook failed (rc=%s):\n%s" % (run.rc, run.stdout[-6000:])


def assert_idempotent(first: RunResult, second: RunResult, check: RunResult) -> None:
    """containers.podman style: changed on the first run, unchanged on the second and under --check."""
    for run in (first, second, check):
        assert_ok(run)
    assert first.changed > 0, "first run changed nothing:\n%s" % first.stdout[-4000:]
    assert second.changed == 0, "second run changed: %s" % second.changed_tasks()
    assert check.changed == 0, "--check run changed: %s" % check.changed_tasks()


def load_json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def zos_task_actions(run: RunResult) -> set[str]:
    """The ibm.ibm_zos_core actions (the stand-in's, in tests) that ran and returned ok."""
    return {
        e["event_data"].get("task_action")
        for e in run.events
        if e.get("event") == "runner_on_ok" and str(e.get("event_data", {}).get("task_action", "")).startswith("ibm.ibm_zos_core.")
    }


def assert_zos_tasks_ran(run: RunResult, actions: set[str]) -> None:
    """Every named ibm.ibm_zos_core action ran (not skipped), and zos_fetch was never asked for
    binary together with encoding (on z/OS that combination deletes the source)."""
    ran = zos_task_actions(run)
    assert actions <= ran, "z/OS tasks that did not run: %s (ran: %s)" % (sorted(actions - ran), sorted(ran))
    for event in run.events:
        data = event.get("event_data", {})
        if data.get("task_action") == "ibm.ibm_zos_core.zos_fetch" and event.get("event") == "runner_on_ok":
            args = data.get("res", {}).get("invocation", {}).get("module_args", {})
            assert not (args.get("binary") and args.get("encoding")), args


def zopen_config(shared_dir: Path, tmp_path: Path) -> Path:
    """A host's zopen-config as `zopen init` writes it, reduced to what matters here: it puts a
    `zopen` on PATH, the real zopen build run by ../shared/tools/zopen-linux (skips without it)."""
    import subprocess

    import pytest

    tool = shared_dir / "tools" / "zopen-linux"
    if not tool.is_file():
        pytest.skip("../shared/tools/zopen-linux is absent")
    zopen = subprocess.run([str(tool), "--setup", str(tmp_path / "zopen-linux")], capture_output=True, text=True, check=True).stdout.split()[-1]
    config = tmp_path / "rootfs" / "etc" / "zopen-config"
    config.parent.mkdir(parents=True)
    config.write_text('# zopen-config (test)\nexport PATH="%s:$PATH"\nexport ZOPEN_TEST_CONFIG_SOURCED=yes\n' % Path(zopen).parent)
    return config
