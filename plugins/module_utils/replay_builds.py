# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The builds of a replay: moving the tree to a set of patches and building it, for each strategy (leave_one_out, cumulative).

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import patch_dependents
from ansible_collections.autoport.zos.plugins.module_utils import replay_checkpoint
from ansible_collections.autoport.zos.plugins.module_utils.replay_attribution import _diagnostics
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import PATCH_FOLDER, ReplayError
from ansible_collections.autoport.zos.plugins.module_utils.replay_source import _bootstrap_input, _configure_input, _tag_ascii
from ansible_collections.autoport.zos.plugins.module_utils.replay_tree import _Patch


class _BuildSteps(object):
    """The build steps of patch_replay's _Harvest: move the tree to a set of patches, build, and run
    each strategy. A mixin: the state (self.state, self.tree, self.profile, ...) is the harvest's."""

    # -- tree transitions ----------------------------------------------------

    def _transition(self, target: list) -> tuple:
        """Bring the tree to exactly ``target`` (patch names, in order).

        Returns (ok, failures {name: reason}). Single patches are reverted/applied in
        place so unchanged files keep their timestamps; anything else resets first.
        """
        data = self.state.data
        current = data.get("tree")
        toggled = set()
        failures = {}
        if current is None or data.get("dirty"):
            data["tree"] = None
            self._save()
            self.tree.reset(clean=True)
            self.profile.forget_configuration(bootstrap=True)
            data["dirty"] = False
            current = []
        if current == target:
            if self.opts["profile"] == "zopen":
                self._sync_patch_folder(target)
            data["tree"] = list(target)
            self._save()
            return True, failures
        data["tree"] = None
        self._save()
        self._wait_for_newer_timestamps()
        ok = self._toggle(current, target, toggled)
        if not ok:
            self.tree.reset(clean=False)
            toggled.update(current)
            toggled.update(target)
            for name in target:
                reason = self.tree.apply(self.by_name[name])
                if reason is not None:
                    failures[name] = reason
                    break
            ok = not failures
        if not ok:
            self.tree.reset(clean=False)
            data["tree"] = []
            self._save()
            return False, failures
        if self.opts["profile"] == "zopen" and target and not self.tree.has_tracked_changes():
            self.tree.mark_new_files([self.by_name[name] for name in target])
        if self.opts["profile"] == "zopen":
            self._sync_patch_folder(target)
        files = [path for name in toggled for path in self.by_name[name].files]
        if any(_configure_input(path) for path in files):
            self.profile.forget_configuration(bootstrap=any(_bootstrap_input(path) for path in files))
        data["tree"] = list(target)
        self._save()
        return True, failures

    def _coarse_timestamps(self) -> bool:
        """Whether the work file system keeps whole seconds only (then a source edited in the
        second its object was built would look up to date to make)."""
        if self._coarse is None:
            probe = os.path.join(self.work, "tmp", ".mtime-probe")
            stamps = []
            for attempt in range(3):
                with open(probe, "w") as handle:
                    handle.write(str(attempt))
                stamps.append(os.stat(probe).st_mtime_ns)
                time.sleep(0.003)
            os.unlink(probe)
            self._coarse = all(stamp % 1000000000 == 0 for stamp in stamps)
        return self._coarse

    def _wait_for_newer_timestamps(self) -> None:
        if self.last_build_end is None or not self._coarse_timestamps():
            return
        wait = int(self.last_build_end) + 1.05 - time.time()
        if wait > 0:
            time.sleep(wait)

    def _toggle(self, current: list, target: list, toggled: set) -> bool:
        removed = [name for name in current if name not in target]
        added = [name for name in target if name not in current]
        keep = [name for name in current if name in target]
        if keep != [name for name in target if name in current]:
            return False  # order differs: not a simple toggle
        for name in reversed(removed):
            if self.tree.apply(self.by_name[name], reverse=True) is not None:
                return False
            toggled.add(name)
        for name in added:
            if self.tree.apply(self.by_name[name]) is not None:
                return False
            toggled.add(name)
        return True

    def _fresh(self, target: list) -> tuple:
        """A clean tree with ``target`` applied in order; patches that fail are left out.

        Returns (applied names, failures {name: reason}).
        """
        data = self.state.data
        data["tree"] = None
        self._save()
        self.tree.reset(clean=True)
        self.profile.forget_configuration(bootstrap=True)
        data["dirty"] = False
        applied, failures = [], {}
        for name in target:
            reason = self.tree.apply(self.by_name[name])
            if reason is None:
                applied.append(name)
            else:
                failures[name] = reason
        if self.opts["profile"] == "zopen":
            if applied and not self.tree.has_tracked_changes():
                self.tree.mark_new_files([self.by_name[name] for name in applied])
            self._sync_patch_folder(applied)
        data["tree"] = applied
        self._save()
        return applied, failures

    # -- builds --------------------------------------------------------------

    def _sync_patch_folder(self, target: list) -> None:
        """zopen profile: the swapped patch folder holds exactly the applied patches."""
        folder = os.path.join(self.root, PATCH_FOLDER)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        copies = [self.profile.write_env_file()]
        for name in target:
            patch = self.by_name[name]
            dest = os.path.join(folder, patch.rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(patch.path, dest)
            copies.append(dest)
        _tag_ascii(copies)

    def _build(self, key: str, label: str, target: list) -> dict:
        data = self.state.data
        token = uuid.uuid4().hex
        self.profile.extra_env["AUTOPORT_BUILD_TOKEN"] = token

        def started(pid: int) -> None:
            data["running"] = {"key": key, "pgid": pid, "token": token, "started": time.time()}
            self._save()

        self._say("build %s (%s)" % (key, label))
        # The operator follows the phase of the running build (posix profile: one per phase).
        self.profile.on_phase = lambda phase: self._say("build %s (%s): %s" % (key, label, phase))
        deadline = time.monotonic() + self.opts["build_timeout"]
        try:
            result = self.profile.build(key, deadline=deadline, on_start=started).to_dict()
        except build_profile.BuildProfileError as exc:
            raise ReplayError("port %s, build %s: %s" % (self.opts["port"], key, exc))
        result["key"] = key
        result["label"] = label
        result["patches"] = list(target)
        # Bounded: the checkpoint keeps a summary, the logs keep everything (replay_checkpoint).
        result["diagnostics"], result["dropped_keys"], summary = replay_checkpoint.bound_diagnostics(_diagnostics(result))
        result["diagnostics_summary"] = summary
        if summary["dropped"] or summary["fields_truncated"]:
            self.warnings.append("port %s: build %s printed %d error diagnostics (%d distinct); the checkpoint keeps %d, %d fields clipped; "
                                 "the logs have them all" % (self.opts["port"], key, summary["total"], summary["distinct"], summary["kept"],
                                                             summary["fields_truncated"]))
        self._note_toolchain(result)
        if result["status"] == "timeout":
            self.warnings.append("port %s: build %s (%s) timed out after %d s; %s" % (
                self.opts["port"], key, label, self.opts["build_timeout"], result.get("message") or ""))
        data["builds"][key] = result
        data["running"] = None
        self._save()
        self.builds_run += 1
        self.last_build_end = time.time()
        return result

    def _skip(self, key: str, label: str, reason: str) -> dict:
        result = {"key": key, "label": label, "status": "skipped", "message": reason, "phases": [], "diagnostics": [], "patches": []}
        self.state.data["builds"][key] = result
        self._save()
        return result

    # -- strategies ----------------------------------------------------------

    def _candidates(self) -> list:
        return [patch.name for patch in self.patches if patch.usable]

    def leave_one_out(self) -> None:
        data = self.state.data
        builds = data["builds"]
        if "loo-000" not in builds:
            applied, failures = self._fresh(self._candidates())
            data["excluded"] = dict(failures)
            data["active"] = applied
            self._save()
            base = self._build("loo-000", "all patches", applied)
            if base["status"] == "timeout":
                raise ReplayError("port %s: the build with all patches timed out after %d s (log %s); nothing can be attributed" % (
                    self.opts["port"], self.opts["build_timeout"], self._last_log(base)))
        elif builds["loo-000"]["status"] == "timeout":
            raise ReplayError("port %s: the build with all patches timed out after %d s (log %s); nothing can be attributed" % (
                self.opts["port"], self.opts["build_timeout"], self._last_log(builds["loo-000"])))
        active = data["active"]
        for number, patch in enumerate(self.patches, 1):
            key = "loo-%03d" % number
            if patch.name not in active or (key in builds and not patch_dependents.retry_with_dependents(builds[key])):
                continue
            target = [name for name in active if name != patch.name]
            ok, failures = self._transition(target)
            if not ok:
                self._without_dependents(key, number, patch, active)
                continue
            self._build(key, "patch %d of %d, without %s" % (number, len(self.patches), patch.name), target)
        self._reference_builds(active)
        # Leave the tree with every patch applied, the way the port builds.
        if data.get("tree") != active and not data.get("dirty"):
            self._transition(active)

    def _without_dependents(self, key: str, number: int, patch: _Patch, active: list) -> None:
        """Later patches need ``patch``: build without it and them (see patch_dependents)."""
        applied, failures = self._fresh([name for name in active if name != patch.name])
        needing = patch_dependents.dependents(active, patch.name, failures)
        if not needing:
            reason = "; ".join("%s: %s" % item for item in failures.items()) or "cannot revert %s" % patch.name
            self._skip(key, "without %s" % patch.name, "cannot build without %s: %s" % (patch.name, reason))
            self.state.data["builds"][key][patch_dependents.CHECKED] = True
            self._save()
            return
        self._build(key, "patch %d of %d, without %s and the patches that need it (%s)" % (
            number, len(self.patches), patch.name, ", ".join(needing)), applied)

    def _reference_builds(self, active: list) -> None:
        """For each patch left out with its dependents, the build without the dependents only."""
        builds = self.state.data["builds"]
        for number, patch in enumerate(self.patches, 1):
            key = patch_dependents.context_key(number)
            context = patch_dependents.context_of(active, builds.get("loo-%03d" % number), patch.name)
            if context is None or key in builds or patch_dependents.find_build(builds, context) is not None:
                continue
            label = "patch %d of %d, with %s but without the patches that need it" % (number, len(self.patches), patch.name)
            ok, failures = self._transition(context)
            if not ok:
                reason = "; ".join("%s: %s" % item for item in failures.items())
                self._skip(key, label, "cannot build without the patches that need %s: %s" % (patch.name, reason))
                continue
            self._build(key, label, context)

    def cumulative(self) -> None:
        data = self.state.data
        builds = data["builds"]
        excluded = data.setdefault("excluded", {})
        if "cum-000" not in builds:
            self._fresh([])
            self._build("cum-000", "no patches", [])
        for number, patch in enumerate(self.patches, 1):
            key = "cum-%03d" % number
            if key in builds or not patch.usable:
                continue
            earlier = [p.name for p in self.patches[: number - 1] if p.usable and p.name not in excluded]
            applied, failures = self._fresh(earlier + [patch.name])
            if patch.name in failures:
                excluded[patch.name] = failures[patch.name]
                self._skip(key, "first %d patches" % number, "%s does not apply: %s" % (patch.name, failures[patch.name]))
                continue
            if failures:
                # An earlier patch that applied before no longer does: record it as skipped.
                self._skip(key, "first %d patches" % number, "; ".join("%s: %s" % item for item in failures.items()))
                continue
            self._build(key, "patch %d of %d, first %d patches" % (number, len(self.patches), number), applied)
