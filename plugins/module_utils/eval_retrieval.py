# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The retrieval baseline: the nearest training record by error text and code (Okapi BM25),
and its fix carried over to the new code when the code it fixed is found there.

Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Callable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import normalise_code

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")
K1 = 1.2
B = 0.75


def tokens(record: Mapping[str, Any]) -> list[str]:
    """Words of a record's error, file name and code before the fix (punctuation kept: '#', '<')."""
    text = "\n".join(str(record.get(key) or "") for key in ("error", "file", "wrong_code"))
    return _TOKEN.findall(text)


class Bm25Index:
    """Okapi BM25 over the training records (k1 1.2, b 0.75)."""

    def __init__(self, records: list[Mapping[str, Any]], tokenize: Callable[[Mapping[str, Any]], list[str]] = tokens) -> None:
        """``tokenize`` makes a record's words (the auto-port proposer adds the category)."""
        self.records = list(records)
        self.docs = []
        frequency: dict[str, int] = {}
        for record in self.records:
            counts: dict[str, int] = {}
            for token in tokenize(record):
                counts[token] = counts.get(token, 0) + 1
            self.docs.append((counts, sum(counts.values())))
            for token in counts:
                frequency[token] = frequency.get(token, 0) + 1
        total = len(self.docs)
        self.average = (sum(length for _counts, length in self.docs) / total) if total else 0.0
        self.idf = {token: math.log(1.0 + (total - n + 0.5) / (n + 0.5)) for token, n in frequency.items()}

    def search(self, record: Mapping[str, Any], count: int = 1) -> list[tuple[Mapping[str, Any], float]]:
        """The count best training records for a record, best first; ties keep the training order."""
        return self.search_tokens(tokens(record), count)

    def search_tokens(self, query_tokens: list[str], count: int = 1) -> list[tuple[Mapping[str, Any], float]]:
        """The count best records for a list of query words, best first: [(record, score)]."""
        if count <= 0 or not self.docs:
            return []
        query = set(query_tokens)
        scored = []
        for position, (counts, length) in enumerate(self.docs):
            weight = 0.0
            for token in query:
                tf = counts.get(token)
                if tf:
                    weight += self.idf[token] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (self.average or 1.0)))
            if weight > 0:
                scored.append((-weight, position))
        scored.sort()
        return [(self.records[position], -negative) for negative, position in scored[:count]]


def _find(block: list[str], lines: list[str]) -> int | None:
    wanted = [line.strip() for line in block]
    stripped = [line.strip() for line in lines]
    for start in range(0, len(lines) - len(block) + 1):
        if stripped[start:start + len(block)] == wanted:
            return start
    return None


def transfer_lines(wrong: str, old_wrong: str, old_correct: str) -> tuple[list[str], int]:
    """The record's lines with each edit of old_wrong -> old_correct made where its lines are found.

    A replaced or deleted block is replaced where the same lines (ignoring indentation) are; an
    insertion goes after the same preceding line (or before the same following line).
    Returns (lines, number of edits carried over)."""
    lines = wrong.splitlines()
    before, after = old_wrong.splitlines(), old_correct.splitlines()
    carried = 0
    opcodes = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag == "equal":
            continue
        if tag in ("replace", "delete"):
            where = _find(before[i1:i2], lines)
            if where is not None:
                lines[where:where + (i2 - i1)] = after[j1:j2]
                carried += 1
            continue
        # A blank line anchors nothing: it is everywhere.
        anchor = _find(before[i1 - 1:i1], lines) if i1 > 0 and before[i1 - 1].strip() else None
        if anchor is not None:
            lines[anchor + 1:anchor + 1] = after[j1:j2]
            carried += 1
            continue
        following = _find(before[i1:i1 + 1], lines) if i1 < len(before) and before[i1].strip() else None
        if following is not None:
            lines[following:following] = after[j1:j2]
            carried += 1
    return lines, carried


def transfer_fix(record: Mapping[str, Any], neighbour: Mapping[str, Any]) -> tuple[str, str]:
    """(code, how): the neighbour's fix applied to the record's code where the code it fixed is found."""
    wrong = record["wrong_code"]
    if normalise_code(neighbour.get("wrong_code")) == normalise_code(wrong):
        return neighbour.get("correct_code") or "", "same code: its corrected code taken as it is"
    lines, carried = transfer_lines(wrong, neighbour.get("wrong_code") or "", neighbour.get("correct_code") or "")
    if not carried:
        return wrong, "none of the lines it changed is in this code: nothing carried over"
    return "\n".join(lines) + ("\n" if wrong.endswith("\n") else ""), "%d of its edits carried over where the same lines are" % carried
