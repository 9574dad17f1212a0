# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Stand-in zos_stat for USS files (type: file), with the real return shape.

Mirrored: stat.attributes holds every documented key (null where it does not
apply); charset is the file's tag or "untagged" (tags come from the stand-in's
tag registry); a found file reports changed=true, a missing one exists=false and
changed=false; get_checksum on a directory fails as the real module does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat
import time

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_tags
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import StandinFailure, fail_unavailable

FILE_ATTRS = (
    "mode", "atime", "mtime", "ctime", "checksum", "uid", "gid", "size", "inode", "dev", "nlink",
    "isdir", "ischr", "isblk", "isreg", "isfifo", "islnk", "issock", "isuid", "isgid",
    "wusr", "rusr", "xusr", "wgrp", "rgrp", "xgrp", "woth", "roth", "xoth",
    "writeable", "readable", "executable", "pw_name", "gr_name", "lnk_source", "lnk_target",
    "charset", "mimetype", "audit_bits", "file_format",
)
DATA_SET_ATTRS = (
    "dsorg", "type", "record_format", "record_length", "block_size", "has_extended_attrs",
    "extended_attrs_bits", "creation_date", "creation_time", "expiration_date", "last_reference",
    "updated_since_backup", "volser", "num_volumes", "volumes", "missing_volumes", "device_type",
    "space_units", "primary_space", "secondary_space", "allocation_available", "allocation_used",
    "extents_allocated", "extents_used", "blocks_per_track", "tracks_per_cylinder", "sms_data_class",
    "sms_mgmt_class", "sms_storage_class", "encrypted", "key_status", "racf", "key_label",
    "dir_blocks_allocated", "dir_blocks_used", "members", "pages_allocated", "pages_used",
    "perc_pages_used", "pdse_version", "max_pdse_generation", "seq_type",
)
GDG_ATTRS = ("limit", "scratch", "empty", "order", "purge", "extended", "active_gens")
AGGREGATE_ATTRS = (
    "auditfid", "bitmap_file_size", "converttov5", "filesystem_table_size", "free", "free_1k_fragments",
    "free_8k_blocks", "log_file_size", "sysplex_aware", "total_size", "version",
)
NESTED_ATTRS = {
    "jcl_attrs": ("creation_job", "creation_step"),
    "data": ("key_length", "key_offset", "max_record_length", "avg_record_length", "bufspace",
             "total_records", "spanned", "volser", "device_type"),
    "index": ("key_length", "key_offset", "max_record_length", "avg_record_length", "bufspace",
              "total_records", "volser", "device_type"),
    "quiesced": ("job", "system", "timestamp"),
}


def _iso(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(timestamp))


def _mimetype(module, path):
    file_bin = module.get_bin_path("file")
    if not file_bin:
        return None
    rc, stdout, _stderr = module.run_command([file_bin, path], errors="replace")
    if rc != 0 or ":" not in stdout:
        return None
    return stdout.split(":", 1)[1].strip() or None


def file_attributes(module, path, follow, get_checksum, checksum_algorithm, get_mime):
    raw = os.stat(path) if follow else os.lstat(path)
    mode = raw.st_mode
    attrs = dict(
        mode="%04o" % stat.S_IMODE(mode),
        atime=_iso(raw.st_atime), mtime=_iso(raw.st_mtime), ctime=_iso(raw.st_ctime),
        uid=raw.st_uid, gid=raw.st_gid, size=raw.st_size, inode=raw.st_ino, dev=raw.st_dev,
        nlink=raw.st_nlink,
        isdir=stat.S_ISDIR(mode), ischr=stat.S_ISCHR(mode), isblk=stat.S_ISBLK(mode),
        isreg=stat.S_ISREG(mode), isfifo=stat.S_ISFIFO(mode), islnk=stat.S_ISLNK(mode),
        issock=stat.S_ISSOCK(mode), isuid=bool(mode & stat.S_ISUID), isgid=bool(mode & stat.S_ISGID),
        wusr=bool(mode & stat.S_IWUSR), rusr=bool(mode & stat.S_IRUSR), xusr=bool(mode & stat.S_IXUSR),
        wgrp=bool(mode & stat.S_IWGRP), rgrp=bool(mode & stat.S_IRGRP), xgrp=bool(mode & stat.S_IXGRP),
        woth=bool(mode & stat.S_IWOTH), roth=bool(mode & stat.S_IROTH), xoth=bool(mode & stat.S_IXOTH),
        writeable=os.access(path, os.W_OK), readable=os.access(path, os.R_OK),
        executable=os.access(path, os.X_OK),
    )
    try:
        attrs["pw_name"] = pwd.getpwuid(raw.st_uid).pw_name
        attrs["gr_name"] = grp.getgrgid(raw.st_gid).gr_name
    except (KeyError, OverflowError):
        attrs["pw_name"] = attrs["gr_name"] = None
    if attrs["islnk"]:
        attrs["lnk_source"] = os.path.realpath(path)
        attrs["lnk_target"] = os.readlink(path)
    else:
        attrs["lnk_source"] = attrs["lnk_target"] = None
    # ls -T on z/OS follows links for the tag; so does the registry lookup.
    attrs["charset"] = standin_tags.charset(path)
    attrs["audit_bits"] = None
    attrs["extended_attrs_bits"] = None
    attrs["file_format"] = None
    attrs["checksum"] = module.digest_from_file(path, checksum_algorithm) if get_checksum else None
    attrs["mimetype"] = _mimetype(module, path) if get_mime else None
    return attrs


def fill_missing(attrs):
    for key in FILE_ATTRS + DATA_SET_ATTRS + GDG_ATTRS + AGGREGATE_ATTRS:
        attrs.setdefault(key, None)
    for key, sub_keys in NESTED_ATTRS.items():
        attrs.setdefault(key, dict((sub, None) for sub in sub_keys))
    return attrs


def run_stat(module):
    params = module.params
    version = module.standin_version
    name = params["name"]
    resource_type = params.get("type") or "data_set"
    if resource_type != "file":
        hint = " (for a USS path use type: file)" if "/" in name else ""
        fail_unavailable("zos_stat", version, "%s resources%s" % (resource_type, hint))
    if not os.path.lexists(name):
        return dict(changed=False, stat=dict(name=name, resource_type=resource_type, exists=False))
    try:
        attrs = file_attributes(module, name, params.get("follow"), params.get("get_checksum"),
                                params.get("checksum_algorithm") or "sha1", params.get("get_mime"))
    except OSError as err:
        raise StandinFailure("An error ocurred while querying a file path's information: {0}.".format(err))
    stat_result = dict(name=name, resource_type="file", isfile=True, isdataset=False, isaggregate=False,
                       isgdg=False, attributes=fill_missing(attrs), exists=True)
    return dict(changed=True, stat=stat_result)
