from __future__ import annotations

import os
import tarfile
import time

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import port_pack


def _tree(root):
    (root / "stable-patches" / "lib").mkdir(parents=True)
    (root / "buildenv").write_text("export ZOPEN_BUILD_LINE=STABLE\n")
    (root / "stable-patches" / "lib" / "a.c.patch").write_text("diff\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: x\n")
    return root


def test_same_content_same_bytes_and_no_second_write(tmp_path):
    src = _tree(tmp_path / "port")
    dest = tmp_path / "out" / "port.tar"
    first = port_pack.pack_port(str(src), str(dest))
    assert first["changed"] is True
    # Touch every file: times must not matter.
    later = time.time() + 1000
    for root, _dirs, files in os.walk(src):
        for name in files:
            os.utime(os.path.join(root, name), (later, later))
    second = port_pack.pack_port(str(src), str(dest))
    assert second == dict(first, changed=False)
    with tarfile.open(dest) as tar:
        names = tar.getnames()
    assert names == ["buildenv", "stable-patches", "stable-patches/lib", "stable-patches/lib/a.c.patch"]


def test_content_change_is_seen_and_check_mode_writes_nothing(tmp_path):
    src = _tree(tmp_path / "port")
    dest = tmp_path / "port.tar"
    port_pack.pack_port(str(src), str(dest))
    before = dest.read_bytes()
    (src / "buildenv").write_text("export ZOPEN_BUILD_LINE=DEV\n")
    result = port_pack.pack_port(str(src), str(dest), check_mode=True)
    assert result["changed"] is True
    assert dest.read_bytes() == before


def test_link_outside_the_port_is_refused(tmp_path):
    src = _tree(tmp_path / "port")
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", src / "leak")
    with pytest.raises(port_pack.PortPackError, match="links outside"):
        port_pack.pack_port(str(src), str(tmp_path / "p.tar"))


def test_missing_source_is_named(tmp_path):
    with pytest.raises(port_pack.PortPackError, match="nope"):
        port_pack.pack_port(str(tmp_path / "nope"), str(tmp_path / "p.tar"))


def test_links_inside_the_port_travel_as_links_and_are_never_read_through(tmp_path):
    src = _tree(tmp_path / "port")
    os.symlink("buildenv", src / "env-link")
    os.symlink(str(src / "stable-patches"), src / "patches")  # absolute, but inside the port
    port_pack.pack_port(str(src), str(tmp_path / "p.tar"))
    with tarfile.open(tmp_path / "p.tar") as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
        assert links == {"env-link": "buildenv", "patches": "stable-patches"}
        # The tar does not depend on where the port sits on the controller.
        assert str(tmp_path) not in tar.getmember("patches").linkname


@pytest.mark.parametrize("kind", ["folder outside", "dangling", "chain out"])
def test_links_leaving_the_port_or_leading_nowhere_are_refused_naming_the_link(tmp_path, kind):
    src = _tree(tmp_path / "port")
    outside = tmp_path / "controller-home"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY")
    if kind == "folder outside":
        os.symlink(str(outside), src / "stable-patches" / "home")
    elif kind == "dangling":
        os.symlink(str(tmp_path / "nowhere"), src / "stable-patches" / "home")
    else:
        os.symlink(str(outside / "id_rsa"), src / "hop")
        os.symlink("../hop", src / "stable-patches" / "home")
    with pytest.raises(port_pack.PortPackError, match=r"(stable-patches/home|hop) links (outside|to nothing)"):
        port_pack.pack_port(str(src), str(tmp_path / "p.tar"))
    assert not (tmp_path / "p.tar").exists()


def test_the_commit_travels_beside_the_tar(tmp_path):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("needs git")
    src = tmp_path / "port"
    src.mkdir()
    (src / "buildenv").write_text("export ZOPEN_BUILD_LINE=STABLE\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="p", GIT_AUTHOR_EMAIL="p@example.invalid", GIT_COMMITTER_NAME="p",
               GIT_COMMITTER_EMAIL="p@example.invalid", GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp_path))
    for args in (["init", "-q", "."], ["add", "-A"], ["commit", "-q", "-m", "port"]):
        subprocess.run(["git"] + args, cwd=str(src), env=env, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=str(src), capture_output=True, text=True, check=True).stdout.strip()
    result = port_pack.pack_port(str(src), str(tmp_path / "port.tar"))
    assert result["commit"] == head
    with tarfile.open(str(tmp_path / "port.tar")) as tar:
        assert not any(name.startswith(".git") for name in tar.getnames())
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "buildenv").write_text("x\n")
    assert port_pack.pack_port(str(plain), str(tmp_path / "plain.tar"))["commit"] is None
