# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Leave-one-out when later patches need the patch left out.

A patch Q *depends on* P when Q does not apply once P is left out (its context
holds lines P adds or changes). Leaving P alone out is then impossible, and
leaving out P with everything else in would credit P with nothing. The rule:

* P's *dependents* D(P) are the patches that real ``git apply`` refuses when
  every active patch but P is applied in order; a patch refused because an
  earlier dependent is missing is a dependent too (the closure is transitive).
* The build *without P* leaves out P and D(P).
* Its reference is the build *without D(P) only* (P in, its dependents out),
  not the build with every patch: the diagnostics that appear when P is left
  out there are exactly the ones P's absence causes. What only the absence of
  a dependent causes shows in both builds and is never credited to P.
* The reference build is shared: when D(P) is one patch Q that can itself be
  left out, it is Q's own leave-one-out build; otherwise it is built once
  (key ``dep-<n>``).
* The dependents are credited by their own leave-one-out builds as usual.

Plain functions on the checkpoint's build entries (``patches`` = the patch
names applied in that build). Standard library only.
"""

from __future__ import annotations

CONTEXT_PREFIX = "dep-"
# Set on a skipped leave-one-out build once the dependents were looked for.
CHECKED = "dependents_checked"


def retry_with_dependents(build: dict) -> bool:
    """Whether a checkpointed leave-one-out build must be redone under this rule: a patch that
    could not be left out, skipped by a harvest that did not yet look for its dependents."""
    return build.get("status") == "skipped" and str(build.get("message", "")).startswith("cannot build without") and not build.get(CHECKED)


def dependents(active: list, patch: str, failures: dict) -> list:
    """The active patches (in order) that did not apply once ``patch`` was left out."""
    return [name for name in active if name != patch and name in failures]


def left_out(active: list, build: dict | None) -> list:
    """Active patches a (non-skipped) build left out, in order; [] for a skipped or missing build."""
    if not build or build.get("status") == "skipped":
        return []
    applied = set(build.get("patches") or [])
    return [name for name in active if name not in applied]


def left_out_with(active: list, build: dict | None, patch: str) -> list:
    """The dependents left out together with ``patch`` in its leave-one-out build."""
    return [name for name in left_out(active, build) if name != patch]


def context_of(active: list, build: dict | None, patch: str) -> list | None:
    """The patches of the reference build for ``patch``: every active patch but its dependents.

    None when the build left ``patch`` alone out: its reference is the build with every patch.
    """
    together = left_out_with(active, build, patch)
    if not together:
        return None
    return [name for name in active if name not in together]


def find_build(builds: dict, patches: list) -> dict | None:
    """The first build (by key) that applied exactly ``patches``, in that order; skipped ones never match."""
    for key in sorted(builds):
        build = builds[key]
        if build.get("status") != "skipped" and list(build.get("patches") or []) == list(patches):
            return build
    return None


def context_key(number: int) -> str:
    """The key of the reference build made for patch number ``number`` when no other build fits."""
    return "%s%03d" % (CONTEXT_PREFIX, number)


def reference_build(builds: dict, active: list, number: int, patch: str, base: dict | None) -> dict | None:
    """The build to compare the build without ``patch`` (number ``number``) with.

    The build with every patch when the patch was left out alone; else the build
    without its dependents (a skipped ``dep-<n>`` entry when it could not be made);
    None while that build does not exist yet.
    """
    without = builds.get("loo-%03d" % number)
    context = context_of(active, without, patch)
    if context is None:
        return base
    return find_build(builds, context) or builds.get(context_key(number))
