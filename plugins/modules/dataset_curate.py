#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dataset_curate
short_description: Merge, scrub, validate, deduplicate and split fix records into training datasets
version_added: "0.1.0"
description:
  - Reads every C(*.jsonl) file named in I(src) (files as given, folders searched recursively;
    files inside I(dest) are never read back).
  - Scrubs secrets and personal data from every string of every record before anything else
    looks at it. Tokens, passwords, private keys, e-mail addresses, author names in mail headers
    and user names in home directory paths become placeholders such as C(<TOKEN>),
    C(<PASSWORD>), C(<PRIVATE_KEY>), C(<EMAIL>) and C(/home/<USER>); each record id is then
    recomputed from the cleaned fields.
  - Validates every record against the fix record schema. A line that is not a valid record
    goes to C(rejected.jsonl) with its reason.
  - Merges duplicates into one record with a C(seen_in) list. Records with the same id are merged,
    a C(build) record replaces C(static) records of the same port, patch file and hunk, and
    the same fix seen in several ports or patch versions is found on code normalised for
    whitespace, comments and variable names.
  - Splits train and test by port, so no port is in both. The split is reproducible from
    I(seed), and with two or more ports each side gets at least one.
  - Writes C(dataset.jsonl), C(train.jsonl), C(test.jsonl), C(rejected.jsonl), InstructLab
    messages files (C(train_messages.jsonl), C(test_messages.jsonl)), instruction/input/output
    files for PEFT/LoRA trainers (C(train_alpaca.jsonl), C(test_alpaca.jsonl)), C(summary.json),
    and a report (C(report.md), and C(report.html) with charts), where kept + rejected + merged
    duplicates = records read.
  - Files are written atomically and only when their content changes. Outputs are sorted and
    carry no timestamps, so a second run with the same inputs reports C(changed=false).
author:
  - autoport.zos contributors (@autoport)
requirements:
  - jsonschema
  - matplotlib (when I(report=true))
options:
  src:
    description:
      - JSONL files, or folders searched recursively for C(*.jsonl), holding harvested and mined records.
    type: list
    elements: path
    required: true
  dest:
    description: Folder the datasets and the report are written to. Created when absent.
    type: path
    required: true
  test_ratio:
    description:
      - Share of ports that go to the test split, between 0 and 1. A port goes to test when the
        hash of I(seed) and its name falls below this ratio.
    type: float
    default: 0.2
  seed:
    description: Seed of the train/test split; the same seed and ports always give the same split.
    type: str
    default: autoport-zos
  near_duplicates:
    description: Also merge records whose normalised code is the same (same fix in other ports or patch versions).
    type: bool
    default: true
  report:
    description: Write C(report.md) and C(report.html) (the HTML charts need matplotlib).
    type: bool
    default: true
  system_prompt:
    description: System message of the InstructLab messages files. A z/OS porting assistant prompt when omitted.
    type: str
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Reads and curates everything but writes nothing; C(changed_files) lists what would change.
  diff_mode:
    details: Not supported; C(changed_files) names the files that change.
  platform:
    details: Runs on the controller (localhost).
seealso:
  - module: autoport.zos.patch_replay
    description: "Before: records from real builds (harvest stage)."
  - module: autoport.zos.patch_mine
    description: "Before: records from the patch files alone (mine stage)."
  - module: autoport.zos.qna_render
    description: "Next: renders the curated train split as an InstructLab taxonomy (taxonomy stage)."
"""

EXAMPLES = r"""
- name: Curate harvested and mined records
  autoport.zos.dataset_curate:
    src:
      - /srv/out/records/harvested
      - /srv/out/records/mined
    dest: /srv/out/dataset
  register: curated

- name: Use a fixed split with a third of the ports for testing
  autoport.zos.dataset_curate:
    src: [/srv/out/records]
    dest: /srv/out/dataset
    test_ratio: 0.33
    seed: release-1
    report: false
"""

RETURN = r"""
changed_files:
  description: Output files written by this run (in check mode, the files that would be written).
  returned: always
  type: list
  elements: str
  sample: ["/srv/out/dataset/dataset.jsonl", "/srv/out/dataset/report.html"]
files:
  description: Every output file by name.
  returned: always
  type: dict
  sample: {"dataset.jsonl": "/srv/out/dataset/dataset.jsonl", "train_messages.jsonl": "/srv/out/dataset/train_messages.jsonl"}
counts:
  description: Records read, kept, rejected and merged (kept + rejected + merged = read), and the size of each split.
  returned: always
  type: dict
  contains:
    read:
      description: Non-blank lines read from the inputs.
      type: int
    kept:
      description: Records in C(dataset.jsonl).
      type: int
    rejected:
      description: Lines in C(rejected.jsonl).
      type: int
    merged:
      description: Duplicates merged into a kept record.
      type: int
    train:
      description: Records in C(train.jsonl).
      type: int
    test:
      description: Records in C(test.jsonl).
      type: int
  sample: {"read": 1332, "kept": 1292, "rejected": 0, "merged": 40, "train": 1000, "test": 292}
merged_by:
  description: Merged duplicates by rule, C(exact) (same id), C(same_hunk) (static replaced by build) and C(near) (normalised code).
  returned: always
  type: dict
  sample: {"exact": 0, "same_hunk": 3, "near": 37}
scrubbed:
  description: Secrets and personal data replaced, by kind (never the values).
  returned: always
  type: dict
  sample: {"private_key": 0, "password": 2, "token": 1, "user": 0, "email": 4, "name": 1, "home_path": 3}
rejected_by_kind:
  description: Rejected lines by reason.
  returned: always
  type: dict
  sample: {"not JSON": 1, "schema: invalid error_category": 2}
train_ports:
  description: Ports whose records are in the train split.
  returned: always
  type: list
  elements: str
  sample: ["bashport", "curlport"]
test_ports:
  description: Ports whose records are in the test split.
  returned: always
  type: list
  elements: str
  sample: ["zlibport"]
input_files:
  description: Number of JSONL files read.
  returned: always
  type: int
  sample: 55
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError
from ansible_collections.autoport.zos.plugins.module_utils.dataset_curate import CurateError, curate, missing_libraries


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="list", elements="path", required=True),
            dest=dict(type="path", required=True),
            test_ratio=dict(type="float", default=0.2),
            seed=dict(type="str", default="autoport-zos"),
            near_duplicates=dict(type="bool", default=True),
            report=dict(type="bool", default=True),
            system_prompt=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    missing = missing_libraries(report=params["report"])
    if missing:
        library, error = missing[0]
        module.fail_json(msg=missing_required_lib(library), exception=str(error))
    try:
        result = curate(dict(params), check_mode=module.check_mode)
    except (CurateError, OutputError) as exc:
        module.fail_json(msg=str(exc))
    except (OSError, UnicodeError) as exc:
        module.fail_json(msg="dataset_curate -> %s: %s" % (params["dest"], exc))
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
