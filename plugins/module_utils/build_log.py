# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Find the diagnostics in a build, configure or check log, streaming.

Recognised: clang / IBM Open XL and gcc (``file:line:col: error: ...`` with notes),
xlc / xlclang (``ERROR CCN3045 file:line ...``, ``"file", line 51.32: CCN6118 (S) ...``),
the z/OS binder (``IEW2456E ...``, lines wrapped by the log joined with one space), z/OS
shell and driver messages (``FSUMnnnn``), Language Environment (``CEEnnnnS``) and C
runtime (``EDCnnnnI``) messages, GNU ld, make, libtool, configure and config.log, cmake,
the shells, and test harnesses (automake, TAP, CTest, Python, Go, assertions).

The log may be UTF-8, ISO8859-1 or EBCDIC (IBM-1047) bytes. It is read in fixed-size
blocks; one compiled regular expression per block finds the few lines worth a closer
look, so memory stays flat and time is spent on the diagnostics, not on the noise.

Each diagnostic is a plain dict with the keys ``file, line, column, severity, code,
message, category, follow_up, phase, tool``. Standard library only (runs on build hosts).

In three files: log_encoding (bytes, encodings), log_lines (the shapes of the lines) and
this one (the streaming reader, iter_diagnostics and parse_log); every name imports from here.
"""

from __future__ import annotations

import codecs
import io
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils.message_classify import MESSAGE_ID, is_check_target, make_target, parse_message_id, tool_for_program
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES, PHASES
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_text
from ansible_collections.autoport.zos.plugins.module_utils.log_encoding import _NOT_CONTROL, BuildLogError, normalize_encoding, _open_log, _show
from ansible_collections.autoport.zos.plugins.module_utils.log_lines import (
    _AFTER_COLON, _ASSERT_COLON, _ASSERT_LE, _BARE, _classify, _clean, _CMAKE, _COMPILERS, _CONFIGURE, _CONFIGURE_DIR_HEADER, _CONFTEST, _GCC_SHAPE,
    _int, _LD_BARE, _LD_LOCATED, _LD_OBJECT, _LD_PREFIX, _letter_severity, _LINE_START, _LOCATED, _LOG_PHASE_WINS, _MAKE_OTHER, _MAKE_STARS,
    _MAKEFILE_STARS, _NINJA_FAILED, _OTHER_TEST_FAILURE, _PATCH_TEXT, phase_from_log_name, _PROGRAM, _PROGRAM_MESSAGE, _SHELL_FRAME, _SHELL_LINE,
    _SHELL_TROUBLE, _SHELLS, _SIGNAL, _TAP_EXCUSED, _TAP_NOT_OK, _TEST_COUNT, _TEST_RESULT, _TEST_SUMMARY, _TOOL_PHASE, _word_severity, _XLC_QUOTED,
    _XLC_WORD,
)
# Re-exported: callers and tests name these as build_log's.
# pylint: disable=unused-import
from ansible_collections.autoport.zos.plugins.module_utils.log_encoding import CP1047_TO_LATIN1, ENCODINGS, LATIN1_TO_CP1047  # noqa: F401
from ansible_collections.autoport.zos.plugins.module_utils.log_encoding import decode_cp1047, detect_encoding, encode_cp1047  # noqa: F401
from ansible_collections.autoport.zos.plugins.module_utils.log_lines import message_key  # noqa: F401
# pylint: enable=unused-import

SEVERITIES = ("fatal", "error", "warning", "note", "info")
DIAGNOSTIC_KEYS = ("file", "line", "column", "severity", "code", "message", "category", "follow_up", "phase", "tool")

BLOCK_SIZE = 2 * 1024 * 1024
SAMPLE_SIZE = 64 * 1024
# Lines kept back at the end of a block so a diagnostic can read the lines after it
# (a wrapped binder message, a cmake message body).
LOOKAHEAD_LINES = 8
MAX_CARRY = 256 * 1024
# A run this long without a newline (binary data) is cut into lines of this size.
MAX_RUN_WITHOUT_NEWLINE = 1024 * 1024
# Only this much of one line is parsed; messages are clipped for the records anyway.
MAX_LINE_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 4000
MAX_CONTINUATION_LINES = 3


class BuildLogReader(object):
    """Streams one log: ``diagnostics(handle)`` yields diagnostics; afterwards the
    attributes ``encoding``, ``lines``, ``bytes_read``, ``binary`` and ``warnings``
    describe what was read.
    """

    def __init__(self, name: str = "<content>", encoding: str = "auto", phase: str | None = None):
        self.name = name
        self.requested_encoding = normalize_encoding(encoding)
        if phase is not None and phase not in PHASES:
            raise BuildLogError("phase %r for %s is not one of %s" % (phase, name, ", ".join(PHASES)))
        self.phase = phase
        self.log_phase = phase_from_log_name(name)
        self.encoding = None
        self.lines = 0
        self.bytes_read = 0
        self.binary = False
        self.replaced_bytes = False
        self.warnings = []
        self._table = None
        self._decode_as = "utf-8"
        self._complete_end = 0
        self._consumed = 0
        self._compiler = "clang"
        self._last_error_category = None
        self._last_category = None

    # -- reading -------------------------------------------------------------------

    def _start(self, data: bytes) -> bytes:
        sample = data[:SAMPLE_SIZE]
        if self.requested_encoding == "auto":
            self.encoding = detect_encoding(sample)
        else:
            self.encoding = self.requested_encoding
        if self.encoding == "cp1047":
            self._table = CP1047_TO_LATIN1
            self._decode_as = "latin-1"
            sample = sample.translate(CP1047_TO_LATIN1)
        elif self.encoding == "iso8859-1":
            self._decode_as = "latin-1"
        elif data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        control = len(sample.translate(None, _NOT_CONTROL))
        if sample and (b"\x00" in sample or control * 20 > len(sample)):
            self.binary = True
            self.warnings.append(
                "%s looks like binary data (%d control bytes in the first %d); only its text lines were parsed"
                % (self.name, control, len(sample))
            )
        return data

    def diagnostics(self, handle) -> object:
        """Yield the diagnostics of a binary file object, in log order."""
        carry = b"\n"  # the newline before the first line, so _LINE_START sees it
        first = True
        while True:
            data = handle.read(BLOCK_SIZE)
            if isinstance(data, str):
                data = data.encode("utf-8")
            data = data or b""
            self.bytes_read += len(data)
            if first:
                data = self._start(data)
                first = False
            eof = not data
            if data and self._table is not None:
                data = data.translate(self._table)
            buf = carry + data
            if eof:
                if not buf.endswith(b"\n"):
                    buf += b"\n"
                limit = self._complete_end = len(buf) - 1
            else:
                last = buf.rfind(b"\n")
                if len(buf) - 1 - last >= MAX_RUN_WITHOUT_NEWLINE:
                    buf += b"\n"  # a newline-free run (binary data): cut it here
                    last = len(buf) - 1
                elif last <= 0:
                    carry = buf
                    continue
                self._complete_end = last
                limit = last
                for _step in range(LOOKAHEAD_LINES):
                    previous = buf.rfind(b"\n", 0, limit)
                    if previous <= 0:
                        limit = 0  # too few lines yet to look ahead of any: wait for more
                        break
                    limit = previous
                if last - limit > MAX_CARRY:
                    limit = last
            yield from self._scan(buf, limit)
            self.lines += buf.count(b"\n", 1, limit + 1)
            carry = buf[limit:]
            self._consumed = max(0, self._consumed - limit)
            if eof:
                break

    def _scan(self, buf: bytes, limit: int):
        starts = set()
        for match in _LINE_START.finditer(buf, 0, limit + 1):
            starts.add(match.start() + 1)
        rfind = buf.rfind
        for match in _AFTER_COLON.finditer(buf, 0, limit):
            starts.add(rfind(b"\n", 0, match.start()) + 1)
        for start in sorted(starts):
            if start < self._consumed or start > limit:
                continue
            end = buf.find(b"\n", start)
            yield from self._parse_line(self._decode(buf[start:end]), buf, end)

    def _decode(self, raw: bytes) -> str:
        if len(raw) > MAX_LINE_BYTES:
            raw = raw[:MAX_LINE_BYTES]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        text = raw.decode(self._decode_as, "replace")
        if "\ufffd" in text and self._decode_as == "utf-8" and not self.replaced_bytes:
            self.replaced_bytes = True
            self.warnings.append("%s has bytes that are not %s; they were replaced" % (self.name, self.encoding))
        return _clean(text)

    def _following_lines(self, buf: bytes, end: int, count: int):
        """Up to count (text, end offset) pairs of the lines after the line ending at end."""
        position = end
        for _step in range(count):
            start = position + 1
            if start > self._complete_end:
                return
            position = buf.find(b"\n", start)
            if position < 0 or position > self._complete_end:
                return
            yield self._decode(buf[start:position]), position

    # -- recognising one line --------------------------------------------------------

    def _parse_line(self, text: str, buf: bytes, end: int):
        line = text.lstrip()
        if not line:
            return []
        found = self._recognise(line, buf, end)
        if found is None:
            return []
        return [self._finish(found)]

    def _recognise(self, line: str, buf: bytes, end: int) -> dict | None:
        first = line[0]
        if first == "C" and line.startswith("CMake "):
            match = _CMAKE.match(line)
            if match:
                return self._cmake(match, line, buf, end)
        if first in "EWISU":
            match = _XLC_WORD.match(line)
            if match:
                self._compiler = "xlc"
                ident = parse_message_id(match.group("code"))
                return dict(
                    file=match.group("file"), line=_int(match.group("line")), column=_int(match.group("col")),
                    severity=_word_severity(match.group("sev")), code=ident["code"], message=line, tool="xlc",
                )
        if first == '"':
            match = _XLC_QUOTED.match(line)
            if match:
                self._compiler = "xlc"
                code = match.group("code")
                return dict(
                    file=match.group("file"), line=_int(match.group("line")), column=_int(match.group("col")),
                    severity=_letter_severity(match.group("letter"), "CCN"), code=code, message=line, tool="xlc",
                )
        head = line[:80]
        if "make" in head:
            match = _MAKE_STARS.match(line) or _MAKE_OTHER.match(line)
            if match:
                return self._make(match, line)
        if "***" in line:
            match = _MAKEFILE_STARS.match(line)
            if match:
                return dict(file=match.group("file"), line=_int(match.group("line")), column=None, severity="error", code=None,
                            message=line, tool="make")
        if "conf" in head:
            match = _CONFIGURE.match(line)
            if match:
                if _CONFIGURE_DIR_HEADER.match(match.group("msg")):
                    return None  # "configure: error: in `/dir':" only says where; the next line is the error
                return dict(file=None, line=None, column=None, severity=_word_severity(match.group("sev")), code=None,
                            message=line, tool="configure")
        match = _LOCATED.match(line)
        if match:
            return self._located(match, line)
        linker_words = "undefined" in line or "multiple definition" in line or "cannot find" in line or "link" in line
        if linker_words or "ld" in head or "collect2" in head:
            match = _LD_PREFIX.match(line)
            if match:
                found = self._linker(line[match.end():], line)
                if found is not None:
                    return found
        match = _PROGRAM.match(line)
        if match:
            return self._program(match, line)
        if first in "eEwWf":
            match = _BARE.match(line)
            if match:
                return self._bare(match, line)
        if linker_words:
            found = self._linker(line, line)
            if found is not None:
                return found
        if "CCN" in line or "IEW" in line or "CEE" in line or "EDC" in line or "FSUM" in line:
            ident = parse_message_id(line)
            if ident is not None:
                return self._zos_message(ident, line, buf, end)
        found = self._test_line(line)
        if found is not None:
            return found
        return self._shell_line(line)

    def _cmake(self, match, line: str, buf: bytes, end: int) -> dict:
        message = line
        body = []
        for text, position in self._following_lines(buf, end, 5):
            if not text.strip():
                if body:
                    break
                continue
            if not text.startswith((" ", "\t")):
                break
            body.append(text.strip())
            self._consumed = position
            if len(body) >= 4:
                break
        if body:
            message = "%s %s" % (line.rstrip(), " ".join(body))
        return dict(file=match.group("file"), line=_int(match.group("line")), column=None,
                    severity=_word_severity(match.group("sev").split()[-1]), code=None, message=message, tool="cmake")

    def _make(self, match, line: str) -> dict:
        found = dict(file=None, line=None, column=None, severity="error", code=None, message=line, tool="make")
        target = make_target(match.group("msg"))
        if target:
            found["target"] = target
        return found

    def _located(self, match, line: str) -> dict:
        path = match.group("file")
        base = path.rsplit("/", 1)[-1]
        message = match.group("msg")
        if base in ("configure", "config.status"):
            tool = "configure"
        elif base.startswith(("Makefile", "makefile", "GNUmakefile")) or base.endswith(".mk"):
            tool = "make"
        elif base in ("configure.ac", "configure.in", "Makefile.am", "aclocal.m4") or base.endswith((".m4", ".am")):
            tool = "autotools"
        elif base == "CMakeLists.txt" or base.endswith(".cmake"):
            tool = "cmake"
        else:
            if _GCC_SHAPE.search(message):
                self._compiler = "gcc"
            tool = self._compiler
        found = dict(file=path, line=_int(match.group("line")), column=_int(match.group("col")),
                     severity=_word_severity(match.group("sev")), code=None, message=line, tool=tool)
        if _CONFTEST.search(path):
            found["probe"] = True
        return found

    def _program(self, match, line: str) -> dict:
        program = match.group("prog")
        tool = tool_for_program(program) or "unknown"
        if tool in _COMPILERS:
            self._compiler = tool
        found = dict(file=None, line=None, column=None, severity=_word_severity(match.group("sev")), code=None,
                     message=line, tool=tool)
        if match.group("mode") == "link" or re.search(r"linker command failed|ld returned", match.group("msg")):
            found["link"] = True
        return found

    def _bare(self, match, line: str) -> dict:
        severity = match.group("sev")
        message = match.group("msg")
        if _PATCH_TEXT.search(message) or severity == "fatal":
            tool = "git"
        else:
            tool = self._compiler
        return dict(file=None, line=None, column=None, severity=_word_severity(severity), code=None, message=line, tool=tool)

    def _linker(self, rest: str, line: str) -> dict | None:
        match = _LD_LOCATED.match(rest) or _LD_OBJECT.match(rest)
        if match:
            return dict(file=match.group("file"), line=_int(match.groupdict().get("line")), column=None, severity="error",
                        code=None, message=line, tool="ld")
        if rest is not line or rest.startswith(("cannot find -", "undefined reference", "multiple definition")):
            match = _LD_BARE.match(rest)
            if match:
                return dict(file=None, line=None, column=None, severity="error", code=None, message=line, tool="ld")
        return None

    def _zos_message(self, ident: dict, line: str, buf: bytes, end: int) -> dict:
        family = ident["family"]
        before = line[: ident["start"]]
        path = number = None
        frames = _SHELL_FRAME.findall(before)
        if frames:
            path, number = frames[-1]
        if family == "CCN":
            tool = "xlc"
            self._compiler = "xlc"
        elif family == "IEW":
            tool = "binder"
        elif family == "CEE":
            tool = "le"
        elif family == "EDC":
            tool = "crtl"
        else:
            group = ident["digits"][:1]
            tool = "xlc" if group == "3" else "make" if group == "9" else "shell"
            if group == "8" and re.search(r"\bmake\b", line):
                tool = "make"
        message = self._join_wrapped(line, family, buf, end) if family in ("IEW", "CEE", "EDC") else line
        return dict(file=path, line=_int(number), column=None, severity=_letter_severity(ident["letter"], family),
                    code=ident["code"], message=message, tool=tool)

    def _join_wrapped(self, line: str, family: str, buf: bytes, end: int) -> str:
        """Join the lines a log wrapped a z/OS message onto (binder listings wrap at 80 columns)."""
        message = line.rstrip()
        for text, position in self._following_lines(buf, end, MAX_CONTINUATION_LINES):
            stripped = text.strip()
            if not stripped or len(stripped) > 200:
                break
            probe = ("\n" + stripped).encode("latin-1", "replace")
            if MESSAGE_ID.match(stripped) or _LINE_START.match(probe) or _AFTER_COLON.search(probe):
                break
            indented = text[:1] in " \t"
            unfinished = not message.endswith((".", ":"))
            letters = [char for char in stripped if char.isalpha()]
            upper = sum(1 for char in letters if char.isupper())
            shouting = bool(letters) and upper * 10 >= len(letters) * 6
            if family == "IEW":
                joins = shouting and (unfinished or indented)
            else:
                joins = unfinished
            if not joins:
                break
            message = "%s %s" % (message, stripped)
            self._consumed = position
        return message

    def _test_line(self, line: str) -> dict | None:
        found = dict(file=None, line=None, column=None, severity="error", code=None, message=line, tool="test")
        match = _NINJA_FAILED.match(line)
        if match and re.search(r"\.(?:o|obj|lo|a|so|dll|x)$|CMakeFiles/", match.group("target")):
            found["tool"] = "make"  # ninja's failed build step, reported before the compiler output
            return found
        match = _TEST_SUMMARY.match(line)
        if match:
            return found if int(match.group("n")) > 0 else None
        match = _TEST_COUNT.match(line)
        if match:
            return found if int(match.group("n")) > 0 else None
        if _TEST_RESULT.match(line) or _OTHER_TEST_FAILURE.match(line):
            return found
        match = _TAP_NOT_OK.match(line)
        if match:
            return None if _TAP_EXCUSED.search(match.group("rest")) else found
        match = _ASSERT_LE.search(line) or _ASSERT_COLON.match(line)
        if match:
            found["file"] = match.group("file").strip()
            found["line"] = _int(match.group("line"))
            found["assertion"] = True
            return found
        return None

    def _shell_line(self, line: str) -> dict | None:
        match = _SIGNAL.match(line)
        if match:
            return dict(file=None, line=None, column=None, severity="error", code=None, message=line, tool="shell")
        match = _SHELL_LINE.match(line)
        if match and _SHELL_TROUBLE.search(match.group("msg")):
            path = match.group("file")
            tool = "shell"
            return dict(file=None if path in _SHELLS else path, line=_int(match.group("line")), column=None, severity="error",
                        code=None, message=line, tool=tool)
        match = _PROGRAM_MESSAGE.match(line)
        if match and _SHELL_TROUBLE.search(match.group("msg")):
            program = match.group("prog")
            tool = tool_for_program(program) or "shell"
            return dict(file=None, line=None, column=None, severity="error", code=None, message=line, tool=tool)
        return None

    # -- category, follow-up, phase --------------------------------------------------

    def _finish(self, found: dict) -> dict:
        tool = found["tool"]
        message = found["message"]
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 3] + "..."
        category, follow_up = _classify(message, found.get("code"), tool)
        severity = found["severity"]
        probe = bool(found.get("probe"))
        if found.get("assertion") and self._resolve_phase(found) not in ("check",):
            category = "runtime"  # an assertion outside the check step is the built code failing
        if severity == "note":
            # A note explains the diagnostic before it.
            follow_up = True
            if self._last_category is not None:
                category = self._last_category
        elif probe:
            # A configure probe failing is how configure learns; the failure that counts
            # is configure's own "error:" line.
            follow_up = True
        elif follow_up:
            if self._last_error_category is not None and category != "test-failure":
                category = self._last_error_category
        else:
            self._last_category = category
            if severity in ("error", "fatal"):
                self._last_error_category = category
        diagnostic = dict(
            file=found["file"],
            line=found["line"],
            column=found["column"],
            severity=severity,
            code=found["code"],
            message=message,
            category=category if category in CATEGORIES else "other",
            follow_up=bool(follow_up),
            phase=self._resolve_phase(found, probe),
            tool=tool,
        )
        return diagnostic

    def _resolve_phase(self, found: dict, probe: bool = False) -> str:
        if self.phase is not None:
            return self.phase
        if self.log_phase in _LOG_PHASE_WINS:
            return self.log_phase
        tool = found["tool"]
        if probe or tool == "configure":
            return "configure"
        if tool == "make" and is_check_target(found.get("target")):
            return "check"
        if found.get("link") or tool in ("ld", "binder"):
            return "link"
        if tool in _TOOL_PHASE:
            return _TOOL_PHASE[tool]
        if self.log_phase is not None:
            return self.log_phase
        return "unknown"


def _iterate(reader: BuildLogReader, handle, close: bool):
    try:
        yield from reader.diagnostics(handle)
    except OSError as exc:
        raise BuildLogError("build log %s could not be read to the end: %s" % (_show(reader.name), exc.strerror or exc))
    finally:
        if close:
            handle.close()


def _reader_for(stream_or_path, encoding: str, phase: str | None):
    if isinstance(stream_or_path, (bytes, bytearray, memoryview)):
        return BuildLogReader("<content>", encoding, phase), io.BytesIO(bytes(stream_or_path)), True
    if isinstance(stream_or_path, (str, os.PathLike)):
        name = os.fspath(stream_or_path)
        reader = BuildLogReader(name, encoding, phase)
        return reader, _open_log(name), True
    if hasattr(stream_or_path, "read"):
        name = getattr(stream_or_path, "name", None)
        reader = BuildLogReader(name if isinstance(name, str) else "<stream>", encoding, phase)
        return reader, stream_or_path, False
    raise BuildLogError("cannot read a build log from a %s" % type(stream_or_path).__name__)


def iter_diagnostics(stream_or_path, encoding: str = "auto", phase: str | None = None):
    """Diagnostics of a log, one at a time: a path, a binary file object or bytes.

    A missing or unreadable path raises BuildLogError here, before iterating.
    """
    reader, handle, close = _reader_for(stream_or_path, encoding, phase)
    return _iterate(reader, handle, close)


def parse_log(src: str | None = None, content: str | bytes | None = None, encoding: str = "auto", phase: str | None = None,
              max_diagnostics: int | None = None) -> dict:
    """Parse a whole log from a path (src) or from content (text or bytes).

    Returns ``diagnostics`` (at most max_diagnostics of them, in log order), ``counts``
    (category -> number of diagnostics that are not follow-ups, over the whole log),
    ``severity_counts``, ``follow_ups``, ``total``, ``truncated``, ``encoding``,
    ``lines``, ``bytes``, ``binary`` and ``warnings``.
    """
    if (src is None) == (content is None):
        raise BuildLogError("give exactly one of src or content")
    if max_diagnostics is not None and max_diagnostics < 0:
        raise BuildLogError("max_diagnostics must be 0 or more, got %d" % max_diagnostics)
    if content is not None:
        text_given = isinstance(content, str)
        data = content.encode("utf-8") if text_given else bytes(content)
        reader = BuildLogReader("<content>", "utf-8" if text_given else encoding, phase)
        handle, close = io.BytesIO(data), True
    else:
        reader, handle, close = _reader_for(src, encoding, phase)
    diagnostics = []
    counts = {}
    severity_counts = {}
    follow_ups = total = 0
    for diagnostic in _iterate(reader, handle, close):
        total += 1
        severity_counts[diagnostic["severity"]] = severity_counts.get(diagnostic["severity"], 0) + 1
        if diagnostic["follow_up"]:
            follow_ups += 1
        else:
            counts[diagnostic["category"]] = counts.get(diagnostic["category"], 0) + 1
        if max_diagnostics is None or len(diagnostics) < max_diagnostics:
            # What parse_log returns leaves the build host (a module result): scrubbed
            # here. iter_diagnostics (patch_replay) reads logs build_profile scrubbed.
            diagnostic["file"] = scrub_text(diagnostic["file"])[0] if diagnostic["file"] else diagnostic["file"]
            diagnostic["message"] = scrub_text(diagnostic["message"])[0]
            diagnostics.append(diagnostic)
    return {
        "diagnostics": diagnostics,
        "counts": counts,
        "severity_counts": severity_counts,
        "follow_ups": follow_ups,
        "total": total,
        "truncated": len(diagnostics) < total,
        "encoding": reader.encoding or "utf-8",
        "lines": reader.lines,
        "bytes": reader.bytes_read,
        "binary": reader.binary,
        "warnings": list(reader.warnings),
    }
