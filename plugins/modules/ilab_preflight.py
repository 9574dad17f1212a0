#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_preflight
short_description: Check an InstructLab run's models, context sizes, pipelines, memory and disk before it starts
version_added: "0.1.0"
description:
  - Reads the teacher GGUF's header (without loading the model) and fails when it is missing, not a
    GGUF, truncated, or too large for this host's memory.
  - Checks that the student is a Hugging Face model directory (config.json, weights, tokenizer).
  - Checks that the llama.cpp context sizes are multiples of 256 and hold the prompt plus the
    completion, that the training pipeline runs on the device, and that the work directory's file
    system has room.
  - Resolves the SDG prompt family of the teacher (C(auto) looks at the file name, the model name and
    the GGUF chat template).
  - Every failure message names the variable to change. Only the checks whose inputs are given run.
  - Never changes anything.
author:
  - autoport.zos contributors (@autoport)
options:
  teacher_path:
    description: Teacher model, a GGUF file. Empty skips the teacher checks.
    type: path
  teacher_variable:
    description: Name of the variable that set I(teacher_path), used in failure messages.
    type: str
    default: ilab_models_teacher_path
  student_path:
    description: Student model, a Hugging Face model directory. Empty skips the student checks.
    type: path
  workdir:
    description: Directory whose file system must have I(min_free_mb) free. Empty skips the disk check.
    type: path
  min_free_mb:
    description: Free space needed in I(workdir); 0 estimates it from the student's size (4 times plus 1 GiB).
    type: int
    default: 0
  device:
    description: Training device.
    type: str
    default: cpu
    choices: [cpu, cuda, mps]
  generate_pipeline:
    description: SDG pipeline, C(simple), C(full) or an absolute pipeline directory. Empty skips the pipeline checks.
    type: str
    default: ""
  train_pipeline:
    description: Training pipeline. Empty skips the pipeline checks.
    type: str
    default: ""
  model_family:
    description: SDG prompt family of the teacher, or C(auto).
    type: str
    default: auto
  generate_max_ctx_size:
    description: llama.cpp context of the teacher during generation. 0 skips the context checks.
    type: int
    default: 0
  serve_max_ctx_size:
    description: llama.cpp context when the model is served.
    type: int
    default: 0
  generate_max_tokens:
    description: Completion length the SDG blocks request.
    type: int
    default: 0
  prompt_tokens:
    description: Budget for the longest SDG prompt, seed examples included.
    type: int
    default: 0
  train_max_seq_len:
    description: Maximum sequence length for training; must be a multiple of 256 when given.
    type: int
  teacher_memory_factor:
    description: Memory the teacher needs, as a multiple of its file size.
    type: float
    default: 1.2
  teacher_memory_overhead_mb:
    description: Fixed memory on top of I(teacher_memory_factor) (KV cache, runtime).
    type: int
    default: 1024
  host_memory_mb:
    description: Memory of the host in MiB; 0 measures it.
    type: int
    default: 0
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.qna_render
    description: "Before: writes the taxonomy the run trains on (taxonomy stage)."
  - module: autoport.zos.ilab_taxonomy_pack
    description: "Next: packs the taxonomy for the AI host."
"""

EXAMPLES = r"""
- name: Check the run before generation
  autoport.zos.ilab_preflight:
    teacher_path: /home/trainer/.cache/autoport/ilab/models/SmolLM2-135M-Instruct.Q4_1.gguf
    student_path: /home/trainer/.cache/autoport/ilab/models/smollm2-135m-student
    workdir: /home/trainer/.cache/autoport/ilab/work/default
    device: cpu
    generate_pipeline: simple
    train_pipeline: simple
    generate_max_ctx_size: 4096
    serve_max_ctx_size: 4096
    generate_max_tokens: 1024
    prompt_tokens: 2048
  register: preflight
"""

RETURN = r"""
errors:
  description: Every problem found, each saying what to change (the module fails when not empty).
  returned: always
  type: list
  elements: str
  sample: ["ilab_train_generate_max_ctx_size is 4000, not a multiple of 256 (llama.cpp rounds it and then rejects requests): set it to 4096"]
teacher:
  description: Facts read from the teacher GGUF header.
  returned: when teacher_path is given and readable
  type: dict
  sample: {"architecture": "llama", "name": "SmolLM2 135M", "context_length": 8192, "size_bytes": 98362432}
model_family:
  description: SDG prompt family resolved for the teacher (C(chatml) means a rendered pipeline carries the template).
  returned: when teacher_path is given and readable
  type: str
  sample: chatml
model_family_reason:
  description: Why that family was chosen.
  returned: when teacher_path is given and readable
  type: str
  sample: the teacher's chat template is ChatML (<|im_start|>)
host_memory_mb:
  description: Memory of the host used for the teacher check.
  returned: when teacher_path is given and readable
  type: int
  sample: 24105
teacher_memory_mb:
  description: Memory the teacher is estimated to need.
  returned: when teacher_path is given and readable
  type: int
  sample: 1136
student_size_mb:
  description: Size of the student directory.
  returned: when student_path is given and valid
  type: int
  sample: 517
free_disk_mb:
  description: Free space on the work directory's file system.
  returned: when workdir is given
  type: int
  sample: 81234
required_disk_mb:
  description: Free space the run needs there.
  returned: when workdir is given
  type: int
  sample: 3092
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.ilab_config import preflight


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            teacher_path=dict(type="path"),
            teacher_variable=dict(type="str", default="ilab_models_teacher_path"),
            student_path=dict(type="path"),
            workdir=dict(type="path"),
            min_free_mb=dict(type="int", default=0),
            device=dict(type="str", default="cpu", choices=["cpu", "cuda", "mps"]),
            generate_pipeline=dict(type="str", default=""),
            train_pipeline=dict(type="str", default=""),
            model_family=dict(type="str", default="auto"),
            generate_max_ctx_size=dict(type="int", default=0),
            serve_max_ctx_size=dict(type="int", default=0),
            generate_max_tokens=dict(type="int", default=0, no_log=False),
            prompt_tokens=dict(type="int", default=0, no_log=False),
            train_max_seq_len=dict(type="int"),
            teacher_memory_factor=dict(type="float", default=1.2),
            teacher_memory_overhead_mb=dict(type="int", default=1024),
            host_memory_mb=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    checks = {
        "context": bool(params["generate_max_ctx_size"] or params["serve_max_ctx_size"]),
        "pipelines": bool(params["generate_pipeline"] or params["train_pipeline"]),
    }
    outcome = preflight(params, checks=checks)
    facts = outcome["facts"]
    if outcome["errors"]:
        module.fail_json(msg="; ".join(outcome["errors"]), errors=outcome["errors"], **facts)
    module.exit_json(changed=False, errors=[], **facts)


def main():
    run_module()


if __name__ == "__main__":
    main()
