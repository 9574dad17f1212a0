# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Read the patch files of a zopen port: git diffs, mailed patches and plain unified diffs.

A patch is split into file sections and hunks. Hunk bodies are read by their line
counts (like ``git apply``), so a mail signature (``-- ``) or trailing text never
leaks into a hunk and a cut-off hunk is reported, not guessed at.

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ansible_collections.autoport.zos.plugins.module_utils.record import MAX_CODE_CHARS, clip
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_text

# Real port patches are at most a few hundred KiB; refuse anything far bigger.
MAX_PATCH_BYTES = 32 * 1024 * 1024

FORMATS = ("git-diff", "mail", "unified")

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_MAIL_FROM = re.compile(r"^From [0-9a-f]{7,40} ")
_GIT_HEADER_KEYS = (
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "rename old ",
    "rename new ",
    "copy from ",
    "copy to ",
    "index ",
)
_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}


def _shown(path: str | None) -> str:
    """A path from a patch as messages show it: scrubbed and bounded. Messages name the
    patch file and line number of a problem and never quote the text of a patch line."""
    return scrub_text(path or "")[0][:200]


class PatchReadError(Exception):
    """A patch that cannot be read. ``str(e)`` names the input and the reason."""

    def __init__(self, name: str, reason: str):
        super(PatchReadError, self).__init__("%s: %s" % (name, reason))
        self.name = name
        self.reason = reason


@dataclass
class Hunk:
    index: int
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    header: str
    lines: list = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-"))


@dataclass
class FilePatch:
    old_path: str | None
    new_path: str | None
    path: str
    is_new: bool = False
    is_deleted: bool = False
    is_rename: bool = False
    is_binary: bool = False
    hunks: list = field(default_factory=list)
    header_lines: list = field(default_factory=list)
    # The names exactly as the patch wrote them (before stripping a/ b/ or the
    # first directory level, as `git apply -p1` does).
    raw_old_path: str | None = None
    raw_new_path: str | None = None


@dataclass
class PatchFile:
    path: str
    format: str
    files: list = field(default_factory=list)
    subject: str | None = None
    warnings: list = field(default_factory=list)

    @property
    def hunks(self) -> list:
        return [(fp, hunk) for fp in self.files for hunk in fp.hunks]


def _decode(data: bytes, name: str, warnings: list) -> str:
    if not data.strip():
        raise PatchReadError(name, "empty file, no patch in it")
    if b"\x00" in data:
        raise PatchReadError(name, "binary data (NUL bytes), not a text patch")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("iso8859-1")
        # Python has no IBM-1047 codec; cp037 agrees with it on every character a diff header uses.
        if not _looks_like_diff(text) and _looks_like_diff(data.decode("cp037", "replace").replace("\x85", "\n")):
            raise PatchReadError(name, "text is EBCDIC (IBM-1047); convert it to ASCII/UTF-8 before reading")
        warnings.append("not valid UTF-8 (first bad byte at offset %d); read as ISO8859-1" % exc.start)
    if "\r\n" in text:
        warnings.append("CRLF line endings; read as LF")
        text = text.replace("\r\n", "\n")
    return text


def _looks_like_diff(text: str) -> bool:
    return "\n@@ -" in text or "\n+++ " in text or text.startswith("diff --git ") or "\ndiff --git " in text


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path ("a/sp\\303\\251cial")."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt in "01234567" and index + 3 < len(body) + 1 and re.match(r"[0-7]{3}", body[index + 1:index + 4]):
                out.append(int(body[index + 1:index + 4], 8))
                index += 4
                continue
            out.extend(_C_ESCAPES.get(nxt, nxt).encode("utf-8"))
            index += 2
            continue
        out.extend(char.encode("utf-8", "surrogateescape"))
        index += 1
    return out.decode("utf-8", "replace")


def _header_name(rest: str) -> str:
    """The file name of a ---/+++ line: unquoted, without a trailing timestamp."""
    rest = rest.rstrip("\n")
    if rest.startswith('"'):
        end = rest.find('"', 1)
        while end > 0 and rest[end - 1] == "\\":
            end = rest.find('"', end + 1)
        if end > 0:
            return _unquote(rest[:end + 1])
    if "\t" in rest:
        rest = rest.split("\t", 1)[0]
    else:
        # diff -u writes "name  2024-01-01 10:00:00.000000000 +0000"
        rest = re.sub(r"\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4}$", "", rest)
    return rest.rstrip()


def _strip_level(name: str | None) -> str | None:
    """Path as `git apply -p1` sees it: /dev/null is None, the first directory level goes."""
    if name is None or name == "/dev/null":
        return None
    if "/" in name:
        stripped = name.split("/", 1)[1]
        return stripped or name
    return name


def _git_header_paths(line: str) -> tuple:
    """(old, new) from 'diff --git a/x b/y'; handles quoted names and spaces when both sides match."""
    rest = line[len("diff --git "):]
    if rest.startswith('"'):
        end = rest.find('"', 1)
        while end > 0 and rest[end - 1] == "\\":
            end = rest.find('"', end + 1)
        old = _unquote(rest[:end + 1])
        new = rest[end + 1:].strip()
        return old, _unquote(new)
    if rest.endswith('"'):
        start = rest.rfind(' "')
        return rest[:start], _unquote(rest[start + 1:])
    # Unquoted: the split where both halves name the same path after the prefix.
    for match in re.finditer(" ", rest):
        old, new = rest[:match.start()], rest[match.end():]
        if _strip_level(old) == _strip_level(new):
            return old, new
    parts = rest.split(" ")
    return " ".join(parts[:-1]), parts[-1]


class _Parser(object):
    def __init__(self, text: str, name: str, warnings: list):
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.name = name
        self.warnings = warnings
        self.pos = 0
        self.files = []
        self.hunk_index = 0
        self.subject = None
        self.mail = False
        self.git = False

    def parse(self) -> list:
        lines = self.lines
        self._read_mail_header()
        while self.pos < len(lines):
            line = lines[self.pos]
            if line.startswith("diff --git "):
                self._git_section()
            elif line.startswith("--- ") and self.pos + 1 < len(lines) and lines[self.pos + 1].startswith("+++ "):
                self._plain_section([])
            elif _MAIL_FROM.match(line):
                # The next patch of a mailbox with several.
                self._read_mail_header()
            elif line.startswith("@@ ") and _HUNK_HEADER.match(line):
                raise PatchReadError(self.name, "line %d: hunk header with no ---/+++ file header before it" % (self.pos + 1))
            else:
                self.pos += 1
        return self.files

    def _read_mail_header(self) -> None:
        lines = self.lines
        if self.pos >= len(lines) or not (_MAIL_FROM.match(lines[self.pos]) or (self.pos == 0 and lines[0].startswith("From: "))):
            return
        self.mail = True
        self.pos += 1
        while self.pos < len(lines) and lines[self.pos] != "":
            line = lines[self.pos]
            if line.lower().startswith("subject:") and self.subject is None:
                subject = line[len("subject:"):].strip()
                while self.pos + 1 < len(lines) and lines[self.pos + 1][:1] in (" ", "\t") and lines[self.pos + 1].strip():
                    self.pos += 1
                    subject += " " + lines[self.pos].strip()
                self.subject = re.sub(r"^(\[[^\]]*\]\s*)+", "", subject).strip() or None
            self.pos += 1

    def _git_section(self) -> None:
        lines = self.lines
        self.git = True
        header = [lines[self.pos]]
        old_raw, new_raw = _git_header_paths(lines[self.pos])
        self.pos += 1
        fp = FilePatch(old_path=_strip_level(old_raw), new_path=_strip_level(new_raw), path="", header_lines=header, raw_old_path=old_raw, raw_new_path=new_raw)
        while self.pos < len(lines):
            line = lines[self.pos]
            key = next((k for k in _GIT_HEADER_KEYS if line.startswith(k)), None)
            if key is None:
                break
            header.append(line)
            value = line[len(key):]
            if key == "new file mode ":
                fp.is_new = True
            elif key == "deleted file mode ":
                fp.is_deleted = True
            elif key in ("rename from ", "rename old ", "copy from "):
                fp.raw_old_path = _unquote(value)
                fp.old_path = fp.raw_old_path
                fp.is_rename = fp.is_rename or key != "copy from "
            elif key in ("rename to ", "rename new ", "copy to "):
                fp.raw_new_path = _unquote(value)
                fp.new_path = fp.raw_new_path
            self.pos += 1
        if self.pos < len(lines):
            line = lines[self.pos]
            if line.startswith("Binary files ") or line == "GIT binary patch":
                fp.is_binary = True
                header.append(line)
                self.pos += 1
                if line == "GIT binary patch":
                    self._skip_binary_data(header)
            elif line.startswith("--- ") and self.pos + 1 < len(lines) and lines[self.pos + 1].startswith("+++ "):
                self._plain_section(header, fp)
                return
        if fp.is_new:
            fp.old_path = None
        if fp.is_deleted:
            fp.new_path = None
        self._finish(fp)

    def _skip_binary_data(self, header: list) -> None:
        lines = self.lines
        while self.pos < len(lines):
            line = lines[self.pos]
            if line.startswith("diff --git ") or _MAIL_FROM.match(line):
                return
            if line.startswith(("literal ", "delta ")) or not line or re.match(r"^[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*$", line):
                self.pos += 1
                continue
            return

    def _plain_section(self, header: list, fp: FilePatch | None = None) -> None:
        lines = self.lines
        old_raw = _header_name(lines[self.pos][4:])
        new_raw = _header_name(lines[self.pos + 1][4:])
        header = header + [lines[self.pos], lines[self.pos + 1]]
        self.pos += 2
        if fp is None:
            fp = FilePatch(old_path=None, new_path=None, path="", header_lines=header)
        fp.header_lines = header
        if not fp.is_rename:
            fp.raw_old_path, fp.raw_new_path = old_raw, new_raw
            fp.old_path, fp.new_path = _strip_level(old_raw), _strip_level(new_raw)
        if old_raw == "/dev/null":
            fp.is_new, fp.old_path = True, None
        if new_raw == "/dev/null":
            fp.is_deleted, fp.new_path = True, None
        while self.pos < len(lines):
            line = lines[self.pos]
            match = _HUNK_HEADER.match(line)
            if not match:
                break
            self._hunk(fp, match, line)
        if not fp.hunks:
            raise PatchReadError(self.name, "line %d: file section for %s has no hunks (truncated?)" % (self.pos, _shown(fp.new_path or fp.old_path)))
        self._finish(fp)

    def _hunk(self, fp: FilePatch, match, header: str) -> None:
        lines = self.lines
        old_start, old_len, new_start, new_len = (
            int(match.group(1)),
            int(match.group(2)) if match.group(2) is not None else 1,
            int(match.group(3)),
            int(match.group(4)) if match.group(4) is not None else 1,
        )
        header_line = self.pos + 1
        self.pos += 1
        self.hunk_index += 1
        hunk = Hunk(self.hunk_index, old_start, old_len, new_start, new_len, header, [])
        old_left, new_left = old_len, new_len
        while old_left > 0 or new_left > 0:
            if self.pos >= len(lines):
                raise PatchReadError(
                    self.name,
                    "hunk %d of %s (line %d) is truncated: %d old and %d new lines missing at end of file"
                    % (hunk.index, _shown(fp.new_path or fp.old_path), header_line, old_left, new_left),
                )
            line = lines[self.pos]
            kind = line[:1]
            if line == "":
                # An empty context line whose single space was stripped; git apply accepts it.
                line, kind = " ", " "
            if kind == " ":
                old_left -= 1
                new_left -= 1
            elif kind == "-":
                old_left -= 1
            elif kind == "+":
                new_left -= 1
            elif kind == "\\":
                pass
            else:
                raise PatchReadError(
                    self.name,
                    "hunk %d of %s (line %d) is truncated or malformed: line %d is not part of a hunk body, %d old and %d new lines still expected"
                    % (hunk.index, _shown(fp.new_path or fp.old_path), header_line, self.pos + 1, max(old_left, 0), max(new_left, 0)),
                )
            if old_left < 0 or new_left < 0:
                raise PatchReadError(
                    self.name,
                    "hunk %d of %s (line %d): body does not match its header %s"
                    % (hunk.index, _shown(fp.new_path or fp.old_path), header_line, header.split(" @@")[0] + " @@"),
                )
            hunk.lines.append(line)
            self.pos += 1
        # A "\ No newline at end of file" marker belongs to the last line read.
        while self.pos < len(lines) and lines[self.pos].startswith("\\"):
            hunk.lines.append(lines[self.pos])
            self.pos += 1
        fp.hunks.append(hunk)

    def _finish(self, fp: FilePatch) -> None:
        fp.path = fp.new_path or fp.old_path or ""
        if not fp.path:
            raise PatchReadError(self.name, "file section before line %d has no usable file name" % (self.pos + 1))
        self.files.append(fp)


def parse_patch(data: bytes, name: str) -> PatchFile:
    """Parse the bytes of a patch file; ``name`` is only used in messages and PatchFile.path.

    Raises PatchReadError for empty, binary, EBCDIC, truncated or unparseable input.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_PATCH_BYTES:
        raise PatchReadError(name, "%d bytes is too big for a patch (limit %d)" % (len(data), MAX_PATCH_BYTES))
    warnings = []
    text = _decode(data, name, warnings)
    parser = _Parser(text, name, warnings)
    files = parser.parse()
    if not files:
        raise PatchReadError(name, "no diff found (no 'diff --git' or ---/+++ file header)")
    if parser.mail:
        form = "mail"
    elif parser.git:
        form = "git-diff"
    else:
        form = "unified"
    return PatchFile(path=name, format=form, files=files, subject=parser.subject, warnings=warnings)


def read_patch_file(path: str) -> PatchFile:
    """Read and parse one patch file; PatchReadError names the file and why it cannot be used."""
    try:
        if not os.path.isfile(path):
            raise PatchReadError(path, "no such file" if not os.path.exists(path) else "not a regular file")
        size = os.path.getsize(path)
        if size > MAX_PATCH_BYTES:
            raise PatchReadError(path, "%d bytes is too big for a patch (limit %d)" % (size, MAX_PATCH_BYTES))
        with open(path, "rb") as handle:
            data = handle.read(MAX_PATCH_BYTES + 1)
    except OSError as exc:
        raise PatchReadError(path, "cannot read: %s" % (exc.strerror or exc))
    return parse_patch(data, path)


def _path_problem(name: str | None) -> str | None:
    if name is None:
        return None
    if name.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", name) or name.startswith("\\"):
        return "absolute path %r" % _shown(name)
    parts = re.split(r"[\\/]+", name)
    if ".." in parts:
        return "path %r escapes the source tree (..)" % _shown(name)
    if any(ord(char) < 32 for char in name):
        return "path %r contains control characters" % _shown(name)
    if name.strip() in ("", "."):
        return "empty path %r" % _shown(name)
    return None


def check_paths(patch: PatchFile) -> None:
    """Raise PatchReadError when a file of the patch is absolute, escapes the tree or has control characters."""
    for fp in patch.files:
        raw_names = [name for name in (fp.raw_old_path, fp.raw_new_path) if name != "/dev/null"]
        for name in [fp.old_path, fp.new_path] + raw_names:
            problem = _path_problem(name)
            if problem:
                raise PatchReadError(patch.path, problem)


def hunk_code(hunk: Hunk) -> tuple:
    """(wrong_code, correct_code): the hunk's code before and after the fix, context included.

    Before = context and '-' lines, after = context and '+' lines, in order, without
    their prefixes, newline-joined and clipped to record.MAX_CODE_CHARS.
    """
    before = []
    after = []
    for line in hunk.lines:
        kind, body = line[:1], line[1:]
        if kind == " ":
            before.append(body)
            after.append(body)
        elif kind == "-":
            before.append(body)
        elif kind == "+":
            after.append(body)
    return clip("\n".join(before), MAX_CODE_CHARS), clip("\n".join(after), MAX_CODE_CHARS)


def _diff_name(prefix: str, name: str) -> str:
    full = prefix + name
    if any(char in full for char in '"\\\t\n') or any(ord(char) < 32 for char in full):
        escaped = "".join("\\" + {"\n": "n", "\t": "t", '"': '"', "\\": "\\"}.get(char, char) if char in '"\\\t\n' else char for char in full)
        return '"%s"' % escaped
    return full


def hunk_patch_text(fp: FilePatch, hunk: Hunk) -> str:
    """A standalone unified diff of one hunk (``--- a/..``, ``+++ b/..``, the hunk) for ``git apply``.

    The hunk keeps its own header; ``git apply`` places it by its old range and
    context, so a later hunk of a file also applies to the unpatched file.
    """
    old_name = "/dev/null" if fp.is_new or fp.old_path is None else _diff_name("a/", fp.old_path)
    new_name = "/dev/null" if fp.is_deleted or fp.new_path is None else _diff_name("b/", fp.new_path)
    out = []
    if fp.is_rename and fp.old_path and fp.new_path:
        out.append("diff --git %s %s" % (_diff_name("a/", fp.old_path), _diff_name("b/", fp.new_path)))
        out.append("rename from %s" % fp.old_path)
        out.append("rename to %s" % fp.new_path)
    out.append("--- " + old_name)
    out.append("+++ " + new_name)
    out.append(hunk.header)
    out.extend(hunk.lines)
    return "\n".join(out) + "\n"


def _suffix_match(candidate: str | None, wanted: str) -> bool:
    if not candidate:
        return False
    candidate = candidate.replace("\\", "/").lstrip("./")
    wanted = wanted.replace("\\", "/")
    while wanted.startswith("./"):
        wanted = wanted[2:]
    if candidate == wanted:
        return True
    return wanted.endswith("/" + candidate) or candidate.endswith("/" + wanted)


def _distance(start: int, length: int, line: int) -> int:
    end = start + max(length, 1) - 1
    if start <= line <= end:
        return 0
    return start - line if line < start else line - end


def nearest_hunk(patch: PatchFile, file: str, line: int | None):
    """The (FilePatch, Hunk) of ``patch`` touching ``file`` (path-suffix match) nearest to ``line``.

    Distance is to the closer of the hunk's old and new ranges; ties go to the
    earlier hunk. With ``line`` None the first hunk of that file. None when the
    patch does not touch the file.
    """
    if not file:
        return None
    best = None
    best_distance = None
    for fp in patch.files:
        if not (_suffix_match(fp.path, file) or _suffix_match(fp.old_path, file)):
            continue
        for hunk in fp.hunks:
            if line is None:
                return fp, hunk
            distance = min(_distance(hunk.old_start, hunk.old_len, line), _distance(hunk.new_start, hunk.new_len, line))
            if best_distance is None or distance < best_distance:
                best, best_distance = (fp, hunk), distance
    return best
