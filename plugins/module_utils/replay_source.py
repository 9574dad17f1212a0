# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Prepare a port's upstream source: git clone, tarball download and safe unpacking, mirror lookup, the zopen source directory name.

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import urllib.parse

from ansible_collections.autoport.zos.plugins.module_utils import git_local
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import ReplayError


# Source downloads (curl): refuse absurd sizes and stalled servers.
MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3
DOWNLOAD_TIMEOUT = 120
GIT_TIMEOUT = 1800
# Unpacking: a tarball that expands past this is refused (a "tar bomb").
MAX_UNPACKED_BYTES = 16 * 1024 ** 3
# The collection's one git identity; a fixed date: the base commit of a tarball is the same on every run.
_GIT_IDENTITY = git_local.identity_env("1700000000 +0000")


# ---------------------------------------------------------------------------
# Small helpers.


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# ---------------------------------------------------------------------------
# Getting the source.


def _git(args: list, cwd: str, env: dict, timeout: int = GIT_TIMEOUT) -> subprocess.CompletedProcess:
    """git through git_local.run (stdin closed, prompts off, time limit), its errors as ReplayError."""
    try:
        return git_local.run(args, cwd=cwd, env=env, timeout=timeout, stderr_to_stdout=True)
    except git_local.GitTimeout as exc:
        raise ReplayError(str(exc))
    except git_local.GitError as exc:
        raise ReplayError("cannot run git (needed to apply patches): %s" % exc)


def _git_output(result: subprocess.CompletedProcess) -> str:
    return git_local.output(result)


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
        if name and inside(candidate, mirror_dir) and os.path.exists(candidate):
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
                    if os.path.isabs(target) or not inside(resolved, dest):
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
