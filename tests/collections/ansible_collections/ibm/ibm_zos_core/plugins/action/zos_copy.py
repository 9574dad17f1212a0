# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller half of the stand-in zos_copy.

Like the real action plugin: a controller source (file, directory or content)
is resolved against the current directory (not a role's files/), put in a
remote temp directory, and the module is run with src pointing there; the
original src is reported back. Check mode: the module is only asked to
validate its options, and skips (the real module has no check mode).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import tempfile

from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase

from ansible_collections.ibm.ibm_zos_core.plugins.plugin_utils.standin_action import (
    first_arg, lint_entry_point, masked_args, process_boolean, transfer_tree,
)

MODULE = "ibm.ibm_zos_core.zos_copy"
main = lint_entry_point("zos_copy")


def render_templates(src, template_parameters, template_vars, work_dir):
    """Render a controller file or directory with Jinja2 as the real use_template does."""
    import jinja2

    params = dict(template_parameters or {})
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.dirname(src) if os.path.isfile(src) else src),
        variable_start_string=params.get("variable_start_string") or "{{",
        variable_end_string=params.get("variable_end_string") or "}}",
        block_start_string=params.get("block_start_string") or "{%",
        block_end_string=params.get("block_end_string") or "%}",
        comment_start_string=params.get("comment_start_string") or "{#",
        comment_end_string=params.get("comment_end_string") or "#}",
        line_statement_prefix=params.get("line_statement_prefix"),
        line_comment_prefix=params.get("line_comment_prefix"),
        lstrip_blocks=process_boolean(params.get("lstrip_blocks"), False),
        trim_blocks=process_boolean(params.get("trim_blocks"), True),
        keep_trailing_newline=process_boolean(params.get("keep_trailing_newline"), False),
        newline_sequence=params.get("newline_sequence") or "\n",
        autoescape=process_boolean(params.get("autoescape"), True),
        auto_reload=process_boolean(params.get("auto_reload"), False),
    )
    if os.path.isfile(src):
        names = [os.path.basename(src)]
        target_root = work_dir
    else:
        target_root = os.path.join(work_dir, os.path.basename(src.rstrip("/")))
        names = [os.path.relpath(os.path.join(root, name), src)
                 for root, _dirs, files in os.walk(src) for name in files]
    for name in names:
        target = os.path.join(target_root, name)
        if not os.path.isdir(os.path.dirname(target)):
            os.makedirs(os.path.dirname(target))
        with open(target, "w") as handle:
            handle.write(environment.get_template(name.replace(os.sep, "/")).render(template_vars))
    return os.path.join(work_dir, names[0]) if os.path.isfile(src) else target_root


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def _fail(self, result, msg):
        result.update(changed=False, failed=True, msg=msg, invocation=dict(module_args=masked_args(self._task.args)))
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._task.args.copy()
        src = args.get("src")
        dest = args.get("dest")
        content = args.get("content")
        remote_src = process_boolean(args.get("remote_src"))
        binary = process_boolean(first_arg(args, "binary", "is_binary"))
        encoding = args.get("encoding")
        mode = args.get("mode")

        if not dest:
            return self._fail(result, "Destination is required")
        if not isinstance(dest, string_types):
            return self._fail(result, "Invalid type supplied for 'dest' option, it must be a string")
        if src and content is not None:
            return self._fail(result, "Either 'src' or 'content' can be provided; not both.")
        if src is not None and not isinstance(src, string_types):
            return self._fail(result, "Invalid type supplied for 'src' option, it must be a string")
        if not src and content is None:
            return self._fail(result, "'src' or 'content' is required")
        if encoding and binary:
            return self._fail(result, "The 'encoding' parameter is not valid for binary transfer")
        if not process_boolean(args.get("backup")) and args.get("backup_name") is not None:
            return self._fail(result, "Backup file provided but 'backup' parameter is False")
        use_template = process_boolean(args.get("use_template"))
        if remote_src and use_template:
            return self._fail(result, "Use of Jinja2 templates is only valid for local files, remote_src cannot be "
                                      "set to true.")
        if "/" not in dest and (mode or args.get("owner") or args.get("group")):
            return self._fail(result, "Cannot specify 'mode', 'owner' or 'group' for MVS destination")

        if self._task.check_mode or remote_src:
            # Check mode: the module validates its options, then skips as the real one does.
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            if not self._task.check_mode:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        work_dir = tempfile.mkdtemp(prefix="standin-zos-copy-controller-")
        try:
            if content is not None:
                local_src = os.path.join(work_dir, "inline_copy")
                with open(local_src, "w") as handle:
                    handle.write(content)
            else:
                local_src = os.path.realpath(os.path.expanduser(src))
                if not os.path.exists(local_src):
                    return self._fail(result, "The local file {0} does not exist".format(local_src))
                if not os.access(local_src, os.R_OK):
                    return self._fail(result, "The local file {0} does not have appropriate read permission"
                                      .format(local_src))
                if mode == "preserve" and os.path.isfile(local_src):
                    args["mode"] = "0{0:o}".format(stat.S_IMODE(os.stat(local_src).st_mode))
                if use_template:
                    try:
                        local_src = render_templates(local_src, args.get("template_parameters"), task_vars, work_dir)
                    except Exception as err:  # Jinja2 raises many types; report them all the same way.
                        return self._fail(result, "Unable to render the template {0}: {1}".format(src, err))

            remote_dir = self._connection._shell.join_path(self._connection._shell.tmpdir, "ansible-zos-copy-payload")
            remote_src_path = self._connection._shell.join_path(remote_dir, os.path.basename(local_src.rstrip("/")))
            try:
                transfer_tree(self, local_src, remote_src_path)
            except OSError as err:
                return self._fail(result, "Error transferring source '{0}' to remote z/OS system: {1}".format(src, err))
            args["src"] = remote_src_path + ("/" if src and src.endswith("/") else "")
            copy_res = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)

        if src and copy_res.get("src"):
            # Report the controller path, not the temp copy.
            copy_res["src"] = src
        result.update(copy_res)
        return result
