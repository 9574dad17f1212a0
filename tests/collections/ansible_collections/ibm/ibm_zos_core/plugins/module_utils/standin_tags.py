# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Emulated z/OS file tags (chtag) for a POSIX host.

POSIX files have no code set tag, so the stand-in keeps tags in one JSON registry
file: IBM_ZOS_CORE_STANDIN_TAGS if set, else ibm_zos_core_standin_tags.json in the
system temp directory. Entries are keyed by real path and remember the inode, so
a file replaced by another one reads as untagged, as a new z/OS file would.
Files without an entry are "untagged".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

TAGS_ENV = "IBM_ZOS_CORE_STANDIN_TAGS"
UNTAGGED = "untagged"


def registry_path(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get(TAGS_ENV) or os.path.join(tempfile.gettempdir(), "ibm_zos_core_standin_tags.json")


def _read(path):
    try:
        with open(path, "r") as handle:
            data = json.load(handle)
    except (OSError, IOError, ValueError):
        # A missing or damaged registry means nothing is tagged.
        return {}
    return data if isinstance(data, dict) else {}


def _write(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    fd, temp_path = tempfile.mkstemp(prefix=".standin-tags-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


def _key(path):
    return os.path.realpath(path)


def get_tag(path):
    """Code set the file is tagged with, or None when untagged."""
    try:
        inode = os.stat(path).st_ino
    except OSError:
        return None
    entry = _read(registry_path()).get(_key(path))
    if not isinstance(entry, dict) or entry.get("inode") != inode:
        return None
    return entry.get("codeset")


def charset(path):
    """Tag as ls -T prints it: the code set name or 'untagged'."""
    return get_tag(path) or UNTAGGED


def set_tag(path, codeset):
    """Tag a file (chtag -tc CODESET). Directories tag every file under them."""
    targets = _files_under(path)
    registry = registry_path()
    data = _read(registry)
    for target in targets:
        data[_key(target)] = {"codeset": codeset, "inode": os.stat(target).st_ino}
    _write(registry, data)


def clear_tag(path):
    """Remove tags (chtag -r) from a file or every file under a directory."""
    registry = registry_path()
    data = _read(registry)
    changed = False
    for target in _files_under(path):
        if data.pop(_key(target), None) is not None:
            changed = True
    if changed:
        _write(registry, data)


def _files_under(path):
    if os.path.isdir(path):
        found = []
        for root, _dirs, files in os.walk(path):
            found.extend(os.path.join(root, name) for name in files)
        return found
    return [path]
