# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Ask a served model one question through its OpenAI-compatible HTTP API and record the answer.

Standard library only. POST <url>/completions with the student's text format
(<|system|>/<|user|>/<|assistant|>), greedy decoding and a fixed seed, the end-of-text token
held back for the first tokens through logit_bias so a small fresh model cannot answer with
nothing. Writes a JSON transcript; exits non-zero with a message when the server does not
answer or the answer is empty.

Usage: http_chat.py --url http://127.0.0.1:PORT/v1 --model ALIAS --out FILE (--question TEXT | --test-file FILE)
                    [--system TEXT] [--max-tokens N] [--min-tokens N] [--timeout S] [--label NAME]

Used by the roles hub_train and ilab_train for their chat checks (both through the server).
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_SYSTEM = "I am an AI assistant that helps port open-source software to z/OS."
STOP = ["<|endoftext|>", "<|user|>", "<|system|>", "<|im_end|>"]


def post(url, body, timeout):
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def first_question(path):
    """The first question of a test split: {"user": ...}, {"question": ...} or {"messages": [...]} lines."""
    with open(path, "r", encoding="utf-8") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if not isinstance(item, dict):
                continue
            question = item.get("user") or item.get("question")
            if not question:
                question = next((m.get("content") for m in item.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"), "")
            if isinstance(question, str) and question.strip():
                return question.strip()
    return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--question")
    source.add_argument("--test-file")
    parser.add_argument("--system", default=DEFAULT_SYSTEM)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=600.0)
    # The server holds end-of-text back for this many tokens (llama-cpp-python's min_tokens).
    parser.add_argument("--min-tokens", type=int, default=8)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    try:
        question = (args.question or "").strip() or first_question(args.test_file or "")
    except OSError as exc:
        print("http_chat: cannot read the question: %s" % exc, file=sys.stderr)
        return 2
    if not question:
        print("http_chat: no question (empty --question, or no user turn in the test file)", file=sys.stderr)
        return 2
    prompt = "<|system|>\n%s\n<|user|>\n%s\n<|assistant|>\n" % (args.system, question)
    body = {"model": args.model, "prompt": prompt, "max_tokens": args.max_tokens, "temperature": 0.0,
            "top_k": 1, "seed": 42, "stop": STOP, "min_tokens": args.min_tokens}
    started = time.time()
    try:
        result = post(args.url.rstrip("/") + "/completions", body, args.timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print("http_chat: %s/completions did not answer: %s" % (args.url, exc), file=sys.stderr)
        return 3
    choice = (result.get("choices") or [{}])[0]
    answer = str(choice.get("text") or "").strip()
    transcript = {
        "model": args.label or args.model, "served_as": args.model, "endpoint": args.url.rstrip("/") + "/completions",
        "question": question, "answer": answer, "prompt_format": "ilab (<|system|>/<|user|>/<|assistant|>)",
        "tokens": (result.get("usage") or {}).get("completion_tokens"), "finish_reason": choice.get("finish_reason"),
        "seconds": round(time.time() - started, 1),
        "decoding": {"temperature": 0.0, "seed": 42, "max_tokens": args.max_tokens},
    }
    with open(args.out + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(transcript, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    os.replace(args.out + ".tmp", args.out)
    print(json.dumps({"answer_chars": len(answer), "tokens": transcript["tokens"], "seconds": transcript["seconds"]}))
    if not answer:
        print("http_chat: the served model answered with nothing", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
