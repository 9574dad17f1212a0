# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Prove a trained GGUF: load it with llama-cpp-python, ask one porting question, record the answer.

Runs inside the ilab virtual environment.

Usage: chat_check.py --model FILE --out FILE (--question TEXT | --question-file FILE | --test-file FILE)
                     [--system TEXT] [--max-tokens N] [--min-tokens N] [--ctx N] [--seed N]

The prompt uses the format ilab trained the student on (<|system|> / <|user|> /
<|assistant|>). Decoding is greedy (temperature 0, fixed seed) so the same model and
question give the same answer and a re-run does not change the transcript. The first
--min-tokens tokens may not end the answer (end-of-text is masked), so a freshly trained
small model cannot answer with nothing. Writes a JSON transcript; exits non-zero with a
message when the model does not load or the answer is empty.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

DEFAULT_SYSTEM = "I am an AI assistant that helps port open-source software to z/OS."
STOP = ["<|endoftext|>", "<|user|>", "<|system|>", "<|im_end|>"]


def pick_question(args) -> str:
    if args.question:
        return args.question.strip()
    if args.question_file:
        with open(args.question_file, "r", encoding="utf-8") as handle:
            return handle.read().strip()
    # The first question of the test split (ilab writes {"user": ..., "assistant": ...} lines).
    with open(args.test_file, "r", encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                item = json.loads(line)
            except ValueError:
                continue
            question = item.get("user") or item.get("question") if isinstance(item, dict) else None
            if isinstance(question, str) and question.strip():
                return question.strip()
    return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--question")
    source.add_argument("--question-file")
    source.add_argument("--test-file")
    parser.add_argument("--system", default=DEFAULT_SYSTEM)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--min-tokens", type=int, default=8)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    if not os.path.isfile(args.model):
        print("chat_check: %s: no such GGUF file" % args.model, file=sys.stderr)
        return 2
    try:
        question = pick_question(args)
    except (OSError, UnicodeDecodeError) as exc:
        print("chat_check: cannot read the question: %s" % exc, file=sys.stderr)
        return 2
    if not question:
        print("chat_check: no question (empty --question/--question-file, or no user turn in the test file)", file=sys.stderr)
        return 2

    import numpy as np
    from llama_cpp import Llama, LogitsProcessorList

    started = time.time()
    try:
        llm = Llama(model_path=args.model, n_ctx=args.ctx, seed=args.seed, verbose=False, n_threads=max(1, os.cpu_count() or 1))
    except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
        print("chat_check: llama.cpp could not load %s: %s" % (args.model, exc), file=sys.stderr)
        return 3
    loaded = time.time() - started
    prompt = "<|system|>\n%s\n<|user|>\n%s\n<|assistant|>\n" % (args.system, question)
    prompt_tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    end_ids = {llm.token_eos()}
    for stop in STOP:
        ids = llm.tokenize(stop.encode("utf-8"), add_bos=False, special=True)
        if len(ids) == 1:
            end_ids.add(ids[0])

    def hold_back_end(input_ids, scores):
        # input_ids holds prompt + generated tokens; mask the end tokens until min_tokens are out.
        if len(input_ids) - len(prompt_tokens) < args.min_tokens:
            scores = np.array(scores, copy=True)
            for token in end_ids:
                if 0 <= token < scores.shape[-1]:
                    scores[token] = -np.inf
        return scores

    result = llm.create_completion(
        prompt=prompt,
        max_tokens=args.max_tokens,
        temperature=0.0,
        top_k=1,
        seed=args.seed,
        stop=STOP,
        logits_processor=LogitsProcessorList([hold_back_end]),
    )
    answer = result["choices"][0]["text"].strip()
    transcript = {
        "model": args.model,
        "question": question,
        "answer": answer,
        "prompt_format": "ilab (<|system|>/<|user|>/<|assistant|>)",
        "tokens": result.get("usage", {}).get("completion_tokens"),
        "finish_reason": result["choices"][0].get("finish_reason"),
        "seconds": round(time.time() - started, 1),
        "load_seconds": round(loaded, 1),
        "decoding": {"temperature": 0.0, "seed": args.seed, "max_tokens": args.max_tokens, "min_tokens": args.min_tokens},
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(transcript, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, args.out)
    print(json.dumps({"answer_chars": len(answer), "tokens": transcript["tokens"], "seconds": transcript["seconds"]}))
    if not answer:
        print("chat_check: %s loaded but answered with nothing" % args.model, file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
