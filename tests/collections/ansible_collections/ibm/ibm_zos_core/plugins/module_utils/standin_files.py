# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Small file helpers shared by the stand-in modules (standard library only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import tempfile
import time

CHUNK_SIZE = 64 * 1024


def file_sha256(path):
    """SHA-256 of a regular file, None for a directory or a missing path."""
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def is_uss_path(name):
    """z/OS modules treat any name with a slash as a USS path, the rest as a data set."""
    return isinstance(name, str) and "/" in name


def write_atomically_from(src, dest):
    """Copy the bytes of src over dest through a temp file in dest's directory."""
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    fd, temp_path = tempfile.mkstemp(prefix=".standin-copy-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as infile:
            shutil.copyfileobj(infile, out, CHUNK_SIZE)
        mode_source = dest if os.path.exists(dest) else src
        os.chmod(temp_path, os.stat(mode_source).st_mode & 0o7777)
        os.replace(temp_path, dest)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def strip_carriage_returns(src, dest):
    """Write src to dest with every CR LF turned into LF, as the real text copy does."""
    with open(src, "rb") as infile, open(dest, "wb") as out:
        pending_cr = False
        for block in iter(lambda: infile.read(CHUNK_SIZE), b""):
            if pending_cr:
                block = b"\r" + block
                pending_cr = False
            if block.endswith(b"\r"):
                block = block[:-1]
                pending_cr = True
            out.write(block.replace(b"\r\n", b"\n"))
        if pending_cr:
            out.write(b"\r")


def backup_path(path, backup_name=None):
    """Copy a file or directory aside before it is overwritten; return the copy's path."""
    target = backup_name or "%s.%s.bak" % (path, time.strftime("%Y-%m-%d-%H-%M-%S"))
    if os.path.isdir(path):
        shutil.copytree(path, target, symlinks=True)
    else:
        shutil.copy2(path, target)
    return target


def within(path, root):
    """True when path (resolved) is root or lies under it."""
    real_root = os.path.realpath(root)
    real_path = os.path.realpath(path)
    return real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)
