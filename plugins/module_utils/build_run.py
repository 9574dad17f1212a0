# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Running one build command and what a build returns (part of build_profile).

``run_logged`` runs an argument list in its own process group with its output in a log
file, kills the whole group (``kill_process_group``, SIGTERM then SIGKILL) when the
build's time is up, stops what the command left behind, and scrubs the log
(secret_scrub.scrub_file) as soon as the command ends. ``base_environment`` is the
allow-listed part of the host environment a build may see; ``secret_values`` are the
harvest_build_env values removed from logs word for word. ``PhaseResult`` and
``BuildResult`` are what a profile's ``build()`` returns.

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field

from ansible_collections.autoport.zos.plugins.module_utils import process_tree
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_file

# Seconds a killed process group gets between SIGTERM and SIGKILL.
KILL_GRACE = 2.0


class BuildProfileError(Exception):
    """A build that cannot be started (missing program, bad setting); the message names it."""


@dataclass
class PhaseResult:
    phase: str
    status: str  # ok, failed, timeout, skipped
    returncode: int | None = None
    log: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"phase": self.phase, "status": self.status, "returncode": self.returncode, "log": self.log, "seconds": round(self.seconds, 3)}


@dataclass
class BuildResult:
    status: str  # ok, failed, timeout
    failed_phase: str | None = None
    phases: list = field(default_factory=list)
    seconds: float = 0.0
    message: str | None = None

    @property
    def log_files(self) -> list:
        return [(phase.phase, phase.log) for phase in self.phases if phase.log]

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "failed_phase": self.failed_phase,
            "phases": [phase.to_dict() for phase in self.phases],
            "seconds": round(self.seconds, 3),
            "message": self.message,
        }


# ---------------------------------------------------------------------------
# Running one command.


def kill_process_group(pgid: int, grace: float = KILL_GRACE, leader=None) -> bool:
    """Stop a process group we started: SIGTERM, then SIGKILL after ``grace`` seconds.

    ``leader`` is the group leader's Popen when we are its parent: it is reaped while
    waiting (a zombie still counts as a member of its group). Returns True when the
    group existed. Never called with anything but the id of a group this module
    created (its leader's pid).
    """
    if not pgid or pgid <= 1 or pgid == os.getpgrp():
        return False
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if leader is not None:
            leader.poll()
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return True


def group_alive(pgid: int) -> bool:
    if not pgid or pgid <= 1:
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_leftovers(child: subprocess.Popen, env: dict, grace: float) -> None:
    """Stop everything a command left: its process group, and every process carrying the
    build's marker (children that called setsid or daemonized; see process_tree)."""
    if group_alive(child.pid):
        kill_process_group(child.pid, grace=grace, leader=child)
    child.wait()
    token = (env or {}).get(process_tree.BUILD_MARKER)
    if token:
        process_tree.stop(pgids={child.pid}, markers=((process_tree.BUILD_MARKER, token),), grace=grace)


def run_logged(argv: list, cwd: str, env: dict, log_path: str, deadline: float | None, on_start=None, redact=()) -> tuple:
    """Run argv with stdout and stderr into log_path, in a new process group, and scrub
    the log (secret_scrub.scrub_file, plus the literal ``redact`` values) once the
    command has ended.
    """
    try:
        return _run_into_log(argv, cwd, env, log_path, deadline, on_start)
    finally:
        if os.path.isfile(log_path):
            scrub_file(log_path, literals=redact)


def _run_into_log(argv: list, cwd: str, env: dict, log_path: str, deadline: float | None, on_start=None) -> tuple:
    """Run argv with stdout and stderr into log_path, in a new process group.

    ``deadline`` is a time.monotonic() value; past it the whole group is killed and
    the log says so. ``on_start(pid)`` is called once the child runs (the caller
    checkpoints the group id so a resumed run can stop a leftover build). When it ends,
    whatever it left running is stopped (stop_leftovers).
    Returns (returncode or None, timed_out).
    """
    if not argv or not isinstance(argv, (list, tuple)):
        raise BuildProfileError("internal error: a command must be an argument list")
    parent = os.path.dirname(os.path.abspath(log_path))
    os.makedirs(parent, exist_ok=True)
    with open(log_path, "wb") as log:
        try:
            child = subprocess.Popen(
                [str(arg) for arg in argv],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise BuildProfileError("cannot run %s in %s: %s" % (argv[0], cwd, exc.strerror or exc))
        if on_start is not None:
            on_start(child.pid)
        timed_out = False
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    timed_out = True
                    break
                try:
                    child.wait(timeout=None if remaining is None else min(remaining, 1.0))
                    break
                except subprocess.TimeoutExpired:
                    continue
        except BaseException:
            # Interrupted (Ctrl-C, an error in on_start...): never leave a build running.
            stop_leftovers(child, env, KILL_GRACE)
            raise
        if timed_out:
            stop_leftovers(child, env, KILL_GRACE)
            log.write(b"\nautoport: build time limit reached; process group killed\n")
            return None, True
        # The leader is gone; stop anything it left behind (make -j children, daemons).
        stop_leftovers(child, env, 0.2)
        return child.returncode, False


# ---------------------------------------------------------------------------
# Environment shared by both profiles.

# Host variables a build may see. Everything else (tokens, passwords, cloud and
# registry credentials the operator exported) is left out; add what a port needs
# through harvest_build_env.
ALLOWED_ENV_NAMES = frozenset((
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "LIBPATH", "LD_LIBRARY_PATH", "STEPLIB", "MANPATH", "PKG_CONFIG_PATH", "ACLOCAL_PATH", "PYTHONPATH", "PYTHONHOME", "JAVA_HOME",
    "ZOAU_HOME", "_BPXK_AUTOCVT", "_CEE_RUNOPTS", "_ENCODE_FILE_NEW", "_ENCODE_FILE_EXISTING",
    "CC", "CXX", "CPP", "LD", "AR", "AS", "NM", "RANLIB", "STRIP", "M4", "MAKE", "MAKEFLAGS",
    "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "LIBS",
    "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "PERL5LIB",
))
ALLOWED_ENV_PREFIXES = ("LC_", "ZOPEN_", "_TAG_REDIR_", "_BPXK_", "_BPX_", "_CEE_")


# harvest_build_env variables whose values are removed from build logs word for word,
# whatever they look like: their names say they are credentials.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASS|PWD|KEY|AUTH|CRED|SIG", re.I)


def secret_values(env: dict) -> tuple:
    """Values of the variables of ``env`` (harvest_build_env) named like credentials."""
    return tuple(sorted(set(str(value) for name, value in (env or {}).items() if _SECRET_NAME.search(str(name)) and len(str(value)) >= 4)))


def base_environment(environ: dict | None = None) -> dict:
    """The allow-listed part of the host environment (``os.environ`` by default)."""
    source = os.environ if environ is None else environ
    return dict((name, value) for name, value in source.items() if name in ALLOWED_ENV_NAMES or name.startswith(ALLOWED_ENV_PREFIXES))


def _words(value: str | None) -> str:
    return " ".join((value or "").split())
