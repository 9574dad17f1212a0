# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Trees as data: one path-containment check, one walker that never follows a link, and one
reproducible tar writer.

A port repo or a taxonomy is data sent to another host. A symbolic link in it is never
followed out of the tree: the walker reports links as links, `link_target` gives the
target relative to the link (refusing one that leaves the tree or leads nowhere), and the
tar keeps such a link as a link. The tar's bytes depend only on names, modes, link targets
and content (sorted members, fixed owner and times), so identical trees give identical
tars and a copy can be skipped. Standard library only.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from typing import Iterable, NamedTuple

# Version-control metadata is never part of the data.
SKIP_NAMES = (".git",)

DIR = "dir"
FILE = "file"
LINK = "link"
OTHER = "other"


class TreeError(Exception):
    """A tree entry that cannot be taken as data; the message names it."""


class Entry(NamedTuple):
    """One entry of a tree: its '/'-separated name relative to the root, its path, its kind
    (dir, file, link or other: fifo, socket, device) and, for a link, the target text."""

    name: str
    path: str
    kind: str
    target: str = ""


def inside(path: str, root: str) -> bool:
    """True when path, with every link resolved, is root or under it."""
    path = os.path.realpath(path)
    root = os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk(root: str, skip: Iterable[str] = SKIP_NAMES) -> list[Entry]:
    """Every entry under root, sorted by name, without following any symbolic link
    (a link to a folder is an entry of kind link, and nothing under it is listed)."""
    skipped = set(skip)
    entries = []
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in skipped)
        rel_dir = os.path.relpath(current, root)
        for name in dirs + sorted(files):
            path = os.path.join(current, name)
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            try:
                mode = os.lstat(path).st_mode
            except OSError as exc:
                raise TreeError("%s: cannot be read (%s)" % (path, exc.strerror or exc))
            if stat.S_ISLNK(mode):
                entries.append(Entry(rel, path, LINK, os.readlink(path)))
            elif stat.S_ISDIR(mode):
                entries.append(Entry(rel, path, DIR))
            elif stat.S_ISREG(mode):
                entries.append(Entry(rel, path, FILE))
            else:
                entries.append(Entry(rel, path, OTHER))
    return sorted(entries)


def link_target(root: str, entry: Entry) -> str:
    """The target of a link entry, relative to the link's folder, when it leads to an
    existing entry inside root; TreeError naming the link otherwise. The result never
    depends on where root is on disk (an absolute target inside the tree becomes relative)."""
    real = os.path.realpath(entry.path)
    if not inside(real, root):
        raise TreeError("%s links outside the tree (%s)" % (entry.path, entry.target))
    if not os.path.exists(real):
        raise TreeError("%s links to nothing (%s)" % (entry.path, entry.target))
    return os.path.relpath(real, os.path.realpath(os.path.dirname(entry.path))).replace(os.sep, "/")


def _info(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def tar_bytes(members: Iterable[tuple[str, str, str, int]]) -> bytes:
    """The reproducible (uncompressed, PAX) tar of members, each (name, kind, source, mode):
    a dir (source unused), a file (source is the path to read) or a link (source is the
    target text, stored as is). Members are written in the order given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, kind, source, mode in members:
            info = _info(name)
            info.mode = mode
            if kind == DIR:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif kind == LINK:
                info.type = tarfile.SYMTYPE
                info.linkname = source
                archive.addfile(info)
            else:
                # O_NOFOLLOW: a file swapped for a link after the walk is not read through.
                flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                with os.fdopen(os.open(source, flags), "rb") as handle:
                    data = handle.read()
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
