# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Bounded checkpoints: the diagnostics of a build are kept in a summary of fixed size.

The checkpoint (``replay.json``) is rewritten at every step of a harvest, so it must
stay small whatever a build prints. Each build's error diagnostics are:

* reduced to one per key (attribution compares keys; the first occurrence of a key is
  the one a record is made from), with keys longer than ``MAX_KEY_CHARS`` replaced by
  their digest and text fields clipped to ``FIELD_LIMITS`` (counted in
  ``fields_truncated``);
* capped at ``MAX_KEPT`` items and ``MAX_KEPT_BYTES`` of JSON; the keys of the rest are
  kept as short digests (at most ``MAX_DROPPED_KEYS``) so attribution still knows an
  error is present in a build even when its text was not kept;
* written once per build to ``<state_dir>/diagnostics/<build>.json``; the checkpoint only
  names that file and holds the counts (``diagnostics_summary``).

The build logs keep everything. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed

MAX_KEPT = 2000
MAX_KEPT_BYTES = 1024 * 1024
MAX_DROPPED_KEYS = 100000
MAX_KEY_CHARS = 256
FIELD_LIMITS = {"message": 4000, "file": 1024, "code": 200, "category": 100, "tool": 100, "phase": 40, "severity": 40}
FOLDER = "diagnostics"


class CheckpointError(Exception):
    """A checkpoint file that cannot be written; the message names it."""


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def key_digest(key: str) -> str:
    """The digest form of a diagnostic key (long keys are already stored in it)."""
    return key if key.startswith("sha256:") else digest(key)


def bound_diagnostics(items) -> tuple:
    """(kept items, dropped key digests, summary) from an iterable of diagnostics with a ``key``.

    Consumes the iterable once, holding at most the bounded result (and one short
    digest per distinct key) in memory.
    """
    kept, dropped = [], []
    seen = set()
    total = truncated = kept_bytes = dropped_count = 0
    for item in items:
        total += 1
        key = item.get("key") or ""
        if len(key) > MAX_KEY_CHARS:
            key = digest(key)
        marker = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()[:16]
        if marker in seen:
            continue
        seen.add(marker)
        if len(kept) >= MAX_KEPT or kept_bytes >= MAX_KEPT_BYTES:
            dropped_count += 1
            if len(dropped) < MAX_DROPPED_KEYS:
                dropped.append(key_digest(key))
            continue
        item = dict(item, key=key)
        for name, limit in FIELD_LIMITS.items():
            value = item.get(name)
            if isinstance(value, str) and len(value) > limit:
                item[name] = value[: limit - 3] + "..."
                truncated += 1
        kept.append(item)
        kept_bytes += len(json.dumps(item))
    summary = {"total": total, "distinct": len(kept) + dropped_count, "kept": len(kept), "dropped": dropped_count,
               "dropped_keys_kept": len(dropped), "fields_truncated": truncated}
    return kept, dropped, summary


def present_keys(build: dict) -> set:
    """Digests of every diagnostic key known to be in a build, kept or not."""
    keys = set(build.get("dropped_keys") or ())
    keys.update(key_digest(item["key"]) for item in build.get("diagnostics") or ())
    return keys


class DiagnosticStore(object):
    """Diagnostics of each build, one file per build written once, out of the checkpoint."""

    def __init__(self, state_dir: str):
        self.folder = os.path.join(state_dir, FOLDER)
        self.written: dict = {}

    def _path(self, key: str) -> str:
        if not re.match(r"^[A-Za-z0-9._-]{1,64}$", key) or key.startswith("."):
            raise CheckpointError("build key %r cannot name a file" % key)
        return os.path.join(self.folder, key + ".json")

    def detach(self, data: dict) -> dict:
        """The checkpoint as written: builds without their diagnostics, which go to their own files."""
        slim = dict(data)
        builds = {}
        for key, build in (data.get("builds") or {}).items():
            entry = {name: value for name, value in build.items() if name not in ("diagnostics", "dropped_keys")}
            items = build.get("diagnostics") or []
            if items or build.get("dropped_keys"):
                marker = (id(items), len(items))
                if self.written.get(key) != marker:
                    payload = {"diagnostics": items, "dropped_keys": sorted(build.get("dropped_keys") or [])}
                    try:
                        write_if_changed(self._path(key), (json.dumps(payload, sort_keys=True) + "\n").encode("utf-8"))
                    except OutputError as exc:
                        raise CheckpointError("cannot write the diagnostics of build %s: %s" % (key, exc))
                    self.written[key] = marker
                entry["diagnostics_file"] = os.path.join(FOLDER, key + ".json")
            builds[key] = entry
        slim["builds"] = builds
        return slim

    def attach(self, data: dict) -> dict:
        """The checkpoint as used: every build with its diagnostics again.

        A build whose diagnostics file is gone or unreadable is forgotten (it is built
        again); diagnostics kept inside an older checkpoint are bounded like new ones.
        """
        builds = {}
        for key, build in (data.get("builds") or {}).items():
            build = dict(build)
            if "diagnostics_file" in build:
                try:
                    with open(self._path(key), "r", encoding="utf-8") as handle:
                        payload = json.load(handle)
                    build["diagnostics"] = list(payload["diagnostics"])
                    build["dropped_keys"] = list(payload.get("dropped_keys") or [])
                except (OSError, ValueError, KeyError, TypeError, CheckpointError):
                    continue
                self.written[key] = (id(build["diagnostics"]), len(build["diagnostics"]))
            elif build.get("diagnostics"):
                build["diagnostics"], build["dropped_keys"], build["diagnostics_summary"] = bound_diagnostics(build["diagnostics"])
            builds[key] = build
        data = dict(data)
        data["builds"] = builds
        return data
