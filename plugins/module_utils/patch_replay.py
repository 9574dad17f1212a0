# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Replay a port's patches against real builds and record what each patch fixed.

One call does the whole loop for one port (so the number of Ansible tasks does not
grow with its patches):

1. Read ``buildenv`` without running it, pick the patch folder and order the way
   ``zopen build`` does (port_layout), get the upstream source (git or tarball,
   tag/branch, ``file://``, local paths, a mirror directory for hosts without
   internet) into a fresh git repository under the work directory.
2. Build through a profile (build_profile: ``posix`` or ``zopen``) with one of two
   strategies:

   * ``leave_one_out``: build once with every patch; then, for each patch, revert it
     with ``git apply -R``, rebuild incrementally (only what the patch touched is
     recompiled) and re-apply it. The patch is credited with the diagnostics that
     appear without it. When later patches do not apply without it, it is left out
     with them and compared with the build without them only (patch_dependents).
   * ``cumulative``: build with no patch, then with the first k patches for every
     k, each from a clean tree. Patch k is credited with the diagnostics present
     before it and gone after it.

3. Each credited diagnostic becomes a fix record: the patch hunk nearest to the
   diagnostic's file and line gives ``wrong_code``/``correct_code``/``patch``, the
   real message is the ``error``. Only build-proven records are written: a patch
   whose removal breaks nothing, and a hunk no diagnostic points at, give no record
   here. The mine stage (static_mine, the ``patch_mine`` module) is the one source
   of ``provenance: static`` records, one per hunk; curate lets a build record
   replace the static record of its hunk.

Every build is checkpointed in ``state_dir``: killed at any moment and run again, the
harvest continues (a build cut short is redone from a clean tree) and ends with
exactly the records an uninterrupted run writes. All writes stay under the port's
work directory (plus ``dest``, ``state_dir`` and ``log_dir`` when given).

The parts, one job each: replay_options (option checks and defaults, ReplayError),
replay_source (getting the upstream source), replay_tree (applying and reverting patches),
replay_state and replay_checkpoint (checkpoint/resume), replay_builds (the builds of each
strategy), replay_attribution (crediting diagnostics to patches, the records), replay_lock,
process_tree, patch_dependents, port_records. This module reads the port, runs the harvest
and builds the one result that check mode and a real run return; ``replay_port`` is the
entry point of the module and the benchmarks.

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import uuid

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import port_layout
from ansible_collections.autoport.zos.plugins.module_utils import process_tree
from ansible_collections.autoport.zos.plugins.module_utils import replay_attribution, replay_builds, replay_state
from ansible_collections.autoport.zos.plugins.module_utils import replay_lock
from ansible_collections.autoport.zos.plugins.module_utils import static_mine
from ansible_collections.autoport.zos.plugins.module_utils import step_stamp
from ansible_collections.autoport.zos.plugins.module_utils.replay_attribution import _diagnostics, _relative_error
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import PATCH_FOLDER, ReplayError, _locale_env, _options
from ansible_collections.autoport.zos.plugins.module_utils.replay_source import _GIT_IDENTITY, _Source, _bootstrap_input, _code_dir_name
from ansible_collections.autoport.zos.plugins.module_utils.replay_source import _configure_input, _local_source, _sha256_file, _tag_tree
from ansible_collections.autoport.zos.plugins.module_utils.replay_state import STATE_VERSION, _State, _new_state
from ansible_collections.autoport.zos.plugins.module_utils.replay_tree import _Patch, _Tree
# Re-exported: callers and tests name these as patch_replay's.
from ansible_collections.autoport.zos.plugins.module_utils.replay_attribution import _credited  # noqa: F401  pylint: disable=unused-import
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import safe_name  # noqa: F401  pylint: disable=unused-import
from ansible_collections.autoport.zos.plugins.module_utils.replay_source import ZOPEN_GITATTRIBUTES, _safe_extract  # noqa: F401  pylint: disable=unused-import


def _sorted_like_zopen(names: list, env: dict) -> list:
    """``names`` (paths relative to the patch folder) in the order zopen-build applies them:
    ``find . -name "*.patch" | sort`` in the build's locale. Byte order when sort cannot run."""
    lines = ["./%s" % name for name in names]
    if len(lines) < 2 or any("\n" in line for line in lines):
        return list(names)
    try:
        done = subprocess.run(["sort"], input="\n".join(lines).encode("utf-8", "surrogateescape") + b"\n", env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return list(names)
    order = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if done.returncode != 0 or sorted(order) != sorted(lines):
        return list(names)
    return [line[2:] for line in order]


def _load_port(opts: dict) -> dict:
    port_dir = opts["port_dir"]
    buildenv_path = os.path.join(port_dir, "buildenv")
    if not os.path.isfile(buildenv_path):
        raise ReplayError("port %s: no buildenv in %s" % (opts["port"], port_dir))
    try:
        buildenv = port_layout.read_buildenv(buildenv_path)
        patch_dir, line = port_layout.select_patch_dir(port_dir, buildenv, opts["build_line"])
    except port_layout.PortLayoutError as exc:
        raise ReplayError("port %s: %s" % (opts["port"], exc))
    patches = []
    warnings = ["buildenv: %s" % text for text in getattr(buildenv, "warnings", [])]
    if patch_dir:
        errors = []
        for path in port_layout.list_patches(patch_dir, errors):
            name = os.path.relpath(path, port_dir).replace(os.sep, "/")
            if not inside(path, port_dir):
                warnings.append("%s: symlink leads outside the port directory; skipped" % name)
                continue
            patch = _Patch(path, name, os.path.relpath(path, patch_dir).replace(os.sep, "/"))
            patch.load()
            patches.append(patch)
        warnings.extend("%s: %s" % (folder, reason) for folder, reason in errors)
        # zopen build applies them in `sort` order of the build's locale.
        order = _sorted_like_zopen([patch.rel for patch in patches], _locale_env(opts))
        rank = {rel: index for index, rel in enumerate(order)}
        patches.sort(key=lambda patch: rank.get(patch.rel, len(rank)))
    else:
        warnings.append("port %s has no patch folder for build line %s" % (opts["port"], line))
    spec = port_layout.source_spec(buildenv, line)
    if opts.get("source"):
        override = opts["source"]
        local = _local_source(override, None)
        is_git = override.rstrip("/").endswith(".git") or (local is not None and os.path.isdir(local))
        spec = dict(spec, url=override, kind="git" if is_git else "tarball")
    if not spec.get("url"):
        raise ReplayError("port %s: buildenv names no source URL for build line %s" % (opts["port"], line))
    with open(buildenv_path, "rb") as handle:
        buildenv_digest = hashlib.sha256(handle.read()).hexdigest()
    return {
        "buildenv": buildenv,
        "buildenv_digest": buildenv_digest,
        "patch_dir": patch_dir,
        "build_line": line,
        "patches": patches,
        "spec": spec,
        "warnings": warnings,
        "code_dir": _code_dir_name(spec["url"], spec["kind"]),
    }


def _fingerprint(opts: dict, port: dict) -> str:
    material = {
        "version": STATE_VERSION,
        "port": opts["port"],
        "strategy": opts["strategy"],
        "profile": opts["profile"],
        "build_line": port["build_line"],
        "cflags": opts.get("cflags"),
        "env": sorted(opts["env"].items()),
        "source": port["spec"],
        "mirror_dir": opts.get("mirror_dir"),
        "zopen_command": opts["zopen_command"] if opts["profile"] == "zopen" else None,
        "buildenv": port["buildenv_digest"],
        "patches": [(patch.name, _sha256_file(patch.path)) for patch in port["patches"]],
    }
    return step_stamp.values_digest(material)


# ---------------------------------------------------------------------------
# The harvest.


class _Harvest(replay_state._ResumeSteps, replay_builds._BuildSteps, replay_attribution._RecordSteps):
    """One port's harvest: the setup steps here, the rest from the mixins."""
    def __init__(self, opts: dict, port: dict, fingerprint: str, progress=None):
        self.opts = opts
        self.port = port
        self.fingerprint = fingerprint
        self.progress = progress or (lambda message: None)
        self.patches = port["patches"]
        self.by_name = {patch.name: patch for patch in self.patches}
        self.work = opts["work"]
        self.root = os.path.join(self.work, "root")
        self.state = _State(os.path.join(opts["state_dir"], "replay.json"))
        self.builds_run = 0
        self.resumed = False
        self.warnings = list(port["warnings"])
        self.git_env = self._git_env()
        self.tree = None
        self.profile = None
        self.last_build_end = None
        self._coarse = None
        # Every process the replay starts carries this id (process_tree), so a later run can
        # stop whatever an interrupted one left behind, even outside its process groups.
        self.replay_id = opts.get("replay_id") or uuid.uuid4().hex
        self.previous_replay = opts.get("previous_replay") or {}

    # -- setup ---------------------------------------------------------------

    def _git_env(self) -> dict:
        env = build_profile.base_environment()
        env.update(_GIT_IDENTITY)
        home = os.path.join(self.work, "home")
        env.update({"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "XDG_CONFIG_HOME": home})
        if self.opts.get("replay_id"):
            env[process_tree.REPLAY_MARKER] = self.opts["replay_id"]
        return env

    def _say(self, message: str) -> None:
        self.progress("%s: %s" % (self.opts["port"], message))

    def _save(self) -> None:
        self.state.save()

    def start(self) -> None:
        data = self.state.load()
        if data is not None and data.get("running"):
            # Whatever the inputs are now, a build left running by a killed run must stop first.
            self._stop_leftover(data["running"])
        self._stop_earlier_replay()
        if step_stamp.same_fingerprint(data, self.fingerprint):
            self.state.data = data
            self.resumed = bool(data.get("builds") or data.get("prepared")) and not data.get("complete")
        else:
            if data is not None:
                self.warnings.append("the port or options changed since the last harvest in %s; starting again" % self.work)
            self.state.data = _new_state(self.fingerprint, self.opts)
            self._forget_old_logs()
        if self.state.data.get("code_dir"):
            self.port["code_dir"] = self.state.data["code_dir"]
        if self.state.data["prepared"] and not os.path.isdir(os.path.join(self.root, self.port["code_dir"], ".git")):
            self.warnings.append("the source tree of the last harvest is gone from %s; starting again" % self.root)
            self.state.data = _new_state(self.fingerprint, self.opts)
            self.resumed = False
        for folder in (self.work, os.path.join(self.work, "home"), os.path.join(self.work, "tmp")):
            os.makedirs(folder, exist_ok=True)
        self._recover_interrupted_build()
        if not self.state.data["prepared"]:
            self._prepare()
        self.tree = _Tree(os.path.join(self.root, self.port["code_dir"]), self.git_env, self.state.data["base"],
                          three_way=self.port["spec"]["kind"] == "git")
        self.profile = self._make_profile(self.state.data.get("source_archive"))
        if self.state.data.get("toolchain") is None and (self.opts.get("toolchain") or self.opts["profile"] == "posix"):
            self.state.data["toolchain"] = self.opts.get("toolchain") or self._default_toolchain()
            self._save()

    def _make_profile(self, archive: str | None):
        profile = build_profile.make_profile(
            self.opts["profile"],
            root=self.root,
            source_dir=os.path.join(self.root, self.port["code_dir"]),
            buildenv=self.port["buildenv"],
            build_line=self.port["build_line"],
            log_dir=self.opts["log_dir"],
            env=self.opts["env"],
            cflags=self.opts.get("cflags"),
            zopen_command=self.opts["zopen_command"],
            patch_dir_name=PATCH_FOLDER,
            explicit_line=self.opts["build_line"] != "auto",
            # zopen build downloads a tarball on every build: it gets the harvest's local copy.
            source_url=("file://" + urllib.parse.quote(archive)) if archive else None,
        )
        # Every process a build starts carries the replay's marker, so leftovers are found (process_tree).
        profile.extra_env[process_tree.REPLAY_MARKER] = self.replay_id
        return profile

    def _default_toolchain(self) -> str:
        if self.opts["profile"] == "posix":
            return build_profile.toolchain_label("posix", self.opts["env"])
        # No zopen build got as far as printing its compiler: the one zopen build picks,
        # check_clang's (Open XL clang) unless the buildenv's ZOPEN_COMP names another.
        named = port_layout.compiler_toolchain(self.port["buildenv"])
        return named if named != "unknown" else "ibm-clang"

    def _zopen_source_dir(self, archive: str | None) -> str:
        """zopen profile: the folder the real script names (``zopen build --print-source-dir``)."""
        try:
            return self._make_profile(archive).print_source_dir(time.monotonic() + self.opts["build_timeout"])
        except build_profile.BuildProfileError as exc:
            raise ReplayError("port %s: %s" % (self.opts["port"], exc))

    def _note_toolchain(self, result: dict) -> None:
        """zopen profile: the toolchain is the compiler the build really ran (its CC)."""
        if self.state.data.get("toolchain") or self.opts["profile"] != "zopen":
            return
        for phase in result.get("phases", []):
            if phase.get("phase") == "zopen" and phase.get("log"):
                compiler = self.profile.compiler_used(phase["log"])
                if compiler:
                    self.state.data["toolchain"] = build_profile.toolchain_label("zopen", self.opts["env"], compiler=compiler)

    def _prepare(self) -> None:
        self._say("getting the source")
        if os.path.isdir(self.root):
            shutil.rmtree(self.root)
        # The port repo (buildenv, patch folders, scripts) is copied: zopen build runs in it.
        shutil.copytree(self.opts["port_dir"], self.root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                path = os.path.join(folder, name)
                if os.path.islink(path) and not inside(path, self.root):
                    os.unlink(path)
        # z/OS: files that came by tar (buildenv, patches) carry no code page tag, and an
        # untagged file is read as EBCDIC; tag them like the upstream tree.
        _tag_tree(self.root)
        if self.port["spec"]["kind"] == "git" and os.path.lexists(os.path.join(self.root, self.port["code_dir"])):
            raise ReplayError("port %s already contains a %s/ folder where the source should go" % (self.opts["port_dir"], self.port["code_dir"]))
        source = _Source(self.opts, self.port, self.root, self.git_env,
                         source_dir_of=self._zopen_source_dir if self.opts["profile"] == "zopen" else None)
        self.state.data["base"] = source.fetch()
        self.state.data["code_dir"] = self.port["code_dir"]
        self.state.data["source_archive"] = source.archive
        self.state.data["prepared"] = True
        self.state.data["tree"] = []
        self._save()


def _planned_builds(opts: dict, port: dict) -> int:
    usable = sum(1 for patch in port["patches"] if patch.usable)
    return 1 + usable


def _check_mode_report(opts: dict, port: dict, fingerprint: str) -> dict:
    state = _State(os.path.join(opts["state_dir"], "replay.json"))
    data = state.load()
    same = step_stamp.same_fingerprint(data, fingerprint)
    planned = _planned_builds(opts, port)
    done = len(data.get("builds", {})) if same else 0
    patches = []
    for patch in port["patches"]:
        patches.append({
            "patch": patch.name, "outcome": patch.outcome or "pending", "left_out_with": [], "diagnostics_fixed": 0, "categories": [], "records": 0,
            "error": patch.problem})
    records_missing = not same or not data.get("complete")
    if same and data.get("complete"):
        port["code_dir"] = data.get("code_dir") or port["code_dir"]
        harvest = _Harvest(opts, port, fingerprint)
        harvest.state.data = data
        records, patches = harvest.records()
        records_missing = harvest.write_records(records, check_mode=True)["changed"]
    return _result(
        opts, port, state.path, changed=bool(planned - done > 0 or records_missing),
        resumed=bool(same and done and not data.get("complete")), builds=0, builds_planned=planned,
        builds_remaining=max(planned - done, 0), records=0, records_written=0, records_removed=0,
        patches=patches, log_files=[], build_results=[], warnings=list(port["warnings"]))


def _result(opts: dict, port: dict, state_file: str, *, changed: bool, resumed: bool, builds: int, builds_planned: int,
            builds_remaining: int, records: int, records_written: int, records_removed: int, patches: list,
            log_files: list, build_results: list, warnings: list) -> dict:
    """The module's result (its RETURN): check mode and a real run build it here, with the same keys."""
    return {
        "changed": changed,
        "port": opts["port"],
        "profile": opts["profile"],
        "strategy": opts["strategy"],
        "build_line": port["build_line"],
        "patch_dir": os.path.relpath(port["patch_dir"], opts["port_dir"]) if port["patch_dir"] else None,
        "source": port["spec"]["url"],
        "work_dir": opts["work"],
        "state_file": state_file,
        "records_file": opts["dest"],
        "resumed": resumed,
        "builds": builds,
        "builds_planned": builds_planned,
        "builds_remaining": builds_remaining,
        "records": records,
        "records_written": records_written,
        "records_removed": records_removed,
        "patches": patches,
        "log_files": log_files,
        "build_results": build_results,
        "warnings": warnings,
    }


def replay_port(options: dict, progress=None) -> dict:
    """Harvest one port: builds, attribution, records. See the module doc.

    ``options`` are the module's (port_dir, port, work_dir, state_dir, dest, log_dir,
    profile, strategy, build_line, mirror_dir, source, build_timeout, cflags, env,
    toolchain, system, port_commit, zopen_command, if_running, check_mode).
    ``progress(message)`` is called before each step. One replay at a time holds the
    port's work directory (replay_lock; ``if_running`` says what to do with a live one). Returns the module's result (see its RETURN).
    Raises ReplayError naming the input when the harvest cannot proceed.
    """
    opts = _options(options)
    port = _load_port(opts)
    if opts["profile"] == "zopen" and opts.get("cflags"):
        # Strict posix flags on a z/OS build would make errors the port never had.
        port["warnings"].append("cflags are the posix profile's; zopen build compiles with the host's zopen compiler flags only")
        opts["cflags"] = None
    if opts.get("port_commit") is None:
        opts["port_commit"] = static_mine.port_head_commit(opts["port_dir"])
    fingerprint = _fingerprint(opts, port)
    if opts["check_mode"]:
        return _check_mode_report(opts, port, fingerprint)
    lock = replay_lock.ReplayLock(os.path.join(opts["work"], "replay.lock"))

    def waiting(holder: dict) -> None:
        if progress is not None:
            progress("%s: waiting for the replay already running in this work directory (%s)" % (opts["port"], replay_lock.describe(holder)))

    try:
        taken = lock.acquire(opts["if_running"], on_wait=waiting)
    except replay_lock.LockBusy as exc:
        raise ReplayError("port %s: %s" % (opts["port"], exc))
    except OSError as exc:
        raise ReplayError("port %s: cannot lock %s: %s" % (opts["port"], lock.path, exc))
    try:
        opts["replay_id"] = lock.token
        opts["previous_replay"] = taken["previous"]
        return _run_harvest(opts, port, fingerprint, progress, taken)
    finally:
        lock.release()


def _run_harvest(opts: dict, port: dict, fingerprint: str, progress, taken: dict) -> dict:
    """The harvest proper, run while holding the work directory's lock."""
    harvest = _Harvest(opts, port, fingerprint, progress)
    if taken["stopped"]:
        harvest.warnings.append("stopped the replay that was running in %s (%s) and %d processes of it" % (
            opts["work"], replay_lock.describe(taken["previous"]), len(taken["stopped"])))
    elif taken["waited_s"] >= 1:
        harvest.warnings.append("waited %d s for the replay that was running in %s (%s)" % (
            taken["waited_s"], opts["work"], replay_lock.describe(taken["previous"])))
    try:
        harvest.start()
        if opts["strategy"] == "leave_one_out":
            harvest.leave_one_out()
        else:
            harvest.cumulative()
    except (OSError, shutil.Error) as exc:
        raise ReplayError("port %s: %s" % (opts["port"], exc))
    records, summary = harvest.records()
    output = harvest.write_records(records)
    data = harvest.state.data
    was_complete = data.get("complete")
    data["complete"] = True
    harvest.state.save()
    return _result(
        opts, port, harvest.state.path, changed=bool(harvest.builds_run or output["changed"] or not was_complete),
        resumed=harvest.resumed, builds=harvest.builds_run, builds_planned=len(data["builds"]), builds_remaining=0,
        records=len(records), records_written=output["written"], records_removed=output["removed"], patches=summary,
        log_files=harvest.log_files(), build_results=harvest.builds_summary(), warnings=harvest.warnings)


class ProgressFile(object):
    """A progress callback that keeps the latest line in a small JSON file.

    The harvest role reads it between polls of the async job, so the operator sees
    which build and phase is running and for how long.
    """

    def __init__(self, path: str):
        self.path = path
        self.started = time.time()

    def __call__(self, message: str) -> None:
        elapsed = int(time.time() - self.started)
        line = "%s [%02d:%02d:%02d]" % (message, elapsed // 3600, elapsed // 60 % 60, elapsed % 60)
        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump({"line": line, "message": message, "elapsed": elapsed}, handle)
            os.replace(tmp, self.path)
        except OSError:
            # Progress is a courtesy: never fail a harvest because it cannot be shown.
            pass


# ---------------------------------------------------------------------------
# A public entry point for other loops (autoport): the harvest's source
# preparation and build profile, driven one build at a time.


class BuildSession(object):
    """The port's source tree with its own patches applied, built through the harvest's profile.

    ``options`` are replay_port's. The caller edits files under ``source_dir``,
    calls ``touched(paths)`` for them and ``build(key)`` for an incremental rebuild.
    """

    def __init__(self, options: dict, progress=None):
        opts = _options(dict(options, strategy="cumulative"))
        port = _load_port(opts)
        self._harvest = _Harvest(opts, port, _fingerprint(opts, port), progress)
        self.options = opts
        self.port = port

    def start(self) -> list:
        """Prepare (or reuse) the source, reset it clean and apply the port's patches.
        Returns the names of the patches that did not apply, with git's reason."""
        try:
            self._harvest.start()
            applied, failures = self._harvest._fresh([patch.name for patch in self.port["patches"] if patch.usable])
        except (OSError, shutil.Error) as exc:
            raise ReplayError("port %s: %s" % (self.options["port"], exc))
        return sorted(failures.items())

    @property
    def source_dir(self) -> str:
        return self._harvest.tree.dir

    @property
    def git_env(self) -> dict:
        return self._harvest.git_env

    @property
    def builds_run(self) -> int:
        return self._harvest.builds_run

    @property
    def toolchain(self) -> str:
        return self._harvest.state.data.get("toolchain") or "unknown"

    @property
    def build_line(self) -> str:
        return self.port["build_line"]

    def touched(self, paths: list) -> None:
        """Files under source_dir are about to change: keep make's timestamps and configure markers honest."""
        self._harvest._wait_for_newer_timestamps()
        if any(_configure_input(path) for path in paths):
            self._harvest.profile.forget_configuration(bootstrap=any(_bootstrap_input(path) for path in paths))

    def build(self, key: str, label: str = "autoport") -> dict:
        """One (incremental) build; the result has ``diagnostics`` in log order."""
        try:
            return self._harvest._build(key, label, list(self._harvest.state.data.get("tree") or []))
        except (OSError, shutil.Error) as exc:
            raise ReplayError("port %s: %s" % (self.options["port"], exc))

    def diagnostics_of(self, result: dict) -> list:
        return _diagnostics(result)

    def relative(self, text: str) -> str:
        """A message with the work directory's paths made relative (what records keep)."""
        return _relative_error(text, [self.source_dir + os.sep, self._harvest.root + os.sep])
