"""hub_sdg: the data logic of the hub training backend (leaves, chunking, ROUGE-L, judge, filters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ansible_collections.autoport.zos.plugins.module_utils import hub_sdg

REPO = Path(__file__).resolve().parents[4]

SKILL = {"seed_examples": [{"question": "Why is strndup undeclared?", "answer": "Link zoslib."}, {"question": "", "answer": "x"}]}
KNOWLEDGE = {
    "document": {"repo": "file:///tmp/docs", "commit": "abc", "patterns": ["*.md"]},
    "seed_examples": [{"context": "EBCDIC text.", "questions_and_answers": [{"question": "Which code page?", "answer": "IBM-1047."}]}],
}


def test_trainable_leaves_keeps_skills_and_knowledge_and_says_why_others_are_not() -> None:
    leaves = {
        "compositional_skills/a/qna.yaml": SKILL,
        "knowledge/b/qna.yaml": KNOWLEDGE,
        "knowledge/c/qna.yaml": {"seed_examples": KNOWLEDGE["seed_examples"]},
        "compositional_skills/d/qna.yaml": {"seed_examples": [{"question": "q only"}]},
        "other/e/qna.yaml": SKILL,
    }
    usable, skipped = hub_sdg.trainable_leaves(leaves)
    assert usable == ["compositional_skills/a/qna.yaml", "knowledge/b/qna.yaml"]
    reasons = {item["leaf"]: item["reason"] for item in skipped}
    assert "without a document" in reasons["knowledge/c/qna.yaml"]
    assert "no seed example" in reasons["compositional_skills/d/qna.yaml"]
    assert "not under" in reasons["other/e/qna.yaml"]
    assert hub_sdg.skill_seeds(SKILL) == [{"question": "Why is strndup undeclared?", "answer": "Link zoslib.", "context": ""}]
    assert hub_sdg.knowledge_seeds(KNOWLEDGE)[0]["context"] == "EBCDIC text."


def test_no_trainable_leaf_is_a_clear_error_naming_the_leaves() -> None:
    with pytest.raises(hub_sdg.HubDataError, match=r"no trainable leaf .*knowledge/x/qna.yaml: knowledge leaf without a document"):
        hub_sdg.trainable_leaves({"knowledge/x/qna.yaml": {"seed_examples": []}})
    with pytest.raises(hub_sdg.HubDataError, match="no qna.yaml found"):
        hub_sdg.trainable_leaves({})


def test_document_repo_must_be_local_no_download() -> None:
    assert hub_sdg.local_repo_path("file:///srv/docs") == "/srv/docs"
    assert hub_sdg.local_repo_path("/srv/docs") == "/srv/docs"
    with pytest.raises(hub_sdg.HubDataError, match="without downloading"):
        hub_sdg.local_repo_path("https://github.com/x/docs")


def test_chunk_markdown_splits_at_headings_and_keeps_code_fences_whole() -> None:
    text = (
        "# One\n\n" + "word " * 30 + "\n\n" + "more " * 30 + "\n\n"
        "# Two\n\n```c\n#ifdef __MVS__\n\n# not a heading inside a fence\n#endif\n```\n\nafter the code block here\n"
    )
    chunks = hub_sdg.chunk_markdown(text, max_words=40)
    assert chunks[0].startswith("# One") and "more" not in chunks[0]
    assert chunks[1].startswith("more")
    assert chunks[2].startswith("# Two")
    assert "# not a heading inside a fence" in chunks[2] and "#endif" in chunks[2]
    assert all(hub_sdg.word_count(chunk) <= 40 for chunk in chunks)
    with pytest.raises(hub_sdg.HubDataError, match="at least 20 words"):
        hub_sdg.chunk_markdown(text, max_words=5)


def test_rouge_l_values() -> None:
    assert hub_sdg.rouge_l("a b c d", "a b c d") == pytest.approx(1.0)
    assert hub_sdg.rouge_l("", "a") == 0.0
    # LCS of (a b c d) and (a c e) is (a c): P 2/4, R 2/3.
    assert hub_sdg.rouge_l("a b c d", "a c e") == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert hub_sdg.rouge_l("Why IS it", "why is IT") == pytest.approx(1.0)


def test_dedup_drops_near_copies_of_seeds_and_of_each_other_with_reason() -> None:
    seeds = ["How do zopen ports fix an undeclared strndup on z/OS?"]
    candidates = [
        "How do zopen ports fix an undeclared strndup on z/OS today?",
        "Why does the binder report IEW2456E for a missing symbol?",
        "Why does the binder report IEW2456E for a missing symbol again?",
    ]
    kept, rejected = hub_sdg.dedup_instructions(candidates, seeds, threshold=0.7)
    assert kept == ["Why does the binder report IEW2456E for a missing symbol?"]
    assert [item["instruction"] for item in rejected] == [candidates[0], candidates[2]]
    assert "against a seed instruction" in rejected[0]["reason"] and rejected[0]["closest"] == seeds[0]
    assert "against a generated instruction" in rejected[1]["reason"]
    with pytest.raises(hub_sdg.HubDataError):
        hub_sdg.dedup_instructions(candidates, seeds, threshold=0.0)


def test_a_seed_answer_reaches_the_question_prompt_without_its_code() -> None:
    answer = ("A function is called without a prototype in scope.\n\nIn the lnfind port the patch adds 1 line.\n\n"
              "Corrected code:\n```c\nint f(void);\n```\nMore after the code.")
    assert hub_sdg.answer_prose(answer) == "A function is called without a prototype in scope.\n\nIn the lnfind port the patch adds 1 line."
    assert hub_sdg.answer_prose("Include the header.") == "Include the header."
    # An answer that is only code stays whole: the question still needs something to go on.
    assert hub_sdg.answer_prose("```c\n#include <strings.h>\n```") == "```c\n#include <strings.h>\n```"
    assert hub_sdg.answer_prose("") == ""


def test_distinct_questions_sets_aside_empty_questions_and_repeats_in_other_case_or_spacing() -> None:
    questions = ["Why is strndup missing?", "  ", "why is  STRNDUP missing", "What does EDC5129I mean?", ""]
    fresh, set_aside = hub_sdg.distinct_questions(questions)
    assert fresh == [0, 3]
    assert set_aside == {1: ("rules", "empty turn: no question"),
                         2: ("dedup", "the same question as an earlier skills sample"),
                         4: ("rules", "empty turn: no question")}
    assert hub_sdg.distinct_questions([]) == ([], {})


def test_self_instruct_prompt_and_parsing() -> None:
    prompt = hub_sdg.self_instruct_prompt("Give {count}:\n{examples}\n", [{"question": "Why  is\nit?"}, {"question": "How so?"}], 3)
    assert prompt == "Give 3:\n1. Why is it?\n2. How so?\n"
    with pytest.raises(hub_sdg.HubDataError, match="examples"):
        hub_sdg.self_instruct_prompt("no placeholder", [], 1)
    text = "Here you go:\n1. Why does make fail on z/OS?\n2) How is a file tagged as ASCII?\n- too short\n3. ok"
    assert hub_sdg.parse_instructions(text) == ["Why does make fail on z/OS?", "How is a file tagged as ASCII?"]
    assert hub_sdg.parse_instructions("What is EBCDIC on z/OS?\nTag it?") == ["What is EBCDIC on z/OS?"]


def test_judge_verdicts() -> None:
    assert hub_sdg.judge_verdict("YES, it is correct.") == (True, "judge: YES, it is correct.")
    accepted, reason = hub_sdg.judge_verdict("No. The answer is about Windows.")
    assert not accepted and "Windows" in reason
    accepted, reason = hub_sdg.judge_verdict("I think maybe")
    assert not accepted and reason.startswith("judge gave no verdict")


def test_rule_filters_and_split_keep_every_rejection_with_stage_and_reason() -> None:
    samples = [
        {"kind": "skills", "question": "q1", "answer": "Use this:\n```c\n#include <zos.h>\n```"},
        {"kind": "skills", "question": "q2", "answer": "Just retry the build."},
        {"kind": "skills", "question": " ", "answer": "x;"},
        {"kind": "knowledge", "question": "q4", "answer": "EBCDIC, IBM-1047."},
        {"kind": "knowledge", "question": "q5", "answer": ""},
        {"kind": "knowledge", "question": "q6", "answer": "Wrong."},
    ]
    verdicts = {0: (True, "judge: yes"), 3: (True, "judge: yes"), 5: (False, "judge: NO, wrong")}
    kept, rejected = hub_sdg.split_samples(samples, verdicts, "code")
    assert [s["question"] for s in kept] == ["q1", "q4"]
    assert [(r["question"], r["stage"], r["reason"]) for r in rejected] == [
        ("q2", "rules", "no corrected code in the answer"),
        (" ", "rules", "empty turn: no question"),
        ("q5", "rules", "empty turn: no answer"),
        ("q6", "judge", "judge: NO, wrong"),
    ]
    kept_turns = hub_sdg.split_samples(samples, {}, "turns")[0]
    assert [s["question"] for s in kept_turns] == ["q1", "q2", "q4", "q6"]
    counts = hub_sdg.summary_counts(kept, rejected)
    assert counts["generated"] == 6 and counts["kept"] == 2
    assert counts["rejected_by_stage"] == {"rules": 3, "judge": 1}
    assert counts["kept_by_kind"] == {"knowledge": 1, "skills": 1}
    with pytest.raises(hub_sdg.HubDataError):
        hub_sdg.rule_reject(samples[0], "none")


def test_training_texts_from_generated_messages_and_alpaca(tmp_path: Path) -> None:
    generated = [hub_sdg.messages_record("Q1?", "A1.")]
    messages = [{"messages": [{"role": "user", "content": "Q2?"}, {"role": "assistant", "content": "A2."}]},
                {"messages": [{"role": "user", "content": "Q3?"}, {"role": "assistant", "content": " "}]}]
    alpaca = [{"instruction": "Fix it.", "input": "int x", "output": "int x;"}, {"instruction": "", "output": "y"}]
    texts, left_out = hub_sdg.training_texts(generated, messages, alpaca)
    assert [t["source"] for t in texts] == ["generated", "curated_messages", "curated_alpaca"]
    assert [(item["source"], item["index"], item["reason"]) for item in left_out] == [
        ("curated_messages", 1, "an empty user or assistant turn"), ("curated_alpaca", 1, "an empty user or assistant turn")]
    assert texts[0]["text"] == texts[0]["prompt"] + "A1.<|endoftext|>"
    assert texts[0]["prompt"] == "<|system|>\n%s\n<|user|>\nQ1?\n<|assistant|>\n" % hub_sdg.SYSTEM_PROMPT
    assert "<|user|>\nFix it.\n\nint x\n" in texts[2]["prompt"]
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"a": 1}) + "\n\n", encoding="utf-8")
    assert hub_sdg.read_jsonl(str(path)) == [{"a": 1}]
    assert hub_sdg.read_jsonl(str(tmp_path / "missing.jsonl")) == []
    with pytest.raises(hub_sdg.HubDataError, match="no such file"):
        hub_sdg.read_jsonl(str(tmp_path / "missing.jsonl"), missing_ok=False)
    path.write_text("{bad\n", encoding="utf-8")
    with pytest.raises(hub_sdg.HubDataError, match="line 1 is not JSON"):
        hub_sdg.read_jsonl(str(path))


def test_a_curated_record_is_trained_once_and_the_curated_cap_is_kept_with_its_reason() -> None:
    # The curate stage writes each record twice: as messages (context, then question) and as
    # alpaca (question as instruction, context as input).
    records = [("int x = %d" % n, "Why does line %d fail?" % n, "Add a semicolon %d." % n) for n in range(3)]
    messages = [{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": c + "\n\n" + q},
                              {"role": "assistant", "content": a}]} for c, q, a in records]
    alpaca = [{"instruction": q, "input": c, "output": a} for c, q, a in records]
    generated = [hub_sdg.messages_record("G%d?" % n, "A%d." % n) for n in range(3)]
    texts, left_out = hub_sdg.training_texts(generated, messages, alpaca)
    assert [t["source"] for t in texts] == ["generated"] * 3 + ["curated_messages"] * 3
    assert {item["reason"] for item in left_out} == {"the same question and answer as a curated messages record"}
    assert [item["index"] for item in left_out] == [0, 1, 2]
    texts, left_out = hub_sdg.training_texts(generated, messages, alpaca, max_curated=2)
    assert [t["source"] for t in texts] == ["generated"] * 3 + ["curated_messages"] * 2
    assert "Why does line 1 fail?" in texts[-1]["text"]
    assert [(item["source"], item["index"], item["reason"]) for item in left_out] == [
        ("curated_messages", 2, "over the cap of 2 curated examples"),
        ("curated_alpaca", 0, "the same question and answer as a curated messages record"),
        ("curated_alpaca", 1, "the same question and answer as a curated messages record"),
        ("curated_alpaca", 2, "over the cap of 2 curated examples")]
    # An alpaca pair that differs from every message is its own example.
    texts, _left = hub_sdg.training_texts([], [], [{"instruction": "Fix it.", "input": "int y", "output": "int y;"}], 1)
    assert [t["source"] for t in texts] == ["curated_alpaca"]


def test_clean_question_keeps_the_question_only() -> None:
    assert hub_sdg.clean_question("Question: How do you fix X?\nAnswer: like this") == "How do you fix X?"
    assert hub_sdg.clean_question("  q: Why?\nA: because") == "Why?"
    assert hub_sdg.clean_question("How do I fix this?\n```c\nint x;\n```") == "How do I fix this?\n```c\nint x;\n```"
    assert hub_sdg.clean_question("A question about questions: why?") == "A question about questions: why?"
    assert hub_sdg.clean_question("") == ""


def test_resource_problem_names_disk_and_memory() -> None:
    assert hub_sdg.resource_problem(5000, 1000, 8000, 2000) == ""
    message = hub_sdg.resource_problem(500, 1000, 1000, 2000)
    assert "500 MiB free disk" in message and "1000 MiB memory, 2000 MiB needed" in message
    assert hub_sdg.student_needs_mb(540 * 1024 * 1024) == (3 * 540 + 1024, 4 * 540 + 1536)


def test_hub_pins_are_exact_and_torch_is_the_cpu_file() -> None:
    wanted = [Requirement(line) for line in (REPO / "requirements/hub/cpu.in").read_text().splitlines() if line.strip() and not line.startswith("#")]
    pinned = {}
    for line in (REPO / "requirements/hub/cpu-constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            assert str(requirement.specifier).startswith("=="), line
            pinned[requirement.name.lower().replace("_", "-")] = str(requirement.specifier)[2:]
    assert pinned["sdg-hub"] == "0.9.4"
    # No local label: the CPU wheel 2.13.0+cpu satisfies it, and PyPI alone still resolves.
    assert pinned["torch"] == "2.13.0"
    for requirement in wanted:
        assert requirement.name.lower().replace("_", "-") in pinned, requirement
        assert requirement.specifier.contains(pinned[requirement.name.lower().replace("_", "-")], prereleases=True), requirement
