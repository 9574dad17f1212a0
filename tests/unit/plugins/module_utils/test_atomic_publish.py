"""Every published file is written then renamed: a reader (or a second name of the old file)
never sees a half-written one. A hard link to the old file tells the two apart: an in-place
write changes the content behind both names, a rename leaves the old file whole."""

from __future__ import annotations

import os

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import atomic_file, build_profile, ilab_stamp, port_pack


def _linked_old(path, text="old\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    witness = path.parent / (".witness-" + path.name)
    os.link(path, witness)
    return witness


def test_publish_copy_renames_and_leaves_no_temporary_file(tmp_path):
    src = tmp_path / "build.log"
    src.write_bytes(b"x" * (3 * 1024 * 1024))
    dest = tmp_path / "logs" / "p1-build.log"
    witness = _linked_old(dest)
    atomic_file.publish_copy(str(src), str(dest))
    assert dest.read_bytes() == src.read_bytes() and witness.read_text() == "old\n"
    assert sorted(p.name for p in dest.parent.iterdir()) == [".witness-p1-build.log", "p1-build.log"]
    with pytest.raises(atomic_file.OutputError, match="missing.log"):
        atomic_file.publish_copy(str(tmp_path / "missing.log"), str(dest))
    assert dest.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == [".witness-p1-build.log", "p1-build.log"]


def test_zopen_env_file_is_written_then_renamed(tmp_path):
    root = tmp_path / "port"
    profile = build_profile.ZopenProfile(str(root), str(root), {}, "STABLE", str(tmp_path / "logs"))
    witness = _linked_old(root / build_profile.ZOPEN_ENV_FILE)
    path = profile.write_env_file()
    assert open(path, encoding="utf-8").read() == build_profile.ZOPEN_ENV_TEXT
    assert witness.read_text() == "old\n"


def test_stamp_and_port_tar_are_written_then_renamed(tmp_path):
    stamp = tmp_path / "stamps" / "train.json"
    witness = _linked_old(stamp)
    assert ilab_stamp.write_stamp(str(stamp), "0" * 64) is True
    assert witness.read_text() == "old\n" and '"sha256"' in stamp.read_text()
    (tmp_path / "port").mkdir()
    (tmp_path / "port" / "buildenv").write_text("x\n")
    tar = tmp_path / "out" / "port.tar"
    witness = _linked_old(tar)
    port_pack.pack_port(str(tmp_path / "port"), str(tar))
    assert witness.read_text() == "old\n" and tar.stat().st_size > 0
