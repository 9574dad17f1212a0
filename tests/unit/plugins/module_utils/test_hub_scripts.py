"""The helper scripts of the hub backend and the shared HTTP chat: the parts that need neither
the hub venv nor a served model (tests/integration/test_train_hub.py runs them for real)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
GENERATE = REPO / "roles" / "hub_train" / "files" / "hub_generate.py"
HUB_SDG = REPO / "plugins" / "module_utils" / "hub_sdg.py"
CHAT = REPO / "roles" / "evaluate" / "files" / "http_chat.py"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture()
def tools(tmp_path: Path) -> Path:
    """The scripts as the role lays them out on the host: hub_sdg.py beside hub_generate.py."""
    folder = tmp_path / "tools"
    folder.mkdir()
    shutil.copy(GENERATE, folder)
    shutil.copy(HUB_SDG, folder)
    return folder


def load_generate(tools: Path):
    sys.path.insert(0, str(tools))
    try:
        import hub_generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tools))
    return hub_generate


def docs_repo(tmp_path: Path) -> tuple[Path, str]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Tags\n\n" + "EBCDIC files carry a tag. " * 10 + "\n\n# Zoslib\n\n" + "zoslib adds strndup. " * 10 + "\n")
    (docs / "notes.txt").write_text("not markdown\n")
    subprocess.run(["git", "init", "-q", str(docs)], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(docs), "add", "-A"], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(docs), "commit", "-qm", "docs"], check=True, env=GIT_ENV)
    commit = subprocess.run(["git", "-C", str(docs), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return docs, commit


def test_knowledge_chunks_come_from_the_local_document_repository(tools: Path, tmp_path: Path) -> None:
    generate = load_generate(tools)
    docs, commit = docs_repo(tmp_path)
    leaf = {"document": {"repo": "file://%s" % docs, "commit": commit, "patterns": ["*.md", "*.txt"]}}
    chunks = generate.knowledge_chunks("knowledge/a/qna.yaml", leaf, str(tmp_path / "out"), 40)
    assert [chunk["document"] for chunk in chunks] == ["guide.md", "guide.md"]
    assert chunks[0]["passage"].startswith("# Tags") and chunks[1]["passage"].startswith("# Zoslib")
    with pytest.raises(generate.hub_sdg.HubDataError, match="without downloading"):
        generate.knowledge_chunks("knowledge/b/qna.yaml", {"document": {"repo": "https://example.org/docs.git"}}, str(tmp_path / "o2"), 40)
    empty = {"document": {"repo": str(docs), "commit": commit, "patterns": ["*.rst"]}}
    with pytest.raises(generate.hub_sdg.HubDataError, match="no markdown document matches"):
        generate.knowledge_chunks("knowledge/c/qna.yaml", empty, str(tmp_path / "o3"), 40)


def test_generate_stops_on_a_taxonomy_without_trainable_leaf_before_asking_the_teacher(tools: Path, tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy" / "knowledge" / "x"
    taxonomy.mkdir(parents=True)
    (taxonomy / "qna.yaml").write_text("version: 3\nseed_examples: []\n")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("{examples}")
    result = run(str(tools / "hub_generate.py"), "--taxonomy", str(tmp_path / "taxonomy"), "--out", str(tmp_path / "out"),
                 "--url", "http://127.0.0.1:9/v1", "--prompt-file", str(prompt))
    assert result.returncode == 2
    assert "no trainable leaf" in result.stderr and "knowledge/x/qna.yaml" in result.stderr


def test_http_chat_takes_the_first_user_turn_of_a_test_split(tmp_path: Path) -> None:
    sys.path.insert(0, str(CHAT.parent))
    try:
        import http_chat  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(CHAT.parent))
    split = tmp_path / "test.jsonl"
    split.write_text("\nnot json\n" + json.dumps({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": " Q? "}]}) + "\n")
    assert http_chat.first_question(str(split)) == "Q?"
    split.write_text(json.dumps({"user": "U?", "assistant": "A"}) + "\n")
    assert http_chat.first_question(str(split)) == "U?"
    # ilab's {"user": ...} lines: a blank user turn and a line that is not JSON are passed over.
    split.write_text('\n{not json\n{"user": "  ", "assistant": "x"}\n{"user": "Why EBCDIC?", "assistant": "a"}\n', encoding="utf-8")
    assert http_chat.first_question(str(split)) == "Why EBCDIC?"


def test_http_chat_errors_name_the_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run(str(CHAT), "--url", "http://127.0.0.1:9/v1", "--model", "m", "--out", str(tmp_path / "t.json"), "--test-file", str(empty))
    assert result.returncode == 2 and "no question" in result.stderr
    assert not (tmp_path / "t.json").exists()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(str(CHAT), "--url", "http://127.0.0.1:%d/v1" % port, "--model", "m", "--out", str(tmp_path / "t.json"),
                 "--question", "Q?", "--timeout", "5")
    assert result.returncode == 3 and "/completions did not answer" in result.stderr
    assert not (tmp_path / "t.json").exists()


def test_first_round_replies_become_samples_and_repeats_or_close_copies_are_set_aside_unanswered(tools: Path) -> None:
    generate = load_generate(tools)
    seeds = [{"question": "Seed %d?" % n, "answer": "Answer %d." % n, "context": ""} for n in range(4)]
    chunks = [{"leaf": "knowledge/a/qna.yaml", "document": "a.md", "passage": "EBCDIC files carry a tag."}]
    requests = generate.question_requests(seeds, chunks, "Give {count}:\n{examples}\n", 2)
    assert [request.step for request in requests] == ["question"] * 5 + ["self-instruct"]
    # Questions stop where the teacher starts answering them; the self-instruct list does not.
    assert all(r.stop == tuple(generate.hub_sdg.QUESTION_STOP) and r.max_tokens == generate.QUESTION_TOKENS for r in requests[:5])
    assert requests[5].stop == () and "1. Seed 0?" in requests[5].prompt
    assert "Question: Seed 0?\nAnswer: Answer 0.\n" in requests[0].prompt
    replies = ["Why is strndup missing?", "Question: why is STRNDUP missing\nAnswer: link zoslib", "What does EDC5129I mean?",
               "Q: \nA: nothing", "What is a file tag?", "1. Seed 0 again?\n2. How is iconv used on z/OS?"]
    pending, rejected = generate.samples_to_answer(seeds, chunks, replies, 2, 0.7)
    assert [(sample["flow"], sample["question"]) for sample, _prompt in pending] == [
        ("skills", "Why is strndup missing?"), ("skills", "What does EDC5129I mean?"),
        ("self_instruct", "How is iconv used on z/OS?"), ("knowledge", "What is a file tag?")]
    assert "EBCDIC files carry a tag." in pending[3][1] and pending[3][0]["document"] == "a.md"
    assert [(r["question"], r["stage"], r["reason"]) for r in rejected] == [
        ("why is STRNDUP missing", "dedup", "the same question as an earlier skills sample"), ("", "rules", "empty turn: no question"),
        ("Seed 0 again?", "dedup", "ROUGE-L 0.80 >= 0.70 against a seed instruction")]
    assert rejected[0]["seed"] == "Seed 1?" and rejected[1]["seed"] == "Seed 3?"


def test_a_sample_is_judged_on_the_same_server_only_when_it_passes_the_rules(tools: Path) -> None:
    generate = load_generate(tools)
    asked = []

    def ask(request):
        asked.append(request)
        return {"answer": "Include it:\n```c\n#include <strings.h>\n```", "judge": "YES, it is right."}[request.step]

    sample, verdict = generate.answer_and_judge({"kind": "skills", "question": "Q?"}, "answer Q?", True, "code")(ask)
    assert sample["answer"].startswith("Include it") and verdict == (True, "judge: YES, it is right.")
    assert [r.step for r in asked] == ["answer", "judge"] and asked[1].max_tokens == generate.VERDICT_TOKENS
    # The verdict is the next turn of the answer's conversation (the server has just read the rest).
    assert asked[1].before == (("user", "answer Q?"), ("assistant", sample["answer"]))
    assert asked[1].prompt == generate.hub_sdg.JUDGE_FOLLOW_UP and asked[0].before == ()
    asked.clear()
    sample, verdict = generate.answer_and_judge({"kind": "skills", "question": "Q?"}, "p", True, "code")(lambda r: asked.append(r) or "prose")
    assert verdict is None and [r.step for r in asked] == ["answer"]
    _sample, verdict = generate.answer_and_judge({"kind": "skills", "question": "Q?"}, "p", False, "code")(ask)
    assert verdict is None


def test_a_free_teacher_server_takes_the_next_request_while_the_other_is_busy(tools: Path) -> None:
    generate = load_generate(tools)
    others_done = threading.Event()
    answered_by: dict = {}

    def slow(request):
        # Holds its first request until the other server has answered everything else: a share
        # dealt in advance would give this server half of the requests and never set the event.
        answered_by[request.prompt] = "slow"
        others_done.wait(timeout=10)
        return "slow:" + request.prompt

    def fast(request):
        answered_by[request.prompt] = "fast"
        if len([name for name in answered_by.values() if name == "fast"]) == 5:
            others_done.set()
        return "fast:" + request.prompt

    teacher = generate.Teacher([slow, fast])
    replies = teacher.ask([generate.Ask(str(n), "answer") for n in range(6)])
    assert others_done.is_set() and sorted(answered_by.values()) == ["fast"] * 5 + ["slow"]
    assert [reply.split(":")[1] for reply in replies] == [str(n) for n in range(6)]
    assert teacher.calls == 6 and set(teacher.seconds) == {"answer"}
    assert generate.Teacher([fast]).ask([]) == []


def load_lora(tmp_path: Path):
    """hub_lora.py as the role runs it: beside its own copy of hub_sdg.py."""
    folder = tmp_path / "lora"
    folder.mkdir()
    shutil.copy(REPO / "roles" / "hub_train" / "files" / "hub_lora.py", folder)
    shutil.copy(HUB_SDG, folder)
    sys.path.insert(0, str(folder))
    try:
        import hub_lora  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("hub_lora", None)
    return hub_lora


def test_auto_precision_is_bf16_only_on_a_cpu_that_computes_it_natively(tmp_path: Path) -> None:
    hub_lora = load_lora(tmp_path)
    native = tmp_path / "native"
    native.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx512_bf16\n")
    emulated = tmp_path / "emulated"
    emulated.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    assert hub_lora.cpu_has_bf16(str(native)) is True
    assert hub_lora.cpu_has_bf16(str(emulated)) is False
    assert hub_lora.cpu_has_bf16(str(tmp_path / "missing")) is False
    # An explicit choice is kept whatever the device; auto on MPS stays fp32.
    assert hub_lora.precision_of("fp32", "cpu") == "fp32" and hub_lora.precision_of("bf16", "mps") == "bf16"
    assert hub_lora.precision_of("auto", "mps") == "fp32"
    assert hub_lora.precision_of("auto", "cpu", str(native)) == "bf16"
    assert hub_lora.precision_of("auto", "cpu", str(emulated)) == "fp32"


def test_a_cpu_runs_each_batch_one_example_a_pass_and_accumulates_the_rest(tmp_path: Path) -> None:
    hub_lora = load_lora(tmp_path)
    assert hub_lora.micro_batches(4, 0, "cpu") == (1, 4)
    assert hub_lora.micro_batches(4, 0, "cuda") == (4, 1) and hub_lora.micro_batches(4, 0, "mps") == (4, 1)
    assert hub_lora.micro_batches(4, 2, "cpu") == (2, 2) and hub_lora.micro_batches(1, 0, "cpu") == (1, 1)
    with pytest.raises(hub_lora.hub_sdg.HubDataError, match="multiple of the micro-batch size"):
        hub_lora.micro_batches(4, 3, "cuda")
