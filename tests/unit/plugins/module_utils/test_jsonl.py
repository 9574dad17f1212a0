"""The one JSONL reader, and every stage that reads records going on past a hostile line.

A JSON line nested 200,000 deep raised an uncaught RecursionError in dataset_curate,
qna_render and patch_mine; each now rejects it with its reason and keeps the other lines.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate as dc
from ansible_collections.autoport.zos.plugins.module_utils import ilab_report, jsonl, qna_render, static_mine
from ansible_collections.autoport.zos.plugins.module_utils.record import existing_ids

_SPEC = importlib.util.spec_from_file_location("curation_samples", str(Path(__file__).resolve().parents[1] / "curation_samples.py"))
samples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(samples)

DEEP = b"[" * 200000 + b"]" * 200000 + b"\n"
# Parses (under the C parser's limit) but would overflow a recursive scrubber or validator.
MIDDLE = (b'{"id": "x", "a": ' + b"[" * 500 + b"]" * 500 + b"}\n")


def _file(path: Path, records: list[dict], hostile: bytes) -> Path:
    lines = [json.dumps(r).encode() + b"\n" for r in records]
    # The hostile lines in the middle: the lines after them must still be read.
    half = len(lines) // 2
    path.write_bytes(b"".join(lines[:half]) + hostile + MIDDLE + b"".join(lines[half:]))
    return path


def test_reader_names_each_bad_line_and_goes_on(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n' + DEEP + b"   \n" + MIDDLE + b"\xff\xfe\n" + b"[1]\n" + b"x" * 3000 + b"\n" + b'{"b": 2}\n')
    lines = list(jsonl.read_jsonl(str(path), limit=2000))
    assert [line.value for line in lines if line.value is not None] == [{"a": 1}, {"b": 2}]
    bad = [(line.number, line.kind) for line in lines if line.value is None]
    assert bad == [(2, jsonl.TOO_LONG), (4, jsonl.NOT_JSON), (5, jsonl.NOT_UTF8), (6, jsonl.NOT_OBJECT), (7, jsonl.TOO_LONG)]
    deep = list(jsonl.read_jsonl(str(path)))[1]
    assert deep.kind == jsonl.NOT_JSON and "nested deeper" in deep.reason
    assert "nested deeper than 64" in lines[2].reason and lines[2].number == 4


def test_curate_rejects_the_deep_line_with_its_reason_and_keeps_the_rest(tmp_path):
    records = samples.sample_records()
    path = _file(tmp_path / "records.jsonl", records, DEEP)
    valid, rejected, read = dc.load_records([str(path)])
    assert len(valid) == len(records)
    assert [r["kind"] for r in rejected] == ["not JSON", "not JSON"]
    assert all("nested deeper" in r["reason"] for r in rejected)
    assert read[str(path)] == len(records) + 2


def test_qna_render_lists_rejected_lines_and_renders_the_rest(tmp_path):
    records = samples.sample_records()
    path = _file(tmp_path / "records.jsonl", records, DEEP)
    result = qna_render.render_taxonomy({"src": str(path), "taxonomy_dir": str(tmp_path / "t"), "kinds": ["skills"]}, check_mode=True)
    assert result["records"] == len(records) and result["invalid"] == 2
    half = len(records) // 2
    assert [(r["line"], r["kind"]) for r in result["rejected_lines"]] == [(half + 1, "not JSON"), (half + 2, "not JSON")]
    assert result["leaves"]


def test_patch_mine_appends_after_a_hostile_line_in_its_records_file(tmp_path):
    port = tmp_path / "fooport"
    (port / "patches").mkdir(parents=True)
    (port / "patches" / "ok.patch").write_bytes(b"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n")
    dest = tmp_path / "mined.jsonl"
    dest.write_bytes(DEEP + MIDDLE)
    result = static_mine.mine_port(str(port), str(dest))
    assert result["written"] == 1 and result["left_out"] == []
    assert len(existing_ids(str(dest))) == 1
    assert static_mine.mine_port(str(port), str(dest))["changed"] is False


def test_training_report_counts_the_hostile_line_as_invalid(tmp_path):
    path = tmp_path / "generated.jsonl"
    path.write_bytes(b'{"user": "u", "assistant": "a"}\n' + DEEP + MIDDLE)
    assert ilab_report.count_jsonl(str(path)) == (1, 2)
