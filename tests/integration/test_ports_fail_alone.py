"""One bad port or one bad line stops nothing else: mine.yml with a missing port between
good ones, and curate/taxonomy stages fed a hostile line (nested 200,000 deep)."""

from __future__ import annotations

from pathlib import Path

from playbook_harness import load_json_lines, run_playbook


def test_missing_port_is_reported_and_the_other_ports_finish(tmp_path: Path, repo_root: Path) -> None:
    samples = repo_root / "samples" / "ports"
    out = tmp_path / "out"
    ports = [
        {"name": "tinyprocport", "src": str(samples / "tinyprocport")},
        {"name": "goneport", "src": str(tmp_path / "no-such-port")},
        {"name": "inicfgport", "src": str(samples / "inicfgport")},
    ]
    run = run_playbook("mine.yml", {"autoport_output_dir": str(out), "mine_ports": ports}, private_data_dir=str(tmp_path / "run"))
    # The stage fails at the end, naming the missing port, after the ports around it finished.
    assert run.rc != 0
    final = run.task_results("Fail when a port could not be mined")
    assert final, run.stdout[-3000:]
    assert "goneport" in final[0]["msg"] and "no-such-port" in final[0]["msg"]
    assert "tinyprocport" not in final[0]["msg"].split(":")[0] and "inicfgport" not in final[0]["msg"].split(":")[0]
    for name in ("tinyprocport", "inicfgport"):
        records = load_json_lines(out / "mined" / ("%s.jsonl" % name))
        assert records and {r["port"] for r in records} == {name}
    assert not (out / "mined" / "goneport.jsonl").exists()
    assert run.set_stats["mine_ports_failed"] == ["goneport"]
    assert int(run.set_stats["mine_records"]) == sum(len(load_json_lines(p)) for p in (out / "mined").glob("*.jsonl"))
    # The real ports are reported as changed, not as skipped.
    mined = run.task_results("Mine the patches of tinyprocport")
    assert mined and mined[0].get("changed") is True and "skipped" not in mined[0]
