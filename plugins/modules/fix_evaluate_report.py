#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fix_evaluate_report
short_description: Write the evaluation report (tables, charts, 95% bootstrap intervals) from predictions.jsonl alone
version_added: "0.1.0"
description:
  - Reads the predictions written by M(autoport.zos.fix_evaluate) and nothing else, and writes C(report.md),
    C(report.html) (charts drawn by matplotlib, embedded as SVG) and C(summary.json) into I(dest).
  - Per system C(exact), C(exact@k), C(applies), C(edit_gain) and C(category) with 95% bootstrap intervals, the same per
    error category and per port, speed (seconds per item, tokens per second) and the ten items where the C(tuned) and
    C(base) systems differ most. The files are byte-identical for the same predictions; C(changed) only when they change.
requirements:
  - matplotlib (controller)
author:
  - autoport.zos contributors (@autoport)
options:
  predictions:
    description: predictions.jsonl of an evaluation.
    type: path
    required: true
  dest:
    description: Folder for report.md, report.html and summary.json.
    type: path
    required: true
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.fix_evaluate
    description: "Before: writes predictions.jsonl, the only input of this report."
"""

EXAMPLES = r"""
- name: Write the evaluation report
  autoport.zos.fix_evaluate_report:
    predictions: /srv/autoport/output/evaluate/predictions.jsonl
    dest: /srv/autoport/output/evaluate
  delegate_to: localhost
"""

RETURN = r"""
report_md:
  description: Path of report.md.
  returned: always
  type: str
  sample: /srv/autoport/output/evaluate/report.md
report_html:
  description: Path of report.html.
  returned: always
  type: str
  sample: /srv/autoport/output/evaluate/report.html
overall:
  description: Per system and metric the mean and its 95% bootstrap interval (low, high).
  returned: always
  type: dict
  sample: {"tuned": {"exact": {"mean": 0.25, "low": 0.0, "high": 0.5, "n": 12}}}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.eval_report import PredictionsError, report_from_predictions


def run_module():
    module = AnsibleModule(
        argument_spec=dict(predictions=dict(type="path", required=True), dest=dict(type="path", required=True)),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    try:
        report = report_from_predictions(module.params["predictions"])
    except (PredictionsError, RuntimeError) as exc:
        module.fail_json(msg=str(exc))
    files = {
        "report.md": report["markdown"],
        "report.html": report["html"],
        "summary.json": json.dumps(report["summary"], indent=1, sort_keys=True) + "\n",
    }
    changed = False
    try:
        for name, text in sorted(files.items()):
            changed = write_if_changed(os.path.join(dest, name), text.encode("utf-8"), module.check_mode) or changed
    except OutputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(
        changed=changed,
        report_md=os.path.join(dest, "report.md"),
        report_html=os.path.join(dest, "report.html"),
        overall={system: {k: v for k, v in figures.items() if isinstance(v, dict)} for system, figures in report["summary"]["overall"].items()},
    )


def main():
    run_module()


if __name__ == "__main__":
    main()
