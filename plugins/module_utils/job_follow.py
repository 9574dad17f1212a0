# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""One round of following a background (``async``, ``poll: 0``) job on its host.

The ``job_follow`` action plugin runs the ``job_follow`` module once per round, in a
plain loop on the controller (no task file including itself: that nests one level
per round and dies with RecursionError after a few hundred rounds). One round:

1. waits up to ``wait`` seconds for the job to end, reading its async status file the
   way ``ansible.builtin.async_status`` does (returns at once when it has ended);
2. reads the job's progress: the JSON file ``patch_replay`` keeps (``{"line": ...}``)
   or the tail of a log (tqdm bar, loss, elapsed, last line, see ilab_progress);
3. returns ``finished``, the progress line and, once finished, the job's result.

Standard library only: this runs on build hosts (z/OS included) and AI hosts.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible_collections.autoport.zos.plugins.module_utils import ilab_progress

# A progress line is for a terminal; a hostile or broken job must not flood the output.
MAX_LINE = 300
PROGRESS_FILE_MAX_BYTES = 64 * 1024


def read_job_status(async_dir: str, jid: str) -> dict[str, Any]:
    """The job's status as ``async_status`` reports it (started, finished, and its result once done).

    A missing status file means the job is unknown (never started, or cleaned up):
    reported finished and failed. A file that cannot be parsed yet is being written:
    the job runs.
    """
    if not jid or "/" in jid or jid in (".", ".."):
        return {"started": True, "finished": True, "failed": True, "msg": "job id %r is not valid" % jid}
    path = os.path.join(async_dir, jid)
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {"started": True, "finished": True, "failed": True, "msg": "could not find job %s in %s" % (jid, async_dir)}
    except OSError as exc:
        return {"started": True, "finished": True, "failed": True, "msg": "cannot read job %s: %s" % (path, exc)}
    try:
        data = json.loads(text)
    except ValueError:
        if not text.strip():
            return {"started": True, "finished": False, "ansible_job_id": jid}
        return {"started": True, "finished": True, "failed": True, "msg": "could not parse the output of job %s" % jid}
    if not isinstance(data, dict):
        return {"started": True, "finished": True, "failed": True, "msg": "job %s wrote no result mapping" % jid}
    if "started" not in data:
        data["finished"] = True
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = False
    data["started"] = bool(data.get("started", True))
    data["finished"] = bool(data["finished"])
    return data


def wait_for_job(async_dir: str, jid: str, seconds: float, interval: float = 0.5, clock=time.monotonic, sleep=time.sleep) -> dict[str, Any]:
    """Read the job's status until it has finished or ``seconds`` have passed; the last status."""
    deadline = clock() + max(0.0, seconds)
    while True:
        status = read_job_status(async_dir, jid)
        remaining = deadline - clock()
        if status["finished"] or remaining <= 0:
            return status
        sleep(min(interval, remaining))


def _clip(line: str) -> str:
    line = " ".join(str(line).split())
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


def progress_from_file(path: str) -> str | None:
    """The ``line`` of a small JSON progress file (patch_replay's ProgressFile), or None."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(PROGRESS_FILE_MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > PROGRESS_FILE_MAX_BYTES:
        return None
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None
    line = data.get("line") if isinstance(data, dict) else None
    return _clip(ilab_progress.redact(line)) if isinstance(line, str) and line.strip() else None


def progress_from_log(path: str) -> str | None:
    """One line from the tail of a log: bar, loss, elapsed and the last log line (secrets masked)."""
    try:
        text = ilab_progress.read_tail(path)
    except (OSError, ValueError):
        return None
    started = None
    try:
        with open(path + ".started", "r") as handle:
            started = int(handle.read().strip().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    found = ilab_progress.summarize_progress(text, started_at=started, now=time.time(), lines=1)
    line = found["summary"]
    if found["tail"] and found["tail"][-1] not in line:
        line += " | " + found["tail"][-1]
    return _clip(line)


def follow_round(async_dir: str, jid: str, wait: float = 0.0, progress_file: str | None = None, progress_log: str | None = None,
                 cleanup: bool = False) -> dict[str, Any]:
    """One round: wait (at most ``wait`` s) for the job, then read its progress.

    Returns {"finished": bool, "progress": line or None, "job": the job's result once
    finished}. ``cleanup`` removes the job's status file once it has ended.
    """
    status = wait_for_job(async_dir, jid, wait)
    if status["finished"] and cleanup and "/" not in jid and jid not in ("", ".", ".."):
        try:
            os.unlink(os.path.join(async_dir, jid))
        except OSError:
            pass
    if progress_file:
        line = progress_from_file(progress_file)
    elif progress_log:
        line = progress_from_log(progress_log)
    else:
        line = None
    result: dict[str, Any] = {"finished": status["finished"], "progress": line}
    if status["finished"]:
        result["job"] = status
    return result
