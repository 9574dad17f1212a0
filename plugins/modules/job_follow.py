#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: job_follow
short_description: Follow a background job until it ends, printing its progress
version_added: "0.2.0"
description:
  - Follows a job started with C(async) and C(poll=0) (for example M(autoport.zos.patch_replay) or a long
    InstructLab step) until it ends, then returns the job's own result, as M(ansible.builtin.async_status) does.
  - Every I(poll_interval) seconds prints one progress line for the operator, C(<host> | <name>) followed by
    the progress, read on the job's host from I(progress_file) (the JSON file C(patch_replay) keeps up to date)
    or from the tail of I(progress_log) (progress bar, loss, elapsed time and last line, credential-looking
    values masked).
  - The loop runs in the task itself, so a job may be followed for any number of rounds (a task file that
    includes itself once per round stops with a RecursionError after a few hundred).
  - Fails when the job failed (the message starts with I(name)), and when the job is still running after
    I(timeout) seconds.
  - An action plugin runs the loop on the controller; each round runs this module on the job's host.
author:
  - autoport.zos contributors (@autoport)
options:
  jid:
    description:
      - The C(ansible_job_id) returned by the task started with C(async) and C(poll=0).
      - One of I(jid) and I(jobs) is required.
    type: str
  jobs:
    description:
      - Several jobs of the same host (a build host replaying C(harvest_host_slots) ports at once), followed
        together until the first of them ends. The task then returns C(ended) and C(running) (their jids),
        not a job's result; follow an ended job again with I(jid) to get its result (at once).
      - Each job's claim heartbeat is renewed every round; a job that cannot be followed counts as ended.
    type: list
    elements: dict
    suboptions:
      jid:
        description: The job's C(ansible_job_id).
        type: str
        required: true
      name:
        description: What is followed, in front of its progress lines.
        type: str
        default: job
      progress_file:
        description: The job's progress file (see I(progress_file) above).
        type: path
      claim:
        description: The job's claim (see I(claim) below).
        type: dict
  name:
    description: What is followed, shown in front of every progress line and in the failure message.
    type: str
    default: job
  poll_interval:
    description:
      - Seconds between progress lines. Each round waits on the job's host and returns early when the job ends.
      - C(0) polls as fast as the connection allows.
    type: float
    default: 5
  progress_file:
    description: A JSON file with a C(line) key that the job keeps up to date (C(patch_replay) writes one).
    type: path
  progress_log:
    description: The job's log; the progress line is made from its tail (see M(autoport.zos.ilab_progress)).
    type: path
  timeout:
    description: Seconds after which a job that has not ended is reported as failed; C(0) follows it until it ends.
    type: int
    default: 0
  cleanup:
    description: Remove the job's status file on its host once the job has ended.
    type: bool
    default: false
  claim:
    description:
      - A claim of M(autoport.zos.port_claim) to keep alive while the job runs; its heartbeat is renewed on the
        controller every round. When the claim was lost (its lease expired and another host took the port)
        the task fails, naming the port.
    type: dict
    suboptions:
      queue_dir:
        description: The queue folder (on the controller).
        type: path
        required: true
      port:
        description: The claimed port.
        type: str
        required: true
      token:
        description: The claim's token.
        type: str
        required: true
      run:
        description: The harvest run of the claim.
        type: str
        default: ""
      lease:
        description: The queue's lease in seconds.
        type: int
        default: 1800
  _async_dir:
    description:
      - Internal, set by the action plugin for each round (the job status folder of the job's host,
        its C(async_dir)). Never set it in a task.
    type: path
  _wait:
    description:
      - Internal, set by the action plugin for each round (seconds this round waits on the host).
        Never set it in a task.
    type: float
notes:
  - Progress lines are printed while the task runs (with AWX and ansible-runner they are job output lines).
  - The job's result is merged into the task result; C(polls) and C(followed_s) tell how the job was followed.
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.action
  - autoport.zos.attributes.zos
attributes:
  action:
    details: An action plugin runs the follow loop on the controller; each round runs this module on the job's host.
  check_mode:
    details: Only reads the job's status and progress; a job started in check mode can be followed.
  platform:
    details: The job's host may be any POSIX host, z/OS UNIX included.
seealso:
  - module: autoport.zos.patch_replay
    description: "Followed by it: a port replay started with async (harvest stage)."
  - module: autoport.zos.ilab_progress
    description: The progress line of a long ilab step, read from its log.
  - module: ansible.builtin.async_status
    description: The job status file this module reads, as async_status does.
  - module: autoport.zos.port_claim
    description: The harvest claim whose heartbeat I(claim) renews while the replay runs.
"""

EXAMPLES = r"""
- name: Start the patch replay
  autoport.zos.patch_replay:
    port_dir: /srv/ports/zlibport
    work_dir: /srv/harvest/work
  async: 21600
  poll: 0
  register: replay_job

- name: Follow the replay, one progress line every 5 seconds
  autoport.zos.job_follow:
    jid: "{{ replay_job.ansible_job_id }}"
    name: zlibport
    progress_file: /srv/harvest/work/progress.json
    poll_interval: 5
    timeout: 21660
  register: replay

- name: Show what each patch fixed
  ansible.builtin.debug:
    msg: "{{ replay.patches | map(attribute='outcome') | list }}"
"""

RETURN = r"""
finished:
  description: Whether the job has ended (always true unless the task failed on I(timeout)).
  returned: with jid
  type: bool
  sample: true
polls:
  description: Number of rounds the job was followed for.
  returned: always
  type: int
  sample: 412
followed_s:
  description: Seconds the job was followed for.
  returned: always
  type: float
  sample: 2071.4
progress:
  description: The last progress line read.
  returned: with jid
  type: str
  sample: "zlibport: build loo-003 (patch 3 of 9, without src/a.c.patch): build [00:34:10]"
ended:
  description: With I(jobs), the jids of the jobs that have ended.
  returned: with jobs
  type: list
  elements: str
running:
  description: With I(jobs), the jids of the jobs still running.
  returned: with jobs
  type: list
  elements: str
ansible_job_id:
  description: The job id followed.
  returned: with jid
  type: str
  sample: "j123456789.4242"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.job_follow import follow_round


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            jid=dict(type="str"),
            # Set only on the action plugin (it follows several jobs); each round here has one jid.
            jobs=dict(type="list", elements="dict"),
            name=dict(type="str", default="job"),
            poll_interval=dict(type="float", default=5),
            progress_file=dict(type="path"),
            progress_log=dict(type="path"),
            timeout=dict(type="int", default=0),
            cleanup=dict(type="bool", default=False),
            # Set by the action plugin: one round's wait and the host's async directory.
            claim=dict(type="dict", options=dict(
                queue_dir=dict(type="path", required=True),
                port=dict(type="str", required=True),
                token=dict(type="str", required=True, no_log=False),
                run=dict(type="str", default=""),
                lease=dict(type="int", default=1800),
            )),
            _wait=dict(type="float"),
            _async_dir=dict(type="path"),
        ),
        mutually_exclusive=[("progress_file", "progress_log"), ("jid", "jobs")],
        required_one_of=[("jid", "jobs")],
        supports_check_mode=True,
    )
    if not module.params["_async_dir"] or not module.params["jid"]:
        module.fail_json(msg="job_follow runs through its action plugin, which sets the host's async directory")
    wait = module.params["_wait"] or 0.0
    if wait < 0:
        module.fail_json(msg="poll_interval must not be negative")
    result = follow_round(
        module.params["_async_dir"],
        module.params["jid"],
        wait=wait,
        progress_file=module.params["progress_file"],
        progress_log=module.params["progress_log"],
        cleanup=module.params["cleanup"] and not module.check_mode,
    )
    module.exit_json(changed=False, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
