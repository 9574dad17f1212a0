# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options of plugins/module_utils/port_options.py (port_argument_spec), shared by
    # the modules that read a zopen port repository.
    DOCUMENTATION = r"""
options:
  port_dir:
    description: A port repository checkout (the folder that holds C(buildenv) and the patch folders). Only read.
    type: path
    required: true
  port:
    description: Port name stored in each record. Defaults to the base name of I(port_dir).
    type: str
  build_line:
    description:
      - Build line whose patch folder (and, for C(patch_replay), source) is used. C(auto) takes
        C(ZOPEN_BUILD_LINE) from the buildenv, defaulting to C(STABLE).
    type: str
    default: auto
    choices: [auto, STABLE, DEV]
  port_commit:
    description:
      - Commit of the port repository the patches come from, stored in each record.
      - When omitted and I(port_dir) is a git checkout, its C(HEAD) commit is used.
    type: str
"""
