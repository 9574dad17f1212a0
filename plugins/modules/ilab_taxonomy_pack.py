#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ilab_taxonomy_pack
short_description: Pack an InstructLab taxonomy tree into a reproducible tar for the AI host
version_added: "0.1.0"
description:
  - Packs the files of a taxonomy folder into an uncompressed tar whose bytes depend only on the
    file names and contents (sorted members, mtime 0, owner root, mode 0644), so copying it to the
    AI host is idempotent and its sha256 identifies the taxonomy.
  - In a git repository the files are those C(git ls-files --cached --others --exclude-standard)
    lists (ilab counts untracked files too); elsewhere every regular file. C(.git) is never packed.
  - Refuses paths leaving the tree, special files and files over 64 MiB, naming the file.
  - Usually run on the controller (C(delegate_to=localhost)).
author:
  - autoport.zos contributors (@autoport)
options:
  src:
    description: The taxonomy folder.
    type: path
    required: true
  dest:
    description: The tar file to write.
    type: path
    required: true
  include:
    description:
      - Top-level folders of the taxonomy to pack; other files at the top (README, attribution) are always packed.
      - Leave C(knowledge) out on hosts that cannot download docling's document models (ilab needs them for knowledge).
    type: list
    elements: str
    default: [compositional_skills, knowledge]
  document_repo:
    description:
      - The knowledge documents' repository as the AI host can clone it (for example C(file:///home/ilab/work/knowledge-docs)).
        Every knowledge C(qna.yaml) in the tar names it as C(document.repo), with I(document_commit); the folder is not changed.
      - The taxonomy stage names the repository on its own machine, which a separate AI host cannot reach.
    type: str
  document_commit:
    description: The commit of I(document_repo) holding the documents (C(document.commit)). Required with I(document_repo).
    type: str
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
seealso:
  - module: autoport.zos.qna_render
    description: "Before: writes the taxonomy (taxonomy stage)."
  - module: autoport.zos.ilab_preflight
    description: "Before: checks models, memory and disk."
  - module: autoport.zos.ilab_stamp
    description: "Next: decides which long steps (generate, train, convert, chat) must run."
"""

EXAMPLES = r"""
- name: Pack the taxonomy on the controller
  autoport.zos.ilab_taxonomy_pack:
    src: /srv/autoport/output/taxonomy
    dest: /srv/autoport/output/ilab/taxonomy.tar
  delegate_to: localhost
  register: taxonomy_pack
"""

RETURN = r"""
sha256:
  description: sha256 of the tar.
  returned: always
  type: str
  sample: 0c1e2b7d0e4b8f9e7a1c3d2b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b4f1c
files:
  description: Number of files packed.
  returned: always
  type: int
  sample: 12
members:
  description: Relative paths packed, sorted.
  returned: always
  type: list
  elements: str
  sample: ["compositional_skills/engineering/zos_porting/qna.yaml"]
documents:
  description: Number of knowledge C(qna.yaml) files whose C(document) repo and commit were set from I(document_repo).
  returned: always
  type: int
  sample: 2
git_head:
  description: Commit of the taxonomy repository's HEAD, or an empty string when it is not a git repository or has no commit.
  returned: always
  type: str
  sample: 3f2a9c0d1e
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils import git_local
from ansible_collections.autoport.zos.plugins.module_utils.ilab_taxonomy_pack import PackError, pack, select_trees, walk_files


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            include=dict(type="list", elements="str", default=["compositional_skills", "knowledge"]),
            document_repo=dict(type="str"),
            document_commit=dict(type="str"),
        ),
        required_together=[("document_repo", "document_commit")],
        supports_check_mode=True,
    )
    src = module.params["src"]
    if not os.path.isdir(src):
        module.fail_json(msg="%s: taxonomy folder does not exist (run the taxonomy stage, or set ilab_train_taxonomy_src)" % src)
    git_head = ""
    if os.path.exists(os.path.join(src, ".git")):
        if not module.get_bin_path("git"):
            module.fail_json(msg="%s is a git repository but git is not installed here" % src)
        try:
            names = git_local.list_files(src)
            git_head = git_local.head(src) or ""
        except git_local.GitError as exc:
            module.fail_json(msg="%s: %s" % (src, exc))
    else:
        names = walk_files(src)
    names = select_trees(names, module.params["include"])
    try:
        document = {"repo": module.params["document_repo"], "commit": module.params["document_commit"]} if module.params["document_repo"] else None
        result = pack(src, names, module.params["dest"], check_mode=module.check_mode, document=document)
    except (PackError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if not result["files"]:
        module.fail_json(msg="%s: the taxonomy holds no files" % src)
    module.exit_json(git_head=git_head, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
