# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Reading a build log's bytes: which encoding they are in (UTF-8, ISO8859-1 or EBCDIC
IBM-1047), the IBM-1047 translation tables, and opening a log path with an error that
names it. Part of the build log parser (build_log). Standard library only (build hosts).
"""

from __future__ import annotations

import codecs
import os
import stat

ENCODINGS = ("utf-8", "iso8859-1", "cp1047")

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


class BuildLogError(Exception):
    """A log that cannot be read; the message names the input and the reason."""


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


# --- opening a log path ------------------------------------------------------------


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
