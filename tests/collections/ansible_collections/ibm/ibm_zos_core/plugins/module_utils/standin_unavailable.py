# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Modules with no meaning on a POSIX host, plus zos_ping.

Their options are validated exactly (in build_module); then they fail with a
clear "not available" message. In check mode they return what the real module
returns when it skips its work (zos_data_set, zos_mvs_raw), and they still fail
where the real module runs even in check mode (zos_tso_command, zos_job_submit,
zos_job_output). Modules without check mode support never get here in check
mode: AnsibleModule skips them, as it does the real ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import fail_unavailable

NEEDS = {
    "zos_data_set": "MVS data sets (catalog, DFSMS)",
    "zos_mvs_raw": "MVS programs and DD allocation",
    "zos_operator": "the z/OS operator console",
    "zos_tso_command": "TSO/E",
    "zos_job_submit": "JES to run JCL",
    "zos_job_output": "the JES spool",
    "zos_find": "the MVS catalog (it finds data sets)",
}

# What the real module returns in check mode before doing any work.
CHECK_MODE_RESULTS = {
    "zos_data_set": dict(changed=False),
    "zos_mvs_raw": dict(changed=True, dd_names=[], ret_code=dict(code=0)),
}


def unavailable(module_name):
    """A run function for build_module/run_and_exit that never does any work."""
    def run(module):
        if module.check_mode and module_name in CHECK_MODE_RESULTS:
            return dict(CHECK_MODE_RESULTS[module_name])
        fail_unavailable(module_name, module.standin_version, NEEDS[module_name])
    return run


def run_ping(module):
    return dict(changed=False, ping="pong")
