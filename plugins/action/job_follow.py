# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Follow a background job in a loop: one module round per poll, one progress line per round.

A loop here, not a task file that includes itself per round (that nests one level per
round and fails with RecursionError after a few hundred rounds). The module does the
host-side work of a round (see module_utils/job_follow.py); this plugin only loops,
prints and builds the task result.
"""

from __future__ import annotations

import time

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.autoport.zos.plugins.module_utils.port_claim import ClaimError, ClaimQueue

display = Display()

CLAIM_SPEC = {
    "queue_dir": {"type": "path", "required": True},
    "port": {"type": "str", "required": True},
    "token": {"type": "str", "required": True, "no_log": False},
    "run": {"type": "str", "default": ""},
    "lease": {"type": "int", "default": 1800},
}
ARGUMENT_SPEC = {
    "jid": {"type": "str"},
    "jobs": {"type": "list", "elements": "dict", "options": {
        "jid": {"type": "str", "required": True},
        "name": {"type": "str", "default": "job"},
        "progress_file": {"type": "path"},
        "claim": {"type": "dict", "options": CLAIM_SPEC},
    }},
    "name": {"type": "str", "default": "job"},
    "poll_interval": {"type": "float", "default": 5},
    "progress_file": {"type": "path"},
    "progress_log": {"type": "path"},
    "timeout": {"type": "int", "default": 0},
    "cleanup": {"type": "bool", "default": False},
    "claim": {"type": "dict", "options": CLAIM_SPEC},
}
# A connection that drops for a moment must not end hours of following.
CONNECTION_RETRIES = 3


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _round(self, module_args: dict, task_vars: dict) -> dict:
        failures = 0
        while True:
            try:
                return self._execute_module(module_name="autoport.zos.job_follow", module_args=module_args, task_vars=task_vars)
            except AnsibleConnectionFailure:
                failures += 1
                if failures > CONNECTION_RETRIES:
                    raise
                time.sleep(min(30.0, 2.0 ** failures))
                self._connection.reset()

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validated, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC, mutually_exclusive=[("progress_file", "progress_log"), ("jid", "jobs")], required_one_of=[("jid", "jobs")])
        if args["poll_interval"] < 0 or args["timeout"] < 0:
            result.update(failed=True, msg="poll_interval and timeout must not be negative")
            return result
        if args["jobs"] is not None:
            return self._follow_first(result, args, task_vars or {})
        host = (task_vars or {}).get("inventory_hostname", "?")
        name = args["name"]
        module_args = {key: args[key] for key in ("jid", "name", "progress_file", "progress_log", "cleanup") if args[key] is not None}
        module_args["_async_dir"] = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        claim = args["claim"]
        queue = ClaimQueue(claim["queue_dir"], claim["lease"], run=claim["run"]) if claim else None
        started = time.monotonic()
        polls = 0
        line = None
        while True:
            elapsed = time.monotonic() - started
            wait = args["poll_interval"]
            if args["timeout"]:
                wait = max(0.0, min(wait, args["timeout"] - elapsed))
            if queue is not None:
                # The claim's heartbeat, on the controller where the queue is: the port stays this host's.
                try:
                    queue.heartbeat(claim["port"], claim["token"])
                except ClaimError as exc:
                    result.update(failed=True, finished=False, polls=polls, progress=line, ansible_job_id=args["jid"],
                                  msg="%s: the claim was lost while the job ran: %s" % (name, exc))
                    return result
            found = self._round(dict(module_args, _wait=wait), task_vars)
            if found.get("failed") or "finished" not in found:
                result.update(failed=True, finished=False, polls=polls, progress=line, ansible_job_id=args["jid"],
                              msg="%s: cannot follow job %s: %s" % (name, args["jid"], found.get("msg") or found))
                return result
            polls += 1
            line = found.get("progress") or line
            elapsed = time.monotonic() - started
            display.display("%s | %s: %s" % (host, name, found.get("progress") or "waiting for the first progress line"))
            if found["finished"]:
                break
            if args["timeout"] and elapsed >= args["timeout"]:
                result.update(failed=True, finished=False, polls=polls, progress=line, ansible_job_id=args["jid"], followed_s=round(elapsed, 1),
                              msg="%s: job %s still running after %d s" % (name, args["jid"], args["timeout"]))
                return result
        job = dict(found.get("job") or {})
        job.pop("invocation", None)
        result.update(job)
        result.update(finished=True, polls=polls, progress=line, ansible_job_id=args["jid"], followed_s=round(time.monotonic() - started, 1))
        if job.get("failed"):
            result["failed"] = True
            result["msg"] = "%s: %s" % (name, job.get("msg") or "the job failed")
        return result

    def _follow_first(self, result: dict, args: dict, task_vars: dict) -> dict:
        """Several jobs of one host (harvest_host_slots): follow them all until the first ends.

        Returns ended (the jids that have ended) and running; every claim's heartbeat is renewed
        each round. The ended jobs' results are read by following each one again (at once).
        """
        host = task_vars.get("inventory_hostname", "?")
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        jobs = args["jobs"]
        queues = {job["jid"]: ClaimQueue(job["claim"]["queue_dir"], job["claim"]["lease"], run=job["claim"]["run"]) for job in jobs if job.get("claim")}
        started = time.monotonic()
        polls = 0
        while jobs:
            ended = []
            for job in jobs:
                claim = job.get("claim")
                if claim:
                    try:
                        queues[job["jid"]].heartbeat(claim["port"], claim["token"])
                    except ClaimError as exc:
                        result.update(failed=True, msg="%s: the claim was lost while the job ran: %s" % (job["name"], exc))
                        return result
                module_args = {"jid": job["jid"], "name": job["name"], "_async_dir": async_dir, "_wait": 0.0}
                if job.get("progress_file"):
                    module_args["progress_file"] = job["progress_file"]
                found = self._round(module_args, task_vars)
                if found.get("failed") or "finished" not in found:
                    ended.append(job["jid"])  # cannot be followed: the single follow names why
                    continue
                display.display("%s | %s: %s" % (host, job["name"], found.get("progress") or "waiting for the first progress line"))
                if found["finished"]:
                    ended.append(job["jid"])
            polls += 1
            elapsed = time.monotonic() - started
            if ended or (args["timeout"] and elapsed >= args["timeout"]):
                break
            time.sleep(args["poll_interval"])
        result.update(changed=False, ended=ended, running=[job["jid"] for job in jobs if job["jid"] not in ended], polls=polls,
                      followed_s=round(time.monotonic() - started, 1))
        return result
