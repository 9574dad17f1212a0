# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The scores of one answer and the figures of a whole run.

Reading an answer: the corrected code is the fenced block after "Corrected code:" (the
trained answer format), else the last fenced block; "The fix removes this code" is an
empty fix. Scoring: whitespace-normalised equality, ``git apply --check`` of the edit as
a unified diff, difflib similarity. Figures: per system, category and port, with 95%
bootstrap intervals, computed from predictions.jsonl lines alone (summarize()).
Standard library only: the scoring runs on the AI host.
"""

from __future__ import annotations

import difflib
import os
import random
import re
import tempfile
from typing import Any, Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import git_local
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import CATEGORY_DESCRIPTIONS

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)
_LABEL = re.compile(r"corrected code\s*:?", re.I)
_REMOVES = re.compile(r"the fix removes this code", re.I)
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@", re.M)
_CATEGORY_NAME = re.compile(r"\b(%s)\b" % "|".join(re.escape(name) for name in sorted(CATEGORY_DESCRIPTIONS, key=len, reverse=True)))
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 11
METRICS = ("exact", "exact_at_k", "applies", "edit_gain", "category_match")


def normalise_code(code: str | None) -> str:
    """Code compared without its layout: blank lines dropped, runs of white space made one space."""
    lines = (" ".join(line.split()) for line in (code or "").splitlines())
    return "\n".join(line for line in lines if line)


def similarity(a: str | None, b: str | None) -> float:
    """difflib ratio of the normalised texts (1.0 equal, 0.0 nothing shared)."""
    left, right = normalise_code(a), normalise_code(b)
    if not left and not right:
        return 1.0
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


def extract_code(answer: str | None) -> tuple[str | None, str]:
    """(corrected code, '') or (None, why the answer cannot be read)."""
    if answer is None or not answer.strip():
        return None, "empty answer"
    blocks = [(match.start(), match.group("body")) for match in _FENCE.finditer(answer)]
    label = None
    for match in _LABEL.finditer(answer):
        label = match.end()
    if blocks:
        after = [body for start, body in blocks if label is not None and start >= label]
        body = after[0] if after else blocks[-1][1]
        return body.rstrip("\n") + "\n" if body.strip() else "", ""
    if _REMOVES.search(answer):
        return "", ""
    if "```" in answer or "~~~" in answer:
        return None, "unterminated code block"
    return None, "no fenced code block in the answer"


def predict_category(answer: str | None) -> str | None:
    """The category an answer names: the trained description it repeats, else a category name it writes."""
    text = answer or ""
    for name, description in CATEGORY_DESCRIPTIONS.items():
        if description.split(". ", maxsplit=1)[0] in text:
            return name
    match = _CATEGORY_NAME.search(text)
    return match.group(1) if match else None


def _safe_path(path: str) -> str:
    parts = [part for part in (path or "").replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or "file"


def _lines(text: str) -> list[str]:
    return (text if text.endswith("\n") or not text else text + "\n").splitlines(True)


def _locate(needle: list[str], haystack: list[str]) -> int | None:
    stripped = [line.rstrip() for line in haystack]
    wanted = [line.rstrip() for line in needle]
    for start in range(0, len(haystack) - len(needle) + 1):
        if stripped[start:start + len(needle)] == wanted:
            return start
    return None


def unified_diff(path: str, wrong: str, answer: str, offset: int = 0) -> str:
    """The edit wrong -> answer as a git-style unified diff, hunks moved down by offset lines."""
    diff = "".join(difflib.unified_diff(_lines(wrong), _lines(answer), "a/" + path, "b/" + path, n=3))

    def shift(match: re.Match) -> str:
        return "@@ -%d%s +%d%s @@" % (int(match.group(1)) + offset, match.group(2) or "", int(match.group(3)) + offset, match.group(4) or "")

    return _HUNK.sub(shift, diff) if offset else diff


def applies_check(path: str, wrong: str, answer: str, source: str | None = None, git: str = "git") -> dict:
    """{'applies': bool, 'reason': str}: does the edit wrong -> answer apply to the file before the fix?"""
    if normalise_code(answer) == normalise_code(wrong):
        return {"applies": False, "reason": "no edit"}
    name = _safe_path(path)
    basis = source if source is not None else wrong
    offset = 0
    if source is not None:
        found = _locate(_lines(wrong), _lines(source))
        if found is None:
            return {"applies": False, "reason": "wrong_code is not in the upstream file"}
        offset = found
    patch = unified_diff(name, wrong, answer, offset)
    with tempfile.TemporaryDirectory(prefix="autoport-apply-") as root:
        target = os.path.join(root, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(basis if basis.endswith("\n") or not basis else basis + "\n")
        with open(os.path.join(root, ".fix.patch"), "w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            handle.write(patch)
        try:
            result = git_local.run(["apply", "--check", ".fix.patch"], cwd=root, env=os.environ, timeout=60, program=git)
        except git_local.GitError as exc:
            return {"applies": False, "reason": "git apply could not run: %s" % exc}
    if result.returncode == 0:
        return {"applies": True, "reason": ""}
    return {"applies": False, "reason": " ".join(result.stderr.decode("utf-8", "replace").split())[:300]}


def _value(line: Mapping[str, Any], metric: str) -> float | None:
    value = line.get(metric)
    if metric == "category_match":
        return None if value is None else float(bool(value))
    if value is None:
        return 0.0
    return float(value) if not isinstance(value, bool) else float(value)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def bootstrap_ci(values: list[float], samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float | None, float | None]:
    """95% percentile bootstrap interval of the mean, deterministic for a given seed."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    rng = random.Random(seed)
    count = len(values)
    means = sorted(sum(values[rng.randrange(count)] for _draw in range(count)) / count for _sample in range(samples))
    return means[int(0.025 * samples)], means[min(samples - 1, int(0.975 * samples))]


def metric_summary(lines: list[Mapping[str, Any]]) -> dict:
    """Mean and 95% interval of every metric over the scored (non-skipped) lines of one group."""
    usable = [line for line in lines if line.get("status") != "skipped"]
    out: dict[str, Any] = {"items": len(usable), "skipped": len(lines) - len(usable)}
    for metric in METRICS:
        values = [v for v in (_value(line, metric) for line in usable) if v is not None]
        low, high = bootstrap_ci(values)
        out[metric] = {"mean": mean(values), "low": low, "high": high, "n": len(values)}
    out["unreadable"] = sum(1 for line in usable if line.get("status") == "unreadable")
    out["errors"] = sum(1 for line in usable if line.get("status") == "error")
    return out


def _grouped(lines: Iterable[Mapping[str, Any]], *keys: str) -> dict:
    groups: dict = {}
    for line in lines:
        groups.setdefault(tuple(line.get(key) for key in keys), []).append(line)
    return groups


def speed(lines: list[Mapping[str, Any]]) -> dict:
    asked = [line for line in lines if line.get("status") != "skipped"]
    seconds = sum(float(line.get("seconds") or 0.0) for line in asked)
    tokens = sum(int(line.get("completion_tokens") or 0) for line in asked)
    request_seconds = sum(float(line.get("request_seconds") or 0.0) for line in asked)
    return {
        "seconds": round(seconds, 3),
        "seconds_per_item": round(seconds / len(asked), 4) if asked else None,
        "items_per_second": round(len(asked) / seconds, 3) if seconds > 0 else None,
        "completion_tokens": tokens,
        "tokens_per_second": round(tokens / request_seconds, 2) if tokens and request_seconds > 0 else None,
    }


def differences(lines: list[Mapping[str, Any]], first: str, second: str, count: int = 10) -> list[dict]:
    """The items where two systems differ most: exact first, then the edit_gain gap."""
    by_item = _grouped([line for line in lines if line.get("status") != "skipped"], "item")
    rows = []
    for (item,), group in by_item.items():
        mine = {line["system"]: line for line in group}
        if first not in mine or second not in mine:
            continue
        a, b = mine[first], mine[second]
        gap = (float(bool(a.get("exact"))) - float(bool(b.get("exact"))), float(a.get("edit_gain") or 0.0) - float(b.get("edit_gain") or 0.0))
        rows.append(
            {
                "item": item,
                "id": a.get("id"),
                "port": a.get("port"),
                "file": a.get("file"),
                "category": a.get("category"),
                first: {"exact": bool(a.get("exact")), "edit_gain": a.get("edit_gain"), "status": a.get("status")},
                second: {"exact": bool(b.get("exact")), "edit_gain": b.get("edit_gain"), "status": b.get("status")},
                "gap": gap,
            }
        )
    rows.sort(key=lambda row: (-abs(row["gap"][0]), -abs(row["gap"][1]), row["item"]))
    return [row for row in rows if row["gap"] != (0.0, 0.0)][:count]


def summarize(lines: list[Mapping[str, Any]]) -> dict:
    """Every figure of the report, from predictions.jsonl lines alone."""
    systems = []
    for line in lines:
        if line.get("system") not in systems:
            systems.append(line.get("system"))
    by_system = _grouped(lines, "system")
    summary: dict[str, Any] = {
        "systems": systems,
        "items": len({line.get("item") for line in lines}),
        "overall": {},
        "by_category": {},
        "by_port": {},
        "speed": {},
    }
    summary["skipped"] = sorted({(line.get("item"), line.get("reason")) for line in lines if line.get("status") == "skipped"})
    for (system,), group in by_system.items():
        summary["overall"][system] = metric_summary(group)
        summary["speed"][system] = speed(group)
    for key, name in (("category", "by_category"), ("port", "by_port")):
        for (value, system), group in sorted(_grouped(lines, key, "system").items(), key=lambda kv: (str(kv[0][0]), systems.index(kv[0][1]))):
            summary[name].setdefault(str(value), {})[system] = metric_summary(group)
    pair = ("tuned", "base") if {"tuned", "base"} <= set(systems) else None
    summary["differences"] = {"systems": list(pair), "items": differences(lines, *pair)} if pair else {"systems": [], "items": []}
    return summary
