"""GGUF header reader: real structure written by the test, hostile and broken files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_gguf import (
    KEEP_ARRAY_ITEMS,
    GGUFError,
    read_gguf_metadata,
    summarize_gguf,
)

UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64 = 4, 5, 6, 7, 8, 9, 10


def _string(value: str, endian: str = "<") -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(endian + "Q", len(raw)) + raw


def _kv(key: str, kind: int, payload: bytes, endian: str = "<") -> bytes:
    return _string(key, endian) + struct.pack(endian + "I", kind) + payload


def write_gguf(path: Path, entries: list[bytes], endian: str = "<", version: int = 3, tensors: int = 7) -> Path:
    header = b"GGUF" + struct.pack(endian + "I", version) + struct.pack(endian + "QQ", tensors, len(entries))
    path.write_bytes(header + b"".join(entries) + b"\0" * 64)
    return path


def smollm_like(path: Path, endian: str = "<", tokens: int = 100) -> Path:
    e = endian
    token_array = struct.pack(e + "IQ", STRING, tokens) + b"".join(_string("t%d" % i, e) for i in range(tokens))
    type_array = struct.pack(e + "IQ", INT32, tokens) + struct.pack(e + "%di" % tokens, *([1] * tokens))
    entries = [
        _kv("general.architecture", STRING, _string("llama", e), e),
        _kv("general.name", STRING, _string("SmolLM2 135M Instruct", e), e),
        _kv("llama.context_length", UINT32, struct.pack(e + "I", 8192), e),
        _kv("llama.rope.freq_base", FLOAT32, struct.pack(e + "f", 100000.0), e),
        _kv("tokenizer.ggml.add_bos_token", BOOL, struct.pack(e + "?", False), e),
        _kv("tokenizer.ggml.model", STRING, _string("gpt2", e), e),
        _kv("tokenizer.ggml.pre", STRING, _string("smollm", e), e),
        _kv("tokenizer.ggml.tokens", ARRAY, token_array, e),
        _kv("tokenizer.ggml.token_type", ARRAY, type_array, e),
        _kv("general.file_type", UINT32, struct.pack(e + "I", 3), e),
        _kv("tokenizer.chat_template", STRING, _string("{% for m in messages %}<|im_start|>{{ m['role'] }}{% endfor %}", e), e),
    ]
    return write_gguf(path, entries, endian)


def test_reads_metadata_and_summarizes(tmp_path: Path) -> None:
    path = smollm_like(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf", tokens=10)
    info = read_gguf_metadata(str(path))
    assert info["version"] == 3
    assert info["tensor_count"] == 7
    assert info["metadata"]["llama.context_length"] == 8192
    assert info["metadata"]["tokenizer.ggml.tokens"] == ["t%d" % i for i in range(10)]
    assert info["metadata"]["tokenizer.ggml.add_bos_token"] is False
    assert info["metadata"]["llama.rope.freq_base"] == pytest.approx(100000.0)
    summary = summarize_gguf(str(path))
    assert summary["architecture"] == "llama"
    assert summary["name"] == "SmolLM2 135M Instruct"
    assert summary["context_length"] == 8192
    assert summary["tokenizer_model"] == "gpt2"
    assert summary["tokenizer_pre"] == "smollm"
    assert summary["has_chat_template"] is True
    assert "<|im_start|>" in summary["chat_template"]
    assert summary["file_type"] == 3
    assert summary["size_bytes"] == path.stat().st_size


def test_long_arrays_are_summarized_not_kept(tmp_path: Path) -> None:
    count = KEEP_ARRAY_ITEMS * 4
    path = smollm_like(tmp_path / "m.gguf", tokens=count)
    meta = read_gguf_metadata(str(path))["metadata"]
    assert meta["tokenizer.ggml.tokens"] == {"array_length": count}
    assert meta["tokenizer.ggml.token_type"] == {"array_length": count}
    # Reading continued correctly past both arrays.
    assert meta["general.file_type"] == 3


def test_big_endian_file(tmp_path: Path) -> None:
    path = smollm_like(tmp_path / "be.gguf", endian=">", tokens=3)
    info = read_gguf_metadata(str(path))
    assert info["byte_order"] == "big"
    assert info["metadata"]["llama.context_length"] == 8192


def test_version_1_uses_32_bit_counts(tmp_path: Path) -> None:
    key = b"general.architecture"
    value = b"llama"
    body = struct.pack("<I", len(key)) + key + struct.pack("<I", STRING) + struct.pack("<I", len(value)) + value
    path = tmp_path / "v1.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<III", 1, 0, 1) + body)
    assert read_gguf_metadata(str(path))["metadata"] == {"general.architecture": "llama"}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a GGUF file"),
        (b"PK\x03\x04 a zip, e.g. a wheel", "not a GGUF file"),
        (b"<!DOCTYPE html><html>login</html>", "not a GGUF file"),
        (b"GGUF", "no version"),
        (b"GGUF" + struct.pack("<I", 9), "unsupported GGUF version 9"),
        (b"GGUF" + struct.pack("<IQ", 3, 1), "truncated"),
        (b"\x00\xff" * 64, "not a GGUF file"),
    ],
)
def test_broken_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError) as info:
        read_gguf_metadata(str(path))
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_truncated_in_the_middle_of_metadata(tmp_path: Path) -> None:
    full = smollm_like(tmp_path / "full.gguf", tokens=50).read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(full[:200])
    with pytest.raises(GGUFError, match="truncated"):
        read_gguf_metadata(str(cut))


def test_hostile_lengths_are_refused_without_allocating(tmp_path: Path) -> None:
    huge_string = write_gguf(tmp_path / "s.gguf", [struct.pack("<Q", 2**60)])
    with pytest.raises(GGUFError, match="implausible"):
        read_gguf_metadata(str(huge_string))
    huge_array = write_gguf(tmp_path / "a.gguf", [_kv("x", ARRAY, struct.pack("<IQ", STRING, 2**40))])
    with pytest.raises(GGUFError, match="implausible"):
        read_gguf_metadata(str(huge_array))
    many_entries = tmp_path / "n.gguf"
    many_entries.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2**50))
    with pytest.raises(GGUFError, match="implausible"):
        read_gguf_metadata(str(many_entries))
    # A fixed-size array claiming more bytes than the file holds.
    past_end = write_gguf(tmp_path / "p.gguf", [_kv("x", ARRAY, struct.pack("<IQ", UINT64, 10**7))])
    with pytest.raises(GGUFError, match="past the end"):
        read_gguf_metadata(str(past_end))


def test_unknown_value_type(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "t.gguf", [_kv("x", 99, b"")])
    with pytest.raises(GGUFError, match="unknown GGUF value type 99"):
        read_gguf_metadata(str(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="no such file"):
        read_gguf_metadata(str(tmp_path / "absent.gguf"))
    with pytest.raises(GGUFError, match="not a regular file"):
        read_gguf_metadata(str(tmp_path))


def test_summary_needs_an_architecture(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "noarch.gguf", [_kv("general.name", STRING, _string("x"))])
    with pytest.raises(GGUFError, match="general.architecture"):
        summarize_gguf(str(path))


def test_sparse_huge_file_reads_only_the_header(tmp_path: Path) -> None:
    path = smollm_like(tmp_path / "big.gguf", tokens=3)
    with open(path, "r+b") as handle:
        handle.truncate(64 * 1024**3)  # sparse: 64 GiB claimed, nothing allocated
    summary = summarize_gguf(str(path))
    assert summary["size_bytes"] == 64 * 1024**3
    assert summary["context_length"] == 8192
