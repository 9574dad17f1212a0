# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The knowledge document of one category and the seed examples drawn from it.

The document is markdown: what the category means on z/OS, which ports it draws from,
then one section per fix (where it comes from, what failed or what the patch changes,
the code before and after). Each seed context is one of those sections, verbatim, and
its questions are answered from that section only, so every answer is grounded in the
document InstructLab will read. Limits InstructLab needs are enforced here: at most 500
words per context, at most 250 words per answer, at least 3 Q&A per context (fewer
makes ilab fail with KeyError 'icl_query_2'), and all seed text together within the
word budget (about 2,300 words) so generation prompts fit the teacher's context.
Standard library only.
"""

from __future__ import annotations

from ansible_collections.autoport.zos.plugins.module_utils.fix_text import (
    category_description,
    category_title,
    change_summary,
    error_excerpt,
    excerpt_lines,
    fenced,
    is_static,
    tool_name,
)

MAX_CONTEXT_WORDS = 500
MAX_ANSWER_WORDS = 250
MAX_SEED_WORDS = 2300
MIN_QNA_PER_CONTEXT = 3
MIN_CONTEXTS = 5
# Code lines shown per excerpt, tried from the most to the fewest until the limits hold.
CODE_LINE_STEPS = (14, 10, 6, 3)


class KnowledgeBudgetError(Exception):
    """The seed examples cannot be made to fit InstructLab's limits."""


def words(text: str) -> int:
    return len(text.split())


# Headings cannot be wrapped: long paths are shortened from the left to fit.
MAX_TITLE_CHARS = 96


def section_title(record: dict) -> str:
    """'curl: lib/select.c (hunk 2)': the tool, the file and the hunk."""
    tool = tool_name(record["port"])
    path = record.get("file") or record["patch_file"]
    tail = " (hunk %d)" % record.get("hunk", 0)
    room = MAX_TITLE_CHARS - len(tool) - len(tail) - 2
    if len(path) > room:
        path = "..." + path[-max(room - 3, 8) :]
    return "%s: %s%s" % (tool, path, tail)


# Message lines in the document are folded to this width (code never is).
MESSAGE_WIDTH = 100


def fix_section(record: dict, code_lines: int) -> str:
    """The markdown section of one fix (a heading, facts, error or change, code)."""
    parts = ["## " + section_title(record)]
    parts.append(
        "Port repository: %s. Patch file: `%s`, hunk %d, changing `%s`. Phase: %s. Toolchain: %s. Kind of problem: %s."
        % (
            record["port"],
            record["patch_file"],
            record.get("hunk", 0),
            record.get("file") or "?",
            record["phase"],
            record["toolchain"],
            category_title(record["error_category"]),
        )
    )
    if is_static(record):
        parts.append("This change was found in the port's patches; no build error was recorded for it.")
    else:
        parts.append("The build reported:\n\n" + fenced(error_excerpt(record, max(2, code_lines // 2), MESSAGE_WIDTH)))
    parts.append(change_summary(record))
    if (record.get("wrong_code") or "").strip():
        parts.append("Code before the fix:\n\n" + fenced(excerpt_lines(record["wrong_code"], code_lines), record.get("file") or ""))
    if (record.get("correct_code") or "").strip():
        parts.append("Code after the fix:\n\n" + fenced(excerpt_lines(record["correct_code"], code_lines), record.get("file") or ""))
    return "\n\n".join(parts)


def _first_line(text: str, limit_words: int = 60) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return " ".join(line.split()[:limit_words])
    return ""


def section_qna(record: dict, code_lines: int, count: int) -> list[dict]:
    """count question/answer pairs answered from fix_section(record) alone."""
    tool = tool_name(record["port"])
    path = record.get("file") or "?"
    pairs = [
        {
            "question": "Which patch of the %s port changes %s, and in which phase does the problem show?" % (tool, path),
            "answer": "Hunk %d of %s in the %s repository changes %s. The problem belongs to the %s phase and the %s toolchain."
            % (record.get("hunk", 0), record["patch_file"], record["port"], path, record["phase"], record["toolchain"]),
        }
    ]
    if is_static(record):
        pairs.append(
            {
                "question": "What kind of z/OS porting problem does the %s change to %s address?" % (tool, path),
                "answer": "It is filed under %s. It was found in the port's patches; no build error was recorded for it."
                % category_title(record["error_category"]),
            }
        )
    else:
        pairs.append(
            {
                "question": "What did the %s build report for %s?" % (tool, path),
                "answer": "The build reported: %s" % _first_line(record["error"]),
            }
        )
    pairs.append({"question": "How was %s changed for z/OS in the %s port?" % (path, tool), "answer": change_summary(record)})
    if (record.get("correct_code") or "").strip():
        pairs.append(
            {
                "question": "What does the code in %s look like after the z/OS fix?" % path,
                "answer": "After the fix the code reads:\n\n" + fenced(excerpt_lines(record["correct_code"], code_lines), path),
            }
        )
    if (record.get("wrong_code") or "").strip():
        pairs.append(
            {
                "question": "What did the code in %s look like before the z/OS fix?" % path,
                "answer": "Before the fix the code read:\n\n" + fenced(excerpt_lines(record["wrong_code"], code_lines), path),
            }
        )
    return pairs[:count]


def document_text(category: str, records: list[dict], code_lines: int) -> str:
    """The whole markdown document of a category: an overview, then one section per record."""
    ports = sorted(set(record["port"] for record in records))
    static = sum(1 for record in records if is_static(record))
    parts = ["# Porting to z/OS: %s" % category_title(category), category_description(category)]
    parts.append(
        "This document collects %d fix%s of this kind from %d z/OS Open Tools port repositor%s (%s): "
        "%d seen failing in a build and %d found only in the ports' patches."
        % (len(records), "" if len(records) == 1 else "es", len(ports), "y" if len(ports) == 1 else "ies", ", ".join(ports), len(records) - static, static)
    )
    parts.extend(fix_section(record, code_lines) for record in records)
    return "\n\n".join(parts) + "\n"


def document_outline(category: str, records: list[dict]) -> str:
    ports = sorted(set(record["port"] for record in records))
    return (
        "Fixes for %s found while porting open-source tools to z/OS: what failed, what the z/OS patches change "
        "and the corrected code, from %d port repositories." % (category_title(category), len(ports))
    )


def seed_words(seed_examples: list[dict]) -> int:
    """Words of all seed contexts, questions and answers together."""
    total = 0
    for example in seed_examples:
        total += words(example["context"])
        for pair in example["questions_and_answers"]:
            total += words(pair["question"]) + words(pair["answer"])
    return total


def build_knowledge(
    category: str, context_records: list[dict], doc_records: list[dict], qna_per_context: int = 3, clean=lambda text: text
) -> tuple[str, list[dict], str]:
    """(document markdown, seed_examples, document_outline) for a category.

    context_records become the seed contexts (at least 5), doc_records (a superset) make
    the document. ``clean`` is applied to every text (the YAML cleaner), and the contexts
    are cleaned sections of the document, so each context appears in the document as is.
    Raises KnowledgeBudgetError when no code excerpt size keeps within the limits.
    """
    if len(context_records) < MIN_CONTEXTS:
        raise KnowledgeBudgetError("%d contexts, at least %d are needed" % (len(context_records), MIN_CONTEXTS))
    if qna_per_context < MIN_QNA_PER_CONTEXT:
        raise KnowledgeBudgetError("%d Q&A per context, at least %d are needed" % (qna_per_context, MIN_QNA_PER_CONTEXT))
    last_problem = ""
    for code_lines in CODE_LINE_STEPS:
        seed_examples = []
        problem = ""
        for record in context_records:
            context = clean(fix_section(record, code_lines))
            pairs = [{"question": clean(pair["question"]), "answer": clean(pair["answer"])} for pair in section_qna(record, code_lines, qna_per_context)]
            if len(pairs) < qna_per_context:
                problem = "%s has only %d questions to ask" % (section_title(record), len(pairs))
            elif words(context) > MAX_CONTEXT_WORDS:
                problem = "context %s has %d words (limit %d)" % (section_title(record), words(context), MAX_CONTEXT_WORDS)
            elif any(words(pair["answer"]) > MAX_ANSWER_WORDS for pair in pairs):
                problem = "an answer about %s is longer than %d words" % (section_title(record), MAX_ANSWER_WORDS)
            if problem:
                break
            seed_examples.append({"context": context, "questions_and_answers": pairs})
        if not problem and seed_words(seed_examples) > MAX_SEED_WORDS:
            problem = "seed examples have %d words (budget %d)" % (seed_words(seed_examples), MAX_SEED_WORDS)
        if not problem:
            document = clean(document_text(category, doc_records, code_lines)) + "\n"
            return document, seed_examples, clean(document_outline(category, doc_records))
        last_problem = problem
    raise KnowledgeBudgetError(last_problem)
