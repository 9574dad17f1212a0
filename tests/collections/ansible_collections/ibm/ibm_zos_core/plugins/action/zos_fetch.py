# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Controller half of the stand-in zos_fetch.

Like the real action plugin: a relative dest is taken from the current
directory; without flat the file lands in dest/<inventory_hostname>/<src path>;
with flat a dest ending in / receives the file's base name; changed compares
checksums unless binary (binary is always changed). The module converts into a
remote temp file, which is removed after the transfer.
Deliberate differences: binary with encoding is refused before anything runs
(on z/OS it deletes the source), and only the module's own temp file is ever
removed from the managed node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shlex
import tempfile

from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_fetch import (
    TEMP_PREFIX, binary_and_encoding_message,
)
from ansible_collections.ibm.ibm_zos_core.plugins.plugin_utils.standin_action import (
    first_arg, lint_entry_point, process_boolean,
)

MODULE = "ibm.ibm_zos_core.zos_fetch"
main = lint_entry_point("zos_fetch")


def local_sha256(path):
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(64 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class ActionModule(ActionBase):

    def _fail(self, result, msg, **extra):
        result.update(extra)
        result.update(changed=False, failed=True, msg=msg)
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._task.args.copy()
        src = args.get("src")
        dest = args.get("dest")
        encoding = args.get("encoding")
        flat = process_boolean(args.get("flat"), default=False)
        fail_on_missing = process_boolean(args.get("fail_on_missing"), default=True)
        binary = process_boolean(first_arg(args, "binary", "is_binary"), default=False)
        validate_checksum = process_boolean(args.get("validate_checksum"), default=True)

        if src is None or dest is None:
            return self._fail(result, "Source and destination are required")
        if not isinstance(src, string_types):
            return self._fail(result, "Invalid type supplied for 'source' option, value must be a string")
        if not isinstance(dest, string_types):
            return self._fail(result, "Invalid type supplied for 'destination' option, value must be a string")
        if not src or not dest:
            return self._fail(result, "Source and destination parameters must not be empty")
        if binary and encoding:
            # The real plugin's cleanup would delete the source here; refuse instead.
            return self._fail(result, binary_and_encoding_message(src), src=src, dest=dest, binary=binary)

        if not dest.startswith("/"):
            dest = os.path.realpath(os.path.expanduser(dest)) + ("/" if dest.endswith("/") else "")
        args["dest"] = dest
        fetch_res = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if fetch_res.get("skipped") or fetch_res.get("failed"):
            result.update(fetch_res)
            return result
        if "No data was fetched." in (fetch_res.get("msg") or ""):
            result.update(fetch_res)
            if fail_on_missing:
                result["failed"] = True
            return result

        remote_path = fetch_res.get("remote_path")
        try:
            return self._transfer(result, fetch_res, src, dest, flat, binary, validate_checksum, task_vars)
        finally:
            self._remove_module_temp(remote_path, src)

    def _local_dest(self, src, dest, flat, task_vars):
        if flat:
            if os.path.isdir(dest) and not dest.endswith(os.sep):
                raise ValueError("dest is an existing directory, append a forward slash to the dest if you want "
                                 "to fetch src into that directory")
            if dest.endswith(os.sep):
                dest = os.path.join(dest, os.path.basename(src))
            return dest.replace("//", "/")
        target_name = task_vars.get("inventory_hostname") or self._play_context.remote_addr
        return "{0}/{1}/{2}".format(dest.rstrip("/"), target_name, src.lstrip("/")).replace("//", "/")

    def _transfer(self, result, fetch_res, src, dest, flat, binary, validate_checksum, task_vars):
        for key in ("src", "binary", "msg", "stdout", "stderr", "stdout_lines", "stderr_lines", "rc", "encoding"):
            if key in fetch_res:
                result[key] = fetch_res[key]
        try:
            local_dest = self._local_dest(src, dest, flat, task_vars)
            parent = os.path.dirname(local_dest)
            if parent and not os.path.isdir(parent):
                os.makedirs(parent)
        except (ValueError, OSError) as err:
            return self._fail(result, str(err), dest=dest)

        before = local_sha256(local_dest)
        fd, temp_local = tempfile.mkstemp(prefix=".standin-fetch-", dir=os.path.dirname(local_dest) or ".")
        os.close(fd)
        try:
            self._connection.fetch_file(fetch_res["remote_path"], temp_local)
            # mkstemp makes 0600; give the file the mode a plain new file would get.
            os.chmod(temp_local, 0o666 & ~current_umask())
            os.replace(temp_local, local_dest)
        except Exception as err:  # connection plugins raise their own error types
            if os.path.exists(temp_local):
                os.remove(temp_local)
            return self._fail(result, "Error transferring remote data from z/OS system", stderr=str(err),
                              dest=local_dest)
        after = local_sha256(local_dest)
        if validate_checksum and not binary:
            result["changed"] = before != after
            result["checksum"] = after
        else:
            result["changed"] = True
        result.update(src=fetch_res.get("src", src), dest=local_dest, binary=binary, data_set_type="USS")
        return result

    def _remove_module_temp(self, remote_path, src):
        # Only a converted copy made by the module goes; never the source itself.
        if not remote_path or remote_path == src or not os.path.basename(remote_path).startswith(TEMP_PREFIX):
            return
        self._low_level_execute_command("rm -f %s" % shlex.quote(remote_path))
