#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: port_claim
short_description: Claim the next harvest port for a build host from a shared queue, or release it
version_added: "0.2.0"
description:
  - A claim queue in a folder every claimant shares (the controller's disk, or a volume such as the store's).
    Build hosts take ports as they become free instead of each running a fixed slice.
  - I(state=claimed) claims up to I(slots) ports for I(host) (minus the claims it holds now) and returns them
    with a token each. A claim is an exclusive file create, so a port is never held by two hosts at once,
    not even by two runs.
  - The order of the claims is the ports whose checkpoint is on I(host) (it started them last), then the ports I(host) owns by
    rendezvous hash among the I(live) hosts, longest first (I(durations)), then any other free port (stealing).
    So a port goes back to the host that holds its checkpoint across re-runs and C(--limit).
  - A port that failed on I(host) is left for a live host that has not tried it; it is given up after
    I(max_attempts) failed tries in the run.
  - A claim whose heartbeat is older than I(lease) seconds (its host died) is taken over by the next claim,
    and the try is recorded as failed on the vanished host. M(autoport.zos.job_follow) renews the heartbeat
    while the replay runs (its I(claim) option).
  - When nothing is free but other hosts hold ports, waits up to I(wait) seconds for one to be released
    for a retry or to expire.
  - I(state=done) and I(state=failed) release a claim. I(state=opened) starts a run and removes the records
    of runs older than I(keep_runs_days).
author:
  - autoport.zos contributors (@autoport)
options:
  queue_dir:
    description: The queue folder, shared by every claimant. Created when missing; it must be writable.
    type: path
    required: true
  state:
    description:
      - C(claimed) takes ports, C(done) or C(failed) releases one, C(opened) starts a run, C(summary) reports
        the run's outcome for I(ports) (writes nothing).
    type: str
    default: claimed
    choices: [claimed, done, failed, opened, summary]
  run:
    description:
      - The harvest run. Done ports and failed tries count within one run; a new run replays every port again
        (the replay's checkpoint makes a finished port cheap). Claims and checkpoint hosts are shared by all runs.
    type: str
    default: ""
  host:
    description: The build host that claims (C(inventory_hostname)). Required with I(state=claimed).
    type: str
  hosts:
    description: All build hosts ports are hashed over (not limited). Default I(live).
    type: list
    elements: str
    default: []
  live:
    description: The hosts that run now (the play's hosts). Default I(hosts), or I(host) alone.
    type: list
    elements: str
    default: []
  ports:
    description: The names of the ports of this run.
    type: list
    elements: str
    default: []
  durations:
    description: Expected seconds per port name (longer ones are taken first). Unknown ports count as 0.
    type: dict
    default: {}
  sources:
    description:
      - Port name -> its port repo folder on the controller. A port without a duration is weighed by its patch
        count, (patches + 1) x (1 + patches / 10) (the model of C(benchmarks/bench_schedule.py)); a port with
        neither counts as the heaviest known, so it starts early.
    type: dict
    default: {}
  slots:
    description: How many ports one host runs at once (claims it may hold).
    type: int
    default: 1
  lease:
    description: Seconds a claim lives without a heartbeat before another host may take it over.
    type: int
    default: 1800
  max_attempts:
    description: Failed tries of a port (on any hosts) after which the run gives it up.
    type: int
    default: 3
  wait:
    description: Seconds to wait when nothing is free but other hosts hold ports; C(0) returns at once.
    type: int
    default: 0
  poll:
    description: Seconds between looks at the queue while waiting.
    type: float
    default: 5
  port:
    description: The port to release (I(state=done) or I(state=failed)).
    type: str
  token:
    description: The token its claim returned.
    type: str
  reason:
    description: Why the port failed (I(state=failed)); kept with the try, at most 500 characters. Keep it free of secrets.
    type: str
  result:
    description: What to keep with a done port (counts).
    type: dict
    default: {}
  keep_runs_days:
    description: I(state=opened) removes the records of other runs not touched for this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: A claim reports the ports it would take (with empty tokens) and writes nothing; a release only checks the token.
  platform:
    details: Runs where the queue folder is, usually the controller (C(delegate_to=localhost)).
seealso:
  - module: autoport.zos.patch_replay
    description: Replays the claimed port's patches on the build host.
  - module: autoport.zos.job_follow
    description: Follows the replay and renews the claim's heartbeat (I(claim)).
  - module: autoport.zos.stage_store
    description: The store between stages; the queue folder can live beside it on the same volume.
"""

EXAMPLES = r"""
- name: Claim the next port for this host
  autoport.zos.port_claim:
    queue_dir: /runner/store/harvest-queue
    run: "{{ tower_job_id | default('manual') }}"
    host: "{{ inventory_hostname }}"
    hosts: "{{ groups['autoport_build_hosts'] }}"
    live: "{{ ansible_play_hosts_all }}"
    ports: "{{ harvest_ports | map(attribute='name') | list }}"
    slots: 2
    wait: 3600
  delegate_to: localhost
  register: claim

- name: Release it as done
  autoport.zos.port_claim:
    queue_dir: /runner/store/harvest-queue
    run: "{{ tower_job_id | default('manual') }}"
    state: done
    port: "{{ claim.claims[0].port }}"
    token: "{{ claim.claims[0].token }}"
    result: {records: 12}
  delegate_to: localhost
"""

RETURN = r"""
claims:
  description: The ports claimed now, each with its C(port) and C(token) (empty tokens in check mode).
  returned: state=claimed
  type: list
  elements: dict
  sample: [{port: bash, token: 3f0c9a...}]
ports:
  description: How many ports of I(ports) are C(done), C(failed), C(claimed) and C(free) in this run (after the claim).
  returned: state=claimed or state=summary
  type: dict
state:
  description: The released port's state in the run (C(done), C(failed) when its tries are used up, else C(free)).
  returned: state=done or state=failed
  type: str
attempts:
  description: Failed tries of the released port in this run.
  returned: state=done or state=failed
  type: int
states:
  description: The names of the ports of I(ports) by state (C(done), C(failed), C(claimed), C(free)).
  returned: state=summary
  type: dict
finished_by:
  description: Done port -> the host that finished it.
  returned: state=summary
  type: dict
failures:
  description: Port -> its failed tries in the run (host, reason, time).
  returned: state=summary
  type: dict
retried:
  description: Ports that failed on a host and were then finished by a retry.
  returned: state=summary
  type: list
  elements: str
pruned:
  description: Runs whose records were removed (would be, in check mode).
  returned: state=opened
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.port_claim import ClaimError, run


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            queue_dir=dict(type="path", required=True),
            state=dict(type="str", default="claimed", choices=["claimed", "done", "failed", "opened", "summary"]),
            run=dict(type="str", default=""),
            host=dict(type="str"),
            hosts=dict(type="list", elements="str", default=[]),
            live=dict(type="list", elements="str", default=[]),
            ports=dict(type="list", elements="str", default=[]),
            durations=dict(type="dict", default={}),
            sources=dict(type="dict", default={}),
            slots=dict(type="int", default=1),
            lease=dict(type="int", default=1800),
            max_attempts=dict(type="int", default=3),
            wait=dict(type="int", default=0),
            poll=dict(type="float", default=5),
            port=dict(type="str"),
            token=dict(type="str", no_log=False),
            reason=dict(type="str"),
            result=dict(type="dict", default={}),
            keep_runs_days=dict(type="int", default=30),
        ),
        required_if=[("state", "claimed", ["host"]), ("state", "done", ["port", "token"]), ("state", "failed", ["port", "token"])],
        supports_check_mode=True,
    )
    try:
        result = run(module.params, check_mode=module.check_mode)
    except ClaimError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="claim queue %s: %s (%s)" % (module.params["queue_dir"], exc.strerror or exc, exc.filename or ""))
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
