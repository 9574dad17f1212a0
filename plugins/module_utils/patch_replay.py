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
   real message is the ``error``. A patch whose removal breaks nothing (and every
   hunk no diagnostic points at) gives ``provenance: static`` records, with no
   invented error.

Every build is checkpointed in ``state_dir``: killed at any moment and run again, the
harvest continues (a build cut short is redone from a clean tree) and ends with
exactly the records an uninterrupted run writes. All writes stay under the port's
work directory (plus ``dest``, ``state_dir`` and ``log_dir`` when given).

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.parse
import uuid

from ansible_collections.autoport.zos.plugins.module_utils import build_log
from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import git_local, patch_dependents
from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils import port_layout
from ansible_collections.autoport.zos.plugins.module_utils import process_tree
from ansible_collections.autoport.zos.plugins.module_utils import replay_checkpoint
from ansible_collections.autoport.zos.plugins.module_utils import replay_lock
from ansible_collections.autoport.zos.plugins.module_utils import static_mine
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.port_records import replace_port_records
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, make_record

STRATEGIES = ("leave_one_out", "cumulative")
PROFILES = ("posix", "zopen")
BUILD_LINES = ("auto", "STABLE", "DEV")
STATE_VERSION = 1

# What became of each patch.
OUTCOMES = (
    "fixed",  # its absence made diagnostics appear: build records
    "no-effect",  # builds the same without it: static records
    "does-not-apply",  # git apply --check refused it
    "cannot-revert",  # (leave_one_out) no build without it (or without the patches that need it) could be made
    "unsafe-path",  # touches an absolute path or leaves the source tree: never applied
    "unreadable",  # not a patch we can parse
    "timeout",  # the build without it hung (killed at build_timeout); no diagnostics to credit
    "pending",  # not built yet (check mode)
)

DEFAULT_BUILD_TIMEOUT = 3600
# Source downloads (curl): refuse absurd sizes and stalled servers.
MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3
DOWNLOAD_TIMEOUT = 120
GIT_TIMEOUT = 1800
# Unpacking: a tarball that expands past this is refused (a "tar bomb").
MAX_UNPACKED_BYTES = 16 * 1024 ** 3
PATCH_FOLDER = "autoport-patches"
_SEVERITIES_KEPT = ("error", "fatal")
# The collection's one git identity; a fixed date: the base commit of a tarball is the same on every run.
_GIT_IDENTITY = git_local.identity_env("1700000000 +0000")


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


# ---------------------------------------------------------------------------
# Small helpers.


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inside(path: str, root: str) -> bool:
    path = os.path.realpath(path)
    root = os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _configure_input(path: str) -> bool:
    """Files whose change means configure has to run again."""
    base = os.path.basename(path).lower()
    return (
        base.startswith("configure")
        or base in ("config.h.in", "aclocal.m4", "acinclude.m4", "cmakelists.txt", "meson.build")
        or base.endswith((".in", ".ac", ".am", ".m4", ".cmake"))
    )


def _bootstrap_input(path: str) -> bool:
    base = os.path.basename(path).lower()
    return base in ("configure.ac", "configure.in", "bootstrap", "bootstrap.conf", "autogen.sh") or base.endswith((".am", ".m4"))


def _code_dir_name(url: str, kind: str) -> str:
    """The directory ``zopen build`` clones a git source into (``${gitname%.git}``).

    For a tarball this is only the name its URL suggests: the real folder is the
    archive's top folder, known once the archive is here (_archive_top_folder).
    """
    name = os.path.basename(urllib.parse.urlparse(url).path.rstrip("/") if "://" in url else url.rstrip("/"))
    if kind == "git":
        # zopen-build strips only the .git suffix: inicfg.core.git -> inicfg.core/.
        name = name[: -len(".git")] if name.endswith(".git") else name
    else:
        for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.Z", ".tar.zst", ".tar", ".tgz", ".zip"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        else:
            name = re.sub(r"\.tar\..*$", "", name)
    if not name or name in (".", "..") or name.startswith((".", "-")) or "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise ReplayError("source %s: cannot derive a safe directory name from it" % url)
    return name


def _check_dir_name(name: str, what: str) -> str:
    if not name or name in (".", "..") or name.startswith((".", "-")) or "/" in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise ReplayError("%s: cannot use %r as the source folder name" % (what, name))
    return name


def _archive_top_folder(archive: str) -> str:
    """The folder a tarball unpacks into, as zopen-build's get_top_folder_name finds it:
    the first (sorted) top-level name of its members."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            tops = sorted({member.name.split("/", 1)[0] for member in tar} - {"", "."})
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ReplayError("cannot read source archive %s: %s" % (archive, exc))
    if not tops:
        # As zopen-build: no top folder (members named ./x) -> the archive's name without extension.
        name = os.path.basename(archive)
        for ext in (".tar.lzip", ".tar.lz", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".zip"):
            name = name[: -len(ext)] if name.endswith(ext) else name
        tops = [name]
    return _check_dir_name(tops[0], "source archive %s" % archive)


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


def _locale_env(opts: dict) -> dict:
    """The locale environment a build runs with (both profiles default to LC_ALL=C)."""
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")
    env.update(opts.get("env") or {})
    return env


def _relative_error(text: str, roots: list) -> str:
    for root in roots:
        if root:
            text = text.replace(root.rstrip(os.sep) + os.sep, "").replace(root, ".")
    # Scrubbed where it matters: the log it came from (build_profile) and make_record.
    return text


# ---------------------------------------------------------------------------
# The port: buildenv, patches, source.


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
            if not _inside(path, port_dir):
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
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Getting the source.


def _git(args: list, cwd: str, env: dict, timeout: int = GIT_TIMEOUT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git"] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ReplayError("git %s in %s did not finish within %d s" % (args[0], cwd, timeout))
    except OSError as exc:
        raise ReplayError("cannot run git (needed to apply patches): %s" % (exc.strerror or exc))


def _git_output(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8", "replace").strip()


def _local_source(url: str, mirror_dir: str | None) -> str | None:
    """A local path for the source: file:// URLs, plain paths, or the URL's file name in the mirror."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    if not parsed.scheme and re.match(r"^[\w.+-]+@[\w.-]+:", url):
        return None  # git's scp-like syntax: user@host:path
    if not parsed.scheme:
        return os.path.abspath(url)
    if mirror_dir:
        name = os.path.basename(parsed.path.rstrip("/"))
        candidate = os.path.join(mirror_dir, name)
        if name and _inside(candidate, mirror_dir) and os.path.exists(candidate):
            return candidate
    return None


def _download(url: str, dest: str, env: dict) -> None:
    """Fetch a tarball with curl, as zopen build does (z/OS has no usable urllib TLS setup by default)."""
    if urllib.parse.urlparse(url).scheme not in ("http", "https", "ftp"):
        raise ReplayError("cannot download source %s: only http, https and ftp URLs are fetched" % url)
    curl = shutil.which("curl", path=env.get("PATH"))
    if curl is None:
        raise ReplayError("cannot download source %s: curl is not installed (or use mirror_dir / a file:// source)" % url)
    partial = dest + ".part"
    argv = [curl, "-q", "-s", "-S", "-f", "-L", "--max-time", str(DOWNLOAD_TIMEOUT), "--max-filesize", str(MAX_DOWNLOAD_BYTES),
            "-o", partial, "--", url]
    try:
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=DOWNLOAD_TIMEOUT + 30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        done = None
        reason = str(exc)
    else:
        reason = done.stdout.decode("utf-8", "replace").strip().replace("curl: ", "") or "curl exit status %d" % done.returncode
    if done is None or done.returncode != 0:
        if os.path.exists(partial):
            os.unlink(partial)
        raise ReplayError("cannot download source %s: %s" % (url, reason))
    os.replace(partial, dest)


# zopen build's list of files to tag binary (tagBinaryFiles); every other file is ASCII text.
_BINARY_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".gif", ".ttf", ".wbmp", ".gmo", ".po", ".der", ".xz", ".gz", ".dvi")


def _chtag() -> str | None:
    """The z/OS chtag program, only on z/OS: files there carry a code page tag."""
    if getattr(os, "uname", None) is None or os.uname().sysname != "OS/390":
        return None
    return shutil.which("chtag")


def _tag_ascii(paths: list) -> None:
    """On z/OS, tag files as ISO8859-1 text as zopen build does after patching (best effort).

    The paths are absolute, so none can be read as an option.
    """
    chtag = _chtag()
    if chtag and paths:
        subprocess.run([chtag, "-tc", "ISO8859-1"] + paths, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _tag_tree(folder: str) -> None:
    """On z/OS, tag an unpacked source tree: text as ISO8859-1, zopen's binary suffixes as binary."""
    chtag = _chtag()
    if not chtag:
        return
    text, binary = [], []
    for base, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if name != ".git"]
        for name in files:
            path = os.path.join(base, name)
            if not os.path.islink(path):
                (binary if name.lower().endswith(_BINARY_SUFFIXES) else text).append(path)
    for flags, paths in ((["-tc", "ISO8859-1"], text), (["-b"], binary)):
        for start in range(0, len(paths), 200):
            subprocess.run([chtag] + flags + paths[start:start + 200], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)


def _safe_extract(archive: str, dest: str) -> None:
    """Unpack a tarball into dest, refusing members that would land outside it."""
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = []
            for member in tar:
                name = member.name
                parts = [part for part in re.split(r"[\\/]+", name) if part not in ("", ".")]
                if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                    raise ReplayError("archive %s: member %r would be written outside the work directory" % (archive, name))
                if member.issym() or member.islnk():
                    target = member.linkname
                    base = os.path.dirname(name) if member.issym() else ""
                    resolved = os.path.normpath(os.path.join(dest, base, target))
                    if os.path.isabs(target) or not _inside(resolved, dest):
                        raise ReplayError("archive %s: link %r points outside the source tree (%s)" % (archive, name, target))
                elif not (member.isfile() or member.isdir()):
                    continue  # devices and fifos have no place in a source tree
                total += max(member.size, 0)
                if total > MAX_UNPACKED_BYTES:
                    raise ReplayError("archive %s: unpacks to more than %d bytes; refused" % (archive, MAX_UNPACKED_BYTES))
                members.append(member)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ReplayError("cannot unpack source archive %s: %s" % (archive, exc))


# zopen-build's .gitattributes for the repository it makes of a tarball (asciiecho adds the last newline).
ZOPEN_GITATTRIBUTES = (
    "\n* text  working-tree-encoding=UTF-8\n"
    + "".join("*.%s binary\n" % ext for ext in ("jpg", "dvi", "xz", "gz", "jpeg", "png", "gif", "pdf", "ttf", "wbmp", "gmo", "po", "der", "jar"))
    + "\n"
)


class _Source(object):
    """The upstream source tree, a git repository whose base commit is the unpatched source.

    Prepared the way ``zopen build`` prepares it: a git source is a shallow clone of
    its branch or tag (a tag leaves HEAD detached) in ``${gitname%.git}/``; a tarball
    unpacks into its top folder, which becomes a repository on ``main`` with zopen's
    ``.gitattributes``. ``source_dir_of(archive or None)``, when given, is the real
    script's own answer (``zopen build --print-source-dir``) and must agree.
    """

    def __init__(self, opts: dict, port: dict, root: str, env: dict, source_dir_of=None):
        self.opts = opts
        self.port = port
        self.root = root
        self.env = env
        self.dir = os.path.join(root, port["code_dir"])
        self.archive = None
        self.source_dir_of = source_dir_of

    def _agree(self, name: str, archive: str | None) -> None:
        if self.source_dir_of is None:
            return
        theirs = self.source_dir_of(archive)
        if theirs != name:
            raise ReplayError("source %s: zopen build --print-source-dir names %s/, the source is in %s/" % (self.port["spec"]["url"], theirs, name))

    def fetch(self) -> str:
        """Put the source in place and return its base commit."""
        spec = self.port["spec"]
        url = spec["url"]
        local = _local_source(url, self.opts.get("mirror_dir"))
        if local is not None and not os.path.exists(local):
            raise ReplayError("source %s: %s does not exist" % (url, local))
        if spec["kind"] == "git":
            return self._clone(url, local)
        archive = local
        if archive is None:
            downloads = os.path.join(self.opts["work"], "downloads")
            os.makedirs(downloads, exist_ok=True)
            archive = os.path.join(downloads, os.path.basename(urllib.parse.urlparse(url).path) or "source.tar")
            if not os.path.isfile(archive):
                _download(url, archive, self.env)
        if not os.path.isfile(archive):
            raise ReplayError("source %s: %s is not a file" % (url, archive))
        self.archive = os.path.abspath(archive)
        name = _archive_top_folder(archive)
        self._agree(name, self.archive)
        self.port["code_dir"] = name
        self.dir = os.path.join(self.root, name)
        if os.path.lexists(self.dir):
            raise ReplayError("port %s already contains a %s/ folder where the source should go" % (self.opts["port_dir"], name))
        _safe_extract(archive, self.root)
        if not os.path.isdir(self.dir):
            raise ReplayError("source archive %s does not unpack into %s/ (zopen build expects that folder)" % (archive, name))
        _tag_tree(self.dir)
        # As zopen build does: drop upstream git files, make a fresh repository.
        for name in os.listdir(self.dir):
            if name.startswith((".git", ".travis")):
                path = os.path.join(self.dir, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        with open(os.path.join(self.dir, ".gitattributes"), "w", encoding="ascii") as handle:
            handle.write(ZOPEN_GITATTRIBUTES)
        _tag_ascii([os.path.join(self.dir, ".gitattributes")])
        for args in (["init", "-q", "-b", "main", "."], ["add", "-A", "."],
                     ["commit", "-q", "--allow-empty", "--no-verify", "-m", "Create Repository for patch management"]):
            result = _git(args, self.dir, self.env)
            if result.returncode != 0:
                raise ReplayError("cannot make a git repository of %s: git %s: %s" % (self.dir, args[0], _git_output(result)))
        return self.head()

    def _clone(self, url: str, local: str | None) -> str:
        spec = self.port["spec"]
        self._agree(self.port["code_dir"], None)
        # A local repository through file://, so --depth is honoured as for a remote one.
        source = url if local is None else "file://" + urllib.parse.quote(os.path.abspath(local))
        buildenv = self.port.get("buildenv") or {}
        args = ["clone", "-q"]
        if (buildenv.get("ZOPEN_CLONE_FULL") or "").strip() != "yes":
            args += ["--depth", "1"]
        if (buildenv.get("ZOPEN_CLONE_SUBMODULES") or "").strip() == "yes":
            args += ["--recurse-submodules"]
        if spec.get("branch") or spec.get("tag"):
            args += ["--branch", spec.get("branch") or spec.get("tag")]
        args += ["--", source, self.dir]
        result = _git(args, self.root, self.env)
        if result.returncode != 0:
            raise ReplayError("cannot clone source %s: %s" % (url, _git_output(result)))
        return self.head()

    def head(self) -> str:
        result = _git(["rev-parse", "--verify", "HEAD"], self.dir, self.env)
        if result.returncode != 0:
            raise ReplayError("source tree %s has no commit: %s" % (self.dir, _git_output(result)))
        return _git_output(result)


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
            elif _inside(path, self.dir):
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


# ---------------------------------------------------------------------------
# Diagnostics and records.


def _diagnostics(result: dict):
    """The error diagnostics of one build's phase logs, reduced to what attribution needs (a generator)."""
    for phase in result.get("phases", []):
        log = phase.get("log")
        if not log or phase.get("phase") not in build_profile.PHASES or not os.path.isfile(log):
            continue
        if phase.get("status") == "timeout":
            # Cut short by the kill: what it printed last ("Terminated", ...) is ours, not the port's.
            continue
        for diag in build_log.iter_diagnostics(log, phase=phase["phase"]):
            if (diag.get("severity") or "error") not in _SEVERITIES_KEPT:
                continue
            item = {name: diag.get(name) for name in ("file", "line", "column", "severity", "code", "message", "category", "follow_up", "phase", "tool")}
            # The tool a parser guesses can differ between two logs of the same error
            # (a compiler line seen or not before it): it is not part of what the error is.
            item["key"] = build_log.message_key(dict(diag, tool=None))
            yield item


def _credited(without: dict, with_: dict) -> list:
    """Diagnostics of the build without the patch that the build with it no longer has."""
    gone = replay_checkpoint.present_keys(with_)
    seen = set()
    credited = []
    for diag in without.get("diagnostics", []):
        if replay_checkpoint.key_digest(diag["key"]) in gone or diag["key"] in seen:
            continue
        seen.add(diag["key"])
        credited.append(diag)
    primary = [diag for diag in credited if not diag.get("follow_up")]
    return primary or credited


_QUOTED = re.compile(r"[`'\"\u2018\u201c]([^`'\"\u2019\u201d\s]{2,80})[`'\"\u2019\u201d]")
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{2,}")


def _hunk_for(patch: _Patch, diag: dict, source_dir: str):
    """The (FilePatch, Hunk) of a patch that best explains a diagnostic."""
    pf = patch.parsed
    hunks = pf.hunks
    if not hunks:
        return None
    path = diag.get("file")
    if path:
        if os.path.isabs(path) and _inside(path, source_dir):
            path = os.path.relpath(path, source_dir)
        match = patch_read.nearest_hunk(pf, path, diag.get("line"))
        if match:
            return match
    if len(hunks) == 1:
        return hunks[0]
    message = diag.get("message") or ""
    tokens = _QUOTED.findall(message) or _WORDS.findall(message)
    for lines_of in (lambda h: [line[1:] for line in h.lines if line[:1] in "+-"], lambda h: [line[1:] for line in h.lines]):
        for fp, hunk in hunks:
            text = "\n".join(lines_of(hunk))
            if any(token in text for token in tokens):
                return fp, hunk
    for fp, hunk in hunks:
        if static_mine.infer_phase(fp.path) == diag.get("phase"):
            return fp, hunk
    return hunks[0]


def _record_phase(diag: dict) -> str:
    phase = diag.get("phase") or "unknown"
    if diag.get("tool") in ("ld", "binder") or diag.get("category") == "unresolved-symbol":
        return "link"
    return phase if phase in ("patch", "bootstrap", "configure", "build", "link", "check", "install", "runtime") else "unknown"


def _error_text(diag: dict, roots: list) -> str:
    return _relative_error(diag.get("message") or "", roots)


# ---------------------------------------------------------------------------
# The harvest.


class _Harvest(object):
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
        if data is not None and data.get("fingerprint") == self.fingerprint:
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

    def _prepare(self) -> None:
        self._say("getting the source")
        if os.path.isdir(self.root):
            shutil.rmtree(self.root)
        # The port repo (buildenv, patch folders, scripts) is copied: zopen build runs in it.
        shutil.copytree(self.opts["port_dir"], self.root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                path = os.path.join(folder, name)
                if os.path.islink(path) and not _inside(path, self.root):
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

    @staticmethod
    def _last_log(build: dict) -> str:
        logs = [phase.get("log") for phase in build.get("phases", []) if phase.get("log")]
        return logs[-1] if logs else "none"

    # -- attribution and records ----------------------------------------------

    def _pairs(self) -> list:
        """(patch, build without it, build with it) for every patch, by strategy."""
        data = self.state.data
        builds = data["builds"]
        pairs = []
        if self.opts["strategy"] == "leave_one_out":
            base = builds.get("loo-000")
            active = data.get("active") or []
            for number, patch in enumerate(self.patches, 1):
                reference = patch_dependents.reference_build(builds, active, number, patch.name, base)
                pairs.append((patch, builds.get("loo-%03d" % number), reference))
        else:
            previous = builds.get("cum-000")
            for number, patch in enumerate(self.patches, 1):
                current = builds.get("cum-%03d" % number)
                pairs.append((patch, previous, current))
                if current is not None and current.get("status") != "skipped":
                    previous = current
        return pairs

    def _outcome(self, patch: _Patch, without: dict | None, with_: dict | None) -> tuple:
        """(outcome, error text, credited diagnostics) for one patch."""
        excluded = self.state.data.get("excluded") or {}
        if patch.outcome in ("unreadable", "unsafe-path"):
            return patch.outcome, patch.problem, []
        if patch.name in excluded:
            return "does-not-apply", "%s: %s" % (patch.name, excluded[patch.name]), []
        if without is None or with_ is None:
            return "pending", None, []
        if without.get("status") == "skipped":
            reason = without.get("message") or ""
            return ("cannot-revert" if self.opts["strategy"] == "leave_one_out" else "does-not-apply"), reason, []
        if with_.get("status") == "skipped":
            if with_.get("key", "").startswith(patch_dependents.CONTEXT_PREFIX):
                return "cannot-revert", with_.get("message"), []
            return "does-not-apply", with_.get("message"), []
        credited = _credited(without, with_)
        if credited:
            return "fixed", None, credited
        if without.get("status") == "timeout" and with_.get("status") != "timeout":
            return "timeout", "the build without %s timed out (%s)" % (patch.name, without.get("message") or ""), []
        return "no-effect", None, []

    def records(self) -> tuple:
        """All records of the harvest (deterministic) and the per-patch summary."""
        data = self.state.data
        roots = [os.path.join(self.root, self.port["code_dir"]), self.root, self.work]
        common = {
            "port": self.opts["port"],
            "port_commit": self.opts.get("port_commit"),
            "toolchain": data.get("toolchain") or self.opts.get("toolchain") or self._default_toolchain(),
            "build_line": self.port["build_line"],
        }
        if self.opts.get("system"):
            common["system"] = self.opts["system"]
        records = []
        summary = []
        for patch, without, with_ in self._pairs():
            outcome, error, credited = self._outcome(patch, without, with_)
            made = []
            used = set()
            seen = set()
            for diag in credited:
                match = _hunk_for(patch, diag, roots[0])
                if match is None:
                    continue
                fp, hunk = match
                identity = (fp.path, hunk.index, diag["key"])
                if identity in seen:
                    continue
                seen.add(identity)
                used.add((fp.path, hunk.index))
                wrong_code, correct_code = patch_read.hunk_code(hunk)
                fields = dict(
                    common,
                    wrong_code=wrong_code,
                    correct_code=correct_code,
                    error_category=diag.get("category") or "other",
                    error=_error_text(diag, roots),
                    error_code=diag.get("code"),
                    patch=patch_read.hunk_patch_text(fp, hunk),
                    patch_file=patch.name,
                    file=fp.path,
                    hunk=hunk.index,
                    phase=_record_phase(diag),
                    provenance="build",
                )
                try:
                    made.append(make_record(**fields))
                except RecordError as exc:
                    self.warnings.append("%s: cannot make a record: %s" % (patch.name, exc))
            if outcome in ("fixed", "no-effect", "timeout") and patch.parsed is not None:
                try:
                    static = static_mine.records_for_patch(
                        patch.parsed, self.opts["port"], patch.name, common["toolchain"], common["build_line"], common["port_commit"],
                        system=self.opts.get("system"))
                except RecordError as exc:
                    static = []
                    self.warnings.append("%s: cannot make a static record: %s" % (patch.name, exc))
                for record in static:
                    if (record["file"], record["hunk"]) not in used:
                        made.append(record)
            records.extend(made)
            together = []
            if self.opts["strategy"] == "leave_one_out":
                together = patch_dependents.left_out_with(data.get("active") or [], without, patch.name)
            summary.append({
                "patch": patch.name,
                "outcome": outcome,
                "left_out_with": together,
                "diagnostics_fixed": len(credited),
                "categories": sorted(set(diag.get("category") or "other" for diag in credited)),
                "records": len(made),
                "error": error,
            })
        return records, summary

    def write_records(self, records: list, check_mode: bool = False) -> dict:
        """Make dest hold exactly these records for the port (port_records): edited or removed
        patches leave nothing behind."""
        try:
            return replace_port_records(self.opts["dest"], self.opts["port"], records, check_mode=check_mode, create_empty=True)
        except (OSError, OutputError, RecordError) as exc:
            raise ReplayError("cannot write records to %s: %s" % (self.opts["dest"], exc))

    def log_files(self) -> list:
        files = []
        for key in sorted(self.state.data["builds"]):
            for phase in self.state.data["builds"][key].get("phases", []):
                if phase.get("log") and os.path.isfile(phase["log"]):
                    files.append(phase["log"])
        return files

    def builds_summary(self) -> list:
        out = []
        for key in sorted(self.state.data["builds"]):
            build = self.state.data["builds"][key]
            out.append({
                "key": key,
                "label": build.get("label"),
                "status": build.get("status"),
                "failed_phase": build.get("failed_phase"),
                "diagnostics": (build.get("diagnostics_summary") or {}).get("total", len(build.get("diagnostics", []))),
                "seconds": build.get("seconds"),
                "message": build.get("message"),
            })
        return out


def _planned_builds(opts: dict, port: dict) -> int:
    usable = sum(1 for patch in port["patches"] if patch.usable)
    return 1 + usable


def _check_mode_report(opts: dict, port: dict, fingerprint: str) -> dict:
    state = _State(os.path.join(opts["state_dir"], "replay.json"))
    data = state.load()
    same = data is not None and data.get("fingerprint") == fingerprint
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
    return {
        "changed": bool(planned - done > 0 or records_missing),
        "port": opts["port"],
        "profile": opts["profile"],
        "strategy": opts["strategy"],
        "build_line": port["build_line"],
        "patch_dir": os.path.relpath(port["patch_dir"], opts["port_dir"]) if port["patch_dir"] else None,
        "source": port["spec"]["url"],
        "work_dir": opts["work"],
        "state_file": state.path,
        "records_file": opts["dest"],
        "resumed": bool(same and done and not data.get("complete")),
        "builds": 0,
        "builds_planned": planned,
        "builds_remaining": max(planned - done, 0),
        "records": 0,
        "records_written": 0,
        "records_removed": 0,
        "patches": patches,
        "log_files": [],
        "build_results": [],
        "warnings": list(port["warnings"]),
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
    return {
        "changed": bool(harvest.builds_run or output["changed"] or not was_complete),
        "port": opts["port"],
        "profile": opts["profile"],
        "strategy": opts["strategy"],
        "build_line": port["build_line"],
        "patch_dir": os.path.relpath(port["patch_dir"], opts["port_dir"]) if port["patch_dir"] else None,
        "source": port["spec"]["url"],
        "work_dir": opts["work"],
        "state_file": harvest.state.path,
        "records_file": opts["dest"],
        "resumed": harvest.resumed,
        "builds": harvest.builds_run,
        "builds_planned": len(data["builds"]),
        "builds_remaining": 0,
        "records": len(records),
        "records_written": output["written"],
        "records_removed": output["removed"],
        "patches": summary,
        "log_files": harvest.log_files(),
        "build_results": harvest.builds_summary(),
        "warnings": harvest.warnings,
    }


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
