"""port_claim: the harvest claim queue (slots, leases, reclaim, stable order, runs, racing processes)."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import port_schedule
from ansible_collections.autoport.zos.plugins.module_utils.port_claim import ClaimError, ClaimQueue, claim_wait, run
from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import owner

HOSTS = ["zos1", "zos2", "zos3"]
PORTS = ["port%02d" % number for number in range(30)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_still_importable_from_port_schedule() -> None:
    assert port_schedule.ClaimQueue is ClaimQueue


def test_a_host_holds_at_most_its_slots(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path), run="r1")
    first = queue.claim(PORTS, "zos1", HOSTS, slots=3)
    assert len(first) == 3 and len({port for port, _token in first}) == 3
    assert queue.claim(PORTS, "zos1", HOSTS, slots=3) == []  # full
    queue.complete(*first[0])
    again = queue.claim(PORTS, "zos1", HOSTS, slots=3)
    assert len(again) == 1 and again[0][0] not in {port for port, _token in first}
    assert sorted(queue.held_by("zos1")) == sorted([first[1][0], first[2][0], again[0][0]])
    with pytest.raises(ClaimError, match="slots must be at least 1"):
        queue.claim(PORTS, "zos1", HOSTS, slots=0)


def test_order_is_own_hashed_ports_longest_first_then_stealing(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path))
    durations = {port: index for index, port in enumerate(PORTS)}
    order = queue.order(PORTS, "zos2", HOSTS, HOSTS, durations)
    mine = [port for port in PORTS if owner(port, HOSTS) == "zos2"]
    assert 3 <= len(mine) < len(PORTS)
    assert order[: len(mine)] == sorted(mine, key=lambda port: -durations[port])
    assert order[len(mine):] == sorted(set(PORTS) - set(mine), key=lambda port: -durations[port])


def test_a_port_goes_back_to_the_host_holding_its_checkpoint(tmp_path) -> None:
    """Run 1 under --limit without zos3: zos3's ports ran elsewhere. Run 2 with every host: they stay there."""
    queue = ClaimQueue(str(tmp_path), run="run1")
    moved = [port for port in PORTS if owner(port, HOSTS) == "zos3"]
    ran_on = {}
    for host in ("zos1", "zos2"):
        for port in moved:
            if owner(port, HOSTS, ["zos1", "zos2"]) == host:
                token = queue.try_claim(port, host)
                ran_on[port] = host
                queue.fail(port, token, "interrupted")  # checkpoint left on that host
    assert ran_on
    second = ClaimQueue(str(tmp_path), run="run2")
    for port, host in ran_on.items():
        assert second.checkpoint_host(port) == host
        assert second.order(PORTS, host, HOSTS, HOSTS)[0] in ran_on  # its checkpoints first
        assert port in second.order(PORTS, host, HOSTS, HOSTS)[: len(ran_on)]
        assert second.order(PORTS, "zos3", HOSTS, HOSTS).index(port) >= len(PORTS) - len(ran_on)  # last in zos3's order
    # zos3 never steals them while their hosts are here: every other port first, then nothing.
    taken = [port for port, _token in second.claim(PORTS, "zos3", HOSTS, slots=len(PORTS))]
    assert sorted(taken) == sorted(set(PORTS) - set(ran_on))
    # Gone from the play (--limit), their hosts no longer keep them.
    third = ClaimQueue(str(tmp_path), run="run3")
    assert sorted(port for port, _token in third.claim(list(ran_on), "zos3", HOSTS, live=["zos3"], slots=len(PORTS))) == sorted(ran_on)
    # The new run starts clean: the tries of run1 do not count in run2.
    assert all(second.attempts(port) == 0 for port in ran_on)


def test_an_expired_lease_is_reclaimed_once_and_the_old_holder_is_told(tmp_path) -> None:
    clock = Clock()
    queue = ClaimQueue(str(tmp_path), lease_seconds=1800, clock=clock)
    (port, token), = queue.claim(["curl"], "zos1", HOSTS)
    clock.now += 1700
    queue.heartbeat(port, token)
    clock.now += 1799
    assert not queue.expired(port) and queue.claim(["curl"], "zos2", HOSTS) == []
    clock.now += 2
    assert queue.expired(port)
    (taken, new_token), = queue.claim(["curl"], "zos2", HOSTS)
    assert taken == "curl" and queue.holder("curl")["host"] == "zos2"
    assert queue.failed_hosts("curl") == ["zos1"] and "expired" in queue.failures("curl")[0]["reason"]
    with pytest.raises(ClaimError, match="held by zos2"):
        queue.heartbeat("curl", token)
    with pytest.raises(ClaimError, match="no longer claimed"):
        queue.complete("curl", token)
    queue.complete("curl", new_token, {"records": 4})
    assert queue.state("curl") == "done" and queue.claim(["curl"], "zos3", HOSTS) == []
    assert not [name for name in os.listdir(tmp_path / "claims") if "expired" in name or "tmp" in name]


def test_a_failed_port_waits_for_an_untried_live_host(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path), max_attempts=3)
    (port, token), = queue.claim(["git"], "zos1", HOSTS, live=["zos1", "zos2"])
    queue.fail(port, token, "no tarball on this host")
    assert queue.claim(["git"], "zos1", HOSTS, live=["zos1", "zos2"]) == []
    (port, token), = queue.claim(["git"], "zos2", HOSTS, live=["zos1", "zos2"])
    queue.fail(port, token, "again")
    # Every live host tried it: the next try may run anywhere, until max_attempts.
    (port, token), = queue.claim(["git"], "zos1", HOSTS, live=["zos1", "zos2"])
    queue.fail(port, token, "third")
    assert queue.state("git") == "failed" and queue.claim(["git"], "zos2", HOSTS) == []


def test_claim_wait_picks_up_a_port_released_for_retry(tmp_path) -> None:
    clock = Clock()
    queue = ClaimQueue(str(tmp_path), clock=clock)
    (port, token), = queue.claim(["bash"], "zos1", HOSTS, live=["zos1", "zos2"])

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 1030 and queue.state("bash") == "claimed":
            queue.fail(port, token, "build host lost its connection")

    got = claim_wait(queue, ["bash"], "zos2", HOSTS, ["zos1", "zos2"], 1, None, wait=600, poll=10, sleep=sleep)
    assert [claimed for claimed, _token in got] == ["bash"] and clock.now == 1030
    # Nothing held by others and nothing free: no wait at all.
    queue.complete(*got[0])
    assert claim_wait(queue, ["bash"], "zos1", HOSTS, None, 1, None, wait=600, poll=10, sleep=clock.sleep) == [] and clock.now == 1030


def test_claim_wait_gives_up_after_its_wait(tmp_path) -> None:
    clock = Clock()
    queue = ClaimQueue(str(tmp_path), clock=clock)
    queue.claim(["zlib"], "zos1", HOSTS)
    assert claim_wait(queue, ["zlib"], "zos2", HOSTS, None, 1, None, wait=60, poll=25, sleep=clock.sleep) == []
    assert clock.now == 1075


def _claim_until_empty(args):
    folder, host, slots = args
    queue = ClaimQueue(folder, run="race")
    got = []
    while True:
        claims = queue.claim(PORTS, host, ["h%d" % i for i in range(6)], slots=slots)
        if not claims:
            return got
        assert len(queue.held_by(host)) <= slots
        for port, token in claims:
            got.append(port)
            queue.complete(port, token)


def test_racing_processes_with_slots_run_every_port_exactly_once(tmp_path) -> None:
    with multiprocessing.get_context("fork").Pool(6) as pool:
        results = pool.map(_claim_until_empty, [(str(tmp_path), "h%d" % i, 1 + i % 3) for i in range(6)])
    claimed = [port for got in results for port in got]
    assert sorted(claimed) == PORTS


def _params(tmp_path, **extra):
    params = {"queue_dir": str(tmp_path / "q"), "lease": 1800, "max_attempts": 3, "run": "r", "state": "claimed",
              "host": "zos1", "hosts": HOSTS, "live": [], "ports": PORTS[:4], "durations": {}, "slots": 2,
              "wait": 0, "poll": 1, "port": None, "token": None, "reason": None, "result": {}, "keep_runs_days": 30}
    params.update(extra)
    return params


def test_module_run_check_mode_writes_nothing_and_release_checks_the_token(tmp_path) -> None:
    preview = run(_params(tmp_path), check_mode=True)
    assert [claim["token"] for claim in preview["claims"]] == ["", ""] and not preview["changed"]
    assert not (tmp_path / "q").exists()  # check mode creates not even the folder
    real = run(_params(tmp_path))
    assert [claim["port"] for claim in real["claims"]] == [claim["port"] for claim in preview["claims"]] and real["changed"]
    assert real["ports"] == {"done": 0, "failed": 0, "claimed": 2, "free": 2}
    first = real["claims"][0]
    with pytest.raises(ClaimError, match="no longer claimed"):
        run(_params(tmp_path, state="done", port=first["port"], token="bad"), check_mode=True)
    done = run(_params(tmp_path, state="done", port=first["port"], token=first["token"], result={"records": 2}))
    assert done["state"] == "done" and done["changed"]
    failed = run(_params(tmp_path, state="failed", port=real["claims"][1]["port"], token=real["claims"][1]["token"], reason="x"))
    assert failed["state"] == "free" and failed["attempts"] == 1
    with pytest.raises(ClaimError, match="needs port and token"):
        run(_params(tmp_path, state="done"))


def test_opened_prunes_old_runs_only(tmp_path) -> None:
    ClaimQueue(str(tmp_path / "q"), run="old")
    ClaimQueue(str(tmp_path / "q"), run="recent")
    old = tmp_path / "q" / "runs" / "old"
    os.utime(old, (1, 1))
    assert run(_params(tmp_path, state="opened", run="new"), check_mode=True)["pruned"] == ["old"] and old.exists()
    assert run(_params(tmp_path, state="opened", run="new"))["pruned"] == ["old"] and not old.exists()
    assert sorted(os.listdir(tmp_path / "q" / "runs")) == ["new", "recent"]


def test_bad_input_is_named(tmp_path) -> None:
    with pytest.raises(ClaimError, match="run name"):
        ClaimQueue(str(tmp_path), run="../x")
    with pytest.raises(ClaimError, match="cannot name a claim file"):
        ClaimQueue(str(tmp_path)).try_claim("../etc", "zos1")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ClaimError, match=str(blocker)):
        ClaimQueue(str(blocker / "q"))


def test_summary_names_who_finished_what_and_the_retries(tmp_path) -> None:
    queue = ClaimQueue(str(tmp_path / "q"), run="r")
    (port, token), = queue.claim(["bash"], "zos1", HOSTS, live=["zos1", "zos2"])
    queue.fail(port, token, "no tarball")
    (port, token), = queue.claim(["bash"], "zos2", HOSTS, live=["zos1", "zos2"])
    queue.complete(port, token, {"records": 5})
    summary = run(_params(tmp_path, state="summary", ports=["bash", "curl"]))
    assert summary["ports"] == {"done": 1, "failed": 0, "claimed": 0, "free": 1}
    assert summary["finished_by"] == {"bash": "zos2"} and summary["retried"] == ["bash"]
    assert [item["host"] for item in summary["failures"]["bash"]] == ["zos1"] and not summary["changed"]


def test_ports_are_weighed_by_their_patch_count(tmp_path) -> None:
    from ansible_collections.autoport.zos.plugins.module_utils.port_claim import estimate_weight, weights

    big, small = tmp_path / "big", tmp_path / "small"
    for folder, count in ((big, 12), (small, 1)):
        (folder / "stable-patches" / "src").mkdir(parents=True)
        for number in range(count):
            (folder / "stable-patches" / "src" / ("f%d.c.patch" % number)).write_text("x", encoding="utf-8")
        (folder / "stable-patches" / "README").write_text("not a patch", encoding="utf-8")
    assert estimate_weight(str(small)) == 2 * 1.1 and estimate_weight(str(big)) == 13 * 2.2
    assert estimate_weight(str(tmp_path / "none")) is None
    found = weights(["big", "small", "remote", "given"], {"given": 5.0}, {"big": str(big), "small": str(small)})
    assert found == {"big": 13 * 2.2, "small": 2 * 1.1, "remote": 13 * 2.2, "given": 5.0}
    queue = ClaimQueue(str(tmp_path / "q"))
    got = run(_params(tmp_path, ports=["small", "big"], hosts=["zos1"], slots=1, sources={"big": str(big), "small": str(small)}))
    assert [claim["port"] for claim in got["claims"]] == ["big"]
    assert queue.state("big") == "claimed"
