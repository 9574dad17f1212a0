#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_progress
short_description: Report the progress of a long InstructLab step from the tail of its log
version_added: "0.1.0"
description:
  - Reads the last 64 KiB of the log file of a step started in the background (C(async) with C(poll=0))
    and returns the last progress bar (samples generated, training step), the last training loss,
    the elapsed time and the last lines, with credential-looking values masked.
  - Optionally waits up to I(wait) seconds first, returning early when the step's exit code file
    (C(<log>.rc)) appears, so a polling loop neither spins nor oversleeps.
  - The start time is read from C(<log>.started) (seconds since the epoch) when it exists.
  - Never changes anything.
author:
  - autoport.zos contributors (@autoport)
options:
  log:
    description: Log file of the step (it may not exist yet).
    type: path
    required: true
  wait:
    description: Seconds to wait for C(<log>.rc) before reading the log.
    type: int
    default: 0
  lines:
    description: Number of last non-empty log lines to return.
    type: int
    default: 3
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.ilab_stamp
    description: Decides whether a step runs at all.
  - module: autoport.zos.ilab_report
    description: "Next: the run report (samples, loss, chat answer, step times)."
"""

EXAMPLES = r"""
- name: Progress of data generation
  autoport.zos.ilab_progress:
    log: /home/trainer/.cache/autoport/ilab/work/default/logs/generate.log
    wait: 15
  register: progress

- name: Show it
  ansible.builtin.debug:
    msg: "{{ progress.summary }}"
"""

RETURN = r"""
summary:
  description: One line for the operator (bar, loss, elapsed).
  returned: always
  type: str
  sample: "gen_skill_freeform Prompt Generation 2/5 (40%) | elapsed 1m02s"
bar:
  description: The last progress bar found, or null.
  returned: always
  type: dict
  sample: {"label": "gen_skill_freeform Prompt Generation", "done": 2, "total": 5, "percent": 40}
loss:
  description: Last step loss printed by the trainer, or null.
  returned: always
  type: float
  sample: 2.1834
train_loss:
  description: Final train_loss printed by the trainer, or null.
  returned: always
  type: float
  sample: 2.0512
elapsed_s:
  description: Seconds since the step started, or null when unknown.
  returned: always
  type: int
  sample: 62
tail:
  description: Last non-empty log lines (at most 300 characters each).
  returned: always
  type: list
  elements: str
  sample: ["INFO ... Running block: gen_skill_freeform"]
done:
  description: True when the step wrote its exit code.
  returned: always
  type: bool
  sample: false
exit_code:
  description: Exit code of the step, or null while it runs.
  returned: always
  type: int
  sample: 0
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.ilab_progress import read_tail, summarize_progress, wait_for_file


def _read_number(path):
    try:
        with open(path, "r") as handle:
            return int(handle.read().strip().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            log=dict(type="path", required=True),
            wait=dict(type="int", default=0),
            lines=dict(type="int", default=3),
        ),
        supports_check_mode=True,
    )
    log = module.params["log"]
    if module.params["wait"] < 0 or module.params["lines"] < 0:
        module.fail_json(msg="wait and lines must not be negative")
    if os.path.isdir(log):
        module.fail_json(msg="%s is a directory, not a log file" % log)
    rc_file = log + ".rc"
    wait_for_file(rc_file, module.params["wait"])
    rc = _read_number(rc_file)
    started = _read_number(log + ".started")
    try:
        text = read_tail(log)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="%s: cannot be read (%s)" % (log, exc))
    result = summarize_progress(text, started_at=started, now=time.time(), lines=module.params["lines"])
    module.exit_json(changed=False, done=rc is not None, exit_code=rc, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
