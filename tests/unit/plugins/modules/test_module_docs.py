"""The module surface as ansible-doc shows it: shared fragments, pipeline links, shared port options, README."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.autoport.zos.plugins.module_utils.port_options import is_port_name, port_argument_spec
from ansible_collections.autoport.zos.plugins.modules import patch_mine, patch_replay

_SPEC = importlib.util.spec_from_file_location("module_docs", str(Path(__file__).resolve().parents[1] / "module_docs.py"))
_DOCS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_DOCS)

REPO = _DOCS.REPO
MODULES = _DOCS.MODULES
# The pipeline, stage by stage: each module's SEE ALSO names the one after it (and that
# one names it back), so ansible-doc walks the whole flow in both directions.
PIPELINE = [
    "port_pack", "patch_replay", "dataset_curate", "qna_render",
    "ilab_preflight", "ilab_taxonomy_pack", "ilab_stamp", "ilab_progress", "ilab_report",
    "fix_evaluate", "fix_evaluate_report",
]
BESIDE = {
    "patch_mine": ("patch_replay", "dataset_curate"),
    "build_log_parse": ("patch_replay", "dataset_curate"),
    "job_follow": ("patch_replay", "ilab_progress"),
    "git_snapshot": ("ilab_taxonomy_pack", "qna_render"),
    "stage_store": ("dataset_curate", "qna_render"),
    "port_claim": ("patch_replay", "job_follow"),
    "ilab_sample_filter": ("ilab_stamp", "ilab_report"),
    "autoport_fix": ("patch_replay", "dataset_curate"),
}


@pytest.fixture(scope="module")
def docs() -> dict[str, Any]:
    return _DOCS.ansible_doc()


def test_every_module_takes_the_shared_attribute_texts(docs: dict[str, Any]) -> None:
    assert sorted(docs) == MODULES and len(MODULES) >= 13
    for name in MODULES:
        raw = yaml.safe_load(importlib.import_module("ansible_collections.autoport.zos.plugins.modules." + name).DOCUMENTATION)
        assert "autoport.zos.attributes" in raw["extends_documentation_fragment"], name
        platform = [f for f in raw["extends_documentation_fragment"] if f in ("autoport.zos.attributes.posix", "autoport.zos.attributes.zos")]
        assert platform in (["autoport.zos.attributes.posix"], ["autoport.zos.attributes.zos"]), name
        # The module itself carries no attribute text or support level, only its details: one text, in the fragment.
        for attribute in (raw.get("attributes") or {}).values():
            assert set(attribute) == {"details"}, name
        shown = docs[name]["attributes"]
        assert shown["check_mode"]["description"].startswith("Can run in check_mode"), name
        assert shown["check_mode"]["support"] == "full", name
        assert shown["diff_mode"]["description"].startswith("Will return details"), name
        assert shown["platform"]["description"] == "Target OS/families that can be operated against.", name
        assert shown["platform"]["platforms"], name


def test_see_also_walks_the_pipeline_both_ways(docs: dict[str, Any]) -> None:
    links = {name: [entry["module"] for entry in docs[name].get("seealso") or []] for name in MODULES}
    for name, targets in links.items():
        assert targets, "%s has no SEE ALSO" % name
        for target in targets:
            # A link leaves the collection only for the ansible.builtin module a module mirrors.
            assert target.startswith("ansible.builtin.") or target.split(".")[-1] in MODULES, (name, target)
    for before, after in zip(PIPELINE, PIPELINE[1:]):
        assert "autoport.zos." + after in links[before], (before, after)
        assert "autoport.zos." + before in links[after], (after, before)
    for name, (sibling, following) in BESIDE.items():
        assert "autoport.zos." + sibling in links[name] and "autoport.zos." + following in links[name], name
    assert "autoport.zos.patch_mine" in links["dataset_curate"]
    assert all("seealso" in docs[name] and docs[name]["seealso"][0]["description"] for name in MODULES)


def test_patch_replay_and_patch_mine_share_one_port_spec_and_its_documentation(docs: dict[str, Any]) -> None:
    shared = port_argument_spec()
    assert set(shared) == {"port_dir", "port", "build_line", "port_commit"}
    for module in (patch_replay, patch_mine):
        name = module.__name__.rsplit(".", 1)[1]
        spec = module.argument_spec()
        for option, definition in shared.items():
            assert spec[option] == definition, (name, option)
        raw = yaml.safe_load(module.DOCUMENTATION)
        assert "autoport.zos.port" in raw["extends_documentation_fragment"]
        assert not set(shared) & set(raw["options"]), name  # documented once, in the fragment
        shown = docs[name]["options"]
        assert set(shown) == set(spec), name
        for option, definition in spec.items():
            assert shown[option]["type"] == definition["type"], (name, option)
            assert shown[option].get("default") == definition.get("default"), (name, option)
            assert shown[option].get("choices") == definition.get("choices"), (name, option)
            assert bool(shown[option].get("required")) == bool(definition.get("required")), (name, option)
    # A fresh copy each time: one module's options never leak into another's.
    assert "dest" not in port_argument_spec() and port_argument_spec(dest={})["dest"] == {}


@pytest.mark.parametrize("name, usable", [
    ("zlibport", True), ("gnu-m4_1.4+x", True), ("a" * 100, True),
    ("", False), (".hidden", False), ("../escape", False), ("bad;name$(x)", False), ("a" * 101, False),
    ("two\nlines", False), (5, False), (None, False),
])
def test_the_port_name_rule(name: Any, usable: bool) -> None:
    assert is_port_name(name) is usable


def test_readme_and_module_map_list_every_module() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Modules"):readme.index("## Benchmarks")]
    listed = re.findall(r"^\| [a-z]+ \| `autoport\.zos\.([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert sorted(listed) == MODULES
    # In pipeline order, as SEE ALSO shows it.
    assert [name for name in listed if name in PIPELINE] == PIPELINE
    mapped = re.findall(r"^\| [a-z]+ \| `([a-z_]+)` \|", (REPO / "docs" / "modules.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(mapped) == MODULES
