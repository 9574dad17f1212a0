# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""USS archives for the stand-in zos_archive and zos_unarchive.

Formats as the real modules write them with tarfile/zipfile: tar, gz (tar.gz),
bz2 (tar.bz2), pax (tar in GNU format, as the real module opens it) and zip.
terse and xmit need MVS data sets and are not available.
Mirrored: zos_archive does nothing in check mode and fails when dest exists
without force; zos_unarchive runs even in check mode, extracts into the
archive's own directory when dest is not given, and reports changed whenever
it extracted something. Members with absolute paths, or paths or links that
leave dest, are refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import tarfile
import zipfile

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_codecs, standin_tags
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_files import file_sha256, is_uss_path, within
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import (
    StandinFailure, fail_unavailable,
)

USS_FORMATS = ("tar", "gz", "bz2", "pax", "zip")
MVS_FORMATS = ("terse", "xmit")
ARCHIVE_SUFFIX = (".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".zip", ".gz", ".bz2", ".xz", ".pax")


def format_type(format_param, version, default=None):
    """Archive format, under its 2.0 (format.type) or 1.16 (format.name) name."""
    format_param = format_param or {}
    key = "name" if version == "1.16.0" else "type"
    return format_param.get(key) or default


# ----------------------------------------------------------------- archive --

def _expand(paths):
    expanded = []
    for path in paths or []:
        expanded.extend(sorted(glob.glob(path)) if ("*" in path or "?" in path) else [path])
    return expanded


def _open_for_writing(path, fmt):
    if fmt == "zip":
        return zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, True)
    if fmt == "pax":
        return tarfile.open(path, "w", format=tarfile.GNU_FORMAT)
    if fmt in ("gz", "bz2"):
        return tarfile.open(path, "w:" + fmt)
    return tarfile.open(path, "w")


def _add(archive, fmt, source, arcname):
    if fmt == "zip":
        archive.write(source, arcname)
    else:
        archive.add(source, arcname, recursive=False)


def _convert_sources(paths, from_codeset, to_codeset, skip):
    encoded, failed = [], []
    for path in paths:
        if path in skip or not os.path.isfile(path):
            continue
        try:
            standin_codecs.convert_file(path, path, from_codeset, to_codeset)
            standin_tags.set_tag(path, to_codeset)
            encoded.append(os.path.abspath(path))
        except (standin_codecs.CodesetError, standin_codecs.ConversionError, OSError):
            failed.append(os.path.abspath(path))
    return encoded, failed


def run_archive(module):
    params = module.params
    version = module.standin_version
    result = dict(changed=False, original_message="", message="")
    if module.check_mode:
        # The real module returns before doing anything in check mode.
        return result

    fmt = format_type(params.get("format"), version, default="gz")
    dest = params["dest"]
    sources = params["src"]
    if fmt in MVS_FORMATS or not is_uss_path(dest) or any(not is_uss_path(path) for path in sources):
        fail_unavailable("zos_archive", version, "MVS data sets (format %s, dest %s)" % (fmt, dest))
    if os.path.exists(dest) and not params.get("force"):
        raise StandinFailure("%s file exists. Use force flag to replace dest" % dest)

    original_checksum = file_sha256(dest)
    arcroot = os.path.dirname(os.path.commonpath(sources)) if len(sources) == 1 else os.path.commonpath(sources)
    expanded = _expand(sources)
    excluded = _expand(params.get("exclude"))
    targets, missing = [], []
    for path in sorted(set(expanded) - set(excluded)):
        (targets if os.path.exists(path) else missing).append(path)

    encoding = params.get("encoding") or {}
    skip = set(encoding.get("skip_encoding") or [])
    encoded, failed_on_encoding = [], []
    if encoding.get("from") and encoding.get("to"):
        files = [p for t in targets for p in (_walk_files(t) if os.path.isdir(t) else [t])]
        encoded, failed_on_encoding = _convert_sources(files, encoding["from"], encoding["to"], skip)

    archived = []
    if targets:
        temp_dest = dest + ".standin-partial"
        try:
            archive = _open_for_writing(temp_dest, fmt)
            try:
                for target in targets:
                    for path in _walk_all(target):
                        arcname = path[len(arcroot):] if path.startswith(arcroot) else path
                        _add(archive, fmt, path, arcname)
                        archived.append(path)
            finally:
                archive.close()
            os.replace(temp_dest, dest)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as err:
            if os.path.exists(temp_dest):
                os.remove(temp_dest)
            raise StandinFailure("Error when writing %s archive at %s: %s" % (fmt, dest, err))
        finally:
            # The real module puts the sources back into their own encoding afterwards.
            if encoded:
                _convert_sources(encoded, encoding["to"], encoding["from"], set())

    state = "present"
    if targets and params.get("remove"):
        state = _remove_sources(archived)

    changed = False
    if os.path.exists(dest):
        changed = _set_attributes(module, params, dest, False)
        changed = changed or original_checksum != file_sha256(dest)
    if not os.path.exists(dest):
        dest_state = "absent"
    else:
        dest_state = "archive" if dest.lower().endswith(ARCHIVE_SUFFIX) else "compress"
        if missing:
            dest_state = "incomplete"

    result.update(
        archived=archived, dest=dest, state=state, arcroot=arcroot, dest_state=dest_state, changed=changed,
        missing=missing, expanded_sources=expanded, expanded_exclude_sources=excluded or "",
        xmit_log_data_set="", encoded=encoded, failed_on_encoding=failed_on_encoding,
        skipped_encoding_targets=sorted(skip) if skip else "",
    )
    return result


def _walk_all(target):
    yield target
    if os.path.isdir(target) and not os.path.islink(target):
        for root, dirs, files in os.walk(target):
            for name in sorted(dirs) + sorted(files):
                yield os.path.join(root, name)


def _walk_files(target):
    for root, _dirs, files in os.walk(target):
        for name in files:
            yield os.path.join(root, name)


def _remove_sources(archived):
    state = "absent"
    for path in sorted(archived, key=len, reverse=True):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            elif os.path.lexists(path):
                os.remove(path)
        except OSError:
            state = "incomplete"
    return state


def _set_attributes(module, params, path, changed):
    wanted = dict((key, params.get(key)) for key in ("mode", "owner", "group") if params.get(key) is not None)
    if not wanted or not hasattr(module, "load_file_common_arguments"):
        return changed
    file_args = module.load_file_common_arguments(wanted, path=path)
    return module.set_fs_attributes_if_different(file_args, changed)


# --------------------------------------------------------------- unarchive --

def _open_for_reading(path, fmt):
    try:
        if fmt == "zip":
            return zipfile.ZipFile(path, "r")
        if fmt in ("gz", "bz2"):
            return tarfile.open(path, "r:" + fmt)
        return tarfile.open(path, "r")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise StandinFailure("{0} is not a readable {1} archive: {2}".format(path, fmt, err))


def _member_names(archive, fmt):
    return archive.namelist() if fmt == "zip" else archive.getnames()


def _check_member(archive, fmt, name, dest):
    """Refuse absolute names and names or links that resolve outside dest."""
    if os.path.isabs(name):
        raise StandinFailure("Unable to extract {0} as the files extracted can not contain an absolute path".format(name))
    target = os.path.join(dest, name)
    if not within(target, dest):
        raise StandinFailure("Unable to extract {0} to {1}, which is outside the designated destination".format(
            name, os.path.realpath(target)))
    if fmt != "zip":
        member = archive.getmember(name)
        if member.issym() or member.islnk():
            if os.path.isabs(member.linkname):
                raise StandinFailure("{0} is a symlink to an absolute path".format(name))
            base = os.path.dirname(target) if member.issym() else dest
            if not within(os.path.join(base, member.linkname), dest):
                raise StandinFailure("Unable to extract {0} it would link to {1}, which is outside the designated "
                                     "destination".format(name, member.linkname))


def _extract(archive, fmt, name, dest):
    if fmt == "zip":
        archive.extract(name, dest)
        return
    kwargs = {}
    if hasattr(tarfile, "data_filter"):
        kwargs["filter"] = "data"
    archive.extract(archive.getmember(name), dest, **kwargs)


def run_unarchive(module):
    params = module.params
    version = module.standin_version
    src = params["src"]
    fmt = format_type(params.get("format"), version)
    if fmt in MVS_FORMATS or not is_uss_path(src):
        fail_unavailable("zos_unarchive", version, "MVS data sets (format %s, src %s)" % (fmt, src))
    if not os.path.exists(src):
        raise StandinFailure("{0} does not exists, please provide a valid src.".format(src))
    dest = params.get("dest") or os.path.dirname(src)
    result = dict(src=src, dest_path=dest, changed=False, targets=[], missing=[], encoded=[],
                  failed_on_encoding=[], skipped_encoding_targets=[])

    archive = _open_for_reading(src, fmt)
    try:
        names = _member_names(archive, fmt)
        if params.get("list"):
            result["targets"] = names
            return result
        if not os.path.isdir(dest):
            raise StandinFailure("The destination {0} does not exist or is not a directory; zos_unarchive does not "
                                 "create it.".format(dest))
        include = params.get("include")
        exclude = set(params.get("exclude") or [])
        if include:
            wanted = [name for name in include if name in names]
            result["missing"] = [name for name in include if name not in names]
        else:
            wanted = [name for name in names if name not in exclude]
        for name in wanted:
            _check_member(archive, fmt, name, dest)
        for name in wanted:
            _extract(archive, fmt, name, dest)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise StandinFailure("Unable to extract {0} into {1}: {2}".format(src, dest, err))
    finally:
        archive.close()

    result["targets"] = wanted
    result["changed"] = bool(wanted)
    for name in wanted:
        _set_attributes(module, params, os.path.join(dest, name), result["changed"])

    encoding = params.get("encoding") or {}
    if wanted and encoding.get("from") and encoding.get("to"):
        skip = set(encoding.get("skip_encoding") or [])
        paths = [os.path.normpath(os.path.join(dest, name)) for name in wanted if name not in skip]
        result["encoded"], result["failed_on_encoding"] = _convert_sources(paths, encoding["from"], encoding["to"], set())
        result["skipped_encoding_targets"] = sorted(skip)
    return result
