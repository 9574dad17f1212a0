#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_stamp
short_description: Decide whether a long InstructLab step must run again, and record that it ran
version_added: "0.1.0"
description:
  - Computes a sha256 fingerprint over the step's input files, directory trees and parameter values.
  - With I(state=check) it reports whether the stamp file at I(path) matches that fingerprint and
    every output the stamp recorded still exists (C(current)). Nothing is written.
  - With I(state=present) it writes the stamp after the step succeeded; C(changed) is true only
    when the stamp content changes, so a re-run with the same inputs reports no change.
  - Directory trees are walked in sorted order without following symlinks; C(.git) and
    C(__pycache__) directories are left out.
author:
  - autoport.zos contributors (@autoport)
options:
  path:
    description: Stamp file to read or write.
    type: path
    required: true
  inputs:
    description: Files and directories whose content makes up the step's inputs.
    type: list
    elements: path
    default: []
  values:
    description: Parameter values of the step (pipeline, scale factor, model names, ...).
    type: dict
    default: {}
  outputs:
    description:
      - Files or directories the step produces. With I(state=check) a missing one makes the step
        not current; with I(state=present) they are recorded and must exist.
    type: list
    elements: path
    default: []
  mode:
    description:
      - C(content) hashes file contents; C(metadata) hashes size and modification time only
        (for multi-gigabyte model files that are replaced, never edited in place).
    type: str
    default: content
    choices: [content, metadata]
  state:
    description: C(check) compares, C(present) writes the stamp.
    type: str
    default: check
    choices: [check, present]
  extra:
    description: Additional facts stored in the stamp (for the operator; not part of the fingerprint).
    type: dict
    default: {}
  sha256:
    description:
      - A fingerprint the caller computed already (the C(autoport.zos.ilab_env) role's pinned set), used
        instead of fingerprinting I(inputs) and I(values), which must then be empty.
      - A stamp file that holds only this fingerprint (the marker C(ilab_env) wrote before) counts as current.
    type: str
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.ilab_taxonomy_pack
    description: "Before: the packed taxonomy, the first stamped input."
  - module: autoport.zos.ilab_progress
    description: Follows each step the stamp says must run.
  - module: autoport.zos.ilab_report
    description: "Next: reads the stamps into the run report."
"""

EXAMPLES = r"""
- name: Is data generation current?
  autoport.zos.ilab_stamp:
    path: /home/trainer/.cache/autoport/ilab/work/default/stamps/generate.json
    inputs:
      - /home/trainer/.cache/autoport/ilab/work/default/taxonomy
      - /home/trainer/.cache/autoport/ilab/work/default/config/instructlab/config.yaml
    values:
      pipeline: simple
      sdg_scale_factor: 2
  register: generate_stamp

- name: Is the environment of this pinned set installed? (a fingerprint computed by the caller)
  autoport.zos.ilab_stamp:
    path: /home/trainer/.cache/autoport/ilab/0123456789abcdef/venv/.autoport-ilab-pins
    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

- name: Record that generation ran
  autoport.zos.ilab_stamp:
    path: /home/trainer/.cache/autoport/ilab/work/default/stamps/generate.json
    inputs:
      - /home/trainer/.cache/autoport/ilab/work/default/taxonomy
    values:
      pipeline: simple
    outputs:
      - /home/trainer/.cache/autoport/ilab/work/default/data/datasets
    state: present
"""

RETURN = r"""
current:
  description: True when the stamp matches the inputs and all recorded outputs exist (after writing, with state=present).
  returned: always
  type: bool
  sample: false
reason:
  description: Why the step is or is not current.
  returned: always
  type: str
  sample: inputs changed since the stamp was written
sha256:
  description: Fingerprint of the inputs and values.
  returned: always
  type: str
  sample: 4f1c0c1e2b7d0e4b8f9e7a1c3d2b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b
files:
  description: Number of input files fingerprinted.
  returned: always
  type: int
  sample: 12
bytes:
  description: Total size of the input files.
  returned: always
  type: int
  sample: 98362432
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.step_stamp import StampError, fingerprint, stamp_status, write_stamp


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            inputs=dict(type="list", elements="path", default=[]),
            values=dict(type="dict", default={}),
            outputs=dict(type="list", elements="path", default=[]),
            mode=dict(type="str", default="content", choices=["content", "metadata"]),
            state=dict(type="str", default="check", choices=["check", "present"]),
            extra=dict(type="dict", default={}),
            sha256=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["sha256"] and (params["inputs"] or params["values"]):
            module.fail_json(msg="give sha256 or inputs/values, not both")
        if params["sha256"]:
            digest = {"sha256": params["sha256"], "files": 0, "bytes": 0}
        else:
            digest = fingerprint(params["inputs"], params["values"], mode=params["mode"])
        changed = False
        if params["state"] == "present":
            changed = write_stamp(params["path"], digest["sha256"], params["outputs"], params["extra"], check_mode=module.check_mode)
        current, reason = stamp_status(params["path"], digest["sha256"], params["outputs"])
        if params["state"] == "present" and module.check_mode and changed:
            current, reason = True, "stamp would be written"
    except StampError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, current=current, reason=reason, sha256=digest["sha256"], files=digest["files"], bytes=digest["bytes"])


def main():
    run_module()


if __name__ == "__main__":
    main()
