# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Pack a port repo into a tar whose bytes depend only on the files' names, modes and content.

The controller sends ports to z/OS hosts as one tar; identical content must give an
identical tar so the copy (and everything after it) is skipped on a second run.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.autoport.zos.plugins.module_utils import file_tree, git_local
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed

# Version-control metadata is not part of a port; everything else is.
SKIP_NAMES = file_tree.SKIP_NAMES


class PortPackError(Exception):
    """The source cannot be packed (missing, not a directory, unreadable, a link leaving it)."""


def members(src: str) -> list[tuple[str, str, str, int]]:
    """The tar members of a port: folders, files (mode 0755 when executable, else 0644) and
    links as links. A port is data: a link that leads out of it (or nowhere) is refused,
    and no link is ever followed, so nothing outside the port can reach the build host."""
    found = []
    try:
        for entry in file_tree.walk(src, SKIP_NAMES):
            if entry.kind == file_tree.DIR:
                found.append((entry.name, entry.kind, "", 0o755))
            elif entry.kind == file_tree.LINK:
                found.append((entry.name, entry.kind, file_tree.link_target(src, entry), 0o777))
            elif entry.kind == file_tree.FILE:
                found.append((entry.name, entry.kind, entry.path, 0o755 if os.access(entry.path, os.X_OK) else 0o644))
            else:
                raise PortPackError("%s is not a file, folder or link (a fifo, socket or device)" % entry.path)
    except file_tree.TreeError as exc:
        raise PortPackError(str(exc))
    return found


def pack_bytes(src: str) -> bytes:
    """The tar of src as bytes: sorted names, fixed owner and times, modes kept."""
    if not os.path.isdir(src):
        raise PortPackError("%s is not a directory" % src)
    return file_tree.tar_bytes(members(src))


def head_commit(src: str) -> str | None:
    """HEAD of src when it is a git checkout: the tar leaves .git out, so the records'
    port_commit has to travel beside it."""
    if not os.path.exists(os.path.join(src, ".git")):
        return None
    try:
        return git_local.head(src)
    except git_local.GitError:
        return None


def pack_port(src: str, dest: str, check_mode: bool = False) -> dict:
    """Write the tar of src to dest when its bytes differ; report sha1 checksum and changed."""
    data = pack_bytes(src)
    checksum = hashlib.sha1(data).hexdigest()
    current = None
    if os.path.isfile(dest):
        with open(dest, "rb") as handle:
            current = hashlib.sha1(handle.read()).hexdigest()
    changed = current != checksum
    if changed:
        try:
            write_if_changed(dest, data, check_mode)
        except OutputError as exc:
            raise PortPackError(str(exc))
    return {"changed": changed, "dest": dest, "checksum": checksum, "size": len(data), "commit": head_commit(src)}
