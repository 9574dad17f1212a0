# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Pack a port repo into a tar whose bytes depend only on the files' names, modes and content.

The controller sends ports to z/OS hosts as one tar; identical content must give an
identical tar so the copy (and everything after it) is skipped on a second run.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import tarfile

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed

# Version-control metadata is not part of a port; everything else is.
SKIP_NAMES = (".git",)


class PortPackError(Exception):
    """The source cannot be packed (missing, not a directory, unreadable)."""


def _members(src: str):
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES)
        rel_root = os.path.relpath(root, src)
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.islink(path):
                # A link could point anywhere on the controller: send what it names only if inside src.
                target = os.path.realpath(path)
                if not target.startswith(os.path.realpath(src) + os.sep):
                    raise PortPackError("%s links outside the port (%s)" % (path, target))
            yield os.path.normpath(os.path.join(rel_root, name)), path
        for name in dirs:
            yield os.path.normpath(os.path.join(rel_root, name)) + "/", os.path.join(root, name)


def pack_bytes(src: str) -> bytes:
    """The tar of src as bytes: sorted names, fixed owner and times, modes kept."""
    if not os.path.isdir(src):
        raise PortPackError("%s is not a directory" % src)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, path in sorted(_members(src)):
            info = tarfile.TarInfo(arcname.rstrip("/"))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if arcname.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def head_commit(src: str) -> str | None:
    """HEAD of src when it is a git checkout: the tar leaves .git out, so the records'
    port_commit has to travel beside it."""
    if not os.path.exists(os.path.join(src, ".git")):
        return None
    try:
        done = subprocess.run(["git", "-C", src, "rev-parse", "--verify", "HEAD"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.decode("ascii", "replace").strip()
    return commit if done.returncode == 0 and re.match(r"^[0-9a-f]{40,64}$", commit) else None


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
