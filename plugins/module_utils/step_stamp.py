# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Is this step current? The one answer for every step the collection may skip.

A step is current when the fingerprint (sha256) of its inputs equals the one recorded
when it last succeeded and what it made is still there. Three kinds of step ask:

* the long ilab steps (generate, train, convert, chat, the student model) and the
  evaluation: a stamp file (``fingerprint`` of files, trees and values, ``stamp_status``,
  ``write_stamp``), through the ``ilab_stamp`` module and ilab_env's ``stamped_step.yml``;
* ilab_env's environment: the same stamp, written in the environment with the
  fingerprint of the pinned set the role computed (a stamp that holds only that
  fingerprint, as ilab_env wrote it before, counts too);
* the harvest's checkpoint (patch_replay): ``values_digest`` of the port and options,
  kept in ``replay.json``; ``same_fingerprint`` says whether a checkpoint may be resumed.

Standard library only: this runs on build hosts and the AI host. (``ilab_stamp`` is the
same module under its earlier name.)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from typing import Any, Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import file_tree
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed

STAMP_FORMAT = 1
CHUNK = 1024 * 1024
# Directory names never part of an input tree: VCS metadata and caches change on their own.
DEFAULT_EXCLUDES = (".git", "__pycache__", ".ipynb_checkpoints")
HASH_MODES = ("content", "metadata")


_BARE_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


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
    """The stamp's content, or None when there is none. A corrupt stamp counts as none;
    a file that holds only a fingerprint (ilab_env's marker before stamps) counts as a
    stamp of that fingerprint with no outputs."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return None
    if _BARE_FINGERPRINT.match(text.strip()):
        return {"format": STAMP_FORMAT, "sha256": text.strip(), "outputs": [], "extra": {}}
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT:
        return None
    return data


def values_digest(values: Mapping[str, Any]) -> str:
    """sha256 of values as sorted JSON: the fingerprint of a step whose inputs are values
    only (the harvest's port and options, with the digests of its files among them)."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()


def same_fingerprint(recorded: Mapping[str, Any] | None, sha256: str) -> bool:
    """Whether a recorded state (a stamp, a checkpoint) was made for this fingerprint."""
    return recorded is not None and recorded.get("fingerprint", recorded.get("sha256")) == sha256


def stamp_status(path: str, sha256: str, outputs: Iterable[str] = ()) -> tuple[bool, str]:
    """(current, reason): current when the stamp matches the fingerprint and all outputs exist."""
    stamp = read_stamp(path)
    if stamp is None:
        return False, "no stamp at %s" % path
    if not same_fingerprint(stamp, sha256):
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
