# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Which build host replays which port: stable assignment, a claim queue, a simulator.

Stable assignment (rendezvous / highest-random-weight hashing): every (port, host) pair
gets a score from sha256; a port goes to the live host with the highest score. Adding,
removing or limiting out a host moves only the ports that host held (to their next-ranked
live host); every other port stays on the host that holds its checkpoint, across re-runs
and ``--limit``.

The claim queue lives in a folder on the controller (or any filesystem all claimants
share). A claim is a file created with O_CREAT|O_EXCL, so two hosts never hold the same
port at once; it is released as done (rename into done/) or failed (removed, the attempt
counted, so another host retries it). A claim older than its lease without a heartbeat is
taken over with an atomic rename to a unique name: only one taker can win.

The simulator compares policies on a model of build times (benchmarks/bench_schedule.py).
Standard library only: it runs on the controller and on build hosts alike.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import time
import uuid
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


class ClaimQueue:
    """Ports claimed by hosts through files in one shared folder.

    Layout: claims/<port>.json (held now: host, token, started, heartbeat), done/<port>.json
    (finished, by whom), attempts/<port>.json (failed tries). A port is never claimed twice
    at once, never claimed again once done, and given up after max_attempts failures.
    """

    def __init__(self, folder: str, lease_seconds: float = 3600.0, max_attempts: int = 3, clock=time.time) -> None:
        self.folder = folder
        self.lease_seconds = float(lease_seconds)
        self.max_attempts = int(max_attempts)
        self.clock = clock
        for sub in ("claims", "done", "attempts"):
            try:
                os.makedirs(os.path.join(folder, sub), exist_ok=True)
            except OSError as exc:
                raise ScheduleError("claim folder %s cannot be created: %s" % (folder, exc.strerror)) from exc
        if not os.access(os.path.join(folder, "claims"), os.W_OK):
            raise ScheduleError("claim folder %s is not writable" % folder)

    def _path(self, sub: str, port: str) -> str:
        if "/" in port or port.startswith(".") or not port:
            raise ScheduleError("port name %r cannot name a claim file" % port)
        return os.path.join(self.folder, sub, port + ".json")

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def state(self, port: str) -> str:
        """done, failed (attempts used up), claimed, or free."""
        if os.path.exists(self._path("done", port)):
            return "done"
        if self.attempts(port) >= self.max_attempts:
            return "failed"
        if os.path.exists(self._path("claims", port)):
            return "claimed"
        return "free"

    def attempts(self, port: str) -> int:
        data = self._read(self._path("attempts", port)) or {}
        return len(data.get("failures") or [])

    def try_claim(self, port: str, host: str) -> str | None:
        """A token when host now holds port; None when it is held, done or given up."""
        if self.state(port) in ("done", "failed"):
            return None
        path = self._path("claims", port)
        self._expire(path)
        token = uuid.uuid4().hex
        now = self.clock()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"port": port, "host": host, "token": token, "started": now, "heartbeat": now}, handle)
        if os.path.exists(self._path("done", port)):  # finished between our check and the create
            os.unlink(path)
            return None
        return token

    def _expire(self, path: str) -> None:
        """Take an expired claim out of the way; the rename lets exactly one taker do it."""
        data = self._read(path)
        if data is None or self.clock() - float(data.get("heartbeat") or 0) <= self.lease_seconds:
            return
        grave = "%s.expired-%s" % (path, uuid.uuid4().hex)
        try:
            os.rename(path, grave)
        except FileNotFoundError:
            return
        moved = self._read(grave) or {}
        if moved.get("token") != data.get("token"):
            # A fresh claim replaced the stale one between read and rename: put it back.
            os.rename(grave, path)
            return
        self._record_failure(str(data.get("port")), str(data.get("host")), "lease expired (host gone?)")
        os.unlink(grave)

    def _held(self, port: str, token: str) -> dict:
        data = self._read(self._path("claims", port))
        if not data or data.get("token") != token:
            raise ScheduleError("port %s is no longer claimed with this token (lease expired?)" % port)
        return data

    def heartbeat(self, port: str, token: str) -> None:
        data = self._held(port, token)
        data["heartbeat"] = self.clock()
        self._write_atomic(self._path("claims", port), data)

    def complete(self, port: str, token: str, result: Mapping | None = None) -> None:
        data = self._held(port, token)
        data.update({"finished": self.clock(), "result": dict(result or {})})
        self._write_atomic(self._path("done", port), data)
        os.unlink(self._path("claims", port))

    def fail(self, port: str, token: str, reason: str) -> None:
        data = self._held(port, token)
        self._record_failure(port, str(data.get("host")), reason)
        os.unlink(self._path("claims", port))

    def _record_failure(self, port: str, host: str, reason: str) -> None:
        path = self._path("attempts", port)
        data = self._read(path) or {"port": port, "failures": []}
        data["failures"].append({"host": host, "reason": reason[:500], "at": self.clock()})
        self._write_atomic(path, data)

    def failed_hosts(self, port: str) -> list[str]:
        data = self._read(self._path("attempts", port)) or {}
        return [str(item.get("host")) for item in data.get("failures") or []]

    def next_port(self, ports: Sequence[str], host: str, hosts: Sequence[str], durations: Mapping[str, float] | None = None) -> tuple[str, str] | None:
        """Claim the next port for host: its own (HRW) ports first, longest first, then any other.

        A port that already failed on this host is left for another host while one exists.
        """
        durations = durations or {}
        order = sorted(ports, key=lambda port: (owner(port, hosts) != host, -float(durations.get(port, 0)), port))
        retry_here: list[str] = []
        for port in order:
            if host in self.failed_hosts(port) and len(hosts) > 1:
                retry_here.append(port)
                continue
            token = self.try_claim(port, host)
            if token:
                return port, token
        for port in retry_here:
            if set(self.failed_hosts(port)) >= set(hosts):
                token = self.try_claim(port, host)
                if token:
                    return port, token
        return None

    def _write_atomic(self, path: str, data: Mapping) -> None:
        temp = "%s.tmp-%s" % (path, uuid.uuid4().hex)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, path)


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
