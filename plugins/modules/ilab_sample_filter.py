#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_sample_filter
short_description: Set aside generated samples with an empty turn or an answer without corrected code, before training
version_added: "0.1.0"
description:
  - Reads a file written by C(ilab data generate) (simple pipeline lines with C(user) and C(assistant), or C(messages)
    lines) and writes the samples fit for training to I(dest) and the others, each with its line number and reason,
    to I(rejected).
  - A sample is rejected when it is not a JSON object, has an empty user or assistant turn, or (with I(require_code))
    its answer gives no corrected code (no fenced code block, and not "the fix removes this code").
  - C(changed) only when I(dest) or I(rejected) change. Fails, naming the file, when nothing is left to train on.
author:
  - autoport.zos contributors (@autoport)
options:
  src:
    description: Generated samples (JSONL).
    type: path
    required: true
  dest:
    description: Samples kept for training (JSONL, the lines as they were).
    type: path
    required: true
  rejected:
    description: Rejected samples with their reasons (JSONL).
    type: path
    required: true
  require_code:
    description: Reject answers that give no corrected code.
    type: bool
    default: true
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.ilab_stamp
    description: "Beside it: the training step it feeds runs again only when the kept samples change."
  - module: autoport.zos.ilab_report
    description: "Next: counts the samples set aside, with their reasons, in the run report."
"""

EXAMPLES = r"""
- name: Keep the samples that teach a fix
  autoport.zos.ilab_sample_filter:
    src: /home/trainer/.cache/autoport/ilab/work/default/generated/run/train_x.jsonl
    dest: /home/trainer/.cache/autoport/ilab/work/default/train_data/train_gen.jsonl
    rejected: /home/trainer/.cache/autoport/ilab/work/default/report/rejected_samples.jsonl
"""

RETURN = r"""
kept:
  description: Samples kept for training.
  returned: always
  type: int
  sample: 9
rejected:
  description: Samples set aside.
  returned: always
  type: int
  sample: 12
reasons:
  description: Rejected samples per reason.
  returned: always
  type: dict
  sample: {"empty assistant turn": 10, "answer without corrected code": 2}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.ilab_samples import SampleError, count_reasons, filter_samples, rejected_jsonl


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            rejected=dict(type="path", required=True),
            require_code=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        kept, rejected = filter_samples(params["src"], params["require_code"])
    except SampleError as exc:
        module.fail_json(msg=str(exc))
    reasons = count_reasons(rejected)
    if not kept:
        module.fail_json(
            msg="%s: no generated sample is fit for training (%d rejected: %s); see the teacher's answers in it"
            % (params["src"], len(rejected), ", ".join("%s %d" % item for item in reasons.items())),
            kept=0,
            rejected=len(rejected),
            reasons=reasons,
        )
    try:
        changed = write_if_changed(params["dest"], b"".join(kept), module.check_mode)
        changed = write_if_changed(params["rejected"], rejected_jsonl(rejected), module.check_mode) or changed
    except OutputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, kept=len(kept), rejected=len(rejected), reasons=reasons)


def main():
    run_module()


if __name__ == "__main__":
    main()
