"""fix_evaluate against a fake OpenAI-compatible endpoint (test double, tests/fake_openai_endpoint.py)
whose every answer is known: each metric of each item and system is checked exactly."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from fake_openai_endpoint import GARBAGE, HTTP_500, NOT_JSON, TIMEOUT, FakeOpenAIEndpoint

from ansible_collections.autoport.zos.plugins.module_utils import eval_metrics, fix_evaluate
from ansible_collections.autoport.zos.plugins.module_utils.eval_report import PredictionsError, read_predictions, report_from_predictions
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import fix_answer, messages_example

A_WRONG = "#include <sys/epoll.h>\nint x;\n"
A_RIGHT = "#ifndef __MVS__\n#include <sys/epoll.h>\n#endif\nint x;\n"
B_WRONG = "int main(void) {\n  return strcasecmp(a, b);\n}\n"
B_RIGHT = "#include <strings.h>\nint main(void) {\n  return strcasecmp(a, b);\n}\n"
C_WRONG = "long n = f();\n"
C_RIGHT = "long long n = f();\n"
C_ANSWER = "int n = f();\n"
D_WRONG = "char c = 'A';\n"
D_RIGHT = "char c = 0xC1;\n"


def record(name: str, port: str, category: str, wrong: str, right: str | None, **extra) -> dict:
    item = {"id": name.replace(".", "0") * 8, "port": port, "file": "src/" + name, "phase": "build", "toolchain": "clang",
            "error": "src/%s:1: error: something" % name, "error_category": category, "wrong_code": wrong, "patch": "", "provenance": "build"}
    if right is not None:
        item["correct_code"] = right
    item.update(extra)
    return item


TEST = [
    record("a.c", "alphaport", "missing-header", A_WRONG, A_RIGHT),
    record("b.c", "alphaport", "implicit-function", B_WRONG, B_RIGHT),
    record("c.c", "betaport", "type-error", C_WRONG, C_RIGHT),
    record("d.c", "betaport", "encoding", D_WRONG, D_RIGHT),
    record("e.c", "betaport", "other", "x\n", None),
]
TRAIN = [
    # Same code as c.c in another port: retrieval takes its fix as it is.
    record("t1.c", "trainport", "type-error", "long  n = f();", "long long n = f();"),
    # An include added before the same first line as in b.c: retrieval carries it over.
    record("t2.c", "trainport", "implicit-function", "int main(void) {\n  return strcasecmp(a, b) == 0;\n}\n",
           "#include <strings.h>\nint main(void) {\n  return strcasecmp(a, b) == 0;\n}\n"),
]


def trained_answer(item: dict, code: str) -> str:
    return fix_answer(dict(item, correct_code=code))


SCRIPT = {
    # tuned: right (other layout) for a.c, garbage for b.c, a wrong edit for c.c, a timeout for d.c
    ("tuned", "src/a.c"): trained_answer(TEST[0], "#ifndef   __MVS__\n\n#include <sys/epoll.h>\n#endif\n  int x;"),
    ("tuned", "src/b.c"): GARBAGE,
    ("tuned", "src/c.c"): "Use int.\n```c\n%s```\n" % C_ANSWER,
    ("tuned", "src/d.c"): TIMEOUT,
    # base: endpoint garbage for a.c and b.c, the code unchanged for c.c, a half-written block for d.c
    ("base", "src/a.c"): NOT_JSON,
    ("base", "src/b.c"): HTTP_500,
    ("base", "src/c.c"): "Corrected code:\n```c\n%s```" % C_WRONG,
    ("base", "src/d.c"): "Corrected code:\n```c\nchar c",
}


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, eval_metrics.normalise_code(a), eval_metrics.normalise_code(b), autojunk=False).ratio()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("evaluate")
    test, train = base / "test.jsonl", base / "train.jsonl"
    test.write_text("".join(json.dumps(r) + "\n" for r in TEST) + "not json\n", encoding="utf-8")
    train.write_text("".join(json.dumps(r) + "\n" for r in TRAIN), encoding="utf-8")
    with FakeOpenAIEndpoint(SCRIPT, sleep=2.5) as fake:
        systems = [
            {"name": "unchanged", "kind": "unchanged"},
            {"name": "retrieval", "kind": "retrieval"},
            {"name": "base", "kind": "model", "url": fake.url, "model": "base"},
            {"name": "tuned", "kind": "model", "url": fake.url, "model": "tuned", "api_key": "sk-test-secret", "prompt_format": "ilab"},
            {"name": "tuned_rag", "kind": "model", "url": fake.url, "model": "tuned", "rag_examples": 1, "prompt_format": "ilab"},
        ]
        lines = fix_evaluate.evaluate(str(test), str(train), systems, {"samples": 1, "temperature": 0.0, "max_tokens": 64, "timeout": 1.0})
        requests = list(fake.requests)
    predictions = base / "predictions.jsonl"
    predictions.write_bytes(fix_evaluate.predictions_jsonl(lines))
    return {"lines": lines, "requests": requests, "predictions": predictions, "table": {(l["system"], l["file"]): l for l in lines}}


def test_every_item_and_system_has_one_line_unusable_ones_kept_with_their_reason(run):
    lines = run["lines"]
    assert len(lines) == 6 * 5
    skipped = [l for l in lines if l["status"] == "skipped"]
    assert len(skipped) == 10
    reasons = sorted({l["reason"] for l in skipped})
    assert reasons == ["test line 5: no correct_code", "test line 6: not JSON: Expecting value: line 1 column 1 (char 0)"]


def test_unchanged_is_the_floor(run):
    for name in ("a.c", "b.c", "c.c", "d.c"):
        line = run["table"][("unchanged", "src/" + name)]
        assert (line["status"], line["exact"], line["exact_at_k"], line["applies"], line["edit_gain"]) == ("scored", False, False, False, 0.0)
        assert line["applies_reason"] == "no edit"


def test_tuned_metrics_exactly(run):
    table = run["table"]
    a = table[("tuned", "src/a.c")]
    assert (a["status"], a["exact"], a["exact_at_k"], a["applies"]) == ("scored", True, True, True)
    assert a["edit_gain"] == pytest.approx(1.0 - ratio(A_WRONG, A_RIGHT), abs=1e-6)
    assert a["predicted_category"] == "missing-header" and a["category_match"] is True
    assert a["codes"] == ["#ifndef   __MVS__\n\n#include <sys/epoll.h>\n#endif\n  int x;\n"]
    b = table[("tuned", "src/b.c")]
    assert (b["status"], b["reason"], b["exact"], b["applies"], b["edit_gain"], b["answers"]) == (
        "unreadable", "no fenced code block in the answer", False, False, 0.0, [GARBAGE])
    c = table[("tuned", "src/c.c")]
    assert (c["status"], c["exact"], c["applies"], c["codes"]) == ("scored", False, True, [C_ANSWER])
    assert c["edit_gain"] == pytest.approx(ratio(C_ANSWER, C_RIGHT) - ratio(C_WRONG, C_RIGHT), abs=1e-6)
    assert c["predicted_category"] is None and c["category_match"] is None
    d = table[("tuned", "src/d.c")]
    assert (d["status"], d["reason"], d["exact"], d["applies"], d["edit_gain"]) == ("error", "endpoint timed out after 1s", False, False, 0.0)


def test_base_endpoint_garbage_is_kept_with_the_reason(run):
    table = run["table"]
    assert table[("base", "src/a.c")]["status"] == "error"
    assert table[("base", "src/a.c")]["reason"].startswith("endpoint returned no chat completion (not OpenAI JSON): b'<html>")
    assert table[("base", "src/b.c")]["reason"] == 'endpoint answered HTTP 500: {"error": "model crashed"}'
    c = table[("base", "src/c.c")]
    assert (c["status"], c["exact"], c["applies"], c["applies_reason"], c["edit_gain"]) == ("scored", False, False, "no edit", 0.0)
    d = table[("base", "src/d.c")]
    assert (d["status"], d["reason"]) == ("unreadable", "unterminated code block")


def test_retrieval_takes_or_carries_over_the_nearest_fix(run):
    table = run["table"]
    c = table[("retrieval", "src/c.c")]
    assert (c["exact"], c["applies"], c["neighbour"]) == (True, True, TRAIN[0]["id"])
    assert c["edit_gain"] == pytest.approx(1.0 - ratio(C_WRONG, C_RIGHT), abs=1e-6)
    b = table[("retrieval", "src/b.c")]
    assert (b["exact"], b["applies"], b["neighbour"], b["codes"]) == (True, True, TRAIN[1]["id"], [B_RIGHT])
    assert "1 of its edits carried over" in b["answers"][0]
    assert b["category_match"] is True
    for name in ("a.c", "d.c"):
        line = table[("retrieval", "src/" + name)]
        assert (line["exact"], line["applies"], line["edit_gain"]) == (False, False, 0.0)


def test_prompts_are_the_trained_ones_and_decoding_is_the_same(run):
    expected = messages_example(TEST[0])["messages"][:2]
    tuned_a = run["table"][("tuned", "src/a.c")]
    assert tuned_a["prompt"] == expected
    rag = run["table"][("tuned_rag", "src/b.c")]
    assert len(rag["prompt"]) == 4 and rag["examples"] == [TRAIN[1]["id"]]
    assert rag["prompt"][2]["content"] == fix_answer(TRAIN[1])
    decodings = {(r["temperature"], r["max_tokens"], r["seed"]) for r in run["requests"]}
    assert decodings == {(0.0, 64, 0)}
    # base is asked through its chat template, tuned in the text format ilab trained it on.
    assert {r["_path"] for r in run["requests"] if r["model"] == "base"} == {"/v1/chat/completions"}
    tuned = [r for r in run["requests"] if r["model"] == "tuned"]
    assert {r["_path"] for r in tuned} == {"/v1/completions"}
    assert tuned[0]["prompt"] == "<|system|>\n%s\n<|user|>\n%s\n<|assistant|>\n" % (expected[0]["content"], expected[1]["content"])
    assert tuned[0]["stop"] == fix_evaluate.ILAB_STOP
    # The key goes in the header of its own system only, never into a prediction.
    assert {r["_authorization"] for r in tuned if r["prompt"].count("<|user|>") == 1} == {"Bearer sk-test-secret"}
    assert {r["_authorization"] for r in tuned if r["prompt"].count("<|user|>") == 2} == {None}
    assert b"sk-test-secret" not in run["predictions"].read_bytes()


def test_summary_figures(run):
    summary = eval_metrics.summarize(run["lines"])
    assert summary["systems"] == ["unchanged", "retrieval", "base", "tuned", "tuned_rag"]
    tuned = summary["overall"]["tuned"]
    assert (tuned["items"], tuned["skipped"], tuned["exact"]["mean"], tuned["applies"]["mean"], tuned["unreadable"], tuned["errors"]) == (4, 2, 0.25, 0.5, 1, 1)
    assert tuned["edit_gain"]["mean"] == pytest.approx((1.0 - ratio(A_WRONG, A_RIGHT) + ratio(C_ANSWER, C_RIGHT) - ratio(C_WRONG, C_RIGHT)) / 4, abs=1e-6)
    assert tuned["exact"]["low"] <= 0.25 <= tuned["exact"]["high"]
    assert summary["overall"]["retrieval"]["exact"]["mean"] == 0.5
    assert summary["overall"]["unchanged"]["exact"] == {"mean": 0.0, "low": 0.0, "high": 0.0, "n": 4}
    assert summary["by_port"]["alphaport"]["tuned"]["exact"]["mean"] == 0.5
    assert summary["by_category"]["missing-header"]["tuned"]["exact"]["mean"] == 1.0
    differences = summary["differences"]["items"]
    assert differences[0]["file"] == "src/a.c" and differences[0]["tuned"]["exact"] and not differences[0]["base"]["exact"]
    assert summary["speed"]["tuned"]["completion_tokens"] > 0


def test_report_recomputes_from_predictions_alone(run, tmp_path):
    # Only the predictions file, copied somewhere else: the same figures and the same bytes twice.
    copy = tmp_path / "predictions.jsonl"
    copy.write_bytes(run["predictions"].read_bytes())
    report = report_from_predictions(str(copy))
    assert report["summary"]["overall"] == eval_metrics.summarize(run["lines"])["overall"]
    assert report_from_predictions(str(copy))["html"] == report["html"]
    markdown = report["markdown"]
    assert "| tuned | 4 | 25.0% [" in markdown
    assert "## Ten items where tuned and base differ most" in markdown
    assert "| 4 | test line 5: no correct_code |" in markdown
    assert report["html"].count("data:image/svg+xml;base64,") == 3


def test_exact_at_k_over_samples(tmp_path):
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps(TEST[2]) + "\n", encoding="utf-8")
    script = {("m", "src/c.c"): ["```c\n%s```" % C_ANSWER, "```c\n%s```" % C_RIGHT]}
    with FakeOpenAIEndpoint(script) as fake:
        lines = fix_evaluate.evaluate(str(test), "", [{"name": "m", "kind": "model", "url": fake.url}], {"samples": 2, "temperature": 0.7, "timeout": 5})
        seeds = sorted(r["seed"] for r in fake.requests)
    assert seeds == [0, 1]
    assert (lines[0]["exact"], lines[0]["exact_at_k"], lines[0]["k"]) == (False, True, 2)


def test_no_usable_item_names_the_file(tmp_path):
    test = tmp_path / "empty-test.jsonl"
    test.write_text(json.dumps(record("x.c", "p", "other", "a\n", None)) + "\n", encoding="utf-8")
    with pytest.raises(fix_evaluate.EvaluateError, match=r"empty-test.jsonl: no usable item \(1 lines unusable: no correct_code\)"):
        fix_evaluate.evaluate(str(test), "", [{"name": "unchanged", "kind": "unchanged"}], {})
    with pytest.raises(fix_evaluate.EvaluateError, match="missing.jsonl: cannot be read"):
        fix_evaluate.evaluate(str(tmp_path / "missing.jsonl"), "", [{"name": "unchanged", "kind": "unchanged"}], {})


def test_unreachable_endpoint_stops_asking_after_three_failures(tmp_path):
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps(r) + "\n" for r in TEST[:4]), encoding="utf-8")
    system = {"name": "gone", "kind": "model", "url": "http://127.0.0.1:9/v1"}
    lines = fix_evaluate.evaluate(str(test), "", [system], {"timeout": 2})
    assert [l["status"] for l in lines] == ["error"] * 4
    assert lines[0]["reason"].startswith("endpoint unreachable")
    assert lines[3]["reason"].startswith("not asked: 3 requests in a row failed")


def test_extract_code_and_categories():
    assert eval_metrics.extract_code("Corrected code:\n~~~c\nint a;\n~~~") == ("int a;\n", "")
    assert eval_metrics.extract_code("```\nfirst\n```\nCorrected code:\n```c\nsecond\n```") == ("second\n", "")
    assert eval_metrics.extract_code("The fix removes this code on z/OS.") == ("", "")
    assert eval_metrics.extract_code("") == (None, "empty answer")
    assert eval_metrics.predict_category("This is an encoding problem") == "encoding"


def test_applies_against_the_upstream_file(tmp_path):
    upstream = "/* head */\nint a;\n" + A_WRONG + "int z;\n"
    assert eval_metrics.applies_check("src/a.c", A_WRONG, A_RIGHT, upstream) == {"applies": True, "reason": ""}
    assert eval_metrics.applies_check("src/a.c", A_WRONG, A_RIGHT, "int other;\n")["reason"] == "wrong_code is not in the upstream file"


def test_predictions_reader_names_bad_lines(tmp_path):
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"system": "a", "item": 0}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(PredictionsError, match="p.jsonl line 2: not a prediction"):
        read_predictions(str(bad))
