"""The demo, end to end: playbooks/site.yml on the embedded default (inventory/local).

Sample ports -> harvest (gcc, make, git apply) -> mine -> curate -> taxonomy -> ilab
generate, train, convert -> a GGUF that loads and a recorded chat answer. Every stage
must produce something; a second run changes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from playbook_harness import assert_ok, load_json_lines, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("site")
    extravars = {
        "autoport_output_dir": str(base / "output"),
        "harvest_remote_dir": str(base / "remote"),
        "ilab_train_run_name": "site-e2e",
    }
    started = time.time()
    first = run_playbook("site.yml", extravars, private_data_dir=str(base / "run1"))
    seconds = time.time() - started
    assert_ok(first)
    started = time.time()
    second = run_playbook("site.yml", extravars, private_data_dir=str(base / "run2"))
    print("\nsite.yml: first run %.0f s, second run %.0f s" % (seconds, time.time() - started))
    return {"output": base / "output", "first": first, "second": second}


def test_every_stage_produced_something(demo: dict[str, Any]) -> None:
    out = demo["output"]
    harvested = [r for path in (out / "harvest").glob("*/records.jsonl") for r in load_json_lines(path)]
    assert len({r["port"] for r in harvested}) >= 3 and any(r["provenance"] == "build" for r in harvested)
    assert list((out / "mined").glob("*.jsonl"))
    dataset = load_json_lines(out / "curated" / "dataset.jsonl")
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
    # The evaluation compared the five systems on the test split and reported from predictions.jsonl.
    predictions = load_json_lines(out / "evaluate" / "predictions.jsonl")
    assert {p["system"] for p in predictions} == {"unchanged", "retrieval", "base", "tuned", "tuned_rag"}
    assert len({p["item"] for p in predictions}) == len(test_split)
    assert "| tuned |" in (out / "evaluate" / "report.md").read_text(encoding="utf-8")
    assert (out / "evaluate" / "report.html").is_file()
    stats = demo["first"].set_stats
    for key in ("harvest_records", "mine_records", "curate_kept", "taxonomy_leaves", "ilab_samples_generated", "ilab_training_loss", "evaluate_overall"):
        assert key in stats, key
    assert int(stats["harvest_records"]) > 0 and int(stats["taxonomy_leaves"]) > 0 and int(stats["ilab_samples_generated"]) > 0


def test_second_demo_run_changes_nothing(demo: dict[str, Any]) -> None:
    second = demo["second"]
    assert_ok(second)
    assert second.changed == 0, "second run changed: %s" % second.changed_tasks()
