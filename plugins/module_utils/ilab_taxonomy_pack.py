# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Pack a taxonomy working tree into a byte-for-byte reproducible tar.

The taxonomy stage leaves a git repository on the controller; the AI host needs the same
files as a git repository of its own (`ilab taxonomy diff` and `ilab data generate`
need git). A tar with sorted members, fixed mtimes, owners and modes is identical for
identical content, so copying it is idempotent and its sha256 keys the host's stamp.

Which files: in a git repository, what `git ls-files --cached --others --exclude-standard`
lists (tracked and untracked, not ignored: ilab counts untracked files too); otherwise
every regular file. Never .git itself, never symlinks leaving the tree, never special files.

Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from typing import Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import file_tree
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed as _write_bytes_if_changed

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FILES = 200000


class PackError(Exception):
    """The tree cannot be packed; the message names the file or folder."""


def walk_files(root: str) -> list[str]:
    """Relative paths of the files (and links) under root (no .git), sorted; links to
    folders are listed as entries, never walked into."""
    return [entry.name for entry in file_tree.walk(root) if entry.kind != file_tree.DIR]


def safe_members(root: str, names: Iterable[str]) -> list[str]:
    """Validate relative names: inside root, regular files (or symlinks to files inside root)."""
    members = []
    for name in sorted(set(names)):
        if not name or name.startswith("/") or name.split("/")[0] == ".git" or ".." in name.split("/"):
            raise PackError("%s: refusing path %r (absolute, .git or outside the tree)" % (root, name))
        full = os.path.join(root, name)
        if not file_tree.inside(full, root):
            raise PackError("%s: %s points outside the taxonomy (%s)" % (root, name, os.path.realpath(full)))
        try:
            info = os.stat(full)
        except FileNotFoundError:
            # Listed by git but deleted in the working tree: not part of the taxonomy now.
            continue
        if not stat.S_ISREG(info.st_mode):
            raise PackError("%s: %s is not a regular file" % (root, name))
        if info.st_size > MAX_FILE_BYTES:
            raise PackError("%s: %s is %d bytes, larger than the %d a taxonomy file may have" % (root, name, info.st_size, MAX_FILE_BYTES))
        members.append(name)
    if len(members) > MAX_FILES:
        raise PackError("%s: %d files is more than a taxonomy may hold (%d)" % (root, len(members), MAX_FILES))
    return members


def build_tar(root: str, members: Iterable[str], overrides: Mapping[str, str] | None = None) -> bytes:
    """The reproducible tar (uncompressed) of the given members: files only, mode 0644; a
    member that is a link inside the tree (checked by safe_members) gives its target's content.
    overrides: member name -> another file whose content the member gets."""
    overrides = overrides or {}
    return file_tree.tar_bytes(
        (name, file_tree.FILE, overrides.get(name) or os.path.realpath(os.path.join(root, name)), 0o644) for name in members)


def is_knowledge_qna(name: str) -> bool:
    return name.startswith("knowledge/") and name.endswith("/qna.yaml")


def rewrite_document(text: str, repo: str, commit: str) -> tuple[str, bool]:
    """A knowledge qna.yaml whose top-level ``document`` block names another repo and commit.

    The block is the one taxonomy_yaml writes (``document:`` then two-space ``repo:`` and
    ``commit:`` lines); values are written as JSON strings (valid YAML). Returns the text
    and whether it had a document block.
    """
    lines = text.split("\n")
    inside = found = False
    for index, line in enumerate(lines):
        if line.rstrip() == "document:":
            inside = found = True
        elif inside and line.startswith("  repo:"):
            lines[index] = "  repo: " + json.dumps(repo)
        elif inside and line.startswith("  commit:"):
            lines[index] = "  commit: " + json.dumps(commit)
        elif line and not line.startswith(" "):
            inside = False
    return "\n".join(lines), found


def write_if_changed(dest: str, data: bytes, check_mode: bool = False) -> bool:
    """The shared atomic write (atomic_file), with its error as a PackError naming dest."""
    try:
        return _write_bytes_if_changed(dest, data, check_mode)
    except OutputError as exc:
        raise PackError(str(exc))


def select_trees(names: Iterable[str], include: Iterable[str]) -> list:
    """Keep files under the included top-level folders, and every file at the top."""
    wanted = set(include)
    return [name for name in names if "/" not in name.strip("/") or name.split("/", 1)[0] in wanted]


def pack(root: str, names: Iterable[str], dest: str, check_mode: bool = False, document: Mapping[str, str] | None = None) -> dict:
    """Pack names (relative to root) into dest; returns {"changed", "sha256", "files", "members", "documents"}.

    document ({"repo", "commit"}): every knowledge qna.yaml in the tar names that repository
    and commit for its documents (where the AI host can clone them); the tree is not changed.
    """
    if not os.path.isdir(root):
        raise PackError("%s: taxonomy folder does not exist" % root)
    members = safe_members(root, names)
    scratch = tempfile.mkdtemp(prefix="taxonomy-pack-")
    try:
        overrides = {}
        for number, name in enumerate(member for member in members if document and is_knowledge_qna(member)):
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                text, found = rewrite_document(handle.read(), document["repo"], document["commit"])
            if found:
                overrides[name] = os.path.join(scratch, "%d.yaml" % number)
                with open(overrides[name], "w", encoding="utf-8") as handle:
                    handle.write(text)
        data = build_tar(root, members, overrides)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    changed = write_if_changed(dest, data, check_mode)
    return {"changed": changed, "sha256": hashlib.sha256(data).hexdigest(), "files": len(members), "members": members, "documents": len(overrides)}
