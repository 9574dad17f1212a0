# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""LoRA instruction tuning with transformers + peft, then merge into a plain Hugging Face folder.

Runs inside the hub virtual environment, next to hub_sdg.py. Trains on the generated samples
(kept.jsonl) plus the curated train_messages.jsonl / train_alpaca.jsonl (each curated record
once, at most --max-curated of them), in the student's
<|system|>/<|user|>/<|assistant|> text format, with the loss on the answer tokens only.
Defaults are the seed's hyperparameters: r 64, alpha 16, dropout 0.1, cosine schedule,
group_by_length; on a CPU each batch is run one example at a time and accumulated. Writes the merged model and tokenizer to --out and train_report.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hub_sdg  # noqa: E402


def dataset(tokenizer, examples: list, max_len: int) -> list:
    rows = []
    for example in examples:
        prompt_ids = tokenizer(example["prompt"], add_special_tokens=False)["input_ids"]
        ids = tokenizer(example["text"], add_special_tokens=False)["input_ids"][:max_len]
        labels = [-100] * min(len(prompt_ids), len(ids)) + ids[len(prompt_ids):]
        if any(label != -100 for label in labels):
            rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels[:len(ids)]})
    return rows


def collate(pad_id):
    import torch

    def pad(batch):
        width = max(len(row["input_ids"]) for row in batch)
        out = {"input_ids": [], "attention_mask": [], "labels": []}
        for row in batch:
            extra = width - len(row["input_ids"])
            out["input_ids"].append(row["input_ids"] + [pad_id] * extra)
            out["attention_mask"].append(row["attention_mask"] + [0] * extra)
            out["labels"].append(row["labels"] + [-100] * extra)
        return {key: torch.tensor(value) for key, value in out.items()}
    return pad


def device_of(name: str) -> str:
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slower."""
    try:
        with open(cpuinfo, "r", encoding="ascii", errors="replace") as handle:
            flags = {flag for line in handle if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def precision_of(name: str, device: str, cpuinfo: str = "/proc/cpuinfo") -> str:
    """bf16 or fp32: auto takes bf16 on a CUDA GPU that supports it and on a CPU that computes it
    natively (about 1.6x faster and a third less memory than fp32 on this project's CPU host)."""
    if name != "auto":
        return name
    if device == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device == "cpu" and cpu_has_bf16(cpuinfo) else "fp32"


def micro_batches(batch_size: int, micro_batch_size: int, device: str) -> tuple[int, int]:
    """(examples per forward pass, passes per optimizer step) for batch_size examples a step.
    micro_batch_size 0 is auto: one example a pass on a CPU, where a pass over a padded batch is
    about twice as slow per example (attention with a padding mask; measured on this project's
    CPU host: 42 s for 3 steps of 4 against 22 s with 4 passes of 1, the same losses), and the
    whole batch in one pass on a GPU."""
    micro = micro_batch_size or (1 if device == "cpu" else batch_size)
    if batch_size < 1 or micro < 1 or batch_size % micro:
        raise hub_sdg.HubDataError("the batch size (%d) must be a multiple of the micro-batch size (%d)" % (batch_size, micro))
    return micro, batch_size // micro


def train(args) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    started = time.monotonic()
    torch.manual_seed(args.seed)
    examples, left_out = hub_sdg.training_texts(
        hub_sdg.read_jsonl(args.generated), hub_sdg.read_jsonl(args.curated_messages),
        hub_sdg.read_jsonl(args.curated_alpaca), args.max_curated)
    if not examples:
        raise hub_sdg.HubDataError("no training example: %s, %s and %s hold no usable record"
                                   % (args.generated, args.curated_messages, args.curated_alpaca))
    tokenizer = AutoTokenizer.from_pretrained(args.student)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = dataset(tokenizer, examples, args.max_seq_len)
    device = device_of(args.device)
    micro, accumulation = micro_batches(args.batch_size, args.micro_batch_size, device)
    precision = precision_of(args.precision, device)
    model = AutoModelForCausalLM.from_pretrained(args.student, dtype=torch.bfloat16 if precision == "bf16" else torch.float32)
    config = LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                        target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    training = TrainingArguments(
        output_dir=os.path.join(args.out, "..", "checkpoints"), num_train_epochs=args.epochs,
        per_device_train_batch_size=micro, gradient_accumulation_steps=accumulation,
        learning_rate=args.learning_rate, lr_scheduler_type=args.scheduler, warmup_steps=0,
        group_by_length=args.group_by_length, logging_steps=1, save_strategy="no", report_to=[],
        seed=args.seed, use_cpu=device == "cpu", dataloader_num_workers=0, remove_unused_columns=False,
        disable_tqdm=False, bf16=precision == "bf16",
    )
    trainer = Trainer(model=model, args=training, train_dataset=rows, data_collator=collate(tokenizer.pad_token_id))
    result = trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    merged = model.merge_and_unload()
    merged.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    sources = dict(collections.Counter(example["source"] for example in examples))
    left_by_reason = dict(collections.Counter(item["reason"] for item in left_out))
    return {
        "examples": len(rows), "sources": sources, "tokens": sum(len(row["input_ids"]) for row in rows),
        "left_out": left_out, "left_out_by_reason": left_by_reason, "steps": result.global_step, "device": device, "precision": precision,
        "trainable_parameters": trainable, "final_loss": float(losses[-1]) if losses else None,
        "losses": [float(loss) for loss in losses],
        "hyperparameters": {"r": args.lora_r, "alpha": args.lora_alpha, "dropout": args.lora_dropout,
                            "scheduler": args.scheduler, "group_by_length": args.group_by_length,
                            "learning_rate": args.learning_rate, "epochs": args.epochs, "batch_size": args.batch_size,
                            "micro_batch_size": micro, "accumulation_steps": accumulation},
        "seconds": round(time.monotonic() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True)
    parser.add_argument("--generated", required=True)
    parser.add_argument("--curated-messages", default="")
    parser.add_argument("--curated-alpaca", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--lora-r", type=int, default=64)
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--lora-dropout", type=float, default=0.1)
    parser.add_argument("--scheduler", default="cosine")
    parser.add_argument("--group-by-length", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--micro-batch-size", type=int, default=0,
                        help="examples per forward pass; the rest of a batch is accumulated (0: 1 on a CPU, the batch elsewhere)")
    parser.add_argument("--max-seq-len", type=int, default=512)
    parser.add_argument("--max-curated", type=int, default=0, help="curated examples trained on (0: all)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        report = train(args)
    except hub_sdg.HubDataError as exc:
        print("hub_lora: %s" % exc, file=sys.stderr)
        return 2
    with open(args.report, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    print(json.dumps({k: report[k] for k in ("examples", "tokens", "steps", "final_loss", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
