"""The helper scripts the ilab roles copy to the AI host: argument handling and the parts
that need no InstructLab install (the e2e test runs them for real in the ilab venv)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[4] / "roles"
ILAB_RUN = ROLES / "ilab_train" / "files" / "ilab_run.py"
RENDER = ROLES / "ilab_train" / "files" / "render_pipeline.py"
BUILD = ROLES / "ilab_models" / "files" / "build_student.py"


def run(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=60, check=False)


def test_ilab_run_needs_the_separator_and_known_options() -> None:
    missing = run(ILAB_RUN, "model", "train")
    assert missing.returncode == 2 and "usage: ilab_run.py" in missing.stderr
    unknown = run(ILAB_RUN, "--gpu-magic", "--", "model", "train")
    assert unknown.returncode == 2 and "--gpu-magic" in unknown.stderr


@pytest.fixture()
def base_pipeline(tmp_path: Path) -> Path:
    base = tmp_path / "pipelines" / "simple"
    base.mkdir(parents=True)
    (tmp_path / "configs").mkdir()
    llm = {
        "version": "1.0",
        "blocks": [
            {
                "name": "gen_skill_freeform",
                "type": "LLMBlock",
                "config": {"config_path": "../../configs/gen.yaml", "output_cols": ["output"], "gen_kwargs": {"max_tokens": 2048, "n": "scaled"}},
                "drop_duplicates": ["output"],
            },
            {"name": "filter", "type": "FilterByValueBlock", "config": {"filter_column": "score"}},
        ],
    }
    for name in ("knowledge.yaml", "freeform_skills.yaml", "grounded_skills.yaml"):
        (base / name).write_text(yaml.safe_dump(llm), encoding="utf-8")
    return base


def test_render_pipeline_sets_prompt_cap_and_absolute_config(base_pipeline: Path, tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    prompt = "<|im_start|>user\n{{ prompt }}<|im_end|>\n<|im_start|>assistant\n"
    first = run(RENDER, "--base", str(base_pipeline), "--out", str(out), "--model-prompt", prompt, "--max-tokens", "1024")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["changed"] is True
    rendered = yaml.safe_load((out / "freeform_skills.yaml").read_text(encoding="utf-8"))
    llm_block, filter_block = rendered["blocks"]
    assert llm_block["config"]["model_prompt"] == prompt
    assert llm_block["config"]["gen_kwargs"] == {"max_tokens": 1024, "n": "scaled"}
    assert llm_block["config"]["config_path"] == str(tmp_path / "configs" / "gen.yaml")
    assert "model_prompt" not in filter_block["config"]
    again = run(RENDER, "--base", str(base_pipeline), "--out", str(out), "--model-prompt", prompt, "--max-tokens", "1024")
    assert json.loads(again.stdout)["changed"] is False
    # A larger cap never raises the pipeline's own limit.
    wider = run(RENDER, "--base", str(base_pipeline), "--out", str(out), "--model-prompt", prompt, "--max-tokens", "4096")
    assert yaml.safe_load((out / "knowledge.yaml").read_text(encoding="utf-8"))["blocks"][0]["config"]["gen_kwargs"]["max_tokens"] == 2048
    assert json.loads(wider.stdout)["changed"] is True


def test_render_pipeline_refuses_a_folder_without_pipelines(tmp_path: Path) -> None:
    result = run(RENDER, "--base", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "is not an SDG pipeline directory" in result.stderr


def test_build_student_fails_clearly_on_missing_gguf(tmp_path: Path) -> None:
    result = run(BUILD, "--gguf", str(tmp_path / "absent.gguf"), "--out", str(tmp_path / "student"))
    assert result.returncode == 2 and "absent.gguf: no such GGUF file" in result.stderr
    assert not (tmp_path / "student").exists()


def ilab_python() -> Path | None:
    """The python of an ilab environment ilab_env already built on this machine, if any."""
    for marker in sorted(Path.home().glob(".cache/autoport/ilab/*/venv/.autoport-ilab-pins")):
        python = marker.parent / "bin" / "python"
        if python.exists():
            return python
    return None


TOKENIZER_PROBE = r'''
import importlib.util, json, sys
import gguf
spec = importlib.util.spec_from_file_location("build_student", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

def byte_chars():
    # GPT-2's printable mapping of the 256 byte values.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]

results = {}
for pre in ("smollm", "llama-bpe"):
    path = sys.argv[2] + "/%s.gguf" % pre
    tokens = ["<|endoftext|>", "<|im_start|>"] + byte_chars() + ["he", "\u0120t", "\u0120the", "20", "202"]
    types = [3, 3] + [1] * (len(tokens) - 2)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(["h e", "\u0120 t", "\u0120t he", "2 0", "20 2"])
    writer.add_eos_token_id(0)
    writer.add_bos_token_id(0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tokenizer, kind = module.build_tokenizer(path, module.DEFAULT_CHAT_TOKENS)
    text = "<|user|>\nthe 2026 z/OS port<|endoftext|>"
    ids = tokenizer.encode(text, add_special_tokens=False)
    results[pre] = {
        "kind": kind,
        "user": tokenizer.encode("<|user|>", add_special_tokens=False),
        "assistant": tokenizer.encode("<|assistant|>", add_special_tokens=False),
        "the": tokenizer.encode(" the", add_special_tokens=False),
        "digits": [tokenizer.decode([i]) for i in tokenizer.encode("2026", add_special_tokens=False)],
        "roundtrip": tokenizer.decode(ids),
        "vocab": len(tokenizer),
        "eos": tokenizer.eos_token,
    }
print(json.dumps(results))
'''


@pytest.mark.skipif(ilab_python() is None, reason="no ilab environment built on this machine (ilab_env makes one)")
def test_student_tokenizer_rebuilt_from_gguf_vocabulary(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ilab_python()), "-c", TOKENIZER_PROBE, str(BUILD), str(tmp_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    base = 2 + 256 + 5
    for pre, tokenizer in found.items():
        assert tokenizer["kind"] == "gpt2"
        assert tokenizer["eos"] == "<|endoftext|>"
        # The chat tokens are single tokens appended after the GGUF vocabulary.
        assert len(tokenizer["user"]) == 1 and tokenizer["user"][0] >= base, pre
        assert len(tokenizer["assistant"]) == 1 and tokenizer["assistant"][0] >= base, pre
        assert tokenizer["vocab"] == base + 5  # <|endoftext|> was there already
        # BPE merges apply: " the" is one token.
        assert len(tokenizer["the"]) == 1, pre
        assert tokenizer["roundtrip"] == "<|user|>\nthe 2026 z/OS port<|endoftext|>"
    # SmolLM splits every digit before BPE; Llama 3 keeps groups of up to three, which BPE then merges.
    assert found["smollm"]["digits"] == ["2", "0", "2", "6"]
    assert found["llama-bpe"]["digits"] == ["202", "6"]
