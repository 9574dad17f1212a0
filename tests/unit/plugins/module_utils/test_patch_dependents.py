"""Leave-one-out with dependent patches: real builds of samples/ports/lnfindport, whose
second patch (src/fold.c.patch) only applies on top of the first (src/compat.h.patch).

Known answers, from the patches themselves (samples/ports/lnfindport/README.md): without
compat.h.patch `memmem` is undeclared in src/search.c; without fold.c.patch `strcasestr`
is undeclared in src/fold.c; without main.c.patch `getline` is undeclared in src/main.c.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import patch_dependents
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
from ansible_collections.autoport.zos.plugins.module_utils.record import read_records, validate_record

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
MIRROR = SAMPLES / "mirror"
PORT = SAMPLES / "ports" / "lnfindport"

COMPAT = "stable-patches/src/compat.h.patch"
FOLD = "stable-patches/src/fold.c.patch"
MAIN = "stable-patches/src/main.c.patch"
SEARCH = "stable-patches/src/search.c.patch"

# patch -> fragment of the one primary error its absence causes (and the file it is in).
KNOWN = {
    COMPAT: ("implicit declaration of function 'memmem'", "src/search.c"),
    FOLD: ("implicit declaration of function 'strcasestr'", "src/fold.c"),
    MAIN: ("implicit declaration of function 'getline'", "src/main.c"),
}

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="the harvest needs cc, make and git on the host"
)


def harvest(port_dir: Path, work: Path, **extra) -> tuple:
    options = {"port_dir": str(port_dir), "work_dir": str(work), "mirror_dir": str(MIRROR)}
    options.update(extra)
    result = replay_port(options)
    return result, [item[1] for item in read_records(result["records_file"])]


def build_records(records: list, patch: str) -> list:
    return [record for record in records if record["patch_file"] == patch and record["provenance"] == "build"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("lnfind")
    return {strategy: harvest(PORT, base / strategy, strategy=strategy) for strategy in ("leave_one_out", "cumulative")}


def assert_credited_as_known(result: dict, records: list) -> None:
    assert all(validate_record(record) == [] for record in records)
    outcomes = {item["patch"]: item for item in result["patches"]}
    assert set(outcomes) == set(KNOWN)
    for patch, (fragment, path) in KNOWN.items():
        assert outcomes[patch]["outcome"] == "fixed", outcomes[patch]
        assert "implicit-function" in outcomes[patch]["categories"]
        errors = [record["error"] for record in build_records(records, patch)]
        assert [error for error in errors if fragment in error and error.startswith(path + ":")], (patch, errors)
        # A patch is never credited with what another patch fixes.
        others = [other for other, (text, _path) in KNOWN.items() if other != patch]
        assert not [error for error in errors for other in others if KNOWN[other][0] in error], (patch, errors)


def test_a_patch_others_depend_on_is_credited_with_the_error_its_absence_causes(runs):
    result, records = runs["leave_one_out"]
    assert_credited_as_known(result, records)
    outcomes = {item["patch"]: item for item in result["patches"]}
    # compat.h.patch could not be left out alone: fold.c.patch does not apply without it.
    assert outcomes[COMPAT]["left_out_with"] == [FOLD]
    assert outcomes[FOLD]["left_out_with"] == [] and outcomes[MAIN]["left_out_with"] == []
    builds = {build["key"]: build for build in result["build_results"]}
    assert "and the patches that need it (%s)" % FOLD in builds["loo-001"]["label"]
    # The reference for compat.h.patch is fold.c.patch's own build: no extra build.
    assert sorted(builds) == ["loo-000", "loo-001", "loo-002", "loo-003"]


def test_leave_one_out_gives_the_build_records_cumulative_gives(runs):
    """Cumulative adds the patches in order, so it never meets the dependency: its answers are
    the reference, and it is unchanged (no left-out groups, no reference builds)."""
    loo_result, loo_records = runs["leave_one_out"]
    cum_result, cum_records = runs["cumulative"]
    assert_credited_as_known(cum_result, cum_records)
    assert all(item["left_out_with"] == [] for item in cum_result["patches"])
    assert sorted(build["key"] for build in cum_result["build_results"]) == ["cum-000", "cum-001", "cum-002", "cum-003"]
    for patch in KNOWN:
        assert sorted(r["id"] for r in build_records(loo_records, patch)) == sorted(r["id"] for r in build_records(cum_records, patch))


def test_second_run_builds_nothing_and_changes_nothing(runs, tmp_path):
    result, records = runs["leave_one_out"]
    work = Path(result["work_dir"]).parent
    before = Path(result["records_file"]).read_bytes()
    again = replay_port({"port_dir": str(PORT), "work_dir": str(work), "mirror_dir": str(MIRROR)})
    assert again["changed"] is False and again["builds"] == 0
    assert again["patches"] == result["patches"]
    assert Path(result["records_file"]).read_bytes() == before


def test_checkpoint_of_an_earlier_harvest_is_redone_under_the_rule(runs, tmp_path):
    """A checkpoint written before this rule holds compat.h.patch as skipped (cannot-revert):
    resuming it builds that one patch again and gives the records of a fresh harvest."""
    result, records = runs["leave_one_out"]
    work = tmp_path / "work"
    shutil.copytree(str(Path(result["work_dir"]).parent), str(work), symlinks=True)
    state_file = work / "lnfindport" / "state" / "replay.json"
    state = json.loads(state_file.read_text())
    message = "cannot build without %s: %s: error: patch failed: src/compat.h:19" % (COMPAT, FOLD)
    state["builds"]["loo-001"] = {"key": "loo-001", "label": "without %s" % COMPAT, "status": "skipped", "message": message,
                                  "phases": [], "diagnostics": [], "patches": []}
    state_file.write_text(json.dumps(state))
    again = replay_port({"port_dir": str(PORT), "work_dir": str(work), "mirror_dir": str(MIRROR)})
    assert again["builds"] == 1
    assert again["patches"] == result["patches"]
    assert sorted(r["id"] for _n, r in read_records(again["records_file"])) == sorted(r["id"] for r in records)
    assert patch_dependents.retry_with_dependents(dict(state["builds"]["loo-001"], dependents_checked=True)) is False


def add_second_dependent(tmp_path: Path) -> Path:
    """lnfindport plus src/search.c.patch, which edits a line compat.h.patch adds (and not
    fold.c.patch's lines): compat.h.patch then has two dependents that do not need each other."""
    port = tmp_path / "lnfindport"
    shutil.copytree(str(PORT), str(port))
    (port / "stable-patches" / "src" / "search.c.patch").write_text(
        "diff --git a/src/search.c b/src/search.c\n"
        "--- a/src/search.c\n"
        "+++ b/src/search.c\n"
        "@@ -1,4 +1,4 @@\n"
        "-/* search.c - exact matching */\n"
        "+/* search.c - exact matching (memmem from compat.h on z/OS) */\n"
        ' #include "compat.h"\n'
        ' #include "lnfind.h"\n'
        " \n"
        "diff --git a/src/compat.h b/src/compat.h\n"
        "--- a/src/compat.h\n"
        "+++ b/src/compat.h\n"
        "@@ -7,6 +7,6 @@\n"
        " #include <string.h>\n"
        " \n"
        "-/* z/OS: the C library has no memmem(). */\n"
        "+/* z/OS: the C library has no memmem() (it came with V2R5 only). */\n"
        " static inline void *lnf_memmem(const void *hay, size_t hay_len, const void *needle, size_t needle_len)\n"
        " {\n"
        "     const char *start = hay;\n",
        encoding="utf-8",
    )
    return port


def test_two_independent_dependents_get_one_reference_build(tmp_path):
    port = add_second_dependent(tmp_path)
    result, records = harvest(port, tmp_path / "work")
    outcomes = {item["patch"]: item for item in result["patches"]}
    assert outcomes[COMPAT]["outcome"] == "fixed" and outcomes[COMPAT]["left_out_with"] == [FOLD, SEARCH]
    assert outcomes[FOLD]["left_out_with"] == [] and outcomes[SEARCH]["left_out_with"] == []
    assert outcomes[SEARCH]["outcome"] == "no-effect"  # a comment: nothing breaks without it
    builds = {build["key"]: build for build in result["build_results"]}
    # No leave-one-out build lacks exactly fold.c.patch and search.c.patch: one reference build is made.
    assert "dep-001" in builds and builds["dep-001"]["status"] == "failed"
    assert builds["dep-001"]["label"].startswith("patch 1 of 4, with %s but without the patches that need it" % COMPAT)
    errors = [record["error"] for record in build_records(records, COMPAT)]
    assert any(KNOWN[COMPAT][0] in error for error in errors), errors
    assert not [error for error in errors if "strcasestr" in error or "getline" in error], errors
    for patch in (FOLD, MAIN):
        assert any(KNOWN[patch][0] in record["error"] for record in build_records(records, patch))
    # Its logs are named like the others', and a second run builds nothing.
    assert any(Path(path).name.startswith("dep-001-") for path in result["log_files"])
    again = replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "mirror_dir": str(MIRROR)})
    assert again["changed"] is False and again["builds"] == 0


def test_rule_functions():
    active = ["a", "b", "c", "d"]
    assert patch_dependents.dependents(active, "a", {"c": "patch failed", "b": "patch failed"}) == ["b", "c"]
    alone = {"key": "loo-002", "status": "failed", "patches": ["a", "c", "d"]}
    group = {"key": "loo-001", "status": "failed", "patches": ["d"]}
    skipped = {"key": "loo-003", "status": "skipped", "patches": []}
    assert patch_dependents.left_out(active, skipped) == [] and patch_dependents.left_out(active, None) == []
    assert patch_dependents.context_of(active, alone, "b") is None
    assert patch_dependents.context_of(active, group, "a") == ["a", "d"]
    assert patch_dependents.left_out_with(active, group, "a") == ["b", "c"]
    base = {"key": "loo-000", "status": "ok", "patches": active}
    reference = {"key": "loo-004", "status": "failed", "patches": ["a", "d"]}
    builds = {"loo-000": base, "loo-001": group, "loo-002": alone}
    assert patch_dependents.reference_build(builds, active, 2, "b", base) is base
    assert patch_dependents.reference_build(builds, active, 1, "a", base) is None  # not built yet
    builds["loo-004"] = reference
    assert patch_dependents.reference_build(builds, active, 1, "a", base) is reference
    # A skipped build never serves as a reference, whatever its patch list.
    assert patch_dependents.find_build({"x": dict(skipped, patches=["a", "d"])}, ["a", "d"]) is None
    failed_context = {"key": "dep-001", "status": "skipped", "patches": [], "message": "cannot build"}
    assert patch_dependents.reference_build({"loo-001": group, "dep-001": failed_context}, active, 1, "a", base) is failed_context
