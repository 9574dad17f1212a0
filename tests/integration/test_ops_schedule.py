"""playbooks/harvest.yml on three build hosts: ports assigned by rendezvous hashing, stable under --limit.

The three hosts are this machine under three names (connection local). The ports are
directories without a buildenv, so each host's replay stops at the first check, which
names the port: that is enough to see which host took which port, in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import assign
from playbook_harness import run_playbook

HOSTS = ["build1", "build2", "build3"]
REFUSED = re.compile(r"Port (\S+): .* has no buildenv")


def _inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {
        "children": {"autoport_build_hosts": {"hosts": {host: None for host in HOSTS}}},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
    }}), encoding="utf-8")
    return path


def _taken(run) -> dict[str, list[str]]:
    taken: dict[str, list[str]] = {}
    for event in run.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_failed" and data.get("task") == "Refuse a port directory without buildenv":
            match = REFUSED.search(str(data.get("res", {}).get("msg", "")))
            assert match, data.get("res")
            taken.setdefault(data["host"], []).append(match.group(1))
    return taken


def test_ports_follow_the_hash_and_stay_put_under_limit(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-port"
    empty.mkdir()
    names = ["port%02d" % number for number in range(9)]
    extravars = {
        "autoport_output_dir": str(tmp_path / "out"),
        "harvest_remote_dir": str(tmp_path / "remote"),
        "harvest_ports": [{"name": name, "src": str(empty)} for name in names],
        "harvest_fail_on_port_error": False,
        # The hashed lists themselves (the claim queue is tests/integration/test_ops_queue.py).
        "harvest_queue": "never",
    }
    inventory = str(_inventory(tmp_path))
    full = run_playbook("harvest.yml", extravars, inventory=inventory, private_data_dir=str(tmp_path / "run1"))
    assert full.rc == 0, full.stdout[-3000:]
    expected = {host: ports for host, ports in assign(names, HOSTS).items() if ports}
    assert _taken(full) == expected
    assert len(expected) >= 2  # the test means something only when the ports spread

    # --limit leaves build2 out: only its ports move, each to its next-ranked host.
    limited = run_playbook("harvest.yml", extravars, inventory=inventory, private_data_dir=str(tmp_path / "run2"), limit="build1,build3")
    assert limited.rc == 0, limited.stdout[-3000:]
    after = _taken(limited)
    assert after == {host: ports for host, ports in assign(names, HOSTS, live=["build1", "build3"]).items() if ports}
    for host in ("build1", "build3"):
        assert set(expected.get(host, [])) <= set(after.get(host, []))
    assert sorted(p for ports in after.values() for p in ports) == names
    # The old split (host i of n takes ports i, i+n, ...) would have moved ports between build1 and build3.
    old = {host: names[index::2] for index, host in enumerate(["build1", "build3"])}
    assert old != after
