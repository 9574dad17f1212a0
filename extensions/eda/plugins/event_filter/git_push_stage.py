"""autoport.zos.git_push_stage: decide from a git push which autoport stage to run.

Adds `autoport` to the event:

  autoport:
    stage: site | train | ... | null   # the first rule whose paths match, null: run nothing
    commit: <the pushed commit id>      # hex, checked; null when the push deleted the ref
    branch: main
    repository: owner/name
    paths: [the changed paths that matched the chosen stage]
    reason: why the stage is null (branch not watched, no matching path, ...)

Arguments:
  branches: branches that trigger runs (default [main]); tags never do. Written
    literally: ansible-rulebook does not template filter arguments.
  stages: ordered list of {name, paths}; the first stage with a matching changed path
    wins, so list the widest first (site before train). Path patterns are globs on
    repository paths: `*` stays within a folder, `**` spans folders (also none),
    `?` one character.
  keep_payload: keep the push payload in the event (default false).

GitHub, Gitea, Forgejo and GitLab push payloads all carry `ref`, `after` and
`commits[].added/modified/removed`, which is all this reads.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_STAGES = [
    {"name": "site", "paths": ["inventory/**/harvest_ports*", "**/ports.yml"]},
    {"name": "train", "paths": ["taxonomy/**"]},
]
COMMIT_ID = re.compile(r"^[0-9a-f]{7,64}$")
# Bounds on what one payload can make us look at.
MAX_COMMITS = 2048
MAX_PATHS = 20000
MAX_PATH_LENGTH = 4096


def glob_to_regex(pattern: str) -> re.Pattern:
    """Compile a repository path glob: * within a folder, ** across folders, ? one character."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def changed_paths(payload: dict[str, Any]) -> list[str]:
    """Every path added, modified or removed by the pushed commits, in order, once."""
    seen: dict[str, None] = {}
    commits = payload.get("commits")
    if not isinstance(commits, list):
        return []
    for commit in commits[:MAX_COMMITS]:
        if not isinstance(commit, dict):
            continue
        for key in ("added", "modified", "removed"):
            paths = commit.get(key)
            if not isinstance(paths, list):
                continue
            for path in paths:
                if isinstance(path, str) and 0 < len(path) <= MAX_PATH_LENGTH and path not in seen:
                    seen[path] = None
                    if len(seen) >= MAX_PATHS:
                        return list(seen)
    return list(seen)


def _branch_list(branches: Any) -> list[str]:
    """branches as given in the rulebook: a list, or one name / comma-separated names.

    ansible-rulebook does not template filter arguments, so a "{{ ... }}" here would be
    taken literally: refuse it rather than watch a branch nobody has.
    """
    if not branches:
        return ["main"]
    if isinstance(branches, str):
        branches = [part.strip() for part in branches.split(",") if part.strip()]
    if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
        raise ValueError("git_push_stage: branches must be a list of branch names, got %r" % (branches,))
    if any("{{" in b or "{%" in b for b in branches):
        raise ValueError("git_push_stage: ansible-rulebook does not template filter arguments; list the branches literally")
    return branches


def decide(payload: dict[str, Any], branches: list[str] | None = None, stages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The `autoport` decision for one push payload."""
    branches = _branch_list(branches)
    stages = stages if isinstance(stages, list) and stages else DEFAULT_STAGES
    ref = payload.get("ref") if isinstance(payload.get("ref"), str) else ""
    after = payload.get("after") if isinstance(payload.get("after"), str) else ""
    repository = payload.get("repository") if isinstance(payload.get("repository"), dict) else {}
    decision: dict[str, Any] = {
        "stage": None,
        "commit": None,
        "branch": ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else None,
        "repository": repository.get("full_name") or repository.get("path_with_namespace") or repository.get("name"),
        "paths": [],
        "reason": "",
    }
    if decision["branch"] is None:
        decision["reason"] = "not a branch push (%s)" % (ref[:100] or "no ref")
        return decision
    if decision["branch"] not in branches:
        decision["reason"] = "branch %s is not watched" % decision["branch"][:100]
        return decision
    if payload.get("deleted") is True or set(after) == {"0"}:
        decision["reason"] = "the branch was deleted"
        return decision
    if not COMMIT_ID.match(after.lower()):
        decision["reason"] = "the pushed commit id is not a hex commit id"
        return decision
    decision["commit"] = after.lower()
    paths = changed_paths(payload)
    for stage in stages:
        patterns = [glob_to_regex(p) for p in stage.get("paths") or [] if isinstance(p, str)]
        matched = [path for path in paths if any(regex.match(path) for regex in patterns)]
        if matched:
            decision["stage"] = str(stage.get("name"))
            decision["paths"] = matched[:100]
            decision["reason"] = "%d changed path(s) match stage %s" % (len(matched), decision["stage"])
            return decision
    decision["reason"] = "no changed path asks for a stage (%d changed)" % len(paths)
    return decision


def main(
    event: dict[str, Any],
    branches: list[str] | None = None,
    stages: list[dict[str, Any]] | None = None,
    keep_payload: bool = False,
) -> dict[str, Any]:
    """ansible-rulebook filter entry point.

    The payload is dropped once decided on (keep_payload: false): ansible-rulebook hands
    the whole event to the playbook as ansible_eda.event, and a push payload carries
    commit authors' names and e-mail addresses that the stages have no use for.
    """
    payload = event.get("payload")
    if not isinstance(payload, dict):
        event["autoport"] = {"stage": None, "commit": None, "branch": None, "repository": None, "paths": [], "reason": "no payload"}
    else:
        event["autoport"] = decide(payload, branches, stages)
    if not keep_payload:
        event.pop("payload", None)
    return event
