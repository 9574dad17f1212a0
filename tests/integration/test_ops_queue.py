"""playbooks/harvest.yml with the claim queue: two build hosts take ports as they become free.

The two hosts are this machine under two names (connection local), each with its own work
folder, sharing one queue folder on the controller. One host has no copy of one port's
tarball (its mirror lacks it, as an offline host would): the port fails there, goes back
to the queue and the other host harvests it. Real builds (gcc, make, git apply).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import owner
from playbook_harness import REPO, assert_ok, load_json_lines, run_playbook

HOSTS = ["zbuild-a", "zbuild-b"]
PORTS = ["lnfindport", "tinyprocport"]
TARBALL = {"lnfindport": "lnfind-0.2.tar.gz", "tinyprocport": "tinyproc-0.4.tar.gz"}


def _plan() -> tuple[str, str, str]:
    """The port that will fail, the host it fails on (its hashed owner, which claims it first), the other host."""
    for port in sorted(PORTS):
        first = owner(port, HOSTS)
        if sorted(p for p in PORTS if owner(p, HOSTS) == first)[0] == port:
            return port, first, [host for host in HOSTS if host != first][0]
    raise AssertionError("no port is its owner's first claim")


def _setup(tmp_path: Path) -> tuple[str, dict, str, str, str]:
    failing, broken_host, good_host = _plan()
    mirrors = {}
    for host in HOSTS:
        mirror = tmp_path / ("mirror-" + host)
        shutil.copytree(REPO / "samples" / "mirror", mirror)
        if host == broken_host:
            (mirror / TARBALL[failing]).unlink()
        mirrors[host] = str(mirror)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "children": {"autoport_build_hosts": {"hosts": {
            host: {"harvest_remote_dir": str(tmp_path / ("remote-" + host)), "harvest_mirror_dir": mirrors[host]} for host in HOSTS}}},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
    }}), encoding="utf-8")
    extravars = {
        "autoport_output_dir": str(tmp_path / "out"),
        "harvest_queue_dir": str(tmp_path / "queue"),
        "harvest_ports": [{"name": port, "src": str(REPO / "samples" / "ports" / port)} for port in PORTS],
        "harvest_poll_interval": 1,
    }
    return str(inventory), extravars, failing, broken_host, good_host


def _claimed(run) -> dict[str, list[str]]:
    """Host -> ports it claimed, from the claim task's results."""
    taken: dict[str, list[str]] = {}
    for event in run.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task") == "Claim the next ports for this host":
            taken.setdefault(data["host"], []).extend(claim["port"] for claim in data["res"]["claims"])
    return {host: ports for host, ports in taken.items() if ports}


def test_queue_retries_a_port_on_the_other_host_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    inventory, extravars, failing, broken_host, good_host = _setup(tmp_path)
    first = run_playbook("harvest.yml", extravars, inventory=inventory, private_data_dir=str(tmp_path / "run1"))
    assert_ok(first)
    taken = _claimed(first)
    assert failing in taken[broken_host] and failing in taken[good_host], taken  # tried there, retried here
    assert sorted(p for ports in taken.values() for p in ports) == sorted(PORTS + [failing])  # nothing else ran twice
    queue = first.set_stats["harvest_queue"]
    assert queue["retried"] == [failing] and queue["finished_by"][failing] == good_host
    assert queue["ports"] == {"done": 2, "failed": 0, "claimed": 0, "free": 0}
    assert first.set_stats["harvest_ports_failed"] == []
    attempts = json.loads((tmp_path / "queue" / "runs" / queue["run"] / "attempts" / (failing + ".json")).read_text(encoding="utf-8"))
    assert [f["host"] for f in attempts["failures"]] == [broken_host]
    assert TARBALL[failing].split("-")[0] in attempts["failures"][0]["reason"], attempts  # names what was missing
    records_first = {}
    for port in PORTS:
        records_first[port] = load_json_lines(tmp_path / "out" / "harvest" / port / "records.jsonl")
        assert records_first[port] and {r["port"] for r in records_first[port]} == {port}
    assert not list((tmp_path / "queue" / "claims").iterdir())  # every claim released
    # Without a store the run summary still says where the harvest went.
    assert first.set_stats["autoport_store_location"] is None
    assert first.set_stats["autoport_runs"]["harvest"]["outputs"] == {"harvest": str(tmp_path / "out" / "harvest")}

    # Again: every port goes back to the host holding its checkpoint, nothing fails, nothing changes.
    second = run_playbook("harvest.yml", extravars, inventory=inventory, private_data_dir=str(tmp_path / "run2"))
    assert_ok(second)
    assert second.changed == 0, second.changed_tasks()
    again = second.set_stats["harvest_queue"]
    assert again["run"] != queue["run"] and again["retried"] == []
    assert again["finished_by"] == queue["finished_by"]
    assert {host: sorted(ports) for host, ports in _claimed(second).items()} == {
        host: sorted(p for p, h in queue["finished_by"].items() if h == host) for host in set(queue["finished_by"].values())}

    # --limit to the other host, two slots: it runs both ports at once (the absent host's
    # checkpoint no longer holds its port back) and gets the same records.
    limited = run_playbook("harvest.yml", dict(extravars, harvest_queue="always", harvest_host_slots=2), inventory=inventory,
                           private_data_dir=str(tmp_path / "run-limit"), limit=good_host)
    assert_ok(limited)
    claims = [event["event_data"]["res"]["claims"] for event in limited.events if event.get("event") == "runner_on_ok"
              and event["event_data"].get("task") == "Claim the next ports for this host"]
    assert sorted(claim["port"] for claim in claims[0]) == sorted(PORTS)  # both in its first claim
    assert limited.task_results("Wait for the first of this host's replays to end")  # followed together
    assert limited.set_stats["harvest_queue"]["finished_by"] == {port: good_host for port in PORTS}
    for port in PORTS:
        assert load_json_lines(tmp_path / "out" / "harvest" / port / "records.jsonl") == records_first[port]

    # --check: no queue, nothing written (not even a run in the queue folder).
    runs_before = sorted(p.name for p in (tmp_path / "queue" / "runs").iterdir())
    check = run_playbook("harvest.yml", dict(extravars, harvest_fail_on_port_error=False), inventory=inventory,
                         private_data_dir=str(tmp_path / "run3"), check=True)
    assert_ok(check)
    assert check.changed == 0, check.changed_tasks()
    assert sorted(p.name for p in (tmp_path / "queue" / "runs").iterdir()) == runs_before
