# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The one reader of JSONL files: bounded lines, and every bad line named with its reason.

Every stage that reads records (curate, the taxonomy renderer, the record writers' id
scan, the training report) reads them here, so a line that is too long, not UTF-8, EBCDIC,
not JSON, nested too deep for the parser, or not an object is rejected the same way
everywhere and the stage goes on with the next line. Memory stays bounded: an oversized
line is drained, never held. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, NamedTuple

MAX_LINE_BYTES = 1024 * 1024
# Records are flat; anything deeper than this is refused before a recursive scrubber,
# validator or json.dumps sees it (they would hit Python's recursion limit).
MAX_DEPTH = 64

# Rejection kinds, as the curate report groups them.
TOO_LONG = "line too long"
EBCDIC = "EBCDIC data"
NOT_UTF8 = "not UTF-8"
NOT_JSON = "not JSON"
NOT_OBJECT = "not an object"


class JsonlError(Exception):
    """The file itself cannot be read; the message names it."""


class Line(NamedTuple):
    """One non-blank line: its number, the object (None when rejected), and for a rejected
    line the kind, the reason and the text of the line (decoded for an excerpt; empty for a
    line too long to hold)."""

    number: int
    value: dict | None
    kind: str = ""
    reason: str = ""
    text: str = ""


def looks_ebcdic(data: bytes) -> bool:
    """True for a line that starts like a JSON object written in IBM-1047."""
    # '{' is 0xC0 and '"' is 0x7F in IBM-1047; a JSON object in EBCDIC starts with them.
    stripped = data.lstrip(b"\x40\x05\x15\x25")
    return stripped[:1] == b"\xc0" and b"\x7f" in stripped[:20]


def raw_lines(path: str, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for every non-blank line; bytes is None for a line longer than
    limit, which is drained without being held in memory."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise JsonlError("cannot read %s: %s" % (path, exc.strerror or exc))
    with handle:
        number = 0
        while True:
            chunk = handle.readline(limit + 1)
            if not chunk:
                return
            number += 1
            if len(chunk) > limit and not chunk.endswith(b"\n"):
                while True:
                    more = handle.readline(limit + 1)
                    if not more or more.endswith(b"\n"):
                        break
                yield number, None
                continue
            if chunk.strip():
                yield number, chunk


def parse_line(number: int, data: bytes | None, limit: int = MAX_LINE_BYTES) -> Line:
    """One line read by raw_lines, as a Line."""
    if data is None:
        return Line(number, None, TOO_LONG, "line longer than %d bytes" % limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if looks_ebcdic(data):
            return Line(number, None, EBCDIC, "the line looks like EBCDIC (IBM-1047) text: convert the file to UTF-8", data.decode("latin-1"))
        return Line(number, None, NOT_UTF8, "not UTF-8: %s" % exc.reason, data.decode("latin-1"))
    try:
        value: Any = json.loads(text)
    except ValueError as exc:
        return Line(number, None, NOT_JSON, "not JSON: %s" % exc, text)
    except RecursionError:
        # json recurses once per nesting level; a hostile line must not stop the stage.
        return Line(number, None, NOT_JSON, "not JSON: nested deeper than the parser allows", text)
    if not isinstance(value, dict):
        return Line(number, None, NOT_OBJECT, "a JSON %s, not a record object" % type(value).__name__, text)
    if too_deep(value):
        return Line(number, None, NOT_JSON, "not JSON: nested deeper than %d levels" % MAX_DEPTH, text)
    return Line(number, value)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when value nests lists or objects more than limit levels (checked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def read_jsonl(path: str, limit: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Every non-blank line of a JSONL file as a Line, bad lines included (value None)."""
    for number, data in raw_lines(path, limit):
        yield parse_line(number, data, limit)
