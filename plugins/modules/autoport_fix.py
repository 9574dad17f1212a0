#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: autoport_fix
short_description: Auto-port a port whose build fails, keeping only fixes a rebuild proves
version_added: "0.1.0"
description:
  - Builds the port (the C(posix) or C(zopen) profile of M(autoport.zos.patch_replay)), takes the
    first root error (follow-ups skipped), asks the proposers for candidate diffs, and for each
    runs C(git apply --check), applies it and rebuilds incrementally. A candidate is kept only
    when that error is gone, no earlier phase fails and no new error appears that the error did
    not hide; otherwise it is reverted exactly. Then the next error, within the budgets.
  - Proposers are C(retrieval) (the nearest curated records, their edit carried over),
    C(template) (edits mined from the records) and C(model) (an OpenAI-compatible endpoint at
    temperature 0, skipped when I(model_url) is not set). Records of the port itself are never used.
  - Candidates that delete or rename files, touch paths outside the source tree or change more
    than I(max_changed_lines) lines are refused with the reason, and so is a C(#define) of the
    missing name with a value a record gave another name (it would compile and be wrong).
  - Writes the accepted fixes the zopen way (C(<path/to/file>.patch), C(git diff) output) under
    I(output_dir)/<port>/patches, C(records.jsonl) (C(provenance=autoport)), C(negatives.jsonl)
    (rejected candidates with their reason), C(report.json) and C(report.md). The port's patch
    folder is changed only with I(write_patches=true).
author:
  - autoport.zos contributors (@autoport)
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Reads the records and reports what would run; builds and writes nothing.
options:
  port_dir:
    description: The port repository (with its C(buildenv)).
    type: path
    required: true
  port:
    description: The port name (default the folder name).
    type: str
  work_dir:
    description: Work folder for the source tree, builds and logs.
    type: path
    required: true
  output_dir:
    description: Folder for the patches, records and report (one subfolder per port).
    type: path
    required: true
  records:
    description: Curated record files (JSONL, e.g. C(train.jsonl)) the proposers learn from.
    type: list
    elements: path
    default: []
  proposers:
    description: The proposers to ask, in this order.
    type: list
    elements: str
    choices: [retrieval, template, model]
    default: [retrieval, template, model]
  model_url:
    description: Base URL of an OpenAI-compatible endpoint (C(.../v1)); unset skips the model proposer.
    type: str
  model_name:
    description: Model name sent to the endpoint.
    type: str
    default: default
  model_api_key:
    description: Bearer key of the endpoint, never logged.
    type: str
  model_prompt_format:
    description:
      - How the model is asked, the way it was trained. C(chat) sends the training messages to
        C(/chat/completions) (the server applies the model's chat template); C(ilab) sends the text
        format C(ilab model train) taught the student (C(<|system|>), C(<|user|>), C(<|assistant|>)) to
        C(/completions).
    type: str
    choices: [chat, ilab]
    default: chat
  max_errors:
    description: At most this many errors are worked on.
    type: int
    default: 20
  max_candidates:
    description: At most this many candidates per error.
    type: int
    default: 6
  max_seconds:
    description: Wall time budget of the whole run.
    type: int
    default: 1800
  max_changed_lines:
    description: A candidate changing more lines is refused.
    type: int
    default: 40
  write_patches:
    description: Also write the accepted patches into the port's patch folder.
    type: bool
    default: false
  profile:
    description: Build profile.
    type: str
    choices: [posix, zopen]
    default: posix
  mirror_dir:
    description: Local folder of source archives (by file name), for hosts without internet.
    type: path
  build_timeout:
    description: Seconds one build may take.
    type: int
    default: 3600
  build_env:
    description:
      - Variables added to every build's environment (for example the compiler flags a zopen
        dependency sets); never logged, and credential-named values are removed from build logs.
    type: dict
    default: {}
seealso:
  - module: autoport.zos.patch_replay
    description: The build code it reuses (the posix and zopen profiles), and the harvest that made the records it learns from.
  - module: autoport.zos.dataset_curate
    description: "Before: the curated records it retrieves from and mines templates from; next: curate takes its autoport records back in."
  - module: autoport.zos.fix_evaluate
    description: The same OpenAI-compatible interface to the model, scored offline on held-out ports.
"""

EXAMPLES = r"""
- name: Auto-port a port with retrieval and templates from the curated records
  autoport.zos.autoport_fix:
    port_dir: /work/ports/ringbufport
    work_dir: /work/autoport
    output_dir: /work/output/autoport
    records: [/work/output/curated/train.jsonl]
    proposers: [retrieval, template]
"""

RETURN = r"""
summary_line:
  description: One line with errors met, fixed, builds and whether the final build passes.
  returned: always
  type: str
  sample: "ringbufport: 20 errors met, 7 fixed, 69 builds, final build fails (error budget (20) used)"
report:
  description: Every error met and every candidate tried (proposer, outcome, reason, rebuild); null in check mode.
  returned: always
  type: dict
patches:
  description: Names of the patches written (C(<path/to/file>.patch)).
  returned: success
  type: list
  elements: str
  sample: ["src/alloc.c.patch"]
patch_dir:
  description: Folder of the written patches.
  returned: success
  type: str
patch_folder:
  description:
    - The port's patch folder, relative to the port repository (C(patches) or the buildenv's
      C(stable-patches)...), where zopen reads the patches and where I(write_patches=true) puts them.
  returned: success
  type: str
  sample: stable-patches
records_file:
  description: The records of the accepted fixes (C(provenance=autoport)).
  returned: success
  type: str
changed_files:
  description: Files written or removed.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError
from ansible_collections.autoport.zos.plugins.module_utils.autoport_loop import AutoportError
from ansible_collections.autoport.zos.plugins.module_utils.autoport_output import run


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            port_dir=dict(type="path", required=True),
            port=dict(type="str"),
            work_dir=dict(type="path", required=True),
            output_dir=dict(type="path", required=True),
            records=dict(type="list", elements="path", default=[]),
            proposers=dict(type="list", elements="str", choices=["retrieval", "template", "model"], default=["retrieval", "template", "model"]),
            model_url=dict(type="str"),
            model_name=dict(type="str", default="default"),
            model_api_key=dict(type="str", no_log=True),
            model_prompt_format=dict(type="str", choices=["chat", "ilab"], default="chat"),
            max_errors=dict(type="int", default=20),
            max_candidates=dict(type="int", default=6),
            max_seconds=dict(type="int", default=1800),
            max_changed_lines=dict(type="int", default=40),
            write_patches=dict(type="bool", default=False),
            profile=dict(type="str", choices=["posix", "zopen"], default="posix"),
            mirror_dir=dict(type="path"),
            build_timeout=dict(type="int", default=3600),
            build_env=dict(type="dict", default={}, no_log=True),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    params["env"] = params.pop("build_env") or {}
    params["endpoint"] = {"url": params.pop("model_url"), "model": params.pop("model_name"), "api_key": params.pop("model_api_key"),
                          "prompt_format": params.pop("model_prompt_format")}
    try:
        result = run(params, check_mode=module.check_mode)
    except (AutoportError, OutputError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
