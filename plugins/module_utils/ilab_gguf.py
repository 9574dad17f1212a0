# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Read the header and metadata of a GGUF model file with the standard library only.

The AI host checks a teacher or student GGUF before anything expensive: is it a GGUF at
all (not a safetensors file, an HTML error page or a truncated download), which
architecture and name it declares (the SDG prompt family is guessed from them), and how
long a context it was trained for. Only the metadata is read; tensor data never is.

Format (ggml docs/gguf.md): magic b"GGUF", uint32 version (1..3), tensor count and
metadata count (uint32 in v1, uint64 after), then key/value pairs. Big-endian files
exist; they are recognised by the byte-swapped version number.
"""

from __future__ import annotations

import os
import struct
from typing import Any

GGUF_MAGIC = b"GGUF"

# GGUF metadata value types.
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(13)
_SCALAR_FORMATS = {
    _UINT8: "B",
    _INT8: "b",
    _UINT16: "H",
    _INT16: "h",
    _UINT32: "I",
    _INT32: "i",
    _FLOAT32: "f",
    _BOOL: "?",
    _UINT64: "Q",
    _INT64: "q",
    _FLOAT64: "d",
}

# Bounds that keep a corrupt or hostile header from exhausting memory.
MAX_STRING_BYTES = 16 * 1024 * 1024
MAX_METADATA_ENTRIES = 1000000
MAX_ARRAY_ITEMS = 50000000
# Arrays longer than this are summarised (length only): token lists have 50k-250k items.
KEEP_ARRAY_ITEMS = 64


class GGUFError(Exception):
    """The file is not a readable GGUF; the message names the file and what is wrong."""


class _Reader:
    def __init__(self, handle: Any, path: str, endian: str) -> None:
        self.handle = handle
        self.path = path
        self.endian = endian

    def read_exact(self, size: int) -> bytes:
        data = self.handle.read(size)
        if len(data) != size:
            raise GGUFError("%s: truncated GGUF header (wanted %d bytes at offset %d, got %d)" % (self.path, size, self.handle.tell() - len(data), len(data)))
        return data

    def scalar(self, kind: int) -> Any:
        fmt = _SCALAR_FORMATS[kind]
        return struct.unpack(self.endian + fmt, self.read_exact(struct.calcsize(fmt)))[0]

    def count(self, version: int) -> int:
        return self.scalar(_UINT32 if version == 1 else _UINT64)

    def string(self, version: int) -> str:
        length = self.count(version)
        if length > MAX_STRING_BYTES:
            raise GGUFError("%s: string of %d bytes in the GGUF header is implausible (corrupt file?)" % (self.path, length))
        return self.read_exact(length).decode("utf-8", errors="replace")

    def value(self, kind: int, version: int) -> Any:
        if kind in _SCALAR_FORMATS:
            return self.scalar(kind)
        if kind == _STRING:
            return self.string(version)
        if kind == _ARRAY:
            item_kind = self.scalar(_UINT32)
            length = self.count(version)
            if length > MAX_ARRAY_ITEMS:
                raise GGUFError("%s: array of %d items in the GGUF header is implausible (corrupt file?)" % (self.path, length))
            if item_kind == _ARRAY:
                raise GGUFError("%s: nested arrays in GGUF metadata are not supported" % self.path)
            if item_kind in _SCALAR_FORMATS and length > KEEP_ARRAY_ITEMS:
                # Skip fixed-size items without decoding them.
                size = struct.calcsize(_SCALAR_FORMATS[item_kind]) * length
                self.skip(size)
                return {"array_length": length}
            items = []
            for index in range(length):
                item = self.value(item_kind, version)
                if index < KEEP_ARRAY_ITEMS:
                    items.append(item)
            if length > KEEP_ARRAY_ITEMS:
                return {"array_length": length}
            return items
        raise GGUFError("%s: unknown GGUF value type %d (corrupt file or newer format)" % (self.path, kind))

    def skip(self, size: int) -> None:
        start = self.handle.tell()
        self.handle.seek(size, os.SEEK_CUR)
        if self.handle.tell() > os.fstat(self.handle.fileno()).st_size:
            raise GGUFError("%s: truncated GGUF header (array runs past the end of the file at offset %d)" % (self.path, start))


def read_gguf_metadata(path: str) -> dict[str, Any]:
    """Return {"version", "tensor_count", "size_bytes", "metadata"} of a GGUF file.

    Raises GGUFError naming the file when it is missing, not a regular file, not a GGUF,
    truncated, or has implausible header values. Long arrays (token lists, merges) are
    reported as {"array_length": n}.
    """
    if not os.path.exists(path):
        raise GGUFError("%s: no such file" % path)
    if not os.path.isfile(path):
        raise GGUFError("%s: not a regular file" % path)
    size = os.path.getsize(path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise GGUFError("%s: cannot be read (%s)" % (path, exc.strerror or exc))
    with handle:
        magic = handle.read(4)
        if magic != GGUF_MAGIC:
            raise GGUFError("%s: not a GGUF file (starts with %r, expected %r)" % (path, magic[:4], GGUF_MAGIC))
        raw_version = handle.read(4)
        if len(raw_version) != 4:
            raise GGUFError("%s: truncated GGUF header (no version)" % path)
        endian = "<"
        version = struct.unpack("<I", raw_version)[0]
        if version > 0xFFFF:
            endian = ">"
            version = struct.unpack(">I", raw_version)[0]
        if version not in (1, 2, 3):
            raise GGUFError("%s: unsupported GGUF version %d" % (path, version))
        reader = _Reader(handle, path, endian)
        tensor_count = reader.count(version)
        entries = reader.count(version)
        if entries > MAX_METADATA_ENTRIES:
            raise GGUFError("%s: %d metadata entries is implausible (corrupt file?)" % (path, entries))
        metadata = {}
        for _index in range(entries):
            key = reader.string(version)
            kind = reader.scalar(_UINT32)
            metadata[key] = reader.value(kind, version)
    return {"version": version, "tensor_count": tensor_count, "size_bytes": size, "metadata": metadata, "byte_order": "big" if endian == ">" else "little"}


def summarize_gguf(path: str) -> dict[str, Any]:
    """The facts the AI host roles use: architecture, name, context length, tokenizer, size."""
    info = read_gguf_metadata(path)
    meta = info["metadata"]
    arch = meta.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise GGUFError("%s: GGUF metadata has no general.architecture" % path)
    context_length = meta.get("%s.context_length" % arch)
    return {
        "path": path,
        "size_bytes": info["size_bytes"],
        "version": info["version"],
        "tensor_count": info["tensor_count"],
        "architecture": arch,
        "name": meta.get("general.name") if isinstance(meta.get("general.name"), str) else "",
        "context_length": context_length if isinstance(context_length, int) else None,
        "tokenizer_model": meta.get("tokenizer.ggml.model") if isinstance(meta.get("tokenizer.ggml.model"), str) else "",
        "tokenizer_pre": meta.get("tokenizer.ggml.pre") if isinstance(meta.get("tokenizer.ggml.pre"), str) else "",
        "has_chat_template": isinstance(meta.get("tokenizer.chat_template"), str),
        # The start is enough to recognise the chat format (ChatML, Llama 3, [INST], <|user|>).
        "chat_template": meta.get("tokenizer.chat_template", "")[:2048] if isinstance(meta.get("tokenizer.chat_template"), str) else "",
        "file_type": meta.get("general.file_type") if isinstance(meta.get("general.file_type"), int) else None,
    }
