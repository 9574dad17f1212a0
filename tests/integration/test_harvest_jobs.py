"""The harvest's async replay job, followed and interrupted for real (ansible-playbook, gcc, make).

- A replay followed for more than 300 polls finishes and records what a short poll does
  (the task files that included themselves once per poll died of RecursionError at about 250).
- ansible-playbook killed (SIGKILL, only it) in the middle of a build while its async replay
  job lives on, then run again at once: with either way of handling the live job (wait for it,
  or stop it and resume) the records equal an uninterrupted run's, ids and count, every patch
  credited with its own errors only, and nothing of the first job is left running.

The test compiler is the host's cc behind a small wrapper: it can wait for a gate file before
its first compile (so the job lasts exactly as long as the test needs) or sleep before each
compile (so a build is running when the test kills the controller).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playbook_harness import COLLECTIONS, REPO, STANDIN, assert_ok, load_json_lines, run_playbook
from test_harvest import KNOWN_ANSWERS

PORT = "tinyprocport"
PROGRESS_MARK = "| %s: " % PORT

pytestmark = pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="the harvest needs cc, make and git")

WRAPPER = """#!/bin/sh
# Test compiler: the host's cc, held at a gate.
# CC_GATE: the first compile waits until the gate file exists.
# CC_GATE_RUN: the first compile of run.c without its patch (build loo-002) writes
#   <gate>.waiting and waits until the gate file exists; later ones pass.
wait_gate() {
  i=0
  while [ ! -e "$1" ] && [ $i -lt 6000 ]; do sleep 0.1; i=$((i+1)); done
}
if [ -n "$CC_GATE" ] && [ ! -e "$CC_GATE.passed" ]; then
  wait_gate "$CC_GATE"
  : > "$CC_GATE.passed"
fi
case "$*" in
*run.c*)
  if [ -n "$CC_GATE_RUN" ] && [ ! -e "$CC_GATE_RUN.waiting" ] && grep -q "wait4(pid" src/run.c; then
    : > "$CC_GATE_RUN.waiting"
    wait_gate "$CC_GATE_RUN"
  fi ;;
esac
exec %s "$@"
"""


def compiler(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cc"
    path.write_text(WRAPPER % shutil.which("cc"))
    path.chmod(0o755)
    return str(path)


def extravars(base: Path, cc: str, **build_env) -> dict:
    return {
        "autoport_output_dir": str(base / "out"),
        "harvest_remote_dir": str(base / "remote"),
        "harvest_poll_interval": 1,
        "harvest_ports": [{"name": PORT, "src": str(REPO / "samples" / "ports" / PORT)}],
        "harvest_build_env": dict({"CC": cc}, **build_env),
    }


def records(base: Path) -> list:
    return load_json_lines(base / "out" / "harvest" / PORT / "records.jsonl")


def follow_result(run) -> dict:
    found = run.task_results("Follow the replay of %s" % PORT)
    assert len(found) == 1, run.stdout[-3000:]
    return found[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list:
    """The records of one uninterrupted harvest of the port, followed every second."""
    base = tmp_path_factory.mktemp("reference")
    run = run_playbook("harvest.yml", extravars(base, compiler(base / "bin")), private_data_dir=str(base / "run"))
    assert_ok(run)
    found = records(base)
    assert found and follow_result(run)["polls"] >= 1
    return found


def assert_same_records(got: list, reference: list) -> None:
    assert len(got) == len(reference)
    assert [r["id"] for r in got] == [r["id"] for r in reference]
    # Each build record credits its own patch with that patch's errors only.
    for record in got:
        if record["provenance"] == "build":
            expected = KNOWN_ANSWERS[(PORT, record["patch_file"])]
            assert any(fragment in record["error"] for _category, _phase, fragment in expected), (record["patch_file"], record["error"])


def test_replay_followed_for_more_than_300_polls_records_what_a_short_poll_does(reference, tmp_path):
    gate = tmp_path / "gate"
    seen = {"lines": 0}

    def count_progress(event: dict) -> bool:
        seen["lines"] += (event.get("stdout") or "").count(PROGRESS_MARK)
        if seen["lines"] >= 305 and not gate.exists():
            gate.touch()
        return True

    variables = extravars(tmp_path, compiler(tmp_path / "bin"), CC_GATE=str(gate))
    variables["harvest_poll_interval"] = 0
    run = run_playbook("harvest.yml", variables, private_data_dir=str(tmp_path / "run"), event_handler=count_progress)
    assert_ok(run)
    followed = follow_result(run)
    assert followed["polls"] > 300 and seen["lines"] > 300, (followed["polls"], seen["lines"])
    assert followed["records"] == len(reference)
    assert_same_records(records(tmp_path), reference)


def _replay_pids(token: str) -> set:
    """Processes of this host whose environment carries a replay's marker (procfs)."""
    wanted = ("AUTOPORT_REPLAY_ID=%s" % token).encode()
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path("/proc", entry, "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if wanted in environ:
                found.add(int(entry))
    return found


@pytest.mark.parametrize("if_running", ["wait", "stop"])
def test_controller_killed_mid_build_then_run_again_gives_the_uninterrupted_records(reference, tmp_path, if_running):
    gate = tmp_path / "gate"
    variables = extravars(tmp_path, compiler(tmp_path / "bin"), CC_GATE_RUN=str(gate))
    variables["harvest_if_running"] = if_running
    state = tmp_path / "remote" / PORT / "work" / PORT / "state" / "replay.json"
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, STANDIN),
               PATH="%s:%s" % (Path(sys.executable).parent, os.environ["PATH"]))
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(REPO / "inventory" / "local"),
            str(REPO / "playbooks" / "harvest.yml"), "-e", "@%s" % (tmp_path / "vars.json")]
    first = subprocess.Popen(argv, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and first.poll() is None and not Path(str(gate) + ".waiting").exists():
            time.sleep(0.05)
        running = json.loads(state.read_text()).get("running")
        assert running and running.get("key") == "loo-002", "the replay never reached build loo-002"
        # Only ansible-playbook dies; its async replay job (a daemon) goes on, in the middle of a build.
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        try:
            os.killpg(first.pid, signal.SIGKILL)  # its forks, if any are left
        except ProcessLookupError:
            pass
    holder = json.loads((state.parent.parent / "replay.lock").read_text())
    assert holder["pid"] and Path("/proc/%d" % holder["pid"]).exists(), "the first replay job should still run"

    def open_gate_once_waiting(event: dict) -> bool:
        # The re-run shows that it waits for the first job: let that job finish its build.
        if "waiting for the replay already running" in (event.get("stdout") or ""):
            gate.touch()
        return True

    again = run_playbook("harvest.yml", variables, private_data_dir=str(tmp_path / "run2"), event_handler=open_gate_once_waiting)
    assert_ok(again)
    followed = follow_result(again)
    assert_same_records(records(tmp_path), reference)
    assert not Path("/proc/%d" % holder["pid"]).exists()
    assert not _replay_pids(holder["token"]), "processes of the first replay are still running"
    if if_running == "stop":
        assert not gate.exists()
        assert followed["resumed"] is True and followed["builds"] >= 1
        assert any("stopped the replay that was running" in text for text in followed["warnings_found"]), followed["warnings_found"]
    else:
        assert gate.exists(), "the re-run never said it waits for the first job"
        assert followed["builds"] == 0, "the waiting run must reuse every build of the first job"
        assert any("waited" in text for text in followed["warnings_found"]), followed["warnings_found"]
