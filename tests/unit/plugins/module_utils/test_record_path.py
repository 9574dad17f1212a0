"""One record path (docs/architecture.md): a record is scrubbed and validated once where it
is made (make_record, inside patch_replay) and once where records enter curation
(dataset_curate), and nowhere else on its way from a build log to a qna.yaml.

The real entry points run in pipeline order on the sample ports (real builds with the
host compiler): patch_replay.replay_port -> dataset_curate.curate ->
qna_render.render_taxonomy. Every scrub and validate function, wherever a module
imported it, is wrapped to count the outermost calls that concern one record that ends
up in a rendered qna.yaml.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate, qna_render, record, secret_scrub
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port

SAMPLES = Path(__file__).resolve().parents[4] / "samples"
PACKAGE = "ansible_collections.autoport.zos.plugins.module_utils."
IDENTITY = ("port", "patch_file", "file", "hunk", "provenance")

# (function, what it does to a record)
WATCHED = (
    (secret_scrub.scrub_text, "scrub"),
    (secret_scrub.scrub_value, "scrub"),
    (secret_scrub.scrub_file, "scrub-log"),
    (record.scrub_record, "scrub"),
    (record.validate_record, "validate"),
    (dataset_curate._schema_problems, "validate"),
)


class Calls(object):
    """Outermost calls of the watched functions, with the stage and first argument."""

    def __init__(self):
        self.depth = 0
        self.stage = None
        self.seen = []  # (stage, module, function, action, argument)

    def wrap(self, function, action, where):
        def wrapper(*args, **kwargs):
            if self.depth == 0:
                self.seen.append((self.stage, where, function.__name__, action, args[0] if args else None))
            self.depth += 1
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1

        return wrapper


@pytest.fixture()
def calls(monkeypatch):
    watch = Calls()
    originals = dict((id(function), (function, action)) for function, action in WATCHED)
    for name, module in list(sys.modules.items()):
        if not name.startswith(PACKAGE) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in originals:
                function, action = originals[id(value)]
                monkeypatch.setattr(module, attr, watch.wrap(function, action, name[len(PACKAGE):]))
    return watch


def _concerns(argument, target: dict) -> bool:
    if isinstance(argument, dict):
        return all(argument.get(name) == target[name] for name in IDENTITY)
    if isinstance(argument, str):
        return argument in (target["error"], target["wrong_code"], target["correct_code"], target["patch"])
    return False


def test_one_record_is_scrubbed_and_validated_once_where_made_and_once_where_curated(tmp_path, calls):
    calls.stage = "harvest"
    harvested = tmp_path / "harvest"
    for port in sorted(path.name for path in (SAMPLES / "ports").iterdir()):
        result = replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(tmp_path / "work" / port), "mirror_dir": str(SAMPLES / "mirror"),
                              "dest": str(harvested / ("%s.jsonl" % port))})
        assert result["records"] > 0
    calls.stage = "curate"
    curated = dataset_curate.curate({"src": [str(harvested)], "dest": str(tmp_path / "curated"), "report": False})
    assert curated["counts"]["kept"] > 0
    calls.stage = "taxonomy"
    rendered = qna_render.render_taxonomy({"src": str(tmp_path / "curated" / "dataset.jsonl"), "taxonomy_dir": str(tmp_path / "taxonomy"), "kinds": ["skills"]})

    # One build record from a build log that reached a qna.yaml.
    kept = dict((item["id"], item) for item in qna_render.read_records(str(tmp_path / "curated" / "dataset.jsonl"))[0])
    in_qna = [kept[i] for leaf in rendered["leaves"] for i in leaf["record_ids"] if kept[i]["provenance"] == "build"]
    assert in_qna, rendered["skipped"]
    target = in_qna[0]

    counted = collections.Counter((stage, action) for stage, where, name, action, argument in calls.seen if _concerns(argument, target))
    where = collections.Counter((stage, where, name) for stage, where, name, action, argument in calls.seen if _concerns(argument, target))
    assert counted == {("harvest", "scrub"): 1, ("harvest", "validate"): 1, ("curate", "scrub"): 1, ("curate", "validate"): 1}, where
    assert where == {("harvest", "record", "scrub_value"): 1, ("harvest", "record", "validate_record"): 1,
                     ("curate", "record", "scrub_record"): 1, ("curate", "dataset_curate", "_schema_problems"): 1}, where
    # The build log the record's error came from was scrubbed when its build ended.
    assert any(stage == "harvest" and action == "scrub-log" for stage, _function, _record, action, _count in calls.seen)
