"""Outputs reflect the current inputs: a port's records (patch_replay's records.jsonl,
patch_mine's mined/<port>.jsonl) are exactly what its current patches give. An edited
patch keeps none of its old records, a removed one none at all; a second identical run
changes nothing; other ports' records in the same file stay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.port_records import record_line, replace_port_records
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, make_record, read_records
from ansible_collections.autoport.zos.plugins.module_utils.static_mine import mine_port

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
MIRROR = SAMPLES / "mirror"

FOLD = "stable-patches/src/fold.c.patch"
MAIN = "stable-patches/src/main.c.patch"
OLD_COMMENT = "/* z/OS: no strcasestr() either. */"
NEW_COMMENT = "/* z/OS: no strcasestr() in the C library. */"


def rec(port: str, code: str, patch_file: str = "patches/a.patch") -> dict:
    return make_record(
        port=port, patch_file=patch_file, file="src/a.c", hunk=1, wrong_code="", correct_code=code, error="",
        error_category="other", patch="--- a/src/a.c\n+++ b/src/a.c\n@@ -1 +1 @@\n+%s\n" % code, phase="build",
        provenance="static", toolchain="gcc",
    )


def lines_of(path: Path) -> list:
    return path.read_text(encoding="utf-8").splitlines()


def test_a_port_is_replaced_whole_and_other_ports_stay(tmp_path):
    dest = tmp_path / "records.jsonl"
    other = rec("otherport", "int other;")
    old = [rec("fooport", "int a;"), rec("fooport", "int gone;")]
    dest.write_text(record_line(old[0]) + "\n" + record_line(other) + "\n" + record_line(old[1]) + "\n", encoding="utf-8")
    new = [rec("fooport", "int a;"), rec("fooport", "int b;")]
    result = replace_port_records(str(dest), "fooport", new)
    assert result == {"changed": True, "written": 1, "removed": 1, "records": 2}
    # The port's records take the place of its first old one; the other port's line does not move.
    assert lines_of(dest) == [record_line(new[0]), record_line(new[1]), record_line(other)]
    # The same records again: the file's bytes (and mtime) do not change.
    stamp = dest.stat().st_mtime_ns
    assert replace_port_records(str(dest), "fooport", new) == {"changed": False, "written": 0, "removed": 0, "records": 2}
    assert dest.stat().st_mtime_ns == stamp
    # No records left for the port: only the other port's line stays.
    assert replace_port_records(str(dest), "fooport", [])["removed"] == 2
    assert lines_of(dest) == [record_line(other)]


def test_ports_sharing_a_file_stay_in_place_and_an_unchanged_port_changes_no_byte(tmp_path):
    dest = tmp_path / "all.jsonl"
    ports = {name: [rec(name, "int %s_%d;" % (name, n)) for n in range(3)] for name in ("aport", "bport", "cport")}
    for name, records in ports.items():
        assert replace_port_records(str(dest), name, records)["changed"] is True
    content = dest.read_bytes()
    assert lines_of(dest) == [record_line(r) for name in ports for r in ports[name]]
    for name, records in ports.items():
        assert replace_port_records(str(dest), name, records)["changed"] is False
    assert dest.read_bytes() == content
    # A line that holds '"port": "bport"' elsewhere (a system fact) is not bport's.
    tricky = make_record(**dict({k: v for k, v in rec("aport", "int t;").items() if k != "id"}, system={"port": "bport"}))
    assert '"port": "bport"' in record_line(tricky)
    replace_port_records(str(dest), "aport", ports["aport"] + [tricky])
    assert replace_port_records(str(dest), "bport", ports["bport"])["changed"] is False
    assert record_line(tricky) in lines_of(dest)


def test_check_mode_reports_and_writes_nothing(tmp_path):
    dest = tmp_path / "records.jsonl"
    dest.write_text(record_line(rec("fooport", "int gone;")) + "\n", encoding="utf-8")
    before = dest.read_bytes()
    result = replace_port_records(str(dest), "fooport", [rec("fooport", "int a;")], check_mode=True)
    assert result["changed"] is True and result["removed"] == 1 and result["written"] == 1
    assert dest.read_bytes() == before
    absent = tmp_path / "absent.jsonl"
    assert replace_port_records(str(absent), "fooport", [])["changed"] is False and not absent.exists()
    assert replace_port_records(str(absent), "fooport", [], create_empty=True)["changed"] is True and absent.read_bytes() == b""


def test_torn_line_is_dropped_and_strange_lines_are_kept_for_curation(tmp_path):
    dest = tmp_path / "records.jsonl"
    deep = "[" * 200000 + "]" * 200000
    torn = record_line(rec("fooport", "int torn;"))[:40]
    dest.write_text("not json at all\n" + deep + "\n" + record_line(rec("fooport", "int old;")) + "\n" + torn, encoding="utf-8")
    new = [rec("fooport", "int a;")]
    replace_port_records(str(dest), "fooport", new)
    assert lines_of(dest) == ["not json at all", deep, record_line(new[0])]
    # The port's records were last: they stay last.
    other = rec("otherport", "int other;")
    dest.write_text(record_line(other) + "\n" + record_line(new[0]) + "\n", encoding="utf-8")
    replace_port_records(str(dest), "fooport", [rec("fooport", "int b;")])
    assert lines_of(dest) == [record_line(other), record_line(rec("fooport", "int b;"))]


def test_a_bad_record_writes_nothing(tmp_path):
    dest = tmp_path / "records.jsonl"
    dest.write_text(record_line(rec("fooport", "int a;")) + "\n", encoding="utf-8")
    before = dest.read_bytes()
    bad = dict(rec("fooport", "int b;"), error_category="no-such-category")
    with pytest.raises(RecordError, match="port fooport"):
        replace_port_records(str(dest), "fooport", [rec("fooport", "int c;"), bad])
    assert dest.read_bytes() == before


def edit_and_delete(port: Path) -> None:
    """Edit one hunk of fold.c.patch (its other hunks stay the same) and delete main.c.patch."""
    fold = port / FOLD
    text = fold.read_text(encoding="utf-8")
    assert OLD_COMMENT in text
    fold.write_text(text.replace(OLD_COMMENT, NEW_COMMENT), encoding="utf-8")
    (port / MAIN).unlink()


def assert_only_current_patches(records: list, port: Path) -> None:
    """Every record comes from a patch that exists now, and its hunk is in that patch as it is now."""
    assert records
    for record in records:
        current = port / record["patch_file"]
        assert current.is_file(), record["patch_file"]
        hunk = record["patch"].split("\n", 2)[2]  # without the ---/+++ header
        assert hunk.rstrip("\n") in current.read_text(encoding="utf-8"), (record["patch_file"], hunk[:200])
    assert not [record for record in records if OLD_COMMENT in record["patch"] or OLD_COMMENT in record["correct_code"]]


def test_mined_file_follows_edited_and_removed_patches(tmp_path):
    port = tmp_path / "lnfindport"
    shutil.copytree(str(SAMPLES / "ports" / "lnfindport"), str(port))
    dest = tmp_path / "mined" / "lnfindport.jsonl"
    first = mine_port(str(port), str(dest))
    before = [record for _number, record in read_records(str(dest))]
    assert {record["patch_file"] for record in before} >= {FOLD, MAIN}
    assert any(OLD_COMMENT in record["patch"] for record in before)
    edit_and_delete(port)
    second = mine_port(str(port), str(dest))
    after = [record for _number, record in read_records(str(dest))]
    assert_only_current_patches(after, port)
    assert MAIN not in {record["patch_file"] for record in after}
    assert second["changed"] is True and second["removed"] == 1 + sum(1 for r in before if r["patch_file"] == MAIN)
    assert second["written"] == 1 and second["records"] == len(after) == first["records"] - second["removed"] + 1
    # Unchanged records keep their ids; a second identical run changes nothing.
    assert {r["id"] for r in after} - {r["id"] for r in before} == {r["id"] for r in after if NEW_COMMENT in r["patch"]}
    bytes_before = dest.read_bytes()
    third = mine_port(str(port), str(dest))
    assert third["changed"] is False and third["written"] == 0 and third["removed"] == 0
    assert dest.read_bytes() == bytes_before
    assert mine_port(str(port), str(dest), check_mode=True)["changed"] is False


@pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="the harvest needs cc, make and git")
def test_harvest_records_follow_edited_and_removed_patches(tmp_path):
    port = tmp_path / "lnfindport"
    shutil.copytree(str(SAMPLES / "ports" / "lnfindport"), str(port))
    options = {"port_dir": str(port), "work_dir": str(tmp_path / "work"), "mirror_dir": str(MIRROR)}
    first = replay_port(options)
    dest = Path(first["records_file"])
    before = [record for _number, record in read_records(str(dest))]
    assert any(r["patch_file"] == MAIN and r["provenance"] == "build" for r in before)
    # Build records only: the commented hunk no build error points at is the mine stage's (above).
    assert all(r["provenance"] == "build" for r in before) and not any(OLD_COMMENT in r["patch"] for r in before)
    edit_and_delete(port)
    preview = replay_port(dict(options, check_mode=True))
    assert preview["changed"] is True and dest.read_bytes() == "".join(record_line(r) + "\n" for r in before).encode("utf-8")
    second = replay_port(options)
    after = [record for _number, record in read_records(str(dest))]
    assert_only_current_patches(after, port)
    assert MAIN not in {r["patch_file"] for r in after}
    assert second["records_removed"] == len({r["id"] for r in before} - {r["id"] for r in after}) > 0
    assert second["records"] == len(after)
    # What fold.c.patch fixes is still credited to it, from the patch as it is now.
    assert any(r["patch_file"] == FOLD and r["provenance"] == "build" and "strcasestr" in r["error"] for r in after)
    bytes_before = dest.read_bytes()
    third = replay_port(options)
    assert third["changed"] is False and third["builds"] == 0 and third["records_written"] == third["records_removed"] == 0
    assert dest.read_bytes() == bytes_before
    assert json.loads(json.dumps(third["patches"])) == second["patches"]
