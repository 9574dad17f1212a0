# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The options every module that reads a zopen port repository shares, and the port-name rule.

One argument spec for C(port_dir), C(port), C(build_line) and C(port_commit), used by
C(patch_replay) and C(patch_mine) the way kubernetes.core shares C(args_common.py); the
matching documentation is the C(autoport.zos.port) doc fragment. C(PORT_NAME) is the rule
the harvest and mine roles check a port's name against (through the C(autoport.zos.port_name)
test) before the name becomes part of a path. Standard library only.
"""

from __future__ import annotations

import copy
import re

BUILD_LINES = ["auto", "STABLE", "DEV"]

# Letters, digits, '.', '_', '+', '-'; starts with a letter or digit; at most 100 characters.
PORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")

_PORT_ARGUMENT_SPEC = dict(
    port_dir=dict(type="path", required=True),
    port=dict(type="str"),
    build_line=dict(type="str", default="auto", choices=BUILD_LINES),
    port_commit=dict(type="str"),
)


def port_argument_spec(**more: dict) -> dict:
    """A fresh copy of the shared port options, updated with the module's own options."""
    spec = copy.deepcopy(_PORT_ARGUMENT_SPEC)
    spec.update(more)
    return spec


def is_port_name(value: object) -> bool:
    """True when value is a string that follows the port-name rule."""
    return isinstance(value, str) and PORT_NAME.match(value) is not None
