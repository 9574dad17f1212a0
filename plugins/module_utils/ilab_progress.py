# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Progress of a long InstructLab step, read from the tail of its log file.

The roles start `ilab data generate`, `ilab model train` and the conversion with
`async`/`poll: 0` and loop on `async_status`; between polls they print what this module
finds at the end of the step's log: the last tqdm bar (samples generated, training
step), the last training loss, the elapsed time and the last log lines.

Standard library only: this runs on the AI host. Logs may hold anything (binary junk,
terminal escapes, carriage-return progress bars); they are decoded leniently and never
read beyond a bounded tail.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

TAIL_BYTES = 64 * 1024
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# "gen_skill_freeform Prompt Generation:  40%|####      | 2/5 [00:31<00:47, ...]"
TQDM = re.compile(r"(?P<label>[^|\r\n]*?):?\s*(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<done>\d+)/(?P<total>\d+)")
# HF Trainer: {'loss': 2.1234, 'grad_norm': ..., 'epoch': 0.5} and the final {'train_loss': ...}
LOSS = re.compile(r"['\"](?P<key>train_loss|loss)['\"]\s*:\s*(?P<value>[-+0-9.eE]+|nan|inf)")
SECRETISH = re.compile(r"(?i)(api[_-]?key|token|password|secret)(\s*[=:]\s*)(\S+)")


def clean_text(raw: bytes) -> str:
    """Decode leniently, drop terminal escapes and NULs, keep the last state of \\r-redrawn lines."""
    text = raw.decode("utf-8", errors="replace").replace("\x00", "")
    text = ANSI.sub("", text)
    lines = []
    for line in text.split("\n"):
        segments = [segment for segment in line.split("\r") if segment.strip()]
        lines.append(segments[-1] if segments else "")
    return "\n".join(lines)


def read_tail(path: str, max_bytes: int = TAIL_BYTES) -> str:
    """The cleaned last max_bytes of path; empty when the file does not exist (yet)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            raw = handle.read(max_bytes)
    except FileNotFoundError:
        return ""
    except IsADirectoryError:
        raise ValueError("%s is a directory, not a log file" % path)
    return clean_text(raw)


def redact(line: str) -> str:
    """Hide values that look like credentials before a line reaches the Ansible output."""
    return SECRETISH.sub(lambda m: m.group(1) + m.group(2) + "***", line)


def read_losses(text: str) -> tuple[list[float], float | None]:
    """The step losses the Hugging Face Trainer printed, in order, and its final train_loss (None when not printed)."""
    step_losses = []
    train_loss = None
    for match in LOSS.finditer(text):
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        if match.group("key") == "train_loss":
            train_loss = value
        else:
            step_losses.append(value)
    return step_losses, train_loss


def summarize_progress(text: str, started_at: float | None = None, now: float | None = None, lines: int = 3) -> dict[str, Any]:
    """What the operator wants to see between polls.

    Returns {"bar": {"label", "done", "total", "percent"} or None, "loss": float or None,
    "train_loss": float or None, "elapsed_s": int or None, "tail": [last lines],
    "summary": one line}.
    """
    bars = list(TQDM.finditer(text))
    progress_bar = None
    if bars:
        last = bars[-1]
        progress_bar = {
            "label": last.group("label").strip() or "progress",
            "done": int(last.group("done")),
            "total": int(last.group("total")),
            "percent": int(last.group("pct")),
        }
    step_losses, train_loss = read_losses(text)
    loss = step_losses[-1] if step_losses else None
    tail = [redact(line.rstrip())[:300] for line in text.splitlines() if line.strip()][-lines:] if lines > 0 else []
    elapsed = None
    if started_at:
        elapsed = int((now if now is not None else time.time()) - started_at)
    parts = []
    if progress_bar:
        parts.append("%s %d/%d (%d%%)" % (progress_bar["label"], progress_bar["done"], progress_bar["total"], progress_bar["percent"]))
    if train_loss is not None:
        parts.append("train_loss %.4f" % train_loss)
    elif loss is not None:
        parts.append("loss %.4f" % loss)
    if elapsed is not None:
        parts.append("elapsed %dm%02ds" % (elapsed // 60, elapsed % 60))
    if not parts and tail:
        parts.append(tail[-1][:160])
    return {
        "bar": progress_bar,
        "loss": loss,
        "train_loss": train_loss,
        "elapsed_s": elapsed,
        "tail": tail,
        "summary": " | ".join(parts) if parts else "waiting for output",
    }


def wait_for_file(path: str, seconds: float, interval: float = 1.0) -> bool:
    """Sleep until path exists or seconds pass; True when it exists."""
    deadline = time.time() + max(0.0, seconds)
    while True:
        if os.path.exists(path):
            return True
        if time.time() >= deadline:
            return False
        time.sleep(min(interval, max(0.0, deadline - time.time())) or interval)
