# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""One replay per port work directory: a lock file that names its holder.

``<work>/replay.lock`` holds a POSIX record lock (``fcntl.lockf``) for as long as a
replay runs, and the holder's pid, host, start time and replay id as JSON. The kernel
drops the lock when the holder dies, however it dies, so a lock left by a dead process
is stale by construction and is simply taken over (its holder is reported). On a file
system without record locks the holder's liveness is judged from the file: same host,
pid alive and (with procfs) the same process start time.

A second replay that finds a live holder, by ``if_running``:

* ``wait`` (default): waits until the holder ends, then continues from its checkpoint
  (a re-run after the controller died reuses every build the first job finishes);
* ``stop``: stops the holder and its whole process tree (builds included, also children
  that left its session, see process_tree) and resumes from the checkpoint;
* ``fail``: stops with an error naming the holder.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
import uuid

from ansible_collections.autoport.zos.plugins.module_utils import process_tree

try:
    import fcntl
except ImportError:  # a Python without record locks: judge holders from the file only
    fcntl = None

IF_RUNNING = ("wait", "stop", "fail")
# Errors that mean "this file system has no record locks", not "someone holds it".
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


class LockBusy(Exception):
    """Another live replay holds the work directory; the message names it."""


def describe(holder: dict) -> str:
    started = holder.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    return "pid %s on %s, started %s" % (holder.get("pid", "?"), holder.get("host", "?"), when)


class ReplayLock(object):
    """``acquire()`` once, ``release()`` when done (also when the replay fails)."""

    def __init__(self, path: str, host: str | None = None):
        self.path = path
        self.host = host or socket.gethostname()
        self.token = uuid.uuid4().hex
        self.fd = None
        self.record_locks = fcntl is not None

    # -- the file ------------------------------------------------------------

    def read(self) -> dict:
        """What the lock file says about its (last) holder; {} when empty or unreadable.

        Read through our own descriptor: closing any other descriptor of the file would
        drop a POSIX record lock this process holds.
        """
        try:
            if self.fd is not None:
                os.lseek(self.fd, 0, os.SEEK_SET)
                raw = os.read(self.fd, 4096)
            else:
                with open(self.path, "rb") as handle:
                    raw = handle.read(4096)
            data = json.loads(raw.decode("utf-8", "replace") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_holder(self) -> None:
        me = {"pid": os.getpid(), "host": self.host, "started": time.time(), "token": self.token, "pid_start": process_tree.start_time(os.getpid())}
        raw = json.dumps(me, sort_keys=True).encode("utf-8")
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, raw)
        os.fsync(self.fd)

    def holder_alive(self, holder: dict) -> bool:
        """Whether the process a lock file names still runs here (for file systems without record locks)."""
        pid = holder.get("pid")
        if not isinstance(pid, int) or holder.get("host") != self.host or pid == os.getpid() or not process_tree.alive(pid):
            return False
        recorded, now = holder.get("pid_start"), process_tree.start_time(pid)
        return recorded is None or now is None or recorded == now

    def _try(self) -> bool:
        """Take the lock if nobody holds it; True when taken."""
        if self.record_locks:
            try:
                fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return False
                if exc.errno not in _NO_LOCKS:
                    raise
                self.record_locks = False
        return not self.holder_alive(self.read())

    # -- acquire / release ---------------------------------------------------

    def acquire(self, if_running: str = "wait", on_wait=None, poll: float = 1.0, timeout: float | None = None) -> dict:
        """Take the lock, dealing with a live holder by ``if_running``.

        Returns {"previous": the last holder's record (a dead one, or the one stopped or
        waited for), "waited_s": seconds waited, "stopped": pids stopped}. Raises LockBusy.
        """
        if if_running not in IF_RUNNING:
            raise ValueError("if_running must be one of %s" % ", ".join(IF_RUNNING))
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        begin = time.monotonic()
        stopped: set = set()
        seen: dict = {}
        try:
            while not self._try():
                holder = self.read()
                seen = holder or seen
                if if_running == "fail":
                    raise LockBusy("another replay is running in %s (%s); it was left running" % (os.path.dirname(self.path), describe(holder)))
                if if_running == "stop" and holder.get("pid") and holder.get("token"):
                    stopped |= self._stop(holder)
                elif on_wait is not None:
                    on_wait(holder)
                if timeout is not None and time.monotonic() - begin > timeout:
                    raise LockBusy("another replay is still running in %s after %d s (%s)" % (os.path.dirname(self.path), timeout, describe(holder)))
                time.sleep(poll)
            previous = self.read()
            self._write_holder()
        except BaseException:
            os.close(self.fd)
            self.fd = None
            raise
        return {"previous": previous or seen, "waited_s": round(time.monotonic() - begin, 1), "stopped": sorted(stopped)}

    def _stop(self, holder: dict) -> set:
        if holder.get("host") != self.host:
            raise LockBusy("another replay is running in %s (%s); a replay on another host cannot be stopped from here" % (
                os.path.dirname(self.path), describe(holder)))
        pid = holder["pid"]
        recorded, now = holder.get("pid_start"), process_tree.start_time(pid)
        if recorded is not None and now is not None and recorded != now:
            return set()  # the pid was reused: the holder named in the file is gone
        return process_tree.stop(roots={pid}, markers=((process_tree.REPLAY_MARKER, holder["token"]),), grace=2.0)

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if self.record_locks:
                fcntl.lockf(self.fd, fcntl.LOCK_UN)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()
