# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller half of the stand-in zos_script, following the real action plugin.

A local script is put in a remote temp file made by ansible.builtin.tempfile
(prefix zos_script.), copied there through the zos_copy action (text copy,
replace), and the command is rewritten to run that copy; the module removes it
afterwards. With remote_src the command runs as given. On success cmd is the
user's command and tempfile_path the copy that ran.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
from os import path

from ansible.plugins.action import ActionBase

from ansible_collections.ibm.ibm_zos_core.plugins.plugin_utils.standin_action import (
    lint_entry_point, process_boolean,
)

MODULE = "ibm.ibm_zos_core.zos_script"
main = lint_entry_point("zos_script")


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        if result.get("skipped"):
            return result
        module_args = self._task.args.copy()
        try:
            cmd_parts = shlex.split(module_args.get("cmd") or "")
        except ValueError:
            cmd_parts = []
        if not cmd_parts:
            result.update(changed=False, failed=True, invocation=dict(module_args=self._task.args),
                          msg="The command could not be validated, please check that it conforms to shell syntax.")
            return result

        script_path = cmd_parts[0]
        script_args = " ".join(shlex.quote(part) for part in cmd_parts[1:])
        remote_src = process_boolean(module_args.get("remote_src"))
        user_cmd = tempfile_path = None

        if not remote_src:
            script_path = path.abspath(path.normpath(script_path))
            tempfile_result = self._execute_module(
                module_name="ansible.builtin.tempfile",
                module_args=dict(state="file", path=self._connection._shell._options.get("remote_tmp"),
                                 prefix="zos_script.", suffix=".{0}".format(path.basename(script_path))),
                task_vars=task_vars,
            )
            result.update(tempfile_result)
            if not result.get("changed") or result.get("failed"):
                result.update(changed=False, failed=True, invocation=dict(module_args=self._task.args),
                              msg="An error ocurred while trying to create a tempfile for the script.")
                return result
            tempfile_path = tempfile_result.get("path")

            copy_task = self._task.copy()
            copy_task.args = dict(src=script_path, dest=tempfile_path, replace=True, binary=False,
                                  encoding=module_args.get("encoding"),
                                  use_template=module_args.get("use_template", False),
                                  template_parameters=module_args.get("template_parameters") or {})
            copy_task.async_val = 0
            copy_action = self._shared_loader_obj.action_loader.get(
                "ibm.ibm_zos_core.zos_copy", task=copy_task, connection=self._connection,
                play_context=self._play_context, loader=self._loader, templar=self._templar,
                shared_loader_obj=self._shared_loader_obj)
            copy_result = copy_action.run(task_vars=task_vars)
            result.update(copy_result)
            if not result.get("changed") or result.get("failed"):
                result.update(changed=False, failed=True, invocation=dict(module_args=self._task.args),
                              msg="An error ocurred while trying to copy the script to the managed node: {0}."
                                  .format(copy_result.get("msg")))
                self._low_level_execute_command("rm -f %s" % shlex.quote(tempfile_path))
                return result
            # Shadow the user's command with the remote copy, as the real plugin does.
            user_cmd = module_args.get("cmd")
            module_args["cmd"] = "{0} {1}".format(tempfile_path, script_args).strip()

        result = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        if result.get("changed") and tempfile_path:
            result["tempfile_path"] = tempfile_path
            result["cmd"] = user_cmd
        return result
