"""playbooks/evaluate.yml through ansible-runner: five systems on the same items, predictions,
report from predictions alone; a second run changes nothing; --check changes nothing; bad input
stops with a message naming it.

The models are a fake OpenAI-compatible endpoint (TEST DOUBLE, tests/fake_openai_endpoint.py)
given by URL, so the role serves nothing here; serving a real GGUF is measured by
benchmarks/bench_evaluate.py and the README's run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from playbook_harness import assert_ok, run_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_openai_endpoint import GARBAGE, FakeOpenAIEndpoint  # noqa: E402

pytestmark = [pytest.mark.integration]

WRONG = "#include <sys/epoll.h>\nint x;\n"
RIGHT = "#ifndef __MVS__\n#include <sys/epoll.h>\n#endif\nint x;\n"


def record(name: str, port: str, wrong: str, right: str | None) -> dict[str, Any]:
    item = {"id": (name.encode().hex() * 8)[:32], "port": port, "file": "src/" + name, "phase": "build", "toolchain": "clang",
            "error": "src/%s:1:10: fatal error: 'sys/epoll.h' file not found" % name, "error_category": "missing-header",
            "wrong_code": wrong, "patch": "", "provenance": "build"}
    if right is not None:
        item["correct_code"] = right
    return item


def failure_messages(run) -> list[str]:
    return [
        "%s: %s" % (e["event_data"].get("task"), e["event_data"].get("res", {}).get("msg", ""))
        for e in run.events
        if e.get("event") == "runner_on_failed" and not e["event_data"].get("ignore_errors")
    ]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("evaluate-play")
    test, train = base / "test.jsonl", base / "train.jsonl"
    test.write_text(
        json.dumps(record("a.c", "alphaport", WRONG, RIGHT)) + "\n"
        + json.dumps(record("b.c", "alphaport", WRONG.replace("x", "y"), RIGHT.replace("x", "y"))) + "\n"
        + json.dumps(record("c.c", "betaport", "int z;\n", None)) + "\n",
        encoding="utf-8",
    )
    train.write_text(json.dumps(record("t.c", "trainport", WRONG.replace("x", "y"), RIGHT.replace("x", "y"))) + "\n", encoding="utf-8")
    script = {("tuned", "src/a.c"): "Corrected code:\n```c\n%s```\n" % RIGHT, ("base", "src/a.c"): GARBAGE}
    extravars = {
        "evaluate_records": str(test),
        "evaluate_train_records": str(train),
        "evaluate_output_dir": str(base / "output"),
        "evaluate_workdir": str(base / "work"),
        "evaluate_request_timeout": 10,
    }
    with FakeOpenAIEndpoint(script) as fake:
        extravars.update(evaluate_base_url=fake.url, evaluate_tuned_url=fake.url)
        first = run_playbook("evaluate.yml", extravars, private_data_dir=str(base / "run1"))
        asked = len(fake.requests)
        second = run_playbook("evaluate.yml", extravars, private_data_dir=str(base / "run2"))
        check = run_playbook("evaluate.yml", extravars, check=True, private_data_dir=str(base / "run3"))
        asked_again = len(fake.requests) - asked
    return {"first": first, "second": second, "check": check, "output": base / "output", "asked": asked, "asked_again": asked_again}


def test_five_systems_on_the_same_items(evaluated: dict[str, Any]) -> None:
    assert_ok(evaluated["first"])
    lines = [json.loads(line) for line in (evaluated["output"] / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    systems = ["unchanged", "retrieval", "base", "tuned", "tuned_rag"]
    assert [line["system"] for line in lines] == [s for s in systems for _item in range(2)] + systems
    table = {(line["system"], line["file"]): line for line in lines}
    assert table[("tuned", "src/a.c")]["exact"] is True and table[("tuned", "src/a.c")]["applies"] is True
    assert table[("base", "src/a.c")]["status"] == "unreadable"
    # The tuned systems were asked in the text format ilab trained them on.
    assert table[("tuned", "src/a.c")]["prompt"][-1]["role"] == "user"
    # The training fix (an #ifndef guard around the same include) carries over to both items.
    assert table[("retrieval", "src/a.c")]["exact"] is True and table[("retrieval", "src/b.c")]["exact"] is True
    assert table[("unchanged", "src/a.c")]["exact"] is False
    assert {line["reason"] for line in lines if line["status"] == "skipped"} == {"test line 3: no correct_code"}
    # 2 items x 3 model systems
    assert evaluated["asked"] == 6
    overall = evaluated["first"].set_stats["evaluate_overall"]
    assert overall["tuned"]["exact"]["mean"] == 0.5 and overall["retrieval"]["exact"]["mean"] == 1.0


def test_report_is_written_from_the_predictions(evaluated: dict[str, Any]) -> None:
    output = evaluated["output"]
    markdown = (output / "report.md").read_text(encoding="utf-8")
    assert "| tuned | 2 | 50.0% [" in markdown and "| unchanged | 2 | 0.0% [0.0, 0.0]" in markdown
    html = (output / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/svg+xml;base64,") == 3
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["base"]["unreadable"] == 2


def test_second_run_and_check_mode_change_nothing(evaluated: dict[str, Any]) -> None:
    for run in (evaluated["second"], evaluated["check"]):
        assert_ok(run)
        assert run.changed == 0, run.changed_tasks()
    assert evaluated["asked_again"] == 0


def run_bad(tmp_path: Path, **extravars: Any):
    variables = {"evaluate_output_dir": str(tmp_path / "output"), "evaluate_workdir": str(tmp_path / "work")}
    variables.update(extravars)
    run = run_playbook("evaluate.yml", variables, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0 and run.status == "failed", run.stdout[-3000:]
    return failure_messages(run)


def test_a_model_file_that_is_not_a_gguf_fails_first(tmp_path: Path) -> None:
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps(record("a.c", "alphaport", WRONG, RIGHT)) + "\n", encoding="utf-8")
    fake_model = tmp_path / "model.gguf"
    fake_model.write_text("not a model\n", encoding="utf-8")
    messages = run_bad(tmp_path, evaluate_records=str(test), evaluate_systems=["unchanged", "base"], evaluate_base_model=str(fake_model))
    assert len(messages) == 1
    assert "evaluate_base_model" in messages[0] and "model.gguf: not a GGUF file" in messages[0]


def test_a_test_set_without_usable_items_names_the_file(tmp_path: Path) -> None:
    test = tmp_path / "nothing-usable.jsonl"
    test.write_text(json.dumps(record("a.c", "alphaport", WRONG, None)) + "\n", encoding="utf-8")
    messages = run_bad(tmp_path, evaluate_records=str(test), evaluate_systems=["unchanged", "retrieval"])
    assert len(messages) == 1
    assert "nothing-usable.jsonl: no usable item (1 lines unusable: no correct_code)" in messages[0]
