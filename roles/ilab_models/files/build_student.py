# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Build a Hugging Face (safetensors) student model from a GGUF file.

Runs inside the ilab virtual environment (transformers, tokenizers, gguf).

Why not just `from_pretrained(gguf_file=...)` and save: for a GPT-2 style byte-level
BPE model (SmolLM2: tokenizer.ggml.model = gpt2) transformers builds a
SentencePiece-style tokenizer, and the GGUF converted back from the trained model then
aborts llama.cpp on load. So the tokenizer is rebuilt from the GGUF's own token list and
merges with the `tokenizers` library (BPE model, ByteLevel pre-tokenizer and decoder),
and the chat tokens `ilab model train --pipeline simple` formats its data with
(<|system|>, <|user|>, <|assistant|>, <|endoftext|>) are added as single tokens; the
embedding matrix grows to match.

Usage: build_student.py --gguf FILE --out DIR [--dtype float32|bfloat16] [--result FILE]
Writes DIR atomically (DIR.tmp then rename) and prints a JSON summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

# Chat template of ilab's simple/full training data format (granite/merlinite style).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' + message['content'] + '<|endoftext|>' + ('' if loop.last else '\\n') }}"
    "{% endif %}"
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
    "{% endfor %}"
)
DEFAULT_CHAT_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|endoftext|>", "<|pretrain|>", "<|/pretrain|>"]
# Pre-tokenizer of Llama 3 (tokenizer.ggml.pre = llama-bpe) and the models that copied it.
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA3_STYLE = ("llama-bpe", "llama3", "smaug-bpe", "falcon3")
CONTROL = 3  # gguf TokenType.CONTROL
USER_DEFINED = 4


def _field_strings(reader, name):
    field = reader.fields.get(name)
    if field is None:
        return None
    return [bytes(field.parts[index]).decode("utf-8", errors="replace") for index in field.data]


def _field_ints(reader, name):
    field = reader.fields.get(name)
    if field is None:
        return None
    return [int(field.parts[index][0]) for index in field.data]


def _field_scalar(reader, name):
    field = reader.fields.get(name)
    if field is None:
        return None
    value = field.parts[field.data[0]]
    if field.types and field.types[0].name == "STRING":
        return bytes(value).decode("utf-8", errors="replace")
    return value[0].item() if hasattr(value[0], "item") else value[0]


def build_tokenizer(gguf_path, chat_tokens):
    """A PreTrainedTokenizerFast rebuilt from the GGUF's BPE vocabulary and merges."""
    from gguf import GGUFReader
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    reader = GGUFReader(gguf_path)
    kind = _field_scalar(reader, "tokenizer.ggml.model")
    if kind != "gpt2":
        return None, kind
    tokens = _field_strings(reader, "tokenizer.ggml.tokens")
    merges = _field_strings(reader, "tokenizer.ggml.merges") or []
    types = _field_ints(reader, "tokenizer.ggml.token_type") or [1] * len(tokens)
    pre = _field_scalar(reader, "tokenizer.ggml.pre") or "default"
    vocab = {token: index for index, token in enumerate(tokens)}
    bpe = models.BPE(vocab=vocab, merges=[tuple(merge.split(" ", 1)) for merge in merges], fuse_unk=False, byte_fallback=False)
    tokenizer = Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in ("smollm", "starcoder", "refact"):
        # These pre-tokenizers split every digit on its own before the GPT-2 regex.
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    elif pre in LLAMA3_STYLE:
        # Llama 3 style: one split regex (digits in groups of up to 3), then bytes without the GPT-2 regex.
        split = pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False)
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    specials = [AddedToken(tok, special=True, normalized=False) for tok, kind_ in zip(tokens, types) if kind_ in (CONTROL, USER_DEFINED)]
    tokenizer.add_special_tokens(specials)

    def token_at(name, fallback):
        index = _field_scalar(reader, name)
        return tokens[int(index)] if index is not None and 0 <= int(index) < len(tokens) else fallback

    eos = token_at("tokenizer.ggml.eos_token_id", "<|endoftext|>")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=token_at("tokenizer.ggml.bos_token_id", eos),
        eos_token=eos,
        unk_token=token_at("tokenizer.ggml.unknown_token_id", eos),
        pad_token=token_at("tokenizer.ggml.padding_token_id", eos),
        clean_up_tokenization_spaces=False,
    )
    missing = [tok for tok in chat_tokens if tok not in vocab]
    if missing:
        fast.add_special_tokens({"additional_special_tokens": missing})
    fast.chat_template = CHAT_TEMPLATE
    return fast, kind


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--chat-token", action="append", dest="chat_tokens")
    args = parser.parse_args(argv)
    chat_tokens = args.chat_tokens or DEFAULT_CHAT_TOKENS
    started = time.time()
    if not os.path.isfile(args.gguf):
        print("build_student: %s: no such GGUF file" % args.gguf, file=sys.stderr)
        return 2

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = args.out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    directory, name = os.path.split(os.path.abspath(args.gguf))
    tokenizer, kind = build_tokenizer(args.gguf, chat_tokens)
    if tokenizer is None:
        # SentencePiece (llama) vocabularies convert correctly through transformers itself.
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
        missing = [tok for tok in chat_tokens if tok not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_special_tokens({"additional_special_tokens": missing})
        tokenizer.chat_template = CHAT_TEMPLATE
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=getattr(torch, args.dtype))
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)

    # Prove the chat tokens are single tokens: ilab's response template relies on it.
    check = AutoTokenizer.from_pretrained(tmp)
    split = {tok: check.encode(tok, add_special_tokens=False) for tok in chat_tokens}
    bad = {tok: ids for tok, ids in split.items() if len(ids) != 1}
    if bad:
        print("build_student: chat tokens are not single tokens after the rebuild: %s" % bad, file=sys.stderr)
        return 3
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.replace(tmp, args.out)
    summary = {
        "student": args.out,
        "source_gguf": args.gguf,
        "tokenizer_model": kind,
        "vocab_size": len(check),
        "architecture": model.config.model_type,
        "dtype": args.dtype,
        "seconds": round(time.time() - started, 1),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
