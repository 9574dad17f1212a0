# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Every git command the collection runs goes through ``run`` here: the harvest's source
trees (replay_source, replay_tree), the stage store, auto-port's edits, the evaluation's
``git apply --check``, and the few repository operations below (taxonomy, knowledge
documents, the AI host's taxonomy copy).

``run`` takes an argument list (never a shell) and a working folder (``cwd=``), closes
stdin, turns signing and prompts off, and stops git at a time limit with a GitTimeout
that names the command, the folder and the limit. Commits are made as the collection's
one identity (IDENTITY; ``identity=True`` or ``identity_env``; ``commit_paths`` and
``snapshot`` when the repository has none configured), so a commit works on a fresh
machine and never waits for input. Crash leftovers are repaired before
git runs: a lock file left by a git that died is removed (one held by a live process is
not), and a repository whose `git init` never finished (a full disk, a kill) and holds no
objects is made again. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

# The one identity of every commit the collection makes (modules and roles).
IDENTITY = ("autoport.zos", "autoport.zos@localhost")
# Without /proc (no way to see who holds a lock) a lock this old is taken as stale.
STALE_LOCK_SECONDS = 600
# How long to wait for a live git to release its lock before giving up.
LOCK_WAIT_SECONDS = 10
_LOCK_NAMES = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")


# How long one git command may run (a clone of a big repository included).
GIT_TIMEOUT = 1800


class GitError(Exception):
    """A git command that failed; the message names the repository and the command."""


class GitTimeout(GitError):
    """A git command that did not finish within its time limit (it was killed); the
    message names the command, the folder and the limit."""


def run(args: list, cwd: str | None = None, env: dict | None = None, timeout: float | None = GIT_TIMEOUT, identity: bool = False,
        stderr_to_stdout: bool = False, program: str = "git") -> subprocess.CompletedProcess:
    """Run ``git args`` in cwd (bytes out, returncode not checked) with stdin closed.

    env is the whole environment (default: this process's, with LC_ALL=C); prompts are
    always off. identity=True commits as IDENTITY whatever the repository says. Raises
    GitTimeout when git runs longer than timeout seconds, GitError when it cannot start.
    """
    env = dict(os.environ, LC_ALL="C") if env is None else dict(env)
    env["GIT_TERMINAL_PROMPT"] = "0"
    command = [program, "-c", "commit.gpgsign=false"]
    if identity:
        command += ["-c", "user.name=%s" % IDENTITY[0], "-c", "user.email=%s" % IDENTITY[1]]
    command += list(args)
    try:
        return subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT if stderr_to_stdout else subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GitTimeout("git %s in %s did not finish within %d s" % (args[0] if args else "", cwd or os.getcwd(), timeout))
    except OSError as exc:
        raise GitError("cannot run %s in %s: %s" % (program, cwd or os.getcwd(), exc.strerror or exc))


def output(result: subprocess.CompletedProcess) -> str:
    """A finished command's standard output as text, stripped."""
    return result.stdout.decode("utf-8", "replace").strip()


def git(repo: str, *args: str, check: bool = True, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", **(env_extra or {}))
    try:
        result = run(["-c", "core.quotepath=off"] + list(args), cwd=repo, env=env)
    except GitTimeout:
        raise
    except GitError as exc:
        raise GitError("cannot run git for %s: %s" % (repo, exc))
    if check and result.returncode != 0:
        raise GitError("git %s failed in %s: %s" % (" ".join(args[:2]), repo, result.stderr.decode("utf-8", "replace").strip()[:500]))
    return result


def is_repo_root(path: str) -> bool:
    """True when path is the top of a git work tree (not merely inside one)."""
    if not os.path.isdir(path):
        return False
    result = git(path, "rev-parse", "--show-toplevel", check=False)
    return result.returncode == 0 and os.path.realpath(output(result)) == os.path.realpath(path)


def identity_env(date: str | None = None) -> dict[str, str]:
    """Environment variables that make git commit as the collection's identity (and, with
    a date, at that fixed time: the same tree then gives the same commit id)."""
    name, email = IDENTITY
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return env


def _lock_files(git_dir: str) -> list[str]:
    found = [os.path.join(git_dir, name) for name in _LOCK_NAMES if os.path.exists(os.path.join(git_dir, name))]
    for current, _dirs, files in os.walk(os.path.join(git_dir, "refs")):
        found.extend(os.path.join(current, name) for name in files if name.endswith(".lock"))
    return sorted(found)


def lock_holders(lock: str) -> list[int] | None:
    """Processes that have lock open (git keeps its lock file open while it works), or
    None when this system cannot tell (no /proc)."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    real = os.path.realpath(lock)
    holders = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join("/proc", pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == real:
                    holders.append(int(pid))
                    break
            except OSError:
                continue
    return holders


def clear_stale_locks(repo: str, check_mode: bool = False, wait: float = LOCK_WAIT_SECONDS) -> list[str]:
    """Remove the lock files of repo's .git that no live process holds (a git killed
    mid-write leaves them, and every later git command then fails); returns the removed
    ones. A lock a live process holds is waited for, then reported as a GitError."""
    git_dir = os.path.join(repo, ".git")
    if not os.path.isdir(git_dir):
        return []
    removed = []
    deadline = time.monotonic() + wait
    for lock in _lock_files(git_dir):
        while True:
            holders = lock_holders(lock)
            if holders is None:
                try:
                    stale = time.time() - os.path.getmtime(lock) > STALE_LOCK_SECONDS
                except FileNotFoundError:
                    break
                holders = [] if stale else [0]
            if not holders or not os.path.exists(lock):
                break
            if time.monotonic() >= deadline:
                who = ", ".join("pid %d" % pid for pid in holders if pid) or "a process started less than %d s ago" % STALE_LOCK_SECONDS
                raise GitError("%s is held by a running process (%s); let it finish or stop it, then run again" % (lock, who))
            time.sleep(0.2)
        if os.path.exists(lock):
            if not check_mode:
                try:
                    os.unlink(lock)
                except FileNotFoundError:
                    pass
            removed.append(lock)
    return removed


def _holds_objects(git_dir: str) -> bool:
    for _current, _dirs, files in os.walk(os.path.join(git_dir, "objects")):
        if any(name != "packs" for name in files):
            return True
    return False


def ensure_repo(path: str, check_mode: bool = False, allow_files: bool = False) -> bool:
    """Make path a git repository (branch main) unless it is one; True when it was (or
    would be) created. A non-empty folder that is not a repository is refused unless
    allow_files (its files are then the repository's to commit). A .git that git does not
    take as a repository and that holds no object (an interrupted `git init`) is made
    again; one that holds objects is refused, naming it, rather than lose history."""
    git_dir = os.path.join(path, ".git")
    if is_repo_root(path):
        clear_stale_locks(path, check_mode)
        return False
    half_made = os.path.isdir(git_dir) and not os.path.islink(git_dir)
    if half_made and _holds_objects(git_dir):
        raise GitError("%s is a damaged git repository that holds objects; repair it (git fsck) or move it away" % git_dir)
    # A .git, even half-made, says the folder was meant to be a repository: its files are its content.
    if os.path.exists(path) and (not os.path.isdir(path) or (os.listdir(path) and not (allow_files or half_made))):
        raise GitError("%s exists and is not a git repository; give an empty or new folder, or a git repository" % path)
    if not check_mode:
        if half_made:
            shutil.rmtree(git_dir)
        os.makedirs(path, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
    return True


def head(repo: str) -> str | None:
    result = git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False)
    if result.returncode != 0:
        return None
    return output(result) or None


def list_files(repo: str) -> list[str]:
    """Tracked and untracked, not ignored files of the work tree (what ilab counts)."""
    result = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return [name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def last_commit(repo: str, path: str) -> str | None:
    """The last commit that touched path (relative to repo), or None."""
    if head(repo) is None:
        return None
    return output(git(repo, "log", "-1", "--format=%H", "--", path)) or None


def _known(repo: str, paths: list[str]) -> list[str]:
    # git refuses pathspecs that match nothing on disk and nothing it tracks.
    known = []
    for path in paths:
        if os.path.exists(os.path.join(repo, path)) or output(git(repo, "ls-files", "--", path)):
            known.append(path)
    return known


def dirty_paths(repo: str, paths: list[str]) -> list[str]:
    """Changed, staged or untracked files under paths (relative to repo)."""
    paths = _known(repo, paths)
    if not paths:
        return []
    result = git(repo, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return sorted(line[3:] for line in result.stdout.decode("utf-8", "replace").splitlines() if line.strip())


def _identity(repo: str) -> list[str]:
    if output(git(repo, "config", "user.email", check=False)):
        return []
    return ["-c", "user.name=%s" % IDENTITY[0], "-c", "user.email=%s" % IDENTITY[1]]


def commit_paths(repo: str, paths: list[str], message: str) -> str | None:
    """Stage everything under paths and commit those files alone (other staged work in
    the repository is left as it is); the new commit, or None when nothing changed."""
    clear_stale_locks(repo)
    paths = _known(repo, paths)
    if not paths:
        return None
    git(repo, "add", "-A", "--", *paths)
    changed = output(git(repo, "diff", "--cached", "--name-only", "--", *paths)).splitlines()
    if not changed:
        return None
    git(repo, *(_identity(repo) + ["commit", "-q", "--no-verify", "-m", message, "--"] + changed))
    return head(repo)


def snapshot(path: str, message: str, date: str | None = None, check_mode: bool = False) -> dict:
    """Commit every file of the folder path (made a repository first, its files included)
    as the collection's identity; with a date, the same files give the same commit id.
    Returns {"changed", "created", "commit", "locks_removed"}; in check mode nothing is written."""
    created = ensure_repo(path, check_mode=check_mode, allow_files=True)
    result = {"changed": created, "created": created, "commit": None, "locks_removed": []}
    if created and check_mode:
        result["changed"] = True
        return result
    result["locks_removed"] = [os.path.relpath(lock, path) for lock in clear_stale_locks(path, check_mode)]
    result["commit"] = head(path)
    status = output(git(path, "status", "--porcelain", "--untracked-files=all"))
    if not status:
        return result
    result["changed"] = True
    if check_mode:
        return result
    git(path, "add", "-A")
    git(path, "commit", "-q", "--no-verify", "-m", message, env_extra=identity_env(date))
    result["commit"] = head(path)
    return result
