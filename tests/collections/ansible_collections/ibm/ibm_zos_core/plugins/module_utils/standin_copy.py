# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Remote half of the stand-in zos_copy: USS file and directory copies.

The action plugin has already moved a controller source into a remote temp path
and passed that path as src. Mirrored from the real module: an existing dest
fails unless replace (1.16: force) is true; a replace with identical bytes is
changed=false; directories always report changed; text copies drop CR before LF;
checksum is returned only with validate (which compares dest with the bytes
meant to land there); encoding converts and tags dest.
Known difference: without encoding, the real module converts local text to
IBM-1047; the stand-in keeps the bytes (so POSIX tools can read them) but still
fails, like the real one, on data that would not convert (binary without
binary: true).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_codecs, standin_tags
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_files import (
    backup_path, file_sha256, is_uss_path, strip_carriage_returns, write_atomically_from,
)
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import (
    StandinFailure, fail_unavailable,
)

CONTROLLER_CHARSET = "UTF-8"
SYSTEM_CHARSET = "IBM-1047"


def copy_options(params, version):
    """Option values under their meaning, whichever interface named them."""
    if version == "1.16.0":
        binary = bool(params.get("is_binary"))
        replace = bool(params.get("force"))
        replace_name = "force"
    else:
        binary = bool(params.get("binary"))
        replace = bool(params.get("replace"))
        replace_name = "replace"
    return dict(binary=binary, replace=replace, replace_name=replace_name)


def _files_in(path):
    if os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for name in files:
                yield os.path.join(root, name)
    else:
        yield path


def _convert_tree(src, work_dir, from_codeset, to_codeset):
    """Converted copy of src (file or directory) under work_dir; returns its path."""
    target = os.path.join(work_dir, "converted")
    if os.path.isdir(src):
        shutil.copytree(src, target, symlinks=True)
    else:
        shutil.copy2(src, target)
    for path in _files_in(target):
        if os.path.islink(path):
            continue
        standin_codecs.convert_file(path, path, from_codeset, to_codeset)
    return target


def run_copy(module):
    params = module.params
    version = module.standin_version
    options = copy_options(params, version)
    binary, replace = options["binary"], options["replace"]
    src = params.get("src")
    dest = params["dest"]
    content = params.get("content")
    remote_src = bool(params.get("remote_src"))
    executable = bool(params.get("executable"))
    encoding = params.get("encoding")
    validate = bool(params.get("validate"))

    if not is_uss_path(dest):
        fail_unavailable("zos_copy", version, "MVS data sets as destination (%s)" % dest)
    if src and not is_uss_path(src):
        fail_unavailable("zos_copy", version, "MVS data sets as source (%s)" % src)
    if not src and content is None:
        raise StandinFailure("'src' or 'content' is required")
    if encoding and binary:
        raise StandinFailure("The 'encoding' parameter is not valid for binary transfer")
    if params.get("asa_text"):
        raise StandinFailure("Incompatible target type 'USS' for source 'USS'. "
                             "Neither the source or the destination are ASA text files.")
    if params.get("aliases") and not executable:
        raise StandinFailure("Alias support for text-based data sets is not available for USS sources (src) "
                             "or targets (dest). Try setting executable=True or aliases=False.")

    work_dir = tempfile.mkdtemp(prefix="standin-zos-copy-")
    try:
        return _copy(module, params, src, dest, content, remote_src, binary, replace, executable,
                     encoding, validate, options["replace_name"], work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _copy(module, params, src, dest, content, remote_src, binary, replace, executable,
          encoding, validate, replace_name, work_dir):
    if not src:
        src = os.path.join(work_dir, "inline_copy")
        with open(src, "w") as handle:
            handle.write(content)
    keep_trailing_slash = src.endswith("/")
    src = os.path.realpath(src) + ("/" if keep_trailing_slash else "")
    source_path = src.rstrip("/") or "/"
    if not os.path.exists(source_path):
        raise StandinFailure("Source {0} does not exist".format(params.get("src") or source_path))
    if not os.access(source_path, os.R_OK):
        raise StandinFailure("Source {0} is not readable".format(params.get("src") or source_path))
    is_src_dir = os.path.isdir(source_path)
    src_basename = "inline_copy" if content is not None and not params.get("src") else os.path.basename(source_path)

    if not is_src_dir and (dest.endswith("/") or os.path.isdir(dest)):
        dest = os.path.normpath(os.path.join(dest, src_basename))
    if is_src_dir and not keep_trailing_slash:
        final_dest = os.path.normpath(os.path.join(dest, src_basename)) if os.path.isdir(dest) else dest
    else:
        final_dest = dest
    dest_exists = os.path.exists(final_dest)
    if dest_exists and not os.access(final_dest, os.W_OK):
        raise StandinFailure("Destination {0} is not writable".format(final_dest))
    if dest_exists and not replace:
        raise StandinFailure(
            "{0} already exists on the system, unable to overwrite unless {1}=True is specified.".format(
                final_dest, replace_name),
            changed=False, dest=final_dest,
        )
    parent = os.path.dirname(final_dest.rstrip("/")) or "/"
    if not os.path.isdir(parent):
        os.makedirs(parent)

    backup_name = None
    if dest_exists and (params.get("backup") or params.get("backup_name")):
        backup_name = backup_path(final_dest, params.get("backup_name"))

    # Decide the bytes that land in dest.
    new_src = source_path
    to_codeset = None
    if encoding:
        to_codeset = encoding.get("to")
        if not to_codeset and not remote_src and not binary and not executable:
            to_codeset = SYSTEM_CHARSET
        if to_codeset:
            try:
                new_src = _convert_tree(source_path, work_dir, encoding["from"], to_codeset)
            except (standin_codecs.CodesetError, standin_codecs.ConversionError) as err:
                raise StandinFailure(str(err))
    elif not remote_src and not binary and not executable:
        # The real module converts controller text to IBM-1047 here; the stand-in
        # only proves the conversion would succeed.
        for path in _files_in(source_path):
            if os.path.islink(path):
                continue
            try:
                standin_codecs.check_convertible(path, CONTROLLER_CHARSET, SYSTEM_CHARSET)
            except standin_codecs.ConversionError:
                raise StandinFailure(
                    "Unable to convert encoding for {0} from {1} to {2}; set binary: true to copy "
                    "binary data".format(params.get("src") or path, CONTROLLER_CHARSET, SYSTEM_CHARSET))
    if not is_src_dir and not binary and not executable:
        stripped = os.path.join(work_dir, "no_cr")
        strip_carriage_returns(new_src, stripped)
        new_src = stripped

    original_checksum = file_sha256(final_dest) if dest_exists else None
    if is_src_dir:
        shutil.copytree(new_src, final_dest, symlinks=True, dirs_exist_ok=True)
    else:
        write_atomically_from(new_src, final_dest)
        if not dest_exists:
            shutil.copymode(source_path, final_dest)
        if executable:
            os.chmod(final_dest, os.stat(final_dest).st_mode | 0o111)
    if to_codeset:
        standin_tags.set_tag(final_dest, to_codeset)

    dest_checksum = file_sha256(final_dest)
    changed = (not dest_exists) or dest_checksum != original_checksum or os.path.isdir(final_dest)
    changed = _apply_file_attributes(module, params, source_path, final_dest, changed)

    result = dict(
        changed=changed,
        src=params.get("src") or source_path,
        dest=final_dest,
        ds_type="USS",
        dest_exists=dest_exists,
        dest_created=not dest_exists,
        backup_name=backup_name,
        size=os.stat(final_dest).st_size,
    )
    if validate:
        result["checksum"] = dest_checksum
        if not is_src_dir and file_sha256(new_src) != dest_checksum:
            raise StandinFailure("Validation failed for copied files", **result)
    return result


def _apply_file_attributes(module, params, source_path, path, changed):
    wanted = dict((key, params.get(key)) for key in ("mode", "owner", "group") if params.get(key) is not None)
    if not wanted or not hasattr(module, "load_file_common_arguments"):
        return changed
    if wanted.get("mode") == "preserve":
        wanted["mode"] = "0%o" % (os.stat(source_path).st_mode & 0o7777)
    targets = [path]
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            targets.extend(os.path.join(root, name) for name in dirs + files)
    for target in targets:
        file_args = module.load_file_common_arguments(wanted, path=target)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed
