# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Score message_classify on labelled real messages (JSON lines).

Each line: ``message``, ``msg_id`` (or null), ``follow_up`` (bool), ``categories`` (the
accepted categories; empty when any is accepted, as for follow-ups) and ``source``.
A message counts as right when its follow-up flag matches and, if categories are given,
its category is one of them. ``score`` runs one id mode of message_classify.classify
("table", "family", "none") so the id table can be compared with wording alone.

Standard library only.
"""

from __future__ import annotations

from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils.message_classify import classify, parse_message_id
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES
from ansible_collections.autoport.zos.plugins.module_utils.zos_message_ids import documented


def load_messages(path: str) -> list:
    """The labelled messages of a JSON-lines file; ValueError naming the file and line when one is malformed."""
    entries = []
    for line in jsonl.read_jsonl(path):
        problem = line.reason if line.value is None else _problem(line.value)
        if problem:
            raise ValueError("%s line %d: %s" % (path, line.number, problem))
        entries.append(line.value)
    return entries


def _problem(entry) -> str | None:
    if not isinstance(entry, dict):
        return "not an object"
    if not isinstance(entry.get("message"), str) or not entry["message"].strip():
        return "no message"
    if not isinstance(entry.get("follow_up"), bool):
        return "follow_up is not true or false"
    categories = entry.get("categories")
    if not isinstance(categories, list) or any(category not in CATEGORIES for category in categories):
        return "categories must be a list of record categories"
    return None


def score(entries: list, ids: str = "table", with_code: bool = False) -> dict:
    """Counts and accuracies of classify on labelled messages; ``wrong`` lists the misses.

    ``with_code`` passes each entry's ``msg_id`` as the known id (as build_log does);
    otherwise the id is found in the text.
    """
    right = category_right = follow_up_right = in_table = 0
    wrong = []
    for entry in entries:
        code = entry.get("msg_id") if with_code else None
        category, follow_up = classify(entry["message"], code, None, ids)
        accepted = entry["categories"]
        category_ok = not accepted or category in accepted
        follow_up_ok = follow_up == entry["follow_up"]
        category_right += category_ok
        follow_up_right += follow_up_ok
        if category_ok and follow_up_ok:
            right += 1
        else:
            wrong.append({"message": entry["message"], "category": category, "follow_up": follow_up,
                          "accepted": accepted, "expected_follow_up": entry["follow_up"]})
        if documented(parse_message_id(entry.get("msg_id") or entry["message"])) is not None:
            in_table += 1
    total = len(entries)
    return {
        "ids": ids, "items": total, "right": right, "category_right": category_right, "follow_up_right": follow_up_right,
        "accuracy": right / total if total else 0.0, "ids_in_table": in_table, "wrong": wrong,
    }
