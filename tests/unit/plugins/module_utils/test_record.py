from __future__ import annotations

import json
import os

import jsonschema
import pytest

from ansible_collections.autoport.zos.plugins.module_utils import record as rec


def _fields(**over):
    fields = dict(
        port="zlibport",
        patch_file="patches/zutil.c.patch",
        file="zutil.c",
        hunk=1,
        phase="build",
        toolchain="gcc",
        provenance="build",
        error="zutil.c:10:5: error: implicit declaration of function 'fdopen'",
        error_category="implicit-function",
        wrong_code="fdopen(fd, mode);\n",
        correct_code="#include <stdio.h>\nfdopen(fd, mode);\n",
        patch="--- a/zutil.c\n+++ b/zutil.c\n@@ -1 +1,2 @@\n+#include <stdio.h>\n fdopen(fd, mode);\n",
    )
    fields.update(over)
    return fields


def test_make_record_is_valid_for_jsonschema_too():
    record = rec.make_record(**_fields())
    jsonschema.Draft202012Validator(rec.RECORD_SCHEMA).validate(record)
    assert rec.validate_record(record) == []


def test_id_is_stable_and_content_sensitive():
    first = rec.make_record(**_fields())
    again = rec.make_record(**_fields())
    other = rec.make_record(**_fields(error="different"))
    assert first["id"] == again["id"]
    assert first["id"] != other["id"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(error_category="made-up"), "error_category"),
        (dict(phase="compile"), "phase"),
        (dict(hunk=-1), "hunk"),
        (dict(patch=""), "patch"),
        (dict(provenance="guess"), "provenance"),
    ],
)
def test_bad_fields_are_named(bad, message):
    with pytest.raises(rec.RecordError, match=message):
        rec.make_record(**_fields(**bad))
    # The real validator agrees that the same record is invalid.
    record = _fields(**bad)
    record["id"] = "0" * 32
    record.setdefault("port_commit", None)
    assert list(jsonschema.Draft202012Validator(rec.RECORD_SCHEMA).iter_errors(record))


def test_unknown_field_rejected():
    record = rec.make_record(**_fields())
    record["surprise"] = 1
    assert any("surprise" in p for p in rec.validate_record(record))


def test_long_code_is_clipped_not_rejected():
    record = rec.make_record(**_fields(wrong_code="x" * (rec.MAX_CODE_CHARS * 3)))
    assert len(record["wrong_code"]) <= rec.MAX_CODE_CHARS
    assert record["wrong_code"].endswith("[truncated]\n")


def test_writer_appends_once_and_survives_torn_tail(tmp_path):
    path = tmp_path / "out" / "records.jsonl"
    one = rec.make_record(**_fields())
    two = rec.make_record(**_fields(hunk=2))
    with rec.RecordWriter(str(path)) as writer:
        assert writer.write(one) is True
        assert writer.write(one) is False
    # A crash mid-write leaves half a line behind.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(two)[:40])
    with rec.RecordWriter(str(path)) as writer:
        assert writer.ids == {one["id"]}
        assert writer.write(two) is True
        assert writer.write(one) is False
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [one["id"], two["id"]]


def test_writer_refuses_invalid_record(tmp_path):
    record = rec.make_record(**_fields())
    record["error_category"] = "nope"
    with rec.RecordWriter(str(tmp_path / "r.jsonl")) as writer:
        with pytest.raises(rec.RecordError, match="error_category"):
            writer.write(record)
    assert os.path.getsize(tmp_path / "r.jsonl") == 0


def test_shipped_schema_file_matches_module(repo_root):
    shipped = json.loads((repo_root / "schemas" / "record.schema.json").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(rec.RECORD_SCHEMA))
