# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Which build host replays which port: stable assignment, a claim queue, a simulator.

Stable assignment (rendezvous / highest-random-weight hashing): every (port, host) pair
gets a score from sha256; a port goes to the live host with the highest score. Adding,
removing or limiting out a host moves only the ports that host held (to their next-ranked
live host); every other port stays on the host that holds its checkpoint, across re-runs
and ``--limit``.

The claim queue (hosts take ports as they become free) is port_claim.ClaimQueue; it is
still importable from here as port_schedule.ClaimQueue.

The simulator compares policies on a model of build times (benchmarks/bench_schedule.py).
Standard library only: it runs on the controller and on build hosts alike.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Iterable, Mapping, Sequence


class ScheduleError(ValueError):
    """Bad input to the scheduler; the message names it."""


# ---------------------------------------------------------------- stable assignment


def hrw_score(port: str, host: str) -> int:
    """Rendezvous score of a (port, host) pair: the first 8 bytes of sha256(host NUL port)."""
    digest = hashlib.sha256(("%s\0%s" % (host, port)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def rank_hosts(port: str, hosts: Iterable[str]) -> list[str]:
    """Hosts in the order a port prefers them (highest score first; ties by name)."""
    return sorted(set(hosts), key=lambda host: (-hrw_score(port, host), host))


def owner(port: str, hosts: Sequence[str], live: Iterable[str] | None = None) -> str | None:
    """The live host a port goes to: its best-ranked host among all hosts that is live.

    hosts is the whole group (not limited), live the hosts that run now (``--limit``,
    reachable). A live host outside hosts still counts, ranked with the others.
    """
    live_set = set(hosts if live is None else live)
    for host in rank_hosts(port, set(hosts) | live_set):
        if host in live_set:
            return host
    return None


def _port_name(port: object) -> str:
    name = port.get("name") if isinstance(port, Mapping) else port
    if not isinstance(name, str) or not name:
        raise ScheduleError("port %r has no name" % (port,))
    return name


def assign(ports: Sequence[object], hosts: Sequence[str], live: Iterable[str] | None = None) -> dict[str, list]:
    """Every live host's ports, in the given port order. Ports are names or dicts with a name."""
    live_list = list(hosts if live is None else live)
    if not live_list:
        raise ScheduleError("no live host to assign %d port(s) to" % len(ports))
    names = [_port_name(port) for port in ports]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ScheduleError("port names must be unique: %s" % ", ".join(duplicates))
    plan: dict[str, list] = {host: [] for host in live_list}
    for port, name in zip(ports, names):
        plan[owner(name, hosts, live_list)].append(port)
    return plan


def static_slice(ports: Sequence[object], hosts: Sequence[str]) -> dict[str, list]:
    """The old split: host i of n takes ports i, i+n, i+2n, ... (moves when the host list changes)."""
    return {host: list(ports[index:: len(hosts)]) for index, host in enumerate(hosts)}


# ---------------------------------------------------------------- the claim queue


def __getattr__(name: str):
    """ClaimQueue moved to port_claim.py; it stays importable from here (PEP 562, no import cycle)."""
    if name == "ClaimQueue":
        from ansible_collections.autoport.zos.plugins.module_utils.port_claim import ClaimQueue

        return ClaimQueue
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


# ---------------------------------------------------------------- simulation


def simulate_lists(plan: Mapping[str, Sequence[str]], durations: Mapping[str, float], slots: int = 1) -> float:
    """Makespan when every host runs its own list in order, `slots` ports at a time."""
    makespan = 0.0
    for ports in plan.values():
        lanes = [0.0] * max(slots, 1)
        for port in ports:
            start = heapq.heappop(lanes)
            heapq.heappush(lanes, start + float(durations[port]))
        makespan = max([makespan] + lanes)
    return makespan


def simulate_queue(
    durations: Mapping[str, float],
    hosts: Sequence[str],
    slots: int = 1,
    affinity: bool = False,
) -> tuple[float, int]:
    """Makespan of a queue: a free slot takes the longest port left (longest-processing-time first).

    With affinity, a free host takes the longest port it owns by HRW first, and only when
    it owns none left steals the longest port left anywhere (ClaimQueue.next_port's order).
    Returns (makespan, ports run off their HRW owner; 0 without affinity).
    """
    remaining = sorted(durations, key=lambda port: (-float(durations[port]), port))
    owners = {port: owner(port, hosts) for port in remaining} if affinity else {}
    free = [(0.0, index, host) for index, host in enumerate(host for host in hosts for _slot in range(max(slots, 1)))]
    heapq.heapify(free)
    makespan = 0.0
    moved = 0
    while remaining:
        at, index, host = heapq.heappop(free)
        pick = remaining[0]
        if affinity:
            mine = [port for port in remaining if owners[port] == host]
            if mine:
                pick = mine[0]
        remaining.remove(pick)
        if owners and owners[pick] != host:
            moved += 1
        end = at + float(durations[pick])
        makespan = max(makespan, end)
        heapq.heappush(free, (end, index, host))
    return makespan, moved
