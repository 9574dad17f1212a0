# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The auto-port loop: build, take the first root error, try candidate fixes, keep what a rebuild proves.

1. The port's source is prepared and built by patch_replay's BuildSession (the
   harvest's source preparation and ``posix``/``zopen`` build profiles, reused).
2. The first root diagnostic (follow-ups skipped) not yet given up is the target.
3. The proposers (fix_propose) give candidate diffs: a fix proven earlier in the run
   for the same diagnostic first, then retrieval and templates, then the model. Each is checked for safety
   (inside the source tree, no deleted/renamed/binary files, at most
   ``max_changed_lines``), then ``git apply --check``, applied, and the port rebuilt
   incrementally. It is accepted only when the target diagnostic is gone and no
   earlier phase fails; otherwise it is reverted exactly (the touched files get their
   bytes back, checked).
4. Repeat within the budgets (errors, candidates per error, wall time).

autoport_output writes the accepted fixes the zopen way, the records and the report.

Standard library only: this runs on build hosts, z/OS included.
"""

from __future__ import annotations

import hashlib
import os
import time

from ansible_collections.autoport.zos.plugins.module_utils import git_local
from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import fix_propose
from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer
from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils import patch_read
from ansible_collections.autoport.zos.plugins.module_utils import patch_replay
from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside

DEFAULTS = {
    "max_errors": 20,
    "max_candidates": 10,
    "max_seconds": 1800,
    "max_changed_lines": 40,
    "proposers": ["retrieval", "template", "model"],
    "profile": "posix",
}
_BUILD_FILES = ("Makefile", "GNUmakefile", "makefile", "configure", "config.mk")
MAX_FILE_BYTES = 1024 * 1024


class AutoportError(Exception):
    """The loop cannot run as asked; the message names the input at fault."""


def load_records(paths: list, port: str) -> tuple:
    """(records usable as examples, [(source, reason)] for every line or record left out).
    Records of the port itself are left out, and so are records curate merged with one of its
    (``seen_in`` names it): the port is never its own teacher (leave one port out)."""
    kept, dropped = [], []
    for path in paths or []:
        try:
            lines = list(jsonl.read_jsonl(path))
        except jsonl.JsonlError as exc:
            raise AutoportError("records %s: %s" % (path, exc))
        for line in lines:
            where = "%s:%d" % (path, line.number)
            record = line.value
            if record is None:
                dropped.append((where, "%s: %s" % (line.kind, line.reason)))
            elif not record.get("patch") or not record.get("error"):
                dropped.append((where, "no error or no patch"))
            elif record.get("port") == port:
                dropped.append((where, "record of the port itself"))
            elif any(isinstance(seen, dict) and seen.get("port") == port for seen in record.get("seen_in") or []):
                dropped.append((where, "record also seen in the port itself"))
            else:
                kept.append(record)
    kept.sort(key=lambda record: (str(record.get("port")), str(record.get("patch_file")), int(record.get("hunk") or 0), str(record.get("id"))))
    return kept, dropped


def refusal(diff: str, source_dir: str, max_lines: int) -> tuple:
    """(reason or None, files, changed lines) for a candidate diff (see the module doc)."""
    try:
        parsed = patch_read.parse_patch(diff.encode("utf-8", "surrogateescape"), "candidate")
        patch_read.check_paths(parsed)
    except patch_read.PatchReadError as exc:
        return "not a usable diff: %s" % exc.reason, [], 0
    files, changed = [], 0
    for fp in parsed.files:
        if fp.is_deleted:
            return "deletes %s" % fp.path, [], 0
        if fp.is_rename or fp.is_binary:
            return "renames or changes a binary file (%s)" % fp.path, [], 0
        if not inside(os.path.join(source_dir, fp.path), source_dir) or fp.path.split("/")[0] == ".git":
            return "touches %s outside the source tree" % fp.path, [], 0
        files.append(fp.path)
        changed += sum(hunk.added + hunk.removed for hunk in fp.hunks)
    if not files:
        return "changes no file", [], 0
    if changed > max_lines:
        return "changes %d lines (limit %d)" % (changed, max_lines), files, changed
    return None, sorted(set(files)), changed


def _revealed(target: dict, diag: dict) -> bool:
    """Whether a new error may have been hidden by the target rather than caused by the fix: the
    rest of a file whose compilation a fatal error stopped, a link error, or a later phase."""
    order = list(build_profile.PHASES)
    if diag.get("category") == "unresolved-symbol" or diag.get("tool") in ("ld", "binder"):
        return True
    if diag.get("phase") in order and target.get("phase") in order and order.index(diag["phase"]) > order.index(target["phase"]):
        return True
    same_file = os.path.basename(diag.get("file") or "") == os.path.basename(target.get("file") or "-")
    return target.get("severity") == "fatal" and same_file


def _git(args: list, cwd: str, env: dict) -> tuple:
    result = git_local.run(args, cwd=cwd, env=env, stderr_to_stdout=True)
    return result.returncode, git_local.output(result)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


class Loop(object):
    """One auto-port run of one port (see the module doc)."""

    def __init__(self, options: dict, records: list, progress=None):
        self.options = options
        self.session = patch_replay.BuildSession(options["replay"], progress)
        self.proposers = fix_propose.Proposers(records, options["proposers"], options.get("endpoint"))
        self.say = progress or (lambda message: None)
        self.errors = []
        self.accepted = []
        # Fixes the rebuild proved in this run, for reuse on the same diagnostic (fix_propose.propose_reuse).
        self.proven = []
        self.builds = 0
        self.started = None
        self.baseline = {}
        self.stop_reason = None
        self.result = None

    # -- the tree ----------------------------------------------------------------

    @property
    def source_dir(self) -> str:
        return self.session.source_dir

    def _resolve(self, name: str | None) -> str | None:
        """A diagnostic's file as a path relative to the source tree, when it is one of its files."""
        if not name:
            return None
        name = name.split(":", 1)[0]
        path = name if os.path.isabs(name) else os.path.join(self.source_dir, name)
        if os.path.isfile(path) and inside(path, self.source_dir):
            return os.path.relpath(os.path.realpath(path), os.path.realpath(self.source_dir)).replace(os.sep, "/")
        base = os.path.basename(name)
        matches = [path for path in self._tracked() if os.path.basename(path) == base]
        return matches[0] if len(matches) == 1 else None

    def _tracked(self) -> list:
        code, out = _git(["ls-files", "-z"], self.source_dir, self.session.git_env)
        return sorted(name for name in out.split("\0") if name) if code == 0 else []

    def _text(self, rel: str) -> str | None:
        data = _read(os.path.join(self.source_dir, rel))
        if data is None or len(data) > MAX_FILE_BYTES or b"\0" in data:
            return None
        return data.decode("utf-8", "surrogateescape")

    def context(self, diag: dict) -> dict:
        """What the proposers see: the error, its key name, the diagnosed file and the build files."""
        rel = self._resolve(diag.get("file"))
        files = {}
        for path in ([rel] if rel else []) + [p for p in self._tracked() if os.path.basename(p) in _BUILD_FILES or p.endswith(".mk")]:
            text = self._text(path) if path not in files else None
            if text is not None:
                files[path] = text
        excerpt, start = "", 0
        if rel and rel in files:
            lines = files[rel].split("\n")
            line = int(diag.get("line") or 1)
            start = max(0, line - 9)
            excerpt = "\n".join(lines[start:line + 8])
        return {"diag": diag, "file": rel, "files": files, "excerpt": excerpt, "excerpt_start": start, "port": self.options.get("port"),
                "toolchain": getattr(self.session, "toolchain", None), "token": fix_transfer.key_token(diag.get("message") or "")}

    # -- builds --------------------------------------------------------------------

    def _build(self, label: str) -> dict:
        self.builds += 1
        result = self.session.build("ap-%03d" % self.builds, label)
        result["roots"] = [diag for diag in result["diagnostics"] if not diag.get("follow_up")]
        return result

    def _snapshot(self, files: list) -> dict:
        return {path: _read(os.path.join(self.source_dir, path)) for path in files}

    def _restore(self, saved: dict, diff_path: str) -> None:
        """Undo a candidate: git apply -R, then make sure every touched file has its old bytes."""
        _git(["apply", "-R", "--", diff_path], self.source_dir, self.session.git_env)
        for path, data in saved.items():
            full = os.path.join(self.source_dir, path)
            if _read(full) != data:
                if data is None:
                    os.unlink(full)
                else:
                    with open(full, "wb") as handle:
                        handle.write(data)
        if self._snapshot(list(saved)) != saved:
            raise AutoportError("cannot revert a rejected candidate in %s" % self.source_dir)

    # -- one candidate ---------------------------------------------------------------

    def judge(self, target: dict, before: dict, after: dict) -> str | None:
        """None when the rebuild proves the candidate, else why not."""
        if after["status"] == "timeout":
            return "rebuild timed out"
        order = list(build_profile.PHASES)
        failed = after.get("failed_phase")
        phase = target.get("phase") if target.get("phase") in order else "build"
        if failed in order and order.index(failed) < order.index(phase):
            return "earlier phase failed: %s" % failed
        keys = set(diag["key"] for diag in after["roots"])
        known = set(diag["key"] for diag in before["roots"])
        new = [diag for diag in after["roots"] if diag["key"] not in known]
        if target["key"] in keys:
            return "new error: %s" % new[0].get("message") if new else "error unchanged"
        caused = [diag for diag in new if not _revealed(target, diag)]
        if caused:
            return "diagnostic gone but a new error came: %s" % caused[0].get("message")
        return None

    def attempt(self, target: dict, candidate: dict, number: int) -> dict:
        """Try one candidate; returns its report entry (accepted or the reason it was not)."""
        entry = {"proposer": candidate["proposer"], "origin": candidate["origin"], "note": candidate.get("note"), "diff": candidate["diff"]}
        reason, files, changed = refusal(candidate["diff"], self.source_dir, self.options["max_changed_lines"])
        entry.update(files=files, changed_lines=changed)
        if not reason and candidate.get("invented") and not self.options.get("allow_invented_values"):
            reason = candidate["invented"]
        if reason:
            return dict(entry, outcome="refused", reason=reason)
        folder = os.path.join(self.options["work"], "candidates")
        os.makedirs(folder, exist_ok=True)
        diff_path = os.path.join(folder, "%03d.diff" % number)
        with open(diff_path, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(candidate["diff"])
        code, out = _git(["apply", "--check", "--", diff_path], self.source_dir, self.session.git_env)
        if code != 0:
            return dict(entry, outcome="does-not-apply", reason=out or "git apply --check failed")
        saved = self._snapshot(files)
        self.session.touched(files)
        code, out = _git(["apply", "--", diff_path], self.source_dir, self.session.git_env)
        if code != 0:
            self._restore(saved, diff_path)
            return dict(entry, outcome="does-not-apply", reason=out or "git apply failed")
        after = self._build("candidate %d for %s" % (number, target["key"]))
        entry["rebuild"] = {"status": after["status"], "failed_phase": after.get("failed_phase"), "errors": len(after["roots"]),
                            "first_error": after["roots"][0].get("message") if after["roots"] else None}
        reason = self.judge(target, self.result, after)
        if reason is not None:
            self.session.touched(files)
            self._restore(saved, diff_path)
            return dict(entry, outcome="rejected", reason=reason)
        self.result = after
        return dict(entry, outcome="accepted", reason="diagnostic gone, no earlier phase failed")

    # -- the loop ----------------------------------------------------------------------

    def _out_of_time(self) -> bool:
        return time.monotonic() - self.started > self.options["max_seconds"]

    def _next_target(self, given_up: set) -> dict | None:
        for diag in self.result["roots"]:
            if diag["key"] not in given_up:
                return diag
        return None

    def run(self) -> dict:
        self.started = time.monotonic()
        failures = self.session.start()
        self.baseline = {path: _read(os.path.join(self.source_dir, path)) for path in self._tracked()}
        self.result = self._build("start")
        first = self.result
        given_up = set()
        number = 0
        while True:
            if self.result["status"] == "ok":
                self.stop_reason = "build passes"
                break
            target = self._next_target(given_up)
            if target is None:
                self.stop_reason = "no error left that was not tried" if self.result["roots"] else "build fails without a diagnostic"
                break
            if len(self.errors) >= self.options["max_errors"]:
                self.stop_reason = "error budget (%d) used" % self.options["max_errors"]
                break
            if self._out_of_time():
                self.stop_reason = "time budget (%d s) used" % self.options["max_seconds"]
                break
            number = self._error(target, given_up, number)
        return {"patch_failures": failures, "first_build": first, "final_build": self.result}

    def _error(self, target: dict, given_up: set, number: int) -> int:
        self.say("error %d: %s" % (len(self.errors) + 1, target.get("message")))
        context = self.context(target)
        limit = self.options["max_candidates"]
        asks_model = "model" in self.proposers.enabled
        # The model is asked last, and only when the cheap candidates did not fix the error.
        candidates, problems = self.proposers.propose(context, limit - 1 if asks_model and limit > 1 else limit, self.proven, model=False)
        entry = {"error": self.session.relative(target.get("message") or ""), "category": target.get("category"), "phase": target.get("phase"),
                 "file": context["file"], "line": target.get("line"), "key": target["key"], "token": context["token"],
                 "proposer_problems": problems, "candidates": [], "fixed": False}
        self.errors.append(entry)
        number = self._try_all(target, entry, candidates, number)
        if not entry["fixed"] and asks_model and len(entry["candidates"]) < limit and not self._out_of_time():
            tried = set(candidate["diff"] for candidate in entry["candidates"])
            more = [c for c in self.proposers.model_candidates(context, problems) if c["diff"] not in tried]
            number = self._try_all(target, entry, more[:limit - len(entry["candidates"])], number)
        if entry["fixed"]:
            fix = entry["candidates"][-1]
            self.proven.append({"signature": fix_propose.signature(target, context["token"]), "diff": fix["diff"], "file": context["file"],
                                "error": target.get("message") or "", "error_number": len(self.errors), "proposer": fix["proposer"]})
        else:
            given_up.add(target["key"])
        return number

    def _try_all(self, target: dict, entry: dict, candidates: list, number: int) -> int:
        """Try candidates in order until one is accepted (or time is up); each goes into the entry."""
        for candidate in candidates:
            if self._out_of_time():
                break
            number += 1
            tried = self.attempt(target, candidate, number)
            entry["candidates"].append(tried)
            if tried["outcome"] == "accepted":
                entry["fixed"] = True
                entry["fixed_by"] = tried["proposer"]
                self.accepted.append({"error": entry, "candidate": tried, "build": self.builds})
                break
        return number

    def final_texts(self) -> dict:
        """{path: (text before the loop, text now)} for every file the accepted fixes changed."""
        changed = {}
        for fix in self.accepted:
            for path in fix["candidate"]["files"]:
                before = self.baseline.get(path)
                now = _read(os.path.join(self.source_dir, path))
                if before != now:
                    changed[path] = ((before or b"").decode("utf-8", "surrogateescape"), (now or b"").decode("utf-8", "surrogateescape"))
        return dict(sorted(changed.items()))


def file_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
