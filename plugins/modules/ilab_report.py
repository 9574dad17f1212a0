#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_report
short_description: Write the short report of an InstructLab run (samples, loss, chat answer, step times)
version_added: "0.1.0"
description:
  - Counts what C(ilab data generate) wrote (seed examples, raw generated samples, samples kept for
    training, rejected ones, test samples), reads the final training loss from the training log and the
    chat check's transcript, and takes each step's duration from its stamp file.
  - Writes C(report.json) and C(report.md) into I(dest); C(changed) only when their content changes.
author:
  - autoport.zos contributors (@autoport)
options:
  dest:
    description: Folder for report.json and report.md.
    type: path
    required: true
  generated_dir:
    description: Output folder of C(ilab data generate) (the newest run folder inside it is used).
    type: path
    required: true
  train_log:
    description: Log of C(ilab model train).
    type: path
    required: true
  transcript:
    description: JSON transcript written by the chat check.
    type: path
    required: true
  sample_filter:
    description: Result of M(autoport.zos.ilab_sample_filter) (rule, kept, rejected, reasons), reported as the samples set aside before training.
    type: dict
    default: {}
  stamps:
    description: Step name to stamp file; each stamp's C(extra.seconds) becomes the step's duration.
    type: dict
    default: {}
  settings:
    description: Settings of the run to record (teacher, student, pipelines, device, ...).
    type: dict
    default: {}
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.ilab_stamp
    description: "Before: the stamps whose step times the report reads."
  - module: autoport.zos.ilab_progress
    description: "Before: followed each long step."
  - module: autoport.zos.fix_evaluate
    description: "Next: the evaluation of the trained model against the base model and retrieval (evaluate stage)."
"""

EXAMPLES = r"""
- name: Write the run report
  autoport.zos.ilab_report:
    dest: /home/trainer/.cache/autoport/ilab/work/default/report
    generated_dir: /home/trainer/.cache/autoport/ilab/work/default/generated
    train_log: /home/trainer/.cache/autoport/ilab/work/default/logs/train.log
    transcript: /home/trainer/.cache/autoport/ilab/work/default/report/chat.json
    stamps:
      generate: /home/trainer/.cache/autoport/ilab/work/default/stamps/generate.json
    settings:
      teacher: SmolLM2-135M-Instruct.Q4_1.gguf
  register: report
"""

RETURN = r"""
report:
  description: The report written to report.json.
  returned: always
  type: dict
  sample: {"samples": {"generated": 10, "kept": 9, "rejected": 1}, "training": {"final_loss": 2.31}}
samples_generated:
  description: Raw samples the teacher generated.
  returned: always
  type: int
  sample: 10
samples_kept:
  description: Samples kept for training.
  returned: always
  type: int
  sample: 9
samples_rejected:
  description: Generated samples dropped by the pipeline.
  returned: always
  type: int
  sample: 1
training_loss:
  description: Final training loss, or null when the log has none.
  returned: always
  type: float
  sample: 2.31
report_json:
  description: Path of report.json.
  returned: always
  type: str
  sample: /home/trainer/.cache/autoport/ilab/work/default/report/report.json
report_md:
  description: Path of report.md.
  returned: always
  type: str
  sample: /home/trainer/.cache/autoport/ilab/work/default/report/report.md
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.ilab_report import (
    ReportError,
    build_report,
    latest_generation_dir,
    parse_training_log,
    read_transcript,
    render_markdown,
    summarize_generation,
    write_if_changed,
)
from ansible_collections.autoport.zos.plugins.module_utils.step_stamp import read_stamp


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            generated_dir=dict(type="path", required=True),
            train_log=dict(type="path", required=True),
            transcript=dict(type="path", required=True),
            sample_filter=dict(type="dict", default={}),
            stamps=dict(type="dict", default={}),
            settings=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        run_dir = latest_generation_dir(params["generated_dir"])
        if run_dir is None:
            raise ReportError("%s: no generation output (train_*.jsonl) found" % params["generated_dir"])
        generation = summarize_generation(run_dir)
        training = parse_training_log(params["train_log"])
        chat = read_transcript(params["transcript"])
    except ReportError as exc:
        module.fail_json(msg=str(exc))
    steps = {}
    for name in sorted(params["stamps"]):
        stamp = read_stamp(params["stamps"][name]) or {}
        extra = stamp.get("extra") or {}
        steps[name] = {"ran": bool(stamp), "seconds": extra.get("seconds")}
    report = build_report(generation, training, chat, params["settings"], steps, params["sample_filter"])
    json_path = os.path.join(params["dest"], "report.json")
    md_path = os.path.join(params["dest"], "report.md")
    try:
        changed = write_if_changed(json_path, json.dumps(report, indent=1, sort_keys=True) + "\n", module.check_mode)
        changed = write_if_changed(md_path, render_markdown(report), module.check_mode) or changed
    except ReportError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(
        changed=changed,
        report=report,
        samples_generated=generation["generated"],
        samples_kept=generation["kept"],
        samples_rejected=generation["rejected"],
        training_loss=training["final_loss"],
        report_json=json_path,
        report_md=md_path,
    )


def main():
    run_module()


if __name__ == "__main__":
    main()
