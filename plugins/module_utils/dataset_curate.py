# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Curate fix records: merge, scrub, validate, deduplicate, split by port and export.

``curate(options)`` reads every ``*.jsonl`` of the ``src`` files and folders, scrubs
secrets and personal data from every string (secret_scrub) and recomputes each id,
validates each record against the record schema (failures go to ``rejected.jsonl`` with
their reason), merges duplicates (same id; a ``build`` record beats a ``static`` one for
the same port/patch file/hunk; the same fix seen in several ports or patch versions,
found on normalised code) into one record with a ``seen_in`` list, splits train and test
by port, and writes the dataset, the splits, two training formats and a report.

Every output is written atomically and only when its bytes differ, so a second run
changes nothing; in check mode nothing is written and the files that would change are
listed. Outputs are sorted and carry no timestamps.

Runs on the controller: jsonschema (validation) and matplotlib (report charts) are used
when installed; ``missing_libraries()`` names what is absent.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
from typing import Any, Iterator

from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils import jsonl, record as record_api
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.curate_report import (
    MATPLOTLIB_IMPORT_ERROR,
    render_html,
    render_markdown,
)
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import SYSTEM_PROMPT, alpaca_example, messages_example
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import add_counts, empty_counts, scrub_text

try:
    import jsonschema

    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the controller
    jsonschema = None
    JSONSCHEMA_IMPORT_ERROR = exc

# A record line is at most a few tens of KiB (the code and patch fields are clipped);
# a longer line is not a record and is rejected without being parsed.
MAX_LINE_BYTES = 1024 * 1024
# How much of a rejected line that is not a record is kept (scrubbed) in rejected.jsonl.
REJECTED_EXCERPT_CHARS = 300

OUTPUT_FILES = (
    "dataset.jsonl",
    "train.jsonl",
    "test.jsonl",
    "rejected.jsonl",
    "train_messages.jsonl",
    "test_messages.jsonl",
    "train_alpaca.jsonl",
    "test_alpaca.jsonl",
    "summary.json",
    "report.md",
    "report.html",
)

DEFAULTS = {
    "test_ratio": 0.2,
    "seed": "autoport-zos",
    "near_duplicates": True,
    "report": True,
    "system_prompt": None,
}


class CurateError(Exception):
    """Bad options or unreadable inputs; the message names the input."""


def missing_libraries(report: bool = True) -> list[tuple[str, Exception]]:
    """(library, import error) for every library curation needs and cannot import."""
    missing = []
    if JSONSCHEMA_IMPORT_ERROR is not None:
        missing.append(("jsonschema", JSONSCHEMA_IMPORT_ERROR))
    if report and MATPLOTLIB_IMPORT_ERROR is not None:
        missing.append(("matplotlib", MATPLOTLIB_IMPORT_ERROR))
    return missing


# ---------------------------------------------------------------------------
# Reading


def find_jsonl(src: list[str], exclude: str | None = None) -> list[str]:
    """Every JSONL file named in src: files as given, folders searched recursively for
    ``*.jsonl`` (sorted). Files under ``exclude`` (the output folder) are left out, so a
    dataset is never read back into itself. A missing path raises CurateError naming it."""
    found = []
    seen = set()
    for entry in src:
        if not isinstance(entry, str) or not entry:
            raise CurateError("src entry %r is not a path" % (entry,))
        if os.path.isdir(entry):
            candidates = []
            for root, dirs, files in os.walk(entry):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".jsonl"):
                        candidates.append(os.path.join(root, name))
        elif os.path.isfile(entry):
            candidates = [entry]
        else:
            raise CurateError("src %s does not exist or is not a file or folder" % entry)
        for path in candidates:
            real = os.path.realpath(path)
            if real in seen or (exclude and inside(real, exclude)):
                continue
            seen.add(real)
            found.append(path)
    return found


def iter_lines(path: str, limit: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for every non-blank line; bytes is None for a line longer than
    limit (MAX_LINE_BYTES by default), which is skipped without being held in memory."""
    try:
        yield from jsonl.raw_lines(path, MAX_LINE_BYTES if limit is None else limit)
    except jsonl.JsonlError as exc:
        raise CurateError(str(exc))


def _excerpt(text: str, counts: dict[str, int]) -> str:
    cleaned = scrub_text(text[: REJECTED_EXCERPT_CHARS * 4], counts)[0]
    return cleaned[:REJECTED_EXCERPT_CHARS]


_VALIDATORS = []


def _record_validator():
    # Built once: the schema never changes within a run.
    if not _VALIDATORS:
        _VALIDATORS.append(jsonschema.Draft202012Validator(record_api.RECORD_SCHEMA))
    return _VALIDATORS[0]


def _schema_problems(record: dict) -> list[str]:
    """Readable problems of a record against the record schema; values are never quoted
    in full (they may be long)."""
    if jsonschema is None:
        return record_api.validate_record(record)
    validator = _record_validator()
    problems = []
    for error in sorted(validator.iter_errors(record), key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
        where = ".".join(str(part) for part in error.absolute_path) or "record"
        if error.validator == "maxLength":
            text = "%s: longer than %d characters" % (where, error.validator_value)
        elif error.validator == "minLength":
            text = "%s: shorter than %d characters" % (where, error.validator_value)
        elif error.validator == "enum":
            text = "%s: %s is not one of the allowed values" % (where, json.dumps(error.instance)[:60])
        elif error.validator == "type":
            text = "%s: expected %s" % (where, error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value))
        elif error.validator == "required":
            text = "missing required field %s" % error.message.split(" ", 1)[0]
        elif error.validator == "additionalProperties":
            text = error.message[:200]
        else:
            text = "%s: %s" % (where, error.message[:200])
        problems.append(text)
    return problems


def _problem_kind(problem: str) -> str:
    # Group reasons for the report: 'missing required field patch', 'error_category', ...
    if problem.startswith("missing required field"):
        return "schema: " + problem
    if problem.startswith("Additional properties") or "unknown field" in problem:
        return "schema: unknown field"
    field = problem.split(":", 1)[0].replace("record.", "")
    return "schema: invalid %s" % field


def load_records(paths: list[str], scrub_counts: dict[str, int] | None = None) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Read, scrub and validate every line of the given files.

    Returns (valid records, rejections, lines read per file). Each valid record is the
    scrubbed record with a recomputed id; each rejection is ``{source, line, kind, reason,
    record | excerpt}`` with the record (or a short excerpt of the line) scrubbed too.
    """
    if scrub_counts is None:
        scrub_counts = empty_counts()
    valid = []
    rejected = []
    lines_read = collections.OrderedDict()
    for path in paths:
        source = scrub_text(path, empty_counts())[0]
        count = 0
        for number, data in iter_lines(path):
            count += 1
            where = {"source": source, "line": number}
            line = jsonl.parse_line(number, data, MAX_LINE_BYTES)
            if line.value is None:
                rejected.append(dict(where, kind=line.kind, reason=line.reason))
                if line.text:
                    rejected[-1]["excerpt"] = _excerpt(line.text, scrub_counts)
                continue
            value = line.value
            # Scrub before anything else looks at the record, the validator included.
            cleaned, counts = record_api.scrub_record(value)
            add_counts(scrub_counts, counts)
            problems = _schema_problems(cleaned)
            if problems:
                rejected.append(dict(where, kind=_problem_kind(problems[0]), reason="; ".join(problems), record=cleaned))
                continue
            valid.append(dict(cleaned, _source=source, _line=number))
        lines_read[source] = count
    return valid, rejected, dict(lines_read)


# ---------------------------------------------------------------------------
# Deduplication

_C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if inline int long register
    restrict return short signed sizeof static struct switch typedef union unsigned void volatile while bool true false
    class namespace template typename public private protected virtual operator new delete this nullptr using
    include define undef ifdef ifndef elif endif error pragma defined""".split())
_STRING_OR_COMMENT = re.compile(r"(\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*')|(/\*.*?\*/|//[^\n]*)", re.S)
_HASH_COMMENT = re.compile(
    r"^[ \t]*#(?![ \t]*(?:include|define|undef|if|ifdef|ifndef|else|elif|endif|error|pragma|line|warning|import|include_next)\b).*$",
    re.M,
)
_TOKEN = re.compile(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_.]*|\S")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


_C_FAMILY = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".C", ".H", ".m", ".mm", ".inc", ".def", ".y", ".l", ".java", ".js", ".go", ".rs")
_HASH_FAMILY = (
    ".sh",
    ".bash",
    ".ksh",
    ".py",
    ".pl",
    ".pm",
    ".rb",
    ".mk",
    ".am",
    ".in",
    ".ac",
    ".m4",
    ".cmake",
    ".txt",
    ".build",
    ".cfg",
    ".conf",
    ".yml",
    ".yaml",
)
_HASH_NAMES = ("Makefile", "GNUmakefile", "makefile", "configure", "buildenv", "CMakeLists.txt", "meson.build")


def comment_style(path: str) -> str:
    """'c' (/* */ and // comments), 'hash' (# comment lines) or '' (unknown: keep all)."""
    base = os.path.basename(path or "")
    if base.endswith(_C_FAMILY):
        return "c"
    if base.startswith(_HASH_NAMES) or base.endswith(_HASH_FAMILY) or base.startswith("config."):
        return "hash"
    return ""


def _strip_comments(code: str, style: str) -> str:
    if style == "c":
        # Strings are matched first so '//' inside "http://..." is not a comment.
        return _STRING_OR_COMMENT.sub(lambda m: m.group(1) if m.group(1) is not None else " ", code)
    if style == "hash":
        return _HASH_COMMENT.sub("", code)
    return code


def code_tokens(code: str, path: str = "") -> list[str]:
    """Tokens of code with comments (as the file type writes them) and whitespace removed."""
    return _TOKEN.findall(_strip_comments(code or "", comment_style(path)))


def normalised_code(wrong_code: str, correct_code: str, path: str = "") -> tuple[list[str], list[str]]:
    """Whitespace-, comment- and identifier-insensitive form of a fix.

    Identifiers the fix adds or removes stay as they are (they are the fix), and so do
    called functions and ALL_CAPS macros; other names that only appear as unchanged
    context (variables, parameters) are renamed in order of first use, so the same change
    around differently named variables (another port, another patch version) normalises
    to the same tokens.
    """
    before = code_tokens(wrong_code, path)
    after = code_tokens(correct_code, path)
    before_count = collections.Counter(before)
    after_count = collections.Counter(after)
    changed = set((before_count - after_count).keys()) | set((after_count - before_count).keys())
    # Called functions and ALL_CAPS macros are what a fix is about (fdopen needs
    # <stdio.h>, getline too, but they are different fixes): only plain names are renamed.
    kept_names = set(changed) | _C_KEYWORDS
    for tokens in (before, after):
        for index, token in enumerate(tokens):
            if _IDENTIFIER.match(token) and (token.isupper() or (index + 1 < len(tokens) and tokens[index + 1] == "(")):
                kept_names.add(token)
    names = {}

    def rename(token):
        if not _IDENTIFIER.match(token) or token in kept_names:
            return token
        if token not in names:
            names[token] = "$%d" % (len(names) + 1)
        return names[token]

    return [rename(t) for t in before], [rename(t) for t in after]


def near_duplicate_key(record: dict) -> str:
    """A key equal for records that make the same fix (see normalised_code); falls back
    to the whitespace-collapsed code or patch when the normalised form is too weak."""
    before, after = normalised_code(record.get("wrong_code", ""), record.get("correct_code", ""), record.get("file", ""))
    if before != after and (before or after):
        material = "code\0" + "\x1f".join(before) + "\0" + "\x1f".join(after)
    elif (record.get("wrong_code") or "").strip() or (record.get("correct_code") or "").strip():
        # Only whitespace or comments changed: compare the literal code, spaces collapsed.
        material = "text\0" + " ".join((record.get("wrong_code") or "").split()) + "\0" + " ".join((record.get("correct_code") or "").split())
    else:
        body = [line for line in (record.get("patch") or "").splitlines() if line[:1] in "+- " and not line.startswith(("+++", "---"))]
        material = "patch\0" + "\n".join(" ".join(line.split()) for line in body)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# Which of a group of duplicates wins, by provenance (lower wins): a harvest build showed the error;
# an auto-port fix was proven by a rebuild (build-verified); a static record is the patch alone.
PROVENANCE_RANK = {"build": 0, "autoport": 1, "static": 2}


def _priority(record: dict) -> tuple:
    # Lower sorts first and wins: build evidence, then build-verified auto-port fixes, over
    # static; then a known error code, then a stable order so the winner never depends on input order.
    return (
        PROVENANCE_RANK.get(record.get("provenance"), len(PROVENANCE_RANK)),
        not (record.get("error") or "").strip(),
        not record.get("error_code"),
        record.get("port", ""),
        record.get("patch_file", ""),
        record.get("hunk", 0),
        record.get("id", ""),
    )


def _seen_entry(record: dict) -> dict:
    return {"port": record.get("port", ""), "patch_file": record.get("patch_file", ""), "id": record.get("id", "")}


def _merge(members: list[dict]) -> dict:
    """The winner of a group of duplicates, with every member in its seen_in."""
    members = sorted(members, key=_priority)
    winner = dict(members[0])
    if len(members) == 1:
        return winner
    entries = {}
    for member in members:
        for entry in list(member.get("seen_in") or []) + [_seen_entry(member)]:
            key = (entry.get("port", ""), entry.get("patch_file", ""), entry.get("id", ""))
            entries[key] = {k: v for k, v in (("port", key[0]), ("patch_file", key[1]), ("id", key[2])) if v != "" or k != "id"}
    # An entry without id is redundant next to one with the same port and patch file.
    with_id = set((port, patch) for port, patch, ident in entries if ident)
    winner["seen_in"] = [entries[key] for key in sorted(entries) if key[2] or (key[0], key[1]) not in with_id]
    return winner


def _group(records: list[dict], key_of) -> tuple[list[dict], int]:
    groups = collections.OrderedDict()
    for record in records:
        groups.setdefault(key_of(record), []).append(record)
    kept = [_merge(members) for members in groups.values()]
    return kept, len(records) - len(kept)


def deduplicate(records: list[dict], near_duplicates: bool = True) -> tuple[list[dict], dict[str, int]]:
    """Merge duplicates; returns (kept records, merged counts by rule).

    Rules, in order: the same id; for one port/patch file/hunk a build record replaces
    the static records; the same normalised fix (near_duplicate_key) across ports and
    patch versions.
    """
    merged = {"exact": 0, "same_hunk": 0, "near": 0}
    kept, merged["exact"] = _group(records, lambda r: r["id"])

    by_hunk = collections.OrderedDict()
    for record in kept:
        if record.get("hunk"):
            by_hunk.setdefault((record["port"], record["patch_file"], record["hunk"]), []).append(record)
    result = []
    for record in kept:
        group = by_hunk.get((record["port"], record["patch_file"], record.get("hunk")), []) if record.get("hunk") else []
        builds = [member for member in group if member.get("provenance") == "build"]
        if record.get("provenance") == "static" and builds:
            continue  # folded into the build records below
        if record.get("provenance") == "build" and group and builds[0] is record:
            statics = [member for member in group if member.get("provenance") == "static"]
            if statics:
                record = _merge([record] + statics)
        result.append(record)
    merged["same_hunk"] = len(kept) - len(result)
    kept = result

    if near_duplicates:
        kept, merged["near"] = _group(kept, near_duplicate_key)
    return kept, merged


# ---------------------------------------------------------------------------
# Split


def port_fraction(port: str, seed: str) -> float:
    """A stable number in [0, 1) for a port: the split is reproducible from the seed."""
    digest = hashlib.sha256(("%s\0%s" % (seed, port)).encode("utf-8")).hexdigest()
    return int(digest[:15], 16) / float(16**15)


def split_ports(ports: list[str], test_ratio: float, seed: str) -> tuple[list[str], list[str]]:
    """(train ports, test ports): a port goes to test when its fraction is below
    test_ratio; with two or more ports each side gets at least one."""
    ports = sorted(set(ports))
    fractions = dict((port, port_fraction(port, seed)) for port in ports)
    test = [port for port in ports if fractions[port] < test_ratio]
    train = [port for port in ports if fractions[port] >= test_ratio]
    if len(ports) >= 2:
        if not test:
            move = min(train, key=lambda p: (fractions[p], p))
            train.remove(move)
            test.append(move)
        elif not train:
            move = max(test, key=lambda p: (fractions[p], p))
            test.remove(move)
            train.append(move)
    return sorted(train), sorted(test)


# ---------------------------------------------------------------------------
# Outputs


def _sort_key(record: dict) -> tuple:
    return (record.get("port", ""), record.get("patch_file", ""), record.get("file", ""), record.get("hunk", 0), record.get("provenance", ""), record["id"])


def _jsonl(items: list[Any]) -> bytes:
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in items).encode("utf-8")


def _public(record: dict) -> dict:
    return dict((key, value) for key, value in record.items() if not key.startswith("_"))


def _counter(values) -> dict[str, int]:
    return dict(sorted(collections.Counter(values).items()))


def _check_options(options: dict) -> dict:
    merged = dict(DEFAULTS)
    merged.update(dict((key, value) for key, value in options.items() if value is not None))
    src = merged.get("src")
    if isinstance(src, str):
        src = [src]
    if not src:
        raise CurateError("src must name at least one JSONL file or folder")
    merged["src"] = list(src)
    if not merged.get("dest"):
        raise CurateError("dest must name the output folder")
    ratio = merged["test_ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0.0 <= float(ratio) <= 1.0:
        raise CurateError("test_ratio must be a number between 0 and 1, got %r" % (ratio,))
    merged["test_ratio"] = float(ratio)
    merged["seed"] = str(merged["seed"])
    if os.path.exists(merged["dest"]) and not os.path.isdir(merged["dest"]):
        raise CurateError("dest %s exists and is not a folder" % merged["dest"])
    return merged


def _contents(options: dict, summary: dict, kept: list, train: list, test: list, rejected: list) -> dict:
    """Every file curate writes under dest, by name, as bytes (in the order they are written)."""
    prompt = options.get("system_prompt") or SYSTEM_PROMPT
    contents = collections.OrderedDict()
    contents["dataset.jsonl"] = _jsonl(kept)
    contents["train.jsonl"] = _jsonl(train)
    contents["test.jsonl"] = _jsonl(test)
    contents["rejected.jsonl"] = _jsonl(rejected)
    contents["train_messages.jsonl"] = _jsonl([messages_example(record, prompt) for record in train])
    contents["test_messages.jsonl"] = _jsonl([messages_example(record, prompt) for record in test])
    contents["train_alpaca.jsonl"] = _jsonl([alpaca_example(record) for record in train])
    contents["test_alpaca.jsonl"] = _jsonl([alpaca_example(record) for record in test])
    contents["summary.json"] = (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if options["report"]:
        contents["report.md"] = render_markdown(summary).encode("utf-8")
        contents["report.html"] = render_html(summary).encode("utf-8")
    return contents


def curate(options: dict, check_mode: bool = False) -> dict:
    """Curate records (see the module docstring). Options: src (list of files/folders),
    dest (folder), test_ratio, seed, near_duplicates, report, system_prompt.

    Returns ``{changed, changed_files, files, counts, merged_by, scrubbed,
    rejected_by_kind, train_ports, test_ports, input_files}``.
    """
    options = _check_options(options)
    dest = options["dest"]
    paths = find_jsonl(options["src"], exclude=dest)
    scrubbed = empty_counts()
    valid, rejected, lines_read = load_records(paths, scrubbed)
    read = sum(lines_read.values())
    kept, merged_by = deduplicate(valid, options["near_duplicates"])
    merged = sum(merged_by.values())
    kept = sorted((_public(record) for record in kept), key=_sort_key)
    rejected.sort(key=lambda item: (item["source"], item["line"]))

    train_ports, test_ports = split_ports([record["port"] for record in kept], options["test_ratio"], options["seed"])
    test_set = set(test_ports)
    train = [record for record in kept if record["port"] not in test_set]
    test = [record for record in kept if record["port"] in test_set]

    summary = {
        "equation": "kept + rejected + merged duplicates = records read",
        "read": read,
        "kept": len(kept),
        "rejected": len(rejected),
        "merged": merged,
        "merged_by": merged_by,
        "inputs": lines_read,
        "train": {"records": len(train), "ports": train_ports},
        "test": {"records": len(test), "ports": test_ports},
        "test_ratio": options["test_ratio"],
        "seed": options["seed"],
        "by_category": _counter(record["error_category"] for record in kept),
        "by_port": _counter(record["port"] for record in kept),
        "by_phase": _counter(record["phase"] for record in kept),
        "by_provenance": _counter(record["provenance"] for record in kept),
        "rejected_by_kind": _counter(item["kind"] for item in rejected),
        "scrubbed": scrubbed,
    }
    if summary["kept"] + summary["rejected"] + summary["merged"] != summary["read"]:
        raise CurateError("internal count mismatch: %d kept + %d rejected + %d merged != %d read" % (len(kept), len(rejected), merged, read))

    contents = _contents(options, summary, kept, train, test, rejected)
    changed_files = []
    files = {}
    for name, content in contents.items():
        path = os.path.join(dest, name)
        files[name] = path
        if write_if_changed(path, content, check_mode=check_mode):
            changed_files.append(path)

    return {
        "changed": bool(changed_files),
        "changed_files": changed_files,
        "files": files,
        "counts": {
            "read": read,
            "kept": len(kept),
            "rejected": len(rejected),
            "merged": merged,
            "train": len(train),
            "test": len(test),
        },
        "merged_by": merged_by,
        "scrubbed": scrubbed,
        "rejected_by_kind": summary["rejected_by_kind"],
        "train_ports": train_ports,
        "test_ports": test_ports,
        "input_files": len(paths),
    }
