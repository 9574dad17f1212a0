# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""What a zopen port repository is made of: its buildenv, its patch folder and its source.

``read_buildenv`` reads the ``buildenv`` shell file without running it: assignments,
``${VAR}`` expansion, top-level ``if``/``else`` on simple ``[ ... ]`` tests and the
``ln -s X patches`` trick some ports use to switch patch folders. ``select_patch_dir``
then picks the folder ``zopen build`` would apply, and ``list_patches`` lists the
patches in the order ``zopen build`` applies them. The shell reading itself is in
buildenv_shell (Buildenv and PortLayoutError are importable from here too).

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import os

from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.buildenv_shell import Buildenv, PortLayoutError, _interpret

# A buildenv is a few KiB; anything this big is not one and is not read.
MAX_BUILDENV_BYTES = 1024 * 1024

BUILD_LINES = ("STABLE", "DEV")


def read_buildenv(path: str, environ: dict | None = None) -> Buildenv:
    """Read a zopen ``buildenv`` file without executing it.

    Returns the variables it assigns (``export X=...`` and ``X=...``) after quote
    removal and ``$VAR``/``${VAR}``/``${VAR:-default}`` expansion from earlier
    assignments and ``environ`` (default: a clean environment where ``ZOPEN_ROOT``
    and ``PWD`` are the buildenv's folder, as during ``zopen build``). Function
    bodies and here-documents are skipped; top-level ``if`` blocks follow the branch
    their ``[ ... ]`` tests select (undecidable tests count as false); command
    substitutions are kept as written, never run. Raises PortLayoutError naming the
    file when it is missing, unreadable, too big or binary.
    """
    if not os.path.isfile(path):
        raise PortLayoutError("buildenv %s: no such file" % path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BUILDENV_BYTES:
            raise PortLayoutError("buildenv %s: %d bytes is too big for a buildenv (limit %d)" % (path, size, MAX_BUILDENV_BYTES))
        with open(path, "rb") as handle:
            data = handle.read(MAX_BUILDENV_BYTES + 1)
    except OSError as exc:
        raise PortLayoutError("buildenv %s: cannot read: %s" % (path, exc.strerror or exc))
    if b"\x00" in data:
        raise PortLayoutError("buildenv %s: binary data (NUL bytes), not a shell file" % path)
    env = Buildenv()
    env.path = path
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("iso8859-1")
        env.warnings.append("not UTF-8, read as ISO8859-1")
    text = text.replace("\r\n", "\n")
    root = os.path.dirname(os.path.abspath(path))
    seed = dict(environ) if environ is not None else {"ZOPEN_ROOT": root, "PWD": root}
    _interpret(text, env, seed)
    return env


# ---------------------------------------------------------------------------
# Patch folder and source selection.


def resolve_build_line(buildenv: dict, build_line: str = "auto") -> str:
    """'STABLE' or 'DEV': the explicit choice, else buildenv ZOPEN_BUILD_LINE, else STABLE."""
    choice = (build_line or "auto").strip()
    if choice.upper() in BUILD_LINES:
        return choice.upper()
    if choice.lower() != "auto":
        raise PortLayoutError("build line %r: expected auto, STABLE or DEV" % build_line)
    value = (buildenv or {}).get("ZOPEN_BUILD_LINE", "").strip().upper()
    return value if value in BUILD_LINES else "STABLE"


def _candidate(port_dir: str, name: str, links: dict) -> str | None:
    """The real folder `name` stands for in the port dir, following a buildenv `ln -s`."""
    seen = set()
    while name in links and name not in seen:
        seen.add(name)
        name = os.path.normpath(links[name])
    path = name if os.path.isabs(name) else os.path.join(port_dir, name)
    if not os.path.isdir(path):
        return None
    if not inside(path, port_dir):
        raise PortLayoutError("patch folder %s of port %s leads outside the port directory" % (name, port_dir))
    return os.path.realpath(path)


def select_patch_dir(port_dir: str, buildenv: dict, build_line: str = "auto") -> tuple:
    """Pick the patch folder ``zopen build`` would apply: (absolute dir or None, 'STABLE'|'DEV').

    ``ZOPEN_PATCH_DIR`` when set, else ``stable-patches/`` or ``dev-patches/`` for
    the build line, else ``patches/``; a ``ln -s X patches`` done by the buildenv
    (see Buildenv.links) is followed. Raises PortLayoutError when the port dir is
    missing or the chosen folder lies outside it.
    """
    if not os.path.isdir(port_dir):
        raise PortLayoutError("port dir %s: no such directory" % port_dir)
    port_dir = os.path.abspath(port_dir)
    buildenv = buildenv or {}
    line = resolve_build_line(buildenv, build_line)
    links = dict(getattr(buildenv, "links", {}) or {})
    override = (buildenv.get("ZOPEN_PATCH_DIR") or "").strip()
    if override:
        path = _candidate(port_dir, os.path.normpath(override), links)
        if path is None:
            return None, line
        return path, line
    for name in ("stable-patches" if line == "STABLE" else "dev-patches", "patches"):
        path = _candidate(port_dir, name, links)
        if path is not None:
            return path, line
    return None, line


def list_patches(patch_dir: str, errors: list | None = None) -> list:
    """Every ``*.patch`` file under patch_dir, recursively, as absolute paths in sorted relative-path order.

    ``.diff`` files are not applied by ``zopen build`` and are not listed. Symlinked
    sub-folders are not followed (they could lead anywhere). A sub-folder that cannot
    be read is appended to ``errors`` as ``(path, reason)`` when a list is given, so
    the caller can report it instead of losing its patches silently.
    """
    if not os.path.isdir(patch_dir):
        raise PortLayoutError("patch dir %s: no such directory" % patch_dir)
    root = os.path.abspath(patch_dir)
    found = []

    def walk_error(exc):
        if errors is not None:
            errors.append((getattr(exc, "filename", None) or root, "cannot read folder: %s" % (exc.strerror or exc)))

    for folder, dirs, files in os.walk(root, onerror=walk_error):
        dirs.sort()
        for name in files:
            if name.endswith(".patch"):
                full = os.path.join(folder, name)
                found.append((os.path.relpath(full, root).replace(os.sep, "/"), full))
    # Byte order of the relative path, like `sort` in the C locale.
    found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
    return [item[1] for item in found]


def source_spec(buildenv: dict, build_line: str) -> dict:
    """Where the upstream source comes from for a build line.

    Returns ``{"url", "kind", "tag", "branch"}``: ``kind`` is 'git' or 'tarball'
    (None when there is no URL). Uses ``ZOPEN_{STABLE,DEV}_{URL,TAG,BRANCH,TYPE}``,
    falling back to the deprecated ``ZOPEN_GIT_URL``/``ZOPEN_TARBALL_URL``/``ZOPEN_TYPE``.
    """
    buildenv = buildenv or {}
    line = resolve_build_line(buildenv, build_line)
    url = (buildenv.get("ZOPEN_%s_URL" % line) or "").strip()
    kind_hint = (buildenv.get("ZOPEN_%s_TYPE" % line) or "").strip().upper()
    if not url:
        git_url = (buildenv.get("ZOPEN_GIT_URL") or "").strip()
        tarball_url = (buildenv.get("ZOPEN_TARBALL_URL") or "").strip()
        legacy_type = (buildenv.get("ZOPEN_TYPE") or "").strip().upper()
        if legacy_type == "GIT" and git_url:
            url, kind_hint = git_url, "GIT"
        elif legacy_type == "TARBALL" and tarball_url:
            url, kind_hint = tarball_url, "TARBALL"
        elif line == "DEV":
            url = git_url or tarball_url
        else:
            url = tarball_url or git_url
        if url and not kind_hint:
            kind_hint = "GIT" if url == git_url else "TARBALL"
    kind = None
    if url:
        if kind_hint in ("GIT", "TARBALL"):
            kind = kind_hint.lower()
        else:
            kind = "git" if url.rstrip("/").endswith(".git") else "tarball"
    return {
        "url": url or None,
        "kind": kind,
        "tag": (buildenv.get("ZOPEN_%s_TAG" % line) or "").strip() or None,
        "branch": (buildenv.get("ZOPEN_%s_BRANCH" % line) or "").strip() or None,
    }


def compiler_toolchain(buildenv: dict) -> str:
    """The toolchain name for records from buildenv ZOPEN_COMP: 'ibm-clang', 'xlclang', 'xlc' or 'unknown'."""
    value = ((buildenv or {}).get("ZOPEN_COMP") or "").strip().upper()
    if value in ("CLANG", "OPENXL", "IBM-CLANG", "IBMCLANG"):
        return "ibm-clang"
    if value == "XLCLANG":
        return "xlclang"
    if value in ("XLC", "C89", "C99"):
        return "xlc"
    return "unknown"
