"""Outputs reflect the current inputs, through the real playbooks: harvest, mine and curate a
port, edit one of its patches and delete another, run them again. No record of the deleted
patch, nor of the edited hunk as it was, survives in records.jsonl, mined/<port>.jsonl or
the curated dataset; the build host's copy of the port loses the deleted patch; a third
identical round changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from playbook_harness import REPO, assert_ok, load_json_lines, run_playbook

PORT = "lnfindport"
FOLD = "stable-patches/src/fold.c.patch"
MAIN = "stable-patches/src/main.c.patch"
OLD_COMMENT = "/* z/OS: no strcasestr() either. */"
NEW_COMMENT = "/* z/OS: no strcasestr() in the C library. */"
STAGES = ("harvest", "mine", "curate")


def run_round(extravars: dict, base: Path, name: str, stages: tuple = STAGES) -> dict:
    runs = {}
    for stage in stages:
        runs[stage] = run_playbook("%s.yml" % stage, extravars, private_data_dir=str(base / ("%s-%s" % (name, stage))))
        assert_ok(runs[stage])
    return runs


def outputs(out: Path) -> dict:
    found = {
        "harvest": load_json_lines(out / "harvest" / PORT / "records.jsonl"),
        "mined": load_json_lines(out / "mined" / ("%s.jsonl" % PORT)),
    }
    if (out / "curated" / "dataset.jsonl").exists():
        found["dataset"] = load_json_lines(out / "curated" / "dataset.jsonl")
    return found


def test_edited_and_removed_patches_leave_no_records_anywhere(tmp_path: Path) -> None:
    port = tmp_path / "ports" / PORT
    shutil.copytree(str(REPO / "samples" / "ports" / PORT), str(port))
    out, remote = tmp_path / "out", tmp_path / "remote"
    extravars = {
        "autoport_output_dir": str(out),
        "harvest_remote_dir": str(remote),
        "harvest_poll_interval": 1,
        "harvest_ports": [{"name": PORT, "src": str(port)}],
    }
    # Curate reads only these two files: they are checked before, the dataset after.
    run_round(extravars, tmp_path, "first", stages=("harvest", "mine"))
    before = outputs(out)
    for name, records in before.items():
        assert MAIN in {r["patch_file"] for r in records}, name
    # The commented hunk of fold.c.patch is one no build error points at: its record is the
    # mine stage's static one; the harvest writes build records only.
    assert any(OLD_COMMENT in r["patch"] for r in before["mined"])
    assert not [r for r in before["harvest"] if OLD_COMMENT in r["patch"] or r["provenance"] != "build"]
    assert (remote / PORT / "port" / MAIN).is_file()

    fold = port / FOLD
    fold.write_text(fold.read_text(encoding="utf-8").replace(OLD_COMMENT, NEW_COMMENT), encoding="utf-8")
    (port / MAIN).unlink()
    second = run_round(extravars, tmp_path, "second")
    assert second["harvest"].changed > 0 and second["mine"].changed > 0, {stage: second[stage].changed_tasks() for stage in STAGES}
    # The build host's copy of the port has the same patches as the port.
    assert not (remote / PORT / "port" / MAIN).exists()
    assert NEW_COMMENT in (remote / PORT / "port" / FOLD).read_text(encoding="utf-8")
    after = outputs(out)
    assert set(after) == {"harvest", "mined", "dataset"}
    for name, records in after.items():
        assert records, name
        assert MAIN not in {r["patch_file"] for r in records}, name
        assert not [r for r in records if OLD_COMMENT in r["patch"] or OLD_COMMENT in r["correct_code"]], name
        for record in records:
            hunk = record["patch"].split("\n", 2)[2].rstrip("\n")
            assert hunk in (port / record["patch_file"]).read_text(encoding="utf-8"), (name, record["patch_file"])
        assert any(NEW_COMMENT in r["patch"] for r in records) is (name != "harvest"), name
    # What fold.c.patch fixes is still there, from the patch as it is now.
    assert any(r["patch_file"] == FOLD and "strcasestr" in r["error"] for r in after["dataset"])
    # No log of a build the harvest no longer has (the replay now has 3 builds, not 4).
    logs = {path.name for path in (out / "harvest" / PORT / "logs").iterdir()}
    assert logs and not [name for name in logs if name.startswith("loo-003-")], sorted(logs)

    third = run_round(extravars, tmp_path, "third")
    assert all(third[stage].changed == 0 for stage in STAGES), {stage: third[stage].changed_tasks() for stage in STAGES}
    assert outputs(out) == after
