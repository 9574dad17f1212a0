# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Checks an InstructLab run needs before anything expensive starts, and the values derived.

Every check returns messages that say what to change (which variable, to what), so the
roles can stop with them before an hour of generation or training is wasted:

- context sizes: llama.cpp rounds a context up to a multiple of 32 and then reports
  "maximum context length is 10016" or fails with a numpy broadcast error; use
  multiples of 256, large enough for the prompt plus the completion;
- the SDG prompt format must match the teacher (ilab guesses it from the file name);
- the training pipeline must fit the device;
- the teacher must fit in memory and the work directory must have room.

Standard library only: this runs on the AI host.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ansible_collections.autoport.zos.plugins.module_utils.ilab_gguf import GGUFError, summarize_gguf

CONTEXT_MULTIPLE = 256
# Families instructlab-sdg 0.8 has prompt templates for (PromptRegistry), and what they mean.
SDG_FAMILIES = ("granite", "merlinite", "mixtral", "mistral", "llama", "blank")
# `chatml` has no template in instructlab-sdg: the role renders a pipeline whose LLM blocks
# carry the ChatML prompt (model_prompt) instead of passing --model-family.
FAMILIES = SDG_FAMILIES + ("chatml",)
CHATML_PROMPT = "<|im_start|>user\n{{ prompt }}<|im_end|>\n<|im_start|>assistant\n"
DEVICES = ("cpu", "cuda", "mps")
GENERATE_PIPELINES = ("simple", "full")
TRAIN_PIPELINES = ("simple", "full", "accelerated")
# Which training pipeline runs on which device (ilab 0.26): simple = LoRA on Linux CPU/CUDA
# or MLX on Apple Silicon; full = CPU or Apple Silicon (MPS); accelerated = CUDA only.
TRAIN_PIPELINE_DEVICES = {
    "simple": ("cpu", "cuda", "mps"),
    "full": ("cpu", "mps"),
    "accelerated": ("cuda",),
}


def round_up(value: int, multiple: int = CONTEXT_MULTIPLE) -> int:
    return ((max(int(value), 1) + multiple - 1) // multiple) * multiple


def check_context_sizes(
    generate_ctx: int,
    serve_ctx: int,
    generate_max_tokens: int,
    prompt_tokens: int,
    teacher_context_length: int | None = None,
    train_max_seq_len: int | None = None,
) -> list[str]:
    """Messages for every context size that llama.cpp or ilab would reject; empty when all fit.

    generate_ctx/serve_ctx: llama.cpp contexts of the teacher during generation and of the
    served model; generate_max_tokens: completion length the SDG blocks ask for;
    prompt_tokens: budget for the longest prompt (seed examples included).
    """
    errors = []
    names = (("ilab_train_generate_max_ctx_size", generate_ctx), ("ilab_train_serve_max_ctx_size", serve_ctx))
    for name, value in names:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors.append("%s is %r: set it to a positive multiple of %d, e.g. 4096" % (name, value, CONTEXT_MULTIPLE))
        elif value % CONTEXT_MULTIPLE:
            errors.append(
                "%s is %d, not a multiple of %d (llama.cpp rounds it and then rejects requests): set it to %d"
                % (name, value, CONTEXT_MULTIPLE, round_up(value))
            )
    if errors:
        return errors
    need = generate_max_tokens + prompt_tokens
    if generate_ctx < need:
        errors.append(
            "ilab_train_generate_max_ctx_size is %d but a prompt of up to %d tokens plus %d generated tokens needs %d: "
            "set ilab_train_generate_max_ctx_size to %d, or lower ilab_train_generate_max_tokens / ilab_train_prompt_tokens"
            % (generate_ctx, prompt_tokens, generate_max_tokens, need, round_up(need))
        )
    if teacher_context_length and generate_ctx > teacher_context_length:
        errors.append(
            "ilab_train_generate_max_ctx_size is %d but the teacher was trained for %d tokens: set it to at most %d"
            % (generate_ctx, teacher_context_length, (teacher_context_length // CONTEXT_MULTIPLE) * CONTEXT_MULTIPLE)
        )
    if train_max_seq_len is not None and (train_max_seq_len <= 0 or train_max_seq_len % CONTEXT_MULTIPLE):
        errors.append("ilab_train_max_seq_len is %r: set it to a positive multiple of %d" % (train_max_seq_len, CONTEXT_MULTIPLE))
    return errors


def resolve_model_family(requested: str, teacher: Mapping[str, Any]) -> tuple[str, str]:
    """(family, why) for the SDG prompt format of the teacher.

    requested: "auto" or a family name. teacher: summarize_gguf() output (path, name,
    architecture, has_chat_template) plus optionally "chat_template" text.
    """
    requested = (requested or "auto").strip().lower()
    if requested != "auto":
        if requested not in FAMILIES:
            raise ValueError(
                "ilab_train_model_family %r is not one of %s (or auto)" % (requested, ", ".join(FAMILIES))
            )
        return requested, "set by ilab_train_model_family"
    path = str(teacher.get("path") or "")
    words = " ".join([os.path.basename(path), str(teacher.get("name") or "")]).lower()
    template = str(teacher.get("chat_template") or "")
    if re.search(r"granite|merlinite", words):
        return "granite", "teacher name mentions granite/merlinite"
    if re.search(r"mistral|mixtral", words):
        return "mixtral", "teacher name mentions mistral/mixtral"
    if "<|start_header_id|>" in template or re.search(r"llama[-_ ]?3", words):
        return "llama", "Llama 3 chat format"
    if "<|im_start|>" in template:
        return "chatml", "the teacher's chat template is ChatML (<|im_start|>)"
    if "[INST]" in template:
        return "mixtral", "the teacher's chat template uses [INST]"
    if "<|user|>" in template or "<|assistant|>" in template:
        return "granite", "the teacher's chat template uses <|user|>/<|assistant|>"
    return "blank", "no known chat format: raw prompt"


def check_pipelines(device: str, generate_pipeline: str, train_pipeline: str) -> list[str]:
    errors = []
    if device not in DEVICES:
        errors.append("ilab_train_device %r is not one of %s" % (device, ", ".join(DEVICES)))
        return errors
    if generate_pipeline not in GENERATE_PIPELINES and not os.path.isabs(generate_pipeline):
        errors.append(
            "ilab_train_generate_pipeline %r: use %s or the absolute path of a pipeline directory" % (generate_pipeline, " or ".join(GENERATE_PIPELINES))
        )
    if train_pipeline not in TRAIN_PIPELINES:
        errors.append("ilab_train_pipeline %r is not one of %s" % (train_pipeline, ", ".join(TRAIN_PIPELINES)))
    elif device not in TRAIN_PIPELINE_DEVICES[train_pipeline]:
        fits = [name for name, devices in TRAIN_PIPELINE_DEVICES.items() if device in devices]
        errors.append(
            "ilab_train_pipeline %s does not run on %s: use one of %s, or another ilab_train_device"
            % (train_pipeline, device, ", ".join(fits))
        )
    return errors


def host_memory_mb() -> int:
    """Physical memory of this host in MiB (Linux and macOS)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024))
    except (ValueError, OSError, AttributeError):
        return 0


def free_disk_mb(path: str) -> int:
    """Free MiB on the file system that holds path (or its nearest existing parent)."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    stats = os.statvfs(probe)
    return int(stats.f_bavail * stats.f_frsize // (1024 * 1024))


def teacher_memory_mb(size_bytes: int, factor: float, overhead_mb: int) -> int:
    """Memory llama.cpp needs for a GGUF teacher: its size times factor plus a fixed overhead."""
    return int(size_bytes * factor / (1024 * 1024)) + int(overhead_mb)


def directory_size_bytes(path: str) -> int:
    total = 0
    for current, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(current, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def check_student_dir(path: str) -> list[str]:
    """A Hugging Face checkpoint ilab can train: config.json, safetensors/bin weights, a tokenizer."""
    if not os.path.isdir(path):
        return ["student model %s is not a directory: set ilab_models_student_path to a Hugging Face model directory (never a GGUF)" % path]
    names = set(os.listdir(path))
    errors = []
    if "config.json" not in names:
        errors.append("student model %s has no config.json: it is not a Hugging Face model directory" % path)
    if not any(n.endswith(".safetensors") or n.endswith(".bin") for n in names):
        errors.append("student model %s has no *.safetensors or *.bin weights" % path)
    if not names & {"tokenizer.json", "tokenizer.model"}:
        errors.append("student model %s has no tokenizer.json or tokenizer.model" % path)
    return errors


def preflight(params: Mapping[str, Any], checks: Mapping[str, bool] | None = None) -> dict[str, Any]:
    """Run the checks; returns {"errors": [...], "facts": {...}} (errors empty when all is well).

    checks: {"context": bool, "pipelines": bool} turns those groups off (default on); the
    teacher, student and disk checks run when their path is given.

    params keys: teacher_path, teacher_variable (named in messages), student_path (may be empty: built later), workdir,
    device, generate_pipeline, train_pipeline, model_family, generate_max_ctx_size,
    serve_max_ctx_size, generate_max_tokens, prompt_tokens, train_max_seq_len,
    teacher_memory_factor, teacher_memory_overhead_mb, host_memory_mb (0 = measure),
    min_free_mb.
    """
    errors: list[str] = []
    facts: dict[str, Any] = {}
    teacher = None
    teacher_path = params.get("teacher_path") or ""
    if teacher_path:
        try:
            teacher = summarize_gguf(teacher_path)
        except GGUFError as exc:
            errors.append("%s: %s; set it to a local GGUF file" % (params.get("teacher_variable") or "ilab_models_teacher_path", exc))
    if teacher is not None:
        facts["teacher"] = teacher
        memory = int(params.get("host_memory_mb") or 0) or host_memory_mb()
        need = teacher_memory_mb(
            teacher["size_bytes"], float(params.get("teacher_memory_factor", 1.2)), int(params.get("teacher_memory_overhead_mb", 1024))
        )
        facts["host_memory_mb"] = memory
        facts["teacher_memory_mb"] = need
        if memory and need > memory:
            errors.append(
                "teacher %s needs about %d MiB of memory and this host has %d MiB: choose a smaller or more quantized "
                "teacher (%s, e.g. a Q4_K_M GGUF) or another AI host"
                % (teacher_path, need, memory, params.get("teacher_variable") or "ilab_models_teacher_path")
            )
        try:
            family, why = resolve_model_family(str(params.get("model_family") or "auto"), teacher)
            facts["model_family"] = family
            facts["model_family_reason"] = why
        except ValueError as exc:
            errors.append(str(exc))
    student_path = params.get("student_path") or ""
    if student_path:
        student_errors = check_student_dir(student_path)
        errors.extend(student_errors)
        if not student_errors:
            facts["student_size_mb"] = directory_size_bytes(student_path) // (1024 * 1024)
    checks = dict(checks or {})
    if checks.get("context", True):
        errors.extend(
            check_context_sizes(
                params.get("generate_max_ctx_size"),
                params.get("serve_max_ctx_size"),
                int(params.get("generate_max_tokens") or 0),
                int(params.get("prompt_tokens") or 0),
                teacher["context_length"] if teacher else None,
                params.get("train_max_seq_len"),
            )
        )
    if checks.get("pipelines", True):
        errors.extend(check_pipelines(str(params.get("device")), str(params.get("generate_pipeline")), str(params.get("train_pipeline"))))
    workdir = params.get("workdir") or ""
    if workdir:
        free = free_disk_mb(workdir)
        facts["free_disk_mb"] = free
        need_disk = int(params.get("min_free_mb") or 0)
        if not need_disk and "student_size_mb" in facts:
            # checkpoints + merged model + GGUF + slack
            need_disk = facts["student_size_mb"] * 4 + 1024
        facts["required_disk_mb"] = need_disk
        if need_disk and free < need_disk:
            errors.append(
                "%s has %d MiB free and this run needs about %d MiB: free space there or set ilab_train_workdir to a larger file system"
                % (workdir, free, need_disk)
            )
    return {"errors": errors, "facts": facts}
