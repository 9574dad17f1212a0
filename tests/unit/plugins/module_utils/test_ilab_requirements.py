"""The pinned ilab sets in requirements/ilab/ are complete, exact and agree with their bounds.

The e2e test (tests/integration/test_train.py) proves the cpu set by installing it and
training with it; these checks keep the files honest between such runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ILAB = Path(__file__).resolve().parents[4] / "requirements" / "ilab"
VARIANTS = ("cpu", "cuda", "mps")
# The bounds a fresh instructlab 0.26.1 install needs today (field notes): without them
# pyarrow 2x wants numpy 2 while ilab pins numpy<2 and every `ilab data generate` fails.
KNOWN_BOUNDS = {
    "pyarrow": "<20",
    "datasets": "<4",
    "pandas": "<2.3",
    "transformers": "<4.52",
    "sentence-transformers": "<5",
    "ragas": "<0.3",
    "huggingface-hub": "<1.0",
}


def requirements(name: str) -> list[Requirement]:
    """Requirements of a .in file, following -r includes."""
    found = []
    for raw in (ILAB / name).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found += requirements(line[3:].strip())
            continue
        found.append(Requirement(line))
    return found


def pins(name: str, python: str = "3.11.7") -> dict[str, Version]:
    """Exact pins that apply on `python` (a pin may carry a python_full_version marker)."""
    pinned = {}
    for raw in (ILAB / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+!\-]+)(?:; (python_full_version [<>]=? \"[0-9.]+\"))?", line)
        assert match, "%s: %r is not an exact name==version pin" % (name, line)
        if match.group(3) and not Marker(match.group(3)).evaluate({"python_full_version": python}):
            continue
        key = canonicalize_name(match.group(1))
        assert key not in pinned, "%s pins %s twice for Python %s" % (name, key, python)
        pinned[key] = Version(match.group(2))
    return pinned


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("python", ["3.11.2", "3.11.7"])
def test_each_python_311_gets_one_pin_per_package(variant: str, python: str) -> None:
    """Debian 12's Python 3.11.2 cannot use soupsieve 3.x (it needs 3.11.5)."""
    pinned = pins("%s-constraints.txt" % variant, python)
    assert pinned["soupsieve"] == Version("2.10" if python == "3.11.2" else "4.1.2")
    assert set(pinned) == set(pins("%s-constraints.txt" % variant))


def test_common_set_has_instructlab_and_the_known_bounds() -> None:
    common = {canonicalize_name(r.name): r for r in requirements("common.in")}
    assert str(common["instructlab"].specifier) == "==0.26.1"
    for name, bound in KNOWN_BOUNDS.items():
        assert common[name].specifier == SpecifierSet(bound), name


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_requirement_is_pinned_within_its_bounds(variant: str) -> None:
    pinned = pins("%s-constraints.txt" % variant)
    for requirement in requirements("%s.in" % variant):
        key = canonicalize_name(requirement.name)
        assert key in pinned, "%s-constraints.txt does not pin %s" % (variant, key)
        assert requirement.specifier.contains(pinned[key], prereleases=True), "%s: %s==%s breaks %s" % (
            variant,
            key,
            pinned[key],
            requirement,
        )


def test_cpu_set_is_the_cpu_torch_and_numpy_1() -> None:
    pinned = pins("cpu-constraints.txt")
    # Pinned without the local label: the CPU wheel 2.13.0+cpu satisfies it where pip finds one,
    # and a host with PyPI only still resolves (PyPI has no +cpu build).
    assert pinned["torch"] == Version("2.13.0")
    assert SpecifierSet("==%s" % pinned["torch"]).contains("2.13.0+cpu")
    assert pinned["numpy"] < Version("2")
    assert pinned["pyarrow"] < Version("20")
    assert pinned["llama-cpp-python"] == Version("0.3.6")  # ilab's own pin; the GGUF converter matches it
    assert pinned["trl"] < Version("0.15")
    assert pinned["instructlab-training"] < Version("0.11")


def test_derived_sets_differ_from_cpu_only_in_torchvision() -> None:
    # torch is 2.13.0 everywhere (the CPU host's 2.13.0+cpu wheel satisfies that pin); the GPU
    # sets leave torchvision free, to match the torch build the host's index serves.
    cpu = pins("cpu-constraints.txt")
    for variant in ("cuda", "mps"):
        other = pins("%s-constraints.txt" % variant)
        differing = {k for k in set(cpu) | set(other) if cpu.get(k) != other.get(k)}
        assert differing == {"torchvision"}, variant
        assert other["torch"] == cpu["torch"] == Version("2.13.0") and not other["torch"].local


def test_role_vars_name_existing_files() -> None:
    roles = ILAB.parents[1] / "roles" / "ilab_env" / "vars"
    for variant in VARIANTS:
        text = (roles / ("%s.yml" % variant)).read_text(encoding="utf-8")
        requirements_file = re.search(r"__ilab_env_requirements: (\S+)", text).group(1)
        constraints_file = re.search(r"__ilab_env_constraints: (\S+)", text).group(1)
        assert (ILAB / requirements_file).is_file() and (ILAB / constraints_file).is_file()
