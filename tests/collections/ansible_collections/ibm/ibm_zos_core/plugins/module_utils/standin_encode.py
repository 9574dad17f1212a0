# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Stand-in zos_encode for USS files and directories.

Mirrored: defaults IBM-1047 -> ISO8859-1; fails when from == to; converts again
on every run (not idempotent, always changed); tags dest with the target code
set; failure messages are repr() of the error, as the real module reports them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tarfile
import time

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_codecs, standin_tags
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_files import is_uss_path
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import StandinFailure, fail_unavailable


class EncodeError(Exception):
    """Error during encoding (named like the real module's so repr() reads the same)."""

    def __init__(self, message):
        self.msg = message
        super(EncodeError, self).__init__(message)


def _backup(dest, backup_name, compress):
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    if compress:
        target = backup_name or "{0}.{1}-bak.tar".format(dest, stamp)
        with tarfile.open(target, "w:gz") as archive:
            archive.add(dest, os.path.basename(dest))
        return target
    target = backup_name or "{0}.{1}-bak".format(dest, stamp)
    if os.path.isdir(dest):
        shutil.copytree(dest, target, symlinks=True)
    else:
        shutil.copy2(dest, target)
    return target


def _convert(src, dest, from_codeset, to_codeset):
    if os.path.isdir(src):
        for root, _dirs, files in os.walk(src):
            for name in files:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, src)
                target = os.path.join(dest, relative)
                parent = os.path.dirname(target)
                if not os.path.isdir(parent):
                    os.makedirs(parent)
                standin_codecs.convert_file(path, target, from_codeset, to_codeset)
    else:
        standin_codecs.convert_file(src, dest, from_codeset, to_codeset)


def run_encode(module):
    params = module.params
    version = module.standin_version
    encoding = params.get("encoding") or {}
    from_encoding = (encoding.get("from") or "IBM-1047").upper()
    to_encoding = (encoding.get("to") or "ISO8859-1").upper()
    src = params["src"]
    dest = params.get("dest") or src
    result = dict(changed=False, src=src, dest=dest, encoding={"from": from_encoding, "to": to_encoding},
                  backup_name=None)
    if not is_uss_path(src) or not is_uss_path(dest):
        fail_unavailable("zos_encode", version, "MVS data sets (src %s, dest %s)" % (src, dest))
    try:
        if not os.path.exists(src):
            raise EncodeError("File {0} does not exist.".format(src))
        for name, value in (("from_encoding", from_encoding), ("to_encoding", to_encoding)):
            try:
                standin_codecs.python_codec(value)
            except standin_codecs.CodesetError:
                raise EncodeError("Invalid codeset: Please check the value of the {0}!".format(name))
        if from_encoding == to_encoding:
            raise EncodeError("The value of the from_encoding and to_encoding are the same, "
                              "no need to do the conversion!")
        if os.path.isfile(src) and (dest.endswith("/") or os.path.isdir(dest)):
            dest = os.path.join(dest, os.path.basename(src))
        if params.get("backup") and os.path.exists(dest):
            result["backup_name"] = _backup(dest, params.get("backup_name"), params.get("backup_compress"))
        _convert(src, dest, from_encoding, to_encoding)
        standin_tags.set_tag(dest, to_encoding)
    except (EncodeError, standin_codecs.ConversionError, OSError) as err:
        raise StandinFailure(repr(err), **result)
    result.update(dest=dest, changed=True)
    return result
