# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller half of the stand-in zos_unarchive.

Like the real action plugin: with remote_src the module runs on the managed
node's archive; otherwise the controller archive (resolved against the current
directory) is sent in binary to a remote temp file from ansible.builtin.tempfile
and the module unpacks that file, so without dest the files land in the temp
file's directory, as on z/OS. The temp archive is removed afterwards. Nothing
here looks at check mode: the real module unpacks even in check mode
(a controller archive still fails there, because ansible.builtin.tempfile
skips in check mode, as with the real plugin).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.ibm.ibm_zos_core.plugins.plugin_utils.standin_action import (
    lint_entry_point, process_boolean,
)

MODULE = "ibm.ibm_zos_core.zos_unarchive"
main = lint_entry_point("zos_unarchive")


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        if result.get("skipped"):
            return result
        module_args = self._task.args.copy()
        try:
            if process_boolean(module_args.get("remote_src")):
                result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
                return result
            source = module_args.get("src")
            if not source:
                result.update(failed=True, changed=False, msg="src is required")
                return result
            local_archive = os.path.realpath(os.path.expanduser(source))
            if not os.path.isfile(local_archive):
                result.update(failed=True, changed=False, msg="{0} does not exists, please provide a valid src."
                              .format(local_archive))
                return result
            temp_result = self._execute_module(
                module_name="ansible.builtin.tempfile",
                module_args=dict(state="file", suffix="." + os.path.basename(local_archive)),
                task_vars=task_vars,
            )
            remote_archive = temp_result.get("path")
            if temp_result.get("failed") or not remote_archive:
                reason = " (ansible.builtin.tempfile does not run in check mode)" if self._task.check_mode else ""
                result.update(failed=True, changed=False,
                              msg="An error ocurred while trying to create a tempfile for the archive%s." % reason)
                return result
            try:
                self._transfer_file(local_archive, remote_archive)
                self._fixup_perms2([remote_archive])
                module_args["src"] = remote_archive
                result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
            finally:
                self._low_level_execute_command("rm -f %s" % shlex.quote(remote_archive))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
