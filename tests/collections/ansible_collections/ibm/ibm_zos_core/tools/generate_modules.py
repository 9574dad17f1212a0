#!/usr/bin/env python3
"""Write the stand-in's plugins/modules/*.py from the embedded option reference.

Test stand-in tooling, not IBM's. Each module file gets a DOCUMENTATION block
whose options are the real 2.0.0 options (so ansible-doc shows the real
interface), a short EXAMPLES/RETURN, and a main() that validates the arguments
against the selected interface and hands the work to a module_utils function.
Run it again after tools/embed_options.py; tests/unit/standin checks that the
files match what it would write.

Usage: generate_modules.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

STANDIN = Path(__file__).resolve().parents[1]
MODULES_DIR = STANDIN / "plugins" / "modules"
# tests/collections on sys.path makes ansible_collections.ibm.ibm_zos_core importable.
sys.path.insert(0, str(STANDIN.parents[2]))

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_options import load_options  # noqa: E402
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import (  # noqa: E402
    CHECK_MODE_SUPPORT, HAS_ACTION_PLUGIN,
)

DOC_VERSION = "2.0.0"
UTILS = "ansible_collections.ibm.ibm_zos_core.plugins.module_utils"

# module -> (short description, module_utils module, run function or unavailable, example args, return doc)
MODULES = {
    "zos_archive": (
        "Archive USS files (test stand-in)", "standin_archive", "run_archive",
        {"src": ["/tmp/build/logs"], "dest": "/tmp/build/logs.tar", "format": {"type": "tar"}},
        {"dest": "str", "archived": "list", "state": "str", "dest_state": "str", "missing": "list"},
    ),
    "zos_copy": (
        "Copy files to USS on the managed node (test stand-in)", "standin_copy", "run_copy",
        {"src": "files/buildenv", "dest": "/tmp/port/buildenv", "binary": True},
        {"src": "str", "dest": "str", "dest_created": "bool", "size": "int", "checksum": "str"},
    ),
    "zos_data_set": (
        "Manage data sets (test stand-in: not available)", None, "unavailable",
        {"name": "USER.TEST.PDS", "type": "pds", "state": "present"}, {},
    ),
    "zos_encode": (
        "Convert the encoding of USS files (test stand-in)", "standin_encode", "run_encode",
        {"src": "/tmp/port/notes.txt", "encoding": {"from": "ISO8859-1", "to": "IBM-1047"}},
        {"src": "str", "dest": "str", "encoding": "dict", "backup_name": "str"},
    ),
    "zos_fetch": (
        "Fetch USS files from the managed node (test stand-in)", "standin_fetch", "run_fetch",
        {"src": "/tmp/port/log.STABLE/build.log", "dest": "logs/", "flat": True, "binary": True},
        {"src": "str", "dest": "str", "binary": "bool", "checksum": "str", "data_set_type": "str"},
    ),
    "zos_find": (
        "Find data sets (test stand-in: not available)", None, "unavailable",
        {"patterns": ["USER.*"]}, {},
    ),
    "zos_gather_facts": (
        "Gather z/OS system facts from a fixture (test stand-in)", "standin_facts", "run_gather_facts",
        {"gather_subset": ["sys"], "filter": ["product_*"]},
        {"ansible_facts": "dict"},
    ),
    "zos_job_output": (
        "Display job output (test stand-in: not available)", None, "unavailable",
        {"job_id": "JOB00134"}, {},
    ),
    "zos_job_submit": (
        "Submit JCL (test stand-in: not available)", None, "unavailable",
        {"src": "USER.JCL(BUILD)"}, {},
    ),
    "zos_mvs_raw": (
        "Run a z/OS program (test stand-in: not available)", None, "unavailable",
        {"program_name": "idcams", "auth": True}, {},
    ),
    "zos_operator": (
        "Execute operator commands (test stand-in: not available)", None, "unavailable",
        {"cmd": "d u,all"}, {},
    ),
    "zos_ping": (
        "Ping the managed node (test stand-in)", "standin_unavailable", "run_ping",
        {}, {"ping": "str"},
    ),
    "zos_script": (
        "Run a local or remote script on the managed node (test stand-in)", "standin_script", "run_script",
        {"cmd": "scripts/build.sh --jobs 2", "chdir": "/tmp/port"},
        {"cmd": "str", "remote_cmd": "str", "rc": "int", "stdout": "str", "stderr": "str",
         "stdout_lines": "list", "stderr_lines": "list"},
    ),
    "zos_stat": (
        "Retrieve facts about USS files (test stand-in)", "standin_stat", "run_stat",
        {"name": "/tmp/port/log.STABLE/build.log", "type": "file"},
        {"stat": "dict"},
    ),
    "zos_tso_command": (
        "Execute TSO commands (test stand-in: not available)", None, "unavailable",
        {"commands": ["LISTDS 'USER.TEST'"]}, {},
    ),
    "zos_unarchive": (
        "Unarchive USS archives (test stand-in)", "standin_archive", "run_unarchive",
        {"src": "/tmp/build/logs.tar", "dest": "/tmp/restore", "format": {"type": "tar"}, "remote_src": True},
        {"src": "str", "dest_path": "str", "targets": "list", "missing": "list"},
    ),
}


def _with_descriptions(options: dict) -> dict:
    documented = {}
    for name, doc in options.items():
        entry = {"description": ["Same meaning as option C(%s) of the real ibm.ibm_zos_core module." % name]}
        for key, value in doc.items():
            if key == "suboptions":
                continue
            entry[key] = value
        if "suboptions" in doc:
            entry["suboptions"] = _with_descriptions(doc["suboptions"])
        documented[name] = entry
    return documented


def documentation(name: str) -> str:
    short, _utils, run, _example, _returns = MODULES[name]
    supports_check = CHECK_MODE_SUPPORT[name]
    has_action = name in HAS_ACTION_PLUGIN
    description = [
        "B(Test stand-in, not IBM's module.) It takes exactly the options of the real"
        " ibm.ibm_zos_core module (interface 2.0.0, or 1.16.0 when IBM_ZOS_CORE_STANDIN_VERSION=1.16.0),"
        " so lint, syntax checks and integration tests on a POSIX host see the real interface.",
    ]
    if run == "unavailable":
        description.append("It has no meaning on a POSIX host: after validating the options it fails"
                           " with a message saying so.")
    else:
        description.append("On a POSIX host it mirrors the real module's behaviour for USS paths;"
                           " see the stand-in's README.md for what differs.")
    doc = {
        "module": name,
        "short_description": short,
        "version_added": "2.0.0",
        "description": description,
        "author": ["autoport.zos maintainers (test stand-in)"],
        "options": _with_descriptions(load_options()["versions"][DOC_VERSION][name]["options"]),
        "attributes": {
            "action": {"support": "full" if has_action else "none",
                       "description": "Indicates this has a corresponding action plugin."},
            "async": {"support": "none", "description": "The stand-in does not support async."},
            "check_mode": {"support": "full" if supports_check else "none",
                           "description": "As the real module declares it."},
            "diff_mode": {"support": "none", "description": "Never returns a diff."},
            "platform": {"platforms": ["posix", "zos"], "support": "full",
                         "description": "Runs on a POSIX host standing in for z/OS."},
        },
        "notes": ["Test data for autoport.zos; never shipped."],
    }
    if not doc["options"]:
        doc["options"] = {}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120, allow_unicode=False)


def examples(name: str) -> str:
    args = MODULES[name][3]
    task = [{"name": "Example of %s (stand-in)" % name, "ibm.ibm_zos_core.%s" % name: args or None}]
    return yaml.safe_dump(task, sort_keys=False, default_flow_style=False, width=160)


def returns(name: str) -> str:
    returned = {"changed": {"description": "Whether anything changed.", "returned": "always", "type": "bool"}}
    for key, kind in MODULES[name][4].items():
        returned[key] = {"description": "As returned by the real module.", "returned": "success", "type": kind}
    if MODULES[name][2] == "unavailable":
        returned["msg"] = {"description": "Why the stand-in cannot run this module.", "returned": "failure",
                           "type": "str"}
    return yaml.safe_dump(returned, sort_keys=False, default_flow_style=False, width=160)


def module_source(name: str) -> str:
    short, utils, run, _example, _returns = MODULES[name]
    if run == "unavailable":
        imports = "from %s.standin_unavailable import unavailable\n" % UTILS
        call = 'unavailable("%s")' % name
    else:
        imports = "from %s.%s import %s\n" % (UTILS, utils, run)
        call = run
    return '''#!/usr/bin/python
# -*- coding: utf-8 -*-
# Test stand-in for ibm.ibm_zos_core.{name}: NOT IBM's module (see README.md).
# GENERATED by tools/generate_modules.py: edit the generator, not this file.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
{doc}"""

EXAMPLES = r"""
{examples}"""

RETURN = r"""
{returns}"""

from {utils}.standin_spec import build_module, run_and_exit
{imports}

def main():
    run_and_exit(build_module("{name}"), {call})


if __name__ == "__main__":
    main()
'''.format(name=name, doc=documentation(name), examples=examples(name), returns=returns(name),
           utils=UTILS, imports=imports, call=call)


def main(argv: list) -> int:
    check = "--check" in argv
    stale = []
    for name in sorted(MODULES):
        path = MODULES_DIR / ("%s.py" % name)
        text = module_source(name)
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run tools/generate_modules.py):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
