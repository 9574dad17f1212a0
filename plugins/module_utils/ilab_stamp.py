# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Stamp files: skip a long step (generate, train, convert, chat) whose inputs have not changed.

A stamp is a small JSON file written after a step succeeded. It records the fingerprint
(sha256) of the step's inputs (files, directory trees, parameter values) and the outputs
the step made. The step is current when the stamp exists, its fingerprint equals the one
computed now and every recorded output still exists.

Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from typing import Any, Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import file_tree
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed

STAMP_FORMAT = 1
CHUNK = 1024 * 1024
# Directory names never part of an input tree: VCS metadata and caches change on their own.
DEFAULT_EXCLUDES = (".git", "__pycache__", ".ipynb_checkpoints")
HASH_MODES = ("content", "metadata")


class StampError(Exception):
    """An input cannot be fingerprinted or a stamp cannot be read/written; the message names the path."""


def _hash_file(digest: Any, path: str, mode: str) -> int:
    info = os.stat(path)
    if mode == "metadata":
        # Size and modification time only: cheap for multi-GB models that never change in place.
        digest.update(("%d:%d" % (info.st_size, info.st_mtime_ns)).encode("ascii"))
        return info.st_size
    try:
        with open(path, "rb") as handle:
            while True:
                block = handle.read(CHUNK)
                if not block:
                    break
                digest.update(block)
    except OSError as exc:
        raise StampError("%s: cannot be read (%s)" % (path, exc.strerror or exc))
    return info.st_size


def _walk(root: str, excludes: Iterable[str]) -> list[str]:
    """Relative paths of every entry under root but folders, sorted, without following symlinks."""
    return [entry.name.replace("/", os.sep) for entry in file_tree.walk(root, excludes) if entry.kind != file_tree.DIR]


def fingerprint(
    inputs: Iterable[str],
    values: Mapping[str, Any] | None = None,
    mode: str = "content",
    excludes: Iterable[str] = DEFAULT_EXCLUDES,
) -> dict[str, Any]:
    """sha256 over the given files/trees and values; returns {"sha256", "files", "bytes"}.

    Trees are walked in sorted order; each file contributes its path relative to the
    tree root and its content (mode "content") or size and mtime (mode "metadata").
    Symlinks contribute their target text and are never followed (no loops, nothing
    outside the tree is read). A missing input raises StampError naming it.
    """
    if mode not in HASH_MODES:
        raise StampError("unknown fingerprint mode %r (use one of %s)" % (mode, ", ".join(HASH_MODES)))
    excludes = tuple(excludes)
    digest = hashlib.sha256()
    digest.update(b"autoport-ilab-stamp-1\0")
    files = 0
    total = 0
    for index, path in enumerate(inputs):
        digest.update(("input %d\0" % index).encode("ascii"))
        if os.path.islink(path) and not os.path.exists(path):
            raise StampError("%s: dangling symlink given as a step input" % path)
        if not os.path.exists(path):
            raise StampError("%s: step input does not exist" % path)
        if os.path.isdir(path):
            for rel in _walk(path, excludes):
                full = os.path.join(path, rel)
                digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
                if os.path.islink(full):
                    digest.update(b"L" + os.readlink(full).encode("utf-8", "surrogateescape") + b"\0")
                    continue
                if not stat.S_ISREG(os.stat(full).st_mode):
                    digest.update(b"S\0")  # fifo/socket/device: its name only, never read it
                    continue
                total += _hash_file(digest, full, mode)
                files += 1
                digest.update(b"\0")
        else:
            total += _hash_file(digest, path, mode)
            files += 1
    if values:
        try:
            encoded = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
        except (TypeError, ValueError) as exc:
            raise StampError("step values cannot be serialised: %s" % exc)
        digest.update(b"values\0" + encoded.encode("utf-8"))
    return {"sha256": digest.hexdigest(), "files": files, "bytes": total}


def read_stamp(path: str) -> dict[str, Any] | None:
    """The stamp's content, or None when there is none. A corrupt stamp counts as none."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT:
        return None
    return data


def stamp_status(path: str, sha256: str, outputs: Iterable[str] = ()) -> tuple[bool, str]:
    """(current, reason): current when the stamp matches the fingerprint and all outputs exist."""
    stamp = read_stamp(path)
    if stamp is None:
        return False, "no stamp at %s" % path
    if stamp.get("sha256") != sha256:
        return False, "inputs changed since the stamp was written"
    for output in list(stamp.get("outputs") or []) + list(outputs):
        if not os.path.exists(output):
            return False, "output %s is missing" % output
    return True, "inputs unchanged and outputs present"


def write_stamp(path: str, sha256: str, outputs: Iterable[str] = (), extra: Mapping[str, Any] | None = None, check_mode: bool = False) -> bool:
    """Write the stamp atomically; returns True when its content changed (False if identical)."""
    content = {"format": STAMP_FORMAT, "sha256": sha256, "outputs": sorted(set(outputs)), "extra": dict(extra or {})}
    missing = [output for output in content["outputs"] if not os.path.exists(output)]
    if missing and not check_mode:
        raise StampError("%s: refusing to stamp a step whose outputs are missing: %s" % (path, ", ".join(missing)))
    if read_stamp(path) == content:
        return False
    if check_mode:
        return True
    text = json.dumps(content, sort_keys=True, indent=1) + "\n"
    try:
        write_if_changed(path, text.encode("utf-8"))
    except OutputError as exc:
        raise StampError("%s: cannot write stamp (%s)" % (path, exc))
    return True
