#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: git_snapshot
short_description: Commit every file of a folder into its own local git repository, crash-safe
version_added: "0.2.0"
description:
  - Makes I(path) a git repository (branch C(main)) when it is not one, its files included,
    and commits everything in it that changed, as the collection's one identity
    (C(autoport.zos <autoport.zos@localhost>)) with signing, hooks and prompts off.
  - With I(date) the commit time is fixed, so the same files give the same commit id.
  - Crash leftovers are repaired first. A lock file (C(index.lock), C(HEAD.lock), ...) left by a
    git that died is removed, one a running process holds is waited for and then reported;
    a C(.git) whose C(git init) never finished (full disk, kill) and that holds no objects is
    made again. A damaged C(.git) that holds objects is refused, never deleted.
  - Used by the C(ilab_train) role for the AI host's copy of the taxonomy
    (C(ilab taxonomy diff) and C(ilab data generate) need a git repository).
author:
  - autoport.zos contributors (@autoport)
options:
  path:
    description: The folder to commit; created when missing.
    type: path
    required: true
  commit_message:
    description: The commit message.
    type: str
    required: true
  date:
    description: A fixed author and committer date (any form git accepts), or none for now.
    type: str
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Reports whether a commit would be made; writes nothing.
seealso:
  - module: autoport.zos.ilab_taxonomy_pack
    description: "Before: the taxonomy tar that is unpacked and committed on the AI host (train stage)."
  - module: autoport.zos.qna_render
    description: The taxonomy repository on the controller, committed the same way.
"""

EXAMPLES = r"""
- name: Commit the unpacked taxonomy into a repository of its own
  autoport.zos.git_snapshot:
    path: /srv/ilab/taxonomy
    commit_message: taxonomy 0123456789abcdef
    date: "2000-01-01T00:00:00Z"
"""

RETURN = r"""
commit:
  description: The repository's C(HEAD) after the run (null in check mode when nothing is committed yet).
  returned: always
  type: str
  sample: 1f0c9f4c3b1f5bd8a6a0b6bd8f7d2a5b8f6b1e2a
created:
  description: Whether the repository was (or, in check mode, would be) created or made again.
  returned: always
  type: bool
locks_removed:
  description: Lock files left by a git that died, removed before committing (relative to I(path)).
  returned: always
  type: list
  elements: str
  sample: [.git/index.lock]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.git_local import GitError, snapshot


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            commit_message=dict(type="str", required=True),
            date=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if not module.get_bin_path("git"):
        module.fail_json(msg="git is not installed on this host (needed for %s)" % module.params["path"])
    try:
        result = snapshot(module.params["path"], module.params["commit_message"], module.params["date"], check_mode=module.check_mode)
    except (GitError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (module.params["path"], exc))
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
