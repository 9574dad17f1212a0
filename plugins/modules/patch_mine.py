#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patch_mine
short_description: Mine fix records from the patch files of a zopen port, without building it
version_added: "0.1.0"
description:
  - Reads the C(buildenv) of a z/OS Open Tools port repository (without running it) and picks
    the patch folder C(zopen build) would apply, C(ZOPEN_PATCH_DIR), else C(stable-patches/) or
    C(dev-patches/) for the build line, else C(patches/).
  - Reads every C(*.patch) file under that folder in sorted path order (git diffs, mailed
    patches and plain unified diffs) and makes one static fix record per hunk. C(.diff) files
    are not applied by C(zopen build) and are not read.
  - The JSONL file I(dest) then holds exactly those records as the port's records; the records
    of a patch edited or removed since the last run are gone. Records of other ports in the same
    file are kept. I(dest) is rewritten (temp file and rename) only when its bytes change, so a
    second run with the same inputs reports C(changed=false).
  - A static record has an empty C(error) (no error text is ever invented) and an
    C(error_category) inferred from what the hunk does.
  - The mine stage is the one source of C(provenance=static) records; M(autoport.zos.patch_replay)
    (harvest stage) writes build-proven records only. Mine the ports you harvest to get the
    hunks no build error points at; M(autoport.zos.dataset_curate) lets a build record replace
    the static record of its hunk.
  - A patch that cannot be read (empty, truncated, binary, paths that are absolute or leave
    the source tree) is listed in C(left_out) with the reason; the other patches are still mined.
author:
  - autoport.zos contributors (@autoport)
options:
  dest:
    description: The JSONL file of the port's records. Created with its parent folders when absent.
    type: path
    required: true
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.zos
  - autoport.zos.port
attributes:
  check_mode:
    details: Reads and counts everything but writes nothing; C(changed) says whether I(dest) would change.
  diff_mode:
    details: Not supported; the records written and removed are counted in the result.
  platform:
    details: Runs on the controller or on a z/OS UNIX host (standard library Python only).
seealso:
  - module: autoport.zos.patch_replay
    description: "Beside it: build-proven records from real builds (harvest stage), no static ones."
  - module: autoport.zos.dataset_curate
    description: "Next: merges, scrubs, deduplicates and splits the records (curate stage)."
"""

EXAMPLES = r"""
- name: Mine the active patches of a port checkout
  autoport.zos.patch_mine:
    port_dir: /srv/ports/zlibport
    dest: /srv/out/records/zlibport.static.jsonl

- name: Mine the DEV line of a port at a known commit
  autoport.zos.patch_mine:
    port_dir: /srv/ports/bashport
    dest: /srv/out/records/bashport.static.jsonl
    build_line: DEV
    port: bash
    port_commit: 25af95a86b8b0df838308a52350e5f270b028f94
  register: mined

- name: Show patches that could not be read
  ansible.builtin.debug:
    var: mined.left_out
"""

RETURN = r"""
patch_dir:
  description: The patch folder that was mined, relative to I(port_dir); null when the port has none.
  returned: always
  type: str
  sample: stable-patches
build_line:
  description: The build line the folder was chosen for.
  returned: always
  type: str
  sample: STABLE
patch_files:
  description: Number of C(*.patch) files found in the patch folder.
  returned: always
  type: int
  sample: 29
parsed:
  description: Number of patch files read and turned into records.
  returned: always
  type: int
  sample: 28
left_out:
  description:
    - Patch files that gave no records, each with the reason.
    - Named C(left_out), not C(skipped), because Ansible reads a C(skipped) key in a result as
      "the task was skipped".
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The patch file, relative to I(port_dir).
      type: str
      sample: patches/client.c.patch
    reason:
      description: Why it was not mined.
      type: str
      sample: empty file, no patch in it
records:
  description: Number of records this port's patches give (new and already present).
  returned: always
  type: int
  sample: 153
written:
  description: Number of records this run added to I(dest), ids that were not there before (0 in check mode).
  returned: always
  type: int
  sample: 153
removed:
  description: Number of the port's records this run took out of I(dest), from patches edited or removed since.
  returned: always
  type: int
  sample: 0
toolchain:
  description: Compiler family from the buildenv C(ZOPEN_COMP) stored in the records.
  returned: always
  type: str
  sample: ibm-clang
port_commit:
  description: Port repository commit stored in the records, null when unknown.
  returned: always
  type: str
  sample: 25af95a86b8b0df838308a52350e5f270b028f94
warnings_found:
  description: Things worth knowing that did not stop the run (no buildenv, non-UTF-8 patches, CRLF).
  returned: always
  type: list
  elements: str
  sample: ["no buildenv in /srv/ports/foo; patch folder chosen by the default rules"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError
from ansible_collections.autoport.zos.plugins.module_utils.patch_read import PatchReadError
from ansible_collections.autoport.zos.plugins.module_utils.port_layout import PortLayoutError
from ansible_collections.autoport.zos.plugins.module_utils.port_options import port_argument_spec
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError
from ansible_collections.autoport.zos.plugins.module_utils.static_mine import mine_port


def argument_spec():
    # port_dir, port, build_line and port_commit come from the shared port options.
    return port_argument_spec(dest=dict(type="path", required=True))


def run_module():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        result = mine_port(
            params["port_dir"],
            params["dest"],
            build_line=params["build_line"],
            port=params["port"],
            check_mode=module.check_mode,
            port_commit=params["port_commit"],
        )
    except (PortLayoutError, PatchReadError, RecordError, OutputError) as exc:
        module.fail_json(msg=str(exc))
    except (OSError, UnicodeError) as exc:
        module.fail_json(msg="patch_mine %s -> %s: %s" % (params["port_dir"], params["dest"], exc))
    for text in result["warnings"][:10]:
        module.warn(text)
    module.exit_json(
        changed=result["changed"],
        patch_dir=result["patch_dir"],
        build_line=result["build_line"],
        patch_files=result["patch_files"],
        parsed=result["parsed"],
        left_out=result["left_out"],
        records=result["records"],
        written=result["written"],
        removed=result["removed"],
        toolchain=result["toolchain"],
        port_commit=result["port_commit"],
        warnings_found=result["warnings"],
    )


def main():
    run_module()


if __name__ == "__main__":
    main()
