# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The patches and the source tree: applying and reverting patches with git apply in a replay's source tree.

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import os

from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import ReplayError
from ansible_collections.autoport.zos.plugins.module_utils.replay_source import _git, _git_output, _tag_ascii


# ---------------------------------------------------------------------------
# Patches and the source tree.


class _Patch(object):
    """One patch file of the port, parsed once; ``outcome`` is set when it can never be applied."""

    def __init__(self, path: str, name: str, rel: str):
        self.path = path  # absolute path in the port dir
        self.name = name  # relative to the port dir: the record's patch_file
        self.rel = rel  # relative to the patch folder (keeps zopen's order when copied)
        self.parsed = None
        self.problem = None
        self.outcome = None
        self.files = []

    def load(self) -> None:
        try:
            pf = patch_read.read_patch_file(self.path)
        except patch_read.PatchReadError as exc:
            self.problem, self.outcome = "%s: %s" % (self.name, exc.reason), "unreadable"
            return
        try:
            patch_read.check_paths(pf)
        except patch_read.PatchReadError as exc:
            self.problem, self.outcome = "%s: %s" % (self.name, exc.reason), "unsafe-path"
            return
        if not pf.hunks and not any(fp.is_new or fp.is_deleted or fp.is_rename for fp in pf.files):
            self.problem, self.outcome = "%s: no hunks to apply" % self.name, "unreadable"
            return
        self.parsed = pf
        self.files = sorted({name for fp in pf.files for name in (fp.old_path, fp.new_path) if name})

    @property
    def usable(self) -> bool:
        return self.parsed is not None


class _Tree(object):
    """Patch application on the source repository with real ``git apply``."""

    def __init__(self, source_dir: str, env: dict, base: str, three_way: bool = False):
        self.dir = source_dir
        self.env = env
        self.base = base
        # zopen build retries a failing patch of a git source with a 3-way merge.
        self.three_way = three_way

    def reset(self, clean: bool) -> None:
        """Back to the unpatched source; ``clean`` also removes every build output."""
        steps = [["reset", "-q", "--hard", self.base]]
        if clean:
            steps.append(["clean", "-q", "-f", "-d", "-x"])
        for args in steps:
            result = _git(args, self.dir, self.env)
            if result.returncode != 0:
                raise ReplayError("cannot reset source tree %s: git %s: %s" % (self.dir, args[0], _git_output(result)))

    def apply(self, patch: _Patch, reverse: bool = False) -> str | None:
        """Apply (or revert) one patch; None on success, else git's reason."""
        flags = ["-R"] if reverse else []
        check = _git(["apply", "--check"] + flags + ["--", patch.path], self.dir, self.env)
        reason = None
        if check.returncode != 0:
            reason = _git_output(check) or "git apply --check failed"
        else:
            done = _git(["apply"] + flags + ["--", patch.path], self.dir, self.env)
            if done.returncode != 0:
                reason = _git_output(done) or "git apply failed"
        if reason is not None and self.three_way and not reverse:
            reason = self._apply_three_way(patch, reason)
        if reason is None:
            _tag_ascii([os.path.join(self.dir, name) for name in patch.files if os.path.isfile(os.path.join(self.dir, name))])
        return reason

    def _apply_three_way(self, patch: _Patch, reason: str) -> str | None:
        """zopen-build's retry: unshallow, then ``git apply --3way --ignore-space-change``.

        The index is put back afterwards (an applied patch stays a work-tree change, like
        every other); a failed merge leaves the patch's files exactly as they were.
        """
        shallow = _git(["rev-parse", "--is-shallow-repository"], self.dir, self.env)
        if _git_output(shallow) == "true":
            _git(["fetch", "-q", "--unshallow"], self.dir, self.env)
        saved = {}
        for name in patch.files:
            path = os.path.join(self.dir, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    saved[name] = handle.read()
            else:
                saved[name] = None
        done = _git(["apply", "--3way", "--ignore-space-change", "--", patch.path], self.dir, self.env)
        _git(["reset", "-q", "--"] + patch.files, self.dir, self.env)
        if done.returncode == 0:
            return None
        for name, data in saved.items():
            path = os.path.join(self.dir, name)
            if data is None:
                if os.path.isfile(path) or os.path.islink(path):
                    os.unlink(path)
            elif inside(path, self.dir):
                with open(path, "wb") as handle:
                    handle.write(data)
        return "%s; 3-way retry: %s" % (reason, _git_output(done) or "git apply --3way failed")

    def has_tracked_changes(self) -> bool:
        result = _git(["status", "--porcelain", "--untracked-files=no"], self.dir, self.env)
        return bool(_git_output(result))

    def mark_new_files(self, patches: list) -> None:
        """Make files created by patches visible to `git status` (zopen skips patching only then)."""
        new = [fp.path for patch in patches if patch.parsed for fp in patch.parsed.files if fp.is_new]
        if new:
            _git(["add", "-N", "--"] + new, self.dir, self.env)
