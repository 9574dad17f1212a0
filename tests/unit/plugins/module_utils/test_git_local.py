"""Crash-safe local git: locks left by a killed git, a half-made repository, one identity.

The locks come from a real git: `git add` of a large file, killed (stale lock) or stopped
(a live process still holding it) once its index.lock is there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import git_local


def _repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "a.txt").write_text("a\n")
    return path


def _git_add_holding_the_lock(repo: Path) -> subprocess.Popen:
    """A real `git add` of a large file, caught while its index.lock exists."""
    (repo / "big.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    child = subprocess.Popen(["git", "-C", str(repo), "add", "big.bin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not (repo / ".git" / "index.lock").exists():
        if child.poll() is not None or time.monotonic() > deadline:
            pytest.skip("git add finished before its lock could be caught")
        time.sleep(0.001)
    return child


def test_lock_of_a_killed_git_is_removed_and_the_commit_goes_on(tmp_path):
    repo = _repo(tmp_path / "taxonomy")
    child = _git_add_holding_the_lock(repo)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert (repo / ".git" / "index.lock").exists()
    # Without the repair every later git command fails ("Another git process seems to be running").
    assert subprocess.run(["git", "-C", str(repo), "add", "a.txt"], capture_output=True, check=False).returncode != 0
    commit = git_local.commit_paths(str(repo), ["a.txt"], "first")
    assert commit and not (repo / ".git" / "index.lock").exists()
    assert git_local.dirty_paths(str(repo), ["a.txt"]) == []


def test_lock_held_by_a_live_git_is_left_alone_and_named(tmp_path):
    repo = _repo(tmp_path / "taxonomy")
    child = _git_add_holding_the_lock(repo)
    child.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(git_local.GitError, match="index.lock is held by a running process \\(pid %d\\)" % child.pid):
            git_local.clear_stale_locks(str(repo), wait=0.5)
        assert (repo / ".git" / "index.lock").exists()
    finally:
        child.send_signal(signal.SIGCONT)
        assert child.wait(timeout=60) == 0
    # Its lock released, the live git's work is there and the next commit works.
    assert "big.bin" in subprocess.run(["git", "-C", str(repo), "diff", "--cached", "--name-only"], capture_output=True, check=False, text=True).stdout
    assert git_local.commit_paths(str(repo), ["a.txt"], "next")


def test_half_made_repository_is_made_again(tmp_path):
    taxonomy = tmp_path / "taxonomy"
    (taxonomy / ".git" / "objects" / "info").mkdir(parents=True)
    (taxonomy / ".git" / "refs").mkdir()
    (taxonomy / ".git" / "config").write_text("")  # HEAD never written: the disk was full
    (taxonomy / "compositional_skills").mkdir()
    (taxonomy / "compositional_skills" / "qna.yaml").write_text("x\n")
    assert not git_local.is_repo_root(str(taxonomy))
    assert git_local.ensure_repo(str(taxonomy), check_mode=True) is True
    assert not (taxonomy / ".git" / "HEAD").exists()
    assert git_local.ensure_repo(str(taxonomy)) is True
    assert git_local.is_repo_root(str(taxonomy))
    assert git_local.commit_paths(str(taxonomy), ["compositional_skills"], "render")
    assert git_local.ensure_repo(str(taxonomy)) is False


def test_damaged_repository_holding_objects_is_refused_not_deleted(tmp_path):
    repo = _repo(tmp_path / "docs")
    git_local.commit_paths(str(repo), ["a.txt"], "history")
    (repo / ".git" / "HEAD").unlink()
    with pytest.raises(git_local.GitError, match="damaged git repository that holds objects"):
        git_local.ensure_repo(str(repo))
    assert any((repo / ".git" / "objects").rglob("*"))


def test_snapshot_commits_as_the_one_identity_reproducibly_and_once(tmp_path):
    ids = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "qna.yaml").write_text("version: 3\n")
        first = git_local.snapshot(str(folder), "taxonomy x", date="2000-01-01T00:00:00Z")
        assert first["changed"] and first["created"] and first["commit"]
        again = git_local.snapshot(str(folder), "taxonomy x", date="2000-01-01T00:00:00Z")
        assert again == dict(first, changed=False, created=False)
        ids.append(first["commit"])
        author = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%an <%ae> %cn <%ce>"],
                                capture_output=True, check=False, text=True).stdout.strip()
        assert author == "autoport.zos <autoport.zos@localhost> autoport.zos <autoport.zos@localhost>"
    assert ids[0] == ids[1]
    preview = git_local.snapshot(str(tmp_path / "new"), "m", check_mode=True)
    assert preview["changed"] and not (tmp_path / "new").exists()


def test_run_closes_stdin_works_in_cwd_and_stops_at_its_time_limit(tmp_path):
    repo = _repo(tmp_path / "repo")
    # stdin closed: `hash-object --stdin` reads nothing at once (the empty blob) instead of waiting.
    done = git_local.run(["hash-object", "--stdin"], cwd=str(repo), timeout=30)
    assert git_local.output(done) == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert os.path.realpath(git_local.output(git_local.run(["rev-parse", "--show-toplevel"], cwd=str(repo)))) == os.path.realpath(str(repo))
    # A git that waits (an editor that never returns) is killed at the limit, with an error that says so.
    env = dict(os.environ, GIT_EDITOR="sleep 30; true")
    started = time.monotonic()
    with pytest.raises(git_local.GitTimeout, match=r"git commit in .*repo did not finish within 1 s"):
        git_local.run(["commit", "--allow-empty"], cwd=str(repo), env=env, timeout=1, identity=True)
    assert time.monotonic() - started < 20
    with pytest.raises(git_local.GitError, match="cannot run"):
        git_local.run(["status"], cwd=str(tmp_path / "missing"))


def test_run_commits_as_the_one_identity(tmp_path):
    repo = tmp_path / "bare"
    repo.mkdir()
    git_local.run(["init", "-q", "-b", "main"], cwd=str(repo))
    done = git_local.run(["commit", "-q", "--allow-empty", "-m", "x"], cwd=str(repo), identity=True, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    author = git_local.output(git_local.run(["log", "-1", "--format=%an <%ae>"], cwd=str(repo)))
    assert author == "%s <%s>" % git_local.IDENTITY
