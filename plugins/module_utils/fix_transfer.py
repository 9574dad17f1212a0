# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Carrying a recorded edit over to other code: the shared text work of the autoport proposers.

* ``key_token``: the name an error is about (the identifier, header, symbol or function).
* ``hunk_groups``: a record's hunk as change groups (context before, lines removed, lines added).
* ``apply_groups``: those groups made on a file's text where their lines are found.
* ``unified_diff``: a candidate as ``git diff``-style text that ``git apply`` takes.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import difflib
import re

_QUOTED = re.compile(r"[`'\"\u2018\u201c]([^`'\"\u2019\u201d\s]{1,120})[`'\"\u2019\u201d]")
_HEADER = re.compile(r"([\w./+-]+\.h)\b")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\(\)")
_TARGET = re.compile(r"target '([^']+)'")
_INCLUDE = re.compile(r"^\s*#\s*include\b")
_PREPROCESSOR = re.compile(r"^\s*#")


def key_token(message: str) -> str | None:
    """The name the message is about: 'M_PI' in "'M_PI' undeclared", sys/x.h in a missing header..."""
    text = message or ""
    target = _TARGET.search(text)
    if target:
        return target.group(1).rsplit("/", 1)[-1]
    header = _HEADER.search(text) if ("No such file" in text or "not found" in text) else None
    if header:
        return header.group(1)
    quoted = [token for token in _QUOTED.findall(text) if not token.startswith("-")]
    if quoted:
        return quoted[0]
    call = _CALL.search(text)
    if call:
        return call.group(1)
    header = _HEADER.search(text)
    return header.group(1) if header else None


def hunk_groups(patch_text: str) -> list:
    """Change groups of the first hunk of a diff text: [(context_before, removed, added, context_after)]."""
    lines = []
    started = False
    for line in (patch_text or "").splitlines():
        if line.startswith("@@"):
            if started:
                break
            started = True
            continue
        if started and line[:1] in (" ", "+", "-", ""):
            lines.append(line)
    groups = []
    context, removed, added = [], [], []
    for line in lines:
        kind, body = (line[:1] or " "), line[1:]
        if kind == " ":
            if removed or added:
                groups.append([context, removed, added, []])
                context, removed, added = [], [], []
            context.append(body)
        elif kind == "-":
            removed.append(body)
        else:
            added.append(body)
    if removed or added:
        groups.append([context, removed, added, []])
    # The context after a group is the context before the next one (or the hunk's tail).
    for index, group in enumerate(groups):
        group[3] = groups[index + 1][0] if index + 1 < len(groups) else _trailing_context(lines)
    return [tuple(group) for group in groups]


def _trailing_context(lines: list) -> list:
    trailing = []
    for line in reversed(lines):
        if line[:1] in ("+", "-"):
            break
        trailing.insert(0, line[1:])
    return trailing


def rename(lines: list, old: str | None, new: str | None) -> list:
    """Lines with one name replaced by another (whole words for identifiers)."""
    if not old or not new or old == new:
        return list(lines)
    if re.match(r"^\w+$", old):
        pattern = re.compile(r"(?<![\w])%s(?![\w])" % re.escape(old))
        return [pattern.sub(lambda match: new, line) for line in lines]
    return [line.replace(old, new) for line in lines]


def find_block(block: list, lines: list, start: int = 0) -> int | None:
    """Where block's lines (indentation ignored) are in lines, or None."""
    wanted = [line.strip() for line in block]
    if not wanted:
        return None
    stripped = [line.strip() for line in lines]
    for at in range(start, len(lines) - len(wanted) + 1):
        if stripped[at:at + len(wanted)] == wanted:
            return at
    return None


def after_includes(lines: list) -> int:
    """The line index just after the last top-of-file #include (0 when there is none)."""
    last = None
    for index, line in enumerate(lines[:400]):
        if _INCLUDE.match(line):
            last = index
    return 0 if last is None else last + 1


def top_of_file(lines: list) -> int:
    """Before the first preprocessor line (after a leading comment): where feature macros go."""
    for index, line in enumerate(lines[:400]):
        if _PREPROCESSOR.match(line):
            return index
    return 0


def _balanced(lines: list) -> bool:
    depth = 0
    for line in lines:
        if re.match(r"^\s*#\s*if", line):
            depth += 1
        elif re.match(r"^\s*#\s*endif", line):
            depth -= 1
            if depth < 0:
                return False
        elif re.match(r"^\s*#\s*(else|elif)", line) and depth == 0:
            return False
    return depth == 0


def _insertion_point(context: list, following: list, added: list, lines: list) -> int | None:
    anchors = [line for line in context if line.strip()]
    if anchors:
        at = find_block(anchors[-1:], lines)
        if at is not None:
            return at + 1
    anchors = [line for line in following if line.strip()]
    if anchors:
        at = find_block(anchors[:1], lines)
        if at is not None:
            return at
    # Top-level additions (macros, includes) go after the includes; never half of an #if block.
    if added and _balanced(added) and all(not line.strip() or _PREPROCESSOR.match(line) or line.lstrip().startswith(("/*", "*")) for line in added):
        if any(re.match(r"^\s*#\s*define\s+_\w+_SOURCE\b", line) for line in added):
            return top_of_file(lines)
        return after_includes(lines)
    return None


def apply_groups(text: str, groups: list) -> str | None:
    """Text with every change group made where its lines are found; None when one group cannot be placed."""
    lines = text.split("\n")
    for context, removed, added, following in groups:
        if removed:
            at = find_block(removed, lines)
            if at is None:
                return None
            indent = re.match(r"^\s*", lines[at]).group(0)
            shift = indent if not re.match(r"^\s*", removed[0]).group(0) and indent else ""
            lines[at:at + len(removed)] = [shift + line if line.strip() else line for line in added]
        else:
            at = _insertion_point(context, following, added, lines)
            if at is None:
                return None
            lines[at:at] = list(added)
    result = "\n".join(lines)
    return None if result == text else result


def unified_diff(path: str, old: str, new: str) -> str:
    """A one-file diff in ``git diff`` form (a/ b/ names) that ``git apply`` accepts."""
    old_lines = old.splitlines(True)
    new_lines = new.splitlines(True)
    body = []
    for line in difflib.unified_diff(old_lines, new_lines, "a/" + path, "b/" + path, n=3):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        body.append(line)
    if not body:
        return ""
    return "diff --git a/%s b/%s\n" % (path, path) + "".join(body)
