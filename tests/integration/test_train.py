"""playbooks/train.yml end to end on localhost: taxonomy -> data -> trained GGUF -> chat answer.

Marked e2e: the first run on a machine installs the ilab environment (about 5-10 minutes,
cached under ~/.cache/autoport/ilab/<hash>/venv afterwards), then generates, trains,
converts and asks (about 10-15 minutes on 2 CPU cores). The bad-input runs stop in the
checks before any expensive step.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from playbook_harness import RunResult, assert_ok, run_playbook, run_twice

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "taxonomy_small"
QUESTION = "Why do text files written by a ported tool show up garbled on z/OS?"
# Steps whose start means the expensive part began.
EXPENSIVE = ("Start: ilab data generate", "Start: ilab model train", "Start: convert_hf_to_gguf")


def git_repo(root: Path) -> Path:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "taxonomy"], check=True, env=env)
    return root


def taxonomy_copy(parent: Path, name: str = "taxonomy") -> Path:
    root = parent / name
    shutil.copytree(FIXTURE, root)
    return root


def failure_messages(run: RunResult) -> list[str]:
    return [
        "%s: %s" % (event["event_data"].get("task"), event["event_data"].get("res", {}).get("msg", ""))
        for event in run.events
        if event.get("event") == "runner_on_failed" and not event["event_data"].get("ignore_errors")
    ]


def started_tasks(run: RunResult) -> list[str]:
    return [e["event_data"].get("task", "") for e in run.events if e.get("event") == "playbook_on_task_start"]


def fact(run: RunResult, task: str, name: str) -> Any:
    for result in run.task_results(task):
        value = result.get("ansible_facts", {}).get(name)
        if value:
            return value
    raise AssertionError("no fact %s from task %r" % (name, task))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("train-e2e")
    taxonomy = git_repo(taxonomy_copy(base))
    output = base / "output"
    extravars = {
        "ilab_train_taxonomy_src": str(taxonomy),
        "ilab_train_output_dir": str(output),
        # A fresh work area each session: generation, training, conversion and chat really run.
        # The ilab environment and the models stay cached under ~/.cache/autoport/ilab.
        "ilab_train_workdir": str(base / "work"),
        "ilab_train_chat_question": QUESTION,
    }
    first, second, seconds = run_twice("train.yml", extravars, base)
    return {"first": first, "second": second, "output": output, "seconds": seconds, "extravars": extravars}


def test_trained_gguf_exists_and_loads(trained: dict[str, Any]) -> None:
    first: RunResult = trained["first"]
    models = sorted((trained["output"] / "model").glob("*.gguf"))
    assert len(models) == 1, models
    gguf = models[0]
    assert gguf.read_bytes()[:4] == b"GGUF"
    python = fact(first, "Publish the environment to the other roles", "ilab_env_python_path")
    probe = (
        "import json, sys, llama_cpp\n"
        "llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, verbose=False)\n"
        # End-of-text is held back so the model must produce eight tokens of text.
        "out = llm.create_completion('Porting a C program to z/OS', max_tokens=8, temperature=0, logit_bias={llm.token_eos(): -100.0})\n"
        "print(json.dumps(out['choices'][0]['text']))\n"
        "print(out['usage']['completion_tokens'])\n"
    )
    loaded = subprocess.run([python, "-c", probe, str(gguf)], capture_output=True, text=True, timeout=300, check=False)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    text, tokens = loaded.stdout.strip().splitlines()[-2:]
    assert int(tokens) == 8
    assert json.loads(text).strip()


def test_chat_answer_is_recorded(trained: dict[str, Any]) -> None:
    transcript = json.loads((trained["output"] / "report" / "chat.json").read_text(encoding="utf-8"))
    assert transcript["question"] == QUESTION
    assert transcript["answer"].strip()
    assert transcript["model"].endswith(".gguf")
    # Item 4 of issue 13: asked through the served model's OpenAI-compatible HTTP API.
    assert transcript["endpoint"].endswith("/v1/completions")


def test_run_report_has_the_numbers(trained: dict[str, Any]) -> None:
    report = json.loads((trained["output"] / "report" / "report.json").read_text(encoding="utf-8"))
    samples = report["samples"]
    assert samples["seed_examples"] == 5
    assert samples["generated"] > 0 and samples["kept"] > 0
    assert samples["rejected"] == samples["generated"] - samples["kept"]
    assert isinstance(report["training"]["final_loss"], float) and report["training"]["final_loss"] > 0
    assert report["chat"]["answer"].strip()
    for step in ("generate", "train", "convert", "chat"):
        assert report["steps"][step]["ran"] is True
    markdown = (trained["output"] / "report" / "report.md").read_text(encoding="utf-8")
    assert "| kept | %d |" % samples["kept"] in markdown
    # Data and logs came back too.
    assert list((trained["output"] / "generated").rglob("train_*.jsonl"))
    assert (trained["output"] / "logs" / "train.log").is_file()
    stats = trained["first"].set_stats
    assert stats["ilab_samples_generated"] == samples["generated"]
    assert stats["ilab_training_loss"] == pytest.approx(report["training"]["final_loss"])
    timings = {step: report["steps"][step]["seconds"] for step in report["steps"]}
    print("\ntrain.yml: first run %.0f s, second run %.0f s, steps %s" % (trained["seconds"][0], trained["seconds"][1], timings))


def test_second_run_changes_nothing(trained: dict[str, Any]) -> None:
    second: RunResult = trained["second"]
    assert_ok(second)
    assert second.changed == 0, "second run changed: %s" % second.changed_tasks()
    assert not [task for task in started_tasks(second) if task.startswith(EXPENSIVE)]
    assert second.set_stats["ilab_samples_generated"] == trained["first"].set_stats["ilab_samples_generated"]


def test_a_question_from_the_curated_test_split_reruns_only_the_chat_check(trained: dict[str, Any], tmp_path: Path) -> None:
    # The curate stage's held-out split, InstructLab messages format: its first user turn is asked.
    split = tmp_path / "test_messages.jsonl"
    user = "Port: lua. File: src/loslib.c. Phase: build.\n\nHow do you fix this build error in src/loslib.c when porting lua to z/OS?"
    line = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": user}, {"role": "assistant", "content": "a"}]}
    split.write_text("\n" + json.dumps(line) + "\n", encoding="utf-8")
    variables = dict(trained["extravars"], ilab_train_chat_question="", ilab_train_chat_test_split=str(split))
    third = run_playbook("train.yml", variables, private_data_dir=str(tmp_path / "run3"))
    assert_ok(third)
    assert "Run the chat check" in third.changed_tasks()
    assert not [task for task in started_tasks(third) if task.startswith(EXPENSIVE)]
    transcript = json.loads((trained["output"] / "report" / "chat.json").read_text(encoding="utf-8"))
    assert transcript["question"] == user
    assert transcript["answer"].strip()


def run_bad(tmp_path: Path, **extravars: Any) -> RunResult:
    taxonomy = extravars.pop("taxonomy", None) or git_repo(taxonomy_copy(tmp_path))
    variables = {
        "ilab_train_taxonomy_src": str(taxonomy),
        "ilab_train_output_dir": str(tmp_path / "output"),
        "ilab_train_workdir": str(tmp_path / "work"),
    }
    variables.update(extravars)
    run = run_playbook("train.yml", variables, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0 and run.status == "failed", run.stdout[-3000:]
    assert not [task for task in started_tasks(run) if task.startswith(EXPENSIVE)], "an expensive step started"
    return run


def test_missing_model_file_fails_first(tmp_path: Path) -> None:
    run = run_bad(tmp_path, ilab_models_teacher_path=str(tmp_path / "no-such-teacher.gguf"))
    messages = failure_messages(run)
    assert len(messages) == 1
    assert "ilab_models_teacher_path" in messages[0] and "no such file" in messages[0] and "no-such-teacher.gguf" in messages[0]
    assert "Provide the InstructLab environment" not in started_tasks(run)


def test_context_not_multiple_of_256_fails_first(tmp_path: Path) -> None:
    run = run_bad(tmp_path, ilab_train_generate_max_ctx_size=4000)
    messages = failure_messages(run)
    assert len(messages) == 1
    assert "ilab_train_generate_max_ctx_size is 4000" in messages[0] and "set it to 4096" in messages[0]
    assert "Provide the InstructLab environment" not in started_tasks(run)


def test_teacher_too_large_for_memory_fails_first(tmp_path: Path) -> None:
    teacher = tmp_path / "granite-7b-lab-Q4_K_M.gguf"
    key, value = b"general.architecture", b"llama"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(value)) + value
    teacher.write_bytes(header)
    with open(teacher, "r+b") as handle:
        handle.truncate(48 * 1024**3)  # sparse: claims 48 GiB, uses none
    run = run_bad(tmp_path, ilab_models_teacher_path=str(teacher), ilab_models_host_memory_mb=16384)
    messages = failure_messages(run)
    assert len(messages) == 1 and "has 16384 MiB" in messages[0] and "ilab_models_teacher_path" in messages[0]


def test_invalid_taxonomy_fails_before_generation(tmp_path: Path) -> None:
    taxonomy = taxonomy_copy(tmp_path)
    qna = taxonomy / "compositional_skills" / "engineering" / "zos_porting" / "qna.yaml"
    text = qna.read_text(encoding="utf-8")
    # Keep two of the five examples: schema v3 needs at least five.
    qna.write_text(text[: text.index("  - question: >-\n      Why do text files")], encoding="utf-8")
    run = run_bad(tmp_path, taxonomy=git_repo(taxonomy))
    messages = failure_messages(run)
    assert len(messages) == 1
    assert messages[0].startswith("Stop when the taxonomy is invalid or empty")
    assert "ilab taxonomy diff rejected the taxonomy" in messages[0] and "at least 5" in messages[0]


def test_not_enough_disk_fails_before_generation(tmp_path: Path) -> None:
    run = run_bad(tmp_path, ilab_train_min_free_mb=10**9)
    messages = failure_messages(run)
    assert len(messages) == 1 and "set ilab_train_workdir to a larger file system" in messages[0]
