"""Shared pytest set-up: make this checkout importable as ansible_collections.autoport.zos.

The collection loader wants the collection at .../ansible_collections/autoport/zos; a
symlink under .cache/ gives that without moving the checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "autoport" / "zos"
STANDIN_COLLECTIONS = REPO / "tests" / "collections"
# Resolved: a ../shared that is a link names the same files as the paths the code resolves.
SHARED = (REPO.parent / "shared").resolve()


def _link_collection() -> None:
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if LINK.is_symlink() and LINK.resolve() == REPO:
        return
    if LINK.is_symlink() or LINK.exists():
        LINK.unlink()
    LINK.symlink_to(REPO, target_is_directory=True)


_link_collection()
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", "%s:%s" % (COLLECTIONS, STANDIN_COLLECTIONS))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def corpus_ports(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "zopen-ports"
    if not path.is_dir():
        pytest.skip("../shared/corpus/zopen-ports is absent")
    return path


@pytest.fixture(scope="session")
def zos_messages(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "zos-messages.jsonl"
    if not path.is_file():
        pytest.skip("../shared/corpus/zos-messages.jsonl is absent")
    return path
