"""The demo, end to end, exactly as the README says: `make demo` in a clean copy.

Sample ports -> harvest (gcc, make, git apply) -> mine -> curate -> taxonomy -> ilab
generate, train, convert -> a GGUF that loads and a recorded chat answer. Every stage
must produce something; a second run changes nothing.

The copy holds what a fresh clone holds (tracked and untracked, not ignored, files) and
the already-built `.venv` (its pinned set is what `make` would install). The environment
is a new user's: no ANSIBLE_* variable, so nothing but what the Makefile and ansible.cfg
set is on any path; in particular not the ibm.ibm_zos_core test stand-in, which the test
proves absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from playbook_harness import load_json_lines

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
RECAP = re.compile(r"^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def fresh_copy(dest: Path) -> Path:
    """The files a fresh clone of this checkout would have, with mtimes kept."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if not source.exists() or name == ".venv":
            continue  # deleted in the work tree, or the venv link of a git worktree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to((REPO / ".venv").resolve())
    return dest


def user_env(home_tmp: Path) -> dict[str, str]:
    # What `make e2e` and pytest put in the environment is not a new user's.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "AUTOPORT_", "PYTEST_")) and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env["ANSIBLE_LOCAL_TEMP"] = str(home_tmp)  # keep ansible's temp files out of the shared home
    return env


def make_demo(copy: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.time()
    done = subprocess.run(["make", "demo"], cwd=copy, env=env, capture_output=True, check=False, text=True, timeout=3600)
    return done, time.time() - started


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("site")
    copy = fresh_copy(base / "autoport")
    env = user_env(base)
    first, first_s = make_demo(copy, env)
    assert first.returncode == 0, "make demo failed:\n%s\n%s" % (first.stdout[-6000:], first.stderr[-3000:])
    second, second_s = make_demo(copy, env)
    print("\nmake demo: first run %.0f s, second run %.0f s" % (first_s, second_s))
    return {"copy": copy, "output": copy / "output", "env": env, "first": first, "second": second}


def test_no_zos_collection_on_any_path(demo: dict[str, Any]) -> None:
    """The demo ran with no ibm.ibm_zos_core resolvable: the collection and its stand-in are absent."""
    copy = demo["copy"]
    env = dict(demo["env"], ANSIBLE_CONFIG=str(copy / "ansible.cfg"))
    listed = subprocess.run(
        [str(copy / ".venv" / "bin" / "ansible-galaxy"), "collection", "list", "--format", "json"],
        cwd=copy, env=env, capture_output=True, text=True, check=True,
    )
    found = {name for paths in json.loads(listed.stdout).values() for name in paths}
    assert "autoport.zos" in found, found
    assert "ibm.ibm_zos_core" not in found, "ibm.ibm_zos_core is on the demo's collections path: %s" % listed.stdout
    doc = subprocess.run(
        [str(copy / ".venv" / "bin" / "ansible-doc"), "-t", "module", "ibm.ibm_zos_core.zos_copy"],
        cwd=copy, env=env, capture_output=True, check=False, text=True,
    )
    assert doc.returncode != 0 or "not found" in (doc.stdout + doc.stderr).lower(), doc.stdout[:500]
    assert "tests/collections" not in demo["first"].stdout


def test_every_stage_produced_something(demo: dict[str, Any]) -> None:
    out = demo["output"]
    harvested = [r for path in (out / "harvest").glob("*/records.jsonl") for r in load_json_lines(path)]
    assert len({r["port"] for r in harvested}) >= 3 and all(r["provenance"] == "build" for r in harvested)
    # The static records come from the mine stage only (issue 15), and reach the dataset.
    mined = [r for path in (out / "mined").glob("*.jsonl") for r in load_json_lines(path)]
    assert mined and all(r["provenance"] == "static" and r["error"] == "" for r in mined)
    dataset = load_json_lines(out / "curated" / "dataset.jsonl")
    assert any(r["provenance"] == "static" for r in dataset) and any(r["provenance"] == "build" for r in dataset)
    test_split = load_json_lines(out / "curated" / "test.jsonl")
    assert dataset and test_split
    skills = list((out / "taxonomy" / "compositional_skills").rglob("qna.yaml"))
    assert skills, "the taxonomy has no skills leaf"
    ilab = next((out / "ilab").iterdir())
    models = list((ilab / "model").glob("*.gguf"))
    assert len(models) == 1 and models[0].read_bytes()[:4] == b"GGUF"
    chat = json.loads((ilab / "report" / "chat.json").read_text(encoding="utf-8"))
    assert chat["answer"].strip()
    # The question comes from a port the model was not trained on.
    test_ports = {r["port"] for r in test_split}
    assert any(port in chat["question"] or r["error"][:40] in chat["question"] for r in test_split for port in test_ports)
    # The stage counts are printed (show_custom_stats) for the operator.
    stdout = demo["first"].stdout
    for key in ("harvest_records", "mine_records", "curate_kept", "taxonomy_leaves", "ilab_samples_generated", "ilab_training_loss"):
        assert "%s: " % key in stdout.split("CUSTOM STATS")[-1], key
    # The evaluation compared the five systems on the test split and reported from predictions.jsonl.
    predictions = load_json_lines(out / "evaluate" / "predictions.jsonl")
    assert {p["system"] for p in predictions} == {"unchanged", "retrieval", "base", "tuned", "tuned_rag"}
    assert len({p["item"] for p in predictions}) == len(test_split)
    assert "| tuned |" in (out / "evaluate" / "report.md").read_text(encoding="utf-8")
    assert (out / "evaluate" / "report.html").is_file()
    assert "evaluate_overall: " in stdout.split("CUSTOM STATS")[-1]
    # The auto-port step ran on the sample port with no patches and kept only proven fixes.
    report = json.loads((out / "autoport" / "tinyprocport" / "report.json").read_text(encoding="utf-8"))
    assert "tinyprocport: " in stdout and " errors met, " in stdout
    accepted = list((out / "autoport" / "tinyprocport" / "patches").rglob("*.patch"))
    autoport_records = load_json_lines(out / "autoport" / "tinyprocport" / "records.jsonl")
    assert len(autoport_records) >= len(accepted) and all(r["provenance"] == "autoport" for r in autoport_records)
    assert report["port"] == "tinyprocport" and report["errors"], report.get("summary")


def test_second_demo_run_changes_nothing(demo: dict[str, Any]) -> None:
    recap = RECAP.findall(demo["second"].stdout)
    assert recap, demo["second"].stdout[-3000:]
    changed = [(host, int(c)) for host, c, _u, _f in recap if int(c)]
    assert not changed, "second make demo changed: %s\n%s" % (changed, demo["second"].stdout[-6000:])
    assert all(int(f) == 0 and int(u) == 0 for _h, _c, u, f in recap)
