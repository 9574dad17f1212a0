# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The options of a replay: their checks and defaults, the constants they name, and ReplayError.

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import hashlib
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import replay_lock


STRATEGIES = ("leave_one_out", "cumulative")
PROFILES = ("posix", "zopen")
BUILD_LINES = ("auto", "STABLE", "DEV")

# What became of each patch.
OUTCOMES = (
    "fixed",  # its absence made diagnostics appear: build records
    "no-effect",  # builds the same without it: no record (the mine stage gives its static ones)
    "does-not-apply",  # git apply --check refused it
    "cannot-revert",  # (leave_one_out) no build without it (or without the patches that need it) could be made
    "unsafe-path",  # touches an absolute path or leaves the source tree: never applied
    "unreadable",  # not a patch we can parse
    "timeout",  # the build without it hung (killed at build_timeout); no diagnostics to credit
    "pending",  # not built yet (check mode)
)

DEFAULT_BUILD_TIMEOUT = 3600
PATCH_FOLDER = "autoport-patches"


class ReplayError(Exception):
    """The harvest of a port cannot go on; the message names the input at fault."""


# ---------------------------------------------------------------------------
# Options.


def safe_name(name: str) -> str:
    """A directory name for a port: letters, digits, '.', '_', '-' only, never hidden or empty.

    A changed name gets a short hash of the original, so two hostile names that
    clean up the same still get different directories.
    """
    text = str(name or "")
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".-")[:64]
    if cleaned != text or not cleaned:
        digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        cleaned = "%s-%s" % (cleaned or "port", digest)
    return cleaned


def _options(options: dict) -> dict:
    opts = dict(options or {})
    port_dir = opts.get("port_dir")
    if not port_dir or not isinstance(port_dir, str):
        raise ReplayError("port_dir is required")
    opts["port_dir"] = os.path.abspath(port_dir)
    if not os.path.isdir(opts["port_dir"]):
        raise ReplayError("port_dir %s: no such directory" % opts["port_dir"])
    work_dir = opts.get("work_dir")
    if not work_dir or not isinstance(work_dir, str):
        raise ReplayError("work_dir is required")
    opts["port"] = opts.get("port") or os.path.basename(opts["port_dir"].rstrip(os.sep))
    if any(ord(char) < 32 for char in opts["port"]):
        raise ReplayError("port name %r contains control characters" % opts["port"])
    opts["work_dir"] = os.path.abspath(work_dir)
    opts["work"] = os.path.join(opts["work_dir"], safe_name(opts["port"]))
    opts["state_dir"] = os.path.abspath(opts.get("state_dir") or os.path.join(opts["work"], "state"))
    opts["log_dir"] = os.path.abspath(opts.get("log_dir") or os.path.join(opts["work"], "logs"))
    opts["dest"] = os.path.abspath(opts.get("dest") or os.path.join(opts["work"], "records.jsonl"))
    opts["profile"] = opts.get("profile") or "posix"
    if opts["profile"] not in PROFILES:
        raise ReplayError("profile %r: expected one of %s" % (opts["profile"], ", ".join(PROFILES)))
    opts["strategy"] = opts.get("strategy") or "leave_one_out"
    if opts["strategy"] not in STRATEGIES:
        raise ReplayError("strategy %r: expected one of %s" % (opts["strategy"], ", ".join(STRATEGIES)))
    line = opts.get("build_line") or "auto"
    if line.upper() in ("STABLE", "DEV"):
        line = line.upper()
    if line not in BUILD_LINES:
        raise ReplayError("build_line %r: expected auto, STABLE or DEV" % opts.get("build_line"))
    opts["build_line"] = line
    timeout = opts.get("build_timeout")
    try:
        opts["build_timeout"] = DEFAULT_BUILD_TIMEOUT if timeout is None else int(timeout)
    except (TypeError, ValueError):
        raise ReplayError("build_timeout must be a positive number of seconds, got %r" % timeout)
    if opts["build_timeout"] <= 0:
        raise ReplayError("build_timeout must be a positive number of seconds, got %r" % timeout)
    env = opts.get("env") or {}
    if not isinstance(env, dict):
        raise ReplayError("env must be a mapping of variable names to values")
    for key in env:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(key)):
            raise ReplayError("env: %r is not a valid environment variable name" % key)
    opts["env"] = {str(key): str(value) for key, value in env.items()}
    if opts.get("mirror_dir"):
        opts["mirror_dir"] = os.path.abspath(opts["mirror_dir"])
    opts["zopen_command"] = opts.get("zopen_command") or "zopen"
    opts["check_mode"] = bool(opts.get("check_mode"))
    opts["if_running"] = opts.get("if_running") or "wait"
    if opts["if_running"] not in replay_lock.IF_RUNNING:
        raise ReplayError("if_running %r: expected one of %s" % (opts["if_running"], ", ".join(replay_lock.IF_RUNNING)))
    if opts.get("system") is not None and not isinstance(opts["system"], dict):
        raise ReplayError("system must be a mapping of facts")
    return opts


def _locale_env(opts: dict) -> dict:
    """The locale environment a build runs with (both profiles default to LC_ALL=C)."""
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")
    env.update(opts.get("env") or {})
    return env
