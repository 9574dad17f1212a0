"""Preflight checks of an InstructLab run: every failure says what to change."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_config import (
    check_context_sizes,
    check_pipelines,
    check_student_dir,
    free_disk_mb,
    host_memory_mb,
    preflight,
    resolve_model_family,
    round_up,
    teacher_memory_mb,
)

# The GGUF writer of the sibling test module (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ilab_gguf import smollm_like  # noqa: E402


def good_params(**overrides):
    params = {
        "device": "cpu",
        "generate_pipeline": "simple",
        "train_pipeline": "simple",
        "model_family": "auto",
        "generate_max_ctx_size": 4096,
        "serve_max_ctx_size": 4096,
        "generate_max_tokens": 1024,
        "prompt_tokens": 2048,
    }
    params.update(overrides)
    return params


def make_student(path: Path) -> Path:
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "llama"}), encoding="utf-8")
    (path / "model.safetensors").write_bytes(b"\0" * 2048)
    (path / "tokenizer.json").write_text("{}", encoding="utf-8")
    return path


def test_round_up() -> None:
    assert round_up(4000) == 4096
    assert round_up(4096) == 4096
    assert round_up(1) == 256


def test_context_sizes_that_fit() -> None:
    assert check_context_sizes(4096, 4096, 1024, 2048, teacher_context_length=8192, train_max_seq_len=4096) == []


def test_context_not_a_multiple_of_256_names_variable_and_fix() -> None:
    errors = check_context_sizes(10000, 4096, 1024, 2048)
    assert errors == [
        "ilab_train_generate_max_ctx_size is 10000, not a multiple of 256 (llama.cpp rounds it and then rejects requests): set it to 10240"
    ]
    serve = check_context_sizes(4096, 4000, 1024, 2048)
    assert len(serve) == 1 and "ilab_train_serve_max_ctx_size is 4000" in serve[0] and "set it to 4096" in serve[0]


@pytest.mark.parametrize("value", [0, -256, "4096", None, True])
def test_context_of_wrong_type(value) -> None:
    errors = check_context_sizes(value, 4096, 1024, 2048)
    assert len(errors) == 1 and "positive multiple of 256" in errors[0]


def test_context_too_small_for_prompt_plus_completion() -> None:
    errors = check_context_sizes(2048, 2048, 1024, 2048)
    assert len(errors) == 1
    assert "needs 3072" in errors[0] and "set ilab_train_generate_max_ctx_size to 3072" in errors[0]


def test_context_larger_than_the_teacher_was_trained_for() -> None:
    errors = check_context_sizes(8192, 4096, 1024, 2048, teacher_context_length=4000)
    assert errors == ["ilab_train_generate_max_ctx_size is 8192 but the teacher was trained for 4000 tokens: set it to at most 3840"]


def test_train_max_seq_len() -> None:
    assert check_context_sizes(4096, 4096, 1024, 2048, train_max_seq_len=1000)[0].startswith("ilab_train_max_seq_len is 1000")


@pytest.mark.parametrize(
    "path, name, template, family",
    [
        ("/m/granite-7b-lab-Q4_K_M.gguf", "", "", "granite"),
        ("/m/merlinite-7b-lab-Q4_K_M.gguf", "", "", "granite"),
        ("/m/mistral-7b-instruct-v0.2.Q4_K_M.gguf", "", "", "mixtral"),
        ("/m/llama-3.2-1b-instruct-q4_k_m.gguf", "", "", "llama"),
        ("/m/model.gguf", "Llama 3.2 1B Instruct", "", "llama"),
        ("/m/model.gguf", "", "<|start_header_id|>user<|end_header_id|>", "llama"),
        ("/m/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2", "<|im_start|>system", "chatml"),
        ("/m/x.gguf", "", "[INST] {{ m }} [/INST]", "mixtral"),
        ("/m/x.gguf", "", "<|user|>\n{{ m }}<|assistant|>", "granite"),
        ("/m/phi.gguf", "phi", "", "blank"),
    ],
)
def test_model_family_auto(path, name, template, family) -> None:
    resolved, why = resolve_model_family("auto", {"path": path, "name": name, "chat_template": template})
    assert resolved == family
    assert why


def test_model_family_explicit_and_unknown() -> None:
    assert resolve_model_family("Mixtral", {"path": "/m/granite.gguf"}) == ("mixtral", "set by ilab_train_model_family")
    with pytest.raises(ValueError, match="ilab_train_model_family 'gpt'"):
        resolve_model_family("gpt", {})


def test_pipelines_per_device() -> None:
    assert check_pipelines("cpu", "simple", "simple") == []
    assert check_pipelines("mps", "full", "full") == []
    assert check_pipelines("cuda", "full", "accelerated") == []
    assert check_pipelines("cpu", "/abs/pipeline", "full") == []
    errors = check_pipelines("cpu", "simple", "accelerated")
    assert errors == ["ilab_train_pipeline accelerated does not run on cpu: use one of simple, full, or another ilab_train_device"]
    assert "ilab_train_generate_pipeline 'fancy'" in check_pipelines("cpu", "fancy", "simple")[0]
    assert "ilab_train_device 'tpu'" in check_pipelines("tpu", "simple", "simple")[0]


def test_student_dir_checks(tmp_path: Path) -> None:
    assert check_student_dir(str(make_student(tmp_path / "student"))) == []
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert "never a GGUF" in check_student_dir(str(gguf))[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    errors = check_student_dir(str(empty))
    assert len(errors) == 3 and all(str(empty) in e for e in errors)


def test_resources_are_measured() -> None:
    assert host_memory_mb() > 0
    assert free_disk_mb("/definitely/not/here/yet") > 0
    assert teacher_memory_mb(1024 * 1024 * 1000, 1.5, 100) == 1600


def test_preflight_passes_with_good_inputs(tmp_path: Path) -> None:
    teacher = smollm_like(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf", tokens=3)
    student = make_student(tmp_path / "student")
    outcome = preflight(good_params(teacher_path=str(teacher), student_path=str(student), workdir=str(tmp_path / "work")))
    assert outcome["errors"] == []
    facts = outcome["facts"]
    assert facts["model_family"] == "chatml"
    assert facts["teacher"]["context_length"] == 8192
    assert facts["required_disk_mb"] == 1024  # student of 0 MiB: 4 x 0 + 1024
    assert facts["free_disk_mb"] > 0


def test_preflight_missing_teacher_names_the_variable(tmp_path: Path) -> None:
    outcome = preflight(good_params(teacher_path=str(tmp_path / "nope.gguf"), teacher_variable="ilab_models_teacher_path"))
    assert outcome["errors"] == ["ilab_models_teacher_path: %s: no such file; set it to a local GGUF file" % (tmp_path / "nope.gguf")]


def test_preflight_teacher_too_large_for_memory(tmp_path: Path) -> None:
    teacher = smollm_like(tmp_path / "granite-7b-lab-Q4_K_M.gguf", tokens=3)
    with open(teacher, "r+b") as handle:
        handle.truncate(40 * 1024**3)  # sparse 40 GiB
    outcome = preflight(good_params(teacher_path=str(teacher), host_memory_mb=16384))
    assert len(outcome["errors"]) == 1
    message = outcome["errors"][0]
    assert "needs about 50176 MiB" in message and "has 16384 MiB" in message and "ilab_models_teacher_path" in message


def test_preflight_not_enough_disk(tmp_path: Path) -> None:
    outcome = preflight(good_params(workdir=str(tmp_path), min_free_mb=10**12))
    assert len(outcome["errors"]) == 1
    assert "set ilab_train_workdir to a larger file system" in outcome["errors"][0]


def test_preflight_collects_every_problem(tmp_path: Path) -> None:
    outcome = preflight(good_params(generate_max_ctx_size=4000, train_pipeline="accelerated", student_path=str(tmp_path / "absent")))
    assert len(outcome["errors"]) == 3


def test_preflight_groups_can_be_skipped(tmp_path: Path) -> None:
    outcome = preflight({"workdir": str(tmp_path), "min_free_mb": 1}, checks={"context": False, "pipelines": False})
    assert outcome["errors"] == []
