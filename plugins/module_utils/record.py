# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The fix record: schema, stable id, validation and an append-only JSONL writer.

A record is scrubbed (secret_scrub) and validated exactly twice on its way to the
taxonomy (docs/architecture.md): by ``make_record`` where it is made (patch_replay,
static mining) and by ``scrub_record`` + validation where outside records enter
(dataset_curate). Nothing else scrubs or validates it again.

Standard library only: this runs on build hosts, z/OS included (IBM Python 3.12).
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import empty_counts, scrub_value

CATEGORIES = (
    "missing-header",
    "undeclared-identifier",
    "implicit-function",
    "unresolved-symbol",
    "conflicting-declaration",
    "type-error",
    "unsupported-feature",
    "encoding",
    "configure",
    "build-system",
    "toolchain",
    "environment",
    "resource-limit",
    "runtime",
    "test-failure",
    "other",
)

# Where in a port's life a failure shows up. "patch" is a patch that does not apply.
PHASES = (
    "patch",
    "bootstrap",
    "configure",
    "build",
    "link",
    "check",
    "install",
    "runtime",
    "unknown",
)

PROVENANCES = ("build", "static", "autoport")

# Upper bound for the code excerpts and the patch text kept in one record, so one
# generated file cannot blow up a dataset line (and a training context).
MAX_CODE_CHARS = 4000
MAX_PATCH_CHARS = 12000
MAX_ERROR_CHARS = 4000

REQUIRED_FIELDS = (
    "id",
    "wrong_code",
    "error_category",
    "error",
    "correct_code",
    "patch",
    "port",
    "port_commit",
    "patch_file",
    "file",
    "hunk",
    "phase",
    "toolchain",
    "provenance",
)

# Fields that take part in the id: what the fix is and where it came from.
# Order matters: changing it changes every id.
ID_FIELDS = (
    "port",
    "patch_file",
    "file",
    "hunk",
    "provenance",
    "error",
    "wrong_code",
    "correct_code",
)

RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://autoport.zos/schemas/record.schema.json",
    "title": "autoport.zos fix record",
    "description": "One fix taken from a z/OS port: the code before, the error it caused, the code after and the patch.",
    "type": "object",
    "additionalProperties": False,
    "required": list(REQUIRED_FIELDS),
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-f]{16,64}$"},
        "wrong_code": {"type": "string", "maxLength": MAX_CODE_CHARS},
        "error_category": {"type": "string", "enum": list(CATEGORIES)},
        "error": {"type": "string", "maxLength": MAX_ERROR_CHARS},
        "correct_code": {"type": "string", "maxLength": MAX_CODE_CHARS},
        "patch": {"type": "string", "minLength": 1, "maxLength": MAX_PATCH_CHARS},
        "port": {"type": "string", "minLength": 1, "maxLength": 200},
        "port_commit": {"type": ["string", "null"]},
        "patch_file": {"type": "string", "minLength": 1},
        "file": {"type": "string"},
        "hunk": {"type": "integer", "minimum": 0},
        "phase": {"type": "string", "enum": list(PHASES)},
        "toolchain": {"type": "string"},
        "provenance": {"type": "string", "enum": list(PROVENANCES)},
        "error_code": {"type": ["string", "null"]},
        "build_line": {"type": ["string", "null"]},
        "system": {"type": "object"},
        "seen_in": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "port": {"type": "string"},
                    "patch_file": {"type": "string"},
                    "id": {"type": "string"},
                },
            },
        },
    },
}

_JSON_TYPES = {
    "string": str,
    "integer": int,
    "object": dict,
    "array": list,
    "boolean": bool,
    "null": type(None),
}


def _type_ok(value, type_name):
    if type_name == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES[type_name])


def _validate(value, schema, where, errors):
    # A small validator for the subset of JSON Schema RECORD_SCHEMA uses; the
    # controller-side tests check it agrees with the real jsonschema package.
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, name) for name in names):
            errors.append("%s: expected %s, got %s" % (where, " or ".join(names), type(value).__name__))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %s" % (where, value, ", ".join(map(str, schema["enum"]))))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append("%s: shorter than %d characters" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append("%s: longer than %d characters" % (where, schema["maxLength"]))
        if "pattern" in schema:
            import re

            if not re.search(schema["pattern"], value):
                errors.append("%s: does not match %s" % (where, schema["pattern"]))
    if isinstance(value, int) and not isinstance(value, bool) and "minimum" in schema:
        if value < schema["minimum"]:
            errors.append("%s: less than %s" % (where, schema["minimum"]))
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                errors.append("%s: missing required field %r" % (where, name))
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                _validate(item, props[name], "%s.%s" % (where, name), errors)
            elif schema.get("additionalProperties", True) is False:
                errors.append("%s: unknown field %r" % (where, name))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _validate(item, schema["items"], "%s[%d]" % (where, index), errors)


def validate_record(record):
    """Return a list of human-readable problems; empty when the record is valid."""
    errors = []
    _validate(record, RECORD_SCHEMA, "record", errors)
    return errors


class RecordError(ValueError):
    """A record that does not match the schema."""


def record_id(record):
    """Stable content hash of a record: the same fix from the same place gets the same id."""
    material = json.dumps([record.get(name) for name in ID_FIELDS], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def clip(text, limit):
    """Cut text to at most limit characters, saying that it was cut."""
    if text is None:
        return ""
    if len(text) <= limit:
        return text
    marker = "\n... [truncated]\n"
    return text[: max(0, limit - len(marker))] + marker


class Record(dict):
    """A record made by ``make_record``: scrubbed and valid when made. ``made`` is its
    JSON line at that moment, so ``RecordWriter`` can tell whether it changed since
    (and validates again only then)."""

    __slots__ = ("made",)


def _line(record):
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def problems_unless_made(record, line=None):
    """Schema problems of a record about to be written. A record as ``make_record`` made it
    was validated there and is not validated again (docs/architecture.md: one validation
    where a record is made); any other dict, or a made record changed since, is."""
    if isinstance(record, Record) and getattr(record, "made", None) == (line if line is not None else _line(record)):
        return []
    return validate_record(record)


def _clip_fields(record):
    # A placeholder can be longer than what it replaced: clip after scrubbing.
    for name, limit in (("wrong_code", MAX_CODE_CHARS), ("correct_code", MAX_CODE_CHARS), ("error", MAX_ERROR_CHARS), ("patch", MAX_PATCH_CHARS)):
        if isinstance(record.get(name), str) and len(record[name]) > limit:
            record[name] = clip(record[name], limit)


def make_record(counts=None, **fields):
    """Build a record from its fields: scrub every string, clip the long ones, fill
    defaults and the id, validate. The one place a new record is scrubbed and validated.

    ``counts`` (optional dict) is increased by the scrub replacements per kind. Raises
    RecordError naming every problem when the result does not match the schema.
    """
    fields = scrub_value(fields, empty_counts() if counts is None else counts)[0]
    record = {
        "wrong_code": "",
        "error": "",
        "correct_code": "",
        "port_commit": None,
        "file": "",
        "hunk": 0,
        "phase": "unknown",
        "toolchain": "unknown",
    }
    record.update(fields)
    _clip_fields(record)
    record["id"] = record_id(record)
    problems = validate_record(record)
    if problems:
        raise RecordError("; ".join(problems))
    made = Record(record)
    made.made = _line(made)
    return made


def scrub_record(record, recompute_id=True):
    """Scrub every string field of a record from outside (dataset_curate's input) and give
    it a fresh id; returns (record, counts). Validation is the caller's next step.

    The id is a hash of fields that may have held a secret, so it is recomputed from the
    cleaned fields; ids inside ``seen_in`` cannot be recomputed here and are dropped
    (port and patch file stay).
    """
    cleaned, counts = scrub_value(record)
    if not isinstance(cleaned, dict):
        return cleaned, counts
    if isinstance(cleaned.get("seen_in"), list):
        cleaned["seen_in"] = [
            dict((key, value) for key, value in entry.items() if key != "id") if isinstance(entry, dict) else entry for entry in cleaned["seen_in"]
        ]
    _clip_fields(cleaned)
    if recompute_id:
        cleaned["id"] = record_id(cleaned)
    return cleaned, counts


def read_records(path):
    """Yield (line_number, record) from a JSONL file; a line that is not a JSON object raises
    RecordError naming it (use jsonl.read_jsonl to go on past bad lines)."""
    try:
        for line in jsonl.read_jsonl(path, jsonl.MAX_LINE_BYTES):
            if line.value is None:
                raise RecordError("%s line %d is %s: %s" % (path, line.number, line.kind, line.reason))
            yield line.number, line.value
    except jsonl.JsonlError as exc:
        raise RecordError(str(exc))


def existing_ids(path):
    """Ids already in a JSONL file (an absent file has none). Lines that are not records
    (a line torn by a crash, a hostile line) are passed over: the writer rewrites around them."""
    ids = set()
    if not os.path.exists(path):
        return ids
    try:
        for line in jsonl.read_jsonl(path, jsonl.MAX_LINE_BYTES):
            if line.value is not None and isinstance(line.value.get("id"), str):
                ids.add(line.value["id"])
    except jsonl.JsonlError as exc:
        raise RecordError(str(exc))
    return ids


class RecordWriter(object):
    """Append-only JSONL writer: validates, flushes and fsyncs each record, never writes an id twice.

    A line left half-written by a crash is dropped when the writer opens the file, so
    a resumed run appends after the last complete record.
    """

    def __init__(self, path):
        self.path = path
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            os.makedirs(parent)
        self._repair_tail()
        self.ids = existing_ids(path)
        self.written = 0
        self._handle = open(path, "a", encoding="utf-8")

    def _repair_tail(self):
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb+") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            # Find the start of the torn line and cut it off.
            position = size - 1
            while position > 0:
                step = min(4096, position)
                handle.seek(position - step)
                chunk = handle.read(step)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    position = position - step + cut + 1
                    break
                position -= step
            handle.truncate(position)

    def write(self, record):
        """Append one record; returns False (and writes nothing) when its id is already there.

        A record as ``make_record`` made it was validated there and is not validated
        again; any other dict (or a made record changed since) is validated here.
        """
        line = _line(record)
        problems = problems_unless_made(record, line)
        if problems:
            raise RecordError("record %s: %s" % (record.get("id", "?"), "; ".join(problems)))
        if record["id"] in self.ids:
            return False
        self._handle.write(line + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.ids.add(record["id"])
        self.written += 1
        return True

    def close(self):
        if not self._handle.closed:
            self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
