"""mine.yml, curate.yml and taxonomy.yml for real, on the sample ports' harvest.

Each playbook: changed on the first run, unchanged on the second, nothing changed under --check.
The taxonomy is checked with the parser `ilab taxonomy diff` uses (instructlab-schema's
TaxonomyParser, yamllint included) on the files of the git repo.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from playbook_harness import assert_idempotent, load_json_lines, run_playbook

pytest.importorskip("instructlab.schema.taxonomy")
from instructlab.schema.taxonomy import TaxonomyParser  # noqa: E402


@pytest.fixture(scope="module")
def pipeline(posix_harvest: dict, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("pipeline")
    out = base / "out"
    shutil.copytree(posix_harvest["base"] / "out" / "harvest", out / "harvest")
    extravars = {"autoport_output_dir": str(out)}
    runs = {}
    for stage in ("mine", "curate", "taxonomy"):
        first = run_playbook("%s.yml" % stage, extravars, private_data_dir=str(base / ("%s-1" % stage)))
        second = run_playbook("%s.yml" % stage, extravars, private_data_dir=str(base / ("%s-2" % stage)))
        check = run_playbook("%s.yml" % stage, extravars, check=True, private_data_dir=str(base / ("%s-3" % stage)))
        runs[stage] = (first, second, check)
    return {"out": out, "runs": runs}


@pytest.mark.parametrize("stage", ["mine", "curate", "taxonomy"])
def test_stage_is_idempotent_and_check_mode_changes_nothing(pipeline: dict, stage: str) -> None:
    assert_idempotent(*pipeline["runs"][stage])


def _hunks(records: list, provenance: str) -> set:
    return {(r["port"], r["patch_file"], r["hunk"]) for r in records if r["provenance"] == provenance}


def test_mined_records_cover_every_sample_patch(pipeline: dict, repo_root: Path) -> None:
    out = pipeline["out"]
    for port_dir in sorted((repo_root / "samples" / "ports").iterdir()):
        records = load_json_lines(out / "mined" / ("%s.jsonl" % port_dir.name))
        patch_files = {str(p.relative_to(port_dir)) for p in port_dir.rglob("*.patch")}
        assert {r["patch_file"] for r in records} == patch_files
        assert all(r["provenance"] == "static" and r["error"] == "" for r in records)
    stats = pipeline["runs"]["mine"][0].set_stats
    assert int(stats["mine_records"]) == sum(len(load_json_lines(p)) for p in (out / "mined").glob("*.jsonl"))


def test_static_records_come_from_the_mine_stage_only(pipeline: dict) -> None:
    """Issue 15: harvest.yml writes no static record; mine.yml has one for every hunk, those no
    build error points at included; curate.yml keeps each hunk once."""
    out = pipeline["out"]
    harvested = [r for path in sorted((out / "harvest").glob("*/records.jsonl")) for r in load_json_lines(path)]
    mined = [r for path in sorted((out / "mined").glob("*.jsonl")) for r in load_json_lines(path)]
    assert harvested and not _hunks(harvested, "static") and all(r["provenance"] == "build" for r in harvested)
    every_hunk = _hunks(mined, "static")
    assert len(every_hunk) == len(mined)
    proven = _hunks(harvested, "build")
    # strkitport's cpus.c.patch: a build error points at hunk 1 only; hunk 2 is the mine stage's alone.
    cpus = ("strkitport", "stable-patches/src/cpus.c.patch")
    assert cpus + (1,) in proven and cpus + (2,) not in proven and cpus + (2,) in every_hunk
    assert proven < every_hunk
    dataset = load_json_lines(out / "curated" / "dataset.jsonl")
    static_keys = [(r["port"], r["patch_file"], r["hunk"]) for r in dataset if r["provenance"] == "static"]
    assert cpus + (2,) in static_keys
    # Each hunk once: no hunk twice as a static record, none static where a build proved it...
    assert len(static_keys) == len(set(static_keys)) and not set(static_keys) & proven
    assert _hunks(dataset, "build") <= proven
    # ... and every mined hunk is still there, as a record or in the seen_in of the record it was merged into.
    places = {(r["port"], r["patch_file"]) for r in dataset} | {(s["port"], s["patch_file"]) for r in dataset for s in r.get("seen_in", [])}
    assert {(port, patch) for port, patch, _hunk in every_hunk} <= places
    assert int(pipeline["runs"]["curate"][0].set_stats["curate_read"]) == len(harvested) + len(mined)


def test_curated_counts_add_up_and_ports_do_not_leak(pipeline: dict) -> None:
    curated = pipeline["out"] / "curated"
    train = load_json_lines(curated / "train.jsonl")
    test = load_json_lines(curated / "test.jsonl")
    dataset = load_json_lines(curated / "dataset.jsonl")
    assert train and test
    assert {r["port"] for r in train}.isdisjoint({r["port"] for r in test})
    assert len(train) + len(test) == len(dataset)
    # Build records win over the static record of the same hunk.
    build_keys = {(r["port"], r["patch_file"], r["hunk"]) for r in dataset if r["provenance"] == "build"}
    assert build_keys
    assert not [r for r in dataset if r["provenance"] == "static" and (r["port"], r["patch_file"], r["hunk"]) in build_keys]
    report = (curated / "report.md").read_text(encoding="utf-8")
    numbers = re.search(r"kept (\d+) \+ rejected (\d+) \+ merged duplicates (\d+) = records read (\d+)", report)
    assert numbers, report[:2000]
    kept, rejected, merged, read = (int(n) for n in numbers.groups())
    assert kept + rejected + merged == read and kept == len(dataset)
    html = (curated / "report.html").read_text(encoding="utf-8")
    # One chart per view: category, port, phase, provenance, rejected reasons.
    assert html.count("<svg") + html.count("data:image/png") + html.count("data:image/svg+xml") >= 5
    stats = pipeline["runs"]["curate"][0].set_stats
    assert int(stats["curate_kept"]) == kept and int(stats["curate_read"]) == read


def test_taxonomy_validates_with_the_ilab_parser(pipeline: dict) -> None:
    taxonomy = pipeline["out"] / "taxonomy"
    files = subprocess.run(["git", "ls-files", "*qna.yaml"], cwd=taxonomy, capture_output=True, text=True, check=True).stdout.split()
    assert any(f.startswith("compositional_skills/") for f in files), files
    assert any(f.startswith("knowledge/") for f in files), files
    parser = TaxonomyParser(schema_version=0, message_format="standard", yamllint_strict=True)
    for name in files:
        result = parser.parse(str(taxonomy / name))
        assert result.errors == 0 and result.warnings == 0, name
        data = yaml.safe_load((taxonomy / name).read_text(encoding="utf-8"))
        assert data["version"] == 3
        if name.startswith("compositional_skills/"):
            assert len(data["seed_examples"]) >= 5
            assert (taxonomy / Path(name).parent / "attribution.txt").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=taxonomy, capture_output=True, text=True, check=True).stdout
    assert status == "", "the render left uncommitted files"
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=taxonomy, capture_output=True, text=True, check=True).stdout
    assert int(commits) == 1, "the second run made a commit"
    stats = pipeline["runs"]["taxonomy"][0].set_stats
    assert int(stats["taxonomy_leaves"]) == len(files)
    assert json.dumps(stats)
