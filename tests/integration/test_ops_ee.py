"""The execution environment: `ansible-builder create` makes a build context from meta/execution-environment.yml.

Building the image needs a container engine and is left to users; the context is what
these tests check: the pinned Python packages, system packages, collections and the
collection tarball all land in it, in an order that lets the image build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE_FILE = REPO / "meta" / "execution-environment.yml"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, "%s: %r is not pinned with ==" % (path.name, line)
            pins[name.strip().lower()] = version.strip()
    return pins


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    """ansible-builder create on a copy of the EE definition laid out as in the repo."""
    if not (BIN / "ansible-builder").exists():
        pytest.skip("ansible-builder is not installed: pip install -r requirements/ops.in -c requirements/ops-constraints.txt")
    root = tmp_path_factory.mktemp("ee")
    (root / "meta").mkdir()
    shutil.copy(EE_FILE, root / "meta" / "execution-environment.yml")
    shutil.copytree(REPO / "requirements" / "ee", root / "requirements" / "ee")
    # `make build` writes the collection tarball here; build it the same way.
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(root / ".cache" / "build"), str(REPO)],
        check=True, capture_output=True, text=True,
    )
    proc = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", str(root / "meta" / "execution-environment.yml"),
         "-c", str(root / "context"), "--output-filename", "Containerfile"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No matches" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return root / "context"


def test_context_holds_every_dependency_file(context: Path) -> None:
    build = context / "_build"
    assert (context / "Containerfile").is_file()
    assert (build / "requirements.txt").read_text(encoding="utf-8") == (REPO / "requirements/ee/requirements.txt").read_text(encoding="utf-8")
    assert (build / "bindep.txt").read_text(encoding="utf-8") == (REPO / "requirements/ee/bindep.txt").read_text(encoding="utf-8")
    collections = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    assert {c["name"] for c in collections} == {"ibm.ibm_zos_core", "awx.awx"}


def test_context_carries_this_collection_and_installs_it_last(context: Path) -> None:
    tarballs = list((context / "_build" / "autoport").glob("autoport-zos-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert (manifest["collection_info"]["namespace"], manifest["collection_info"]["name"]) == ("autoport", "zos")
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    introspect = containerfile.index("introspect.py introspect")
    install = containerfile.index("ansible-galaxy collection install --no-deps --collections-path /usr/share/ansible/collections /tmp/autoport/")
    final = containerfile.index("FROM base AS final")
    # In the final stage, after dependency introspection (see the comment in meta/execution-environment.yml).
    assert introspect < final < install < containerfile.index("USER 1000")


def test_ansible_pins_and_python_match_the_project(context: Path) -> None:
    constraints = _pins(REPO / "requirements" / "constraints.txt")
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]+)"', containerfile).group(1).split()
    assert refs == ["ansible-core==%s" % constraints["ansible-core"], "ansible-runner==%s" % constraints["ansible-runner"]]
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile


def test_ee_python_requirements_are_pinned_like_the_venv() -> None:
    constraints = _pins(REPO / "requirements" / "constraints.txt")
    for name, version in _pins(REPO / "requirements" / "ee" / "requirements.txt").items():
        assert constraints.get(name) == version, "%s==%s differs from requirements/constraints.txt" % (name, version)


def test_ee_collections_match_galaxy_dependencies() -> None:
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
    listed = yaml.safe_load((REPO / "requirements/ee/requirements.yml").read_text(encoding="utf-8"))["collections"]
    collections = {c["name"]: c.get("version", "*") for c in listed}
    for name, version in galaxy.get("dependencies", {}).items():
        assert name in collections, name
        lower = version.lstrip(">=").strip()
        assert ">=%s" % lower in collections[name], "%s: %s does not keep galaxy.yml's %s" % (name, collections[name], version)


def test_bindep_lines_are_well_formed() -> None:
    for line in (REPO / "requirements" / "ee" / "bindep.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.match(r"^[a-z0-9][a-z0-9.+_-]*( \[(platform:[a-z]+ ?)+\])?$", line), line
