# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Fix templates mined from curated records, and made on new code.

A template is one edit of a recorded fix with the name the error was about taken
out: "the include of <the missing header> removed", "<the undeclared name> given a
fallback #define", "a feature macro put before the system headers", "-lm added to a
*_LIBS assignment", "the configure check that exits made optional". Templates are
learned from the records (nothing here is written per error): each record's hunk is
read, every edit that fits one of the shapes below becomes a template, and the
templates are ranked by how many ports used them. A template learned from a record
about the same name ("implicit declaration of F": the include that fixed F) ranks first.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$")
_IFNDEF = re.compile(r"^\s*#\s*if(?:ndef\s+(\w+)|\s+!\s*defined\s*\(?\s*(\w+)\s*\)?)\s*$")
_FEATURE = re.compile(r"^\s*#\s*define\s+_\w+_SOURCE\b.*$")
_INCLUDE_NAME = re.compile(r"^\s*#\s*include\s*[<\"]([^>\"]+)[>\"]")
_ASSIGN = re.compile(r"^(\w+)\s*=\s*(.*?)\s*$")
# Categories whose fixes can stand in for each other, and the template kinds that carry over.
FAMILIES = {
    "undeclared-identifier": ("undeclared-identifier", "implicit-function"),
    "implicit-function": ("implicit-function", "undeclared-identifier"),
}
_PORTABLE_KINDS = ("feature_macro", "add_include")


def _include_of(line: str, name: str) -> bool:
    match = _INCLUDE_NAME.match(line)
    return bool(match) and match.group(1) == name


def _declares(line: str, name: str) -> bool:
    return bool(re.match(r"^[A-Za-z_].*\b%s\s*\([^;{]*\)\s*;\s*$" % re.escape(name), line))


def _stem(name: str) -> str:
    base = os.path.basename(name or "")
    base = re.sub(r"\.h$", "", base)
    return re.sub(r"\W", "_", base)


def _guard_ops(added: list, token: str) -> list:
    ops = []
    for index, line in enumerate(added[:-2]):
        guard = _IFNDEF.match(line)
        define = _DEFINE.match(added[index + 1])
        if guard and define and (guard.group(1) or guard.group(2)) == token == define.group(1) and added[index + 2].strip().startswith("#endif"):
            ops.append({"kind": "guard_define", "value": define.group(2)})
    return ops


def _configure_ops(removed: list, added: list, token: str, path: str) -> list:
    if os.path.basename(path) != "configure" or not any(line.strip() == "exit 1" for line in removed):
        return []
    assigns = [_ASSIGN.match(line.strip()) for line in added]
    names = [match.group(1) for match in assigns if match and match.group(2) == "0"]
    if names and names[0] == "have_" + _stem(token):
        return [{"kind": "configure_optional"}]
    return []


def _flag_ops(removed: list, added: list, path: str) -> list:
    ops = []
    for old, new in zip(removed, added[-len(removed):] if removed else []):
        before, after = _ASSIGN.match(old.strip()), _ASSIGN.match(new.strip())
        if before and after and before.group(1) == after.group(1) and after.group(2).startswith(before.group(2)):
            extra = after.group(2)[len(before.group(2)):].split()
            if extra and all(flag.startswith("-l") for flag in extra):
                ops.append({"kind": "append_flag", "suffix": before.group(1).rsplit("_", 1)[-1], "flags": extra, "file": os.path.basename(path)})
    return ops


def ops_of(record: dict) -> list:
    """The template edits a record's hunk holds (see the module doc); [] when none fits."""
    token = fix_transfer.key_token(record.get("error") or "")
    if not token:
        return []
    ops = []
    for _context, removed, added, _following in fix_transfer.hunk_groups(record.get("patch") or ""):
        if any(_include_of(line, token) for line in removed):
            ops.append({"kind": "delete_include"})
        if any(_declares(line, token) for line in removed):
            ops.append({"kind": "delete_declaration"})
        ops.extend(_guard_ops(added, token))
        ops.extend({"kind": "feature_macro", "line": line.strip()} for line in added if _FEATURE.match(line))
        for line in added:
            match = _INCLUDE_NAME.match(line)
            if match and match.group(1) != token and not any(_include_of(old, match.group(1)) for old in removed):
                ops.append({"kind": "add_include", "header": match.group(1)})
        ops.extend(_flag_ops(removed, added, record.get("file") or ""))
        ops.extend(_configure_ops(removed, added, token, record.get("file") or ""))
    return ops


class TemplateSet(object):
    """Templates learned from records: per error category, ranked by the ports that used them."""

    def __init__(self, records: list):
        support = {}
        by_token = {}
        for record in records:
            category = record.get("error_category") or "other"
            token = fix_transfer.key_token(record.get("error") or "")
            for op in ops_of(record):
                key = (category, json.dumps(op, sort_keys=True))
                support.setdefault(key, set()).add(record.get("port") or "")
                by_token.setdefault((category, token), set()).add(key)
        self.support = {key: len(ports) for key, ports in support.items()}
        self._tokens = {}
        for (_category, token), keys in by_token.items():
            for key in keys:
                self._tokens.setdefault(key, set()).add(token)
        self.by_token = {key: sorted(value) for key, value in by_token.items()}

    def tokens_of(self, key: tuple) -> set:
        """The names the records behind a template were about."""
        return self._tokens.get(key, set())

    def __len__(self) -> int:
        return len(self.support)

    def ranked(self, category: str, token: str | None) -> list:
        """Template keys for an error: those learned for the same name first, then those of the
        category by support, then those of its family (a name the headers do not declare shows
        up as an undeclared identifier or an implicit function: what declared one may declare the other)."""
        same = sorted(self.by_token.get((category, token), []), key=lambda key: (-self.support[key], key[1]))
        rest = [key for key in self.support if key[0] == category and key not in same]
        rest.sort(key=lambda key: (-self.support[key], key[1]))
        family = [name for name in FAMILIES.get(category, ()) if name != category]
        kin = [key for key in self.support if key[0] in family and json.loads(key[1])["kind"] in _PORTABLE_KINDS]
        kin.sort(key=lambda key: (-self.support[key], key[1]))
        ordered, seen = [], set()
        for key in same + rest + kin:
            if key[1] not in seen:
                seen.add(key[1])
                ordered.append((key, json.loads(key[1])))
        return ordered


def _lines_edit(text: str, edit) -> str | None:
    lines = text.split("\n")
    result = edit(lines)
    if result is None:
        return None
    new = "\n".join(result)
    return None if new == text else new


def _delete_where(predicate):
    def edit(lines):
        kept = [line for line in lines if not predicate(line)]
        return kept if len(kept) != len(lines) else None
    return edit


def _insert(block: list, where):
    def edit(lines):
        at = where(lines)
        return lines[:at] + block + lines[at:]
    return edit


def _configure_edit(token: str):
    def edit(lines):
        for index, line in enumerate(lines[:-1]):
            if token in line and "echo" in line and ">&2" in line and lines[index + 1].strip() == "exit 1":
                indent = re.match(r"^\s*", line).group(0)
                return lines[:index] + ["%shave_%s=0" % (indent, _stem(token))] + lines[index + 2:]
        return None
    return edit


def _append_flag(op: dict):
    def edit(lines):
        pattern = re.compile(r"^(\w*_)?%s\s*=" % re.escape(op["suffix"]))
        for index, line in enumerate(lines):
            if pattern.match(line) and not all(flag in line.split() for flag in op["flags"]):
                lines = list(lines)
                lines[index] = line.rstrip() + " " + " ".join(flag for flag in op["flags"] if flag not in line.split())
                return lines
        return None
    return edit


def _file_edit(op: dict, token: str):
    """A function text -> new text (or None) for one template edit about ``token``."""
    kind = op["kind"]
    if kind == "delete_include":
        return _delete_where(lambda line: _include_of(line, token))
    if kind == "delete_declaration":
        return _delete_where(lambda line: _declares(line, token))
    if kind == "guard_define" and re.match(r"^\w+$", token):
        return _insert(["#ifndef %s" % token, "#define %s %s" % (token, op["value"]), "#endif"], fix_transfer.after_includes)
    if kind == "feature_macro":
        return _insert([op["line"]], fix_transfer.top_of_file)
    if kind == "add_include":
        line = "#include <%s>" % op["header"]

        def edit(lines):
            if any(_include_of(old, op["header"]) for old in lines):
                return None
            return _insert([line], fix_transfer.after_includes)(lines)
        return edit
    if kind == "append_flag":
        return _append_flag(op)
    if kind == "configure_optional":
        return _configure_edit(token)
    return None


def instantiate(op: dict, token: str | None, files: dict) -> list:
    """[(path, new text)] for one template on the files it may touch ({path: text}, diagnosed file first)."""
    if not token and op["kind"] not in ("feature_macro", "append_flag", "add_include"):
        return []
    edit = _file_edit(op, token or "")
    if edit is None:
        return []
    made = []
    for path, text in files.items():
        if op["kind"] == "append_flag" and os.path.basename(path) != op["file"] and not path.endswith(".mk"):
            continue
        if op["kind"] == "configure_optional" and os.path.basename(path) != "configure":
            continue
        new = _lines_edit(text, edit)
        if new is not None:
            made.append((path, new))
            break
    return made
