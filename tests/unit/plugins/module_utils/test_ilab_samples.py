"""ilab_samples: generated samples with an empty turn or no corrected code are set aside with a reason."""

from __future__ import annotations

import json

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import ilab_report
from ansible_collections.autoport.zos.plugins.module_utils.ilab_samples import SampleError, count_reasons, filter_samples, rejected_jsonl

GOOD = {"system": "s", "user": "How do you fix it?", "assistant": "Guard it.\n\nCorrected code:\n```c\n#ifdef __MVS__\n#endif\n```"}
REMOVES = {"system": "s", "user": "How?", "assistant": "The fix removes this code on z/OS."}
EMPTY_USER = {"system": "s", "user": "", "assistant": "Corrected code:\n```c\nint a;\n```"}
EMPTY_ANSWER = {"system": "s", "user": "How?", "assistant": "   "}
NO_CODE = {"system": "s", "user": "How?", "assistant": "Use a feature-test macro."}
MESSAGES_GOOD = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "```c\nx;\n```"}]}
MESSAGES_EMPTY = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}


def write(tmp_path, items, extra=b""):
    path = tmp_path / "train_gen.jsonl"
    path.write_bytes(b"".join(json.dumps(i).encode() + b"\n" for i in items) + extra)
    return str(path)


def test_rejects_empty_turns_and_answers_without_code_with_their_line_and_reason(tmp_path):
    items = [GOOD, EMPTY_USER, EMPTY_ANSWER, NO_CODE, REMOVES, MESSAGES_GOOD, MESSAGES_EMPTY]
    kept, rejected = filter_samples(write(tmp_path, items, b"[1]\n{oops\n"))
    assert [json.loads(line) for line in kept] == [GOOD, REMOVES, MESSAGES_GOOD]
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (2, "empty user turn"),
        (3, "empty assistant turn"),
        (4, "answer without corrected code (no fenced code block in the answer)"),
        (7, "empty assistant turn"),
        (8, "a JSON list, not a record object"),
        (9, "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ]
    assert rejected[0]["sample"] == EMPTY_USER
    assert count_reasons(rejected) == {
        "answer without corrected code": 1, "empty assistant turn": 2, "empty user turn": 1, "not JSON": 1, "a JSON list, not a record object": 1}
    assert len(rejected_jsonl(rejected).splitlines()) == 6


def test_turns_rule_keeps_answers_without_code(tmp_path):
    kept, rejected = filter_samples(write(tmp_path, [GOOD, NO_CODE, EMPTY_USER]), require_code=False)
    assert len(kept) == 2 and [r["reason"] for r in rejected] == ["empty user turn"]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SampleError, match="nope.jsonl: cannot be read"):
        filter_samples(str(tmp_path / "nope.jsonl"))


def test_run_report_counts_the_samples_set_aside():
    report = ilab_report.build_report({}, {}, {}, {}, {}, {"rule": "code", "kept": 9, "rejected": 12, "reasons": {"empty user turn": 12}})
    assert report["filter"]["rejected"] == 12
    markdown = ilab_report.render_markdown(report)
    assert "Set aside before training (rule `code`): 12 of 21, kept 9." in markdown
    assert "- empty user turn: 12" in markdown
