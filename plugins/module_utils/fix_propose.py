# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Proposers of candidate fixes for one build error, each a unified diff against the current tree.

* ``retrieval``: the curated records nearest to the error (Okapi BM25 over the error
  text, category and code; records about the same name as the error, the symbol or
  header it names, ranked first), each record's edit carried over onto the current
  code where the lines it changed are found (with the name it was about renamed to
  the current one).
* ``template``: edits mined from the records (fix_templates), ranked by support.
* ``model``: an OpenAI-compatible endpoint asked the way the model was trained
  (``prompt_format`` ``chat``: the training messages to /chat/completions; ``ilab``:
  the ilab text format to /completions), with the error, the code and the retrieved
  examples as earlier turns, at temperature 0; asked after the others, and skipped
  when no URL is configured.
* ``reuse`` (always first): a fix the rebuild proved earlier in the same run for the
  same diagnostic (category and name), carried over onto the new error's code.

Every proposer is deterministic for the same records and tree (ties broken by record
order and id), so a second run proposes the same candidates in the same order.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import fix_evaluate
from ansible_collections.autoport.zos.plugins.module_utils import fix_templates
from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer
from ansible_collections.autoport.zos.plugins.module_utils import openai_http
from ansible_collections.autoport.zos.plugins.module_utils.eval_retrieval import Bm25Index
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_text

PROPOSERS = ("retrieval", "template", "model")
# Who may have proposed a candidate in a report: a proposer, or "reuse" (a fix proven earlier in the run).
CANDIDATE_SOURCES = PROPOSERS + ("reuse",)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")
_DIFF_BLOCK = re.compile(r"```(?:diff|patch)?\s*\n(.*?)```", re.S)
MODEL_TIMEOUT = 120.0
MAX_TOKENS = 512


class ProposeError(Exception):
    """A proposer that cannot run as configured (bad endpoint answer, ...); the message says which."""


def _tokens(*texts) -> list:
    return _TOKEN.findall("\n".join(str(text or "") for text in texts))


def _record_tokens(record: dict) -> list:
    """The words a record is found by: error, category, file name and code before the fix."""
    return _tokens(record.get("error"), record.get("error_category"), record.get("file"), record.get("wrong_code"))


def bm25_index(records: list) -> Bm25Index:
    """The evaluation's BM25 index (eval_retrieval) over records, with the auto-port's words."""
    return Bm25Index(records, tokenize=_record_tokens)


def _candidate(proposer: str, origin: str, changes: list, files: dict, note: str) -> dict | None:
    diff = "".join(fix_transfer.unified_diff(path, files[path], new) for path, new in changes)
    if not diff:
        return None
    return {"proposer": proposer, "origin": origin, "diff": diff, "files": sorted(path for path, _new in changes), "note": note}


def _query(context: dict) -> list:
    diag = context["diag"]
    return _tokens(diag.get("message"), diag.get("category"), diag.get("file"), context.get("excerpt"))


def name_tier(record: dict, token: str | None) -> int:
    """0 when a record is about the same name as the error (its key name), 1 when its error or
    patch mentions the name, 2 otherwise: what ranks records about the same symbol or header first."""
    if not token:
        return 2
    if fix_transfer.key_token(record.get("error") or "") == token:
        return 0
    words = set(_tokens(record.get("error"), record.get("patch")))
    parts = [part for part in re.split(r"[^A-Za-z0-9_]+", token) if part]
    return 1 if parts and all(part in words for part in parts) else 2


def ranked_records(context: dict, index: Bm25Index, count: int) -> list:
    """[(record, score)]: the BM25 ranking of every matching record, re-ranked so that records about
    the error's name come first (name_tier), BM25 order kept within a tier; the first ``count``."""
    token = context.get("token")
    hits = index.search_tokens(_query(context), len(index.records))
    ordered = sorted(enumerate(hits), key=lambda item: (name_tier(item[1][0], token), item[0]))
    return [hit for _position, hit in ordered[:count]]


def carry_over(record: dict, context: dict, proposer: str, origin: str, note: str) -> dict | None:
    """A record's edit (the first hunk of its patch) made on the diagnosed file, or on a file named like
    the record's, with the name it was about renamed to the error's; None when its lines are not found."""
    token = context.get("token")
    old_token = fix_transfer.key_token(record.get("error") or "")
    groups = []
    for before, removed, added, after in fix_transfer.hunk_groups(record.get("patch") or ""):
        groups.append(tuple(fix_transfer.rename(part, old_token, token) for part in (before, removed, added, after)))
    if not groups:
        return None
    for path, text in _targets(context, record):
        new = fix_transfer.apply_groups(text, groups)
        if new is not None:
            made = _candidate(proposer, origin, [(path, new)], context["files"], note)
            if made:
                made["invented"] = invented_value(groups, token, old_token)
            return made
    return None


def propose_retrieval(context: dict, index: Bm25Index, limit: int) -> list:
    """Records nearest to the error (same name first), their edits carried over (see the module doc)."""
    found = []
    for record, score in ranked_records(context, index, max(limit * 4, limit)):
        note = "record %s (%s, %s; score %.2f)" % (str(record.get("id", "?"))[:12], record.get("port"), record.get("patch_file"), score)
        made = carry_over(record, context, "retrieval", "record:%s" % record.get("id"), note)
        if made:
            found.append(made)
        if len(found) >= limit:
            break
    return found


def signature(diag: dict, token: str | None) -> tuple:
    """What makes two diagnostics the same for reuse: the category and the name they are about
    (or, without a name, the message with its file and line taken off)."""
    message = re.sub(r"^\S+?:\d+(?::\d+)?:\s*", "", diag.get("message") or "")
    return (diag.get("category") or "other", token or message)


def propose_reuse(context: dict, proven: list, limit: int) -> list:
    """Fixes a rebuild proved earlier in this run for the same diagnostic (signature), carried over
    onto this error's code: asked before every proposer."""
    wanted = signature(context["diag"], context.get("token"))
    found = []
    for fix in proven:
        if fix["signature"] != wanted:
            continue
        record = {"error": fix["error"], "patch": fix["diff"], "file": fix.get("file")}
        note = "fix of error %d in this run (by %s)" % (fix["error_number"], fix["proposer"])
        made = carry_over(record, context, "reuse", "run:error-%d" % fix["error_number"], note)
        if made:
            found.append(made)
        if len(found) >= limit:
            break
    return found


def invented_value(groups: list, token: str | None, old_token: str | None) -> str | None:
    """Why an edit is made up, or None: it #defines the name the error is about with a value a
    record gave another name (M_PI's 3.14159... for ARG_MAX compiles, and is wrong)."""
    if not token or not old_token or token == old_token:
        return None
    pattern = re.compile(r"^\s*#\s*define\s+%s\s+\S" % re.escape(token))
    if any(pattern.match(line) for group in groups for line in group[2]):
        return "defines %s with the value a record gave %s" % (token, old_token)
    return None


def _targets(context: dict, record: dict) -> list:
    """Files a record's edit may go to: the diagnosed file, then files named like the record's."""
    files = context["files"]
    diagnosed = context.get("file")
    name = os.path.basename(record.get("file") or "")
    ordered = [diagnosed] if diagnosed in files else []
    ordered += sorted(path for path in files if path != diagnosed and (path == record.get("file") or os.path.basename(path) == name))
    return [(path, files[path]) for path in ordered]


def propose_templates(context: dict, templates: fix_templates.TemplateSet, limit: int) -> list:
    """Template edits for the error's category about its key name, best supported first."""
    found = []
    token = context.get("token")
    for key, op in templates.ranked(context["diag"].get("category") or "other", token):
        changes = fix_templates.instantiate(op, token, context["files"])
        if not changes:
            continue
        note = "template %s (%d ports)" % (key[1], templates.support[key])
        made = _candidate("template", "template:%s:%s" % key, changes, context["files"], note)
        if made:
            if op["kind"] == "guard_define" and token not in templates.tokens_of(key):
                made["invented"] = "defines %s with the value a record gave another name (%s)" % (token, op["value"])
            found.append(made)
        if len(found) >= limit:
            break
    return found


def model_record(context: dict) -> dict:
    """The error as a record, the shape the model was trained on (fix_text: fix_context, fix_question)."""
    diag = context["diag"]
    phase = diag.get("phase") if diag.get("phase") in ("bootstrap", "configure", "build", "check") else "build"
    return {"port": context.get("port") or "", "file": context.get("file") or "", "phase": phase, "provenance": "build",
            "toolchain": context.get("toolchain") or "", "error": diag.get("message") or "",
            "error_category": diag.get("category") or "other", "wrong_code": context.get("excerpt") or ""}


def prompt_messages(context: dict, examples: list) -> list:
    """The messages the model was trained with (fix_evaluate.prompt_messages: the training system prompt,
    each retrieved example as an earlier user/assistant turn, then the error and its code)."""
    messages = fix_evaluate.prompt_messages(model_record(context), [dict(example) for example in examples])
    # Nothing secret reaches a model prompt: the code and messages are scrubbed first.
    return [dict(message, content=scrub_text(message["content"])[0]) for message in messages]


def model_request(context: dict, examples: list, prompt_format: str = "chat") -> tuple:
    """(path, body) of the request: ``chat`` POSTs the messages to /chat/completions (the server applies
    the model's chat template), ``ilab`` POSTs the text format `ilab model train` taught the student
    (<|system|>, <|user|>, <|assistant|>) to /completions; temperature 0, a fixed seed."""
    if prompt_format not in fix_evaluate.PROMPT_FORMATS:
        raise ProposeError("model_prompt_format must be chat or ilab, got %r" % (prompt_format,))
    messages = prompt_messages(context, examples)
    decoding = {"temperature": 0, "seed": 0, "max_tokens": int(context.get("max_tokens") or MAX_TOKENS)}
    if prompt_format == "ilab":
        return "/completions", dict(decoding, prompt=fix_evaluate.ilab_prompt(messages), stop=list(fix_evaluate.ILAB_STOP))
    return "/chat/completions", dict(decoding, messages=messages)


def ask_model(endpoint: dict, path: str, body: dict) -> str:
    """The answer text of one request (kept small: the evaluate stage uses the same client, openai_http)."""
    body = dict(body, model=endpoint.get("model") or "default")
    try:
        raw = openai_http.post_json(endpoint["url"], path, body, endpoint.get("api_key") or "", float(endpoint.get("timeout") or MODEL_TIMEOUT))
        choice = json.loads(raw.decode("utf-8"))["choices"][0]
        text = choice["text"] if path == "/completions" else choice["message"]["content"]
    except openai_http.OpenAIHTTPError as exc:
        raise ProposeError("model %s" % exc)
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProposeError("model endpoint gave no completion: %s" % exc)
    if not isinstance(text, str):
        raise ProposeError("model endpoint gave a non-text answer")
    return text


def answer_candidates(text: str, context: dict, model: str) -> list:
    """Candidates from an answer: each diff block it holds, else its corrected code put in place of
    the code around the error (the training answer's "Corrected code:" block)."""
    origin = "model:%s" % (model or "default")
    bare = re.search(r"^(?:diff --git |--- ).*", text, re.S | re.M)
    blocks = [block for block in _DIFF_BLOCK.findall(text) if re.search(r"^(?:--- |@@ )", block, re.M)] or ([bare.group(0)] if bare else [])
    if blocks:
        return [{"proposer": "model", "origin": origin, "diff": block if block.endswith("\n") else block + "\n", "files": [], "note": "model answer (diff)"}
                for block in blocks[:1]]
    code, _reason = fix_evaluate.extract_code(text)
    path = context.get("file")
    if not code or not path or path not in context["files"] or "excerpt_start" not in context:
        return []
    lines = context["files"][path].split("\n")
    start = context["excerpt_start"]
    end = start + len(context["excerpt"].split("\n"))
    new = "\n".join(lines[:start] + code.rstrip("\n").split("\n") + lines[end:])
    made = _candidate("model", origin, [(path, new)], context["files"], "model answer (corrected code)")
    return [made] if made else []


def propose_model(context: dict, examples: list, endpoint: dict, limit: int) -> list:
    """The model's candidate for the error; [] when no endpoint URL is configured."""
    if not endpoint or not endpoint.get("url") or limit <= 0:
        return []
    path, body = model_request(dict(context, max_tokens=endpoint.get("max_tokens")), examples, endpoint.get("prompt_format") or "chat")
    return answer_candidates(ask_model(endpoint, path, body), context, endpoint.get("model") or "default")[:limit]


class Proposers(object):
    """The proposers the loop asks, in order, built once from the curated records."""

    def __init__(self, records: list, enabled: list, endpoint: dict | None = None, examples: int = 3):
        unknown = [name for name in enabled if name not in PROPOSERS]
        if unknown:
            raise ProposeError("proposers: unknown %s (expected some of %s)" % (", ".join(unknown), ", ".join(PROPOSERS)))
        self.enabled = [name for name in PROPOSERS if name in enabled]
        self.index = bm25_index(records)
        self.templates = fix_templates.TemplateSet(records)
        self.endpoint = endpoint or {}
        self.examples = examples

    def examples_for(self, context: dict) -> list:
        """The retrieved examples the model sees: the nearest records, those about the same name first."""
        return [record for record, _score in ranked_records(context, self.index, self.examples)]

    def model_candidates(self, context: dict, problems: list) -> list:
        """The model's candidate (at most one), or [] with the reason added to ``problems``."""
        if "model" not in self.enabled:
            return []
        try:
            return propose_model(context, self.examples_for(context), self.endpoint, 1)
        except ProposeError as exc:
            problems.append("model: %s" % exc)
            return []

    def propose(self, context: dict, limit: int, proven: list | tuple = (), model: bool = True) -> tuple:
        """(candidates, problems): at most ``limit`` distinct diffs. First the fixes proven earlier in
        this run for the same diagnostic (``proven``, see propose_reuse), then retrieval and templates
        round-robin, then (with ``model``) the model's. A proposer that fails adds a problem (its
        reason) and the others go on."""
        problems, seen = [], set()
        reused = _distinct(propose_reuse(context, list(proven), limit), seen)
        found = []
        for name in self.enabled:
            try:
                if name == "retrieval":
                    found += propose_retrieval(context, self.index, limit)
                elif name == "template":
                    found += propose_templates(context, self.templates, limit)
            except ProposeError as exc:
                problems.append("%s: %s" % (name, exc))
        cheap = [name for name in self.enabled if name != "model"]
        picked = (reused + _interleave(_distinct(found, seen), cheap, limit))[:limit]
        if model and len(picked) < limit:
            picked += _distinct(self.model_candidates(context, problems), seen)
        return picked[:limit], problems


def _distinct(candidates: list, seen: set) -> list:
    """The candidates whose diff is not in ``seen`` (which they are added to), in order."""
    kept = []
    for candidate in candidates:
        if candidate["diff"] not in seen:
            seen.add(candidate["diff"])
            kept.append(candidate)
    return kept


def _interleave(found: list, order: list, limit: int) -> list:
    """Take candidates round-robin over the proposers so one cannot use up the budget."""
    queues = {name: [c for c in found if c["proposer"] == name] for name in order}
    picked = []
    while len(picked) < limit and any(queues.values()):
        for name in order:
            if queues[name] and len(picked) < limit:
                picked.append(queues[name].pop(0))
    return picked
