# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Attribution: credit the diagnostics a build gains without a patch to that patch, and make the fix records.

Part of patch_replay (the orchestrator). Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import os
import re

from ansible_collections.autoport.zos.plugins.module_utils import build_log
from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import patch_dependents
from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils import replay_checkpoint
from ansible_collections.autoport.zos.plugins.module_utils import static_mine
from ansible_collections.autoport.zos.plugins.module_utils.atomic_file import OutputError
from ansible_collections.autoport.zos.plugins.module_utils.port_records import replace_port_records
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, make_record
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils.replay_options import ReplayError
from ansible_collections.autoport.zos.plugins.module_utils.replay_tree import _Patch


_SEVERITIES_KEPT = ("error", "fatal")


def _relative_error(text: str, roots: list) -> str:
    for root in roots:
        if root:
            text = text.replace(root.rstrip(os.sep) + os.sep, "").replace(root, ".")
    # Scrubbed where it matters: the log it came from (build_profile) and make_record.
    return text


# ---------------------------------------------------------------------------
# Diagnostics and records.


def _diagnostics(result: dict):
    """The error diagnostics of one build's phase logs, reduced to what attribution needs (a generator)."""
    for phase in result.get("phases", []):
        log = phase.get("log")
        if not log or phase.get("phase") not in build_profile.PHASES or not os.path.isfile(log):
            continue
        if phase.get("status") == "timeout":
            # Cut short by the kill: what it printed last ("Terminated", ...) is ours, not the port's.
            continue
        for diag in build_log.iter_diagnostics(log, phase=phase["phase"]):
            if (diag.get("severity") or "error") not in _SEVERITIES_KEPT:
                continue
            item = {name: diag.get(name) for name in ("file", "line", "column", "severity", "code", "message", "category", "follow_up", "phase", "tool")}
            # The tool a parser guesses can differ between two logs of the same error
            # (a compiler line seen or not before it): it is not part of what the error is.
            item["key"] = build_log.message_key(dict(diag, tool=None))
            yield item


def _credited(without: dict, with_: dict) -> list:
    """Diagnostics of the build without the patch that the build with it no longer has."""
    gone = replay_checkpoint.present_keys(with_)
    seen = set()
    credited = []
    for diag in without.get("diagnostics", []):
        if replay_checkpoint.key_digest(diag["key"]) in gone or diag["key"] in seen:
            continue
        seen.add(diag["key"])
        credited.append(diag)
    primary = [diag for diag in credited if not diag.get("follow_up")]
    return primary or credited


_QUOTED = re.compile(r"[`'\"\u2018\u201c]([^`'\"\u2019\u201d\s]{2,80})[`'\"\u2019\u201d]")
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]{2,}")


def _hunk_for(patch: _Patch, diag: dict, source_dir: str):
    """The (FilePatch, Hunk) of a patch that best explains a diagnostic."""
    pf = patch.parsed
    hunks = pf.hunks
    if not hunks:
        return None
    path = diag.get("file")
    if path:
        if os.path.isabs(path) and inside(path, source_dir):
            path = os.path.relpath(path, source_dir)
        match = patch_read.nearest_hunk(pf, path, diag.get("line"))
        if match:
            return match
    if len(hunks) == 1:
        return hunks[0]
    message = diag.get("message") or ""
    tokens = _QUOTED.findall(message) or _WORDS.findall(message)
    for lines_of in (lambda h: [line[1:] for line in h.lines if line[:1] in "+-"], lambda h: [line[1:] for line in h.lines]):
        for fp, hunk in hunks:
            text = "\n".join(lines_of(hunk))
            if any(token in text for token in tokens):
                return fp, hunk
    for fp, hunk in hunks:
        if static_mine.infer_phase(fp.path) == diag.get("phase"):
            return fp, hunk
    return hunks[0]


def _record_phase(diag: dict) -> str:
    phase = diag.get("phase") or "unknown"
    if diag.get("tool") in ("ld", "binder") or diag.get("category") == "unresolved-symbol":
        return "link"
    return phase if phase in ("patch", "bootstrap", "configure", "build", "link", "check", "install", "runtime") else "unknown"


def _error_text(diag: dict, roots: list) -> str:
    return _relative_error(diag.get("message") or "", roots)


class _RecordSteps(object):
    """The attribution steps of patch_replay's _Harvest: pair the builds with and without each patch,
    credit the difference, make and write the records. A mixin: the state is the harvest's."""

    @staticmethod
    def _last_log(build: dict) -> str:
        logs = [phase.get("log") for phase in build.get("phases", []) if phase.get("log")]
        return logs[-1] if logs else "none"

    # -- attribution and records ----------------------------------------------

    def _pairs(self) -> list:
        """(patch, build without it, build with it) for every patch, by strategy."""
        data = self.state.data
        builds = data["builds"]
        pairs = []
        if self.opts["strategy"] == "leave_one_out":
            base = builds.get("loo-000")
            active = data.get("active") or []
            for number, patch in enumerate(self.patches, 1):
                reference = patch_dependents.reference_build(builds, active, number, patch.name, base)
                pairs.append((patch, builds.get("loo-%03d" % number), reference))
        else:
            previous = builds.get("cum-000")
            for number, patch in enumerate(self.patches, 1):
                current = builds.get("cum-%03d" % number)
                pairs.append((patch, previous, current))
                if current is not None and current.get("status") != "skipped":
                    previous = current
        return pairs

    def _outcome(self, patch: _Patch, without: dict | None, with_: dict | None) -> tuple:
        """(outcome, error text, credited diagnostics) for one patch."""
        excluded = self.state.data.get("excluded") or {}
        if patch.outcome in ("unreadable", "unsafe-path"):
            return patch.outcome, patch.problem, []
        if patch.name in excluded:
            return "does-not-apply", "%s: %s" % (patch.name, excluded[patch.name]), []
        if without is None or with_ is None:
            return "pending", None, []
        if without.get("status") == "skipped":
            reason = without.get("message") or ""
            return ("cannot-revert" if self.opts["strategy"] == "leave_one_out" else "does-not-apply"), reason, []
        if with_.get("status") == "skipped":
            if with_.get("key", "").startswith(patch_dependents.CONTEXT_PREFIX):
                return "cannot-revert", with_.get("message"), []
            return "does-not-apply", with_.get("message"), []
        credited = _credited(without, with_)
        if credited:
            return "fixed", None, credited
        if without.get("status") == "timeout" and with_.get("status") != "timeout":
            return "timeout", "the build without %s timed out (%s)" % (patch.name, without.get("message") or ""), []
        return "no-effect", None, []

    def records(self) -> tuple:
        """The build records of the harvest (deterministic) and the per-patch summary.

        A record is made for each credited diagnostic only; a patch whose removal breaks
        nothing, and a hunk no diagnostic points at, give none here (the mine stage,
        static_mine, makes the ``provenance: static`` records of every hunk)."""
        data = self.state.data
        roots = [os.path.join(self.root, self.port["code_dir"]), self.root, self.work]
        common = {
            "port": self.opts["port"],
            "port_commit": self.opts.get("port_commit"),
            "toolchain": data.get("toolchain") or self.opts.get("toolchain") or self._default_toolchain(),
            "build_line": self.port["build_line"],
        }
        if self.opts.get("system"):
            common["system"] = self.opts["system"]
        records = []
        summary = []
        for patch, without, with_ in self._pairs():
            outcome, error, credited = self._outcome(patch, without, with_)
            made = []
            seen = set()
            for diag in credited:
                match = _hunk_for(patch, diag, roots[0])
                if match is None:
                    continue
                fp, hunk = match
                identity = (fp.path, hunk.index, diag["key"])
                if identity in seen:
                    continue
                seen.add(identity)
                wrong_code, correct_code = patch_read.hunk_code(hunk)
                fields = dict(
                    common,
                    wrong_code=wrong_code,
                    correct_code=correct_code,
                    error_category=diag.get("category") or "other",
                    error=_error_text(diag, roots),
                    error_code=diag.get("code"),
                    patch=patch_read.hunk_patch_text(fp, hunk),
                    patch_file=patch.name,
                    file=fp.path,
                    hunk=hunk.index,
                    phase=_record_phase(diag),
                    provenance="build",
                )
                try:
                    made.append(make_record(**fields))
                except RecordError as exc:
                    self.warnings.append("%s: cannot make a record: %s" % (patch.name, exc))
            # Only what a build proved: the static records of every hunk come from the mine stage
            # (patch_mine), the one source of them; curate lets a build record replace its hunk's.
            records.extend(made)
            together = []
            if self.opts["strategy"] == "leave_one_out":
                together = patch_dependents.left_out_with(data.get("active") or [], without, patch.name)
            summary.append({
                "patch": patch.name,
                "outcome": outcome,
                "left_out_with": together,
                "diagnostics_fixed": len(credited),
                "categories": sorted(set(diag.get("category") or "other" for diag in credited)),
                "records": len(made),
                "error": error,
            })
        return records, summary

    def write_records(self, records: list, check_mode: bool = False) -> dict:
        """Make dest hold exactly these records for the port (port_records): edited or removed
        patches leave nothing behind."""
        try:
            return replace_port_records(self.opts["dest"], self.opts["port"], records, check_mode=check_mode, create_empty=True)
        except (OSError, OutputError, RecordError) as exc:
            raise ReplayError("cannot write records to %s: %s" % (self.opts["dest"], exc))

    def log_files(self) -> list:
        files = []
        for key in sorted(self.state.data["builds"]):
            for phase in self.state.data["builds"][key].get("phases", []):
                if phase.get("log") and os.path.isfile(phase["log"]):
                    files.append(phase["log"])
        return files

    def builds_summary(self) -> list:
        out = []
        for key in sorted(self.state.data["builds"]):
            build = self.state.data["builds"][key]
            out.append({
                "key": key,
                "label": build.get("label"),
                "status": build.get("status"),
                "failed_phase": build.get("failed_phase"),
                "diagnostics": (build.get("diagnostics_summary") or {}).get("total", len(build.get("diagnostics", []))),
                "seconds": build.get("seconds"),
                "message": build.get("message"),
            })
        return out
