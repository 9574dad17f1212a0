# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Proposers of candidate fixes for one build error, each a unified diff against the current tree.

* ``retrieval``: the curated records nearest to the error (Okapi BM25 over the error
  text, category and code), each record's edit carried over onto the current code
  where the lines it changed are found (with the name it was about renamed to the
  current one).
* ``template``: edits mined from the records (fix_templates), ranked by support.
* ``model``: an OpenAI-compatible chat endpoint, prompted with the error, the code
  and the retrieved examples, at temperature 0. Skipped when no URL is configured.

Every proposer is deterministic for the same records and tree (ties broken by record
order and id), so a second run proposes the same candidates in the same order.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import fix_templates
from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer
from ansible_collections.autoport.zos.plugins.module_utils import openai_http
from ansible_collections.autoport.zos.plugins.module_utils.eval_retrieval import Bm25Index
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import scrub_text

PROPOSERS = ("retrieval", "template", "model")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")
_DIFF_BLOCK = re.compile(r"```(?:diff|patch)?\s*\n(.*?)```", re.S)
MODEL_TIMEOUT = 120.0
SYSTEM_PROMPT = ("You port C programs to z/OS. Given a build error and the code, answer with one unified diff "
                 "(--- a/<file> and +++ b/<file> lines) in a ```diff block that fixes the error, and nothing else.")


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


def propose_retrieval(context: dict, index: Bm25Index, limit: int) -> list:
    """Records nearest to the error, their edits carried over (see the module doc)."""
    token = context.get("token")
    found = []
    for record, score in index.search_tokens(_query(context), max(limit * 4, limit)):
        old_token = fix_transfer.key_token(record.get("error") or "")
        groups = []
        for before, removed, added, after in fix_transfer.hunk_groups(record.get("patch") or ""):
            groups.append(tuple(fix_transfer.rename(part, old_token, token) for part in (before, removed, added, after)))
        if not groups:
            continue
        for path, text in _targets(context, record):
            new = fix_transfer.apply_groups(text, groups)
            if new is not None:
                note = "record %s (%s, %s; score %.2f)" % (record.get("id", "?")[:12], record.get("port"), record.get("patch_file"), score)
                made = _candidate("retrieval", "record:%s" % record.get("id"), [(path, new)], context["files"], note)
                if made:
                    made["invented"] = invented_value(groups, token, old_token)
                    found.append(made)
                break
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


def prompt_messages(context: dict, examples: list) -> list:
    """The chat messages for the model: the error, the code around it, retrieved examples."""
    diag = context["diag"]
    parts = []
    for record in examples:
        parts.append("Example fix for: %s\n```diff\n%s```" % (record.get("error") or "", record.get("patch") or ""))
    parts.append("Error in %s (%s): %s" % (context.get("file") or "?", diag.get("category") or "other", diag.get("message") or ""))
    parts.append("Code of %s around line %s:\n```\n%s\n```" % (context.get("file") or "?", diag.get("line") or "?", context.get("excerpt") or ""))
    # Nothing secret reaches a model prompt: the code and messages are scrubbed first.
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": scrub_text("\n\n".join(parts))[0]}]


def chat_completion(url: str, model: str, messages: list, api_key: str = "", timeout: float = MODEL_TIMEOUT, seed: int = 0) -> str:
    """One answer from POST {url}/chat/completions at temperature 0 (kept small: the evaluate
    stage uses the same client, openai_http)."""
    body = {"model": model, "messages": messages, "temperature": 0, "seed": seed, "max_tokens": 1024}
    try:
        raw = openai_http.post_json(url, "/chat/completions", body, api_key, timeout)
        return json.loads(raw.decode("utf-8"))["choices"][0]["message"]["content"]
    except openai_http.OpenAIHTTPError as exc:
        raise ProposeError("model %s" % exc)
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProposeError("model endpoint gave no chat completion: %s" % exc)


def propose_model(context: dict, examples: list, endpoint: dict, limit: int) -> list:
    """The model's diff(s) for the error; [] when no endpoint URL is configured."""
    if not endpoint or not endpoint.get("url") or limit <= 0:
        return []
    text = chat_completion(endpoint["url"], endpoint.get("model") or "default", prompt_messages(context, examples),
                           endpoint.get("api_key") or "", float(endpoint.get("timeout") or MODEL_TIMEOUT))
    found = []
    bare = re.search(r"^(?:diff --git |--- ).*", text, re.S | re.M)
    for block in _DIFF_BLOCK.findall(text) or ([bare.group(0)] if bare else []):
        diff = block if block.endswith("\n") else block + "\n"
        found.append({"proposer": "model", "origin": "model:%s" % (endpoint.get("model") or "default"), "diff": diff,
                      "files": [], "note": "model answer"})
        if len(found) >= limit:
            break
    return found


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

    def propose(self, context: dict, limit: int) -> tuple:
        """(candidates, problems): at most ``limit`` distinct diffs, proposers in order; a proposer
        that fails adds a problem (its reason) and the others go on."""
        found, problems, seen = [], [], set()
        for name in self.enabled:
            try:
                if name == "retrieval":
                    made = propose_retrieval(context, self.index, limit)
                elif name == "template":
                    made = propose_templates(context, self.templates, limit)
                else:
                    examples = [record for record, _score in self.index.search_tokens(_query(context), self.examples)]
                    made = propose_model(context, examples, self.endpoint, 1)
            except ProposeError as exc:
                problems.append("%s: %s" % (name, exc))
                continue
            for candidate in made:
                if candidate["diff"] not in seen:
                    seen.add(candidate["diff"])
                    found.append(candidate)
        return found[:limit] if len(self.enabled) == 1 else _interleave(found, self.enabled, limit), problems


def _interleave(found: list, order: list, limit: int) -> list:
    """Take candidates round-robin over the proposers so one cannot use up the budget."""
    queues = {name: [c for c in found if c["proposer"] == name] for name in order}
    picked = []
    while len(picked) < limit and any(queues.values()):
        for name in order:
            if queues[name] and len(picked) < limit:
                picked.append(queues[name].pop(0))
    return picked
