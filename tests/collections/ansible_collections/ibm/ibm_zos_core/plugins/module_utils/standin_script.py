# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Remote half of the stand-in zos_script, following the real module step by step.

Pitfall kept on purpose: the real module fails when the script wrote anything to
stderr, even with rc 0 ("The script terminated with an error"). Use failed_when
on rc. stdout_lines/stderr_lines are split on "\\n" exactly as the real module
does (so they end with an empty string).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import stat

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import StandinFailure

TEMP_PREFIX = "zos_script."


def run_script(module):
    params = module.params
    cmd_str = params["cmd"]
    try:
        cmd_parts = shlex.split(cmd_str)
    except ValueError as err:
        raise StandinFailure("The command could not be validated, please check that it conforms to shell syntax: %s" % err)
    if not cmd_parts:
        raise StandinFailure("The command could not be validated, please check that it conforms to shell syntax.")
    script_path = cmd_parts[0]
    chdir = params.get("chdir")
    executable = params.get("executable")
    creates = params.get("creates")
    removes = params.get("removes")
    remote_src = params.get("remote_src")
    # A local script arrives as a temp copy made by the action plugin; it is ours to remove.
    # The prefix check keeps a hand-run module from deleting a user's own script.
    is_action_temp = os.path.basename(script_path).startswith(TEMP_PREFIX)
    temp_file = script_path if not remote_src and is_action_temp else None

    try:
        if creates and os.path.exists(creates):
            return dict(changed=False, skipped=True,
                        msg="File {0} already exists on the system, skipping script".format(creates))
        if removes and not os.path.exists(removes):
            return dict(changed=False, skipped=True,
                        msg="File {0} is already missing on the system, skipping script".format(removes))
        if chdir and not os.path.exists(chdir):
            raise StandinFailure("The script terminated with an error: The given chdir {0} does not exist on the system."
                                 .format(chdir), changed=False)
        if remote_src and not os.path.exists(script_path):
            raise StandinFailure("File {0} does not exist on the system, skipping script".format(script_path),
                                 changed=False, skipped=True)

        script_permissions = None
        if not os.access(script_path, os.X_OK):
            try:
                script_permissions = os.lstat(script_path).st_mode
                os.chmod(script_path, script_permissions | stat.S_IXUSR)
            except OSError:
                raise StandinFailure("The script terminated with an error: User running Ansible does not have "
                                     "permission to run script {0}.".format(script_path), changed=False)

        if executable:
            cmd_str = "{0} {1}".format(executable, cmd_str)
        cmd_str = cmd_str.strip()
        script_rc, stdout, stderr = module.run_command(cmd_str, cwd=chdir, errors="replace")
        result = dict(
            changed=True,
            cmd=params["cmd"],
            remote_cmd=cmd_str,
            rc=script_rc,
            stdout=stdout,
            stderr=stderr,
            stdout_lines=stdout.split("\n"),
            stderr_lines=stderr.split("\n"),
        )
        if script_permissions is not None and os.path.exists(script_path):
            os.chmod(script_path, script_permissions)
        if script_rc != 0 or stderr:
            raise StandinFailure("The script terminated with an error", **result)
        return result
    finally:
        if temp_file is not None and os.path.isfile(temp_file):
            os.remove(temp_file)
