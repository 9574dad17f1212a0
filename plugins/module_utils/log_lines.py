# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""What one line of a build log says: the phase a log's name tells, the tool each
message comes from, the pre-filter and the message shapes (regular expressions) of the
compilers, linkers, make, configure, cmake, shells and test harnesses, severities, and the
key that matches one diagnostic across two builds. Part of the build log parser
(build_log). Standard library only (build hosts).
"""

from __future__ import annotations

import functools
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils.message_classify import classify, first_label, strip_location


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
    return first_label(_LOG_NAME_PHASES, os.path.basename(str(name)))


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
