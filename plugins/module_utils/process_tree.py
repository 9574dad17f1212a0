# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Find and stop every process a build or a replay left behind.

A build runs in its own session and process group, but a child can leave both
(``setsid``, a daemon's double fork). Such a process is still found here by:

* an environment marker: every process a replay starts carries
  ``AUTOPORT_REPLAY_ID=<id>`` and, during a build, ``AUTOPORT_BUILD_TOKEN=<token>``;
  children inherit both unless they clear their environment. Read from
  ``/proc/<pid>/environ`` (Linux and other hosts with procfs; only processes of the
  same user are readable, which are the only ones a harvest starts);
* parent links: every descendant of a process, from ``/proc/<pid>/stat`` or, on
  hosts without procfs, from POSIX ``ps -A -o pid= -o ppid= -o pgid=``.

z/OS UNIX has no procfs: there, environment markers cannot be read; processes are
found by process group and parent links only, so a child that both calls ``setsid``
and outlives its parent (re-parented to init) is not found. ``markers_readable()``
tells which case applies so callers can say so.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

REPLAY_MARKER = "AUTOPORT_REPLAY_ID"
BUILD_MARKER = "AUTOPORT_BUILD_TOKEN"
PROC = "/proc"


def markers_readable() -> bool:
    """Whether environment markers of other processes can be read here (procfs)."""
    return os.path.exists(os.path.join(PROC, "self", "environ"))


def alive(pid: int) -> bool:
    """Whether a process exists (zombies count until reaped)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _proc_stat(pid: int) -> list | None:
    try:
        with open(os.path.join(PROC, str(pid), "stat"), "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return text[text.rfind(")") + 2:].split()


def start_time(pid: int) -> str | None:
    """A value that changes when a pid is reused (procfs start time), or None when unknown."""
    fields = _proc_stat(pid)
    # After the command: state(0) ppid(1) pgrp(2) session(3) ... starttime is field 22 of stat (index 19 here).
    return fields[19] if fields and len(fields) > 19 else None


def is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return bool(fields) and fields[0] == "Z"


def process_table() -> dict | None:
    """{pid: (ppid, pgid)} of every visible process, or None when it cannot be read."""
    if os.path.isdir(PROC) and markers_readable():
        table = {}
        for name in os.listdir(PROC):
            if name.isdigit():
                fields = _proc_stat(int(name))
                if fields and len(fields) > 2:
                    try:
                        table[int(name)] = (int(fields[1]), int(fields[2]))
                    except ValueError:
                        continue
        return table
    try:
        done = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid="], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    table = {}
    for line in done.stdout.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and all(part.isdigit() for part in parts):
            table[int(parts[0])] = (int(parts[1]), int(parts[2]))
    return table


def descendants(roots: set, table: dict) -> set:
    """Every process below ``roots`` by parent links (roots not included)."""
    children: dict = {}
    for pid, (ppid, _pgid) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child not in roots:
                found.add(child)
                todo.append(child)
    return found


def group_members(pgids: set, table: dict) -> set:
    return {pid for pid, (_ppid, pgid) in table.items() if pgid in pgids}


def marked(name: str, value: str) -> set:
    """Processes whose environment holds ``name=value`` (empty where markers are unreadable)."""
    if not value or not markers_readable():
        return set()
    wanted = ("%s=%s" % (name, value)).encode("utf-8", "surrogateescape")
    found = set()
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(PROC, entry, "environ"), "rb") as handle:
                if wanted in handle.read().split(b"\0"):
                    found.add(int(entry))
        except OSError:
            continue
    return found


def _protected() -> set:
    """This process and its ancestors: never signalled, whatever they carry."""
    mine = {os.getpid(), 0, 1}
    try:
        mine.add(os.getppid())
    except OSError:
        pass
    table = process_table() or {}
    pid = os.getpid()
    while pid in table and pid not in (0, 1):
        pid = table[pid][0]
        mine.add(pid)
    return mine


def _signal_all(pids: set, sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def collect(roots: set = frozenset(), pgids: set = frozenset(), markers: tuple = ()) -> set:
    """The processes to stop: ``roots``, their process groups ``pgids``, processes carrying any
    ``(name, value)`` marker, and every descendant of all those."""
    table = process_table() or {}
    found = {pid for pid in roots if alive(pid)}
    found |= group_members(set(pgids), table)
    for name, value in markers:
        found |= marked(name, value)
    found |= descendants(found, table)
    return found - _protected()


def stop(roots: set = frozenset(), pgids: set = frozenset(), markers: tuple = (), grace: float = 2.0) -> set:
    """Stop a whole tree: freeze it (SIGSTOP, so nothing forks while it is collected), then SIGKILL,
    until nothing matching is left. ``grace`` > 0 first sends SIGTERM to the frozen set and lets
    it run that long. Returns the pids signalled; zombies still waiting for a parent are ignored.
    """
    signalled: set = set()
    if grace > 0:
        first = collect(roots, pgids, markers)
        if first:
            _signal_all(first, signal.SIGTERM)
            signalled |= first
            end = time.monotonic() + grace
            while time.monotonic() < end and any(alive(pid) and not is_zombie(pid) for pid in first):
                time.sleep(0.05)
    for _round in range(20):
        found = {pid for pid in collect(roots, pgids, markers) if not is_zombie(pid)}
        if not found:
            break
        _signal_all(found, signal.SIGSTOP)
        # Children forked just before the stop are caught by a second look at the frozen tree.
        found |= {pid for pid in collect(roots, pgids, markers) if not is_zombie(pid)}
        _signal_all(found, signal.SIGKILL)
        signalled |= found
        time.sleep(0.05)
    return signalled
