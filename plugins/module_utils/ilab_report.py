# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The run report of an InstructLab training run: what was generated, kept, learnt and answered.

Reads what `ilab data generate` leaves in its output folder (one folder per run with
generated_*/ raw LLM outputs, train_*.jsonl and messages_*.jsonl kept for training,
test_*.jsonl seed examples), the training log (Hugging Face Trainer prints
{'loss': ...} and a final {'train_loss': ...}) and the chat check's JSON transcript,
and writes report.json plus a short report.md.

Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Any, Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed as _write_bytes_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.ilab_progress import clean_text, read_losses

MAX_LOG_BYTES = 8 * 1024 * 1024
MAX_LINE_BYTES = 4 * 1024 * 1024


class ReportError(Exception):
    """An input of the report is unusable; the message names it."""


def count_jsonl(path: str) -> tuple[int, int]:
    """(valid JSON object lines, invalid lines) of a JSONL file. Blank lines are ignored."""
    valid = invalid = 0
    try:
        for line in jsonl.read_jsonl(path, MAX_LINE_BYTES):
            if line.value is None:
                invalid += 1
            else:
                valid += 1
    except jsonl.JsonlError as exc:
        raise ReportError("%s: cannot be read (%s)" % (path, exc))
    return valid, invalid


def _sum_lines(paths: Iterable[str]) -> tuple[int, int]:
    valid = invalid = 0
    for path in paths:
        good, bad = count_jsonl(path)
        valid += good
        invalid += bad
    return valid, invalid


def latest_generation_dir(datasets_dir: str) -> str | None:
    """The newest run folder `ilab data generate` wrote (holding train_*.jsonl), or None."""
    candidates = [os.path.dirname(p) for p in glob.glob(os.path.join(datasets_dir, "*", "train_*.jsonl"))]
    candidates += [datasets_dir] if glob.glob(os.path.join(datasets_dir, "train_*.jsonl")) else []
    if not candidates:
        return None
    return max(set(candidates), key=lambda d: (os.path.getmtime(d), d))


def summarize_generation(run_dir: str) -> dict[str, Any]:
    """Counts of one generation run: seeds, raw generated samples, kept (train), rejected, test."""
    if not os.path.isdir(run_dir):
        raise ReportError("%s: generation output folder does not exist" % run_dir)

    def files(pattern: str) -> list[str]:
        return sorted(glob.glob(os.path.join(run_dir, pattern)))

    train_files = files("train_*.jsonl")
    if not train_files:
        raise ReportError("%s: no train_*.jsonl (did `ilab data generate` finish?)" % run_dir)
    seeds = _sum_lines(files("preprocessed_*/*.jsonl"))[0]
    generated, generated_bad = _sum_lines(files("generated_*/*.jsonl"))
    kept, kept_bad = _sum_lines(train_files)
    test = _sum_lines(files("test_*.jsonl"))[0]
    messages = _sum_lines(files("messages_*.jsonl"))[0]
    empty = 0
    for line in jsonl.read_jsonl(train_files[-1], MAX_LINE_BYTES):
        item = line.value
        if item is not None and not (str(item.get("user") or "").strip() and str(item.get("assistant") or "").strip()):
            empty += 1
    return {
        "run_dir": run_dir,
        "seed_examples": seeds,
        "generated": generated,
        "kept": kept,
        # Raw outputs the pipeline dropped (filters, duplicates, unparsable answers).
        "rejected": max(generated - kept, 0) + generated_bad + kept_bad,
        "kept_with_empty_turn": empty,
        "messages": messages,
        "test": test,
        "train_file": train_files[-1],
        "test_file": (files("test_*.jsonl") or [""])[-1],
    }


def parse_training_log(path: str) -> dict[str, Any]:
    """Losses the Hugging Face Trainer printed: every step loss, the final train_loss."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            handle.seek(max(0, size - MAX_LOG_BYTES))
            text = clean_text(handle.read(MAX_LOG_BYTES))
    except OSError as exc:
        raise ReportError("%s: training log cannot be read (%s)" % (path, exc.strerror or exc))
    losses, train_loss = read_losses(text)
    return {"step_losses": losses, "train_loss": train_loss, "final_loss": train_loss if train_loss is not None else (losses[-1] if losses else None)}


def read_transcript(path: str) -> dict[str, Any]:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReportError("%s: chat transcript is not readable JSON (%s)" % (path, exc))
    if not isinstance(data, dict):
        raise ReportError("%s: chat transcript is not a JSON object" % path)
    return data


def build_report(
    generation: Mapping[str, Any],
    training: Mapping[str, Any],
    chat: Mapping[str, Any],
    settings: Mapping[str, Any],
    steps: Mapping[str, Any],
    sample_filter: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        # Samples set aside before training by ilab_sample_filter (empty turn, no corrected code).
        "filter": dict(sample_filter or {}),
        "format": 1,
        "samples": {k: generation.get(k) for k in ("seed_examples", "generated", "kept", "rejected", "kept_with_empty_turn", "test")},
        "training": {
            "final_loss": training.get("final_loss"),
            "train_loss": training.get("train_loss"),
            "steps_logged": len(training.get("step_losses") or []),
        },
        "chat": {k: chat.get(k) for k in ("question", "answer", "model", "seconds", "tokens")},
        "settings": dict(settings),
        "steps": dict(steps),
    }


def render_markdown(report: Mapping[str, Any]) -> str:
    samples = report.get("samples", {})
    training = report.get("training", {})
    chat = report.get("chat", {})
    lines = [
        "# InstructLab run report",
        "",
        "| samples | count |",
        "| --- | --- |",
    ]
    for key in ("seed_examples", "generated", "kept", "rejected", "kept_with_empty_turn", "test"):
        lines.append("| %s | %s |" % (key.replace("_", " "), samples.get(key)))
    sample_filter = report.get("filter") or {}
    if sample_filter.get("rejected") is not None:
        lines += [
            "",
            "Set aside before training (rule `%s`): %s of %s, kept %s." % (
                sample_filter.get("rule"), sample_filter.get("rejected"),
                int(sample_filter.get("rejected") or 0) + int(sample_filter.get("kept") or 0), sample_filter.get("kept")),
        ]
        for reason, count in sorted((sample_filter.get("reasons") or {}).items()):
            lines.append("- %s: %s" % (reason, count))
    loss = training.get("final_loss")
    lines += ["", "Training loss: %s" % ("%.4f" % loss if isinstance(loss, (int, float)) else "not reported"), ""]
    steps = report.get("steps") or {}
    if steps:
        lines += ["| step | ran | seconds |", "| --- | --- | --- |"]
        for name, info in steps.items():
            info = info if isinstance(info, Mapping) else {}
            lines.append("| %s | %s | %s |" % (name, info.get("ran"), info.get("seconds")))
        lines.append("")
    lines += ["## Chat check", "", "Model: %s" % chat.get("model"), "", "**Q:** %s" % chat.get("question"), "", "**A:** %s" % chat.get("answer"), ""]
    return "\n".join(lines)


def write_if_changed(path: str, text: str, check_mode: bool = False) -> bool:
    """The shared atomic write (atomic_file) for UTF-8 text, its error as a ReportError naming path."""
    try:
        return _write_bytes_if_changed(path, text.encode("utf-8"), check_mode)
    except OutputError as exc:
        raise ReportError(str(exc))
