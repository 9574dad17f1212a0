"""The sample ports under samples/: layout, reproducible archives, and that they really
fail under the strict posix profile until their patches are applied."""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import port_layout
from ansible_collections.autoport.zos.plugins.module_utils.build_profile import DEFAULT_POSIX_CFLAGS

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
PORTS = sorted(path for path in (SAMPLES / "ports").iterdir() if (path / "buildenv").is_file())


def _load_make_mirror():
    spec = importlib.util.spec_from_file_location("make_mirror", str(SAMPLES / "make_mirror.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_mirror = _load_make_mirror()


def _port_facts(port_dir: Path) -> dict:
    buildenv = port_layout.read_buildenv(str(port_dir / "buildenv"))
    patch_dir, line = port_layout.select_patch_dir(str(port_dir), buildenv, "auto")
    spec = port_layout.source_spec(buildenv, line)
    return {"buildenv": buildenv, "patch_dir": patch_dir, "patches": port_layout.list_patches(patch_dir), "spec": spec}


def _unpack(port_dir: Path, dest: Path) -> Path:
    spec = _port_facts(port_dir)["spec"]
    name = os.path.basename(spec["url"])
    with tarfile.open(str(SAMPLES / "mirror" / name)) as archive:
        archive.extractall(str(dest))
    return dest / name[: -len(".tar.gz")]


def test_three_ports_seventeen_patches_one_with_at_least_eight():
    assert len(PORTS) >= 3
    counts = {port.name: len(_port_facts(port)["patches"]) for port in PORTS}
    assert sum(counts.values()) >= 15
    assert max(counts.values()) >= 8
    # Both zopen folder styles are represented.
    folders = {os.path.basename(_port_facts(port)["patch_dir"]) for port in PORTS}
    assert {"stable-patches", "patches"} <= folders


@pytest.mark.parametrize("port_dir", PORTS, ids=[port.name for port in PORTS])
def test_sources_resolve_through_the_mirror_by_file_name(port_dir):
    spec = _port_facts(port_dir)["spec"]
    assert spec["kind"] == "tarball"
    assert spec["url"].startswith("https://example.invalid/")
    archive = SAMPLES / "mirror" / os.path.basename(spec["url"])
    assert archive.is_file()
    top = {member.split("/")[0] for member in tarfile.open(str(archive)).getnames()}
    assert top == {os.path.basename(spec["url"])[: -len(".tar.gz")]}


@pytest.mark.parametrize("port_dir", PORTS, ids=[port.name for port in PORTS])
def test_patches_are_zopen_style_git_diffs_of_the_file_they_name(port_dir, tmp_path):
    facts = _port_facts(port_dir)
    source = _unpack(port_dir, tmp_path)
    for path in facts["patches"]:
        rel = os.path.relpath(path, facts["patch_dir"])
        target = rel[: -len(".patch")]
        text = Path(path).read_text()
        assert text.startswith("diff --git a/%s b/%s\n" % (target, target)), rel
        assert (source / target).is_file(), "%s names %s, which upstream lacks" % (rel, target)
    subprocess.run(["git", "init", "-q", "."], cwd=str(source), check=True)
    for path in facts["patches"]:
        done = subprocess.run(["git", "apply", "--check", path], cwd=str(source), capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        subprocess.run(["git", "apply", path], cwd=str(source), check=True)


def test_committed_archives_equal_a_fresh_build():
    assert make_mirror.stale_archives() == []
    for source in make_mirror.source_dirs():
        committed = gzip.decompress(make_mirror.archive_path(source).read_bytes())
        assert committed == make_mirror.tar_bytes(source)
        members = tarfile.open(fileobj=io.BytesIO(committed)).getmembers()
        assert [member.name for member in members] == sorted(member.name for member in members)
        assert {(member.mtime, member.uid, member.gid, member.uname) for member in members} == {(make_mirror.FIXED_MTIME, 0, 0, "root")}


def test_stale_archive_is_reported(tmp_path, monkeypatch):
    upstream = tmp_path / "upstream" / "demo-1.0"
    upstream.mkdir(parents=True)
    (upstream / "hello.c").write_text("int main(void) { return 0; }\n")
    monkeypatch.setattr(make_mirror, "UPSTREAM", tmp_path / "upstream")
    monkeypatch.setattr(make_mirror, "MIRROR", tmp_path / "mirror")
    assert make_mirror.stale_archives() == ["demo-1.0.tar.gz is missing"]
    assert make_mirror.write_archives() == [tmp_path / "mirror" / "demo-1.0.tar.gz"]
    assert make_mirror.stale_archives() == []
    assert make_mirror.write_archives() == []  # unchanged sources rewrite nothing
    (upstream / "hello.c").write_text("int main(void) { return 1; }\n")
    assert make_mirror.stale_archives() == ["demo-1.0.tar.gz differs from samples/upstream/demo-1.0"]


def test_git_mirror_has_the_tag(tmp_path):
    source = SAMPLES / "upstream" / "inicfg-0.9"
    bare = make_mirror.make_git_repo(source, tmp_path)
    assert bare == tmp_path / "inicfg.git"
    tags = subprocess.run(["git", "--git-dir", str(bare), "tag"], capture_output=True, text=True, check=True).stdout.split()
    assert tags == ["v0.9"]
    again = make_mirror.make_git_repo(source, tmp_path / "again")

    def rev(path):
        return subprocess.run(["git", "--git-dir", str(path), "rev-parse", "v0.9"], capture_output=True, text=True, check=True).stdout

    assert rev(bare) == rev(again)  # fixed dates and author: the same commit every time


def _strict_build(source: Path) -> tuple:
    """configure + make + make check with the posix profile's strict flags; (step that failed or None, output)."""
    env = dict(os.environ, LC_ALL="C")
    steps = [
        ("configure", ["./configure", "--prefix=%s" % (source / "inst"), "CC=cc", "CFLAGS=%s" % DEFAULT_POSIX_CFLAGS]),
        ("build", ["make", "-k", "CC=cc", "CFLAGS=%s" % DEFAULT_POSIX_CFLAGS]),
        ("check", ["make", "check", "CC=cc", "CFLAGS=%s" % DEFAULT_POSIX_CFLAGS]),
    ]
    output = ""
    for name, argv in steps:
        done = subprocess.run(argv, cwd=str(source), env=env, capture_output=True, text=True, check=False)
        output += done.stdout + done.stderr
        if done.returncode != 0:
            return name, output
    return None, output


@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("make") is None, reason="needs cc and make")
@pytest.mark.parametrize("port_dir", PORTS, ids=[port.name for port in PORTS])
def test_strict_build_fails_without_patches_and_passes_with_them(port_dir, tmp_path):
    unpatched = _unpack(port_dir, tmp_path / "without")
    failed, output = _strict_build(unpatched)
    assert failed is not None, "upstream built cleanly under the strict flags:\n" + output
    assert re.search(r"error|FAIL", output)

    patched = _unpack(port_dir, tmp_path / "with")
    for path in _port_facts(port_dir)["patches"]:
        subprocess.run(["git", "apply", path], cwd=str(patched), check=True)
    failed, output = _strict_build(patched)
    assert failed is None, "still fails in %s with every patch:\n%s" % (failed, output)
    assert re.search(r"\b0 of \d+ tests failed", output)
