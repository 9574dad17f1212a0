#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: build_log_parse
short_description: Find and classify the error messages in a build, configure or check log
version_added: "0.1.0"
description:
  - Reads a log of a port's build (a C(zopen build) log such as C(20240101_120000_build.log), a
    C(config.log), a test-suite log) and returns every diagnostic in it, each with a file,
    line, severity, message id, an error category and the phase it belongs to.
  - "Recognises clang and IBM Open XL, gcc, xlc and xlclang (C(CCNnnnn)), the z/OS binder
    (C(IEWnnnnX), wrapped lines joined), z/OS shell and driver messages (C(FSUMnnnn)),
    Language Environment (C(CEEnnnnX)) and C runtime (C(EDCnnnnI)) messages, GNU ld, make,
    libtool, configure, cmake, the shells and test harnesses."
  - Each diagnostic gets one category from the fix record categories and C(follow_up=true)
    when it only reports an earlier failure (C(CCN0793), C(FSUM3065), make's C(Error 1)).
  - The log may be UTF-8, ISO8859-1 or EBCDIC (IBM-1047); by default the encoding is detected.
    The file is read in blocks, never loaded whole, so logs of any size can be parsed.
  - Secrets (URL credentials, tokens, passwords) and user names in home directory paths are
    replaced by placeholders in the returned messages and paths.
  - Read-only; C(changed) is always false.
author:
  - autoport.zos contributors (@autoport)
options:
  src:
    description:
      - Path of the log on the host the module runs on.
      - Mutually exclusive with I(content); one of them is required.
    type: path
  content:
    description:
      - The log text itself, instead of a file.
      - Mutually exclusive with I(src); one of them is required.
      - Never logged (it may hold secrets). Ansible masks the value wherever it reappears in the
        result, so give a one-line log with its trailing newline.
    type: str
  encoding:
    description:
      - Encoding of the log file. C(auto) detects UTF-8, ISO8859-1 or EBCDIC (IBM-1047).
      - C(IBM-1047) is the same as C(cp1047).
      - Ignored for I(content), which is already text.
    type: str
    default: auto
    choices: [auto, utf-8, iso8859-1, cp1047, IBM-1047]
  phase:
    description:
      - The phase every diagnostic is reported in.
      - When omitted, the log name (C(*_config.log), C(config.log), C(*_check.log),
        C(test-suite.log), C(*_bootstrap.log)) or else the tool that printed the message decides
        (configure and cmake C(configure), compilers C(build), binder and ld C(link), test
        harnesses C(check), Language Environment C(runtime)).
    type: str
    choices: [patch, bootstrap, configure, build, link, check, install, runtime, unknown]
  max_diagnostics:
    description:
      - Return at most this many diagnostics, the first ones in the log. The counts still
        cover every diagnostic and I(truncated) says when some were left out.
    type: int
    default: 1000
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.zos
attributes:
  check_mode:
    details: Reads the log the same way; nothing is ever written.
  diff_mode:
    details: Not supported; nothing changes.
  platform:
    details: Runs on the controller or on a z/OS UNIX host (standard library Python only).
seealso:
  - module: autoport.zos.patch_replay
    description: Runs this reader on every build log of a harvest and turns its diagnostics into records.
  - module: autoport.zos.dataset_curate
    description: Next stage for records, which merges, scrubs, deduplicates and splits them (curate stage).
"""

EXAMPLES = r"""
- name: Classify the errors of a failed zopen build
  autoport.zos.build_log_parse:
    src: /u/builder/zopen/dev/gitport/log.STABLE/20240101_120000_build.log
  register: build_log

- name: Show the first real failure
  ansible.builtin.debug:
    msg: "{{ (build_log.diagnostics | rejectattr('follow_up') | selectattr('severity', 'in', ['error', 'fatal']) | first).message }}"

- name: Parse an EBCDIC log of a configure run as configure messages
  autoport.zos.build_log_parse:
    src: /u/builder/logs/config.log
    encoding: IBM-1047
    phase: configure
    max_diagnostics: 50

- name: Parse log text fetched earlier
  autoport.zos.build_log_parse:
    content: "{{ fetched_log }}"
"""

RETURN = r"""
diagnostics:
  description: The diagnostics in log order, at most I(max_diagnostics) of them.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The source file the message is about, null when it names none.
      type: str
      sample: src/foo.c
    line:
      description: Line number in I(file), null when unknown.
      type: int
      sample: 214
    column:
      description: Column number, null when unknown.
      type: int
      sample: 7
    severity:
      description: One of C(fatal), C(error), C(warning), C(note), C(info).
      type: str
      sample: error
    code:
      description: The message id (C(CCN3045), C(IEW2456E), C(FSUM7351), C(CEE3561S), C(EDC5129I)), null when there is none.
      type: str
      sample: CCN3045
    message:
      description: The message as a user would quote it; lines the log wrapped are joined with one space.
      type: str
      sample: "ERROR CCN3045 ./src/foo.c:214   Undeclared identifier HTTP_CLIENT_EWOULDBLOCK."
    category:
      description:
        - The error category, one of the fix record categories (C(missing-header),
          C(undeclared-identifier), C(implicit-function), C(unresolved-symbol), ...).
        - A follow-up or a note carries the category of the failure before it.
      type: str
      sample: undeclared-identifier
    follow_up:
      description: True when the message only reports an earlier failure (or is a note about it, or a configure probe).
      type: bool
      sample: false
    phase:
      description: The phase of the port's life the message belongs to.
      type: str
      sample: build
    tool:
      description:
        - What printed it (C(clang), C(gcc), C(xlc), C(binder), C(ld), C(make), C(libtool), C(configure), C(cmake),
          C(shell), C(le), C(crtl), C(test), C(git), C(autotools), C(ar)).
      type: str
      sample: xlc
counts:
  description: Number of diagnostics per category over the whole log, follow-ups not counted.
  returned: always
  type: dict
  sample: {"undeclared-identifier": 3, "unresolved-symbol": 1}
severity_counts:
  description: Number of diagnostics per severity over the whole log, follow-ups included.
  returned: always
  type: dict
  sample: {"error": 6, "note": 2}
follow_ups:
  description: Number of diagnostics in the whole log that are follow-ups.
  returned: always
  type: int
  sample: 3
total:
  description: Number of diagnostics in the whole log.
  returned: always
  type: int
  sample: 9
truncated:
  description: True when the log has more diagnostics than were returned.
  returned: always
  type: bool
  sample: false
encoding:
  description: The encoding the log was read as (C(utf-8), C(iso8859-1) or C(cp1047)).
  returned: always
  type: str
  sample: cp1047
lines:
  description: Number of lines read.
  returned: always
  type: int
  sample: 18211
bytes:
  description: Number of bytes read.
  returned: always
  type: int
  sample: 1740380
binary:
  description: True when the log looks like binary data; only its text lines were parsed (a warning says so too).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.build_log import BuildLogError, parse_log

RESULT_KEYS = ("diagnostics", "counts", "severity_counts", "follow_ups", "total", "truncated", "encoding", "lines", "bytes", "binary")


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path"),
            content=dict(type="str", no_log=True),
            encoding=dict(type="str", default="auto", choices=["auto", "utf-8", "iso8859-1", "cp1047", "IBM-1047"]),
            phase=dict(type="str", choices=["patch", "bootstrap", "configure", "build", "link", "check", "install", "runtime", "unknown"]),
            max_diagnostics=dict(type="int", default=1000),
        ),
        mutually_exclusive=[["src", "content"]],
        required_one_of=[["src", "content"]],
        supports_check_mode=True,
    )
    params = module.params
    if params["max_diagnostics"] < 0:
        module.fail_json(msg="max_diagnostics must be 0 or more, got %d" % params["max_diagnostics"])
    try:
        result = parse_log(
            src=params["src"],
            content=params["content"],
            encoding=params["encoding"],
            phase=params["phase"],
            max_diagnostics=params["max_diagnostics"],
        )
    except BuildLogError as exc:
        module.fail_json(msg=str(exc))
    for text in result["warnings"]:
        module.warn(text)
    module.exit_json(changed=False, **dict((key, result[key]) for key in RESULT_KEYS))


def main():
    run_module()


if __name__ == "__main__":
    main()
