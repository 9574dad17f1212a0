"""playbooks/autoport.yml for real: a sample port without its patches, auto-ported by
ansible-playbook with examples harvested from two other sample ports; a second run and a
--check run change nothing, and the port repository is not touched (write_patches false).
On a z/OS-shaped host (the ibm.ibm_zos_core stand-in and the real `zopen build` through
../shared/tools/zopen-linux) the port and records travel the harvest's way and the results
come back; every z/OS task runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playbook_harness import REPO, assert_idempotent, assert_ok, assert_zos_tasks_ran, run_playbook, zopen_config

from ansible_collections.autoport.zos.plugins.module_utils import patch_replay

SAMPLES = REPO / "samples"
ZOS_INVENTORY = REPO / "tests" / "integration" / "inventories" / "zos-standin"
ZOS_ACTIONS = {"ibm.ibm_zos_core.zos_copy", "ibm.ibm_zos_core.zos_unarchive", "ibm.ibm_zos_core.zos_archive", "ibm.ibm_zos_core.zos_fetch"}
STRICT = "-std=c99 -D_POSIX_C_SOURCE=200112L -pedantic-errors -Werror=implicit-function-declaration"


def _records(tmp_path: Path) -> list:
    records = []
    for port in ("ringbufport", "pathutilport"):
        dest = tmp_path / "records" / (port + ".jsonl")
        patch_replay.replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(tmp_path / "harvest"),
                                  "mirror_dir": str(SAMPLES / "mirror"), "dest": str(dest)})
        records.append(str(dest))
    return records


def _bare(tmp_path: Path, port: str = "tinyprocport") -> Path:
    port_dir = tmp_path / "ports" / port
    shutil.copytree(SAMPLES / "ports" / port, port_dir, ignore=shutil.ignore_patterns("*patches"))
    return port_dir


def test_autoport_playbook_fixes_and_is_idempotent(tmp_path: Path) -> None:
    records = _records(tmp_path)
    port_dir = _bare(tmp_path)
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
    assert result["patch_folder"] == "patches"
    fixed = [error for error in report["errors"] if error["fixed"]]
    assert fixed and sorted(result["patches"]) == sorted(p.relative_to(tmp_path / "out" / "tinyprocport" / "patches").as_posix()
                                                         for p in (tmp_path / "out" / "tinyprocport" / "patches").rglob("*.patch"))
    assert not any(port_dir.rglob("*.patch"))


def test_zos_shaped_autoport_runs_every_zos_task_and_brings_the_results_back(shared_dir: Path, tmp_path: Path) -> None:
    """The port and records go to the host by zos_copy + zos_unarchive, the real `zopen build` builds
    there, the results come back by zos_archive + zos_fetch; with write_patches the patches land in
    the controller's port patch folder (returned as patch_folder), and a second run changes nothing."""
    records = _records(tmp_path)
    port_dir = _bare(tmp_path)
    out = tmp_path / "out"
    extravars = {"autoport_fix_ports": [str(port_dir)], "autoport_fix_records": records, "autoport_fix_proposers": ["retrieval", "template"],
                 "autoport_fix_output_dir": str(out), "autoport_fix_remote_dir": str(tmp_path / "remote"),
                 "autoport_fix_mirror_dir": str(SAMPLES / "mirror"), "autoport_fix_max_errors": 3,
                 "autoport_zopen_config": str(zopen_config(shared_dir, tmp_path)), "autoport_fix_build_env": {"ZOPEN_STANDIN_CFLAGS": STRICT}}
    first = run_playbook("autoport.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run1"))
    assert_ok(first)
    assert_zos_tasks_ran(first, ZOS_ACTIONS)
    result = first.task_results("Auto-port on the z/OS host tinyprocport")[0]
    # The real zopen build ran on the "host" (found on PATH through the zopen-config only).
    assert list((tmp_path / "remote").glob("ports/tinyprocport/work/**/*zopen*.log")), "no zopen build log on the host"
    report = json.loads((out / "tinyprocport" / "report.json").read_text())
    assert report["summary"]["errors_met"] == 3 and result["summary_line"].startswith("tinyprocport: 3 errors met, ")
    assert result["patch_folder"] == "patches"
    fetched = sorted(p.relative_to(out / "tinyprocport" / "patches").as_posix() for p in (out / "tinyprocport" / "patches").rglob("*.patch"))
    assert fetched and fetched == sorted(result["patches"])
    assert not (port_dir / "patches").exists(), "write_patches is false: the port repository is not touched"
    assert [json.loads(line)["provenance"] for line in (out / "tinyprocport" / "records.jsonl").read_text().splitlines()] == ["autoport"] * len(
        [e for e in report["errors"] if e["fixed"]])
    second = run_playbook("autoport.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run2"))
    check = run_playbook("autoport.yml", extravars, inventory=str(ZOS_INVENTORY), check=True, private_data_dir=str(tmp_path / "run3"))
    assert_idempotent(first, second, check)
    # With write_patches the fetched patches land in the controller's port, in its patch folder.
    writing = run_playbook("autoport.yml", dict(extravars, autoport_fix_write_patches=True), inventory=str(ZOS_INVENTORY),
                           private_data_dir=str(tmp_path / "run4"))
    assert_ok(writing)
    written = {p.relative_to(port_dir / "patches").as_posix(): p.read_bytes() for p in (port_dir / "patches").rglob("*.patch")}
    assert written == {name: (out / "tinyprocport" / "patches" / name).read_bytes() for name in fetched}
