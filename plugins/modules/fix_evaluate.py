#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fix_evaluate
short_description: Ask models, a retrieval baseline and the unchanged code to fix held-out porting errors, and score the answers
version_added: "0.1.0"
description:
  - For every record of a test set (by default the curated C(test.jsonl), whose ports are not in C(train.jsonl)),
    each system answers with the corrected code. A C(model) system is asked through an OpenAI-compatible
    C(/chat/completions) endpoint with the prompt the model was trained with (error, file, phase, code before the fix);
    a C(retrieval) system takes the nearest training record (BM25 over error text and code) and carries its fix over
    where the same lines are; an C(unchanged) system returns the code as it was (the floor).
  - Scores per item and system; C(exact) (whitespace-normalised equality with C(correct_code)), C(exact_at_k),
    C(applies) (C(git apply --check) of the edit as a unified diff on the file before the fix), C(edit_gain)
    (difflib similarity to the fix minus that of the unchanged code) and C(category_match).
  - Writes one line per item and system to I(dest) (predictions.jsonl) with the prompt, the answers, the extracted
    code and the scores. An unreadable answer, an endpoint error or an unusable record is kept with its reason.
  - Fails, naming the file, when the test set has no usable item. In check mode nothing is asked or written.
author:
  - autoport.zos contributors (@autoport)
options:
  records:
    description: Test records (JSONL, the record format of the collection).
    type: path
    required: true
  records_name:
    description: Name of the test records in messages (e.g. the controller file they were copied from); empty uses I(records).
    type: str
    default: ""
  train_records:
    description: Training records the retrieval baseline and retrieval-augmented prompts search (JSONL). Empty for none.
    type: path
    default: ""
  dest:
    description: The predictions file to write (JSONL).
    type: path
    required: true
  systems:
    description: The systems compared, in report order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the system in the predictions and the report.
        type: str
        required: true
      kind:
        description: C(unchanged), C(retrieval) or C(model).
        type: str
        required: true
        choices: [unchanged, retrieval, model]
      url:
        description: Base URL of the OpenAI-compatible endpoint (ending in C(/v1)), for C(model).
        type: str
        default: ""
      model:
        description: Model name sent in each request; empty sends I(name).
        type: str
        default: ""
      api_key:
        description: Bearer key of the endpoint; never logged.
        type: str
        default: ""
      prompt_format:
        description:
          - C(chat) sends the messages to C(/chat/completions) (the server applies the model's chat template);
            C(ilab) sends the text format C(ilab model train) taught the student (C(<|system|>), C(<|user|>),
            C(<|assistant|>)) to C(/completions).
        type: str
        default: chat
        choices: [chat, ilab]
      rag_examples:
        description: Retrieved training examples put into the prompt as earlier turns (retrieval-augmented); 0 for none.
        type: int
        default: 0
  samples:
    description: Answers asked per item and model (k of exact@k).
    type: int
    default: 1
  temperature:
    description: Sampling temperature of every model (0 is greedy).
    type: float
    default: 0.0
  max_tokens:
    description: Completion length of every answer.
    type: int
    default: 384
  seed:
    description: Seed of the first sample (sample i uses seed + i).
    type: int
    default: 0
  timeout:
    description: Seconds one request may take before the item is kept with a timeout reason.
    type: float
    default: 120
  source_dirs:
    description:
      - Port name to a folder holding the port's upstream source as it was before the fix. When the record's file is
        there, C(applies) checks the edit against it; otherwise against C(wrong_code) itself.
    type: dict
    default: {}
  limit:
    description: Evaluate only the first I(limit) usable items (0 for all).
    type: int
    default: 0
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.ilab_report
    description: "Before: the run report of the model this evaluation scores (train stage)."
  - module: autoport.zos.fix_evaluate_report
    description: "Next: the report and charts, recomputed from predictions.jsonl alone."
  - module: autoport.zos.dataset_curate
    description: Writes the test split (ports never trained on) and train.jsonl that retrieval searches.
"""

EXAMPLES = r"""
- name: Compare the floor, retrieval and two served models on the held-out ports
  autoport.zos.fix_evaluate:
    records: /srv/autoport/output/curated/test.jsonl
    train_records: /srv/autoport/output/curated/train.jsonl
    dest: /srv/autoport/work/evaluate/predictions.jsonl
    systems:
      - {name: unchanged, kind: unchanged}
      - {name: retrieval, kind: retrieval}
      - {name: base, kind: model, url: "http://127.0.0.1:8011/v1", model: base}
      - {name: tuned, kind: model, url: "http://127.0.0.1:8011/v1", model: tuned, prompt_format: ilab}
      - {name: tuned_rag, kind: model, url: "http://127.0.0.1:8011/v1", model: tuned, prompt_format: ilab, rag_examples: 1}
    max_tokens: 384
  register: evaluation
"""

RETURN = r"""
predictions:
  description: Path of the predictions file.
  returned: always
  type: str
  sample: /srv/autoport/work/evaluate/predictions.jsonl
items:
  description: Usable test items evaluated.
  returned: when not in check mode
  type: int
  sample: 12
skipped:
  description: Test lines kept unevaluated with their reason (no correct_code, not JSON, ...).
  returned: always
  type: int
  sample: 0
figures:
  description: Per system the share of exact and applying answers, the mean edit gain, unreadable answers and endpoint errors.
  returned: when not in check mode
  type: dict
  sample: {"tuned": {"exact": 0.25, "applies": 0.5, "edit_gain": 0.04, "unreadable": 2, "errors": 0}}
seconds:
  description: Wall time of the evaluation.
  returned: when not in check mode
  type: float
  sample: 61.4
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import metric_summary
from ansible_collections.autoport.zos.plugins.module_utils.fix_evaluate import EvaluateError, check_systems, evaluate, predictions_jsonl, read_records

SYSTEM_SPEC = dict(
    name=dict(type="str", required=True),
    kind=dict(type="str", required=True, choices=["unchanged", "retrieval", "model"]),
    url=dict(type="str", default=""),
    model=dict(type="str", default=""),
    api_key=dict(type="str", default="", no_log=True),
    prompt_format=dict(type="str", default="chat", choices=["chat", "ilab"]),
    rag_examples=dict(type="int", default=0),
)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            records=dict(type="path", required=True),
            records_name=dict(type="str", default=""),
            train_records=dict(type="path", default=""),
            dest=dict(type="path", required=True),
            systems=dict(type="list", elements="dict", required=True, options=SYSTEM_SPEC),
            samples=dict(type="int", default=1),
            temperature=dict(type="float", default=0.0),
            max_tokens=dict(type="int", default=384, no_log=False),
            seed=dict(type="int", default=0),
            timeout=dict(type="float", default=120),
            source_dirs=dict(type="dict", default={}),
            limit=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["samples"] < 1 or params["max_tokens"] < 1 or params["timeout"] <= 0:
        module.fail_json(msg="samples and max_tokens must be >= 1 and timeout > 0")
    try:
        check_systems(params["systems"])
        usable, unusable = read_records(params["records"])
        if module.check_mode:
            module.exit_json(changed=True, predictions=params["dest"], skipped=len(unusable), msg="%d items would be evaluated" % len(usable))
        decoding = {k: params[k] for k in ("samples", "temperature", "max_tokens", "seed", "timeout")}
        started = time.monotonic()
        lines = evaluate(params["records"], params["train_records"], params["systems"], decoding, params["source_dirs"], params["limit"])
        seconds = round(time.monotonic() - started, 3)
        changed = write_if_changed(params["dest"], predictions_jsonl(lines))
    except (EvaluateError, OutputError) as exc:
        message = str(exc)
        if params["records_name"]:
            message = message.replace(params["records"], params["records_name"])
        module.fail_json(msg=message)
    results = {}
    for system in params["systems"]:
        figures = metric_summary([line for line in lines if line["system"] == system["name"]])
        results[system["name"]] = {
            "exact": figures["exact"]["mean"],
            "applies": figures["applies"]["mean"],
            "edit_gain": figures["edit_gain"]["mean"],
            "unreadable": figures["unreadable"],
            "errors": figures["errors"],
        }
    items = len(usable[: params["limit"] or None])
    module.exit_json(changed=changed, predictions=params["dest"], items=items, skipped=len(unusable), figures=results, seconds=seconds)


def main():
    run_module()


if __name__ == "__main__":
    main()
