# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller-side helpers shared by the stand-in's action plugins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex

from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import build_module


def process_boolean(value, default=False):
    """Boolean of a raw task argument; default when it is unset or not a boolean."""
    try:
        return boolean(value)
    except TypeError:
        return default


def first_arg(args, *names):
    """The first of several task argument names (2.0 name, then 1.16 name) that is set."""
    for name in names:
        if args.get(name) is not None:
            return args[name]
    return None


NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def masked_args(args, secret_names=("content",)):
    """Task arguments safe to echo back: values of no_log options replaced."""
    return dict((key, NO_LOG_PLACEHOLDER if key in secret_names and value is not None else value)
                for key, value in args.items())


def lint_entry_point(module_name):
    """main() for an action plugin file.

    ansible-lint's args rule loads the action plugin (not the module) when both
    exist and only validates options when the file has main(); this validates
    the task's options exactly as the stand-in module would.
    """
    def main():
        build_module(module_name)
    return main


def transfer_tree(action, local_path, remote_path):
    """Put a controller file or directory tree at remote_path; return the remote files.

    Raises OSError (with the remote path) when the managed node refuses.
    """
    join = action._connection._shell.join_path
    directories = [os.path.dirname(remote_path)]
    files = []
    if os.path.isdir(local_path):
        directories.append(remote_path)
        for root, dirs, names in os.walk(local_path):
            relative_root = os.path.relpath(root, local_path)
            directories.extend(join(remote_path, relative_root, name) for name in sorted(dirs))
            files.extend((os.path.join(root, name), join(remote_path, relative_root, name)) for name in sorted(names))
    else:
        files.append((local_path, remote_path))
    command = "mkdir -p " + " ".join(shlex.quote(os.path.normpath(path)) for path in directories)
    made = action._low_level_execute_command(command)
    if made.get("rc") != 0:
        raise OSError("cannot create %s on the managed node: %s" % (remote_path, made.get("stderr")))
    remote_files = []
    try:
        for local_file, remote_file in files:
            remote_files.append(action._transfer_file(local_file, os.path.normpath(remote_file)))
    except AnsibleError as err:
        raise OSError(str(err))
    if remote_files:
        action._fixup_perms2(remote_files, execute=False)
    return remote_files
