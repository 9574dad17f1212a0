# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Synthetic samples that cannot teach a fix are set aside before training, each with its reason.

`ilab data generate` keeps samples whose question or answer is empty, and answers that
explain without giving the corrected code. Both formats it writes are read: the legacy
lines of the simple pipeline ({"system", "user", "assistant"}) and messages lines
({"messages": [{"role", "content"}, ...]}). A rejected line keeps its line number, its
reason and the sample itself.
Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import extract_code

MAX_LINE_BYTES = 4 * 1024 * 1024


class SampleError(Exception):
    """The generated file cannot be read; the message names it."""


def _turns(sample: dict) -> list[tuple[str, Any]]:
    if isinstance(sample.get("messages"), list):
        return [(m.get("role"), m.get("content")) if isinstance(m, dict) else ("?", None) for m in sample["messages"]]
    return [("user", sample.get("user")), ("assistant", sample.get("assistant"))]


def sample_problem(sample: Any, require_code: bool = True) -> str | None:
    """Why a generated sample should not be trained on, or None."""
    if not isinstance(sample, dict):
        return "not a JSON object"
    turns = [(role, content) for role, content in _turns(sample) if role in ("user", "assistant", "?")]
    roles = [role for role, _content in turns]
    if "user" not in roles or "assistant" not in roles:
        return "no user turn or no assistant turn"
    for role, content in turns:
        if not isinstance(content, str) or not content.strip():
            return "empty %s turn" % role
    if require_code:
        answer = [content for role, content in turns if role == "assistant"][-1]
        code, reason = extract_code(answer)
        if code is None:
            return "answer without corrected code (%s)" % reason
    return None


def filter_samples(path: str, require_code: bool = True) -> tuple[list[bytes], list[dict]]:
    """(kept raw lines, rejected [{'line', 'reason', 'sample'}]) of a generated JSONL file,
    read by the collection's one bounded reader (jsonl); kept lines stay byte for byte."""
    kept: list[bytes] = []
    rejected: list[dict] = []
    try:
        for number, raw in jsonl.raw_lines(path, MAX_LINE_BYTES):
            line = jsonl.parse_line(number, raw, MAX_LINE_BYTES)
            reason = line.reason if line.value is None else sample_problem(line.value, require_code)
            if reason is None and raw is not None:
                kept.append(raw if raw.endswith(b"\n") else raw + b"\n")
            else:
                rejected.append({"line": number, "reason": reason, "sample": line.value})
    except jsonl.JsonlError as exc:
        raise SampleError("%s: cannot be read (%s)" % (path, exc))
    return kept, rejected


def rejected_jsonl(rejected: list[dict]) -> bytes:
    return b"".join(json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n" for item in rejected)


def count_reasons(rejected: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in rejected:
        # The kind of reason, without its detail ("not JSON: ...", "... (no fenced code block)").
        key = item["reason"].split(" (")[0].split(": ")[0]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
