"""Run report: counts from an `ilab data generate` output folder, loss from the training log."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_report import (
    ReportError,
    build_report,
    count_jsonl,
    latest_generation_dir,
    parse_training_log,
    read_transcript,
    render_markdown,
    summarize_generation,
    write_if_changed,
)


def jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows), encoding="utf-8")
    return path


def make_run(root: Path, name: str = "2026-11-22_062457", generated: int = 10, kept: int = 9, empty_user: int = 1) -> Path:
    """The layout ilab 0.26 writes: preprocessed_*/, generated_*/, train_*, test_*, messages_*."""
    run = root / name
    stamp = "2026-11-22T06_25_08"
    jsonl(run / ("preprocessed_%s" % stamp) / "compositional_skills_x.jsonl", [{"seed": i} for i in range(5)])
    jsonl(run / ("generated_%s" % stamp) / "compositional_skills_x.jsonl", [{"output": "o%d" % i} for i in range(generated)])
    rows = [{"system": "s", "user": "" if i < empty_user else "q%d" % i, "assistant": "a%d" % i} for i in range(kept)]
    jsonl(run / ("train_%s.jsonl" % stamp), rows)
    jsonl(run / ("test_%s.jsonl" % stamp), [{"user": "q%d" % index, "assistant": "a"} for index in range(5)])
    jsonl(run / ("messages_%s.jsonl" % stamp), [{"messages": [], "index": index} for index in range(kept)])
    return run


def test_summarize_generation_counts(tmp_path: Path) -> None:
    run = make_run(tmp_path / "generated")
    summary = summarize_generation(str(run))
    assert summary["seed_examples"] == 5
    assert summary["generated"] == 10
    assert summary["kept"] == 9
    assert summary["rejected"] == 1
    assert summary["kept_with_empty_turn"] == 1
    assert summary["test"] == 5
    assert summary["messages"] == 9
    assert summary["train_file"].endswith("train_2026-11-22T06_25_08.jsonl")


def test_invalid_lines_count_as_rejected(tmp_path: Path) -> None:
    run = make_run(tmp_path / "g", generated=3, kept=2, empty_user=0)
    generated = next((run).glob("generated_*/*.jsonl"))
    with open(generated, "a", encoding="utf-8") as handle:
        handle.write("{not json\n[1, 2]\n\n")
    assert count_jsonl(str(generated)) == (3, 2)
    summary = summarize_generation(str(run))
    assert summary["generated"] == 3 and summary["kept"] == 2 and summary["rejected"] == 1 + 2


def test_latest_generation_dir(tmp_path: Path) -> None:
    root = tmp_path / "generated"
    old = make_run(root, "2026-01-01_000000")
    new = make_run(root, "2026-02-01_000000")
    os.utime(old, (time.time() - 100, time.time() - 100))
    assert latest_generation_dir(str(root)) == str(new)
    assert latest_generation_dir(str(tmp_path / "nothing")) is None


def test_missing_generation_output(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        summarize_generation(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no train_"):
        summarize_generation(str(tmp_path / "empty"))


def test_parse_training_log(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "\r 11%|#| 1/9 [00:42<05:37]\n{'loss': 2.9, 'epoch': 0.5}\n{'loss': 2.4, 'epoch': 1.0}\n"
        "{'train_runtime': 376.6105, 'train_samples_per_second': 0.024, 'train_loss': 2.153026580810547, 'epoch': 1.0}\n",
        encoding="utf-8",
    )
    parsed = parse_training_log(str(log))
    assert parsed["step_losses"] == [2.9, 2.4]
    assert parsed["train_loss"] == pytest.approx(2.153026580810547)
    assert parsed["final_loss"] == pytest.approx(2.153026580810547)
    only_steps = tmp_path / "steps.log"
    only_steps.write_text("{'loss': 1.5}\n", encoding="utf-8")
    assert parse_training_log(str(only_steps))["final_loss"] == 1.5
    nothing = tmp_path / "none.log"
    nothing.write_bytes(b"\xff\xfe garbage without numbers")
    assert parse_training_log(str(nothing))["final_loss"] is None
    with pytest.raises(ReportError, match="training log cannot be read"):
        parse_training_log(str(tmp_path / "absent.log"))


def test_transcript_must_be_a_json_object(tmp_path: Path) -> None:
    good = tmp_path / "chat.json"
    good.write_text(json.dumps({"question": "q", "answer": "a"}), encoding="utf-8")
    assert read_transcript(str(good))["answer"] == "a"
    bad = tmp_path / "bad.json"
    bad.write_text("[1]", encoding="utf-8")
    with pytest.raises(ReportError, match="not a JSON object"):
        read_transcript(str(bad))
    with pytest.raises(ReportError, match="not readable JSON"):
        read_transcript(str(tmp_path / "absent.json"))


def test_report_and_markdown(tmp_path: Path) -> None:
    generation = summarize_generation(str(make_run(tmp_path / "g")))
    report = build_report(
        generation,
        {"final_loss": 2.153, "train_loss": 2.153, "step_losses": []},
        {"question": "Why garbled?", "answer": "EBCDIC.", "model": "m.gguf", "seconds": 4.2, "tokens": 3, "extra": "dropped"},
        {"teacher": "SmolLM2"},
        {"generate": {"ran": True, "seconds": 98}},
    )
    assert report["samples"] == {"seed_examples": 5, "generated": 10, "kept": 9, "rejected": 1, "kept_with_empty_turn": 1, "test": 5}
    assert report["training"]["final_loss"] == 2.153
    assert "extra" not in report["chat"]
    text = render_markdown(report)
    assert "| generated | 10 |" in text and "| rejected | 1 |" in text
    assert "Training loss: 2.1530" in text
    assert "| generate | True | 98 |" in text
    assert "**A:** EBCDIC." in text


def test_write_if_changed(tmp_path: Path) -> None:
    target = tmp_path / "report" / "report.md"
    assert write_if_changed(str(target), "x", check_mode=True) is True
    assert not target.exists()
    assert write_if_changed(str(target), "x") is True
    assert write_if_changed(str(target), "x") is False
    assert write_if_changed(str(target), "y") is True
    assert target.read_text(encoding="utf-8") == "y"
