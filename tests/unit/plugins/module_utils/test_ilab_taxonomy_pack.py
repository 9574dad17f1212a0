"""Reproducible taxonomy tar: same files give the same bytes; hostile trees are refused."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.ilab_taxonomy_pack import (
    PackError,
    build_tar,
    pack,
    safe_members,
    walk_files,
)

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures" / "taxonomy_small"


@pytest.fixture()
def taxonomy(tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    shutil.copytree(FIXTURE, root)
    return root


def test_fixture_is_a_skill_taxonomy() -> None:
    assert walk_files(str(FIXTURE)) == ["compositional_skills/engineering/zos_porting/qna.yaml"]


def test_same_content_same_bytes_whatever_the_mtimes(taxonomy: Path, tmp_path: Path) -> None:
    first = pack(str(taxonomy), walk_files(str(taxonomy)), str(tmp_path / "a.tar"))
    for path in taxonomy.rglob("*"):
        os.utime(path, (1, 1))
    second = pack(str(taxonomy), walk_files(str(taxonomy)), str(tmp_path / "b.tar"))
    assert first["sha256"] == second["sha256"]
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    again = pack(str(taxonomy), walk_files(str(taxonomy)), str(tmp_path / "a.tar"))
    assert again["changed"] is False
    (taxonomy / "compositional_skills" / "engineering" / "zos_porting" / "qna.yaml").write_text("version: 3\n", encoding="utf-8")
    assert pack(str(taxonomy), walk_files(str(taxonomy)), str(tmp_path / "a.tar"))["changed"] is True


def test_tar_members_are_normalised(taxonomy: Path) -> None:
    data = build_tar(str(taxonomy), walk_files(str(taxonomy)))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ["compositional_skills/engineering/zos_porting/qna.yaml"]
    assert all(m.mtime == 0 and m.uid == 0 and m.mode == 0o644 and m.isfile() for m in members)


def test_git_metadata_is_never_packed(taxonomy: Path, tmp_path: Path) -> None:
    (taxonomy / ".git").mkdir()
    (taxonomy / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    assert all(not name.startswith(".git") for name in walk_files(str(taxonomy)))
    with pytest.raises(PackError, match="refusing path"):
        safe_members(str(taxonomy), [".git/config"])


def test_paths_leaving_the_tree_are_refused(taxonomy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token", encoding="utf-8")
    (taxonomy / "escape.yaml").symlink_to(secret)
    with pytest.raises(PackError, match="points outside the taxonomy"):
        safe_members(str(taxonomy), ["escape.yaml"])
    for name in ("../secret.txt", "/etc/passwd", ""):
        with pytest.raises(PackError, match="refusing path"):
            safe_members(str(taxonomy), [name])


def test_special_and_huge_files_are_refused(taxonomy: Path) -> None:
    os.mkfifo(taxonomy / "pipe")
    with pytest.raises(PackError, match="not a regular file"):
        safe_members(str(taxonomy), ["pipe"])
    os.remove(taxonomy / "pipe")
    with open(taxonomy / "big.bin", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)
    with pytest.raises(PackError, match="larger than"):
        safe_members(str(taxonomy), ["big.bin"])


def test_names_listed_but_deleted_are_skipped(taxonomy: Path) -> None:
    assert safe_members(str(taxonomy), ["gone.yaml", "compositional_skills/engineering/zos_porting/qna.yaml"]) == [
        "compositional_skills/engineering/zos_porting/qna.yaml"
    ]


def test_missing_taxonomy(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="does not exist"):
        pack(str(tmp_path / "absent"), [], str(tmp_path / "t.tar"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_listing_includes_untracked_and_skips_ignored(taxonomy: Path, tmp_path: Path) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "init", "-q", str(taxonomy)], check=True, env=env)
    subprocess.run(["git", "-C", str(taxonomy), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(taxonomy), "commit", "-qm", "x"], check=True, env=env)
    (taxonomy / ".gitignore").write_text("*.tmp\n", encoding="utf-8")
    (taxonomy / "scratch.tmp").write_text("x", encoding="utf-8")
    (taxonomy / "knowledge").mkdir()
    (taxonomy / "knowledge" / "qna.yaml").write_text("version: 3\n", encoding="utf-8")
    listed = subprocess.run(
        ["git", "-C", str(taxonomy), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    result = pack(str(taxonomy), [n for n in listed if n], str(tmp_path / "t.tar"))
    assert result["members"] == [".gitignore", "compositional_skills/engineering/zos_porting/qna.yaml", "knowledge/qna.yaml"]


def test_select_trees_keeps_included_folders_and_top_files():
    from ansible_collections.autoport.zos.plugins.module_utils.ilab_taxonomy_pack import select_trees

    names = ["README.md", "compositional_skills/a/qna.yaml", "knowledge/b/qna.yaml", "docs/x.md"]
    assert select_trees(names, ["compositional_skills"]) == ["README.md", "compositional_skills/a/qna.yaml"]
    assert select_trees(names, ["compositional_skills", "knowledge"]) == names[:3]


def test_knowledge_documents_are_pointed_at_the_ai_hosts_copy(tmp_path: Path) -> None:
    """document_repo: the packed knowledge qna.yaml names the repo the AI host can clone; the tree is untouched."""
    import yaml

    from ansible_collections.autoport.zos.plugins.module_utils.ilab_taxonomy_pack import rewrite_document
    from ansible_collections.autoport.zos.plugins.module_utils.taxonomy_yaml import dump_knowledge

    data = {
        "version": 3, "created_by": "autoport", "domain": "zos_porting", "document_outline": "Fixes for z/OS ports",
        "seed_examples": [{"context": "c%d" % i, "questions_and_answers": [{"question": "q?", "answer": "a"}] * 3} for i in range(5)],
        "document": {"repo": "file:///controller/output/knowledge-docs", "commit": "a" * 40, "patterns": ["zos/fixes.md"]},
    }
    text = dump_knowledge(data)
    root = tmp_path / "taxonomy"
    (root / "knowledge" / "zos").mkdir(parents=True)
    (root / "knowledge" / "zos" / "qna.yaml").write_text(text, encoding="utf-8")
    (root / "compositional_skills").mkdir()
    (root / "compositional_skills" / "qna.yaml").write_text("version: 3\ndocument:\n  repo: x\n", encoding="utf-8")
    names = walk_files(str(root))
    result = pack(str(root), names, str(tmp_path / "t.tar"), document={"repo": "file:///home/ilab/knowledge-docs", "commit": "b" * 40})
    assert result["documents"] == 1
    with tarfile.open(tmp_path / "t.tar") as archive:
        packed = yaml.safe_load(archive.extractfile("knowledge/zos/qna.yaml").read().decode("utf-8"))
        skill = archive.extractfile("compositional_skills/qna.yaml").read().decode("utf-8")
    assert packed["document"] == {"repo": "file:///home/ilab/knowledge-docs", "commit": "b" * 40, "patterns": ["zos/fixes.md"]}
    assert packed["seed_examples"] == yaml.safe_load(text)["seed_examples"]
    assert skill == "version: 3\ndocument:\n  repo: x\n"  # only knowledge leaves are rewritten
    assert (root / "knowledge" / "zos" / "qna.yaml").read_text(encoding="utf-8") == text
    # Byte-for-byte the same tar for the same inputs; without document_repo the leaf is as written.
    again = pack(str(root), names, str(tmp_path / "t.tar"), document={"repo": "file:///home/ilab/knowledge-docs", "commit": "b" * 40})
    assert not again["changed"] and again["sha256"] == result["sha256"]
    plain = pack(str(root), names, str(tmp_path / "p.tar"))
    assert plain["documents"] == 0 and plain["sha256"] != result["sha256"]
    assert rewrite_document("version: 3\n", "r", "c") == ("version: 3\n", False)
