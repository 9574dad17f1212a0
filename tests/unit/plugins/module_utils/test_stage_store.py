"""stage_store: the store between stages, as a shared folder and as a git repository."""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.stage_store import StoreError, describe, parse_spec, pull, push, tree_digest


def _tree(folder, files):
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(folder)


def _bare(tmp_path):
    bare = tmp_path / "store.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    return str(bare)


def test_spec_is_checked_and_described_without_credentials() -> None:
    assert parse_spec({"type": "path", "path": "/srv/store/"}) == {"type": "path", "path": "/srv/store"}
    assert describe(parse_spec({"type": "git", "url": "https://bot:s3cret@git.example.com/x.git"})) == "git https://git.example.com/x.git (branch main)"
    for spec, message in (({"type": "path", "path": "rel"}, "absolute"), ({"type": "s3"}, "path or git"),
                          ({"type": "git", "url": "--upload-pack=x"}, "git URL"), ({"type": "git", "url": "u", "branch": "a..b"}, "branch")):
        with pytest.raises(StoreError, match=message):
            parse_spec(spec)


def test_path_store_round_trip_is_atomic_versioned_and_idempotent(tmp_path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    spec = {"type": "path", "path": str(store)}
    out = _tree(tmp_path / "a" / "curated", {"train.jsonl": "{}\n", "sub/x.txt": "x"})
    first = push(spec, {"curated": out}, {"stage": "curate", "code_commit": "c1"})
    assert first["changed"] and first["items"]["curated"]["revision"] == "sha256:" + tree_digest(out)
    assert os.path.islink(store / "curated") and (store / "curated" / "sub" / "x.txt").read_text() == "x"
    assert push(spec, {"curated": out}, {"stage": "curate"})["changed"] is False
    # Another working copy reads it, and a second pull changes nothing.
    local = str(tmp_path / "b" / "curated")
    got = pull(spec, {"curated": local, "harvest": str(tmp_path / "b" / "harvest")})
    assert got["changed"] and got["items"]["curated"]["record"]["code_commit"] == "c1"
    assert got["items"]["harvest"]["revision"] is None and not os.path.exists(tmp_path / "b" / "harvest")
    assert tree_digest(local) == tree_digest(out) and pull(spec, {"curated": local})["changed"] is False
    # A new version: the old one stays readable under .autoport until the link switches.
    old_target = os.path.realpath(store / "curated")
    (tmp_path / "a" / "curated" / "train.jsonl").write_text("{\"a\": 1}\n")
    assert push(spec, {"curated": out}, {"stage": "curate"}, check_mode=True)["changed"]
    assert os.path.realpath(store / "curated") == old_target  # check mode wrote nothing
    push(spec, {"curated": out}, {"stage": "curate"})
    assert os.path.realpath(store / "curated") != old_target and os.path.isdir(old_target)
    assert not [n for n in os.listdir(store) if n.startswith(".curated")]  # no temporary link left


def test_path_store_errors_name_the_store(tmp_path) -> None:
    missing = {"type": "path", "path": str(tmp_path / "not-mounted")}
    with pytest.raises(StoreError, match="store path .*not-mounted is unreachable"):
        pull(missing, {"curated": str(tmp_path / "x")})
    store = tmp_path / "store"
    store.mkdir()
    with pytest.raises(StoreError, match="stage output .*nothing.* does not exist"):
        push({"type": "path", "path": str(store)}, {"curated": str(tmp_path / "nothing")}, {})
    with pytest.raises(StoreError, match="item name"):
        push({"type": "path", "path": str(store)}, {"../up": str(store)}, {})
    store.chmod(0o500)
    try:
        if os.access(str(store), os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(StoreError, match="read-only or not writable"):
            push({"type": "path", "path": str(store)}, {"curated": _tree(tmp_path / "c", {"f": "1"})}, {})
    finally:
        store.chmod(0o700)


def test_git_store_one_commit_per_stage_nested_git_left_out(tmp_path) -> None:
    spec = {"type": "git", "url": _bare(tmp_path), "branch": "main"}
    taxonomy = _tree(tmp_path / "w1" / "taxonomy", {"compositional_skills/a/qna.yaml": "version: 3\n"})
    subprocess.run(["git", "init", "-q", taxonomy], check=True)
    docs = _tree(tmp_path / "w1" / "docs", {"doc.md": "# doc\n"})
    first = push(spec, {"taxonomy": taxonomy, "knowledge-docs": docs}, {"stage": "taxonomy", "code_commit": "abc"})
    assert first["changed"] and len(first["commit"]) == 40
    log = subprocess.run(["git", "-C", spec["url"], "log", "--format=%s", "main"], capture_output=True, text=True, check=True).stdout.split("\n")
    assert log[0] == "autoport taxonomy: taxonomy, knowledge-docs" and log[1] == ""
    again = push(spec, {"taxonomy": taxonomy, "knowledge-docs": docs}, {"stage": "taxonomy"})
    assert again["changed"] is False and again["commit"] == first["commit"]
    local = str(tmp_path / "w2" / "taxonomy")
    got = pull(spec, {"taxonomy": local})
    assert got["items"]["taxonomy"]["revision"] == first["commit"] and got["items"]["taxonomy"]["record"]["code_commit"] == "abc"
    assert (tmp_path / "w2" / "taxonomy" / "compositional_skills" / "a" / "qna.yaml").is_file()
    assert not (tmp_path / "w2" / "taxonomy" / ".git").exists()


def test_git_store_unreachable_or_missing_branch(tmp_path) -> None:
    with pytest.raises(StoreError, match="store git .*nowhere.git .*unreachable"):
        pull({"type": "git", "url": str(tmp_path / "nowhere.git")}, {"curated": str(tmp_path / "c")})
    spec = {"type": "git", "url": _bare(tmp_path), "branch": "fresh"}
    assert pull(spec, {"curated": str(tmp_path / "c")})["items"]["curated"]["revision"] is None


def test_git_store_that_refuses_pushes_is_named_read_only(tmp_path) -> None:
    bare = _bare(tmp_path)
    hook = tmp_path / "store.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'this store is read-only' >&2\nexit 1\n")
    hook.chmod(0o755)
    out = _tree(tmp_path / "curated", {"train.jsonl": "{}\n"})
    with pytest.raises(StoreError, match=r"store git .*store.git \(branch main\): git push failed: .*read-only"):
        push({"type": "git", "url": bare}, {"curated": out}, {"stage": "curate"})
