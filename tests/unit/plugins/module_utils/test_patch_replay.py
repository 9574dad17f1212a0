"""patch_replay and build_profile: real builds of the sample ports, attribution against a
hand-written table of what each patch fixes, checkpoint/resume after SIGKILL,
idempotence, check mode and hostile input."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate, patch_replay, replay_source, static_mine
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import ReplayError, replay_port
from ansible_collections.autoport.zos.plugins.module_utils.record import read_records, validate_record

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
MIRROR = SAMPLES / "mirror"

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("cc", "make", "git")), reason="the harvest needs cc, make and git on the host"
)

# What each sample patch fixes, written by hand from the patches themselves:
# patch file -> (category, record phase, fragment of the real error message,
#                code only in wrong_code (or None), code only in correct_code (or None)).
KNOWN = {
    "strkitport": {
        "stable-patches/Makefile.patch": ("unresolved-symbol", "link", "undefined reference to `pow'", None, "SK_LIBS = -lm"),
        "stable-patches/configure.patch": (
            "configure", "configure", "configure: error: required header sys/sysctl.h not found", "exit 1", "have_sysctl=0"),
        "stable-patches/mk/objs.mk.patch": (
            "build-system", "build", "No rule to make target 'src/Version.o'", "src/Version.o", "src/version.o"),
        "stable-patches/src/angle.c.patch": ("undeclared-identifier", "build", "'M_PI' undeclared", None, "#define M_PI"),
        "stable-patches/src/bytes.c.patch": (
            "type-error", "build", "passing argument 2 of 'parse_digits' from incompatible pointer type", "unsigned int n;", "size_t n;"),
        "stable-patches/src/copy.c.patch": (
            "implicit-function", "build", "implicit declaration of function 'strlcpy'", "strlcpy(dst, src, size)", "copy_bounded"),
        "stable-patches/src/cpus.c.patch": ("missing-header", "build", "sys/sysctl.h: No such file or directory", None, "#if HAVE_SYS_SYSCTL_H"),
        "stable-patches/src/find.c.patch": (
            "conflicting-declaration", "build", "conflicting types for 'index'", "static int index(", "static int find_index("),
        "stable-patches/src/hibit.c.patch": (
            "test-failure", "check", "FAIL: sk_count_high: expected 2, got 0", "if (*s >= 0x80)", "(unsigned char)*s >= 0x80"),
        "stable-patches/src/main.c.patch": (
            "implicit-function", "build", "implicit declaration of function 'getprogname'", "getprogname(), getprogname()", "static const char *progname"),
    },
    "tinyprocport": {
        "patches/src/limits.c.patch": (
            "missing-header", "build", "sys/syslimits.h: No such file or directory", "#include <sys/syslimits.h>", "sysconf(_SC_ARG_MAX)"),
        "patches/src/run.c.patch": ("implicit-function", "build", "implicit declaration of function 'wait4'", "wait4(pid", "waitpid(pid"),
        "patches/src/signame.c.patch": ("undeclared-identifier", "build", "'sys_siglist' undeclared", "sys_siglist[sig]", 'return "Terminated"'),
        "patches/src/tinyproc.h.patch": (
            "conflicting-declaration", "build", "conflicting types for 'sleep'", "unsigned int sleep(int seconds);", None),
    },
    "inicfgport": {
        "stable-patches/configure.patch": (
            "configure", "configure", "configure: error: strlcpy() is required (install libbsd)", "exit 1", "have_strlcpy=0"),
        "stable-patches/src/hash.c.patch": (
            "test-failure", "check", 'FAIL: fnv1a32("abc"): expected 0x1a47e90b', "unsigned long h = 2166136261UL;", "uint32_t h"),
        "stable-patches/src/platform.h.patch": (
            "unsupported-feature", "build", '#error "inicfg: unsupported platform"', None, "defined(__MVS__)"),
    },
}

# cumulative credits by order: a fix whose failure only shows once later patches are in
# (a link or test failure behind compile errors) changes nothing when it is added, so it
# gives no record (its static records come from the mine stage only). strkit: libm and the
# test fix wait for main.c; inicfg: the hash test fix waits for platform.h.
KNOWN_CUMULATIVE_NO_EFFECT = {
    "strkitport": {"stable-patches/Makefile.patch", "stable-patches/src/hibit.c.patch"},
    "inicfgport": {"stable-patches/src/hash.c.patch"},
    "tinyprocport": set(),
}


def records_of(path) -> list:
    return [item[1] for item in read_records(str(path))] if os.path.exists(str(path)) else []


def harvest(port: str, work: Path, **extra) -> tuple:
    options = {"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(work), "mirror_dir": str(MIRROR)}
    options.update(extra)
    result = replay_port(options)
    return result, records_of(result["records_file"])


@pytest.fixture(scope="module")
def loo(tmp_path_factory):
    """One uninterrupted leave_one_out harvest of every sample port (posix profile)."""
    runs = {}
    for port in KNOWN:
        work = tmp_path_factory.mktemp("loo-%s" % port)
        result, records = harvest(port, work)
        runs[port] = {"result": result, "records": records, "work": work}
    return runs


def assert_known_answers(port: str, result: dict, records: list, no_effect: set = frozenset()) -> None:
    assert all(validate_record(record) == [] for record in records)
    # The harvest writes build-proven records only: static ones come from the mine stage.
    assert all(record["provenance"] == "build" and record["error"] for record in records)
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))
    outcomes = {item["patch"]: item for item in result["patches"]}
    assert set(outcomes) == set(KNOWN[port])
    for patch, (category, phase, message, before, after) in KNOWN[port].items():
        mine = [record for record in records if record["patch_file"] == patch]
        if patch in no_effect:
            assert outcomes[patch]["outcome"] == "no-effect"
            assert mine == [] and outcomes[patch]["records"] == 0
            continue
        assert outcomes[patch]["outcome"] == "fixed", (patch, outcomes[patch])
        assert category in outcomes[patch]["categories"]
        built = [record for record in mine if record["provenance"] == "build" and message in record["error"]]
        assert len(built) == 1, (patch, [record["error"] for record in mine])
        record = built[0]
        assert record["error_category"] == category, (patch, record["error"])
        assert record["phase"] == phase, (patch, record["phase"])
        assert record["port"] == port and record["build_line"] == "STABLE"
        assert patch.split("/", 1)[1].endswith(record["file"] + ".patch")
        assert record["patch"].startswith("--- a/%s\n+++ b/%s\n@@ " % (record["file"], record["file"]))
        if before:
            assert before in record["wrong_code"] and before not in record["correct_code"], patch
        if after:
            assert after in record["correct_code"] and after not in record["wrong_code"], patch


@pytest.mark.parametrize("port", sorted(KNOWN))
def test_leave_one_out_credits_each_patch_with_what_it_fixes(loo, port):
    result, records = loo[port]["result"], loo[port]["records"]
    assert result["strategy"] == "leave_one_out" and result["profile"] == "posix"
    assert result["builds"] == result["builds_planned"] == 1 + len(KNOWN[port])
    assert result["resumed"] is False and result["changed"] is True
    assert result["records"] == result["records_written"] == len(records)
    assert_known_answers(port, result, records)
    # The build with every patch is clean; every other build failed in its patch's phase.
    statuses = {build["key"]: build for build in result["build_results"]}
    assert statuses["loo-000"]["status"] == "ok" and statuses["loo-000"]["diagnostics"] == 0
    failed_phases = {build["failed_phase"] for key, build in statuses.items() if key != "loo-000"}
    assert failed_phases <= {"configure", "build", "check"}
    assert all(os.path.isfile(path) for path in result["log_files"])
    assert any(path.endswith("loo-000-check.log") for path in result["log_files"])


def test_samples_cover_the_required_categories(loo):
    built = [record for run in loo.values() for record in run["records"] if record["provenance"] == "build"]
    categories = {record["error_category"] for record in built}
    assert len(categories) >= 6
    assert {"configure", "unresolved-symbol", "test-failure", "build-system"} <= categories
    phases = {record["phase"] for record in built}
    assert {"configure", "build", "link", "check"} <= phases


def _hunks(records: list, provenance: str) -> list:
    return sorted((record["port"], record["patch_file"], record["hunk"]) for record in records if record["provenance"] == provenance)


def test_static_records_come_from_the_mine_stage_only_and_curate_keeps_each_hunk_once(loo, tmp_path):
    """Issue 15: the harvest writes no static record; the mine stage has one for every hunk
    (those no build error points at included); harvest + mine curated hold each hunk once."""
    cpus = "stable-patches/src/cpus.c.patch"
    harvested = [record for run in loo.values() for record in run["records"]]
    assert _hunks(harvested, "static") == []
    # cpus.c.patch: hunk 1 fixes the missing header, no error points at hunk 2.
    assert [record["hunk"] for record in loo["strkitport"]["records"] if record["patch_file"] == cpus] == [1]
    (tmp_path / "harvest").mkdir()
    for port, run in loo.items():
        shutil.copy(run["result"]["records_file"], str(tmp_path / "harvest" / ("%s.jsonl" % port)))
        result = static_mine.mine_port(str(SAMPLES / "ports" / port), str(tmp_path / "mined" / ("%s.jsonl" % port)), port=port)
        assert result["left_out"] == [] and result["records"] > 0
    mined = [record for path in sorted((tmp_path / "mined").glob("*.jsonl")) for record in records_of(path)]
    assert _hunks(mined, "build") == [] and all(record["error"] == "" for record in mined)
    every_hunk = _hunks(mined, "static")
    assert len(every_hunk) == len(set(every_hunk)) and ("strkitport", cpus, 2) in every_hunk and ("strkitport", cpus, 1) in every_hunk
    # Every build-proven hunk is one the mine stage saw too.
    assert set(_hunks(harvested, "build")) < set(every_hunk)

    curated = dataset_curate.curate({"src": [str(tmp_path / "harvest"), str(tmp_path / "mined")], "dest": str(tmp_path / "curated"),
                                     "report": False, "near_duplicates": False})
    dataset = records_of(tmp_path / "curated" / "dataset.jsonl")
    assert curated["counts"]["kept"] == len(dataset) and curated["merged_by"]["exact"] == 0
    built = set(_hunks(dataset, "build"))
    assert built == set(_hunks(harvested, "build"))
    # Each hunk once: static where no build proved it, else only its build record(s).
    assert _hunks(dataset, "static") == sorted(set(every_hunk) - built)
    assert set(_hunks(dataset, "static")) | built == set(every_hunk)
    assert curated["merged_by"]["same_hunk"] == len(built)
    by_key = {(record["port"], record["patch_file"], record["hunk"]): record["provenance"] for record in dataset}
    assert by_key[("strkitport", cpus, 1)] == "build" and by_key[("strkitport", cpus, 2)] == "static"


def test_second_run_changes_nothing(loo):
    result, work = loo["tinyprocport"]["result"], loo["tinyprocport"]["work"]
    dest = Path(result["records_file"])
    state = Path(result["state_file"])
    before = (dest.read_bytes(), state.read_bytes())
    again = replay_port({"port_dir": str(SAMPLES / "ports" / "tinyprocport"), "work_dir": str(work), "mirror_dir": str(MIRROR)})
    assert again["changed"] is False
    assert again["builds"] == 0 and again["records_written"] == 0 and again["resumed"] is False
    assert again["records"] == result["records"]
    assert again["patches"] == result["patches"]
    assert (dest.read_bytes(), state.read_bytes()) == before


def test_check_mode_writes_nothing_and_reports_the_plan(loo, tmp_path):
    work = tmp_path / "work"
    preview = replay_port({"port_dir": str(SAMPLES / "ports" / "tinyprocport"), "work_dir": str(work), "mirror_dir": str(MIRROR), "check_mode": True})
    assert preview["changed"] is True and preview["builds"] == 0
    assert preview["builds_planned"] == preview["builds_remaining"] == 5
    assert [item["outcome"] for item in preview["patches"]] == ["pending"] * 4
    assert not work.exists()

    result, done_work = loo["tinyprocport"]["result"], loo["tinyprocport"]["work"]
    after = replay_port({"port_dir": str(SAMPLES / "ports" / "tinyprocport"), "work_dir": str(done_work), "mirror_dir": str(MIRROR), "check_mode": True})
    assert after["changed"] is False and after["builds_remaining"] == 0
    assert after["patches"] == result["patches"]


def test_records_missing_from_a_new_dest_are_written_without_building(loo, tmp_path):
    records, work = loo["inicfgport"]["records"], loo["inicfgport"]["work"]
    dest = tmp_path / "elsewhere.jsonl"
    again = replay_port({"port_dir": str(SAMPLES / "ports" / "inicfgport"), "work_dir": str(work), "mirror_dir": str(MIRROR), "dest": str(dest)})
    assert again["builds"] == 0 and again["changed"] is True
    assert [record["id"] for record in records_of(dest)] == [record["id"] for record in records]


@pytest.mark.parametrize("port", ["inicfgport", "tinyprocport"])
def test_cumulative_credits_by_order(port, tmp_path):
    result, records = harvest(port, tmp_path, strategy="cumulative")
    assert result["builds"] == 1 + len(KNOWN[port])
    assert_known_answers(port, result, records, KNOWN_CUMULATIVE_NO_EFFECT.get(port, set()))
    assert [build["key"] for build in result["build_results"]] == ["cum-%03d" % number for number in range(len(KNOWN[port]) + 1)]


# The zopen profile against the real `zopen build`: test_zopen_build.py.


def test_git_source_with_tag_from_a_mirror(loo, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_mirror", str(SAMPLES / "make_mirror.py"))
    make_mirror = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_mirror)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_mirror.make_git_repo(SAMPLES / "upstream" / "inicfg-0.9", mirror)
    port = tmp_path / "inicfgport"
    shutil.copytree(str(SAMPLES / "ports" / "inicfgport"), str(port))
    text = (port / "buildenv").read_text()
    text = text.replace("https://example.invalid/inicfg/inicfg-0.9.tar.gz", "https://example.invalid/inicfg/inicfg.git")
    (port / "buildenv").write_text(text + 'export ZOPEN_STABLE_TAG="v0.9"\n')
    result = replay_port({"port_dir": str(port), "port": "inicfgport", "work_dir": str(tmp_path / "work"), "mirror_dir": str(mirror)})
    assert result["source"] == "https://example.invalid/inicfg/inicfg.git"
    source = str(Path(result["work_dir"]) / "root" / "inicfg")

    def git(*args):
        return subprocess.run(["git"] + list(args), cwd=source, capture_output=True, text=True, check=True).stdout.strip()

    # Like zopen build: a shallow `clone --branch v0.9`, HEAD detached at the tag.
    assert subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=source, capture_output=True, check=False).returncode != 0
    assert git("rev-parse", "--is-shallow-repository") == "true"
    assert git("rev-parse", "HEAD") == git("rev-parse", "tags/v0.9^{commit}")
    tarball_ids = [record["id"] for record in loo["inicfgport"]["records"]]
    assert [record["id"] for record in records_of(result["records_file"])] == tarball_ids


# ---------------------------------------------------------------------------
# Checkpoints: SIGKILL in the middle of builds, then resume.

DRIVER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, %r)
    from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
    replay_port(json.loads(sys.argv[1]), progress=lambda message: print(message, flush=True))
    """
) % str(REPO / ".cache" / "collections")

SLOW_CC = """#!/bin/sh
# Test compiler, slow so a test can kill the harvest in the middle of a build, with two traps:
# - the first compile of run.c without its patch (build loo-002) hangs;
# - the first compile of signame.c while tinyproc.h lacks its patch (build loo-004) acts
#   like a compiler killed while writing: it leaves a truncated object, newer than its
#   source, then hangs.
sleep 0.1
case "$*" in
*run.c*)
  if [ ! -e "$CC_FLAG.run" ] && grep -q "wait4(pid" src/run.c; then
    echo hung > "$CC_FLAG.run"
    exec sleep 60
  fi ;;
*signame.c*)
  if [ ! -e "$CC_FLAG.signame" ] && grep -q "unsigned int sleep(int seconds);" src/tinyproc.h; then
    %(cc)s "$@" || exit 1
    out=""; prev=""
    for arg in "$@"; do [ "$prev" = "-o" ] && out=$arg; prev=$arg; done
    head -c 64 "$out" > "$out.cut" && mv "$out.cut" "$out"
    echo torn > "$CC_FLAG.signame"
    exec sleep 60
  fi ;;
esac
exec %(cc)s "$@"
"""


def slow_compiler(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "cc"
    wrapper.write_text(SLOW_CC % {"cc": shutil.which("cc")})
    wrapper.chmod(0o755)
    return wrapper


def kill_during_build(options: dict, state_file: Path, key: str, ready, whole_group: bool = False) -> tuple:
    """Run the harvest in a child process and SIGKILL it while build ``key`` runs (once ``ready()``).

    ``whole_group`` also SIGKILLs the build's process group (a crash of the whole machine:
    nothing gets to clean up). Returns (the build's process group, the child's progress lines).
    """
    child = subprocess.Popen([sys.executable, "-c", DRIVER, json.dumps(options)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            assert child.poll() is None, "the harvest ended before build %s: %s" % (key, child.stderr.read().decode())
            try:
                running = json.loads(state_file.read_text()).get("running")
            except (OSError, ValueError):
                running = None
            if running and running.get("key") == key and ready():
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
                if whole_group:
                    os.killpg(running["pgid"], signal.SIGKILL)
                return running["pgid"], child.stdout.read().decode().splitlines()
            time.sleep(0.02)
        raise AssertionError("build %s never started" % key)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_killed_harvest_resumes_to_exactly_the_uninterrupted_records(loo, tmp_path):
    wrapper = slow_compiler(tmp_path / "bin")
    work = tmp_path / "work"
    flag = tmp_path / "cc.flag"
    options = {
        "port_dir": str(SAMPLES / "ports" / "tinyprocport"),
        "work_dir": str(work),
        "mirror_dir": str(MIRROR),
        "env": {"CC": str(wrapper), "CC_FLAG": str(flag)},
    }
    state_file = work / "tinyprocport" / "state" / "replay.json"
    source = work / "tinyprocport" / "root" / "tinyproc-0.4"
    # 1. Killed while a compiler of loo-002 hangs: the build outlives the harvest.
    hung_group, _said = kill_during_build(options, state_file, "loo-002", ready=Path(str(flag) + ".run").exists)
    assert build_profile.group_alive(hung_group)
    # 2. The next run stops that build first, then is killed with its whole build while a
    #    torn object sits in the tree (loo-004).
    _torn_group, said = kill_during_build(options, state_file, "loo-004", ready=Path(str(flag) + ".signame").exists, whole_group=True)
    assert "tinyprocport: stopping the build left running by an interrupted run (process group %d)" % hung_group in said
    assert not build_profile.group_alive(hung_group)
    assert (source / "src" / "signame.o").stat().st_size == 64
    # 3. The last run redoes only the build cut short, from a clean tree.
    result = replay_port(options)
    assert result["resumed"] is True and result["builds"] == 1
    objects = list((source / "src").glob("*.o"))
    assert objects and all(path.stat().st_size > 64 for path in objects)
    records = records_of(result["records_file"])
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(record["id"] for record in loo["tinyprocport"]["records"])
    assert_known_answers("tinyprocport", result, records)
    assert json.loads(state_file.read_text())["running"] is None
    final = replay_port(options)
    assert final["changed"] is False and final["builds"] == 0


# ---------------------------------------------------------------------------
# Bad input.


def copy_port(name: str, tmp_path: Path) -> Path:
    port = tmp_path / name
    shutil.copytree(str(SAMPLES / "ports" / name), str(port))
    return port


def tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for item in sorted(path.rglob("*")):
        digest.update(str(item.relative_to(path)).encode())
        if item.is_file():
            digest.update(item.read_bytes())
    return digest.hexdigest()


def test_port_without_buildenv(tmp_path):
    port = tmp_path / "emptyport"
    (port / "patches").mkdir(parents=True)
    with pytest.raises(ReplayError, match=r"emptyport: no buildenv in .*emptyport"):
        replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work")})
    assert not (tmp_path / "work").exists()
    with pytest.raises(ReplayError, match=r"port_dir .*missing: no such directory"):
        replay_port({"port_dir": str(tmp_path / "missing"), "work_dir": str(tmp_path / "work")})


def test_unreachable_source(tmp_path, monkeypatch):
    port = copy_port("tinyprocport", tmp_path)
    buildenv = (port / "buildenv").read_text()
    moved = buildenv.replace("https://example.invalid/tinyproc/tinyproc-0.4.tar.gz", "https://example.invalid/tinyproc/tinyproc-9.9.tar.gz")
    (port / "buildenv").write_text(moved)
    monkeypatch.setattr(replay_source, "DOWNLOAD_TIMEOUT", 5)
    with pytest.raises(ReplayError, match=r"cannot download source https://example\.invalid/tinyproc/tinyproc-9\.9\.tar\.gz"):
        replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "mirror_dir": str(MIRROR)})
    with pytest.raises(ReplayError, match=r"source file:///nonexistent/tp-1\.0\.tar\.gz: /nonexistent/tp-1\.0\.tar\.gz does not exist"):
        replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work2"), "source": "file:///nonexistent/tp-1.0.tar.gz"})


def test_patch_that_no_longer_applies_and_one_that_leaves_the_tree(tmp_path):
    port = copy_port("tinyprocport", tmp_path)
    (port / "patches" / "src" / "timer.c.patch").write_text(
        "diff --git a/src/timer.c b/src/timer.c\n--- a/src/timer.c\n+++ b/src/timer.c\n"
        "@@ -1,3 +1,3 @@\n-/* timer.c - not what upstream has */\n+/* timer.c */\n #include \"tinyproc.h\"\n \n"
    )
    (port / "patches" / "zz-escape.patch").write_text("--- a/../../escaped.c\n+++ b/../../escaped.c\n@@ -0,0 +1 @@\n+int escaped;\n")
    (port / "patches" / "zz-garbage.patch").write_bytes(b"\x00\x8f\xff" * 500)
    result = replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "mirror_dir": str(MIRROR)})
    outcomes = {item["patch"]: item for item in result["patches"]}
    assert outcomes["patches/src/timer.c.patch"]["outcome"] == "does-not-apply"
    assert outcomes["patches/src/timer.c.patch"]["error"].startswith("patches/src/timer.c.patch: ")
    assert "patch failed: src/timer.c:1" in outcomes["patches/src/timer.c.patch"]["error"]
    assert outcomes["patches/zz-escape.patch"]["outcome"] == "unsafe-path"
    assert "zz-escape.patch" in outcomes["patches/zz-escape.patch"]["error"] and "escapes the source tree" in outcomes["patches/zz-escape.patch"]["error"]
    assert not list(tmp_path.rglob("escaped.c"))
    garbage = outcomes["patches/zz-garbage.patch"]
    assert garbage["outcome"] == "unreadable" and "zz-garbage.patch" in garbage["error"] and garbage["records"] == 0
    # The good patches are still credited exactly as without the bad ones.
    records = records_of(result["records_file"])
    assert {record["patch_file"] for record in records} == set(KNOWN["tinyprocport"])
    for patch in KNOWN["tinyprocport"]:
        assert outcomes[patch]["outcome"] == "fixed"


def make_tiny_port(tmp_path: Path, name: str, configure: str, check: str, fixed_check: str) -> Path:
    """A port whose upstream is written here: a configure script and a check script."""
    source = {"configure": configure, "Makefile": "all:\n\t@echo built\ncheck:\n\tsh ./check.sh\n", "check.sh": check}
    archive = tmp_path / ("%s-1.0.tar.gz" % name)
    with tarfile.open(str(archive), "w:gz") as tar:
        for file_name, text in source.items():
            data = text.encode()
            info = tarfile.TarInfo("%s-1.0/%s" % (name, file_name))
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    port = tmp_path / ("%sport" % name)
    (port / "patches").mkdir(parents=True)
    (port / "buildenv").write_text('export ZOPEN_BUILD_LINE="STABLE"\nexport ZOPEN_STABLE_URL="file://%s"\nexport ZOPEN_STABLE_DEPS="make"\n' % archive)
    old_lines = check.splitlines()
    new_lines = fixed_check.splitlines()
    body = ["-" + line for line in old_lines] + ["+" + line for line in new_lines]
    (port / "patches" / "check.sh.patch").write_text(
        "diff --git a/check.sh b/check.sh\n--- a/check.sh\n+++ b/check.sh\n@@ -1,%d +1,%d @@\n%s\n" % (len(old_lines), len(new_lines), "\n".join(body))
    )
    return port


def marker_processes(marker: str) -> list:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc to look for leftover processes")
def test_hanging_build_is_killed_with_its_process_group(tmp_path):
    marker = "987.%d" % os.getpid()
    port = make_tiny_port(
        tmp_path,
        "hang",
        configure="#!/bin/sh\necho configured\n",
        check="#!/bin/sh\nsleep %s &\nwait\n" % marker,
        fixed_check="#!/bin/sh\necho 'PASS: quick'\n",
    )
    started = time.monotonic()
    result = replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "build_timeout": 3})
    assert time.monotonic() - started < 60
    outcome = result["patches"][0]
    assert outcome["patch"] == "patches/check.sh.patch" and outcome["outcome"] == "timeout"
    assert "timed out" in outcome["error"]
    builds = {build["key"]: build for build in result["build_results"]}
    assert builds["loo-000"]["status"] == "ok" and builds["loo-001"]["status"] == "timeout"
    assert any("timed out" in text and "loo-001" in text for text in result["warnings"])
    log = Path(result["work_dir"]) / "logs" / "loo-001-check.log"
    assert "build time limit reached; process group killed" in log.read_text()
    time.sleep(0.5)
    assert marker_processes(marker) == []


def test_baseline_that_hangs_stops_the_harvest_with_a_clear_error(tmp_path):
    marker = "986.%d" % os.getpid()
    port = make_tiny_port(tmp_path, "stall", configure="#!/bin/sh\nsleep %s\n" % marker, check="#!/bin/sh\nexit 1\n", fixed_check="#!/bin/sh\nexit 0\n")
    expected = r"stallport: the build with all patches timed out after 2 s \(log .*loo-000-configure\.log\)"
    with pytest.raises(ReplayError, match=expected):
        replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "build_timeout": 2})
    if Path("/proc/self/cmdline").exists():
        time.sleep(0.5)
        assert marker_processes(marker) == []


def test_hostile_port_name_runs_nothing_and_writes_only_in_the_work_dir(loo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = "tiny; touch pwned1 `touch pwned2` $(touch pwned3) && ../../x"
    port_dir = SAMPLES / "ports" / "tinyprocport"
    before_port = tree_digest(port_dir)
    outside_before = sorted(str(path) for path in tmp_path.rglob("*"))
    work = tmp_path / "work"
    result = replay_port({"port_dir": str(port_dir), "port": hostile, "work_dir": str(work), "mirror_dir": str(MIRROR)})
    assert not list(tmp_path.rglob("pwned*")) and not (REPO / "pwned1").exists()
    assert Path(result["work_dir"]).parent == work
    assert set(os.path.basename(result["work_dir"])) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    new = [path for path in tmp_path.rglob("*") if str(path) not in outside_before]
    assert new and all(path == work or work in path.parents for path in new)
    assert tree_digest(port_dir) == before_port
    records = records_of(result["records_file"])
    assert {record["port"] for record in records} == {hostile}
    reference = loo["tinyprocport"]["records"]
    assert [(r["patch_file"], r["error"]) for r in records] == [(r["patch_file"], r["error"]) for r in reference]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"build_timeout": 0}, "build_timeout must be a positive number of seconds"),
        ({"strategy": "random"}, "strategy 'random': expected one of leave_one_out, cumulative"),
        ({"profile": "docker"}, "profile 'docker': expected one of posix, zopen"),
        ({"build_line": "beta"}, "build_line 'beta': expected auto, STABLE or DEV"),
        ({"env": {"BAD NAME": "x"}}, "env: 'BAD NAME' is not a valid environment variable name"),
        ({"port": "a\nb"}, "port name 'a\\\\nb' contains control characters"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(tmp_path, options, message):
    base = {"port_dir": str(SAMPLES / "ports" / "tinyprocport"), "work_dir": str(tmp_path / "work")}
    base.update(options)
    with pytest.raises(ReplayError, match=message):
        replay_port(base)
    assert not (tmp_path / "work").exists()


# ---------------------------------------------------------------------------
# Pieces.


def test_safe_name():
    assert patch_replay.safe_name("zlibport") == "zlibport"
    for hostile in ("../../etc", "a b;c", "$(rm -rf /)", "", ".hidden", "-rf"):
        name = patch_replay.safe_name(hostile)
        assert name and "/" not in name and not name.startswith((".", "-"))
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert patch_replay.safe_name("a b") != patch_replay.safe_name("a_b")


def test_code_dir_name_follows_zopen():
    assert patch_replay._code_dir_name("https://x/y/strkit-1.2.tar.gz", "tarball") == "strkit-1.2"
    assert patch_replay._code_dir_name("https://x/y/foo-2.tgz", "tarball") == "foo-2"
    assert patch_replay._code_dir_name("https://github.com/a/inicfg.git", "git") == "inicfg"
    # zopen-build strips only .git (${gitname%.git}).
    assert patch_replay._code_dir_name("https://github.com/a/inicfg.core.git", "git") == "inicfg.core"
    with pytest.raises(ReplayError, match="cannot derive a safe directory name"):
        patch_replay._code_dir_name("https://x/..", "tarball")


def test_tarball_members_outside_the_tree_are_refused(tmp_path):
    def archive(file_name, **member):
        path = tmp_path / file_name
        with tarfile.open(str(path), "w:gz") as tar:
            info = tarfile.TarInfo(member.pop("name"))
            for key, value in member.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(b"") if info.isfile() else None)
        return str(path)

    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ReplayError, match=r"member '\.\./evil' would be written outside"):
        patch_replay._safe_extract(archive("a.tar.gz", name="../evil"), str(dest))
    with pytest.raises(ReplayError, match=r"link 'x/passwd' points outside the source tree \(/etc/passwd\)"):
        patch_replay._safe_extract(archive("b.tar.gz", name="x/passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd"), str(dest))
    with pytest.raises(ReplayError, match="cannot unpack source archive"):
        bad = tmp_path / "c.tar.gz"
        bad.write_bytes(b"\x1f\x8b not really gzip")
        patch_replay._safe_extract(str(bad), str(dest))
    assert list(dest.iterdir()) == [] and not (tmp_path / "evil").exists()


def test_credit_is_what_disappears_and_follow_ups_only_when_alone():
    def diag(key, follow_up=False):
        return {"key": key, "follow_up": follow_up, "message": key}

    without = {"diagnostics": [diag("a"), diag("make error", True), diag("b"), diag("a"), diag("residual")]}
    with_ = {"diagnostics": [diag("residual")]}
    assert [item["key"] for item in patch_replay._credited(without, with_)] == ["a", "b"]
    only_follow_up = {"diagnostics": [diag("collect2", True)]}
    assert [item["key"] for item in patch_replay._credited(only_follow_up, {"diagnostics": []})] == ["collect2"]
    assert patch_replay._credited(with_, with_) == []


def test_run_logged_kills_the_whole_group_on_timeout(tmp_path):
    marker = "985.%d" % os.getpid()
    log = tmp_path / "x.log"
    started = time.monotonic()
    argv = ["/bin/sh", "-c", "echo begin; sleep %s & sleep %s" % (marker, marker)]
    code, timed_out = build_profile.run_logged(argv, str(tmp_path), dict(os.environ), str(log), time.monotonic() + 1)
    assert (code, timed_out) == (None, True)
    assert time.monotonic() - started < 10
    assert log.read_text().startswith("begin\n") and "process group killed" in log.read_text()
    if Path("/proc/self/cmdline").exists():
        time.sleep(0.3)
        assert marker_processes(marker) == []
    with pytest.raises(build_profile.BuildProfileError, match="cannot run /no/such/program"):
        build_profile.run_logged(["/no/such/program"], str(tmp_path), dict(os.environ), str(log), None)


def test_posix_profile_passes_buildenv_values_as_data_not_shell(tmp_path):
    source = tmp_path / "root" / "demo-1.0"
    source.mkdir(parents=True)
    (source / "configure").write_text('#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done > args.txt\n')
    (source / "configure").chmod(0o755)
    (source / "Makefile").write_text("all:\n\t@echo built\ncheck:\n\t@echo checked\n")
    hostile = "-O0 $(touch injected1) `touch injected2`; touch injected3"
    profile = build_profile.PosixProfile(
        root=str(tmp_path / "root"),
        source_dir=str(source),
        buildenv={"ZOPEN_EXTRA_CFLAGS": hostile},
        build_line="STABLE",
        log_dir=str(tmp_path / "logs"),
        cflags="-std=c99",
    )
    result = profile.build("t-000")
    assert result.status == "ok", result.to_dict()
    assert [phase.status for phase in result.phases] == ["skipped", "ok", "ok", "ok"]
    assert "CFLAGS=-std=c99 %s" % hostile in (source / "args.txt").read_text().splitlines()
    assert not list(tmp_path.rglob("injected*"))
    # configure ran once: its success marker makes the next build skip it, like zopen build.
    again = profile.build("t-001")
    assert [phase.status for phase in again.phases] == ["skipped", "skipped", "ok", "ok"]
    profile.forget_configuration()
    assert [phase.status for phase in profile.build("t-002").phases][1] == "ok"


def test_progress_file_keeps_the_latest_line(tmp_path):
    from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import ProgressFile

    progress = ProgressFile(str(tmp_path / "work" / "progress.json"))
    progress("strkitport: build loo-001 (patch 1 of 10, without a.patch): configure")
    progress("strkitport: build loo-001 (patch 1 of 10, without a.patch): build")
    import json as _json

    data = _json.loads((tmp_path / "work" / "progress.json").read_text(encoding="utf-8"))
    assert data["message"].endswith("patch 1 of 10, without a.patch): build")
    assert data["line"].startswith(data["message"]) and data["line"].endswith("]")
