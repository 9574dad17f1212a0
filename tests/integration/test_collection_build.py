"""The built artifact: ships the product only, installs offline, and its plugins are found."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    _run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out), str(REPO)])
    version = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    tarball = out / ("autoport-zos-%s.tar.gz" % version)
    assert tarball.is_file()
    return tarball


def test_tarball_has_no_test_standins_caches_or_venvs(built: Path) -> None:
    with tarfile.open(built) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names and "FILES.json" in names
    for top in ("tests/", ".venv/", ".cache/", ".git/", "output/", "benchmarks/", ".ci/"):
        assert not [n for n in names if n.startswith(top)], top
    for anywhere in ("__pycache__", "ibm_zos_core", "standin"):
        assert not [n for n in names if anywhere in n], anywhere
    assert "plugins/module_utils/record.py" in names
    assert "schemas/record.schema.json" in names
    assert "inventory/local/hosts.yml" in names


def test_installs_offline_and_every_module_and_role_is_found(built: Path, tmp_path: Path) -> None:
    dest = tmp_path / "collections"
    # An empty collections path and no ansible.cfg: nothing of the checkout may be found.
    empty_cfg = tmp_path / "ansible.cfg"
    empty_cfg.write_text("[defaults]\n", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_CONFIG=str(empty_cfg))
    _run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(dest), str(built)], env=env, cwd=str(tmp_path))
    installed = dest / "ansible_collections" / "autoport" / "zos"
    assert (installed / "MANIFEST.json").is_file()
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    assert modules, "the collection ships no module"
    listing = _run([str(BIN / "ansible-doc"), "-t", "module", "-l", "autoport.zos"], env=env, cwd=str(tmp_path)).stdout
    for module in modules:
        assert "autoport.zos.%s" % module in listing
        doc = _run([str(BIN / "ansible-doc"), "-t", "module", "autoport.zos.%s" % module], env=env, cwd=str(tmp_path)).stdout
        assert "OPTIONS" in doc and "RETURN VALUES" in doc, module
    for role in sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()):
        doc = _run([str(BIN / "ansible-doc"), "-t", "role", "autoport.zos.%s" % role], env=env, cwd=str(tmp_path)).stdout
        assert "ENTRY POINT" in doc.upper(), role
