"""Stamps decide whether a long step runs again: fingerprints, status and idempotent writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_stamp import (
    StampError,
    fingerprint,
    read_stamp,
    stamp_status,
    write_stamp,
)


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    (root / "compositional_skills" / "a").mkdir(parents=True)
    (root / "compositional_skills" / "a" / "qna.yaml").write_text("version: 3\n", encoding="utf-8")
    (root / "README.md").write_text("hello\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "index").write_bytes(b"changes all the time")
    return root


def test_fingerprint_is_stable_and_counts(tree: Path) -> None:
    first = fingerprint([str(tree)], {"pipeline": "simple", "scale": 2})
    second = fingerprint([str(tree)], {"scale": 2, "pipeline": "simple"})
    assert first == second
    assert first["files"] == 2  # .git is left out
    assert first["bytes"] == len("version: 3\n") + len("hello\n")
    assert len(first["sha256"]) == 64


def test_fingerprint_follows_content_names_and_values(tree: Path) -> None:
    base = fingerprint([str(tree)], {"scale": 2})["sha256"]
    assert fingerprint([str(tree)], {"scale": 3})["sha256"] != base
    (tree / ".git" / "index").write_bytes(b"other")
    assert fingerprint([str(tree)], {"scale": 2})["sha256"] == base
    (tree / "README.md").write_text("hello!\n", encoding="utf-8")
    changed_content = fingerprint([str(tree)], {"scale": 2})["sha256"]
    assert changed_content != base
    (tree / "README.md").rename(tree / "README.txt")
    assert fingerprint([str(tree)], {"scale": 2})["sha256"] != changed_content


def test_input_order_matters_and_files_are_inputs_too(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.write_text("1", encoding="utf-8")
    b.write_text("2", encoding="utf-8")
    assert fingerprint([str(a), str(b)])["sha256"] != fingerprint([str(b), str(a)])["sha256"]
    assert fingerprint([str(a)])["files"] == 1


def test_metadata_mode_sees_size_and_mtime_not_content(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"x" * 100)
    os.utime(model, ns=(1_000_000_000, 1_000_000_000))
    base = fingerprint([str(model)], mode="metadata")["sha256"]
    model.write_bytes(b"y" * 100)
    os.utime(model, ns=(1_000_000_000, 1_000_000_000))
    assert fingerprint([str(model)], mode="metadata")["sha256"] == base
    os.utime(model, ns=(2_000_000_000, 2_000_000_000))
    assert fingerprint([str(model)], mode="metadata")["sha256"] != base
    assert fingerprint([str(model)], mode="content")["sha256"] != base


def test_symlinks_are_hashed_by_target_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("secret", encoding="utf-8")
    root = tmp_path / "tree"
    root.mkdir()
    (root / "link").symlink_to(outside)
    (root / "loop").symlink_to(root, target_is_directory=True)
    digest = fingerprint([str(root)])
    assert digest["files"] == 0 and digest["bytes"] == 0
    outside.write_text("changed secret", encoding="utf-8")
    assert fingerprint([str(root)])["sha256"] == digest["sha256"]


def test_missing_and_dangling_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(StampError, match="absent.*does not exist"):
        fingerprint([str(tmp_path / "absent")])
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(StampError, match="dangling symlink"):
        fingerprint([str(dangling)])
    with pytest.raises(StampError, match="unknown fingerprint mode"):
        fingerprint([], mode="quick")


def test_special_files_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    os.mkfifo(root / "pipe")  # reading it would block forever
    assert fingerprint([str(root)])["files"] == 0


def test_stamp_lifecycle(tmp_path: Path) -> None:
    stamp = tmp_path / "stamps" / "generate.json"
    output = tmp_path / "generated"
    assert stamp_status(str(stamp), "abc") == (False, "no stamp at %s" % stamp)
    with pytest.raises(StampError, match="outputs are missing"):
        write_stamp(str(stamp), "abc", [str(output)])
    output.mkdir()
    assert write_stamp(str(stamp), "abc", [str(output)], {"seconds": 98}) is True
    assert write_stamp(str(stamp), "abc", [str(output)], {"seconds": 98}) is False
    assert stamp_status(str(stamp), "abc") == (True, "inputs unchanged and outputs present")
    assert stamp_status(str(stamp), "abd")[0] is False
    assert read_stamp(str(stamp))["extra"] == {"seconds": 98}
    output.rmdir()
    current, reason = stamp_status(str(stamp), "abc")
    assert current is False and str(output) in reason


def test_check_mode_never_writes(tmp_path: Path) -> None:
    stamp = tmp_path / "s.json"
    assert write_stamp(str(stamp), "abc", [], check_mode=True) is True
    assert not stamp.exists()


def test_corrupt_or_foreign_stamp_counts_as_none(tmp_path: Path) -> None:
    stamp = tmp_path / "s.json"
    stamp.write_bytes(b"\xff\xfe not json")
    assert read_stamp(str(stamp)) is None
    stamp.write_text(json.dumps({"format": 99, "sha256": "abc"}), encoding="utf-8")
    assert stamp_status(str(stamp), "abc")[0] is False
    # Rewriting repairs it.
    assert write_stamp(str(stamp), "abc") is True
    assert stamp_status(str(stamp), "abc")[0] is True
