# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Build profiles: how one build of a port runs, phase by phase, and where its logs go.

Two profiles share one interface (``build()`` returns a BuildResult):

* ``posix``: runs the phases ``zopen build`` runs (bootstrap, configure, make,
  check) straight from the buildenv's ``ZOPEN_*`` settings, with the host's
  compiler, strict flags and ``make -k`` so one build reports all its errors.
* ``zopen``: drives ``zopen build`` itself (on z/OS, or on Linux the real script
  through zopen-linux) through a small env file that sources the port's buildenv,
  points ``ZOPEN_PATCH_DIR`` at the harvest's patch folder and ``ZOPEN_SOURCE_URL``
  at the local copy of a tarball, then collects
  ``log.<LINE>/<stamp>_{bootstrap,config,build,check}.log``. Always with
  ``--no-set-active`` (without it a green build exits 1 and moves files in the
  host's zopen tree), each build with its own ``TMPDIR`` (the phase logs go
  through the FIFO ``$TMPDIR/$LOGNAME.pipe``), and never with the posix
  profile's strict flags: the compiler and its flags are the host's zopen ones.

Every command runs from an argument list. The buildenv-driven commands are a fixed
``sh -c`` script that only references exported variables, so nothing from the
buildenv or a port name is ever pasted into shell text. Each command runs in its
own process group, killed as a whole when the build's time is up.

Builds get a clean environment (``base_environment``): only the allow-listed variables
of the host (locale, PATH, z/OS runtime settings, compiler settings, ZOPEN_*) plus the
harvest's own settings and ``harvest_build_env``; tokens the operator exported never
reach a build or its log. Every log is scrubbed (secret_scrub.scrub_file) as soon as
its command ends, before anything parses or fetches it.

Running a command, the build environment and the result classes are in build_run;
their names are importable from here as before.

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

from ansible_collections.autoport.zos.plugins.module_utils.build_run import BuildProfileError, BuildResult, PhaseResult
from ansible_collections.autoport.zos.plugins.module_utils.build_run import base_environment, run_logged, secret_values
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, publish_copy, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_file
# Re-exported: callers and tests name these as build_profile's.
# pylint: disable=unused-import
from ansible_collections.autoport.zos.plugins.module_utils.build_run import ALLOWED_ENV_NAMES, ALLOWED_ENV_PREFIXES, KILL_GRACE  # noqa: F401
from ansible_collections.autoport.zos.plugins.module_utils.build_run import group_alive, kill_process_group, stop_leftovers  # noqa: F401
# pylint: enable=unused-import

PHASES = ("bootstrap", "configure", "build", "check")

# zopen build names its phase logs <stamp>_<suffix>.log.
ZOPEN_LOG_SUFFIX = {"bootstrap": "bootstrap", "configure": "config", "build": "build", "check": "check"}

# Stand-ins for z/OS's narrower system interfaces on a POSIX host: ISO C99 plus
# POSIX.1-2001 only, GNU extensions and implicit declarations rejected.
DEFAULT_POSIX_CFLAGS = "-std=c99 -D_POSIX_C_SOURCE=200112L -pedantic-errors -Werror=implicit-function-declaration"

# The env file the zopen profile hands to `zopen build -e`. Constant text: every
# value it needs comes from AUTOPORT_* variables in the environment.
ZOPEN_ENV_FILE = "autoport-buildenv"
ZOPEN_ENV_TEXT = """\
# Written by autoport.zos patch_replay: the port's buildenv plus the harvest's overrides.
. ./buildenv
export ZOPEN_PATCH_DIR="${AUTOPORT_PATCH_DIR}"
if [ -n "${AUTOPORT_BUILD_LINE}" ]; then
  export ZOPEN_BUILD_LINE="${AUTOPORT_BUILD_LINE}"
fi
# The harvest only builds and checks.
export ZOPEN_INSTALL="skip"
# A tarball comes from the harvest's local copy: zopen build downloads on every build.
if [ -n "${AUTOPORT_SOURCE_URL}" ]; then
  export ZOPEN_SOURCE_URL="${AUTOPORT_SOURCE_URL}"
  if [ -n "${ZOPEN_TARBALL_URL}" ]; then export ZOPEN_TARBALL_URL="${AUTOPORT_SOURCE_URL}"; fi
  if [ -n "${ZOPEN_URL}" ]; then export ZOPEN_URL="${AUTOPORT_SOURCE_URL}"; fi
fi
# make -k: one build reports every file that fails, not just the first.
case "${ZOPEN_MAKE:-make}" in
  make|gmake|*/make|*/gmake) export ZOPEN_MAKE_OPTS="${ZOPEN_MAKE_OPTS:--j1} -k" ;;
esac
"""

# The fixed scripts the posix profile runs with `sh -c`; they only expand
# variables exported into their environment. Mirrors zopen-build's commands.
_POSIX_SCRIPTS = {
    "bootstrap": '"$ZOPEN_BOOTSTRAP" $ZOPEN_BOOTSTRAP_OPTS',
    "configure": '"$ZOPEN_CONFIGURE" $ZOPEN_CONFIGURE_OPTS CC="$CC" CPPFLAGS="$CPPFLAGS" CFLAGS="$CFLAGS" CXX="$CXX" '
    'CXXFLAGS="$CXXFLAGS" LDFLAGS="$LDFLAGS" LIBS="$LIBS" LDLIBS="$LIBS"',
    "configure-minimal": '"$ZOPEN_CONFIGURE" $ZOPEN_CONFIGURE_OPTS',
    "build": '"$ZOPEN_MAKE" $ZOPEN_MAKE_OPTS $AUTOPORT_KEEP_GOING CC="$CC" "CPPFLAGS=$CPPFLAGS" "CFLAGS=$CFLAGS" CXX="$CXX" '
    '"CXXFLAGS=$CXXFLAGS" "LDFLAGS=$LDFLAGS" "LDLIBS=$LIBS"',
    "build-minimal": '"$ZOPEN_MAKE" $ZOPEN_MAKE_OPTS $AUTOPORT_KEEP_GOING',
    "check": '"$ZOPEN_CHECK" $ZOPEN_CHECK_OPTS $AUTOPORT_CHECK_KEEP_GOING CC="$CC" "CPPFLAGS=$CPPFLAGS" "CFLAGS=$CFLAGS" CXX="$CXX" '
    '"CXXFLAGS=$CXXFLAGS" "LDFLAGS=$LDFLAGS"',
    "check-minimal": '"$ZOPEN_CHECK" $ZOPEN_CHECK_OPTS $AUTOPORT_CHECK_KEEP_GOING',
}

# The compiler in the commands ``zopen build -v`` prints: ``"./configure" ... CC="clang" ...``.
_ZOPEN_CC = re.compile(r'(?:^|\s)"?CC="([^"]*)"')


def _words(value: str | None) -> str:
    return " ".join((value or "").split())


def _is_make(command: str) -> bool:
    return os.path.basename((command or "").split()[0] if (command or "").split() else "") in ("make", "gmake")


def _executable(command: str, cwd: str, env: dict) -> bool:
    """Whether `command -v X` would find it: a path that is an executable file, or a PATH lookup."""
    if not command:
        return False
    if "/" in command:
        path = command if os.path.isabs(command) else os.path.join(cwd, command)
        return os.path.isfile(path) and os.access(path, os.X_OK)
    return shutil.which(command, path=env.get("PATH")) is not None


class _Profile(object):
    name = "base"

    def __init__(self, root: str, source_dir: str, buildenv: dict, build_line: str, log_dir: str, env: dict | None = None, cflags: str | None = None):
        self.root = root
        self.source_dir = source_dir
        self.buildenv = dict(buildenv or {})
        self.build_line = build_line
        self.log_dir = log_dir
        self.extra_env = dict(env or {})
        self.cflags = cflags

    def marker_dir(self) -> str:
        """Where the bootstrap/config success markers live (zopen's ZOPEN_LOG_DIR)."""
        raise NotImplementedError

    def forget_configuration(self, bootstrap: bool = False) -> None:
        """Make the next build run configure (and bootstrap) again."""
        names = ["config.success"] + (["bootstrap.success"] if bootstrap else [])
        for name in names:
            path = os.path.join(self.marker_dir(), name)
            if os.path.exists(path):
                os.unlink(path)

    def build(self, prefix: str, deadline: float | None = None, on_start=None) -> BuildResult:
        raise NotImplementedError


class PosixProfile(_Profile):
    """Runs the zopen phases from the buildenv with the host's tools (see module doc)."""

    name = "posix"

    def marker_dir(self) -> str:
        return os.path.join(self.root, "log.%s" % self.build_line)

    def environment(self) -> dict:
        be = self.buildenv
        env = base_environment()
        install_dir = os.path.join(os.path.dirname(self.root), "install")
        cflags = self.cflags if self.cflags is not None else DEFAULT_POSIX_CFLAGS
        env.update(
            {
                "LC_ALL": "C",
                "LANG": "C",
                "ZOPEN_ROOT": self.root,
                "ZOPEN_BUILD_LINE": self.build_line,
                "ZOPEN_INSTALL_DIR": install_dir,
                "ZOPEN_IN_ZOPEN_BUILD": "1",
                "CC": env.get("CC") or "cc",
                "CXX": env.get("CXX") or "c++",
                "CPPFLAGS": _words(be.get("ZOPEN_EXTRA_CPPFLAGS")),
                "CFLAGS": _words("%s %s" % (cflags, be.get("ZOPEN_EXTRA_CFLAGS", ""))),
                "CXXFLAGS": _words(be.get("ZOPEN_EXTRA_CXXFLAGS")),
                "LDFLAGS": _words(be.get("ZOPEN_EXTRA_LDFLAGS")),
                "LIBS": _words(be.get("ZOPEN_EXTRA_LIBS")),
                "ZOPEN_BOOTSTRAP": be.get("ZOPEN_BOOTSTRAP") or "./bootstrap",
                "ZOPEN_BOOTSTRAP_OPTS": be.get("ZOPEN_BOOTSTRAP_OPTS") or "",
                "ZOPEN_CONFIGURE": be.get("ZOPEN_CONFIGURE") or "./configure",
                "ZOPEN_CONFIGURE_OPTS": be.get("ZOPEN_CONFIGURE_OPTS") or _words("--prefix=%s %s" % (install_dir, be.get("ZOPEN_EXTRA_CONFIGURE_OPTS", ""))),
                "ZOPEN_MAKE": be.get("ZOPEN_MAKE") or "make",
                # One job: logs stay in order, so the same build always gives the same diagnostics.
                "ZOPEN_MAKE_OPTS": be.get("ZOPEN_MAKE_OPTS") or "-j1",
                "ZOPEN_CHECK": be.get("ZOPEN_CHECK") or "make",
                "ZOPEN_CHECK_OPTS": be.get("ZOPEN_CHECK_OPTS") or "check",
            }
        )
        env.update({str(key): str(value) for key, value in self.extra_env.items()})
        env["AUTOPORT_KEEP_GOING"] = "-k" if _is_make(env["ZOPEN_MAKE"]) else ""
        env["AUTOPORT_CHECK_KEEP_GOING"] = "-k" if _is_make(env["ZOPEN_CHECK"]) else ""
        # Builds write temporary files and dot-files inside the work directory only.
        work = os.path.dirname(self.root)
        env["TMPDIR"] = os.path.join(work, "tmp")
        env["HOME"] = os.path.join(work, "home")
        return env

    def _phase_dir(self, env: dict) -> str:
        src = (env.get("ZOPEN_SRC_DIR") or self.buildenv.get("ZOPEN_SRC_DIR") or "").strip()
        if not src:
            return self.source_dir
        path = os.path.realpath(os.path.join(self.source_dir, src))
        if not inside(path, self.source_dir):
            raise BuildProfileError("ZOPEN_SRC_DIR %r leads outside the source tree %s" % (src, self.source_dir))
        return path

    def _wanted(self, phase: str, env: dict, cwd: str) -> bool:
        setting = {"bootstrap": "ZOPEN_BOOTSTRAP", "configure": "ZOPEN_CONFIGURE", "build": "ZOPEN_MAKE", "check": "ZOPEN_CHECK"}[phase]
        command = env.get(setting, "")
        if command == "skip":
            return False
        if phase == "bootstrap":
            # zopen runs bootstrap only when the program exists.
            return _executable(command.split()[0] if command.split() else "", cwd, env)
        return True

    def build(self, prefix: str, deadline: float | None = None, on_start=None) -> BuildResult:
        env = self.environment()
        for folder in (env["TMPDIR"], env["HOME"], self.marker_dir(), self.log_dir):
            os.makedirs(folder, exist_ok=True)
        cwd = self._phase_dir(env)
        started = time.monotonic()
        result = BuildResult(status="ok")
        for phase in PHASES:
            marker = {"bootstrap": "bootstrap.success", "configure": "config.success"}.get(phase)
            if not self._wanted(phase, env, cwd) or (marker and os.path.exists(os.path.join(self.marker_dir(), marker))):
                result.phases.append(PhaseResult(phase, "skipped"))
                continue
            script_name = phase
            minimal = {"configure": "ZOPEN_CONFIGURE_MINIMAL", "build": "ZOPEN_MAKE_MINIMAL", "check": "ZOPEN_CHECK_MINIMAL"}.get(phase)
            if minimal and self.buildenv.get(minimal):
                script_name = phase + "-minimal"
            log_path = os.path.join(self.log_dir, "%s-%s.log" % (prefix, phase))
            begin = time.monotonic()
            if getattr(self, "on_phase", None) is not None:
                self.on_phase(phase)
            code, timed_out = run_logged(["/bin/sh", "-c", _POSIX_SCRIPTS[script_name]], cwd, env, log_path, deadline, on_start,
                                         redact=secret_values(self.extra_env))
            outcome = PhaseResult(phase, "ok", code, log_path, time.monotonic() - begin)
            result.phases.append(outcome)
            if timed_out:
                outcome.status = result.status = "timeout"
                result.failed_phase = phase
                result.message = "%s timed out; process group killed (log %s)" % (phase, log_path)
                break
            if code != 0:
                outcome.status = result.status = "failed"
                result.failed_phase = phase
                result.message = "%s failed with exit status %s (log %s)" % (phase, code, log_path)
                break
            if marker:
                with open(os.path.join(self.marker_dir(), marker), "w"):
                    pass
        result.seconds = time.monotonic() - started
        return result


class ZopenProfile(_Profile):
    """Drives ``zopen build`` with the harvest's patch folder swapped in (see module doc)."""

    name = "zopen"

    def __init__(self, root: str, source_dir: str, buildenv: dict, build_line: str, log_dir: str, env: dict | None = None, cflags: str | None = None,
                 zopen_command: str = "zopen", patch_dir_name: str = "autoport-patches", explicit_line: bool = False, source_url: str | None = None):
        # cflags are the posix profile's: a zopen build compiles with the flags of the host's
        # compiler dependency only (strict flags would make errors the port never had).
        super(ZopenProfile, self).__init__(root, source_dir, buildenv, build_line, log_dir, env, None)
        self.zopen_command = zopen_command
        self.patch_dir_name = patch_dir_name
        self.explicit_line = explicit_line
        self.source_url = source_url

    def zopen_log_dir(self) -> str:
        # zopen-build: ${ZOPEN_ROOT}/log, with .<LINE> when a build line is set.
        line = self.build_line if (self.explicit_line or (self.buildenv.get("ZOPEN_BUILD_LINE") or "").strip()) else ""
        return os.path.join(self.root, "log.%s" % line.upper() if line else "log")

    def marker_dir(self) -> str:
        return self.zopen_log_dir()

    def environment(self, tmpdir: str | None = None) -> dict:
        """The environment of one ``zopen build``; ``tmpdir`` is that build's own TMPDIR."""
        env = base_environment()
        env.setdefault("LC_ALL", "C")
        env.pop("AUTOPORT_EXTRA_CFLAGS", None)
        env.update(
            {
                "AUTOPORT_PATCH_DIR": self.patch_dir_name,
                "AUTOPORT_BUILD_LINE": self.build_line if self.explicit_line else "",
                "AUTOPORT_SOURCE_URL": self.source_url or "",
            }
        )
        env.update({str(key): str(value) for key, value in self.extra_env.items()})
        if tmpdir:
            # zopen build's phase logs go through the FIFO $TMPDIR/$LOGNAME.pipe: two builds
            # sharing TMPDIR and LOGNAME truncate each other's logs.
            env["TMPDIR"] = env["TMP"] = tmpdir
        return env

    def _tmpdir(self, prefix: str) -> str:
        path = os.path.join(os.path.dirname(self.root), "tmp", "zopen-%s" % prefix)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path)
        return path

    def print_source_dir(self, deadline: float | None = None) -> str:
        """The folder ``zopen build --print-source-dir`` names (the real script's own answer)."""
        self.write_env_file()
        tmpdir = self._tmpdir("source-dir")
        out_path = os.path.join(tmpdir, "print-source-dir.out")
        argv = [self.zopen_command, "build", "--no-set-active", "--print-source-dir", "-e", "./%s" % ZOPEN_ENV_FILE]
        try:
            code, timed_out = run_logged(argv, self.root, self.environment(tmpdir), out_path, deadline)
        except BuildProfileError as exc:
            raise BuildProfileError("cannot run zopen build --print-source-dir (%s): %s" % (self.zopen_command, exc))
        with open(out_path, "r", encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle.read().splitlines() if line.strip()]
        shutil.rmtree(tmpdir, ignore_errors=True)
        name = lines[-1] if lines else ""
        if timed_out or code != 0 or not name or "/" in name or name in (".", ".."):
            raise BuildProfileError("zopen build --print-source-dir failed (exit status %s): %s" % (code, " | ".join(lines[-5:]) or "no output"))
        return name

    def compiler_used(self, driver_log: str) -> str | None:
        """The C compiler a finished build ran: the CC= of the commands it printed with -v."""
        try:
            with open(driver_log, "r", encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    match = _ZOPEN_CC.search(line) if line.startswith("VERBOSE:") else None
                    if match and match.group(1).strip():
                        return match.group(1).strip()
        except OSError:
            return None
        return None

    def write_env_file(self) -> str:
        path = os.path.join(self.root, ZOPEN_ENV_FILE)
        try:
            write_if_changed(path, ZOPEN_ENV_TEXT.encode("utf-8"))
        except OutputError as exc:
            raise BuildProfileError(str(exc))
        return path

    def _phase_logs(self) -> dict:
        found = {}
        folder = self.zopen_log_dir()
        if not os.path.isdir(folder):
            return found
        for name in sorted(os.listdir(folder)):
            match = re.match(r"^\d{8}_\d{6}_(bootstrap|config|build|check)\.log$", name)
            if match:
                phase = {suffix: phase for phase, suffix in ZOPEN_LOG_SUFFIX.items()}[match.group(1)]
                found[phase] = os.path.join(folder, name)
        return found

    def clear_phase_logs(self) -> None:
        """Remove the previous build's phase logs (they were copied already), so every log
        found after a build belongs to it, even when two builds start within one second."""
        for path in self._phase_logs().values():
            os.unlink(path)

    def build(self, prefix: str, deadline: float | None = None, on_start=None) -> BuildResult:
        tmpdir = self._tmpdir(prefix)
        env = self.environment(tmpdir)
        os.makedirs(self.log_dir, exist_ok=True)
        self.write_env_file()
        self.clear_phase_logs()
        started = time.monotonic()
        driver_log = os.path.join(self.log_dir, "%s-zopen.log" % prefix)
        # --no-set-active: without it a green build exits 1 after its check (and would
        # move and re-link files under the host's $ZOPEN_PKGINSTALL).
        argv = [self.zopen_command, "build", "-v", "--no-set-active", "-e", "./%s" % ZOPEN_ENV_FILE]
        try:
            code, timed_out = run_logged(argv, self.root, env, driver_log, deadline, on_start, redact=secret_values(self.extra_env))
        except BuildProfileError as exc:
            raise BuildProfileError("cannot run zopen build (%s): %s" % (self.zopen_command, exc))
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        result = BuildResult(status="ok")
        logs = self._phase_logs()
        last = None
        for phase in PHASES:
            if phase not in logs:
                result.phases.append(PhaseResult(phase, "skipped"))
                continue
            kept = os.path.join(self.log_dir, "%s-%s.log" % (prefix, phase))
            try:
                publish_copy(logs[phase], kept)
            except OutputError as exc:
                raise BuildProfileError(str(exc))
            scrub_file(kept, literals=secret_values(self.extra_env))
            result.phases.append(PhaseResult(phase, "ok", None, kept))
            last = result.phases[-1]
        result.phases.append(PhaseResult("zopen", "ok", code, driver_log))
        if timed_out or code != 0:
            status = "timeout" if timed_out else "failed"
            result.status = status
            target = last if last is not None else result.phases[-1]
            target.status = status
            result.failed_phase = target.phase
            result.message = "zopen build %s in %s (exit status %s; log %s)" % (
                "timed out" if timed_out else "failed", target.phase, code, target.log or driver_log)
        result.seconds = time.monotonic() - started
        return result


def make_profile(name: str, **kwargs) -> _Profile:
    """The profile object for a profile name ('posix' or 'zopen')."""
    if name == "posix":
        for key in ("zopen_command", "patch_dir_name", "explicit_line", "source_url"):
            kwargs.pop(key, None)
        return PosixProfile(**kwargs)
    if name == "zopen":
        return ZopenProfile(**kwargs)
    raise BuildProfileError("profile %r: expected posix or zopen" % name)


def toolchain_label(profile: str, env: dict | None = None, buildenv: dict | None = None, compiler: str | None = None) -> str:
    """A short name of the compiler a build used, for records ('gcc 12.2.0', 'clang 16.0.6', ...).

    ``compiler`` is the CC a build really ran (the zopen profile reads it from the
    build's log); without it, CC of the environment (posix profile). A compiler that
    cannot be asked for its version is named by its program name.
    """
    environ = base_environment()
    environ.update(env or {})
    words = (compiler or environ.get("CC") or "cc").split()
    if not words:
        return "unknown"
    name = os.path.basename(words[-1] if words[0] == "ccache" else words[0])
    try:
        out = subprocess.run(words + ["--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             env=environ, timeout=30, check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return name
    first = out.strip().splitlines()[0] if out.strip() else ""
    if not first:
        return name
    version = re.search(r"(\d+\.\d+(?:\.\d+)?)\s*$", first) or re.search(r"version (\d+\.\d+(?:\.\d+)?)", first)
    family = "clang" if "clang" in first.lower() else "gcc" if ("gcc" in first.lower() or "free software" in out.lower()) else name
    return "%s %s" % (family, version.group(1)) if version else family
