# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Remote half of the stand-in zos_fetch: prepare a USS file for the controller.

Mirrored from the real module: without binary the file is converted, by default
from the node's charset IBM-1047 to the controller's UTF-8, whatever its tag says
(so ASCII logs come back garbled, as on z/OS). The converted copy is a temp file
that the action plugin removes after the transfer; with binary the file itself
is sent.
Deliberate difference: binary together with encoding is refused. On z/OS that
combination makes the action plugin's cleanup delete the source file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_codecs
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_files import is_uss_path
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import (
    StandinFailure, fail_unavailable, param,
)

DEFAULT_FROM = "IBM-1047"
DEFAULT_TO = "UTF-8"
TEMP_PREFIX = "ansible-zos-fetch-standin-"


def binary_and_encoding_message(src):
    return (
        "zos_fetch stand-in refuses binary: true together with encoding for {0}: on z/OS this "
        "combination makes the real zos_fetch delete the source file after the transfer. "
        "Fetch with binary: true alone and decode on the controller, or give encoding without "
        "binary. Nothing was fetched or removed.".format(src)
    )


def fetch_binary(params):
    return bool(param(params, "binary", "is_binary", default=False))


def is_fetch_temp(path):
    """True for a converted copy made by prepare_fetch (the only thing ever removed)."""
    name = os.path.basename(path or "")
    return name.startswith(TEMP_PREFIX) and os.path.dirname(os.path.abspath(path)) == tempfile.gettempdir()


def run_fetch(module):
    params = module.params
    version = module.standin_version
    src = params["src"]
    binary = fetch_binary(params)
    encoding = params.get("encoding")
    if binary and encoding:
        raise StandinFailure(binary_and_encoding_message(src), changed=False)
    if not is_uss_path(src):
        fail_unavailable("zos_fetch", version, "MVS data sets (%s)" % src)

    result = dict(src=src, dest=params.get("dest"), binary=binary, checksum="", changed=False,
                  data_set_type="USS", ds_type="USS", remote_path="", msg="", stdout="", stderr="",
                  stdout_lines=[], stderr_lines=[], rc=0,
                  encoding=dict(encoding) if encoding else {"from": None, "to": None})
    if not os.path.exists(src):
        if params.get("fail_on_missing"):
            raise StandinFailure("The source '{0}' does not exist or is uncataloged.".format(src))
        result["msg"] = "Source '{0}' was not found. No data was fetched.".format(src)
        return result
    if os.path.isdir(src):
        raise StandinFailure("The source '{0}' is a directory; zos_fetch fetches files and data sets.".format(src))
    if not os.access(src, os.R_OK):
        raise StandinFailure("File '{0}' does not have appropriate read permission".format(src))

    if binary:
        result["remote_path"] = src
        return result

    from_codeset = (encoding or {}).get("from") or DEFAULT_FROM
    to_codeset = (encoding or {}).get("to") or DEFAULT_TO
    result["encoding"] = {"from": from_codeset, "to": to_codeset}
    fd, temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=tempfile.gettempdir())
    os.close(fd)
    try:
        standin_codecs.convert_file(src, temp_path, from_codeset, to_codeset)
    except (standin_codecs.CodesetError, standin_codecs.ConversionError, OSError) as err:
        os.remove(temp_path)
        raise StandinFailure(
            "An error occured while converting encoding of the file {0} from {1} to {2}".format(
                src, from_codeset, to_codeset),
            stderr=str(err), stderr_lines=str(err).splitlines())
    result["remote_path"] = temp_path
    return result
