# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Does a model fix porting errors it has never seen? Ask it, read its answer, score it.

For every record of a test set (ports not in the training set) each system answers:
``unchanged`` (the code as it was: the floor), ``retrieval`` (the nearest training record's
fix, transferred when its code matches), and models reached through one OpenAI-compatible
endpoint (``base``, ``tuned``, and ``tuned_rag`` with retrieved examples in the prompt).
The prompt is the one the model was trained with (fix_text.messages_example). The corrected
code is taken out of the answer and scored:

- ``exact``: equal to the record's correct_code after whitespace normalisation (``exact_at_k``
  over k samples);
- ``applies``: the edit wrong_code -> answer, as a unified diff, passes ``git apply --check``
  on the file before the fix (the port's upstream tree when given, else wrong_code itself);
- ``edit_gain``: similarity(answer, correct) - similarity(wrong, correct) (difflib ratio);
- ``category_match``: the category named by the answer against the record's.

Every item and system gives one line of predictions.jsonl; an answer the extractor cannot
read, an endpoint error and an unusable record are kept with their reason.
Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import jsonl, openai_http
from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import (
    applies_check,
    extract_code,
    normalise_code,
    predict_category,
    similarity,
)
from ansible_collections.autoport.zos.plugins.module_utils.eval_retrieval import Bm25Index, transfer_fix
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import SYSTEM_PROMPT, fix_answer, fix_context, fix_question

SYSTEM_KINDS = ("unchanged", "retrieval", "model")
MAX_LINE_BYTES = 4 * 1024 * 1024
# Consecutive transport failures after which a model system is not asked again in this run.
BREAKER = 3


class EvaluateError(Exception):
    """The evaluation cannot run at all; the message names the input."""


class EndpointError(Exception):
    """One request to a model endpoint failed; the message is the item's reason."""


def read_records(path: str, required: bool = True) -> tuple[list[dict], list[dict]]:
    """(usable records, [{'line', 'reason', 'record'}] unusable ones) of a JSONL file, read
    by the collection's one bounded reader (jsonl)."""
    usable: list[dict] = []
    unusable: list[dict] = []
    try:
        for line in jsonl.read_jsonl(path, MAX_LINE_BYTES):
            reason = line.reason if line.value is None else record_problem(line.value)
            if reason is None:
                usable.append(line.value)
            else:
                unusable.append({"line": line.number, "reason": reason, "record": line.value})
    except jsonl.JsonlError as exc:
        if not required:
            return [], []
        raise EvaluateError("%s: cannot be read (%s)" % (path, exc))
    return usable, unusable


def record_problem(record: Any) -> str | None:
    """Why a record cannot be evaluated, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key in ("wrong_code", "correct_code"):
        if not isinstance(record.get(key), str):
            return "no %s" % key
    if not record["wrong_code"].strip() and not record["correct_code"].strip():
        return "wrong_code and correct_code are both empty"
    if normalise_code(record["wrong_code"]) == normalise_code(record["correct_code"]):
        return "correct_code equals wrong_code (nothing to fix)"
    return None


def prompt_messages(record: Mapping[str, Any], examples: Iterable[Mapping[str, Any]] = (), system_prompt: str = SYSTEM_PROMPT) -> list[dict]:
    """The chat the model was trained with; retrieved examples become earlier turns."""
    messages = [{"role": "system", "content": system_prompt}]
    for example in examples:
        messages.append({"role": "user", "content": fix_context(example) + "\n\n" + fix_question(example)})
        messages.append({"role": "assistant", "content": fix_answer(example)})
    messages.append({"role": "user", "content": fix_context(record) + "\n\n" + fix_question(record)})
    return messages


# Stop strings of the ilab training format (roles/evaluate/files/http_chat.py, the chat check, uses the same).
ILAB_STOP = ["<|endoftext|>", "<|user|>", "<|system|>", "<|im_end|>"]
PROMPT_FORMATS = ("chat", "ilab")


def ilab_prompt(messages: list[dict]) -> str:
    """The text format `ilab model train` taught the student: <|system|>, <|user|>, <|assistant|> turns."""
    return "".join("<|%s|>\n%s\n" % (m["role"], m["content"]) for m in messages) + "<|assistant|>\n"


def chat_completion(
    url: str,
    model: str,
    messages: list[dict],
    decoding: Mapping[str, Any],
    api_key: str = "",
    timeout: float = 120.0,
    prompt_format: str = "chat",
) -> dict:
    """One answer: POST {url}/chat/completions (the server applies the model's chat template), or with
    prompt_format ilab POST {url}/completions with the ilab text prompt. Returns {'text', 'completion_tokens', 'seconds'}."""
    if prompt_format == "ilab":
        body = {"model": model, "prompt": ilab_prompt(messages), "stop": ILAB_STOP}
        path = "/completions"
    else:
        body = {"model": model, "messages": messages}
        path = "/chat/completions"
    body.update({k: v for k, v in decoding.items() if v is not None})
    started = time.monotonic()
    try:
        raw = openai_http.post_json(url, path, body, api_key, timeout)
    except openai_http.OpenAIHTTPError as exc:
        raise EndpointError(str(exc))
    seconds = time.monotonic() - started
    try:
        data = json.loads(raw.decode("utf-8"))
        choice = data["choices"][0]
        text = choice["text"] if prompt_format == "ilab" else choice["message"]["content"]
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError):
        raise EndpointError("endpoint returned no %s (not OpenAI JSON): %r" % ("completion" if prompt_format == "ilab" else "chat completion", raw[:120]))
    if not isinstance(text, str):
        raise EndpointError("endpoint returned a non-text answer: %r" % (text,))
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tokens = usage.get("completion_tokens")
    return {"text": text, "completion_tokens": tokens if isinstance(tokens, int) else None, "seconds": round(seconds, 3)}


def score(record: Mapping[str, Any], codes: list[str | None], source: str | None) -> dict:
    """The metrics of one item's k answers (None: an answer with no readable code)."""
    wrong = record["wrong_code"]
    correct = record["correct_code"]
    target = normalise_code(correct)
    baseline = similarity(wrong, correct)
    first = codes[0] if codes else None
    exacts = [code is not None and normalise_code(code) == target for code in codes]
    applied = applies_check(record.get("file") or "file", wrong, first, source) if first is not None else {"applies": False, "reason": "no code"}
    gain = (similarity(first, correct) - baseline) if first is not None else 0.0
    return {
        "exact": bool(exacts and exacts[0]),
        "exact_at_k": any(exacts),
        "k": len(codes),
        "applies": applied["applies"],
        "applies_reason": applied.get("reason", ""),
        "edit_gain": round(gain, 6),
        "baseline_similarity": round(baseline, 6),
    }


def _item_base(index: int, record: Mapping[str, Any], system: str) -> dict:
    return {
        "item": index,
        "id": record.get("id"),
        "port": record.get("port") or "?",
        "file": record.get("file") or "",
        "category": record.get("error_category") or "other",
        "system": system,
    }


def answer_unchanged(record: Mapping[str, Any], **_: Any) -> dict:
    return {"answers": [""], "codes": [record["wrong_code"]], "reasons": [""], "prompt": None}


def answer_retrieval(record: Mapping[str, Any], index: Bm25Index, **_: Any) -> dict:
    hits = index.search(record, 1)
    if not hits:
        return {"answers": ["no training record shares a word with this item"], "codes": [record["wrong_code"]], "reasons": [""], "prompt": None}
    neighbour, weight = hits[0]
    code, how = transfer_fix(record, neighbour)
    answer = "nearest training record %s (%s, score %.3f): %s" % (neighbour.get("id"), neighbour.get("port"), weight, how)
    return {
        "answers": [answer],
        "codes": [code],
        "reasons": [""],
        "prompt": None,
        "predicted_category": neighbour.get("error_category"),
        "neighbour": neighbour.get("id"),
    }


def answer_model(record: Mapping[str, Any], system: Mapping[str, Any], index: Bm25Index | None, decoding: Mapping[str, Any], breaker: dict, **_: Any) -> dict:
    examples = [hit for hit, _weight in index.search(record, int(system.get("rag_examples") or 0))] if index is not None and system.get("rag_examples") else []
    messages = prompt_messages(record, examples)
    answers: list[str] = []
    codes: list[str | None] = []
    reasons: list[str] = []
    tokens = 0
    seconds = 0.0
    for sample in range(int(decoding.get("samples", 1))):
        if breaker.get("open"):
            answers.append("")
            codes.append(None)
            reasons.append("not asked: %s" % breaker["open"])
            continue
        request = {"temperature": decoding.get("temperature", 0.0), "max_tokens": decoding.get("max_tokens"), "seed": int(decoding.get("seed", 0)) + sample}
        try:
            reply = chat_completion(
                system["url"], system.get("model") or system["name"], messages, request, system.get("api_key") or "",
                float(decoding.get("timeout", 120)), system.get("prompt_format") or "chat",
            )
        except EndpointError as exc:
            breaker["failures"] = breaker.get("failures", 0) + 1
            if breaker["failures"] >= BREAKER:
                breaker["open"] = "%d requests in a row failed, last: %s" % (breaker["failures"], exc)
            answers.append("")
            codes.append(None)
            reasons.append(str(exc))
            continue
        breaker["failures"] = 0
        tokens += reply["completion_tokens"] or 0
        seconds += reply["seconds"]
        code, reason = extract_code(reply["text"])
        answers.append(reply["text"])
        codes.append(code)
        reasons.append(reason)
    return {
        "answers": answers,
        "codes": codes,
        "reasons": reasons,
        "prompt": messages,
        "predicted_category": predict_category(answers[0]) if answers and answers[0] else None,
        "completion_tokens": tokens,
        "request_seconds": round(seconds, 3),
        "examples": [example.get("id") for example in examples],
    }


def _status(result: Mapping[str, Any]) -> tuple[str, str]:
    reasons = result.get("reasons") or [""]
    if result["codes"] and result["codes"][0] is not None:
        return "scored", reasons[0]
    first = reasons[0] or "no answer"
    if first.startswith(("endpoint", "not asked")):
        return "error", first
    return "unreadable", first


def evaluate_item(index: int, record: dict, system: Mapping[str, Any], context: Mapping[str, Any]) -> dict:
    """One prediction line: the system's answer to the record, and its scores."""
    started = time.monotonic()
    kind = system["kind"]
    if kind == "unchanged":
        result = answer_unchanged(record)
    elif kind == "retrieval":
        result = answer_retrieval(record, context["index"])
    else:
        search = context["index"] if system.get("rag_examples") else None
        result = answer_model(record, system, search, context["decoding"], context["breakers"].setdefault(system["name"], {}))
    status, reason = _status(result)
    line = _item_base(index, record, system["name"])
    line.update({"status": status, "reason": reason, "prompt": result.get("prompt"), "answers": result["answers"], "codes": result["codes"]})
    source = source_file(context["sources"], record)
    line.update(score(record, list(result["codes"]) if status == "scored" else [None], source))
    line["applies_basis"] = "upstream" if source is not None else "wrong_code"
    line["exact_at_k"] = any(c is not None and normalise_code(c) == normalise_code(record["correct_code"]) for c in result["codes"])
    predicted = result.get("predicted_category")
    line["predicted_category"] = predicted
    line["category_match"] = None if predicted is None else predicted == line["category"]
    for key in ("completion_tokens", "request_seconds", "neighbour", "examples"):
        if key in result:
            line[key] = result[key]
    line["wrong_code"] = record["wrong_code"]
    line["correct_code"] = record["correct_code"]
    line["seconds"] = round(time.monotonic() - started, 3)
    return line


def skipped_lines(unusable: list[dict], systems: list[Mapping[str, Any]], first_index: int) -> list[dict]:
    """Unusable records stay in predictions.jsonl, once per system, with their reason."""
    lines = []
    for offset, bad in enumerate(unusable):
        record = bad["record"] or {}
        for system in systems:
            line = _item_base(first_index + offset, record, system["name"])
            line.update({"status": "skipped", "reason": "test line %d: %s" % (bad["line"], bad["reason"])})
            lines.append(line)
    return lines


def check_systems(systems: list[Mapping[str, Any]]) -> None:
    names = set()
    for system in systems:
        name = system.get("name")
        if not name or name in names:
            raise EvaluateError("every system needs a unique name (got %r)" % name)
        names.add(name)
        if system.get("kind") not in SYSTEM_KINDS:
            raise EvaluateError("system %s: kind must be one of %s" % (name, ", ".join(SYSTEM_KINDS)))
        if system["kind"] == "model" and not system.get("url"):
            raise EvaluateError("system %s: a model system needs the url of an OpenAI-compatible endpoint" % name)
        if (system.get("prompt_format") or "chat") not in PROMPT_FORMATS:
            raise EvaluateError("system %s: prompt_format must be chat or ilab" % name)


def evaluate(
    records_path: str,
    train_path: str,
    systems: list[Mapping[str, Any]],
    decoding: Mapping[str, Any],
    sources: Mapping[str, str] | None = None,
    limit: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Every prediction line of a run: usable items x systems, then unusable items x systems."""
    check_systems(systems)
    usable, unusable = read_records(records_path)
    if limit:
        usable = usable[:limit]
    if not usable:
        reasons = sorted({bad["reason"] for bad in unusable})
        raise EvaluateError(
            "%s: no usable item (%d lines unusable%s)" % (records_path, len(unusable), (": " + "; ".join(reasons[:5])) if reasons else ", the file is empty")
        )
    train, _bad_train = read_records(train_path, required=any(s["kind"] == "retrieval" or s.get("rag_examples") for s in systems))
    test_ids = {record.get("id") for record in usable}
    # A training record that is also a test record would make retrieval look better than it is.
    index = Bm25Index([record for record in train if record.get("id") not in test_ids])
    context = {"index": index, "decoding": decoding, "breakers": {}, "sources": dict(sources or {})}
    lines = []
    for system in systems:
        for number, record in enumerate(usable):
            lines.append(evaluate_item(number, record, system, context))
            if progress:
                progress("%s %d/%d" % (system["name"], number + 1, len(usable)))
    lines.extend(skipped_lines(unusable, systems, len(usable)))
    return lines


def predictions_jsonl(lines: list[dict]) -> bytes:
    return b"".join(json.dumps(line, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


def source_file(sources: Mapping[str, str], record: Mapping[str, Any]) -> str | None:
    """The file before the fix from the port's upstream tree, when one is given for the port."""
    root = sources.get(record.get("port") or "")
    name = record.get("file") or ""
    if not root or not name or os.path.isabs(name) or ".." in name.split("/"):
        return None
    path = os.path.join(root, name)
    try:
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except OSError:
        return None
