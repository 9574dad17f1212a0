# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""A port's records in a JSONL file are exactly what its current patches give.

``patch_replay`` and ``patch_mine`` used to append only: a patch that was edited or
removed kept its old records, and curation carried them on. Here the lines of one
port are replaced as a whole by the records made now, and the file is written
atomically (temp file + rename) only when its bytes change, so a second run with
the same inputs changes nothing. Lines of other ports (a file shared by several
ports) are kept as they are, in their order, with the port's records where its
first old record was. A line cut short by a crash of the
old append-only writer (the last line, without its newline, not JSON) is dropped;
any other line that is not a record is kept for curation to reject with its reason.

Standard library only: runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, read_bytes, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, problems_unless_made


def record_line(record: dict) -> str:
    """The JSONL line of a record, as every writer of records writes it."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def _parse(line: str) -> dict | None:
    """The record on one line of a records file, or None when the line is not one."""
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return item if isinstance(item, dict) else None


def _split(content: bytes, port: str) -> tuple:
    """(lines before the port's records, lines after them, ids of the port's records).

    The port's new records go where its first old one was, so rewriting one port of a
    shared file never moves the others (and an unchanged port changes no byte).
    """
    lines = content.decode("utf-8", "surrogateescape").split("\n")
    # The last piece is "" after a final newline, else a line without one.
    last = lines.pop()
    # Only a line holding this text can be one of the port's records: the others are not parsed.
    needle = '"port": %s' % json.dumps(port, ensure_ascii=False)
    before, after, old_ids = [], [], set()
    for number, line in enumerate(lines + [last]):
        if not line.strip():
            continue
        item = _parse(line) if needle in line or number == len(lines) else None
        if item is not None and item.get("port") == port:
            old_ids.add(item.get("id"))
            continue
        if number == len(lines) and item is None:
            continue  # a line torn by a crash mid-write (no newline, not JSON): dropped
        (after if old_ids else before).append(line)
    return before, after, old_ids


def replace_port_records(path: str, port: str, records: list, check_mode: bool = False, create_empty: bool = False) -> dict:
    """Make ``path`` hold exactly ``records`` as the records of ``port``.

    An absent file is left absent when there is nothing to put in it, unless ``create_empty``.

    Returns ``changed`` (the file's bytes changed, or would in check mode),
    ``written`` (records whose id was not there before), ``removed`` (ids of the
    port that are gone) and ``records`` (how many the port now has). Raises
    RecordError for a record that does not match the schema (nothing is written)
    and OutputError when the file cannot be read or written.
    """
    lines, ids = [], []
    seen = set()
    for record in records:
        line = record_line(record)
        problems = problems_unless_made(record, line)
        if problems:
            raise RecordError("record %s of port %s: %s" % (record.get("id", "?"), port, "; ".join(problems)))
        if record["id"] in seen:
            continue
        seen.add(record["id"])
        ids.append(record["id"])
        lines.append(line)
    try:
        current = read_bytes(path)
    except OSError as exc:
        raise OutputError("cannot read %s: %s" % (path, exc.strerror or exc))
    before, after, old_ids = _split(current, port) if current else ([], [], set())
    body = "".join(line + "\n" for line in before + lines + after)
    if current is None and not body and not create_empty:
        changed = False
    else:
        changed = write_if_changed(path, body.encode("utf-8", "surrogateescape"), check_mode=check_mode)
    return {
        "changed": changed,
        "written": sum(1 for record_id in ids if record_id not in old_ids),
        "removed": len(old_ids - seen),
        "records": len(ids),
    }
