"""The store between stages: harvest, mine, curate and taxonomy as separate processes sharing only the store.

Each stage runs as its own `scripts/autoport_run.py` process (its own ansible-runner private
data dir) from its own copy of the collection, with its own output folder. The only thing
the stages share is the store: a folder (path store) or a bare git repository (git store).
Train is left out here: ilab generation and training take minutes even with the smallest
settings (tests/integration/test_train.py runs them); train.yml pulls the taxonomy and the
curated split with the same tasks file this test exercises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


from playbook_harness import REPO, STANDIN, load_json_lines

COPIED = ("ansible.cfg", "galaxy.yml", "meta", "playbooks", "plugins", "roles", "scripts", "inventory")
PORTS = ("tinyprocport",)  # harvested (built); mine reads every sample port's patches
SAMPLE_PORTS = ("inicfgport", "pathutilport", "ringbufport", "strkitport", "tinyprocport")


def _working_copy(base: Path, stage: str) -> Path:
    """A fresh copy of the collection for one stage (as AWX or a CI job checks it out)."""
    root = base / ("wc-%s" % stage)
    collection = root / "ansible_collections" / "autoport" / "zos"
    collection.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, collection / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, collection / name)
    return root


def _stage(base: Path, stage: str, store: dict, extra: dict | None = None) -> dict:
    root = _working_copy(base, stage)
    collection = root / "ansible_collections" / "autoport" / "zos"
    variables = {
        "autoport_store": store,
        "autoport_output_dir": str(root / "output"),
        "harvest_ports": [{"name": port, "src": str(REPO / "samples" / "ports" / port)} for port in PORTS],
        "mine_ports": [{"name": port, "src": str(REPO / "samples" / "ports" / port)} for port in SAMPLE_PORTS],
        "harvest_remote_dir": str(root / "remote"),
        "harvest_mirror_dir": str(REPO / "samples" / "mirror"),
        "harvest_poll_interval": 1,
        "autoport_commit": "c0ffee%s" % stage.encode().hex()[:10],
    }
    variables.update(extra or {})
    vars_file = base / ("%s-vars.json" % stage)
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (root, STANDIN), ANSIBLE_CONFIG=str(collection / "ansible.cfg"))
    proc = subprocess.run(
        [sys.executable, str(collection / "scripts" / "autoport_run.py"), stage, "-i", str(collection / "inventory" / "local"),
         "-e", "@%s" % vars_file, "-o", str(base / ("run-%s" % stage))],
        capture_output=True, text=True, env=env, timeout=600, check=False, cwd=str(root),
    )
    summary_path = base / ("run-%s" % stage) / "run-summary.json"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["output_dir"] = root / "output"
    return summary


def _chain(base: Path, store: dict) -> dict:
    runs = {}
    for stage in ("harvest", "mine", "curate", "taxonomy"):
        runs[stage] = _stage(base, stage, store)
    return runs


def _check_chain(runs: dict, store_kind: str) -> None:
    rec = {stage: runs[stage]["store"]["runs"][stage] for stage in runs}
    for stage, summary in runs.items():
        assert summary["store"]["location"].startswith(store_kind + " "), summary["store"]
        assert rec[stage]["code_commit"] == "c0ffee%s" % stage.encode().hex()[:10]
    # Every stage read exactly what the one before wrote.
    assert rec["curate"]["inputs"] == {"harvest": rec["harvest"]["outputs"]["harvest"], "mined": rec["mine"]["outputs"]["mined"]}
    if "taxonomy" in rec:
        assert rec["taxonomy"]["inputs"] == {"curated": rec["curate"]["outputs"]["curated"]}
    assert all(rec[stage]["outputs"] and all(rec[stage]["outputs"].values()) for stage in rec)
    # Curate found in its own, empty output folder the records harvest wrote in another.
    harvested = {r["id"] for port in PORTS for r in load_json_lines(runs["harvest"]["output_dir"] / "harvest" / port / "records.jsonl")}
    curate_out = runs["curate"]["output_dir"]
    pulled = {r["id"] for port in PORTS for r in load_json_lines(curate_out / "harvest" / port / "records.jsonl")}
    assert harvested and pulled == harvested
    dataset = load_json_lines(curate_out / "curated" / "dataset.jsonl")
    assert {r["port"] for r in dataset if r["provenance"] == "build"} == set(PORTS)
    assert int(runs["curate"]["counts"]["curate_read"]) >= len(harvested)
    assert runs["curate"]["counts"]["curate_kept"] == len(dataset)


def test_path_store_carries_the_data_between_separate_stage_processes(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    runs = _chain(tmp_path, {"type": "path", "path": str(store_dir)})
    _check_chain(runs, "path")
    for item in ("harvest", "mined", "curated", "taxonomy"):
        assert (store_dir / item).is_symlink(), item
    qna = sorted(p.relative_to(store_dir / "taxonomy") for p in (store_dir / "taxonomy").rglob("qna.yaml"))
    taxonomy_out = runs["taxonomy"]["output_dir"] / "taxonomy"
    assert qna == sorted(p.relative_to(taxonomy_out) for p in taxonomy_out.rglob("qna.yaml"))
    # The store keeps what each item was made from, beside the version.
    version = os.path.realpath(store_dir / "curated")
    record = json.loads(Path(version + ".json").read_text(encoding="utf-8"))
    assert record["stage"] == "curate" and record["inputs"]["harvest"] == runs["harvest"]["store"]["runs"]["harvest"]["outputs"]["harvest"]

    # The same curate again from a fresh working copy at the same place (as AWX checks the
    # project out to /runner/project every job): nothing changes in the store. (At another
    # place the curate report differs: it names the record files by absolute path.)
    shutil.rmtree(tmp_path / "wc-curate")
    again = _stage(tmp_path, "curate", {"type": "path", "path": str(store_dir)})
    assert again["store"]["runs"]["curate"]["outputs"] == runs["curate"]["store"]["runs"]["curate"]["outputs"]
    assert os.path.realpath(store_dir / "curated") == version


def test_git_store_makes_one_commit_per_stage(tmp_path: Path) -> None:
    bare = tmp_path / "store.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    store = {"type": "git", "url": str(bare), "branch": "main"}
    runs = {stage: _stage(tmp_path, stage, store) for stage in ("harvest", "mine", "curate")}
    _check_chain(runs, "git")
    log = subprocess.run(["git", "-C", str(bare), "log", "--format=%H %s", "main"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in log] == ["autoport curate: curated", "autoport mine: mined", "autoport harvest: harvest"]
    assert log[0].split()[0] == runs["curate"]["store"]["runs"]["curate"]["commit"]


def test_unreachable_store_fails_the_stage_naming_it(tmp_path: Path) -> None:
    root = _working_copy(tmp_path, "curate")
    collection = root / "ansible_collections" / "autoport" / "zos"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (root, STANDIN), ANSIBLE_CONFIG=str(collection / "ansible.cfg"))
    missing = tmp_path / "volume-not-mounted"
    proc = subprocess.run(
        [sys.executable, str(collection / "scripts" / "autoport_run.py"), "curate", "-i", str(collection / "inventory" / "local"),
         "-e", json.dumps({"autoport_store": {"type": "path", "path": str(missing)}, "autoport_output_dir": str(root / "output")}),
         "-o", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert proc.returncode != 0
    summary = json.loads((tmp_path / "run" / "run-summary.json").read_text(encoding="utf-8"))
    messages = " ".join(f["message"] for f in summary["failed_tasks"])
    assert "store path %s is unreachable" % missing in messages, messages
    assert not (root / "output" / "curated").exists()  # curate never ran
