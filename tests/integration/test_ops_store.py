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
import tarfile
import time
from pathlib import Path

import pytest
import yaml


from playbook_harness import REPO, STANDIN, assert_ok, load_json_lines, run_playbook

COPIED = ("ansible.cfg", "galaxy.yml", "meta", "playbooks", "plugins", "roles", "scripts", "inventory", "requirements")
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


def _stage_variables(root: Path, store: dict) -> dict:
    """The sample ports for harvest and mine, output and work folders under root."""
    return {
        "autoport_store": store,
        "autoport_output_dir": str(root / "output"),
        "harvest_ports": [{"name": port, "src": str(REPO / "samples" / "ports" / port)} for port in PORTS],
        "mine_ports": [{"name": port, "src": str(REPO / "samples" / "ports" / port)} for port in SAMPLE_PORTS],
        "harvest_remote_dir": str(root / "remote"),
        "harvest_mirror_dir": str(REPO / "samples" / "mirror"),
        "harvest_poll_interval": 1,
    }


def _stage(base: Path, stage: str, store: dict, extra: dict | None = None, playbook: str | None = None) -> dict:
    root = _working_copy(base, stage)
    collection = root / "ansible_collections" / "autoport" / "zos"
    variables = dict(_stage_variables(root, store), autoport_commit="c0ffee%s" % stage.encode().hex()[:10])
    variables.update(extra or {})
    vars_file = base / ("%s-vars.json" % stage)
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (root, STANDIN), ANSIBLE_CONFIG=str(collection / "ansible.cfg"))
    proc = subprocess.run(
        [sys.executable, str(collection / "scripts" / "autoport_run.py"), stage, "-i", str(collection / "inventory" / "local"),
         "-e", "@%s" % vars_file, "-o", str(base / ("run-%s" % stage))] + (["--playbook", playbook] if playbook else []),
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
    # Where each output lies in the store, for the operator reading the last node's artifacts.
    for stage in rec:
        for item, location in rec[stage]["locations"].items():
            if rec[stage]["outputs"][item]:
                assert location.endswith(item) and (location.startswith(runs[stage]["store"]["location"].split(" ", 1)[1])
                                                    or location.startswith(runs[stage]["store"]["location"])), (stage, item, location)
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
    _check_documents_reach_the_ai_host(tmp_path, runs, {"type": "path", "path": str(store_dir)})

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


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


def _check_documents_reach_the_ai_host(base: Path, runs: dict, store: dict) -> None:
    """The train side, in its own process and working copy: the knowledge documents come from the
    store, become a repository on the AI host, and the knowledge leaves sent name that repository."""
    work = base / "ai-host-work"
    train = _stage(base, "train", store, {
        "ilab_train_workdir": str(work), "ilab_train_output_dir": str(base / "wc-train-ilab"),
        # inventory/local sends skills only (an offline host); an AI host with internet sends knowledge too.
        "ilab_train_taxonomy_trees": ["compositional_skills", "knowledge"],
        "autoport_collection_playbooks": str(base / "wc-train" / "ansible_collections" / "autoport" / "zos" / "playbooks"),
    }, playbook=str(REPO / "tests" / "integration" / "fixtures" / "ops" / "train_docs.yml"))
    taxonomy_run = runs["taxonomy"]["store"]["runs"]["taxonomy"]
    assert taxonomy_run["outputs"]["knowledge-docs"], "the taxonomy stage rendered no knowledge documents"
    pulled = train["output_dir"] / "knowledge-docs"
    assert sorted(p.relative_to(pulled) for p in pulled.rglob("*") if p.is_file() and ".git" not in p.relative_to(pulled).parts) == sorted(
        p.relative_to(runs["taxonomy"]["output_dir"] / "knowledge-docs") for p in (runs["taxonomy"]["output_dir"] / "knowledge-docs").rglob("*")
        if p.is_file() and ".git" not in p.relative_to(runs["taxonomy"]["output_dir"] / "knowledge-docs").parts)
    host_repo = work / "knowledge-docs"
    head = _git("-C", str(host_repo), "rev-parse", "HEAD")
    with tarfile.open(base / "wc-train-ilab" / "taxonomy.tar") as archive:
        leaves = [yaml.safe_load(archive.extractfile(name).read()) for name in archive.getnames()
                  if name.startswith("knowledge/") and name.endswith("qna.yaml")]
    written = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in (runs["taxonomy"]["output_dir"] / "taxonomy").rglob("qna.yaml")
               if "knowledge" in path.parts]
    assert leaves and len(leaves) == len(written)
    # As written, the leaves name the taxonomy stage's own folder, which the AI host cannot reach.
    assert all(str(runs["taxonomy"]["output_dir"]) in leaf["document"]["repo"] for leaf in written)
    clone = base / "clone-as-ilab-would"
    for leaf in leaves:
        assert leaf["document"]["repo"] == "file://" + str(host_repo) and leaf["document"]["commit"] == head
        if not clone.exists():
            _git("clone", "-q", leaf["document"]["repo"], str(clone))
        _git("-C", str(clone), "checkout", "-q", leaf["document"]["commit"])
        for pattern in leaf["document"]["patterns"]:
            documents = list(clone.glob(pattern))
            assert documents, pattern
            for document in documents:
                assert document.read_bytes() == (runs["taxonomy"]["output_dir"] / "knowledge-docs" / document.relative_to(clone)).read_bytes()


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


@pytest.mark.e2e
def test_train_stage_trains_on_what_harvest_produced(tmp_path: Path) -> None:
    """The whole chain as five processes sharing only a path store: train really generates and
    trains (skills only: knowledge needs docling's models from the internet) on the taxonomy the
    taxonomy stage rendered from the dataset curate made of the harvest's records."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    store = {"type": "path", "path": str(store_dir)}
    runs = _chain(tmp_path, store)
    _check_chain(runs, "path")
    started = time.monotonic()
    train = _stage(tmp_path, "train", store, {
        "ilab_train_workdir": str(tmp_path / "ai-work"),
        "ilab_train_taxonomy_trees": ["compositional_skills"],
        "ilab_train_chat_question": "Why does a ported tool fail to compile with 'sys/syslimits.h: No such file or directory' on z/OS?",
    })
    print("train stage: %.0f s" % (time.monotonic() - started))
    chain = train["store"]["runs"]
    assert chain["train"]["inputs"]["taxonomy"] == runs["taxonomy"]["store"]["runs"]["taxonomy"]["outputs"]["taxonomy"]
    assert chain["train"]["inputs"]["curated"] == runs["curate"]["store"]["runs"]["curate"]["outputs"]["curated"]
    assert chain["train"]["outputs"]["ilab"] and os.path.realpath(store_dir / "ilab") != str(store_dir / "ilab")
    assert int(train["counts"]["ilab_samples_trained_on"]) > 0 and train["set_stats"]["ilab_training_loss"] is not None
    # The taxonomy the AI host trained on is, file for file, the one rendered from the harvest's dataset.
    written = runs["taxonomy"]["output_dir"] / "taxonomy"
    with tarfile.open(train["output_dir"] / "ilab" / "localhost" / "taxonomy.tar") as archive:
        sent = {name: archive.extractfile(name).read() for name in archive.getnames() if name.endswith("qna.yaml")}
    assert sent and sent == {str(p.relative_to(written)): p.read_bytes() for p in written.rglob("qna.yaml") if "compositional_skills" in p.parts}


@pytest.mark.parametrize("kind", ["none", "path"])
def test_stages_in_one_run_publish_one_summary_each(tmp_path: Path, kind: str) -> None:
    """site.yml runs every stage in one process: their set_stats add up, the location stays one value."""
    playbook = tmp_path / "two-stages.yml"
    playbook.write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": str(REPO / "playbooks" / name)}
                                        for name in ("harvest.yml", "mine.yml", "curate.yml")]), encoding="utf-8")
    store = {"type": "path", "path": str(tmp_path / "store")} if kind == "path" else {}
    (tmp_path / "store").mkdir()
    run = run_playbook(str(playbook), _stage_variables(tmp_path, store), private_data_dir=str(tmp_path / "run"))
    assert_ok(run)
    runs = run.set_stats["autoport_runs"]
    assert set(runs) == {"harvest", "mine", "curate"}, runs
    assert runs["curate"]["inputs"]["mined"] == runs["mine"]["outputs"]["mined"]
    assert runs["curate"]["inputs"]["harvest"] == runs["harvest"]["outputs"]["harvest"]
    if kind == "path":
        assert run.set_stats["autoport_store_location"] == runs["curate"]["store"] == runs["harvest"]["store"]
        assert run.set_stats["autoport_store_location"].count(str(tmp_path / "store")) == 1
    else:
        assert run.set_stats["autoport_store_location"] is None
