# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Write a file only when its content differs, atomically (temp file + rename).

A second run with the same inputs then writes nothing and reports no change, and a crash
never leaves a half-written output. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import tempfile


class OutputError(Exception):
    """An output path that cannot be written; the message names it."""


def read_bytes(path: str) -> bytes | None:
    """The bytes of a file, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise OutputError("%s is a directory, expected a file" % path)


def write_if_changed(path: str, content: bytes, check_mode: bool = False, mode: int = 0o644) -> bool:
    """Write content to path unless the file already holds exactly that; True when it
    changed (or, in check mode, would change). Parent directories are created."""
    if read_bytes(path) == content:
        return False
    if check_mode:
        return True
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError("cannot write %s: %s" % (path, exc.strerror or exc))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        raise OutputError("cannot write %s: %s" % (path, exc.strerror or exc))
    return True


def publish_copy(src: str, dest: str, mode: int = 0o644) -> None:
    """Copy src to dest through a temporary file and a rename: a reader of dest sees the
    old file or the whole new one, never a part (a log copied while a crash happens)."""
    parent = os.path.dirname(os.path.abspath(dest))
    try:
        os.makedirs(parent, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError("cannot write %s: %s" % (dest, exc.strerror or exc))
    try:
        with os.fdopen(handle, "wb") as out, open(src, "rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, dest)
    except OSError as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        raise OutputError("cannot copy %s to %s: %s" % (src, dest, exc.strerror or exc))


def remove_if_present(path: str, check_mode: bool = False) -> bool:
    """Remove a file; True when it existed."""
    if not os.path.isfile(path):
        return False
    if not check_mode:
        os.unlink(path)
    return True
