# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The store between stages: where each stage reads its inputs and writes its outputs.

Two kinds, named by one variable set (``autoport_store``):

* ``type: path`` - a folder on a shared filesystem (an AWX container group's persistent
  volume, an NFS mount). Every item (``harvest``, ``mined``, ``curated``, ``taxonomy`` ...)
  is a symlink ``<path>/<item>`` to an immutable version ``<path>/.autoport/<item>/<digest>``;
  a push copies into a temporary folder, renames it to its digest, then swaps the symlink
  with one rename. A reader sees the old version or the new one, never half of one.
* ``type: git`` - a git repository (``url``, ``branch``); every item is a folder of the
  tree. A push is one commit per stage (all its items), pushed to the branch; nested
  ``.git`` folders are left out (the taxonomy's own history stays with the stage).

The revision of an item is its content digest (path) or the last store commit that
changed it (git). Pushing
the same content again changes nothing. An unreachable or read-only store fails with a
message that names it. Standard library (and the git command) only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from typing import Any, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import git_local

ITEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
META_DIR = ".autoport"
IGNORED = {".git"}
# Commits to a git store are made as the collection's one identity.
COMMIT_NAME, COMMIT_EMAIL = git_local.IDENTITY


class StoreError(Exception):
    """A store that cannot be used; the message names it."""


# ---------------------------------------------------------------- spec


def parse_spec(spec: Mapping[str, Any]) -> dict[str, str]:
    """A checked store spec: {type, path} or {type, url, branch}."""
    if not isinstance(spec, Mapping):
        raise StoreError("autoport_store must be a mapping with type path or git, got %r" % (spec,))
    kind = spec.get("type")
    if kind == "path":
        path = spec.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise StoreError("autoport_store.path must be an absolute path, got %r" % (path,))
        return {"type": "path", "path": os.path.normpath(path)}
    if kind == "git":
        url = spec.get("url")
        branch = spec.get("branch") or "main"
        if not isinstance(url, str) or not url or url.startswith("-"):
            raise StoreError("autoport_store.url must be a git URL or path, got %r" % (url,))
        if not isinstance(branch, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", branch) or ".." in branch:
            raise StoreError("autoport_store.branch %r is not a usable branch name" % (branch,))
        return {"type": "git", "url": url, "branch": branch}
    raise StoreError("autoport_store.type must be path or git, got %r" % (kind,))


def describe(spec: Mapping[str, str]) -> str:
    """One line naming the store (never credentials: a user:password@ part of a URL is dropped)."""
    if spec["type"] == "path":
        return "path %s" % spec["path"]
    return "git %s (branch %s)" % (re.sub(r"//[^/@]*@", "//", spec["url"]), spec["branch"])


def _check_items(items: Mapping[str, str]) -> None:
    for name, local in items.items():
        if not ITEM_NAME.match(name) or name == META_DIR:
            raise StoreError("store item name %r is not usable (letters, digits, . _ -)" % name)
        if not isinstance(local, str) or not local:
            raise StoreError("store item %s has no local path" % name)


# ---------------------------------------------------------------- content


def tree_digest(folder: str) -> str | None:
    """sha256 over relative paths, file bytes and symlink targets (.git left out); None when absent."""
    if not os.path.isdir(folder):
        return None
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                digest.update(b"L\0%s\0%s\0" % (rel.encode(), os.readlink(path).encode()))
            else:
                digest.update(b"F\0%s\0" % rel.encode())
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                digest.update(b"\0")
    return digest.hexdigest()


def _copy(src: str, dest: str, keep_git: bool) -> None:
    ignore = None if keep_git else shutil.ignore_patterns(*IGNORED)
    shutil.copytree(src, dest, symlinks=True, ignore=ignore)


def _replace_local(src: str, local: str, keep_git: bool = True) -> None:
    """local becomes a copy of src (written beside it, then renamed into place)."""
    parent = os.path.dirname(os.path.abspath(local))
    os.makedirs(parent, exist_ok=True)
    temp = os.path.join(parent, ".%s.store-%s" % (os.path.basename(local), uuid.uuid4().hex[:8]))
    _copy(src, temp, keep_git)
    if os.path.lexists(local):
        old = temp + ".old"
        os.rename(local, old)
        os.rename(temp, local)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(temp, local)


# ---------------------------------------------------------------- path store


def _path_root(spec: Mapping[str, str], write: bool) -> str:
    root = spec["path"]
    if not os.path.isdir(root):
        raise StoreError("store %s is unreachable: the folder does not exist (is the volume mounted?)" % describe(spec))
    if write:
        probe = os.path.join(root, ".autoport-write-probe-%s" % uuid.uuid4().hex[:8])
        try:
            with open(probe, "w", encoding="utf-8") as handle:
                handle.write("probe")
            os.unlink(probe)
        except OSError as exc:
            raise StoreError("store %s is read-only or not writable: %s" % (describe(spec), exc.strerror)) from exc
    return root


def _path_current(root: str, name: str) -> tuple[str | None, str | None]:
    """(version folder, digest) an item points at now, or (None, None)."""
    link = os.path.join(root, name)
    if not os.path.lexists(link):
        return None, None
    if not os.path.islink(link):
        raise StoreError("store item %s is not a version link (written by hand?)" % link)
    target = os.path.realpath(link)
    return target, os.path.basename(target)


def _path_pull(spec, items, check_mode) -> dict[str, Any]:
    root = _path_root(spec, write=False)
    result: dict[str, Any] = {"changed": False, "items": {}}
    for name, local in items.items():
        version, digest = _path_current(root, name)
        entry = {"revision": None, "local": local, "location": os.path.join(root, name), "record": None}
        if version is not None:
            entry["revision"] = "sha256:" + digest
            entry["record"] = _read_json(version + ".json")
            if tree_digest(local) != digest:
                result["changed"] = True
                if not check_mode:
                    _replace_local(version, local)
        result["items"][name] = entry
    return result


def _present(spec, items: Mapping[str, str], optional) -> dict[str, str]:
    """The items to push: a missing output is an error unless the item is optional."""
    present = {}
    for name, local in items.items():
        if tree_digest(local) is not None:
            present[name] = local
        elif name not in optional:
            raise StoreError("stage output %s (store item %s) does not exist: nothing to push to %s" % (local, name, describe(spec)))
    return present


def _path_push(spec, items, record, check_mode) -> dict[str, Any]:
    root = _path_root(spec, write=not check_mode)
    result: dict[str, Any] = {"changed": False, "items": {}}
    for name, local in items.items():
        digest = tree_digest(local)
        if digest is None:
            raise StoreError("stage output %s (store item %s) does not exist: nothing to push to %s" % (local, name, describe(spec)))
        entry = {"revision": "sha256:" + digest, "local": local, "location": os.path.join(root, name)}
        result["items"][name] = entry
        if _path_current(root, name)[1] == digest:
            continue
        result["changed"] = True
        if check_mode:
            continue
        versions = os.path.join(root, META_DIR, name)
        os.makedirs(versions, exist_ok=True)
        version = os.path.join(versions, digest)
        if not os.path.isdir(version):
            temp = os.path.join(versions, ".tmp-%s" % uuid.uuid4().hex)
            _copy(local, temp, keep_git=True)
            if tree_digest(temp) != digest:
                shutil.rmtree(temp, ignore_errors=True)
                raise StoreError("stage output %s changed while it was copied to %s; run the stage again" % (local, describe(spec)))
            os.rename(temp, version)
        _write_json(version + ".json", dict(record, item=name, revision="sha256:" + digest))
        link = os.path.join(root, ".%s.link-%s" % (name, uuid.uuid4().hex[:8]))
        os.symlink(os.path.join(META_DIR, name, digest), link)
        os.replace(link, os.path.join(root, name))
    return result


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _write_json(path: str, data: Mapping) -> None:
    temp = "%s.tmp-%s" % (path, uuid.uuid4().hex[:8])
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(temp, path)


# ---------------------------------------------------------------- git store


def _git(spec: Mapping[str, str], cwd: str | None, *args: str) -> str:
    try:
        done = git_local.run(list(args), cwd=cwd, timeout=600, identity=True)
    except git_local.GitError as exc:
        raise StoreError("store %s: git %s did not run: %s" % (describe(spec), args[0], exc)) from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StoreError("store %s: git %s failed: %s" % (describe(spec), args[0], " / ".join(message[-3:])[:500]))
    return done.stdout.decode("utf-8", "replace").strip()


def _git_checkout(spec, work: str) -> str | None:
    """Clone the store's branch into work; its head commit, or None when the branch is new."""
    try:
        heads = _git(spec, None, "ls-remote", "--heads", spec["url"], "refs/heads/" + spec["branch"])
    except StoreError as exc:
        raise StoreError(str(exc).replace("git ls-remote failed", "unreachable")) from exc
    if not heads:
        _git(spec, None, "init", "-q", "-b", spec["branch"], work)
        _git(spec, work, "remote", "add", "origin", spec["url"])
        return None
    # Whole history: an item's revision is the last commit that changed it.
    _git(spec, None, "clone", "-q", "--no-tags", "--single-branch", "--branch", spec["branch"], spec["url"], work)
    return _git(spec, work, "rev-parse", "HEAD")


def _git_item_revision(spec, work: str, name: str) -> str | None:
    return _git(spec, work, "log", "-1", "--format=%H", "--", name) or None


def _git_pull(spec, items, check_mode) -> dict[str, Any]:
    result: dict[str, Any] = {"changed": False, "items": {}}
    with tempfile.TemporaryDirectory(prefix="autoport-store-") as temp:
        work = os.path.join(temp, "store")
        head = _git_checkout(spec, work)
        for name, local in items.items():
            source = os.path.join(work, name)
            entry = {"revision": None, "local": local, "location": "%s:%s" % (describe(spec), name), "record": None}
            if head is not None and os.path.isdir(source):
                entry["revision"] = _git_item_revision(spec, work, name)
                entry["record"] = _read_json(os.path.join(work, META_DIR, name + ".json"))
                if tree_digest(local) != tree_digest(source):
                    result["changed"] = True
                    if not check_mode:
                        _replace_local(source, local, keep_git=False)
            result["items"][name] = entry
    return result


def _git_push(spec, items, record, check_mode) -> dict[str, Any]:
    result: dict[str, Any] = {"changed": False, "items": {}, "commit": None}
    with tempfile.TemporaryDirectory(prefix="autoport-store-") as temp:
        work = os.path.join(temp, "store")
        head = _git_checkout(spec, work)
        for name, local in items.items():
            if tree_digest(local) is None:
                raise StoreError("stage output %s (store item %s) does not exist: nothing to push to %s" % (local, name, describe(spec)))
            target = os.path.join(work, name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            _copy(local, target, keep_git=False)
            result["items"][name] = {"local": local, "location": "%s:%s" % (describe(spec), name), "digest": "sha256:" + tree_digest(target)}
        _git(spec, work, "add", "-A", "--", *items)
        changed = _git(spec, work, "status", "--porcelain", "--", *items)
        if not changed:
            for name, entry in result["items"].items():
                entry["revision"] = _git_item_revision(spec, work, name)
            result["commit"] = head
            return result
        result["changed"] = True
        if check_mode:
            return result
        os.makedirs(os.path.join(work, META_DIR), exist_ok=True)
        for name in items:
            _write_json(os.path.join(work, META_DIR, name + ".json"), dict(record, item=name, revision=result["items"][name]["digest"]))
        _git(spec, work, "add", "-A", "--", META_DIR, *items)
        stage = record.get("stage") or "stage"
        message = "autoport %s: %s\n\n%s\n" % (stage, ", ".join(items), json.dumps(record, sort_keys=True, indent=1))
        _git(spec, work, "commit", "-q", "--no-verify", "-m", message)
        try:
            _git(spec, work, "push", "-q", "origin", "HEAD:refs/heads/" + spec["branch"])
        except StoreError as exc:
            raise StoreError("%s (read-only store, or another stage pushed first: run this stage again)" % exc) from exc
        commit = _git(spec, work, "rev-parse", "HEAD")
        result["commit"] = commit
        for entry in result["items"].values():
            entry["revision"] = commit
    return result


# ---------------------------------------------------------------- entry points


def pull(spec: Mapping[str, Any], items: Mapping[str, str], check_mode: bool = False) -> dict[str, Any]:
    """Copy each store item to its local path (replacing it). Items the store lacks get revision None."""
    checked = parse_spec(spec)
    _check_items(items)
    result = (_path_pull if checked["type"] == "path" else _git_pull)(checked, items, check_mode)
    result["store"] = describe(checked)
    return result


def push(
    spec: Mapping[str, Any], items: Mapping[str, str], record: Mapping[str, Any], check_mode: bool = False, optional: Any = (),
) -> dict[str, Any]:
    """Publish each local folder as a store item: all or nothing per item (path), one commit (git).

    An item named in optional whose local folder does not exist is left as the store has it
    and reported with revision None; any other missing output is an error.
    """
    checked = parse_spec(spec)
    _check_items(items)
    present = _present(checked, items, set(optional or ()))
    result: dict[str, Any] = {"changed": False, "items": {}}
    if present:
        result = (_path_push if checked["type"] == "path" else _git_push)(checked, present, dict(record), check_mode)
    for name in items:
        if name not in present:
            result["items"][name] = {"revision": None, "local": items[name], "location": None}
    result["store"] = describe(checked)
    return result
