# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Render curated fix records as an InstructLab taxonomy (version 3).

For every category with enough usable records:

- a compositional skill, ``compositional_skills/<root>/<category>/qna.yaml``: grounded
  examples (context = the error and the wrong code, or for a static record what its
  patch changes; question = how to fix or port it; answer = the explanation and the
  corrected code), chosen for diversity of port, file and message;
- a knowledge leaf, ``knowledge/<root>/<category>/qna.yaml``, whose markdown document is
  committed to the local ``docs_repo`` and referenced by ``file://`` URL, commit and
  pattern (see knowledge_doc for the limits it keeps);
- ``attribution.txt`` beside each leaf naming the port repositories and their licences.

A category with fewer usable records than a leaf needs gets no leaf and is reported in
``skipped`` with the reason; nothing is padded or invented. Every qna.yaml is checked
against instructlab-schema and InstructLab's yamllint rules before it is written
(taxonomy_yaml). Files are written only when their bytes differ, stale leaves under the
root are removed, and the taxonomy folder (a git repository) gets one commit per render
that changed something. In check mode nothing is written, initialised or committed.
"""

from __future__ import annotations

import collections
import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import git_local, jsonl
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import remove_if_present, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import (
    category_title,
    change_facts,
    fix_answer,
    fix_context,
    fix_question,
    is_static,
)
from ansible_collections.autoport.zos.plugins.module_utils.knowledge_doc import CODE_LINE_STEPS, KnowledgeBudgetError, build_knowledge, fix_section, section_qna
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES
from ansible_collections.autoport.zos.plugins.module_utils.taxonomy_yaml import (
    KNOWLEDGE_QNA_INDENT,
    MAX_LINE,
    TaxonomyFileError,
    clean_text,
    longest_line,
    render_qna,
    wrap_prose,
)
from ansible_collections.autoport.zos.plugins.module_utils.taxonomy_yaml import missing_libraries as yaml_missing_libraries

KINDS = ("skills", "knowledge")
SKILLS_FOLDER = "compositional_skills"
KNOWLEDGE_FOLDER = "knowledge"
# A record whose code is longer than this is a poor seed (and would be cut): not used.
MAX_EXAMPLE_CODE_LINES = 30
MAX_LINE_BYTES = 1024 * 1024
PLACEHOLDER_COMMIT = "0" * 40
# Prose is wrapped to this width; code lines cannot be wrapped and may use the rest of the
# line up to the yamllint limit at the deepest block (knowledge answers).
PROSE_WIDTH = 100

DEFAULTS = {
    "taxonomy_root": "zos_porting",
    "kinds": list(KINDS),
    "docs_repo": None,
    "created_by": "autoport-zos",
    "domain": "Porting software to z/OS",
    "examples_per_leaf": 5,
    "contexts_per_doc": 5,
    "qna_per_context": 3,
    "doc_max_fixes": 20,
    "licenses": {},
    "repo_base_url": "https://github.com/zopencommunity",
    "commit": True,
}

_ROOT_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class QnaRenderError(Exception):
    """Bad options or inputs; the message names them."""


def missing_libraries() -> list[tuple[str, Exception]]:
    return yaml_missing_libraries()


# ---------------------------------------------------------------------------
# Options and input


def _check_options(options: dict) -> dict:
    merged = dict(DEFAULTS)
    merged.update(dict((key, value) for key, value in options.items() if value is not None))
    for name in ("src", "taxonomy_dir"):
        if not merged.get(name):
            raise QnaRenderError("%s is required" % name)
    root = str(merged["taxonomy_root"]).strip("/")
    parts = root.split("/")
    if not root or any(not _ROOT_PART.match(part) for part in parts):
        raise QnaRenderError("taxonomy_root %r must be one or more simple names (letters, digits, '_', '-', '.') joined by '/'" % merged["taxonomy_root"])
    merged["taxonomy_root"] = root
    kinds = merged["kinds"]
    if isinstance(kinds, str):
        kinds = [kinds]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise QnaRenderError("kinds must be a non-empty list of %s, got %r" % (", ".join(KINDS), kinds))
    merged["kinds"] = [kind for kind in KINDS if kind in kinds]
    if "knowledge" in merged["kinds"] and not merged.get("docs_repo"):
        raise QnaRenderError("docs_repo is required to render knowledge (the documents are committed there)")
    if merged.get("docs_repo") and os.path.realpath(merged["docs_repo"]) == os.path.realpath(merged["taxonomy_dir"]):
        raise QnaRenderError("docs_repo must be another repository than taxonomy_dir")
    for name, minimum in (("examples_per_leaf", 5), ("contexts_per_doc", 5), ("qna_per_context", 3), ("doc_max_fixes", 5)):
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise QnaRenderError("%s must be an integer of at least %d (InstructLab's minimum), got %r" % (name, minimum, value))
    if merged["doc_max_fixes"] < merged["contexts_per_doc"]:
        raise QnaRenderError("doc_max_fixes (%d) must be at least contexts_per_doc (%d)" % (merged["doc_max_fixes"], merged["contexts_per_doc"]))
    for name in ("created_by", "domain"):
        value = merged[name]
        if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 100:
            raise QnaRenderError("%s must be one line of 1 to 100 characters" % name)
    if not isinstance(merged["licenses"], dict):
        raise QnaRenderError("licenses must map port names to licence names")
    return merged


def records_path(src: str) -> str:
    """The records file to render: src itself, or train.jsonl inside a curated folder
    (rendering only the train split keeps the test ports out of the taxonomy)."""
    if os.path.isdir(src):
        path = os.path.join(src, "train.jsonl")
        if not os.path.isfile(path):
            raise QnaRenderError("src %s is a folder without train.jsonl; name the records file" % src)
        return path
    if not os.path.isfile(src):
        raise QnaRenderError("src %s does not exist" % src)
    return src


MAX_REJECTED_LINES = 100
# What the renderer reads from each record. The records were scrubbed and validated by
# dataset_curate (docs/architecture.md); a line that is not a record of this shape (a
# hand-edited or truncated file) is left out with its reason, never re-scrubbed here.
_RENDERED_FIELDS = ("id", "wrong_code", "correct_code", "error", "patch", "port", "patch_file", "file", "provenance")


def _render_problem(value) -> str | None:
    """Why a parsed JSON line cannot be rendered, or None."""
    if not isinstance(value, dict):
        return "a JSON %s, not a record object" % type(value).__name__
    missing = [name for name in _RENDERED_FIELDS + ("error_category",) if name not in value]
    if missing:
        return "missing field%s %s" % ("s" if len(missing) > 1 else "", ", ".join(missing))
    wrong = [name for name in _RENDERED_FIELDS if not isinstance(value[name], str)]
    if wrong:
        return "field%s %s not text" % ("s" if len(wrong) > 1 else "", ", ".join(wrong))
    if value["error_category"] not in CATEGORIES:
        return "error_category is not one of the categories"
    return None


def read_records(path: str) -> tuple[list[dict], list[dict]]:
    """Records of a curated JSONL file (read by the one bounded reader, jsonl) and the lines
    left out, each ``{line, kind, reason}`` (never the line's text)."""
    records = []
    rejected = []
    try:
        for line in jsonl.read_jsonl(path, MAX_LINE_BYTES):
            if line.value is None:
                rejected.append({"line": line.number, "kind": line.kind, "reason": line.reason})
                continue
            problem = _render_problem(line.value)
            if problem:
                rejected.append({"line": line.number, "kind": "not a record", "reason": problem})
                continue
            records.append(line.value)
    except jsonl.JsonlError as exc:
        raise QnaRenderError(str(exc))
    unique = collections.OrderedDict((record["id"], record) for record in records)
    return list(unique.values()), rejected


# ---------------------------------------------------------------------------
# Selection


def _skill_texts(record: dict) -> tuple[str, str, str]:
    width = PROSE_WIDTH
    context = wrap_prose(clean_text(fix_context(record, MAX_EXAMPLE_CODE_LINES, error_width=width)), width) + "\n"
    question = wrap_prose(clean_text(fix_question(record)), width) + "\n"
    answer = wrap_prose(clean_text(fix_answer(record, MAX_EXAMPLE_CODE_LINES)), width) + "\n"
    return context, question, answer


def unusable_reason(record: dict) -> str | None:
    """Why a record cannot be a seed example, or None when it can."""
    wrong = clean_text(record.get("wrong_code", ""))
    correct = clean_text(record.get("correct_code", ""))
    if not wrong.strip() and not correct.strip():
        return "no code before or after the fix"
    if max(len(wrong.splitlines()), len(correct.splitlines())) > MAX_EXAMPLE_CODE_LINES:
        return "code longer than %d lines" % MAX_EXAMPLE_CODE_LINES
    texts = list(_skill_texts(record))
    texts.append(_knowledge_clean(fix_section(record, CODE_LINE_STEPS[0])))
    texts.extend(_knowledge_clean(pair["answer"]) for pair in section_qna(record, CODE_LINE_STEPS[0], 10))
    # Every text must fit at the deepest block of the YAML (knowledge answers).
    if max(longest_line(text) for text in texts) > MAX_LINE - KNOWLEDGE_QNA_INDENT:
        return "a line longer than %d characters" % (MAX_LINE - KNOWLEDGE_QNA_INDENT)
    return None


def usable_records(members: list[dict]) -> tuple[list[dict], collections.Counter]:
    """(records that can be seed examples, Counter of why the others cannot)."""
    usable = []
    reasons = collections.Counter()
    places = set()
    hunks = set()
    for record in sorted(members, key=lambda r: (r.get("provenance") != "build", r["id"])):
        # The same fix twice (a build and a static view of one hunk, when the records were
        # not curated) would give two near-identical seed examples.
        hunk = (record["port"], record["patch_file"], record.get("hunk"), record.get("file"))
        place = hunk + (record.get("error"),)
        if place in places or (is_static(record) and hunk in hunks):
            reasons["another record of the same hunk"] += 1
            continue
        places.add(place)
        hunks.add(hunk)
        reason = unusable_reason(record)
        if reason:
            reasons[reason] += 1
        else:
            usable.append(record)
    return usable, reasons


def _message_key(record: dict) -> str:
    if is_static(record):
        return "change:" + "; ".join(change_facts(record))
    text = re.sub(r"\S*[/\\]\S*|\d+", "", record.get("error", "").splitlines()[0] if record.get("error") else "")
    return "error:" + " ".join(text.split())[:100]


def select_diverse(records: list[dict], count: int) -> list[dict]:
    """count records that differ as much as possible in port, file, message, phase and
    toolchain (greedy, deterministic: ties go to build records, then shorter, then id)."""
    candidates = sorted(records, key=lambda r: (r.get("provenance") != "build", len(r.get("wrong_code", "")) + len(r.get("correct_code", "")), r["id"]))
    messages = dict((record["id"], _message_key(record)) for record in candidates)
    chosen = []
    seen = collections.defaultdict(set)
    while candidates and len(chosen) < count:
        best = None
        best_score = None
        for index, record in enumerate(candidates):
            score = (
                (record["port"] not in seen["port"]) * 4
                + (record.get("file") not in seen["file"]) * 3
                + (messages[record["id"]] not in seen["message"]) * 3
                + (record.get("phase") not in seen["phase"])
                + (record.get("toolchain") not in seen["toolchain"])
            )
            if best_score is None or score > best_score:
                best, best_score = index, score
        record = candidates.pop(best)
        chosen.append(record)
        seen["port"].add(record["port"])
        seen["file"].add(record.get("file"))
        seen["message"].add(messages[record["id"]])
        seen["phase"].add(record.get("phase"))
        seen["toolchain"].add(record.get("toolchain"))
    return chosen


# ---------------------------------------------------------------------------
# Leaves


def task_description(category: str) -> str:
    return (
        "Fix %s when porting open-source C and C++ software to z/OS UNIX System Services. Given the build error and the "
        "code (or, for a change found only in a port's patches, what the z/OS patch changes), explain the z/OS-specific "
        "problem and give the corrected code.\n" % category_title(category)
    )


def skill_data(category: str, records: list[dict], created_by: str) -> dict:
    examples = []
    for record in records:
        context, question, answer = _skill_texts(record)
        examples.append({"context": context, "question": question, "answer": answer})
    return {
        "version": 3,
        "created_by": created_by,
        "task_description": wrap_prose(task_description(category), PROSE_WIDTH),
        "seed_examples": examples,
    }


def attribution_text(category: str, records: list[dict], options: dict) -> str:
    """attribution.txt: one block per port repository the leaf draws from."""
    lines = [
        "Title of work: z/OS porting fixes: %s" % category_title(category),
        "Generated by autoport.zos from the patches of these z/OS Open Tools port repositories.",
        "",
    ]
    commits = collections.defaultdict(set)
    for record in records:
        commits[record["port"]].add(record.get("port_commit") or "")
    base = options["repo_base_url"].rstrip("/")
    for port in sorted(commits):
        url = "%s/%s" % (base, port)
        licence = options["licenses"].get(port) or "see %s" % url
        revisions = sorted(commit for commit in commits[port] if commit)
        lines.append("Link to work: %s" % url)
        lines.append("Revision: %s" % (", ".join(revisions) if revisions else "not recorded"))
        lines.append("License of the work: %s" % licence)
        lines.append("Creator names: the %s contributors" % port)
        lines.append("")
    return clean_text("\n".join(lines)) + "\n"


def _knowledge_clean(text: str) -> str:
    return wrap_prose(clean_text(text), PROSE_WIDTH)


def _rel(*parts: str) -> str:
    return "/".join(part for part in parts if part)


def _plan_skill(category: str, members: list, usable: list, note: str, options: dict, taxonomy_files: dict, leaves: list, skipped: list) -> None:
    """The skills leaf of one category: its qna.yaml and attribution.txt, or the reason it is left out."""
    root = options["taxonomy_root"]
    need = options["examples_per_leaf"]
    leaf = _rel(SKILLS_FOLDER, root, category)
    if len(usable) < need:
        skipped.append(_skip("skills", category, members, usable, "%d usable records, a skill needs %d%s" % (len(usable), need, note)))
        return
    chosen = select_diverse(usable, need)
    try:
        text = render_qna(skill_data(category, chosen, options["created_by"]), "compositional_skills", leaf + "/qna.yaml")
    except TaxonomyFileError as exc:
        skipped.append(_skip("skills", category, members, usable, "not valid for InstructLab: %s" % exc))
        return
    taxonomy_files[leaf + "/qna.yaml"] = text.encode("utf-8")
    taxonomy_files[leaf + "/attribution.txt"] = attribution_text(category, chosen, options).encode("utf-8")
    leaves.append(_leaf("skills", category, leaf, chosen))


def _plan_knowledge(category: str, members: list, usable: list, note: str, options: dict, skipped: list) -> tuple | None:
    """The knowledge document of one category as (category, doc path, document, seeds,
    outline, doc records, contexts), or None with the reason it is left out in skipped."""
    need = options["contexts_per_doc"]
    if len(usable) < need:
        skipped.append(_skip("knowledge", category, members, usable, "%d usable records, a knowledge leaf needs %d contexts%s" % (len(usable), need, note)))
        return None
    contexts = select_diverse(usable, need)
    rest = select_diverse([r for r in usable if r not in contexts], options["doc_max_fixes"] - need)
    doc_records = contexts + sorted(rest, key=lambda r: (r["port"], r["patch_file"], r.get("hunk", 0), r["id"]))
    try:
        document, seeds, outline = build_knowledge(category, contexts, doc_records, options["qna_per_context"], clean=_knowledge_clean)
    except KnowledgeBudgetError as exc:
        skipped.append(_skip("knowledge", category, members, usable, "does not fit InstructLab's limits: %s" % exc))
        return None
    return (category, _rel(options["taxonomy_root"], category + ".md"), document, seeds, outline, doc_records, contexts)


def _knowledge_leaves(knowledge_plans: list, options: dict, check_mode: bool, result: dict, taxonomy_files: dict) -> None:
    """Write the knowledge documents (their own commit), then plan each knowledge leaf's
    qna.yaml naming that commit; adds to result's leaves and skipped."""
    docs_repo = options.get("docs_repo")
    root = options["taxonomy_root"]
    result["docs_commit"], doc_commits, docs_changed = _write_documents(docs_repo, root, knowledge_plans, options, check_mode, result)
    repo_url = "file://" + os.path.realpath(docs_repo)
    for category, doc_path, _document, seeds, outline, doc_records, contexts in knowledge_plans:
        leaf = _rel(KNOWLEDGE_FOLDER, root, category)
        data = {
            "version": 3,
            "created_by": options["created_by"],
            "domain": options["domain"],
            "seed_examples": seeds,
            "document": {"repo": repo_url, "commit": doc_commits.get(doc_path) or PLACEHOLDER_COMMIT, "patterns": [doc_path]},
            "document_outline": outline,
        }
        try:
            text = render_qna(data, "knowledge", leaf + "/qna.yaml")
        except TaxonomyFileError as exc:
            result["skipped"].append(_skip("knowledge", category, doc_records, doc_records, "not valid for InstructLab: %s" % exc))
            continue
        taxonomy_files[leaf + "/qna.yaml"] = text.encode("utf-8")
        taxonomy_files[leaf + "/attribution.txt"] = attribution_text(category, doc_records, options).encode("utf-8")
        entry = _leaf("knowledge", category, leaf, contexts)
        entry["document"] = doc_path
        entry["document_commit"] = doc_commits.get(doc_path)
        result["leaves"].append(entry)
    if docs_changed:
        result["changed"] = True


def render_taxonomy(options: dict, check_mode: bool = False) -> dict:
    """Render the taxonomy (see the module docstring). Returns ``{changed, leaves, skipped,
    changed_files, removed_files, commit, docs_commit, base_commit, records, invalid,
    rejected_lines}``."""
    options = _check_options(options)
    records, rejected_lines = read_records(records_path(options["src"]))

    by_category = collections.OrderedDict((category, []) for category in CATEGORIES)
    for record in records:
        by_category.setdefault(record["error_category"], []).append(record)

    leaves = []
    skipped = []
    taxonomy_files = collections.OrderedDict()  # path relative to taxonomy_dir -> bytes
    knowledge_plans = []  # (category, doc path, document, seed_examples, outline, doc records, contexts)
    for category, members in by_category.items():
        if not members:
            continue
        usable, reasons = usable_records(members)
        unusable_note = "; ".join("%d %s" % (n, reason) for reason, n in sorted(reasons.items()))
        note = " (%s)" % unusable_note if unusable_note else ""
        if "skills" in options["kinds"]:
            _plan_skill(category, members, usable, note, options, taxonomy_files, leaves, skipped)
        if "knowledge" in options["kinds"]:
            plan = _plan_knowledge(category, members, usable, note, options, skipped)
            if plan is not None:
                knowledge_plans.append(plan)

    result = {
        "changed": False,
        "leaves": leaves,
        "skipped": skipped,
        "changed_files": [],
        "removed_files": [],
        "commit": None,
        "docs_commit": None,
        "base_commit": None,
        "records": len(records),
        "invalid": len(rejected_lines),
        # The first lines only: a broken file must not make the result as big as itself.
        "rejected_lines": rejected_lines[:MAX_REJECTED_LINES],
    }

    # Knowledge documents first: the qna.yaml files name the commit that holds them.
    if knowledge_plans:
        _knowledge_leaves(knowledge_plans, options, check_mode, result, taxonomy_files)

    _write_taxonomy(options["taxonomy_dir"], options["taxonomy_root"], taxonomy_files, options, check_mode, result)
    result["changed"] = result["changed"] or bool(result["changed_files"] or result["removed_files"] or result["commit"])
    return result


def _skip(kind: str, category: str, members: list[dict], usable: list[dict], reason: str) -> dict:
    return {"kind": kind, "category": category, "records": len(members), "usable": len(usable), "reason": reason}


def _leaf(kind: str, category: str, leaf: str, chosen: list[dict]) -> dict:
    return {
        "kind": kind,
        "category": category,
        "path": leaf + "/qna.yaml",
        "examples": len(chosen),
        "ports": sorted(set(record["port"] for record in chosen)),
        "record_ids": [record["id"] for record in chosen],
    }


def _stale_files(base: str, folder: str, planned: set) -> list[str]:
    """Files under base/folder (relative to base) that this render does not write."""
    stale = []
    top = os.path.join(base, folder)
    for current, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(current, name), base).replace(os.sep, "/")
            if rel not in planned:
                stale.append(rel)
    return stale


def _remove_empty_dirs(base: str, folder: str) -> None:
    top = os.path.join(base, folder)
    for current, _dirs, _files in os.walk(top, topdown=False):
        if not os.listdir(current):
            os.rmdir(current)


def _sync_files(base: str, folders: list[str], files: dict, check_mode: bool) -> tuple[list[str], list[str]]:
    """Write planned files that differ and remove stale ones under folders; (changed, removed)."""
    changed = []
    for rel, content in files.items():
        if write_if_changed(os.path.join(base, rel), content, check_mode=check_mode):
            changed.append(rel)
    removed = []
    planned = set(files)
    for folder in folders:
        for rel in _stale_files(base, folder, planned):
            if remove_if_present(os.path.join(base, rel), check_mode=check_mode):
                removed.append(rel)
        if not check_mode and os.path.isdir(os.path.join(base, folder)):
            _remove_empty_dirs(base, folder)
    return changed, removed


def _write_documents(docs_repo: str, root: str, plans: list, options: dict, check_mode: bool, result: dict) -> tuple:
    """Write and commit the knowledge documents (always committed: a knowledge leaf must
    name a commit that holds its document); (commit, {doc path: commit}, changed)."""
    created = git_local.ensure_repo(docs_repo, check_mode=check_mode)
    result["changed"] = result["changed"] or created
    files = collections.OrderedDict((plan[1], plan[2].encode("utf-8")) for plan in plans)
    if created and check_mode:
        result["changed_files"].extend("docs:" + rel for rel in files)
        return None, {}, True
    changed, removed = _sync_files(docs_repo, [root], files, check_mode)
    result["changed_files"].extend("docs:" + rel for rel in changed)
    result["removed_files"].extend("docs:" + rel for rel in removed)
    commits = {}
    if check_mode:
        dirty = set(git_local.dirty_paths(docs_repo, [root]))
        for doc_path in files:
            if doc_path not in changed and doc_path not in dirty:
                commits[doc_path] = git_local.last_commit(docs_repo, doc_path)
        # Anything not yet committed would be committed: the placeholder stands in for it.
        return None, commits, bool(changed or removed or dirty)
    commit = git_local.commit_paths(docs_repo, [root], "autoport.zos: knowledge documents for %s" % root)
    for doc_path in files:
        commits[doc_path] = git_local.last_commit(docs_repo, doc_path)
    return commit, commits, bool(changed or removed or commit)


def _write_taxonomy(taxonomy_dir: str, root: str, files: dict, options: dict, check_mode: bool, result: dict) -> None:
    created = git_local.ensure_repo(taxonomy_dir, check_mode=check_mode)
    folders = [_rel(SKILLS_FOLDER, root), _rel(KNOWLEDGE_FOLDER, root)]
    result["changed"] = result["changed"] or created
    if created and check_mode:
        result["changed_files"].extend(files)
        return
    result["base_commit"] = git_local.head(taxonomy_dir)
    changed, removed = _sync_files(taxonomy_dir, folders, files, check_mode)
    result["changed_files"].extend(changed)
    result["removed_files"].extend(removed)
    if check_mode:
        if git_local.dirty_paths(taxonomy_dir, folders):
            result["changed"] = True
        return
    if options["commit"]:
        summary = ", ".join("%d %s" % (sum(1 for leaf in result["leaves"] if leaf["kind"] == kind), kind) for kind in KINDS)
        result["commit"] = git_local.commit_paths(taxonomy_dir, folders, "autoport.zos: render %s taxonomy (%s leaves)" % (root, summary))
