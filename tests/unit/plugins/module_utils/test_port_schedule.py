"""port_schedule: stable (rendezvous) assignment, the claim queue, the policy simulator."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import (
    ClaimQueue,
    ScheduleError,
    assign,
    owner,
    rank_hosts,
    simulate_lists,
    simulate_queue,
    static_slice,
)

PORTS = ["port%03d" % number for number in range(200)]
HOSTS = ["zos1", "zos2", "zos3", "zos4"]


def _owners(plan):
    return {port: host for host, ports in plan.items() for port in ports}


def test_assignment_is_deterministic_and_spreads_the_ports() -> None:
    plan = assign(PORTS, HOSTS)
    assert plan == assign(PORTS, list(reversed(HOSTS)))  # host order does not matter
    assert sorted(p for ports in plan.values() for p in ports) == PORTS
    assert all(30 <= len(ports) <= 70 for ports in plan.values()), {h: len(p) for h, p in plan.items()}
    assert plan["zos1"] == [p for p in PORTS if p in plan["zos1"]]  # the given order is kept


def test_limit_moves_only_the_ports_of_the_hosts_left_out() -> None:
    before = _owners(assign(PORTS, HOSTS))
    after = _owners(assign(PORTS, HOSTS, live=["zos1", "zos2", "zos4"]))  # --limit '!zos3'
    moved = {port for port in PORTS if before[port] != after[port]}
    assert moved == {port for port in PORTS if before[port] == "zos3"}
    for port in moved:  # each goes to its next-ranked host
        assert after[port] == [h for h in rank_hosts(port, HOSTS) if h != "zos3"][0]
    # The old static slice reshuffles nearly everything when a host leaves.
    old_before = _owners(static_slice(PORTS, HOSTS))
    old_after = _owners(static_slice(PORTS, ["zos1", "zos2", "zos4"]))
    assert sum(old_before[p] != old_after[p] for p in PORTS) > 2 * len(moved)


def test_a_new_host_takes_ports_only_for_itself() -> None:
    before = _owners(assign(PORTS, HOSTS))
    after = _owners(assign(PORTS, HOSTS + ["zos5"]))
    assert all(after[p] in (before[p], "zos5") for p in PORTS)
    assert 20 <= sum(after[p] == "zos5" for p in PORTS) <= 60


def test_dict_ports_and_bad_input() -> None:
    ports = [{"name": "a", "src": "x"}, {"name": "b", "src": "y"}]
    plan = assign(ports, HOSTS)
    assert sorted(p["name"] for ps in plan.values() for p in ps) == ["a", "b"]
    with pytest.raises(ScheduleError, match="no live host"):
        assign(ports, HOSTS, live=[])
    with pytest.raises(ScheduleError, match="unique: a"):
        assign(ports + [{"name": "a"}], HOSTS)
    with pytest.raises(ScheduleError, match="has no name"):
        assign([{"src": "x"}], HOSTS)
    assert owner("a", HOSTS, live=[]) is None


# ---------------------------------------------------------------- claim queue


def test_claims_are_exclusive_and_done_ports_are_not_claimed_again(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path))
    token = queue.try_claim("bash", "zos1")
    assert token and queue.state("bash") == "claimed"
    assert queue.try_claim("bash", "zos2") is None
    queue.complete("bash", token, {"records": 3})
    assert queue.state("bash") == "done" and queue.try_claim("bash", "zos2") is None
    with pytest.raises(ScheduleError, match="no longer claimed"):
        queue.complete("bash", token)


def test_a_failed_port_is_retried_on_another_host_then_given_up(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path), max_attempts=2)
    port, token = queue.next_port(["git"], "zos1", ["zos1", "zos2"])
    queue.fail(port, token, "build host lost its connection")
    assert queue.next_port(["git"], "zos1", ["zos1", "zos2"]) is None  # not again on the host it failed on
    port, token = queue.next_port(["git"], "zos2", ["zos1", "zos2"])
    assert port == "git"
    queue.fail(port, token, "again")
    assert queue.state("git") == "failed" and queue.next_port(["git"], "zos2", ["zos1", "zos2"]) is None
    assert queue.failed_hosts("git") == ["zos1", "zos2"]


def test_an_expired_claim_of_a_vanished_host_is_taken_over(tmp_path) -> None:
    now = {"t": 1000.0}
    queue = ClaimQueue(str(tmp_path), lease_seconds=60, clock=lambda: now["t"])
    token = queue.try_claim("curl", "zos1")
    now["t"] += 30
    queue.heartbeat("curl", token)
    now["t"] += 59
    assert queue.try_claim("curl", "zos2") is None  # heartbeat kept it alive
    now["t"] += 2
    taken = queue.try_claim("curl", "zos2")
    assert taken and queue.failed_hosts("curl") == ["zos1"]
    with pytest.raises(ScheduleError, match="lease expired"):
        queue.heartbeat("curl", token)  # the vanished host cannot finish it any more
    assert not [name for name in os.listdir(tmp_path / "claims") if "expired" in name or "tmp" in name]


def test_next_port_prefers_own_ports_longest_first(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path))
    ports = ["p%d" % i for i in range(20)]
    durations = {port: i for i, port in enumerate(ports)}
    mine = [p for p in ports if owner(p, HOSTS) == "zos2"]
    port, _claim = queue.next_port(ports, "zos2", HOSTS, durations)
    assert port == max(mine, key=durations.get)


def _claim_all(args):
    folder, host = args
    queue = ClaimQueue(folder)
    got = []
    while True:
        claimed = queue.next_port(PORTS[:60], host, ["h%d" % i for i in range(8)])
        if claimed is None:
            return got
        got.append(claimed[0])
        queue.complete(claimed[0], claimed[1])


def test_racing_processes_claim_every_port_exactly_once(tmp_path) -> None:
    with multiprocessing.get_context("fork").Pool(8) as pool:
        results = pool.map(_claim_all, [(str(tmp_path), "h%d" % i) for i in range(8)])
    claimed = [port for got in results for port in got]
    assert sorted(claimed) == PORTS[:60]


def test_unwritable_claim_folder_is_named(tmp_path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(str(folder), os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(ScheduleError, match=str(folder)):
            ClaimQueue(str(folder))
    finally:
        folder.chmod(0o700)


# ---------------------------------------------------------------- simulator


def test_queue_beats_the_static_slice_on_a_skewed_load() -> None:
    durations = {"big%d" % i: 100.0 for i in range(4)}
    durations.update({"small%d" % i: 1.0 for i in range(40)})
    ports = ["big0", "big1"] + ["small%d" % i for i in range(40)] + ["big2", "big3"]
    hosts = ["a", "b"]
    static = simulate_lists(static_slice(ports, hosts), durations)
    queue, moved = simulate_queue(durations, hosts)
    assert static == 220.0  # host a gets big0, big2 ... host b big1, big3 plus 20 smalls each
    assert queue == 220.0 and moved == 0
    skewed = ["big0", "small0", "big1", "small1", "big2", "small2", "big3"] + ["small%d" % i for i in range(3, 40)]
    # Listed big, small, big, ...: the slice hands all four big ports to host a.
    assert simulate_lists(static_slice(skewed, hosts), durations) == 418.0
    assert simulate_queue(durations, hosts, affinity=True)[0] <= 221.0
    assert simulate_lists({"a": ["big0", "big1"]}, durations, slots=2) == 100.0
