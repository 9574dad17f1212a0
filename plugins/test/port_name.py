# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: port_name
short_description: Is the value a usable zopen port name
version_added: "0.1.0"
description:
  - True when the value is a string of letters, digits, C(.), C(_), C(+) or C(-) that starts
    with a letter or digit and is at most 100 characters long.
  - The harvest and mine roles check each port's name with it before the name becomes part of
    a path on the controller or the build host.
author:
  - autoport.zos contributors (@autoport)
options:
  _input:
    description: The port name to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a port whose name cannot be a folder name
  ansible.builtin.assert:
    that: port.name is autoport.zos.port_name
"""

RETURN = r"""
_value:
  description: Whether the value is a usable port name.
  type: bool
"""

from ansible_collections.autoport.zos.plugins.module_utils.port_options import is_port_name


class TestModule(object):
    def tests(self):
        return {"port_name": is_port_name}
