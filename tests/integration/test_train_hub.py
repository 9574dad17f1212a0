"""playbooks/train.yml with autoport_train_backend=hub, end to end on localhost.

The demo-sized taxonomy (the skills leaf of tests/fixtures/taxonomy_small plus a knowledge
leaf whose markdown document lives in a local git repository) goes through sdg_hub generation
against the served teacher GGUF, rule filters and the LLM judge, LoRA training with
transformers + peft on the kept samples plus curated examples, merge, GGUF conversion and a
chat question through the served model's HTTP API. One playbook run, many assertions on its
outputs; a second run proves idempotence. The produced GGUF is served again here and answers
over HTTP. Marked e2e. The hub venv is cached under ~/.cache/autoport/hub/<hash>/venv (first
install about 4 minutes from pip's cache); on a warm cache the module takes about 6-8 minutes
on 2 busy cores. The bad-input runs stop before any long step.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from playbook_harness import RunResult, assert_ok, run_playbook, run_twice

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
SKILLS = REPO / "tests" / "fixtures" / "taxonomy_small"
KNOWLEDGE = REPO / "tests" / "fixtures" / "knowledge_hub"
QUESTION = "How do I guard code that only works on z/OS in a C source file?"
LONG_STEPS = ("Start: sdg_hub generate", "Start: LoRA training", "Start: convert_hf_to_gguf", "Serve the model and wait")
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")


def free_port() -> int:
    """A free port whose next port is free too (the second teacher server listens there)."""
    while True:
        with socket.socket() as probe, socket.socket() as after:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            try:
                after.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


def demo_taxonomy(base: Path) -> Path:
    """Skills leaf + knowledge leaf pointing at a local documents repository (file:// URL)."""
    docs = base / "knowledge-docs"
    shutil.copytree(KNOWLEDGE / "docs", docs)
    subprocess.run(["git", "init", "-q", str(docs)], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(docs), "add", "-A"], check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(docs), "commit", "-qm", "docs"], check=True, env=GIT_ENV)
    commit = subprocess.run(["git", "-C", str(docs), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    taxonomy = base / "taxonomy"
    shutil.copytree(SKILLS, taxonomy)
    leaf = taxonomy / "knowledge" / "technology" / "zos_porting" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    text = (KNOWLEDGE / "leaf" / "qna.yaml").read_text(encoding="utf-8")
    leaf.write_text(text.replace("DOCS_REPO", "file://%s" % docs).replace("DOCS_COMMIT", commit), encoding="utf-8")
    return taxonomy


def curated(base: Path) -> Path:
    folder = base / "curated"
    folder.mkdir()
    user = "Port: lua. File: src/loslib.c. Phase: build.\n\nHow do you fix an undeclared strndup in src/loslib.c on z/OS?"
    message = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": user},
                            {"role": "assistant", "content": "Link zoslib and include its header:\n```c\n#include \"zos.h\"\n```"}]}
    alpaca = {"instruction": "Fix the build error on z/OS.", "input": "strndup undeclared", "output": "```c\n#include \"zos.h\"\n```"}
    # The curate stage writes each record in both formats: the alpaca twin of the message is
    # trained once; with hub_train_max_curated 2 the third curated record is left out.
    context, question = user.split("\n\n")
    twin = {"instruction": question, "input": context, "output": message["messages"][2]["content"]}
    second = {"instruction": "Why does fopen return EDC5129I?", "input": "", "output": "The file does not exist; check the path."}
    (folder / "train_messages.jsonl").write_text(json.dumps(message) + "\n", encoding="utf-8")
    (folder / "train_alpaca.jsonl").write_text(json.dumps(twin) + "\n" + json.dumps(alpaca) + "\n" + json.dumps(second) + "\n",
                                               encoding="utf-8")
    return folder


def variables(base: Path, taxonomy: Path, port: int) -> dict[str, Any]:
    return {
        "autoport_train_backend": "hub",
        "hub_train_taxonomy_src": str(taxonomy),
        "hub_train_curated_dir": str(base / "curated"),
        "hub_train_output_dir": str(base / "output"),
        "hub_train_workdir": str(base / "work"),
        "hub_train_serve_port": port,
        "hub_train_chat_question": QUESTION,
        # Lean settings for 2 busy cores: short answers, few instructions and passages.
        "hub_train_num_instructions": 2,
        "hub_train_max_chunks": 2,
        "hub_train_max_seeds": 2,
        "hub_train_generate_max_tokens": 128,
        "hub_train_serve_ctx_size": 1024,
        "hub_train_max_seq_len": 256,
        "hub_train_chat_max_tokens": 48,
        "hub_train_max_curated": 2,
        "hub_train_teacher_servers": 2,
    }


def started_tasks(run: RunResult) -> list[str]:
    return [e["event_data"].get("task", "") for e in run.events if e.get("event") == "playbook_on_task_start"]


def failure_messages(run: RunResult) -> list[str]:
    return [
        str(event["event_data"].get("res", {}).get("msg", ""))
        for event in run.events
        if event.get("event") == "runner_on_failed" and not event["event_data"].get("ignore_errors")
    ]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("train-hub")
    taxonomy = demo_taxonomy(base)
    curated(base)
    extravars = variables(base, taxonomy, free_port())
    first, second, (first_seconds, second_seconds) = run_twice("train.yml", extravars, base)
    print("\nhub train.yml: first run %.0f s, second run %.0f s" % (first_seconds, second_seconds))
    return {"first": first, "second": second, "base": base, "output": base / "output", "extravars": extravars}


def test_samples_come_from_skills_self_instruct_and_knowledge_and_every_rejection_has_a_reason(hub: dict[str, Any]) -> None:
    generated = hub["output"] / "generated"
    samples = [json.loads(line) for line in (generated / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    rejected = [json.loads(line) for line in (generated / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    kept = [json.loads(line) for line in (generated / "kept.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = json.loads((generated / "summary.json").read_text(encoding="utf-8"))
    flows = {sample["flow"] for sample in samples}
    assert {"skills", "knowledge"} <= flows
    knowledge = [sample for sample in samples if sample["kind"] == "knowledge"]
    assert knowledge and all(sample["document"] == "ebcdic.md" for sample in knowledge)
    assert summary["knowledge_chunks"] == 2 and summary["seed_examples"] == 2
    assert sorted(summary["leaves"]) == ["compositional_skills/engineering/zos_porting/qna.yaml", "knowledge/technology/zos_porting/qna.yaml"]
    assert all(item["reason"] and item["stage"] in ("dedup", "rules", "judge") for item in rejected)
    assert summary["kept"] == len(kept) and summary["rejected"] == len(rejected)
    # Dedup rejections are instructions that were never answered; the rest are samples.
    assert summary["generated"] == summary["kept"] + summary["rejected"]
    assert len(samples) == len(kept) + len([item for item in rejected if item["stage"] != "dedup"])
    for record in kept:
        roles = [message["role"] for message in record["messages"]]
        assert roles == ["system", "user", "assistant"] and all(m["content"].strip() for m in record["messages"])
    # Every teacher call went to the served teacher over HTTP (the server's log counts them).
    # Two teacher servers (hub_train_teacher_servers 2): both answered, on ports port and port + 1.
    logs = [hub["output"] / "logs" / name for name in ("server-teacher.log", "server-teacher-1.log")]
    served = [log.read_text(encoding="utf-8", errors="replace").count("POST /v1/chat/completions") for log in logs]
    assert sum(served) == summary["teacher_calls"] > 0 and min(served) > 0
    assert "Uvicorn running on http://127.0.0.1:%d" % (hub["extravars"]["hub_train_serve_port"] + 1) in logs[1].read_text(
        encoding="utf-8", errors="replace")


def test_lora_training_used_the_seed_hyperparameters_and_the_curated_data(hub: dict[str, Any]) -> None:
    report = json.loads((hub["output"] / "report" / "report.json").read_text(encoding="utf-8"))
    training = report["training"]
    assert training["hyperparameters"]["r"] == 64 and training["hyperparameters"]["alpha"] == 16
    assert training["hyperparameters"]["dropout"] == pytest.approx(0.1)
    assert training["hyperparameters"]["scheduler"] == "cosine" and training["hyperparameters"]["group_by_length"] is True
    assert training["sources"]["curated_messages"] == 1 and training["sources"]["curated_alpaca"] == 1
    assert training["left_out_by_reason"] == {"the same question and answer as a curated messages record": 1,
                                              "over the cap of 2 curated examples": 1}
    assert training["tokens"] > 0
    # hub_train_precision auto: bf16 where the CPU computes it natively.
    flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace") if Path("/proc/cpuinfo").exists() else ""
    native = "avx512_bf16" in flags.split() or "amx_bf16" in flags.split()
    assert training["device"] == "cpu" and training["precision"] == ("bf16" if native else "fp32")
    # hub_train_micro_batch_size auto on a CPU: each batch of 4 run one example a pass, accumulated.
    assert (training["hyperparameters"]["batch_size"], training["hyperparameters"]["micro_batch_size"],
            training["hyperparameters"]["accumulation_steps"]) == (4, 1, 4)
    assert training["sources"].get("generated", 0) == report["samples"]["kept"]
    assert isinstance(training["final_loss"], float) and training["final_loss"] > 0 and training["steps"] >= 1
    assert training["trainable_parameters"] > 0
    for step in ("generate", "train", "convert", "chat"):
        assert report["steps"][step]["seconds"] > 0
    stats = hub["first"].set_stats
    assert stats["hub_steps_ran"] == ["sdg_hub generate", "LoRA training", "convert_hf_to_gguf", "The chat check over HTTP"]
    assert stats["hub_samples_generated"] == report["samples"]["generated"]
    assert stats["hub_training_loss"] == pytest.approx(training["final_loss"])
    print("\nhub report: samples %s, steps %s, train %.0f s peak %.0f MB" % (
        {k: report["samples"][k] for k in ("generated", "kept", "rejected")},
        {k: v["seconds"] for k, v in report["steps"].items()}, training["seconds"], training["peak_rss_mb"]))


def test_chat_went_through_the_http_api_and_the_server_was_stopped(hub: dict[str, Any]) -> None:
    transcript = json.loads((hub["output"] / "report" / "chat.json").read_text(encoding="utf-8"))
    assert transcript["question"] == QUESTION and transcript["answer"].strip()
    assert transcript["endpoint"].endswith("/v1/completions") and transcript["model"].endswith(".gguf")
    log = (hub["output"] / "logs" / "server-trained.log").read_text(encoding="utf-8", errors="replace")
    assert "POST /v1/completions" in log
    assert not (hub["base"] / "work" / "server.pid").exists() and not (hub["base"] / "work" / "server-1.pid").exists()
    for port in (hub["extravars"]["hub_train_serve_port"], hub["extravars"]["hub_train_serve_port"] + 1):
        with socket.socket() as probe:
            # Nothing listens on the teacher's ports any more (connection refused).
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_trained_gguf_is_served_and_answers_over_http(hub: dict[str, Any]) -> None:
    models = sorted((hub["output"] / "model").glob("*.gguf"))
    assert len(models) == 1 and models[0].read_bytes()[:4] == b"GGUF"
    python = Path(hub["first"].task_results("Publish the environment")[0]["ansible_facts"]["hub_train_python_path"])
    port = free_port()
    config = hub["base"] / "serve.json"
    config.write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": [
        {"model": str(models[0]), "model_alias": "hub", "n_ctx": 512, "n_threads": 1, "verbose": False}]}), encoding="utf-8")
    server = REPO / "roles" / "evaluate" / "files" / "model_server.py"
    pid = hub["base"] / "serve.pid"
    started = subprocess.run([str(python), str(server), "start", "--config", str(config), "--port", str(port), "--log",
                              str(hub["base"] / "serve.log"), "--pid", str(pid), "--python", str(python)],
                             capture_output=True, text=True, timeout=400, check=False)
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        body = {"model": "hub", "prompt": "<|user|>\nPorting a C program to z/OS\n<|assistant|>\n", "max_tokens": 8,
                "min_tokens": 8, "temperature": 0}
        request = urllib.request.Request("http://127.0.0.1:%d/v1/completions" % port, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = json.loads(response.read())
    finally:
        subprocess.run([str(python), str(server), "stop", "--pid", str(pid)], check=True, timeout=60)
    assert answer["usage"]["completion_tokens"] == 8
    assert answer["choices"][0]["text"].strip()


def test_second_run_changes_nothing(hub: dict[str, Any]) -> None:
    second: RunResult = hub["second"]
    assert_ok(second)
    assert second.changed == 0, "second run changed: %s" % second.changed_tasks()
    assert not [task for task in started_tasks(second) if task.startswith(LONG_STEPS)]
    assert second.set_stats["hub_samples_generated"] == hub["first"].set_stats["hub_samples_generated"]
    assert second.set_stats["hub_steps_ran"] == []


def test_the_evaluation_compares_the_hub_model_on_the_test_split(hub: dict[str, Any]) -> None:
    """evaluate.yml serves the hub GGUF as the system tuned_hub beside the base model, same items."""
    base = hub["base"] / "evaluate"
    base.mkdir()
    wrong = "#include <sys/epoll.h>\nint x;\n"
    item = {"id": "a" * 32, "port": "alphaport", "file": "src/a.c", "phase": "build", "toolchain": "clang",
            "error": "src/a.c:1:10: fatal error: 'sys/epoll.h' file not found", "error_category": "missing-header",
            "wrong_code": wrong, "correct_code": "#ifndef __MVS__\n" + wrong.splitlines()[0] + "\n#endif\nint x;\n",
            "patch": "", "provenance": "build"}
    (base / "test.jsonl").write_text(json.dumps(item) + "\n", encoding="utf-8")
    (base / "train.jsonl").write_text(json.dumps(dict(item, id="b" * 32, port="trainport")) + "\n", encoding="utf-8")
    extravars = {
        "evaluate_records": str(base / "test.jsonl"), "evaluate_train_records": str(base / "train.jsonl"),
        "evaluate_output_dir": str(base / "output"), "evaluate_workdir": str(base / "work"),
        "evaluate_systems": ["base", "tuned_hub"], "evaluate_tuned_hub_model": str(hub["output"] / "model"),
        "evaluate_max_tokens": 32, "evaluate_serve_port": free_port(), "evaluate_serve_ctx_size": 1024,
    }
    run = run_playbook("evaluate.yml", extravars, private_data_dir=str(base / "run"))
    assert_ok(run)
    lines = [json.loads(line) for line in (base / "output" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(line["system"], line["file"]) for line in lines] == [("base", "src/a.c"), ("tuned_hub", "src/a.c")]
    assert all(line["status"] != "error" for line in lines), lines
    overall = run.set_stats["evaluate_overall"]
    assert set(overall) == {"base", "tuned_hub"}
    print("\nevaluation on 1 item: %s" % {system: overall[system]["exact"]["mean"] for system in overall})


def run_bad(tmp_path: Path, taxonomy: Path, **extra: Any) -> RunResult:
    extravars = dict(variables(tmp_path, taxonomy, extra.pop("port", free_port())), **extra)
    run = run_playbook("train.yml", extravars, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0 and run.status == "failed", run.stdout[-3000:]
    assert not [task for task in started_tasks(run) if task.startswith(LONG_STEPS)], "a long step started"
    return run


def test_a_port_in_use_fails_first_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        run = run_bad(tmp_path, demo_taxonomy(tmp_path), port=port)
    messages = failure_messages(run)
    assert len(messages) == 1 and "port %d" % port in messages[0] and "hub_train_serve_port" in messages[0]
    assert "Provide the InstructLab environment" not in started_tasks(run)


def test_a_busy_port_of_the_second_teacher_server_fails_first(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port + 1))
        busy.listen(1)
        run = run_bad(tmp_path, demo_taxonomy(tmp_path), port=port)
    messages = failure_messages(run)
    assert len(messages) == 1 and messages[0].startswith("port %d on 127.0.0.1 is in use" % (port + 1))
    assert "and the 1 ports after it" in messages[0]


def test_a_taxonomy_without_trainable_leaf_fails_first(tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy"
    leaf = taxonomy / "knowledge" / "x" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_text("version: 3\nseed_examples: []\n", encoding="utf-8")
    messages = failure_messages(run_bad(tmp_path, taxonomy))
    assert len(messages) == 1 and "no trainable leaf" in messages[0] and "knowledge/x/qna.yaml" in messages[0]


def test_too_little_memory_fails_before_generation(tmp_path: Path) -> None:
    run = run_bad(tmp_path, demo_taxonomy(tmp_path), hub_train_min_memory_mb=10 ** 9)
    messages = failure_messages(run)
    assert len(messages) == 1 and "memory available" in messages[0] and "hub_train_min_memory_mb" in messages[0]


def test_a_teacher_that_does_not_load_fails_before_generation(tmp_path: Path) -> None:
    teacher = tmp_path / "broken-teacher.gguf"
    teacher.write_bytes(b"GGUF" + b"\0" * 64)
    run = run_bad(tmp_path, demo_taxonomy(tmp_path), ilab_models_teacher_path=str(teacher))
    messages = failure_messages(run)
    assert len(messages) == 1 and "broken-teacher.gguf" in messages[0], messages
    assert "Start: sdg_hub generate" not in started_tasks(run)
