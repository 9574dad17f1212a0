"""The helper scripts of the hub backend and the shared HTTP chat: the parts that need neither
the hub venv nor a served model (tests/integration/test_train_hub.py runs them for real)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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


class RecordingTeacher:
    """Answers each prompt from a list in order and keeps every prompt it was asked."""

    def __init__(self, replies: list) -> None:
        self.replies, self.prompts, self.stops = list(replies), [], []

    def ask(self, prompts: list, max_tokens: int = 0, stop: list = None) -> list:
        self.prompts.extend(prompts)
        self.stops.append(stop)
        return [self.replies.pop(0) for _prompt in prompts]


def test_a_repeated_skills_question_is_set_aside_before_it_is_answered(tools: Path) -> None:
    generate = load_generate(tools)
    seeds = [{"question": "Seed %d?" % n, "answer": "Answer %d." % n, "context": ""} for n in range(4)]
    teacher = RecordingTeacher(["Why is strndup missing?", "Question: why is STRNDUP missing\nAnswer: link zoslib",
                                "What does EDC5129I mean?", "Q: \nA: nothing", "Answer one.", "Answer two."])
    samples, rejected = generate.skills_samples(teacher, seeds)
    assert [(s["question"], s["answer"]) for s in samples] == [
        ("Why is strndup missing?", "Answer one."), ("What does EDC5129I mean?", "Answer two.")]
    assert [(r["question"], r["stage"], r["reason"], r["seed"]) for r in rejected] == [
        ("why is STRNDUP missing", "dedup", "the same question as an earlier skills sample", "Seed 1?"),
        ("", "rules", "empty turn: no question", "Seed 3?")]
    # Four questions asked (stopped where the teacher starts answering), two answers.
    assert teacher.stops[0] == generate.hub_sdg.QUESTION_STOP and teacher.stops[1] is None
    assert len(teacher.prompts) == 6 and not any("STRNDUP" in p for p in teacher.prompts[4:])


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


def test_prompts_are_dealt_round_robin_among_the_teacher_servers(tools: Path) -> None:
    generate = load_generate(tools)
    assert generate.spread(["a", "b", "c", "d", "e"], 2) == [[(0, "a"), (2, "c"), (4, "e")], [(1, "b"), (3, "d")]]
    assert generate.spread(["a"], 3) == [[(0, "a")]]
    assert generate.spread([], 2) == []
