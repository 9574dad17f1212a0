# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core, NOT IBM's collection (see README.md).
"""Argument specs of the stand-in modules, built from the real option interface.

The interface version comes from IBM_ZOS_CORE_STANDIN_VERSION (2.0.0 by default,
or 1.16.0). Every module builds its AnsibleModule here so that unknown or
mistyped options fail exactly as AnsibleModule fails them, and so that
ansible-lint, which swaps in its own AnsibleModule, sees the real interface.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import sys

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_options import load_options

VERSION_ENV = "IBM_ZOS_CORE_STANDIN_VERSION"
DEFAULT_VERSION = "2.0.0"
SUPPORTED_VERSIONS = ("1.16.0", "2.0.0")

MODULE_NAMES = (
    "zos_archive", "zos_copy", "zos_data_set", "zos_encode", "zos_fetch", "zos_find",
    "zos_gather_facts", "zos_job_output", "zos_job_submit", "zos_mvs_raw", "zos_operator",
    "zos_ping", "zos_script", "zos_stat", "zos_tso_command", "zos_unarchive",
)

# supports_check_mode exactly as the real modules declare it (read from their source;
# zos_ping from its published attributes). Where the real module declares support
# but ignores check mode (zos_tso_command, zos_job_submit, zos_unarchive) the
# stand-in ignores it too.
CHECK_MODE_SUPPORT = {
    "zos_archive": True,
    "zos_copy": False,
    "zos_data_set": True,
    "zos_encode": False,
    "zos_fetch": False,
    "zos_find": False,
    "zos_gather_facts": True,
    "zos_job_output": True,
    "zos_job_submit": True,
    "zos_mvs_raw": True,
    "zos_operator": False,
    "zos_ping": False,
    "zos_script": False,
    "zos_stat": True,
    "zos_tso_command": True,
    "zos_unarchive": True,
}

# Real modules that have an action plugin (controller side) as well.
HAS_ACTION_PLUGIN = frozenset(("zos_copy", "zos_fetch", "zos_job_submit", "zos_ping", "zos_script", "zos_unarchive"))

# Options the real modules mark no_log, so the stand-in never logs them either.
NO_LOG_OPTIONS = {
    "zos_copy": frozenset(("content",)),
    "zos_mvs_raw": frozenset(("key_label", "encryption_key_1", "encryption_key_2")),
}

# Extra AnsibleModule keyword arguments the real modules pass.
EXTRA_MODULE_KWARGS = {
    "zos_unarchive": {"mutually_exclusive": [["include", "exclude"]]},
}

_SPEC_KEYS = ("type", "required", "default", "choices", "aliases", "elements")


class StandinVersionError(ValueError):
    """IBM_ZOS_CORE_STANDIN_VERSION names an interface the stand-in does not have."""


class StandinFailure(Exception):
    """A module failed; msg plus the extra return values the real module would give."""

    def __init__(self, msg, **result):
        super(StandinFailure, self).__init__(msg)
        self.msg = msg
        self.result = result


def selected_version(environ=None):
    """Interface version named by IBM_ZOS_CORE_STANDIN_VERSION (default 2.0.0)."""
    environ = os.environ if environ is None else environ
    version = (environ.get(VERSION_ENV) or DEFAULT_VERSION).strip()
    if version not in SUPPORTED_VERSIONS:
        raise StandinVersionError(
            "%s=%r is not an interface of the ibm.ibm_zos_core stand-in; use one of %s"
            % (VERSION_ENV, version, ", ".join(SUPPORTED_VERSIONS))
        )
    return version


def option_docs(module_name, version):
    """The documented options of one real module at one version (a deep copy)."""
    versions = load_options()["versions"]
    if version not in versions:
        raise StandinVersionError("no option reference for version %r" % (version,))
    if module_name not in versions[version]:
        raise KeyError("ibm.ibm_zos_core %s has no module %r" % (version, module_name))
    return copy.deepcopy(versions[version][module_name]["options"])


def _to_spec(options, no_log_names):
    spec = {}
    for name, doc in options.items():
        entry = dict((key, copy.deepcopy(doc[key])) for key in _SPEC_KEYS if key in doc)
        if "suboptions" in doc:
            entry["options"] = _to_spec(doc["suboptions"], no_log_names)
        if name in no_log_names:
            entry["no_log"] = True
        spec[name] = entry
    return spec


def argument_spec(module_name, version=None):
    """AnsibleModule argument_spec of a module: the documented options, nothing more."""
    version = selected_version() if version is None else version
    return _to_spec(option_docs(module_name, version), NO_LOG_OPTIONS.get(module_name, frozenset()))


def module_kwargs(module_name, version=None):
    """Keyword arguments for AnsibleModule(...) of one stand-in module."""
    if module_name not in CHECK_MODE_SUPPORT:
        raise KeyError("the stand-in has no module %r" % (module_name,))
    kwargs = dict(argument_spec=argument_spec(module_name, version),
                  supports_check_mode=CHECK_MODE_SUPPORT[module_name])
    kwargs.update(copy.deepcopy(EXTRA_MODULE_KWARGS.get(module_name, {})))
    return kwargs


def _exit_with_failure(msg):
    # No AnsibleModule exists yet, so answer the way one would.
    print(json.dumps({"failed": True, "msg": msg}))
    sys.exit(1)


def build_module(module_name):
    """Validate the task's arguments against the selected interface; return the AnsibleModule."""
    # Looked up at call time: ansible-lint patches basic.AnsibleModule to read the spec.
    from ansible.module_utils import basic
    try:
        kwargs = module_kwargs(module_name)
    except StandinVersionError as err:
        _exit_with_failure(str(err))
    module = basic.AnsibleModule(**kwargs)
    module.standin_version = selected_version()
    return module


def run_and_exit(module, work):
    """Run work(module) -> result dict and exit the way AnsibleModule does.

    File system and data errors the work did not expect still end as a failed
    task naming the error, never as a module traceback.
    """
    try:
        result = work(module)
    except StandinFailure as failure:
        module.fail_json(msg=failure.msg, **failure.result)
    except (OSError, IOError, ValueError, UnicodeError) as err:
        module.fail_json(msg="the ibm.ibm_zos_core stand-in could not complete the task: %s: %s"
                         % (type(err).__name__, err), changed=False)
    module.exit_json(**result)


def param(params, *names, **kwargs):
    """First of several option names (2.0 name first, then the 1.16 one) that is set."""
    for name in names:
        if params.get(name) is not None:
            return params[name]
    return kwargs.get("default")


def fail_unavailable(module_name, version, what):
    """The failure of a module that has no meaning on a POSIX host."""
    raise StandinFailure(
        "ibm.ibm_zos_core.%s is not available in the test stand-in: it needs %s on a real z/OS system. "
        "The options were checked against the %s interface; nothing was run." % (module_name, what, version),
        changed=False,
        standin=True,
    )
