# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The harvest claim queue: build hosts take ports as they become free, from one shared folder.

Layout of the queue folder (on the controller, or any filesystem every claimant shares):

  claims/<port>.json      held now: host, token, run, started, heartbeat (global: a port is
                          never held twice at once, even by two runs)
  hosts/<port>.json       the host that last started the port: its checkpoint is there
  runs/<run>/done/        ports finished in this run (a new run replays them again: the
  runs/<run>/attempts/    replay's checkpoint makes that cheap), failed tries per port

A claim is a file created with O_CREAT|O_EXCL: two hosts never hold the same port. It is
released as done (written to done/, then the claim removed) or failed (the try recorded,
the claim removed, so another host retries it). A claim whose heartbeat is older than its
lease (its host died) is taken over with an atomic rename to a unique name: only one taker
wins, and the try is recorded as failed on the vanished host.

Order in which a host takes ports (``ClaimQueue.claim``): first the ports whose checkpoint
is on it, then the ports it owns by rendezvous hash (port_schedule.owner over all hosts,
among the live ones), longest first, then any other free port, longest first (stealing
keeps every host busy). A port whose checkpoint is on another live host is not stolen
unless it failed there. A port that failed on this host is left for another live host while
one has not tried it. A host holds at most ``slots`` claims at once.

Standard library only: runs on the controller and on build hosts alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from typing import Callable, Iterable, Mapping, Sequence

from ansible_collections.autoport.zos.plugins.module_utils.port_schedule import ScheduleError, owner

DEFAULT_LEASE = 1800.0
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


class ClaimError(ScheduleError):
    """A claim that cannot be taken or released; the message names the port or folder."""


class ClaimQueue:
    """Ports claimed by hosts through files in one shared folder (see the module docstring).

    run names the harvest run whose done/attempts records count; "" keeps them at the top
    of the folder (one run for ever). clock is time.time (a test passes its own). create=False
    (check mode) reads a missing folder as an empty queue and writes nothing.
    """

    def __init__(
        self,
        folder: str,
        lease_seconds: float = DEFAULT_LEASE,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.time,
        run: str = "",
        create: bool = True,
    ) -> None:
        if not folder:
            raise ClaimError("the claim queue needs a folder")
        if run and not RUN_NAME.match(run):
            raise ClaimError("run name %r must be letters, digits, '.', '_', '+' or '-'" % run)
        if lease_seconds <= 0 or max_attempts < 1:
            raise ClaimError("lease (%s s) and max_attempts (%s) must be positive" % (lease_seconds, max_attempts))
        self.folder = folder
        self.lease_seconds = float(lease_seconds)
        self.max_attempts = int(max_attempts)
        self.clock = clock
        self.run = run
        self.run_folder = os.path.join(folder, "runs", run) if run else folder
        if not create:
            return
        for path in (os.path.join(folder, "claims"), os.path.join(folder, "hosts"),
                     os.path.join(self.run_folder, "done"), os.path.join(self.run_folder, "attempts")):
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                raise ClaimError("claim folder %s cannot be created: %s" % (folder, exc.strerror)) from exc
        if not os.access(os.path.join(folder, "claims"), os.W_OK):
            raise ClaimError("claim folder %s is not writable" % folder)

    # ------------------------------------------------------------ files

    def _path(self, sub: str, port: str) -> str:
        if not port or "/" in port or port.startswith(".") or "\0" in port:
            raise ClaimError("port name %r cannot name a claim file" % port)
        base = self.folder if sub in ("claims", "hosts") else self.run_folder
        return os.path.join(base, sub, port + ".json")

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _write_atomic(path: str, data: Mapping) -> None:
        temp = "%s.tmp-%s" % (path, uuid.uuid4().hex)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(temp, path)

    # ------------------------------------------------------------ state

    def state(self, port: str) -> str:
        """done, failed (attempts used up), claimed, or free (in this run)."""
        if os.path.exists(self._path("done", port)):
            return "done"
        if self.attempts(port) >= self.max_attempts:
            return "failed"
        if os.path.exists(self._path("claims", port)):
            return "claimed"
        return "free"

    def attempts(self, port: str) -> int:
        return len(self.failures(port))

    def failures(self, port: str) -> list[dict]:
        data = self._read(self._path("attempts", port)) or {}
        return list(data.get("failures") or [])

    def failed_hosts(self, port: str) -> list[str]:
        return [str(item.get("host")) for item in self.failures(port)]

    def done_record(self, port: str) -> dict | None:
        """What was kept when port was finished in this run (host, result), or None."""
        return self._read(self._path("done", port))

    def holder(self, port: str) -> dict | None:
        """The claim on port now (host, token, started, heartbeat), or None."""
        return self._read(self._path("claims", port))

    def checkpoint_host(self, port: str) -> str | None:
        """The host that last started port (its checkpoint is there), or None."""
        data = self._read(self._path("hosts", port)) or {}
        host = data.get("host")
        return host if isinstance(host, str) else None

    def held_by(self, host: str) -> list[str]:
        """Ports host holds now (expired claims excluded)."""
        held = []
        claims = os.path.join(self.folder, "claims")
        for name in sorted(os.listdir(claims)) if os.path.isdir(claims) else []:
            if not name.endswith(".json"):
                continue
            data = self._read(os.path.join(self.folder, "claims", name))
            if data and data.get("host") == host and not self._expired(data):
                held.append(name[: -len(".json")])
        return held

    def summary(self, ports: Iterable[str]) -> dict[str, list[str]]:
        """Ports of the list by state: done, failed, claimed, free."""
        result: dict[str, list[str]] = {"done": [], "failed": [], "claimed": [], "free": []}
        for port in ports:
            result[self.state(port)].append(port)
        return result

    # ------------------------------------------------------------ claim and release

    def _expired(self, data: Mapping) -> bool:
        return self.clock() - float(data.get("heartbeat") or 0) > self.lease_seconds

    def expired(self, port: str) -> bool:
        """Whether port's claim is past its lease (its host gone): the next claim takes it over."""
        data = self.holder(port)
        return bool(data) and self._expired(data)

    def _expire(self, path: str) -> None:
        """Take an expired claim out of the way; the rename lets exactly one taker do it."""
        data = self._read(path)
        if data is None or not self._expired(data):
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
        self._record_failure(str(data.get("port")), str(data.get("host")),
                             "lease of %d s expired without a heartbeat (host gone?)" % self.lease_seconds)
        os.unlink(grave)

    def try_claim(self, port: str, host: str) -> str | None:
        """A token when host now holds port; None when it is held, done or given up."""
        if self.state(port) in ("done", "failed"):
            return None
        path = self._path("claims", port)
        self._expire(path)
        if self.state(port) == "failed":  # the expiry used up the last attempt
            return None
        token = uuid.uuid4().hex
        now = self.clock()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"port": port, "host": host, "token": token, "run": self.run, "started": now, "heartbeat": now}, handle)
        if os.path.exists(self._path("done", port)):  # finished between our check and the create
            os.unlink(path)
            return None
        self._write_atomic(self._path("hosts", port), {"port": port, "host": host, "at": now})
        return token

    def _held(self, port: str, token: str) -> dict:
        data = self.holder(port)
        if not data or data.get("token") != token:
            now = "held by %s" % data.get("host") if data else "free"
            raise ClaimError("port %s is no longer claimed with this token (lease expired? it is %s now)" % (port, now))
        return data

    def check_held(self, port: str, token: str) -> None:
        """Raise ClaimError naming port unless token still holds it."""
        self._held(port, token)

    def heartbeat(self, port: str, token: str) -> None:
        """Renew the lease of a claim; fails when the claim was lost (expired and taken over)."""
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

    # ------------------------------------------------------------ which port next

    def order(self, ports: Sequence[str], host: str, hosts: Sequence[str], live: Sequence[str] | None = None,
              durations: Mapping[str, float] | None = None) -> list[str]:
        """The order in which host tries the ports: its checkpoints, its hashed ports, then the rest.

        Within each group the longest first (durations; unknown counts 0), then by name.
        """
        durations = durations or {}
        live_list = list(live if live is not None else hosts)

        def group(port: str) -> int:
            kept = self.checkpoint_host(port)
            if kept == host:
                return 0
            if kept not in live_list and owner(port, hosts, live_list) == host:
                return 1
            return 2 if kept not in live_list else 3  # another live host holds its checkpoint: steal last

        return sorted(ports, key=lambda port: (group(port), -float(durations.get(port, 0)), port))

    def claim(self, ports: Sequence[str], host: str, hosts: Sequence[str], live: Sequence[str] | None = None,
              slots: int = 1, durations: Mapping[str, float] | None = None) -> list[tuple[str, str]]:
        """Claim up to slots minus what host holds: [(port, token)], in the order above.

        A port that failed on host is left for a live host that has not tried it yet.
        """
        if slots < 1:
            raise ClaimError("slots must be at least 1, got %s" % slots)
        live_set = set(live if live is not None else hosts) | {host}
        room = slots - len(self.held_by(host))
        got: list[tuple[str, str]] = []
        for port in self.order(ports, host, hosts, sorted(live_set), durations):
            if len(got) >= room:
                break
            self._expire(self._path("claims", port))  # a dead host's claim counts as its failed try
            tried = set(self.failed_hosts(port))
            if host in tried and not live_set <= tried:
                continue
            kept = self.checkpoint_host(port)
            if kept and kept != host and kept in live_set and kept not in tried:
                continue  # its checkpoint host is here and has not failed it: the port waits for that host

            token = self.try_claim(port, host)
            if token:
                got.append((port, token))
        return got

    def next_port(self, ports: Sequence[str], host: str, hosts: Sequence[str],
                  durations: Mapping[str, float] | None = None) -> tuple[str, str] | None:
        """One claim for host (slots are not counted), or None."""
        got = self.claim(ports, host, hosts, hosts, slots=len(self.held_by(host)) + 1, durations=durations)
        return got[0] if got else None

    def waiting_on_others(self, ports: Sequence[str], host: str) -> list[str]:
        """Ports of the list another host holds now: they may still be released for a retry."""
        held = []
        for port in ports:
            data = self.holder(port)
            if data and data.get("host") != host and self.state(port) == "claimed":
                held.append(port)
        return held

    def prune_runs(self, keep: str, older_than: float, dry_run: bool = False) -> list[str]:
        """Remove the records of runs other than keep not touched for older_than seconds (their names)."""
        runs = os.path.join(self.folder, "runs")
        removed = []
        for name in sorted(os.listdir(runs)) if os.path.isdir(runs) else []:
            path = os.path.join(runs, name)
            if name != keep and self.clock() - os.path.getmtime(path) > older_than:
                if not dry_run:
                    shutil.rmtree(path, ignore_errors=True)
                removed.append(name)
        return removed


def claim_wait(queue: ClaimQueue, ports: Sequence[str], host: str, hosts: Sequence[str], live: Sequence[str] | None,
               slots: int, durations: Mapping[str, float] | None, wait: float, poll: float,
               sleep: Callable[[float], None] = time.sleep) -> list[tuple[str, str]]:
    """Claim; when nothing is free but other hosts hold ports, wait (up to wait seconds) for one
    to be released for a retry or to expire, and claim again. [] when the run has nothing left
    for host (or the wait ran out)."""
    deadline = queue.clock() + max(wait, 0.0)
    while True:
        got = queue.claim(ports, host, hosts, live, slots, durations)
        if got or len(queue.held_by(host)) >= slots or not queue.waiting_on_others(ports, host):
            return got
        if queue.clock() >= deadline:
            return []
        sleep(max(poll, 0.05))


PATCH_FOLDERS = ("patches", "stable-patches", "dev-patches")


def estimate_weight(port_dir: str) -> float | None:
    """Relative cost of harvesting a port repo on the controller: (patches + 1) builds x (1 + patches / 10).

    The model of benchmarks/bench_schedule.py (leave_one_out: all patches, then each one out;
    ports with many patches are bigger projects). None when port_dir is not a folder.
    """
    if not os.path.isdir(port_dir):
        return None
    patches = 0
    for folder in PATCH_FOLDERS:
        for _root, _dirs, files in os.walk(os.path.join(port_dir, folder)):
            patches += sum(1 for name in files if name.endswith(".patch"))
    return (patches + 1) * (1 + patches / 10.0)


def weights(ports: Sequence[str], durations: Mapping[str, float] | None, sources: Mapping[str, str] | None) -> dict[str, float]:
    """Expected cost per port: given durations, else estimated from its local port folder, else
    the largest known (an unknown port is started early rather than last)."""
    known: dict[str, float] = {}
    for port in ports:
        if durations and port in durations:
            known[port] = float(durations[port])
        elif sources and port in sources:
            estimate = estimate_weight(str(sources[port]))
            if estimate is not None:
                known[port] = estimate
    fallback = max(known.values()) if known else 0.0
    return {port: known.get(port, fallback) for port in ports}


def report(queue: ClaimQueue, ports: Sequence[str]) -> dict:
    """The run's outcome: ports by state, who finished each, and every failed try with its reason."""
    states = queue.summary(ports)
    finished = {}
    for port in states["done"]:
        finished[port] = (queue.done_record(port) or {}).get("host")
    failures = {port: queue.failures(port) for port in ports if queue.attempts(port)}
    return {
        "ports": {key: len(value) for key, value in states.items()},
        "states": states,
        "finished_by": finished,
        "failures": failures,
        "retried": sorted(port for port in failures if port in finished),
    }


def _would_claim(queue: ClaimQueue, params: Mapping, ports: list, live: list) -> list[tuple[str, str]]:
    """Check mode: the ports a claim would take now, without writing anything."""
    room = params["slots"] - len(queue.held_by(params["host"]))
    order = queue.order(ports, params["host"], params["hosts"] or live, live, params["durations"])
    free = [port for port in order if queue.state(port) == "free" or (queue.state(port) == "claimed" and queue.expired(port))]
    return [(port, "") for port in free[: max(room, 0)]]


def run(params: Mapping, check_mode: bool = False, sleep: Callable[[float], None] = time.sleep) -> dict:
    """What the port_claim module does with its parameters; returns the module result."""
    queue = ClaimQueue(params["queue_dir"], params["lease"], params["max_attempts"], run=params.get("run") or "", create=not check_mode)
    state = params["state"]
    result: dict = {"changed": False, "queue_dir": params["queue_dir"], "run": queue.run}
    if state == "opened":
        stale = queue.prune_runs(queue.run, params["keep_runs_days"] * 86400, dry_run=check_mode)
        result.update(changed=bool(stale), pruned=stale)
    elif state == "summary":
        result.update(report(queue, list(params.get("ports") or [])))
    elif state == "claimed":
        if not params.get("host"):
            raise ClaimError("state=claimed needs host")
        ports = list(params.get("ports") or [])
        live = list(params.get("live") or params.get("hosts") or [params["host"]])
        hosts = list(params.get("hosts") or live)
        params = dict(params, durations=weights(ports, params.get("durations"), params.get("sources")))
        if check_mode:
            got = _would_claim(queue, dict(params, hosts=hosts), ports, live)
        else:
            got = claim_wait(queue, ports, params["host"], hosts, live, params["slots"], params.get("durations"),
                             params.get("wait") or 0, params.get("poll") or 5, sleep)
        result.update(changed=bool(got) and not check_mode, claims=[{"port": port, "token": token} for port, token in got])
        result["ports"] = {key: len(value) for key, value in queue.summary(ports).items()}
    else:
        port, token = params.get("port"), params.get("token")
        if not port or not token:
            raise ClaimError("state=%s needs port and token (from the claim)" % state)
        if check_mode:
            queue.check_held(port, token)
        elif state == "done":
            queue.complete(port, token, params.get("result") or {})
        else:
            queue.fail(port, token, params.get("reason") or "failed")
        result.update(changed=not check_mode, port=port, state=queue.state(port), attempts=queue.attempts(port))
    return result
