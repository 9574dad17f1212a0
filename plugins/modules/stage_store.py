#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: stage_store
short_description: Read a stage's inputs from, or write its outputs to, the store between stages
version_added: "0.1.0"
description:
  - The store is a folder on a shared filesystem (I(store.type=path)) or a git repository
    (I(store.type=git)). Each item (C(harvest), C(mined), C(curated), C(taxonomy), ...) is a folder.
  - I(state=pulled) copies each item to its local folder (replacing it). An item the store does not
    hold yet is reported with C(revision=null) and its local folder is left alone.
  - I(state=pushed) publishes each local folder. A path store keeps immutable versions named by their
    content digest and switches the item to the new one with one rename. A git store makes one commit
    for all items of the call and pushes it. Pushing the same content again changes nothing.
  - An unreachable or read-only store, or a missing output, fails with a message naming it; nothing in
    the store is half-written.
author:
  - autoport.zos contributors (@autoport)
requirements:
  - git (for I(store.type=git))
options:
  store:
    description: The store (the value of C(autoport_store)).
    type: dict
    required: true
    suboptions:
      type:
        description: C(path) (shared filesystem) or C(git) (repository).
        type: str
        required: true
        choices: [path, git]
      path:
        description: Absolute folder of a path store. It must exist (a mounted volume).
        type: str
      url:
        description: Clone URL of a git store (credentials from the git credential helper or SSH agent, never here).
        type: str
      branch:
        description: Branch of a git store.
        type: str
        default: main
  state:
    description: C(pulled) copies store items to local folders, C(pushed) publishes local folders.
    type: str
    required: true
    choices: [pulled, pushed]
  items:
    description: Store item name -> local folder on the controller.
    type: dict
    required: true
  optional:
    description: Items whose local folder may be missing on a push (left as the store has them, reported with C(revision=null)).
    type: list
    elements: str
    default: []
  record:
    description:
      - What is recorded with pushed items (stage, code commit, input revisions). Keep it free of secrets.
    type: dict
    default: {}
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Reports whether a pull or push would change something, and writes nothing.
  platform:
    details: Runs on the controller (localhost).
seealso:
  - module: autoport.zos.dataset_curate
    description: "Between stages: curate pulls the harvest's records from the store and pushes the dataset."
  - module: autoport.zos.qna_render
    description: "Between stages: the taxonomy pulls the dataset and pushes the taxonomy."
"""

EXAMPLES = r"""
- name: Take the curated dataset from the shared volume
  autoport.zos.stage_store:
    store: {type: path, path: /runner/store}
    state: pulled
    items:
      curated: /tmp/work/output/curated

- name: Publish the taxonomy as one commit
  autoport.zos.stage_store:
    store: {type: git, url: git@git.example.com:autoport/store.git, branch: main}
    state: pushed
    items:
      taxonomy: /tmp/work/output/taxonomy
    record:
      stage: taxonomy
      code_commit: 3f1c2e0
"""

RETURN = r"""
store:
  description: The store, named without credentials.
  returned: always
  type: str
  sample: path /runner/store
items:
  description: Per item, C(revision) (C(sha256:<digest>) for a path store, the store commit for git; null when absent), C(local), C(location).
  returned: always
  type: dict
commit:
  description: The store commit after a push to a git store.
  returned: when state=pushed and store.type=git
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.stage_store import StoreError, describe, parse_spec, pull, push


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            store=dict(
                type="dict",
                required=True,
                options=dict(
                    type=dict(type="str", required=True, choices=["path", "git"]),
                    path=dict(type="str"),
                    url=dict(type="str"),
                    branch=dict(type="str", default="main"),
                ),
            ),
            state=dict(type="str", required=True, choices=["pulled", "pushed"]),
            items=dict(type="dict", required=True),
            optional=dict(type="list", elements="str", default=[]),
            record=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    store = {key: value for key, value in params["store"].items() if value is not None}
    try:
        if params["state"] == "pulled":
            result = pull(store, params["items"], check_mode=module.check_mode)
        else:
            result = push(store, params["items"], params["record"], check_mode=module.check_mode, optional=params["optional"])
    except StoreError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="store %s: %s (%s)" % (describe(parse_spec(store)), exc.strerror or exc, exc.filename or ""))
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
