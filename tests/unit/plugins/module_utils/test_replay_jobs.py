"""One owner per replay, nothing left running, bounded checkpoints (patch_replay's job side).

Real processes throughout: replays in child processes killed or stopped mid-build, a
compiler wrapper that leaves a daemon (setsid) behind, a build that prints thousands
of errors; the records are compared with an uninterrupted harvest of the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import job_follow
from ansible_collections.autoport.zos.plugins.module_utils import patch_replay
from ansible_collections.autoport.zos.plugins.module_utils import process_tree
from ansible_collections.autoport.zos.plugins.module_utils import replay_checkpoint
from ansible_collections.autoport.zos.plugins.module_utils import replay_lock
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import ReplayError, replay_port
from ansible_collections.autoport.zos.plugins.module_utils.record import read_records
from ansible_collections.autoport.zos.plugins.module_utils.replay_lock import LockBusy, ReplayLock

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
PORT = "tinyprocport"
COLLECTIONS = str(REPO / ".cache" / "collections")

needs_build_tools = pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="needs cc, make and git")
needs_procfs = pytest.mark.skipif(not process_tree.markers_readable(), reason="needs /proc (z/OS has none: see process_tree)")

DRIVER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, %r)
    from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
    replay_port(json.loads(sys.argv[1]), progress=lambda message: print(message, flush=True))
    """
) % COLLECTIONS

# The host's cc behind a wrapper: CC_HANG makes the first compile of run.c without its patch
# (build loo-002) hang (CC_GATE: wait there until the gate file exists); CC_DAEMON makes every compile leave a daemon that left its session
# (setsid) and writes its pid; CC_NOISE makes the first compile of run.c (in the build with every patch) print that many distinct errors.
WRAPPER = """#!/bin/sh
case "$*" in *--version*) ;; *)
  if [ -n "$CC_DAEMON" ]; then
    %(python)s -c 'import os, sys, time
if os.fork() == 0:
    os.setsid()
    open(sys.argv[1] + "/" + str(os.getpid()), "w").close()
    time.sleep(300)' "$CC_DAEMON" </dev/null >/dev/null 2>&1
  fi
  if [ -n "$CC_NOISE" ] && [ ! -e "$CC_NOISE_FLAG" ] && [ "${*%%run.c*}" != "$*" ]; then
    : > "$CC_NOISE_FLAG"
    %(python)s -c 'import sys
for i in range(int(sys.argv[1])):
    sys.stderr.write("src/noise.c:%%d:5: error: unknown type name '"'"'noise_type_%%d'"'"'\\n" %% (i, i))' "$CC_NOISE"
  fi ;;
esac
case "$*" in
*run.c*)
  if [ -n "$CC_HANG" ] && [ ! -e "$CC_HANG" ] && grep -q "wait4(pid" src/run.c; then
    echo $$ > "$CC_HANG"
    exec sleep 300
  fi
  if [ -n "$CC_GATE" ] && [ ! -e "$CC_GATE.waiting" ] && grep -q "wait4(pid" src/run.c; then
    : > "$CC_GATE.waiting"
    i=0
    while [ ! -e "$CC_GATE" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
  fi ;;
esac
exec %(cc)s "$@"
"""


def compiler(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cc"
    path.write_text(WRAPPER % {"cc": shutil.which("cc"), "python": sys.executable})
    path.chmod(0o755)
    return str(path)


def options(work: Path, cc: str, **env) -> dict:
    return {"port_dir": str(SAMPLES / "ports" / PORT), "work_dir": str(work), "mirror_dir": str(SAMPLES / "mirror"), "env": dict({"CC": cc}, **env)}


def ids_of(result: dict) -> list:
    return [item[1]["id"] for item in read_records(result["records_file"])]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list:
    """Record ids of one uninterrupted harvest of the port through the same compiler wrapper."""
    base = tmp_path_factory.mktemp("reference")
    result = replay_port(options(base / "work", compiler(base / "bin")))
    return ids_of(result)


def start_replay(opts: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(opts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


# ---------------------------------------------------------------------------
# One owner per work directory.


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock_file = tmp_path / "replay.lock"
    lock_file.write_text(json.dumps({"pid": dead.pid, "host": "buildhost", "started": 1700000000, "token": "old"}))
    lock = ReplayLock(str(lock_file), host="buildhost")
    taken = lock.acquire("fail")
    try:
        assert taken["previous"]["pid"] == dead.pid and taken["stopped"] == []
        holder = json.loads(lock_file.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == "buildhost" and holder["token"] == lock.token
        assert holder["started"] > 1700000000
    finally:
        lock.release()


HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, %r)
    from ansible_collections.autoport.zos.plugins.module_utils.replay_lock import ReplayLock
    lock = ReplayLock(sys.argv[1])
    lock.acquire("fail")
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    """
) % COLLECTIONS


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"held"
    return holder


def test_a_live_holder_fails_a_second_replay_or_is_waited_for(tmp_path):
    lock_file = tmp_path / "replay.lock"
    holder = hold_lock(lock_file, 2.5)
    try:
        with pytest.raises(LockBusy, match=r"another replay is running in .* \(pid %d on " % holder.pid):
            ReplayLock(str(lock_file)).acquire("fail")
        waits = []
        lock = ReplayLock(str(lock_file))
        begin = time.monotonic()
        taken = lock.acquire("wait", on_wait=waits.append, poll=0.2)
        lock.release()
        assert holder.poll() is not None and time.monotonic() - begin >= 1.5
        assert waits and waits[0]["pid"] == holder.pid and taken["previous"]["pid"] == holder.pid
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()


@needs_procfs
def test_without_record_locks_the_holder_is_judged_by_pid_host_and_start_time(tmp_path, monkeypatch):
    monkeypatch.setattr(replay_lock, "fcntl", None)
    lock_file = tmp_path / "replay.lock"
    live = subprocess.Popen(["sleep", "30"])
    try:
        lock_file.write_text(json.dumps({"pid": live.pid, "host": "h", "started": 1, "token": "t", "pid_start": process_tree.start_time(live.pid)}))
        with pytest.raises(LockBusy, match="pid %d on h" % live.pid):
            ReplayLock(str(lock_file), host="h").acquire("fail")
        # The same pid with another start time is another process: the lock is stale.
        lock_file.write_text(json.dumps({"pid": live.pid, "host": "h", "started": 1, "token": "t", "pid_start": "1"}))
        lock = ReplayLock(str(lock_file), host="h")
        assert lock.acquire("fail")["previous"]["pid"] == live.pid
        lock.release()
    finally:
        live.kill()
        live.wait()


@needs_build_tools
def test_a_second_replay_on_the_same_work_dir_fails_while_the_first_runs(tmp_path):
    cc = compiler(tmp_path / "bin")
    hang = tmp_path / "hang.pid"
    opts = options(tmp_path / "work", cc, CC_HANG=str(hang))
    first = start_replay(opts)
    try:
        wait_for(hang.exists, "the first replay's build")
        with pytest.raises(ReplayError, match=r"port tinyprocport: another replay is running in .*pid %d on " % first.pid):
            replay_port(dict(opts, if_running="fail"))
        assert first.poll() is None, "fail must leave the running replay alone"
    finally:
        first.kill()
        first.wait()
        process_tree.stop(roots={int(hang.read_text())}, grace=0)


@needs_build_tools
@needs_procfs
def test_stop_kills_the_running_replay_and_its_whole_tree_then_resumes_to_the_same_records(reference, tmp_path):
    cc = compiler(tmp_path / "bin")
    hang, daemons = tmp_path / "hang.pid", tmp_path / "daemons"
    daemons.mkdir()
    opts = options(tmp_path / "work", cc, CC_HANG=str(hang), CC_DAEMON=str(daemons))
    first = start_replay(opts)
    try:
        wait_for(lambda: hang.exists() and hang.read_text().strip(), "the first replay's build loo-002")
        hung = int(hang.read_text())
        # Daemons of the finished builds are gone already; those of the running build live.
        assert [pid for pid in map(int, os.listdir(daemons)) if process_tree.alive(pid)]
        result = replay_port(dict(opts, if_running="stop"))
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    assert first.returncode == -signal.SIGTERM or first.returncode == -signal.SIGKILL
    assert not process_tree.alive(hung)
    # Every daemon a compile left (in its own session) is gone, the first job's and this one's.
    assert not [pid for pid in map(int, os.listdir(daemons)) if process_tree.alive(pid) and not process_tree.is_zombie(pid)]
    assert result["resumed"] is True and any("stopped the replay that was running" in text for text in result["warnings"])
    assert ids_of(result) == reference


@needs_build_tools
def test_wait_reuses_the_running_replays_builds(reference, tmp_path):
    gate = tmp_path / "gate"
    opts = options(tmp_path / "work", compiler(tmp_path / "bin"), CC_GATE=str(gate))
    first = start_replay(opts)
    opener = threading.Timer(1.5, gate.touch)
    try:
        wait_for(Path(str(gate) + ".waiting").exists, "the first replay's build loo-002")
        opener.start()
        result = replay_port(dict(opts, if_running="wait"))
    finally:
        opener.cancel()
        gate.touch()
        first.wait(timeout=300)
    assert first.returncode == 0
    assert result["builds"] == 0 and any("waited" in text for text in result["warnings"]), result["warnings"]
    assert ids_of(result) == reference


# ---------------------------------------------------------------------------
# Nothing left running.


@needs_procfs
def test_a_child_that_leaves_the_build_session_is_killed_when_the_build_ends(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    # The build exits only once the daemon has written its pid (a pipe), so the test never
    # races the end-of-build kill on a loaded machine.
    script = ("import os, sys, time\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n"
              "    with open(sys.argv[1], 'w') as f:\n        f.write(str(os.getpid()))\n    os.write(w, b'x')\n    time.sleep(300)\n"
              "else:\n    os.read(r, 1)\n")
    env = dict(os.environ, **{process_tree.BUILD_MARKER: "t-" + os.urandom(6).hex()})
    code, timed_out = build_profile.run_logged([sys.executable, "-c", script, str(pid_file)], str(tmp_path), env, str(tmp_path / "b.log"), None)
    assert code == 0 and not timed_out
    daemon = int(pid_file.read_text())
    # The daemon was in another session than the build: a process-group kill cannot reach it.
    wait_for(lambda: not process_tree.alive(daemon), "the daemon to be killed", seconds=5)


@needs_build_tools
@needs_procfs
def test_a_harvest_leaves_no_process_behind(reference, tmp_path):
    daemons = tmp_path / "daemons"
    daemons.mkdir()
    result = replay_port(options(tmp_path / "work", compiler(tmp_path / "bin"), CC_DAEMON=str(daemons)))
    pids = [int(name) for name in os.listdir(daemons)]
    assert len(pids) >= 5
    # (Killed daemons re-parented to a container's init may stay zombies: they run nothing.)
    assert not [pid for pid in pids if process_tree.alive(pid) and not process_tree.is_zombie(pid)]
    assert ids_of(result) == reference


# ---------------------------------------------------------------------------
# Bounded checkpoints.


def test_diagnostics_are_bounded_whatever_a_build_prints():
    def flood():
        for number in range(1000000):
            yield {"key": "cc||noise.c|unknown type name 'noise_type_%d'" % number, "message": "x" * 10, "file": "src/noise.c"}
        yield {"key": "k" * 5000, "message": "m" * 900000, "file": "src/big.c"}

    kept, dropped, summary = replay_checkpoint.bound_diagnostics(flood())
    assert summary["total"] == 1000001 and summary["distinct"] == 1000001
    assert summary["kept"] == len(kept) <= replay_checkpoint.MAX_KEPT
    assert summary["dropped"] == 1000001 - len(kept) and len(dropped) == replay_checkpoint.MAX_DROPPED_KEYS
    assert len(json.dumps(kept)) <= replay_checkpoint.MAX_KEPT_BYTES + 10000


def test_oversized_fields_are_clipped_and_counted():
    kept, _dropped, summary = replay_checkpoint.bound_diagnostics([{"key": "k" * 5000, "message": "m" * 900000, "file": "f" * 3000, "code": "E1"}])
    assert summary["fields_truncated"] == 2
    assert len(kept[0]["message"]) == replay_checkpoint.FIELD_LIMITS["message"] and kept[0]["message"].endswith("...")
    assert kept[0]["key"].startswith("sha256:") and kept[0]["code"] == "E1"


def test_an_error_whose_text_was_not_kept_still_counts_as_present(monkeypatch):
    monkeypatch.setattr(replay_checkpoint, "MAX_KEPT", 2)

    def diag(key):
        return {"key": key, "message": key, "follow_up": False}

    with_kept, with_dropped, _summary = replay_checkpoint.bound_diagnostics([diag("a"), diag("b"), diag("still there")])
    without_kept, _dropped, _summary = replay_checkpoint.bound_diagnostics([diag("still there"), diag("fixed")])
    credited = patch_replay._credited({"diagnostics": without_kept}, {"diagnostics": with_kept, "dropped_keys": with_dropped})
    assert [item["key"] for item in credited] == ["fixed"]


@needs_build_tools
def test_a_build_printing_thousands_of_errors_keeps_the_checkpoint_small(reference, tmp_path):
    opts = options(tmp_path / "work", compiler(tmp_path / "bin"), CC_NOISE="30000", CC_NOISE_FLAG=str(tmp_path / "noise.flag"))
    result = replay_port(opts)
    state = Path(result["state_file"])
    assert state.stat().st_size < 64 * 1024
    build = json.loads(state.read_text())["builds"]["loo-000"]
    summary = build["diagnostics_summary"]
    assert summary["total"] >= 30000 and summary["kept"] <= replay_checkpoint.MAX_KEPT and summary["dropped"] > 0
    assert (state.parent / build["diagnostics_file"]).stat().st_size < 4 * 1024 * 1024
    assert any("printed" in text and "the logs have them all" in text for text in result["warnings"])
    assert sum(1 for line in open(next(path for path in result["log_files"] if "loo-000-build" in path)) if "noise_type_" in line) == 30000
    # The noise is in the build with every patch only: no patch is credited with it.
    assert ids_of(result) == reference
    again = replay_port(opts)
    assert again["changed"] is False and again["builds"] == 0 and ids_of(again) == reference


# ---------------------------------------------------------------------------
# Following a job (the job_follow module's round).


def test_job_status_is_read_like_async_status(tmp_path):
    assert job_follow.read_job_status(str(tmp_path), "j1")["failed"] is True
    (tmp_path / "j1").write_text("")
    assert job_follow.read_job_status(str(tmp_path), "j1")["finished"] is False
    (tmp_path / "j1").write_text(json.dumps({"started": 1, "finished": 0, "ansible_job_id": "j1"}))
    assert job_follow.read_job_status(str(tmp_path), "j1")["finished"] is False
    (tmp_path / "j1").write_text(json.dumps({"changed": True, "records": 14}))
    done = job_follow.read_job_status(str(tmp_path), "j1")
    assert done["finished"] is True and done["records"] == 14
    assert job_follow.read_job_status(str(tmp_path), "../j1")["failed"] is True


def test_a_round_returns_as_soon_as_the_job_ends(tmp_path):
    (tmp_path / "j2").write_text(json.dumps({"started": 1, "finished": 0}))
    (tmp_path / "progress.json").write_text(json.dumps({"line": "port: build loo-001 token=abc123 " + "x" * 500}))
    timer = threading.Timer(0.5, lambda: (tmp_path / "j2").write_text(json.dumps({"changed": False, "records": 3})))
    timer.start()
    begin = time.monotonic()
    found = job_follow.follow_round(str(tmp_path), "j2", wait=30, progress_file=str(tmp_path / "progress.json"), cleanup=True)
    assert time.monotonic() - begin < 5
    assert found["finished"] is True and found["job"]["records"] == 3 and not (tmp_path / "j2").exists()
    assert "abc123" not in found["progress"] and len(found["progress"]) <= job_follow.MAX_LINE


def test_log_progress_line(tmp_path):
    log = tmp_path / "gen.log"
    log.write_text("start\ngen_skill Prompt Generation:  40%|####      | 2/5 [00:31<00:47]\r\nINFO last line\n")
    line = job_follow.progress_from_log(str(log))
    assert "2/5 (40%)" in line and line.endswith("INFO last line")
