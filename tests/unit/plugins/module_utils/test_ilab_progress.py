"""Progress lines from the tail of a step's log: real ilab output shapes, junk and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_progress import (
    clean_text,
    read_tail,
    redact,
    summarize_progress,
    wait_for_file,
)

# Shapes copied from `ilab data generate` and `ilab model train --pipeline simple` logs.
GENERATE_LOG = (
    "INFO 2026-11-22 06:25:08,755 instructlab.sdg.pipeline:199: Running block: gen_skill_freeform\n"
    "gen_skill_freeform Prompt Generation:   0%|          | 0/5 [00:00<?, ?it/s]"
    "\rgen_skill_freeform Prompt Generation:  20%|##        | 1/5 [00:56<03:44, 56.05s/it]"
    "\rgen_skill_freeform Prompt Generation:  40%|####      | 2/5 [01:00<01:16, 25.66s/it]"
)
TRAIN_LOG = (
    "LINUX_TRAIN.PY: TRAINING\n"
    "  0%|          | 0/9 [00:00<?, ?it/s]\r 11%|\u2588         | 1/9 [00:42<05:37, 42.23s/it]\r"
    " 22%|\u2588\u258f        | 2/9 [01:25<04:58, 42.71s/it]\n"
    "{'loss': 2.4512, 'grad_norm': 1.2, 'learning_rate': 1e-05, 'epoch': 0.5}\n"
)


def test_generation_progress_bar() -> None:
    result = summarize_progress(clean_text(GENERATE_LOG.encode()), started_at=100.0, now=162.0)
    assert result["bar"] == {"label": "gen_skill_freeform Prompt Generation", "done": 2, "total": 5, "percent": 40}
    assert result["elapsed_s"] == 62
    assert result["summary"] == "gen_skill_freeform Prompt Generation 2/5 (40%) | elapsed 1m02s"
    # The \r-redrawn bar collapses to its last state: one line, not three.
    assert result["tail"][-1].startswith("gen_skill_freeform Prompt Generation:  40%")
    assert len(result["tail"]) == 2


def test_training_step_and_loss() -> None:
    result = summarize_progress(clean_text(TRAIN_LOG.encode()))
    assert result["bar"]["done"] == 2 and result["bar"]["total"] == 9
    assert result["loss"] == pytest.approx(2.4512)
    assert result["train_loss"] is None
    assert "loss 2.4512" in result["summary"]
    final = summarize_progress(TRAIN_LOG + "{'train_runtime': 376.6, 'train_loss': 2.153026580810547, 'epoch': 1.0}\n")
    assert final["train_loss"] == pytest.approx(2.153026580810547)
    assert "train_loss 2.1530" in final["summary"]


def test_no_output_yet() -> None:
    result = summarize_progress("")
    assert result["bar"] is None and result["tail"] == []
    assert result["summary"] == "waiting for output"
    assert summarize_progress("just a line\n")["summary"] == "just a line"


def test_clean_text_strips_escapes_and_nuls() -> None:
    raw = b"\x1b[32mINFO\x1b[0m ok\x00\nhalf\rwhole\n\xff\xfe binary"
    text = clean_text(raw)
    assert text.splitlines() == ["INFO ok", "whole", "\ufffd\ufffd binary"]


def test_redact_hides_credentials() -> None:
    assert redact("HF_TOKEN=hf_abc123 done") == "HF_TOKEN=*** done"
    assert redact("api_key: sk-xyz") == "api_key: ***"
    result = summarize_progress("Downloading with token=hf_secret\n")
    assert "hf_secret" not in " ".join(result["tail"]) and "hf_secret" not in result["summary"]


def test_read_tail_is_bounded(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_bytes(b"x" * 200000 + b"\nlast line\n")
    text = read_tail(str(log), max_bytes=1000)
    assert len(text) <= 1000
    assert text.endswith("last line\n")
    assert read_tail(str(tmp_path / "not-yet.log")) == ""
    with pytest.raises(ValueError, match="is a directory"):
        read_tail(str(tmp_path))


def test_tail_lines_are_limited_in_count_and_width() -> None:
    text = "\n".join("line %d %s" % (i, "y" * 500) for i in range(10))
    result = summarize_progress(text, lines=2)
    assert len(result["tail"]) == 2
    assert result["tail"][-1].startswith("line 9") and len(result["tail"][-1]) == 300
    assert summarize_progress(text, lines=0)["tail"] == []


def test_wait_for_file(tmp_path: Path) -> None:
    target = tmp_path / "step.log.rc"
    assert wait_for_file(str(target), 0.2, interval=0.05) is False
    target.write_text("0\n", encoding="utf-8")
    assert wait_for_file(str(target), 5) is True
