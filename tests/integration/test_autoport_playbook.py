"""playbooks/autoport.yml for real: a sample port without its patches, auto-ported by
ansible-playbook with examples harvested from two other sample ports; a second run and a
--check run change nothing, and the port repository is not touched (write_patches false)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playbook_harness import REPO, assert_idempotent, run_playbook

from ansible_collections.autoport.zos.plugins.module_utils import patch_replay

SAMPLES = REPO / "samples"


def test_autoport_playbook_fixes_and_is_idempotent(tmp_path: Path) -> None:
    records = []
    for port in ("ringbufport", "pathutilport"):
        dest = tmp_path / "records" / (port + ".jsonl")
        patch_replay.replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(tmp_path / "harvest"),
                                  "mirror_dir": str(SAMPLES / "mirror"), "dest": str(dest)})
        records.append(str(dest))
    port_dir = tmp_path / "ports" / "tinyprocport"
    shutil.copytree(SAMPLES / "ports" / "tinyprocport", port_dir, ignore=shutil.ignore_patterns("*patches"))
    extravars = {"autoport_fix_ports": [str(port_dir)], "autoport_fix_records": records, "autoport_fix_proposers": ["retrieval", "template"],
                 "autoport_fix_work_dir": str(tmp_path / "work"), "autoport_fix_output_dir": str(tmp_path / "out"),
                 "autoport_fix_mirror_dir": str(SAMPLES / "mirror"), "autoport_fix_max_errors": 4}
    first = run_playbook("autoport.yml", extravars=extravars, private_data_dir=str(tmp_path / "run1"))
    second = run_playbook("autoport.yml", extravars=extravars, private_data_dir=str(tmp_path / "run2"))
    check = run_playbook("autoport.yml", extravars=extravars, check=True, private_data_dir=str(tmp_path / "run3"))
    assert_idempotent(first, second, check)
    result = first.task_results("Auto-port each port")[0]["results"][0]
    report = json.loads((tmp_path / "out" / "tinyprocport" / "report.json").read_text())
    assert result["summary_line"].startswith("tinyprocport: 4 errors met, ") and report["summary"]["errors_met"] == 4
    fixed = [error for error in report["errors"] if error["fixed"]]
    assert fixed and sorted(result["patches"]) == sorted(p.relative_to(tmp_path / "out" / "tinyprocport" / "patches").as_posix()
                                                         for p in (tmp_path / "out" / "tinyprocport" / "patches").rglob("*.patch"))
    assert not any(port_dir.rglob("*.patch"))
