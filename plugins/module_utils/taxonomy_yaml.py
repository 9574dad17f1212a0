# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Write InstructLab ``qna.yaml`` text and check it the way InstructLab does, before any
file is written.

The emitter writes the fixed shape of version 3 skills and knowledge files itself: every
multi-line string as a literal block scalar (``|``), prose wrapped so no line passes the
yamllint limit, and text cleaned of what YAML or yamllint refuse (control characters,
trailing spaces, runs of blank lines). ``validate_qna`` then checks the text three ways:
it loads back to exactly the intended data (PyYAML), it matches the instructlab-schema
JSON schema of its kind (jsonschema), and yamllint with InstructLab's rules reports
nothing, warnings included (ilab runs yamllint in strict mode).

Controller only: PyYAML, jsonschema, instructlab-schema and yamllint are imported under
guards; ``IMPORT_ERRORS`` names what is missing.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

IMPORT_ERRORS = {}
try:
    import yaml
except ImportError as exc:  # pragma: no cover - depends on the controller
    yaml = None
    IMPORT_ERRORS["PyYAML"] = exc
try:
    from jsonschema.validators import validator_for
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as exc:  # pragma: no cover
    validator_for = None
    IMPORT_ERRORS["jsonschema"] = exc
try:
    from importlib import resources as importlib_resources

    import instructlab.schema  # noqa: F401  pylint: disable=unused-import

    SCHEMA_PACKAGE = "instructlab.schema"
except ImportError as exc:  # pragma: no cover
    importlib_resources = None
    SCHEMA_PACKAGE = None
    IMPORT_ERRORS["instructlab-schema"] = exc
try:
    from yamllint import linter as yamllint_linter
    from yamllint.config import YamlLintConfig
except ImportError as exc:  # pragma: no cover
    yamllint_linter = None
    YamlLintConfig = None
    IMPORT_ERRORS["yamllint"] = exc

SCHEMA_VERSION = 3
MAX_LINE = 120

# The rules of the instructlab/taxonomy repository (.yamllint: relaxed, line-length 120 as
# an error), which are stricter than ilab's built-in default (relaxed, line-length off);
# ilab reads taxonomy files with yamllint_strict=True, so warnings count as errors here too.
YAMLLINT_CONFIG = "extends: relaxed\nrules:\n  line-length:\n    max: %d\n    level: error\n" % MAX_LINE

# Column where the content of each block scalar starts in the layout written below.
SKILL_CONTENT_INDENT = 6
KNOWLEDGE_CONTEXT_INDENT = 6
KNOWLEDGE_QNA_INDENT = 10

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_FENCE = re.compile(r"^(```|~~~)")


class TaxonomyFileError(Exception):
    """A qna.yaml that would not pass InstructLab's checks; the message names it."""


def missing_libraries() -> list[tuple[str, Exception]]:
    return sorted(IMPORT_ERRORS.items())


def clean_text(text: str) -> str:
    """Text YAML and yamllint accept: LF line ends, no control characters (tabs stay), no
    trailing spaces, at most one blank line in a row, no blank lines around it."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    result = []
    for line in lines:
        if not line and result and not result[-1]:
            continue
        result.append(line)
    return "\n".join(result).strip("\n")


def wrap_prose(text: str, width: int) -> str:
    """Wrap paragraphs longer than width; fenced code blocks are left as they are."""
    out = []
    in_fence = False
    paragraph = []

    def flush():
        if paragraph:
            joined = " ".join(line.strip() for line in paragraph)
            if any(len(line) > width for line in paragraph):
                out.extend(textwrap.wrap(joined, width, break_long_words=False, break_on_hyphens=False) or [""])
            else:
                out.extend(paragraph)
            del paragraph[:]

    for line in text.split("\n"):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        elif not line.strip() or line.lstrip().startswith(("#", "- ", "* ", "|")):
            flush()
            out.append(line)
        else:
            paragraph.append(line)
    flush()
    return "\n".join(out)


def longest_line(text: str) -> int:
    return max((len(line) for line in text.split("\n")), default=0)


def _quoted(value: str) -> str:
    # One-line values (names, URLs, SHAs): a JSON string is a valid YAML double-quoted scalar.
    return json.dumps(value, ensure_ascii=False)


def _block(value: str, indent: int) -> str:
    """A scalar for value: double-quoted when it is one short line, else a literal block
    whose lines start at column indent ('|' keeps one final newline, '|-' none)."""
    if "\n" not in value and len(value) + indent <= MAX_LINE - 4 and value == value.strip() and value:
        return " " + _quoted(value)
    body = value[:-1] if value.endswith("\n") else value
    header = " |" if value.endswith("\n") else " |-"
    if body[:1] in (" ", "\t"):
        header = header.replace("|", "|2")  # content indent relative to its parent mapping, always 2 here
    lines = [(" " * indent + line) if line else "" for line in body.split("\n")]
    return header + "\n" + "\n".join(lines)


def dump_skill(data: dict) -> str:
    """qna.yaml text of a compositional skill (version, created_by, task_description,
    seed_examples with context/question/answer)."""
    out = ["version: %d" % data["version"], "created_by: %s" % _quoted(data["created_by"])]
    out.append("task_description:%s" % _block(data["task_description"], 2))
    out.append("seed_examples:")
    for example in data["seed_examples"]:
        first = True
        for key in ("context", "question", "answer"):
            if key not in example:
                continue
            prefix = "  - " if first else "    "
            out.append("%s%s:%s" % (prefix, key, _block(example[key], SKILL_CONTENT_INDENT)))
            first = False
    return "\n".join(out) + "\n"


def dump_knowledge(data: dict) -> str:
    """qna.yaml text of a knowledge leaf (version, created_by, domain, seed_examples with
    context and questions_and_answers, document, document_outline)."""
    out = ["version: %d" % data["version"], "created_by: %s" % _quoted(data["created_by"]), "domain: %s" % _quoted(data["domain"])]
    out.append("seed_examples:")
    for example in data["seed_examples"]:
        out.append("  - context:%s" % _block(example["context"], KNOWLEDGE_CONTEXT_INDENT))
        out.append("    questions_and_answers:")
        for pair in example["questions_and_answers"]:
            out.append("      - question:%s" % _block(pair["question"], KNOWLEDGE_QNA_INDENT))
            out.append("        answer:%s" % _block(pair["answer"], KNOWLEDGE_QNA_INDENT))
    document = data["document"]
    out.append("document:")
    out.append("  repo: %s" % _quoted(document["repo"]))
    out.append("  commit: %s" % _quoted(document["commit"]))
    out.append("  patterns:")
    for pattern in document["patterns"]:
        out.append("    - %s" % _quoted(pattern))
    out.append("document_outline:%s" % _block(data["document_outline"], 2))
    return "\n".join(out) + "\n"


def _schema_validator(kind: str):
    base = importlib_resources.files(SCHEMA_PACKAGE).joinpath("v%d" % SCHEMA_VERSION)

    def retrieve(uri: str):
        return Resource.from_contents(json.loads(base.joinpath(uri).read_text(encoding="utf-8")), default_specification=DRAFT202012)

    schema = json.loads(base.joinpath("%s.json" % kind).read_text(encoding="utf-8"))
    return validator_for(schema)(schema, registry=Registry(retrieve=retrieve))


def schema_problems(data: Any, kind: str) -> list[str]:
    """Problems of parsed qna data against the instructlab-schema v3 schema of kind
    ('compositional_skills' or 'knowledge')."""
    problems = []
    for error in sorted(_schema_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = error.json_path[1:] or "."
        problems.append("schema [%s] %s" % (where, error.message[-200:]))
    return problems


def lint_problems(text: str) -> list[str]:
    """yamllint problems (warnings and errors alike) under InstructLab's rules."""
    config = YamlLintConfig(YAMLLINT_CONFIG)
    return ["yamllint %d:%d [%s] %s" % (p.line, p.column, p.level, p.desc) for p in yamllint_linter.run(text, config)]


def validate_qna(text: str, data: dict, kind: str) -> list[str]:
    """Every reason InstructLab would refuse this qna.yaml text; empty when it is fine."""
    problems = []
    try:
        loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # nosec B506 - a safe loader
    except yaml.YAMLError as exc:
        return ["not valid YAML: %s" % exc]
    if loaded != data:
        problems.append("the YAML text does not load back to the intended data")
    problems.extend(schema_problems(loaded, kind))
    problems.extend(lint_problems(text))
    return problems


def render_qna(data: dict, kind: str, name: str) -> str:
    """Dump and validate; raises TaxonomyFileError naming the leaf when InstructLab would
    refuse it, so nothing invalid is ever written."""
    text = dump_skill(data) if kind == "compositional_skills" else dump_knowledge(data)
    problems = validate_qna(text, data, kind)
    if problems:
        raise TaxonomyFileError("%s: %s" % (name, "; ".join(problems[:10])))
    return text
