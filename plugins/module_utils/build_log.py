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
"""

from __future__ import annotations

import codecs
import functools
import io
import os
import re
import stat

from ansible_collections.autoport.zos.plugins.module_utils.message_classify import (
    MESSAGE_ID,
    classify,
    is_check_target,
    make_target,
    parse_message_id,
    strip_location,
    tool_for_program,
)
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES, PHASES
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_text

ENCODINGS = ("utf-8", "iso8859-1", "cp1047")
SEVERITIES = ("fatal", "error", "warning", "note", "info")
DIAGNOSTIC_KEYS = ("file", "line", "column", "severity", "code", "message", "category", "follow_up", "phase", "tool")

_ENCODING_ALIASES = {
    "auto": "auto",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "iso8859-1": "iso8859-1",
    "iso-8859-1": "iso8859-1",
    "latin-1": "iso8859-1",
    "latin1": "iso8859-1",
    "cp1047": "cp1047",
    "ibm-1047": "cp1047",
    "ibm1047": "cp1047",
}

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


class BuildLogError(Exception):
    """A log that cannot be read; the message names the input and the reason."""


# --- encodings ------------------------------------------------------------------


def _cp1047_to_latin1() -> bytes:
    # IBM-1047 is IBM-037 with six code points moved (checked against glibc iconv);
    # both cover exactly ISO8859-1, so a byte translation maps one onto the other.
    table = bytearray(bytes(range(256)).decode("cp037").encode("latin-1"))
    for code, char in ((0x5F, "^"), (0xAD, "["), (0xB0, "\xac"), (0xBA, "\xdd"), (0xBB, "\xa8"), (0xBD, "]")):
        table[code] = ord(char)
    # z/OS writes '\n' as NL (0x15); 0x25 (LF) also ends a line.
    table[0x15] = 0x0A
    return bytes(table)


CP1047_TO_LATIN1 = _cp1047_to_latin1()
_LATIN1_TO_CP1047 = bytearray(256)
for _ebcdic in range(255, -1, -1):
    # Reverse map; the lower EBCDIC code wins for '\n' (0x15 NL, as z/OS writes it).
    _LATIN1_TO_CP1047[CP1047_TO_LATIN1[_ebcdic]] = _ebcdic
_LATIN1_TO_CP1047[0x85] = 0x25
LATIN1_TO_CP1047 = bytes(_LATIN1_TO_CP1047)


def decode_cp1047(data: bytes) -> str:
    """IBM-1047 bytes to text (NL and LF both become '\\n')."""
    return data.translate(CP1047_TO_LATIN1).decode("latin-1")


def encode_cp1047(text: str) -> bytes:
    """Text to IBM-1047 bytes ('\\n' becomes NL, 0x15, as z/OS writes it); characters outside ISO8859-1 become '?'."""
    return text.encode("latin-1", "replace").translate(LATIN1_TO_CP1047)


def _byte_set(*ranges) -> bytes:
    members = bytearray()
    for low, high in ranges:
        members.extend(range(low, high + 1))
    return bytes(members)


def _complement(members: bytes) -> bytes:
    keep = set(members)
    return bytes(value for value in range(256) if value not in keep)


_NOT_EBCDIC_ALNUM = _complement(_byte_set((0x81, 0x89), (0x91, 0x99), (0xA2, 0xA9), (0xC1, 0xC9), (0xD1, 0xD9), (0xE2, 0xE9), (0xF0, 0xF9)))
_NOT_ASCII_ALNUM = _complement(_byte_set((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)))
# Control bytes that do not occur in text (after mapping to ISO8859-1).
_NOT_CONTROL = _complement(_byte_set((0x00, 0x08), (0x0E, 0x1A), (0x1C, 0x1F), (0x7F, 0x7F)))


def detect_encoding(sample: bytes) -> str:
    """'utf-8', 'iso8859-1' or 'cp1047' for the first bytes of a log.

    EBCDIC text has its spaces at 0x40 and its letters at 0x81-0xE9, ASCII text at 0x20
    and 0x41-0x7A; text that is valid UTF-8 is UTF-8, anything else ISO8859-1.
    """
    if not sample:
        return "utf-8"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    ascii_spaces = sample.count(b" ") + sample.count(b"\n")
    ebcdic_spaces = sample.count(b"\x40") + sample.count(b"\x15") + sample.count(b"\x25")
    ebcdic_alnum = len(sample.translate(None, _NOT_EBCDIC_ALNUM))
    ascii_alnum = len(sample.translate(None, _NOT_ASCII_ALNUM))
    if ebcdic_spaces > ascii_spaces and ebcdic_alnum > ascii_alnum:
        return "cp1047"
    try:
        # A sample can end inside a multi-byte character: not final.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "iso8859-1"
    return "utf-8"


def normalize_encoding(name: str | None) -> str:
    """'auto' or one of ENCODINGS for a name or alias (IBM-1047, latin-1 ...)."""
    key = (name or "auto").strip().lower().replace("_", "-")
    if key not in _ENCODING_ALIASES:
        raise BuildLogError("unknown encoding %r: use auto, utf-8, iso8859-1 or cp1047 (IBM-1047)" % (name,))
    return _ENCODING_ALIASES[key]


# --- which phase a log file belongs to ---------------------------------------------

_LOG_NAME_PHASES = (
    (re.compile(r"(?:^|[_.-])(?:config|configure|cmake)\.log$|^config\.log$|^CMake(?:Error|Output)\.log$"), "configure"),
    (re.compile(r"(?:^|[_.-])(?:check|test|tests|ctest)\.log$|^test-suite\.log$|\.trs$|^LastTest\.log$"), "check"),
    (re.compile(r"(?:^|[_.-])bootstrap\.log$"), "bootstrap"),
    (re.compile(r"(?:^|[_.-])install\.log$"), "install"),
    (re.compile(r"(?:^|[_.-])(?:build|make)\.log$"), "build"),
)


def phase_from_log_name(name: str | None) -> str | None:
    """The phase a zopen log name tells (20240101_120000_config.log -> configure), None if it says nothing."""
    if not name:
        return None
    base = os.path.basename(str(name))
    for pattern, phase in _LOG_NAME_PHASES:
        if pattern.search(base):
            return phase
    return None


# Where each tool's messages come from when nothing else says.
_TOOL_PHASE = {
    "clang": "build",
    "gcc": "build",
    "xlc": "build",
    "binder": "link",
    "ld": "link",
    "ar": "build",
    "make": "build",
    "libtool": "build",
    "configure": "configure",
    "cmake": "configure",
    "autotools": "bootstrap",
    "test": "check",
    "le": "runtime",
    "crtl": "runtime",
    "git": "patch",
}
# Phases named by the log that win over the tool: a compile error in a check log is a
# check failure; build logs keep the finer build/link split of the tools.
_LOG_PHASE_WINS = ("configure", "check", "bootstrap", "install", "patch")
_COMPILERS = ("clang", "gcc", "xlc")

# --- the pre-filter: one pass over a block, in C --------------------------------------

# Diagnostics that start a line (after blanks and colour codes). The lookahead on the
# first character turns most noise lines away at once; the alternatives are grouped by
# their first character so the rest fail fast too.
_ESCAPES = rb"(?:\x1b\[[0-9;]*m)*"
_LINE_START = re.compile(
    rb"\n[ \t]*" + _ESCAPES + rb"(?=[efnwABCEFIKSTUWX#*\d\"-])(?:"
    rb"e(?:rror)|f(?:atal(?: error|:))|w(?:arning)|n(?:ot ok)|E(?:rror|RROR|DC\d)|W(?:arning|ARNING)"
    rb"|F(?:AIL|SUM|loating point exception)|X(?:PASS)|#(?: ?(?:FAIL|ERROR|XPASS))|-(?:-- FAIL)|\*\*\*|\d+ (?:of \d+ )?tests? "
    rb"|A(?:ssertion|bort)|T(?:he following tests FAILED)|C(?:Make (?:Error|Warning|Deprecation)|CN\d|EE\d)"
    rb"|S(?:egmentation fault|EVERE)|B(?:us error)|I(?:llegal instruction|EW\d|NFORMATIONAL)|K(?:illed)|U(?:NRECOVERABLE)"
    rb"|\"[^\"\n]{1,1024}\", line \d)"
)
# Diagnostics that follow a "something: " prefix (a file, a program, a location).
_AFTER_COLON = re.compile(
    rb":[ \t]+" + _ESCAPES + rb"(?:"
    rb"e(?:rror)|fatal error|w(?:arning)|n(?:ote|ot found)|E(?:rror|xec format|DC[0-9A-Z])|W(?:ARNING)"
    rb"|u(?:ndefined (?:reference|symbol))|m(?:ultiple definition)|c(?:annot (?:find|execute)|ommand not found)"
    rb"|C(?:annot allocate|EE[0-9A-Z]|CN[0-9A-Z])|P(?:ermission denied)|N(?:o (?:such file|space left))|o(?:ut of memory)"
    rb"|v(?:irtual memory)|b(?:ad interpreter)|s(?:yntax error)|\*\*\*|F(?:SUM[0-9A-Z])|I(?:EW[0-9A-Z]|llegal instruction)"
    rb"|[Aa](?:ssertion)|\d+ (?:Segmentation fault|Killed|Aborted|Bus error|Illegal instruction)|l(?:ine \d+: )"
    rb"|S(?:egmentation fault)|K(?:illed)|A(?:borted)|B(?:us error))"
)

# --- line shapes ---------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SEVERITY = r"fatal error|error|warning|note|remark"

_CMAKE = re.compile(
    r"^CMake (?P<sev>Error|Warning|Deprecation Warning)(?: \(dev\))?(?: at (?P<file>.+?):(?P<line>\d+)(?: \((?P<cmd>[^)]*)\))?)?\s*:?\s*(?P<msg>.*)$"
)
_XLC_WORD = re.compile(
    r"^(?P<sev>SEVERE ERROR|UNRECOVERABLE ERROR|ERROR|WARNING|INFORMATIONAL|INFO|SEVERE|UNRECOVERABLE)\s+(?P<code>CCN\d{4})"
    r"(?:\s+(?P<file>[^\s:]+?):(?P<line>\d+)(?::(?P<col>\d+))?)?(?:\s+|$)(?P<msg>.*)$"
)
_XLC_QUOTED = re.compile(
    r"^\"(?P<file>[^\"]+)\",\s+line\s+(?P<line>\d+)(?:\.(?P<col>\d+))?\s*:\s*(?P<code>CCN\d{4}|\d{4}-\d{3,4})\s*"
    r"(?:\((?P<letter>[IWESU])\))?\s*(?P<msg>.*)$"
)
_MAKE_STARS = re.compile(r"^(?P<prog>(?:\S*/)?g?n?make(?:\.exe)?)(?:\[\d+\])?:\s+\*\*\*\s*(?P<msg>.*)$")
_MAKEFILE_STARS = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):\s+\*\*\*\s*(?P<msg>.*)$")
_MAKE_OTHER = re.compile(r"^(?P<prog>(?:\S*/)?g?n?make)(?:\[\d+\])?:\s+(?P<msg>.*(?:Permission denied|No such file|not found|[Cc]annot).*)$")
_CONFIGURE = re.compile(
    r"^(?P<prog>(?:\S*/)?(?:configure|config\.status))(?::(?P<line>\d+))?:\s+(?P<sev>error|warning|WARNING)\s*:\s*(?P<msg>.*)$"
)
_CONFIGURE_DIR_HEADER = re.compile(r"^in [`'\"].*['\"]:$")
_LOCATED = re.compile(
    r"^(?P<file>[^\s:\"'][^:\"]*?):(?P<line>\d+)(?:[:.](?P<col>\d+)(?:-[\d.]+)?)?:\s*(?P<sev>" + _SEVERITY + r")\s*:\s*(?P<msg>.*)$"
)
_PROGRAM = re.compile(
    r"^(?P<prog>[\w./+-]+?)(?:\[\d+\])?:\s+(?:(?P<mode>link|compile|install|finish|execute|clean|uninstall):\s+)?"
    r"(?P<sev>fatal error|error|warning|note|fatal)\s*:\s*(?P<msg>.*)$"
)
_BARE = re.compile(r"^(?P<sev>fatal error|[Ee]rror|[Ww]arning|fatal)\s*:\s*(?P<msg>.*)$")
_LD_PREFIX = re.compile(r"^(?P<prog>(?:\S*/)?(?:[\w.-]*-)?(?:ld(?:\.\w+)?|gold|lld|collect2))(?:\.exe)?:\s+")
_LD_LOCATED = re.compile(
    r"^(?P<file>[^\s:][^:]*?):(?:(?P<line>\d+)|\((?P<sect>[^)]*)\)):\s*"
    r"(?P<msg>(?:undefined reference to|multiple definition of|relocation truncated|undefined symbol).*)$"
)
_LD_OBJECT = re.compile(
    r"^(?P<file>[^\s:][^:]*?):\s*(?P<msg>(?:undefined reference to|multiple definition of|file not recognized|file format not recognized).*)$"
)
_LD_BARE = re.compile(
    r"^(?P<msg>(?:cannot find -?\S+|undefined reference to|multiple definition of|cannot open output file|final link failed"
    r"|skipping incompatible).*)$"
)
_SHELL_FRAME = re.compile(r"(?P<file>[^\s:]+)\s+(?P<line>\d+):\s")
_TEST_RESULT = re.compile(r"^(?P<res>FAIL|ERROR|XPASS)\s*:\s+(?P<name>\S.*)$")
_TEST_SUMMARY = re.compile(r"^#\s*(?P<res>FAIL|ERROR|XPASS)\s*:\s*(?P<n>\d+)\s*$")
_TEST_COUNT = re.compile(r"^(?:\*+\s*)?(?P<n>\d+)\s+(?:of\s+\d+\s+)?tests?\s+(?:FAILED|failed)\b")
_TAP_NOT_OK = re.compile(r"^not ok\b(?P<rest>.*)$")
_TAP_EXCUSED = re.compile(r"#\s*(?:TODO|SKIP)\b", re.I)
_NINJA_FAILED = re.compile(r"^FAILED:\s+(?P<target>\S+)")
_OTHER_TEST_FAILURE = re.compile(
    r"^(?:--- FAIL: |FAILED\b|The following tests FAILED|Errors while running CTest|Failed \d+/\d+ test|Failed tests?:)"
)
_ASSERT_LE = re.compile(r"Assertion failed:\s*(?P<expr>.*?),\s*file:?\s*(?P<file>[^,]+?),\s*line:?\s*(?P<line>\d+)")
_ASSERT_COLON = re.compile(
    r"^(?:(?P<prog>[^:\s]+):\s+)?(?P<file>[^:\s]+):(?P<line>\d+):\s+(?:(?P<func>[^:]+):\s+)?[Aa]ssertion\s+[`'\"].*['\"]\s+failed"
)
_SHELL_LINE = re.compile(r"^(?P<file>[^\s:]+):(?: line)? (?P<line>\d+): (?P<msg>.*)$")
_PROGRAM_MESSAGE = re.compile(r"^(?P<prog>[^\s:]+):\s+(?P<msg>.+)$")
_SHELL_TROUBLE = re.compile(
    r"command not found|: not found\b|^not found\b|No such file or directory|Permission denied|bad interpreter|cannot execute"
    r"|Exec format error|syntax error|Segmentation fault|Killed|Aborted|Illegal instruction|Bus error|Floating point exception"
    r"|core dumped|No space left|Cannot allocate memory|out of memory|virtual memory"
)
_SIGNAL = re.compile(
    r"^(?:\d+\s+)?(?P<sig>Segmentation fault|Bus error|Illegal instruction|Floating point exception|Aborted|Abort trap|Killed)\b"
)
_SHELLS = ("sh", "bash", "ksh", "dash", "zsh", "tcsh", "/bin/sh", "/bin/bash")
_CONFTEST = re.compile(r"(?:^|/)conftest\d*\.\w+$")
# gcc's wording where clang's differs: curly quotes, -Werror=, "(first use in this
# function)", "x.h: No such file or directory", implicit declarations without "is invalid in C99".
_GCC_SHAPE = re.compile(
    "\u2018|\u2019|\\[-Werror=|first use in this function|^In function|^[^ ]+\\.\\w+: No such file or directory"
    "|^implicit declaration of function '[^']*'(?! is invalid)"
)
_PATCH_TEXT = re.compile(r"patch failed|patch does not apply|corrupt patch|while searching for|already exists in working directory")


# Logs repeat messages word for word (a header's warning in every file that includes it):
# classify each distinct (message, code, tool) once. Its answer does not depend on state.
_classify = functools.lru_cache(maxsize=4096)(classify)


def _letter_severity(letter: str | None, family: str) -> str:
    if family == "EDC":
        return "error"  # EDC5nnnI: the C library's text for errno, reported as a failure
    return {"I": "info", "W": "warning", "E": "error", "S": "error", "U": "fatal", "T": "fatal", "C": "fatal"}.get(letter or "", "error")


def _word_severity(word: str) -> str:
    word = word.lower()
    if word.startswith(("fatal", "unrecoverable")):
        return "fatal"
    if word.startswith(("error", "severe")):
        return "error"
    if word.startswith("warning"):
        return "warning"
    if word.startswith("note"):
        return "note"
    return "info"


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _clean(text: str) -> str:
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = text.rstrip()
    return _CONTROL.sub("?", text)


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


# --- public entry points ------------------------------------------------------------


def _show(path) -> str:
    # Hostile names (newlines, escapes) are shown quoted and escaped, never raw.
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    shown = repr(text)
    return shown if shown[1:-1] != text else text


def _open_log(path) -> object:
    shown = _show(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise BuildLogError("build log %s: no such file" % shown)
    except OSError as exc:
        raise BuildLogError("build log %s cannot be read: %s" % (shown, exc.strerror or exc))
    if stat.S_ISDIR(info.st_mode):
        raise BuildLogError("build log %s is a directory, not a file" % shown)
    if not stat.S_ISREG(info.st_mode):
        raise BuildLogError("build log %s is not a regular file" % shown)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise BuildLogError("build log %s cannot be read: %s" % (shown, exc.strerror or exc))


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


# --- comparing diagnostics between builds -------------------------------------------

_HEX = re.compile(r"\b0x[0-9A-Fa-f]+\b|\+0x[0-9A-Fa-f]+")
_PATH = re.compile(r"(?:[\w.+~-]*/)+(?P<base>[\w.+-]*)")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*(?![\w])")
_SPACES = re.compile(r"\s+")


def message_key(diag: dict) -> str:
    """A key that is the same for the same diagnostic in two builds.

    Paths become their last component, line/column numbers, addresses and other
    numbers are dropped; the tool, message id, file name and wording remain.
    """
    text = strip_location(diag.get("message") or "")[0]
    text = _HEX.sub("0x#", text)
    text = _PATH.sub(lambda match: match.group("base"), text)
    text = _NUMBER.sub("#", text)
    text = _SPACES.sub(" ", text).strip()
    path = diag.get("file") or ""
    base = path.rsplit("/", 1)[-1]
    return "|".join((diag.get("tool") or "", diag.get("code") or "", base, text))
