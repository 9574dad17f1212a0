# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Checkpoint and resume: the replay state file, and recovering from a replay that was interrupted.

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import process_tree
from ansible_collections.autoport.zos.plugins.module_utils import replay_checkpoint
from ansible_collections.autoport.zos.plugins.module_utils import replay_lock
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import ReplayError


STATE_VERSION = 1


# ---------------------------------------------------------------------------
# State.


class _State(object):
    """The checkpoint: ``replay.json`` plus one diagnostics file per build (replay_checkpoint)."""

    def __init__(self, path: str):
        self.path = path
        self.data = None
        self.store = replay_checkpoint.DiagnosticStore(os.path.dirname(path))

    def load(self) -> dict | None:
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            return None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return self.store.attach(data)

    def save(self) -> None:
        try:
            slim = self.store.detach(self.data)
            write_if_changed(self.path, (json.dumps(slim, sort_keys=True, indent=1) + "\n").encode("utf-8"))
        except (OutputError, replay_checkpoint.CheckpointError) as exc:
            raise ReplayError("cannot write the checkpoint: %s" % exc)


def _new_state(fingerprint: str, opts: dict) -> dict:
    return {
        "version": STATE_VERSION,
        "fingerprint": fingerprint,
        "port": opts["port"],
        "strategy": opts["strategy"],
        "profile": opts["profile"],
        "prepared": False,
        "base": None,
        "tree": None,
        "dirty": False,
        "running": None,
        "active": None,
        "excluded": {},
        "builds": {},
        "toolchain": None,
        "complete": False,
    }


class _ResumeSteps(object):
    """The resume steps of patch_replay's _Harvest: forget stale logs, stop and redo a build an
    interrupted run left behind. A mixin: the state (self.state, self.tree, ...) is the harvest's."""

    def _forget_old_logs(self) -> None:
        folder = self.opts["log_dir"]
        if not os.path.isdir(folder):
            return
        for name in os.listdir(folder):
            if re.match(r"^(loo|cum|dep)-\d{3}-[a-z]+\.log$", name):
                os.unlink(os.path.join(folder, name))

    def _recover_interrupted_build(self) -> None:
        running = self.state.data.get("running")
        if not running:
            return
        self.resumed = True
        # Objects written by a killed compiler may be truncated: rebuild that step from a clean tree.
        self.state.data["running"] = None
        self.state.data["dirty"] = True
        self.state.data["tree"] = None
        self._save()

    def _stop_leftover(self, running: dict) -> None:
        pgid = int(running.get("pgid") or 0)
        token = running.get("token", "")
        if build_profile.group_alive(pgid) and self._ours(pgid, token):
            self._say("stopping the build left running by an interrupted run (process group %d)" % pgid)
            build_profile.kill_process_group(pgid)
        if token:
            # Its children that left the group (setsid) still carry the build's token.
            process_tree.stop(markers=((process_tree.BUILD_MARKER, token),), grace=build_profile.KILL_GRACE)

    def _stop_earlier_replay(self) -> None:
        """Stop what a dead earlier replay left running (found by its id: builds that left their
        process group included). Its lock is ours now, so it no longer runs."""
        token = self.previous_replay.get("token")
        if not token or token == self.replay_id:
            return
        left = process_tree.stop(markers=((process_tree.REPLAY_MARKER, token),), grace=build_profile.KILL_GRACE)
        if left:
            self.warnings.append("stopped %d processes left running by an interrupted replay (%s)" % (len(left), replay_lock.describe(self.previous_replay)))

    @staticmethod
    def _ours(pgid: int, token: str) -> bool:
        environ = "/proc/%d/environ" % pgid
        if not os.path.exists("/proc/self/environ") or not os.path.exists(environ):
            # No procfs (z/OS), or the leader is gone while its group lives on: a
            # process group id is not reused while any member is alive.
            return True
        try:
            with open(environ, "rb") as handle:
                return ("AUTOPORT_BUILD_TOKEN=%s" % token).encode("ascii") in handle.read().split(b"\0")
        except OSError:
            return False
