# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Options, outputs and the one entry point of an auto-port run (the autoport_fix module calls ``run``).

Outputs under ``output_dir/<port>/``:

* ``patches/<path/to/file>.patch``: the accepted fixes the zopen way (``git diff``
  output, one file per patched source file); copied into the port's patch folder
  only with ``write_patches`` (a port patch of the same name is never overwritten:
  ours is then ``<file>.autoport.patch``).
* ``records.jsonl``: every accepted fix as a record with ``provenance: autoport``.
* ``negatives.jsonl``: every candidate not kept, with its reason.
* ``report.json`` and ``report.md``: every error met, every candidate tried, its
  proposer and what the rebuild said.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.autoport.zos.plugins.module_utils import autoport_loop
from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer
from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils import patch_replay
from ansible_collections.autoport.zos.plugins.module_utils import port_layout
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import remove_if_present, write_if_changed
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, make_record

REPLAY_KEYS = ("port_dir", "port", "work_dir", "mirror_dir", "source", "profile", "build_line", "build_timeout", "cflags", "env", "zopen_command")


def check_options(options: dict) -> dict:
    """The options with defaults filled in; AutoportError names a bad one."""
    opts = dict(autoport_loop.DEFAULTS)
    opts.update({key: value for key, value in (options or {}).items() if value is not None})
    for name in ("port_dir", "work_dir", "output_dir"):
        if not opts.get(name) or not isinstance(opts[name], str):
            raise autoport_loop.AutoportError("%s is required" % name)
    for name in ("max_errors", "max_candidates", "max_seconds", "max_changed_lines"):
        value = opts[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise autoport_loop.AutoportError("%s must be a whole number of at least 1, got %r" % (name, value))
    opts["port"] = opts.get("port") or os.path.basename(os.path.abspath(opts["port_dir"]).rstrip(os.sep))
    opts["records"] = [opts["records"]] if isinstance(opts.get("records"), str) else list(opts.get("records") or [])
    opts["proposers"] = list(opts["proposers"])
    replay = {key: opts[key] for key in REPLAY_KEYS if opts.get(key) is not None}
    replay["work_dir"] = os.path.join(os.path.abspath(opts["work_dir"]), "autoport")
    opts["replay"] = replay
    opts["out"] = os.path.join(os.path.abspath(opts["output_dir"]), patch_replay.safe_name(opts["port"]))
    opts["work"] = os.path.join(replay["work_dir"], patch_replay.safe_name(opts["port"]))
    return opts


def patch_name(path: str, existing: set) -> str:
    """The zopen name of the patch of one file; ``.autoport.patch`` when the port has that name already."""
    name = path + ".patch"
    return path + ".autoport.patch" if name in existing else name


def _port_patch_folder(opts: dict) -> tuple:
    buildenv = port_layout.read_buildenv(os.path.join(opts["port_dir"], "buildenv"))
    folder, _line = port_layout.select_patch_dir(opts["port_dir"], buildenv, opts.get("build_line") or "auto")
    folder = folder or os.path.join(opts["port_dir"], "patches")
    existing = set()
    for path in port_layout.list_patches(folder) if os.path.isdir(folder) else []:
        existing.add(os.path.relpath(path, folder).replace(os.sep, "/"))
    return folder, existing


def fix_record(opts: dict, fix: dict, toolchain: str, build_line: str | None) -> dict | None:
    """The record of one accepted fix (its first hunk: the one nearest the error)."""
    error, candidate = fix["error"], fix["candidate"]
    parsed = patch_read.parse_patch(candidate["diff"].encode("utf-8", "surrogateescape"), "candidate")
    pairs = parsed.hunks
    if not pairs:
        return None
    fp, hunk = pairs[0]
    if error.get("file"):
        pairs = [pair for pair in pairs if pair[0].path == error["file"]] or pairs
        fp, hunk = patch_read.nearest_hunk(parsed, error["file"], error.get("line")) or pairs[0]
    wrong, correct = patch_read.hunk_code(hunk)
    phase = error.get("phase") if error.get("phase") in ("bootstrap", "configure", "build", "check") else "unknown"
    if error.get("category") == "unresolved-symbol":
        phase = "link"
    try:
        return make_record(
            wrong_code=wrong, correct_code=correct, error=error["error"], error_category=error.get("category") or "other",
            patch=candidate["diff"], port=opts["port"], port_commit=None, patch_file="autoport/" + fp.path + ".patch",
            file=fp.path, hunk=hunk.index, phase=phase, toolchain=toolchain, provenance="autoport", build_line=build_line,
        )
    except RecordError:
        return None


def _jsonl(items: list) -> bytes:
    return "".join(json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n" for item in items).encode("utf-8")


def negatives(opts: dict, errors: list) -> list:
    """Every candidate not kept, with the error it was for and why (for the evaluation)."""
    found = []
    for error in errors:
        for candidate in error["candidates"]:
            if candidate["outcome"] != "accepted":
                found.append({"port": opts["port"], "error": error["error"], "error_category": error.get("category"), "file": error.get("file"),
                              "proposer": candidate["proposer"], "origin": candidate["origin"], "patch": candidate["diff"],
                              "outcome": candidate["outcome"], "reason": candidate["reason"]})
    return found


def summary_line(report: dict) -> str:
    s = report["summary"]
    return "%s: %d errors met, %d fixed, %d builds, final build %s (%s)" % (
        report["port"], s["errors_met"], s["errors_fixed"], s["builds"], "passes" if s["final_build_passes"] else "fails", s["stop_reason"])


def markdown(report: dict) -> str:
    lines = ["# Auto-port report: %s" % report["port"], "", summary_line(report), ""]
    lines += ["| # | error | category | fixed by | candidates |", "|---|---|---|---|---|"]
    for number, error in enumerate(report["errors"], 1):
        lines.append("| %d | %s | %s | %s | %d |" % (number, error["error"].replace("|", "\\|")[:120], error.get("category"),
                                                     error.get("fixed_by") or "-", len(error["candidates"])))
    for number, error in enumerate(report["errors"], 1):
        lines += ["", "## %d. %s" % (number, error["error"][:200]), ""]
        for candidate in error["candidates"]:
            rebuild = candidate.get("rebuild") or {}
            said = " (rebuild: %s)" % rebuild.get("status") if rebuild else ""
            lines.append("- %s `%s`: **%s**, %s%s" % (candidate["proposer"], candidate["origin"][:60], candidate["outcome"], candidate["reason"], said))
    return "\n".join(lines) + "\n"


def _summary(loop: autoport_loop.Loop, outcome: dict, seconds: float) -> dict:
    tried, fixed_by = {}, {}
    for error in loop.errors:
        for candidate in error["candidates"]:
            tried[candidate["proposer"]] = tried.get(candidate["proposer"], 0) + 1
        if error.get("fixed_by"):
            fixed_by[error["fixed_by"]] = fixed_by.get(error["fixed_by"], 0) + 1
    return {
        "errors_met": len(loop.errors), "errors_fixed": sum(1 for error in loop.errors if error["fixed"]), "builds": loop.builds,
        "first_build_errors": len(outcome["first_build"]["roots"]), "final_build_status": outcome["final_build"]["status"],
        "final_build_passes": outcome["final_build"]["status"] == "ok", "final_build_errors": len(outcome["final_build"]["roots"]),
        "candidates_by_proposer": dict(sorted(tried.items())), "fixed_by_proposer": dict(sorted(fixed_by.items())),
        "stop_reason": loop.stop_reason, "seconds": round(seconds, 3),
    }


def write_outputs(opts: dict, loop: autoport_loop.Loop, outcome: dict, seconds: float, check_mode: bool = False) -> dict:
    """Patches, records, negatives and the report; returns the module's result fields."""
    out = opts["out"]
    folder, existing = _port_patch_folder(opts)
    changed_files = []
    patches = {}
    for path, (before, after) in loop.final_texts().items():
        patches[patch_name(path, existing)] = fix_transfer.unified_diff(path, before, after)
    toolchain = loop.session.toolchain
    records = [record for record in (fix_record(opts, fix, toolchain, loop.session.build_line) for fix in loop.accepted) if record]
    report = {"port": opts["port"], "proposers": loop.proposers.enabled, "templates": len(loop.proposers.templates),
              "patch_failures": outcome["patch_failures"], "errors": loop.errors, "patches": sorted(patches),
              "summary": _summary(loop, outcome, seconds)}
    outputs = {os.path.join(out, "patches", name): text.encode("utf-8", "surrogateescape") for name, text in patches.items()}
    outputs[os.path.join(out, "records.jsonl")] = _jsonl(records)
    outputs[os.path.join(out, "negatives.jsonl")] = _jsonl(negatives(opts, loop.errors))
    stable = dict(report, summary=dict(report["summary"], seconds=None))
    outputs[os.path.join(out, "report.json")] = (json.dumps(stable, indent=1, sort_keys=True) + "\n").encode("utf-8")
    outputs[os.path.join(out, "report.md")] = markdown(report).encode("utf-8")
    if opts.get("write_patches"):
        for name, text in patches.items():
            outputs[os.path.join(folder, name)] = text.encode("utf-8", "surrogateescape")
    for path, data in sorted(outputs.items()):
        if write_if_changed(path, data, check_mode=check_mode):
            changed_files.append(path)
    # Patches of an earlier run that this run did not produce would be applied by zopen: gone.
    for folder_path, _dirs, names in os.walk(os.path.join(out, "patches")):
        for name in sorted(names):
            path = os.path.join(folder_path, name)
            if path not in outputs and remove_if_present(path, check_mode=check_mode):
                changed_files.append(path)
    return {"changed": bool(changed_files), "changed_files": changed_files, "report": report, "summary_line": summary_line(report),
            "records_file": os.path.join(out, "records.jsonl"), "patch_dir": os.path.join(out, "patches"), "patches": sorted(patches),
            "port_patch_dir": folder if opts.get("write_patches") else None,
            "patch_folder": os.path.relpath(folder, opts["port_dir"]).replace(os.sep, "/")}


def run(options: dict, check_mode: bool = False, progress=None) -> dict:
    """One auto-port run (see autoport_loop). In check mode nothing is built or written: the
    result says what would run."""
    opts = check_options(options)
    records, dropped = autoport_loop.load_records(opts["records"], opts["port"])
    if check_mode:
        return {"changed": False, "changed_files": [], "port": opts["port"], "records": len(records), "records_dropped": len(dropped),
                "proposers": opts["proposers"], "summary_line": "%s: check mode, nothing built" % opts["port"], "report": None}
    started = time.monotonic()
    try:
        loop = autoport_loop.Loop(opts, records, progress)
        outcome = loop.run()
    except patch_replay.ReplayError as exc:
        raise autoport_loop.AutoportError(str(exc))
    result = write_outputs(opts, loop, outcome, time.monotonic() - started)
    result.update(port=opts["port"], records=len(records), records_dropped=len(dropped), proposers=loop.proposers.enabled)
    return result
