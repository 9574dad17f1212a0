#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qna_render
short_description: Render curated fix records as an InstructLab taxonomy (skills and knowledge, version 3)
version_added: "0.1.0"
description:
  - Reads curated fix records (the C(train.jsonl) of M(autoport.zos.dataset_curate), so the test
    ports stay out of the taxonomy) and renders one leaf per record category.
  - A compositional skill C(compositional_skills/<taxonomy_root>/<category>/qna.yaml) holds grounded
    examples. The context is the error message and the code before the fix, the question asks for
    the fix and the answer explains it and gives the corrected code. For a static record (found in a
    patch, no error recorded) the context describes what the patch changes and the question asks
    how to port the code; no error message is ever invented. Examples are chosen for diversity of
    port, file and message.
  - A knowledge leaf C(knowledge/<taxonomy_root>/<category>/qna.yaml) references a markdown document
    written and committed to the git repository I(docs_repo) (by C(file://) URL, commit and pattern).
    It has at least 5 contexts drawn verbatim from that document, at least 3 questions and answers
    per context, contexts of at most 500 words, answers of at most 250 words, about 2,300 words of
    seed text in all, and a C(document_outline).
  - A category with too few usable records gets no leaf and is listed in C(left_out) with the reason.
    Nothing is padded or invented.
  - C(attribution.txt) beside each leaf names the port repositories and their licences.
  - Every C(qna.yaml) is checked before it is written. It must load back to the intended data,
    match the instructlab-schema version 3 JSON schema, and pass yamllint with InstructLab's
    rules (relaxed preset, lines up to 120 characters), with warnings counted as errors.
  - I(taxonomy_dir) is a git repository (created when absent). A render that changes something
    makes one commit of the files under its root, a render that changes nothing makes no commit
    and reports C(changed=false). Leaves under the root that this render does not produce are removed.
author:
  - autoport.zos contributors (@autoport)
requirements:
  - PyYAML
  - jsonschema
  - instructlab-schema
  - yamllint
  - git
options:
  src:
    description:
      - Records to render, a JSONL file, or a folder written by M(autoport.zos.dataset_curate), in which
        case its C(train.jsonl) is used.
    type: path
    required: true
  taxonomy_dir:
    description: The taxonomy git repository. Created and initialised (branch C(main)) when absent or empty.
    type: path
    required: true
  taxonomy_root:
    description: Folder under C(compositional_skills/) and C(knowledge/) that holds the leaves, one or more simple names joined by C(/).
    type: str
    default: zos_porting
  kinds:
    description: What to render.
    type: list
    elements: str
    choices: [skills, knowledge]
    default: [skills, knowledge]
  docs_repo:
    description:
      - Git repository the knowledge documents are written and committed to (created when absent or
        empty). Required when I(kinds) includes C(knowledge). Must differ from I(taxonomy_dir).
    type: path
  created_by:
    description: The C(created_by) of every qna.yaml (a GitHub user name).
    type: str
    default: autoport-zos
  domain:
    description: The C(domain) of the knowledge leaves.
    type: str
    default: Porting software to z/OS
  examples_per_leaf:
    description: Seed examples per skill leaf (at least 5). A category with fewer usable records gets no skill.
    type: int
    default: 5
  contexts_per_doc:
    description: Contexts per knowledge leaf (at least 5). A category with fewer usable records gets no knowledge leaf.
    type: int
    default: 5
  qna_per_context:
    description: Questions and answers per knowledge context (at least 3, fewer makes C(ilab data generate) fail with KeyError C(icl_query_2)).
    type: int
    default: 3
  doc_max_fixes:
    description: Most fixes described in one knowledge document (the contexts included).
    type: int
    default: 20
  licenses:
    description:
      - Licence of each port repository by port name, for C(attribution.txt). A port not listed is
        attributed as "see <repository URL>".
    type: dict
    default: {}
  repo_base_url:
    description: URL the port names are appended to for the repository links in C(attribution.txt).
    type: str
    default: https://github.com/zopencommunity
  commit:
    description: Commit the rendered files in I(taxonomy_dir). The knowledge documents are always committed in I(docs_repo).
    type: bool
    default: true
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Renders and validates everything but writes, initialises and commits nothing; C(changed_files) lists what would change.
  diff_mode:
    details: Not supported; C(changed_files) and C(removed_files) name the files that change.
  platform:
    details: Runs on the controller (localhost).
seealso:
  - module: autoport.zos.dataset_curate
    description: "Before: the curated records and their train split (curate stage)."
  - module: autoport.zos.ilab_preflight
    description: "Next: the checks that open the train stage."
  - module: autoport.zos.ilab_taxonomy_pack
    description: "Next: packs the taxonomy for the AI host (train stage)."
"""

EXAMPLES = r"""
- name: Render skills and knowledge from the train split
  autoport.zos.qna_render:
    src: /srv/out/dataset
    taxonomy_dir: /srv/out/taxonomy
    docs_repo: /srv/out/knowledge-docs
    licenses:
      zlibport: Apache-2.0
      curlport: Apache-2.0
  register: taxonomy

- name: Skills only, eight examples per leaf, under a custom root
  autoport.zos.qna_render:
    src: /srv/out/dataset/train.jsonl
    taxonomy_dir: /srv/out/taxonomy
    kinds: [skills]
    taxonomy_root: zos/porting
    examples_per_leaf: 8
"""

RETURN = r"""
leaves:
  description: The leaves rendered.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(skills) or C(knowledge).
      type: str
    category:
      description: The record category of the leaf.
      type: str
    path:
      description: The qna.yaml path relative to I(taxonomy_dir).
      type: str
    examples:
      description: Seed examples (skills) or contexts (knowledge).
      type: int
    ports:
      description: Ports the examples come from.
      type: list
      elements: str
    record_ids:
      description: Ids of the records used as examples or contexts.
      type: list
      elements: str
  sample:
    - kind: skills
      category: missing-header
      path: compositional_skills/zos_porting/missing-header/qna.yaml
      examples: 5
      ports: [bashport, curlport, gitport, makeport, zlibport]
      record_ids: [3f1c0a9e5b7d4c21a8e6f0b2c4d6e8f0]
left_out:
  description: Categories that got no leaf of a kind, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "skills", "category": "resource-limit", "records": 2, "usable": 2, "reason": "2 usable records, a skill needs 5"}]
changed_files:
  description: Files written (or that would be written), relative to I(taxonomy_dir); knowledge documents are prefixed C(docs:).
  returned: always
  type: list
  elements: str
  sample: ["compositional_skills/zos_porting/encoding/qna.yaml", "docs:zos_porting/encoding.md"]
removed_files:
  description: Stale files under the root removed (or that would be removed).
  returned: always
  type: list
  elements: str
  sample: []
commit:
  description: The taxonomy commit made by this run, null when nothing changed or in check mode.
  returned: always
  type: str
  sample: 0ea7711f3f89550607ab75aa11ef9623f1e014d6
base_commit:
  description: The taxonomy C(HEAD) before this run (use it as C(ilab taxonomy diff --taxonomy-base)), null for a new repository.
  returned: always
  type: str
  sample: 680ea0e0d383a482f06da29b147fc576e688713c
docs_commit:
  description: The I(docs_repo) commit made by this run, null when the documents did not change.
  returned: always
  type: str
  sample: fc72f8ec3ece96ea74f4911d066dd185ca6c2fb5
records:
  description: Valid records read from I(src).
  returned: always
  type: int
  sample: 1000
invalid:
  description: Lines of I(src) that were not valid records (left out; see I(rejected_lines)).
  returned: always
  type: int
  sample: 0
rejected_lines:
  description:
    - The lines of I(src) that were left out, each with its line number, kind and reason
      (the first 100; the line's text is never quoted). The other lines are still rendered.
    - I(src) is dataset_curate's output, scrubbed and validated there; this is a shape check, not a second validation.
  returned: always
  type: list
  elements: dict
  sample: [{"line": 7, "kind": "not JSON", "reason": "not JSON: nested deeper than the parser allows"}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError
from ansible_collections.autoport.zos.plugins.module_utils.git_local import GitError
from ansible_collections.autoport.zos.plugins.module_utils.qna_render import QnaRenderError, missing_libraries, render_taxonomy


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            taxonomy_dir=dict(type="path", required=True),
            taxonomy_root=dict(type="str", default="zos_porting"),
            kinds=dict(type="list", elements="str", choices=["skills", "knowledge"], default=["skills", "knowledge"]),
            docs_repo=dict(type="path"),
            created_by=dict(type="str", default="autoport-zos"),
            domain=dict(type="str", default="Porting software to z/OS"),
            examples_per_leaf=dict(type="int", default=5),
            contexts_per_doc=dict(type="int", default=5),
            qna_per_context=dict(type="int", default=3),
            doc_max_fixes=dict(type="int", default=20),
            licenses=dict(type="dict", default={}),
            repo_base_url=dict(type="str", default="https://github.com/zopencommunity"),
            commit=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    missing = missing_libraries()
    if missing:
        library, error = missing[0]
        module.fail_json(msg=missing_required_lib(library), exception=str(error))
    try:
        result = render_taxonomy(dict(params), check_mode=module.check_mode)
    except (QnaRenderError, GitError, OutputError) as exc:
        module.fail_json(msg=str(exc))
    except (OSError, UnicodeError) as exc:
        module.fail_json(msg="qna_render %s -> %s: %s" % (params["src"], params["taxonomy_dir"], exc))
    # Ansible reads a result key named "skipped" as "the task was skipped": publish it as left_out.
    result["left_out"] = result.pop("skipped", [])
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
