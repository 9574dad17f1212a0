#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: patch_replay
short_description: Build a zopen port with and without each of its patches and record what each patch fixed
version_added: "0.1.0"
description:
  - Runs on the build host and does the whole harvest of one port in one task, whatever its
    number of patches.
  - Reads the port's C(buildenv) without running it, picks the patch folder and order the way
    C(zopen build) does (C(ZOPEN_PATCH_DIR), else C(stable-patches/) or C(dev-patches/), else
    C(patches/); every C(*.patch), in C(sort) order of the build's locale), and gets the upstream
    source the way C(zopen build) does (build line; a shallow clone of the tag or branch into
    C(${gitname%.git}/), or a tarball unpacked into its top folder as a repository on C(main)
    with zopen's C(.gitattributes); a failing patch of a git source retried with
    C(git apply --3way)). C(file://) URLs, local paths and a I(mirror_dir) holding the URL's
    file name serve hosts without internet.
  - Builds through a I(profile). C(posix) runs the C(zopen build) phases (bootstrap, configure,
    make, check) from the buildenv's C(ZOPEN_*) settings with the host compiler, strict I(cflags)
    and C(make -k), so one build reports all its errors. C(zopen) runs C(zopen build --no-set-active)
    itself with the patch folder swapped for the harvest's, the local copy of a tarball (one
    download for all builds) and its own C(TMPDIR) per build, and reads its
    C(log.STABLE|DEV/*_{bootstrap,config,build,check}.log); the records name the compiler the
    build ran.
  - Strategy C(leave_one_out) builds once with every patch, then for each patch reverts it
    (C(git apply -R)), rebuilds incrementally and re-applies it. Strategy C(cumulative) builds
    with no patch, then with the first k patches for each k, each from a clean tree.
  - With C(leave_one_out), when later patches do not apply without a patch (their context holds
    its lines), the patch is left out together with those dependents, and that build is compared
    with the build without the dependents only (their own leave-one-out build when one fits, else
    one more build, C(dep-<n>)); the dependents are listed in RV(patches[].left_out_with).
  - A patch is credited with the error diagnostics present without it and gone with it. Each
    becomes a fix record (C(provenance=build)) whose C(error) is the real message; the patch
    hunk nearest the diagnostic's file and line gives C(wrong_code), C(correct_code) and
    C(patch). Only these build-proven records are written; a patch whose removal breaks nothing
    (C(no-effect)), and a hunk no diagnostic points at, give no record here.
  - The C(provenance=static) records (one per hunk, an empty C(error)) come from the mine stage
    only, M(autoport.zos.patch_mine) (C(playbooks/mine.yml)), run on the same ports;
    M(autoport.zos.dataset_curate) lets a build record replace the static record of its hunk,
    so the curated dataset holds each hunk once.
  - Every build is checkpointed in I(state_dir). Interrupted at any moment (even killed) and run
    again, it stops a build the earlier run left behind, continues where it was and ends with
    exactly the records an uninterrupted run writes. A second run with the same inputs builds
    nothing and reports C(changed=false).
  - One replay at a time works in a port's work directory. It holds C(<work_dir>/<port>/replay.lock)
    (a record lock, plus its pid, host, start time and replay id) while it runs; a lock left by a dead
    process is taken over, and what that process left running is stopped. A live earlier replay (for
    example the async job of a controller that died) is handled by I(if_running).
  - The checkpoint keeps a bounded summary of each build's error diagnostics (one per distinct
    message, at most 2000 and 1 MiB per build, long fields clipped, counted in the build's
    C(diagnostics_summary)), written once per build beside it; the build logs keep everything.
  - Every command runs from an argument list; the buildenv-driven commands run as a fixed
    C(sh -c) script with the settings exported. Builds run inside the port's work directory
    (C(TMPDIR) and, for C(posix), C(HOME) there too); a build running longer than
    I(build_timeout) is killed with its whole process group and recorded as a timeout.
  - Each build command runs in its own session and process group. When it ends, everything it
    left running is killed, that is its process group and every process carrying the build's
    C(AUTOPORT_BUILD_TOKEN) environment marker (children that called C(setsid) or daemonized),
    found through C(/proc). z/OS has no C(/proc); there only the process group and parent links
    (C(ps)) are used, so a child that leaves its session and outlives its parent is not found.
author:
  - autoport.zos contributors (@autoport)
options:
  work_dir:
    description:
      - Folder for all the harvest's files; the port gets its own sub-folder (copy of the port,
        unpacked source, build outputs, downloads, default state, logs and records).
      - The sub-folder is named after I(port) once sanitised (letters, digits, C(.), C(_), C(-)).
    type: path
    required: true
  state_dir:
    description: Where the checkpoint file C(replay.json) is kept. Default C(<work_dir>/<port>/state).
    type: path
  dest:
    description:
      - JSONL file of the records. Default C(<work_dir>/<port>/records.jsonl).
      - Holds exactly the records the port's current patches give; an edited or removed patch leaves
        none of its old records. Rewritten (temp file and rename) only when that changes its bytes;
        records of other ports in the same file are kept.
    type: path
  log_dir:
    description: Where every build log is kept, named C(<build>-<phase>.log). Default C(<work_dir>/<port>/logs).
    type: path
  profile:
    description: How a build runs, see the description.
    type: str
    default: posix
    choices: [posix, zopen]
  strategy:
    description: Which builds attribute errors to patches, see the description.
    type: str
    default: leave_one_out
    choices: [leave_one_out, cumulative]
  mirror_dir:
    description: Folder holding source archives or C(<name>.git) repositories under the file name of the buildenv URL.
    type: path
  source:
    description: Source URL or local path used instead of the buildenv's (a folder or C(.git) is cloned, anything else unpacked).
    type: str
  build_timeout:
    description: Seconds one build (all its phases) may take before its process group is killed.
    type: int
    default: 3600
  cflags:
    description:
      - C compiler flags of the C(posix) profile, put before the buildenv's C(ZOPEN_EXTRA_CFLAGS).
        When omitted, C(-std=c99 -D_POSIX_C_SOURCE=200112L -pedantic-errors -Werror=implicit-function-declaration),
        standing in for z/OS's narrower system interfaces.
      - Never passed to the C(zopen) profile (it compiles with the host's zopen compiler flags); a value given there is ignored with a warning.
    type: str
  env:
    description:
      - Extra environment variables for the builds (for example C(CC), C(PATH), or a token a build needs).
      - Builds do not inherit the host environment; they get an allow-list of it (C(PATH), C(HOME), C(LANG), C(LC_*),
        C(TMPDIR), z/OS runtime variables such as C(_BPXK_AUTOCVT), C(_CEE_RUNOPTS), C(_TAG_REDIR_*), C(ZOPEN_*),
        compiler variables such as C(CC) and C(CFLAGS), proxies) plus these variables.
      - The values are treated as secrets (C(no_log)) and masked wherever they appear in the module result.
    type: dict
    default: {}
  toolchain:
    description: Toolchain label stored in the records. Default the compiler's name and version (C(posix)) or the buildenv's C(ZOPEN_COMP) family.
    type: str
  system:
    description: Facts about the build system stored in every record (for example from C(zos_gather_facts)).
    type: dict
  zopen_command:
    description: The C(zopen) program the C(zopen) profile runs.
    type: str
    default: zopen
  if_running:
    description:
      - What to do when another replay is still running in the same work directory (its lock is held
        by a live process).
      - C(wait) waits until it ends and then continues from its checkpoint (every build it finished
        is reused; nothing is built twice).
      - C(stop) stops it and its whole process tree (its builds included) and resumes from the
        checkpoint; only a replay on the same host can be stopped.
      - C(fail) fails naming its pid, host and start time, and leaves it running.
    type: str
    default: wait
    choices: [wait, stop, fail]
extends_documentation_fragment:
  - autoport.zos.attributes
  - autoport.zos.attributes.zos
  - autoport.zos.port
attributes:
  check_mode:
    details: Reads the port and the checkpoint and reports the builds still to run; fetches, builds and writes nothing.
  diff_mode:
    details: Not supported; records are append-only and counted in the result.
  platform:
    details: Runs on a z/OS UNIX host (C(zopen) profile) or any POSIX host (C(posix) profile); standard library Python only.
seealso:
  - module: autoport.zos.port_pack
    description: "Before: packs the port repository for a z/OS build host (harvest stage)."
  - module: autoport.zos.build_log_parse
    description: The same log reader, on one log; patch_replay runs it on every build log.
  - module: autoport.zos.patch_mine
    description: "Beside it: the static records of every hunk, from the patch files alone (mine stage)."
  - module: autoport.zos.dataset_curate
    description: "Next: merges, scrubs, deduplicates and splits the records (curate stage)."
"""

EXAMPLES = r"""
- name: Harvest a port on a POSIX host with the strict posix profile
  autoport.zos.patch_replay:
    port_dir: /srv/ports/zlibport
    work_dir: /srv/harvest
    mirror_dir: /srv/mirror
    dest: /srv/out/records/zlibport.build.jsonl
  register: harvest

- name: Harvest on z/OS through zopen build, cumulative strategy
  autoport.zos.patch_replay:
    port_dir: /u/build/ports/bashport
    work_dir: /u/build/harvest
    profile: zopen
    strategy: cumulative
    build_timeout: 7200
    system: "{{ zos_facts | default({}) }}"

- name: Show what each patch fixed
  ansible.builtin.debug:
    msg: "{{ item.patch }}: {{ item.outcome }} ({{ item.categories | join(', ') }})"
  loop: "{{ harvest.patches }}"
"""

RETURN = r"""
port:
  description: The port name stored in the records.
  returned: always
  type: str
  sample: zlibport
profile:
  description: The build profile used.
  returned: always
  type: str
  sample: posix
strategy:
  description: The strategy used.
  returned: always
  type: str
  sample: leave_one_out
build_line:
  description: The resolved build line.
  returned: always
  type: str
  sample: STABLE
patch_dir:
  description: The patch folder replayed, relative to I(port_dir); null when the port has none.
  returned: always
  type: str
  sample: stable-patches
source:
  description: The source URL or path the build used.
  returned: always
  type: str
  sample: https://zlib.net/zlib-1.3.1.tar.gz
work_dir:
  description: The port's own folder under I(work_dir).
  returned: always
  type: str
  sample: /srv/harvest/zlibport
state_file:
  description: The checkpoint file.
  returned: always
  type: str
  sample: /srv/harvest/zlibport/state/replay.json
records_file:
  description: The JSONL file the records are in (I(dest) or its default).
  returned: always
  type: str
  sample: /srv/out/records/zlibport.build.jsonl
resumed:
  description: True when this run continued an interrupted harvest.
  returned: always
  type: bool
  sample: false
builds:
  description: Number of builds this run performed (0 when everything was already checkpointed, and in check mode).
  returned: always
  type: int
  sample: 11
builds_planned:
  description: Number of builds the whole harvest needs.
  returned: always
  type: int
  sample: 11
builds_remaining:
  description: Builds still to run (check mode; 0 after a real run).
  returned: always
  type: int
  sample: 0
records:
  description: Number of build records the harvest gives (new and already in I(dest)); static records come from M(autoport.zos.patch_mine).
  returned: always
  type: int
  sample: 14
records_written:
  description: Number of records this run added to I(dest) (ids that were not there before).
  returned: always
  type: int
  sample: 14
records_removed:
  description: Number of the port's records this run took out of I(dest) (from patches edited or removed since).
  returned: always
  type: int
  sample: 0
patches:
  description: What became of each patch, in application order.
  returned: always
  type: list
  elements: dict
  contains:
    patch:
      description: The patch file, relative to I(port_dir).
      type: str
      sample: stable-patches/src/copy.c.patch
    outcome:
      description: >-
        fixed, no-effect, does-not-apply, cannot-revert, unsafe-path, unreadable, timeout,
        or pending (check mode).
      type: str
      sample: fixed
    left_out_with:
      description: >-
        (leave_one_out) The later patches that do not apply without this one, left out together
        with it; empty when it was left out alone.
      type: list
      elements: str
      sample: [stable-patches/src/fold.c.patch]
    diagnostics_fixed:
      description: Number of distinct error diagnostics credited to the patch.
      type: int
      sample: 1
    categories:
      description: Categories of those diagnostics.
      type: list
      elements: str
      sample: [implicit-function]
    records:
      description: Build records the patch gave (0 for C(no-effect)).
      type: int
      sample: 1
    error:
      description: Why the patch gave no build records (names the patch), else null.
      type: str
      sample: "stable-patches/src/x.c.patch: error: patch failed: src/x.c:12"
log_files:
  description: Every build log kept, in build order.
  returned: always
  type: list
  elements: str
  sample: [/srv/harvest/zlibport/logs/loo-000-configure.log]
build_results:
  description: One entry per build with its status, failing phase and number of error diagnostics.
  returned: always
  type: list
  elements: dict
  sample: [{"key": "loo-000", "label": "all patches", "status": "ok", "failed_phase": null, "diagnostics": 0, "seconds": 4.2, "message": null}]
warnings_found:
  description: Things worth knowing that did not stop the harvest (timeouts, patches left out, buildenv oddities).
  returned: always
  type: list
  elements: str
  sample: []
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import ProgressFile, ReplayError, replay_port
from ansible_collections.autoport.zos.plugins.module_utils.port_options import port_argument_spec


def argument_spec():
    # port_dir, port, build_line and port_commit come from the shared port options.
    return port_argument_spec(
        work_dir=dict(type="path", required=True),
        state_dir=dict(type="path"),
        dest=dict(type="path"),
        log_dir=dict(type="path"),
        profile=dict(type="str", default="posix", choices=["posix", "zopen"]),
        strategy=dict(type="str", default="leave_one_out", choices=["leave_one_out", "cumulative"]),
        mirror_dir=dict(type="path"),
        source=dict(type="str"),
        build_timeout=dict(type="int", default=3600),
        cflags=dict(type="str"),
        env=dict(type="dict", default={}, no_log=True),
        toolchain=dict(type="str"),
        system=dict(type="dict"),
        zopen_command=dict(type="str", default="zopen"),
        if_running=dict(type="str", default="wait", choices=["wait", "stop", "fail"]),
    )


def run_module():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    options = dict(module.params)
    options["check_mode"] = module.check_mode
    try:
        progress = None if module.check_mode else ProgressFile(os.path.join(options["work_dir"], "progress.json"))
        result = replay_port(options, progress=progress)
    except ReplayError as exc:
        module.fail_json(msg=str(exc))
    except (OSError, UnicodeError) as exc:
        module.fail_json(msg="patch_replay %s: %s" % (options["port_dir"], exc))
    warnings = result.pop("warnings")
    for text in warnings[:10]:
        module.warn(text)
    module.exit_json(warnings_found=warnings, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
