#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: port_pack
short_description: Pack a port repo into a reproducible tar
version_added: "0.1.0"
description:
  - Packs a directory (a zopen port repo) into a tar whose bytes depend only on the
    names, modes and content of its files, so an unchanged port gives a byte-identical
    tar and the transfer to a z/OS host can be skipped.
  - C(.git) folders are left out; a symbolic link that points outside the directory is refused.
author:
  - autoport.zos contributors (@autoport)
options:
  src:
    description: The directory to pack.
    type: path
    required: true
  dest:
    description: The tar file to write (replaced only when its content differs).
    type: path
    required: true
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.posix
attributes:
  check_mode:
    details: Reports whether the tar would change without writing it.
  diff_mode:
    details: No diff is returned.
  platform:
    details: Runs on the controller or any POSIX host.
seealso:
  - module: autoport.zos.patch_replay
    description: "Next, on the build host: replays the packed port's patches (harvest stage)."
"""

EXAMPLES = r"""
- name: Pack a port for a z/OS host
  autoport.zos.port_pack:
    src: /srv/ports/zlibport
    dest: /srv/out/zlibport.tar
"""

RETURN = r"""
dest:
  description: The tar file.
  returned: always
  type: str
checksum:
  description: SHA-1 of the tar's bytes.
  returned: always
  type: str
size:
  description: Size of the tar in bytes.
  returned: always
  type: int
commit:
  description:
    - C(HEAD) commit of I(src) when it is a git checkout, else null. The tar leaves C(.git) out,
      so this is what C(autoport.zos.patch_replay) gets as I(port_commit) on the far side.
  returned: always
  type: str
  sample: 3f2c9a1e5b7d4c6a8e0f1b2d3c4e5f6a7b8c9d0e
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.autoport.zos.plugins.module_utils.port_pack import PortPackError, pack_port


def main():
    module = AnsibleModule(
        argument_spec=dict(src=dict(type="path", required=True), dest=dict(type="path", required=True)),
        supports_check_mode=True,
    )
    try:
        result = pack_port(module.params["src"], module.params["dest"], check_mode=module.check_mode)
    except (PortPackError, OSError) as exc:
        module.fail_json(msg="cannot pack %s: %s" % (module.params["src"], exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
