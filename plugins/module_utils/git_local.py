# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The few git operations the taxonomy renderer needs on local repositories.

Commands run with an argument list (never a shell), with signing and prompts off, and an
identity only when the repository has none configured, so a render works on a fresh
machine and never waits for input. Standard library only.
"""

from __future__ import annotations

import os
import subprocess

FALLBACK_NAME = "autoport.zos"
FALLBACK_EMAIL = "autoport.zos@localhost"


class GitError(Exception):
    """A git command that failed; the message names the repository and the command."""


def git(repo: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    command = ["git", "-C", repo, "-c", "commit.gpgsign=false", "-c", "core.quotepath=off"] + list(args)
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    except OSError as exc:
        raise GitError("cannot run git for %s: %s" % (repo, exc))
    if check and result.returncode != 0:
        raise GitError("git %s failed in %s: %s" % (" ".join(args[:2]), repo, result.stderr.decode("utf-8", "replace").strip()[:500]))
    return result


def _out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8", "replace").strip()


def is_repo_root(path: str) -> bool:
    """True when path is the top of a git work tree (not merely inside one)."""
    if not os.path.isdir(path):
        return False
    result = git(path, "rev-parse", "--show-toplevel", check=False)
    return result.returncode == 0 and os.path.realpath(_out(result)) == os.path.realpath(path)


def ensure_repo(path: str, check_mode: bool = False) -> bool:
    """Make path a git repository (branch main) unless it is one; True when it was (or
    would be) created. A non-empty folder that is not a repository is refused."""
    if is_repo_root(path):
        return False
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise GitError("%s exists and is not a git repository; give an empty or new folder, or a git repository" % path)
    if not check_mode:
        os.makedirs(path, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
    return True


def head(repo: str) -> str | None:
    result = git(repo, "rev-parse", "--verify", "-q", "HEAD", check=False)
    if result.returncode != 0:
        return None
    return _out(result) or None


def last_commit(repo: str, path: str) -> str | None:
    """The last commit that touched path (relative to repo), or None."""
    if head(repo) is None:
        return None
    return _out(git(repo, "log", "-1", "--format=%H", "--", path)) or None


def _known(repo: str, paths: list[str]) -> list[str]:
    # git refuses pathspecs that match nothing on disk and nothing it tracks.
    known = []
    for path in paths:
        if os.path.exists(os.path.join(repo, path)) or _out(git(repo, "ls-files", "--", path)):
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
    if _out(git(repo, "config", "user.email", check=False)):
        return []
    return ["-c", "user.name=%s" % FALLBACK_NAME, "-c", "user.email=%s" % FALLBACK_EMAIL]


def commit_paths(repo: str, paths: list[str], message: str) -> str | None:
    """Stage everything under paths and commit those files alone (other staged work in
    the repository is left as it is); the new commit, or None when nothing changed."""
    paths = _known(repo, paths)
    if not paths:
        return None
    git(repo, "add", "-A", "--", *paths)
    changed = _out(git(repo, "diff", "--cached", "--name-only", "--", *paths)).splitlines()
    if not changed:
        return None
    git(repo, *(_identity(repo) + ["commit", "-q", "--no-verify", "-m", message, "--"] + changed))
    return head(repo)
