# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller half of the stand-in zos_job_submit.

The real plugin sends a controller JCL file to the managed node when
remote_src is false; JES does not exist here, so this plugin only runs the
module, which validates the options and reports that it is not available.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.ibm.ibm_zos_core.plugins.plugin_utils.standin_action import lint_entry_point

MODULE = "ibm.ibm_zos_core.zos_job_submit"
main = lint_entry_point("zos_job_submit")


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        result.update(self._execute_module(module_name=MODULE, module_args=self._task.args.copy(),
                                           task_vars=task_vars or {}))
        return result
