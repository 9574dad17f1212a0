"""playbooks/harvest.yml for real: sample ports built with gcc and make, patches replayed with git apply.

Known answers: for every sample patch that fixes a build failure, the category of the
failure and a piece of the real message. They come from what each patch does (read the
patches under samples/ports), not from a previous run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from playbook_harness import REPO, assert_idempotent, assert_ok, assert_zos_tasks_ran, load_json_lines, run_playbook, zopen_config

ZOS_INVENTORY = REPO / "tests" / "integration" / "inventories" / "zos-standin"

# (port, patch file) -> [(category, phase, fragment of the error), ...]
KNOWN_ANSWERS = {
    ("strkitport", "stable-patches/configure.patch"): [("configure", "configure", "sys/sysctl.h not found")],
    ("strkitport", "stable-patches/Makefile.patch"): [
        ("unresolved-symbol", "link", "undefined reference to `pow'"),
        ("unresolved-symbol", "link", "undefined reference to `sqrt'"),
    ],
    ("strkitport", "stable-patches/mk/objs.mk.patch"): [("build-system", "build", "No rule to make target 'src/Version.o'")],
    ("strkitport", "stable-patches/src/angle.c.patch"): [("undeclared-identifier", "build", "'M_PI' undeclared")],
    ("strkitport", "stable-patches/src/bytes.c.patch"): [("type-error", "build", "incompatible pointer type")],
    ("strkitport", "stable-patches/src/copy.c.patch"): [("implicit-function", "build", "implicit declaration of function 'strlcpy'")],
    ("strkitport", "stable-patches/src/cpus.c.patch"): [("missing-header", "build", "sys/sysctl.h: No such file or directory")],
    ("strkitport", "stable-patches/src/find.c.patch"): [("conflicting-declaration", "build", "conflicting types for 'index'")],
    ("strkitport", "stable-patches/src/hibit.c.patch"): [("test-failure", "check", "FAIL: sk_count_high")],
    ("strkitport", "stable-patches/src/main.c.patch"): [("implicit-function", "build", "implicit declaration of function 'getprogname'")],
    ("inicfgport", "stable-patches/configure.patch"): [("configure", "configure", "strlcpy() is required")],
    ("inicfgport", "stable-patches/src/hash.c.patch"): [("test-failure", "check", "FAIL: fnv1a32")],
    ("inicfgport", "stable-patches/src/platform.h.patch"): [
        ("unsupported-feature", "build", '#error "inicfg: unsupported platform"'),
        ("undeclared-identifier", "build", "'INI_MAX_FILE' undeclared"),
    ],
    ("tinyprocport", "patches/src/limits.c.patch"): [("missing-header", "build", "sys/syslimits.h: No such file or directory")],
    ("tinyprocport", "patches/src/run.c.patch"): [("implicit-function", "build", "implicit declaration of function 'wait4'")],
    ("tinyprocport", "patches/src/signame.c.patch"): [
        ("undeclared-identifier", "build", "'NSIG' undeclared"),
        ("undeclared-identifier", "build", "'sys_siglist' undeclared"),
    ],
    ("tinyprocport", "patches/src/tinyproc.h.patch"): [("conflicting-declaration", "build", "conflicting types for 'sleep'")],
    ("ringbufport", "stable-patches/Makefile.patch"): [("unresolved-symbol", "link", "undefined reference to `sqrt'")],
    ("ringbufport", "stable-patches/src/alloc.c.patch"): [("missing-header", "build", "malloc/malloc.h: No such file or directory")],
    ("ringbufport", "stable-patches/src/clock.c.patch"): [("missing-header", "build", "mach/mach_time.h: No such file or directory")],
    ("ringbufport", "stable-patches/src/flush.c.patch"): [("undeclared-identifier", "build", "'IOV_MAX' undeclared")],
    ("ringbufport", "stable-patches/src/human.c.patch"): [("missing-header", "build", "libutil.h: No such file or directory")],
    ("ringbufport", "stable-patches/src/join.c.patch"): [("implicit-function", "build", "implicit declaration of function 'strlcat'")],
    ("ringbufport", "stable-patches/src/lag.c.patch"): [("test-failure", "check", "FAIL: rb_lag")],
    ("ringbufport", "stable-patches/src/line.c.patch"): [("implicit-function", "build", "implicit declaration of function 'getline'")],
    ("ringbufport", "stable-patches/src/map.c.patch"): [("undeclared-identifier", "build", "'MAP_ANONYMOUS' undeclared")],
    ("ringbufport", "stable-patches/src/open.c.patch"): [("undeclared-identifier", "build", "'O_CLOEXEC' undeclared")],
    ("ringbufport", "stable-patches/src/sample.c.patch"): [("implicit-function", "build", "implicit declaration of function 'arc4random_uniform'")],
    ("ringbufport", "stable-patches/src/serial.c.patch"): [("missing-header", "build", "sys/endian.h: No such file or directory")],
    ("ringbufport", "stable-patches/src/sig.c.patch"): [("undeclared-identifier", "build", "'SIGINFO' undeclared")],
    ("ringbufport", "stable-patches/src/wipe.c.patch"): [("implicit-function", "build", "implicit declaration of function 'explicit_bzero'")],
    ("pathutilport", "patches/src/buf.c.patch"): [("undeclared-identifier", "build", "'SIZE_T_MAX' undeclared")],
    ("pathutilport", "patches/src/canon.c.patch"): [("implicit-function", "build", "implicit declaration of function 'realpath'")],
    ("pathutilport", "patches/src/comp.c.patch"): [("implicit-function", "build", "implicit declaration of function 'strnlen'")],
    ("pathutilport", "patches/src/err.c.patch"): [("type-error", "build", "makes pointer from integer without a cast")],
    ("pathutilport", "patches/src/fsinfo.c.patch"): [("missing-header", "build", "sys/ucred.h: No such file or directory")],
    ("pathutilport", "patches/src/glob.c.patch"): [("undeclared-identifier", "build", "'FNM_CASEFOLD' undeclared")],
    ("pathutilport", "patches/src/home.c.patch"): [("implicit-function", "build", "implicit declaration of function 'issetugid'")],
    ("pathutilport", "patches/src/join.c.patch"): [("implicit-function", "build", "implicit declaration of function 'asprintf'")],
    ("pathutilport", "patches/src/list.c.patch"): [("undeclared-identifier", "build", "'DT_DIR' undeclared")],
    ("pathutilport", "patches/src/main.c.patch"): [("conflicting-declaration", "build", "conflicting types for 'getopt'")],
    ("pathutilport", "patches/src/match.c.patch"): [("missing-header", "build", "xlocale.h: No such file or directory")],
    ("pathutilport", "patches/src/mode.c.patch"): [("undeclared-identifier", "build", "'ACCESSPERMS' undeclared")],
    ("pathutilport", "patches/src/self.c.patch"): [("missing-header", "build", "mach-o/dyld.h: No such file or directory")],
    ("pathutilport", "patches/src/vis.c.patch"): [("missing-header", "build", "vis.h: No such file or directory")],
    # fold.c.patch only applies on top of compat.h.patch: compat.h.patch is still credited.
    ("lnfindport", "stable-patches/src/compat.h.patch"): [("implicit-function", "build", "implicit declaration of function 'memmem'")],
    ("lnfindport", "stable-patches/src/fold.c.patch"): [("implicit-function", "build", "implicit declaration of function 'strcasestr'")],
    ("lnfindport", "stable-patches/src/main.c.patch"): [("implicit-function", "build", "implicit declaration of function 'getline'")],
}
ZOS_TASK_ACTIONS = {
    "ibm.ibm_zos_core.zos_gather_facts",
    "ibm.ibm_zos_core.zos_copy",
    "ibm.ibm_zos_core.zos_unarchive",
    "ibm.ibm_zos_core.zos_archive",
    "ibm.ibm_zos_core.zos_fetch",
}


def _records(out: Path) -> list[dict]:
    records = []
    for path in sorted((out / "harvest").glob("*/records.jsonl")):
        records.extend(load_json_lines(path))
    return records


def _check_known_answers(records: list[dict]) -> None:
    build = [r for r in records if r["provenance"] == "build"]
    seen: dict[tuple, list] = {}
    for record in build:
        seen.setdefault((record["port"], record["patch_file"]), []).append(record)
    assert set(seen) == set(KNOWN_ANSWERS), "patches credited with a build failure differ: %s" % (set(seen) ^ set(KNOWN_ANSWERS))
    for key, expected in KNOWN_ANSWERS.items():
        got = seen[key]
        assert len(got) == len(expected), (key, [r["error"] for r in got])
        for category, phase, fragment in expected:
            match = [r for r in got if fragment in r["error"]]
            assert match, "%s: no record with %r in %s" % (key, fragment, [r["error"] for r in got])
            assert match[0]["error_category"] == category, (key, match[0]["error"], match[0]["error_category"])
            assert match[0]["phase"] == phase, (key, match[0]["phase"])
            # The record's patch is the hunk that fixed it, and the code around it before/after.
            assert match[0]["patch"].startswith("--- a/") and "@@" in match[0]["patch"]
            assert match[0]["wrong_code"] != match[0]["correct_code"]
    categories = {r["error_category"] for r in build}
    assert len(categories) >= 6 and {"configure", "unresolved-symbol", "test-failure"} <= categories
    # The harvest writes build-proven records only: the static ones come from the mine stage
    # (test_pipeline.py checks that mine.yml has them and curate keeps each hunk once).
    assert [r for r in records if r["provenance"] != "build"] == []
    assert all(r["error"] for r in records)
    # ids are unique.
    assert len({r["id"] for r in records}) == len(records)


def test_posix_harvest_matches_known_answers(posix_harvest: dict) -> None:
    records = _records(posix_harvest["base"] / "out")
    _check_known_answers(records)
    for port in sorted({port for port, _patch in KNOWN_ANSWERS}):
        logs = list((posix_harvest["base"] / "out" / "harvest" / port / "logs").iterdir())
        assert logs, "no build logs came back for %s" % port
    stats = posix_harvest["first"].set_stats
    assert int(stats["harvest_ports_ok"]) == len({port for port, _patch in KNOWN_ANSWERS}) and stats["harvest_ports_failed"] == []
    assert int(stats["harvest_records"]) == len(_records(posix_harvest["base"] / "out"))
    # The operator saw progress lines while the replay ran (printed by autoport.zos.job_follow).
    assert "| strkitport: strkitport: build loo-" in posix_harvest["first"].stdout
    assert posix_harvest["first"].task_results("Follow the replay of strkitport")[0]["polls"] >= 1


def test_posix_harvest_second_run_and_check_change_nothing(posix_harvest: dict) -> None:
    base, extravars = posix_harvest["base"], posix_harvest["extravars"]
    before = (base / "out" / "harvest" / "strkitport" / "records.jsonl").read_bytes()
    second = run_playbook("harvest.yml", extravars, private_data_dir=str(base / "run2"))
    check = run_playbook("harvest.yml", extravars, check=True, private_data_dir=str(base / "run3"))
    assert_idempotent(posix_harvest["first"], second, check)
    assert (base / "out" / "harvest" / "strkitport" / "records.jsonl").read_bytes() == before


def test_zos_shaped_harvest_runs_every_zos_task_and_gives_the_same_records(posix_harvest: dict, shared_dir: Path, tmp_path: Path) -> None:
    extravars = {"autoport_output_dir": str(tmp_path / "out"), "harvest_remote_dir": str(tmp_path / "remote"), "harvest_poll_interval": 1,
                 "autoport_zopen_config": str(zopen_config(shared_dir, tmp_path))}
    first = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run1"))
    assert_ok(first)
    # The real zopen build ran every build (found on PATH through zopen-config only).
    logs = list((tmp_path / "out" / "harvest").glob("*/logs/loo-000-zopen.log"))
    assert len(logs) == len({port for port, _patch in KNOWN_ANSWERS}) and all("Skipping Install" in log.read_text() for log in logs)
    # Every z/OS task ran, and zos_fetch is never sent binary together with encoding (that deletes the source on z/OS).
    assert_zos_tasks_ran(first, ZOS_TASK_ACTIONS)
    zos = _records(tmp_path / "out")
    posix = _records(posix_harvest["base"] / "out")
    _check_known_answers(zos)
    assert {r["id"] for r in zos} == {r["id"] for r in posix}
    # System facts from zos_gather_facts are stored with the records.
    assert all(r.get("system", {}).get("product_name") for r in zos)
    second = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run2"))
    check = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), check=True, private_data_dir=str(tmp_path / "run3"))
    assert_idempotent(first, second, check)


def _broken_ports(tmp_path: Path) -> list[dict]:
    samples = REPO / "samples" / "ports"
    no_buildenv = tmp_path / "nobuildenvport"
    (no_buildenv / "patches").mkdir(parents=True)
    escaping = tmp_path / "escapeport"
    shutil.copytree(samples / "tinyprocport", escaping)
    (escaping / "patches" / "zz-escape.patch").write_text(
        "--- a/../../outside.txt\n+++ b/../../outside.txt\n@@ -0,0 +1 @@\n+owned\n", encoding="utf-8"
    )
    stale = tmp_path / "staleport"
    shutil.copytree(samples / "tinyprocport", stale)
    (stale / "patches" / "src" / "run.c.patch").write_text(
        "--- a/src/run.c\n+++ b/src/run.c\n@@ -1,3 +1,3 @@\n-this line is not in run.c\n+nor this one\n context that is not there\n",
        encoding="utf-8",
    )
    return [
        {"name": "tinyprocport", "src": str(samples / "tinyprocport")},
        {"name": "nobuildenvport", "src": str(no_buildenv)},
        {"name": "bad;name$(touch /tmp/autoport-pwned)", "src": str(samples / "tinyprocport")},
        {"name": "unreachableport", "src": "file:///nonexistent/unreachable-port.git"},
        {"name": "escapeport", "src": str(escaping)},
        {"name": "staleport", "src": str(stale)},
    ]


def test_bad_ports_fail_alone_and_lose_nothing(tmp_path: Path) -> None:
    pwned = Path("/tmp/autoport-pwned")
    if pwned.exists():
        pwned.unlink()
    extravars = {
        "autoport_output_dir": str(tmp_path / "out"),
        "harvest_remote_dir": str(tmp_path / "remote"),
        "harvest_poll_interval": 1,
        "harvest_ports": _broken_ports(tmp_path),
    }
    run = run_playbook("harvest.yml", extravars, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    final = run.task_results("Fail when a port could not be harvested")
    assert final, run.stdout[-3000:]
    message = final[0]["msg"]
    for name in ("nobuildenvport", "bad;name", "unreachableport", "escapeport", "staleport"):
        assert name in message, (name, message)
    assert "has no buildenv" in message
    assert "tinyprocport" not in message.split("(the other ports")[0].split(":")[0]
    # The good port finished and its records are on the controller.
    good = load_json_lines(tmp_path / "out" / "harvest" / "tinyprocport" / "records.jsonl")
    assert any(r["provenance"] == "build" for r in good)
    # Nothing ran or was written outside the ports' work directories.
    assert not pwned.exists()
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "remote" / "outside.txt").exists()
    assert set(json.loads(json.dumps(run.set_stats["harvest_ports_failed"]))) >= {"nobuildenvport", "unreachableport", "escapeport", "staleport"}


def test_posix_work_dir_under_tilde_is_one_place_when_home_is_not_the_passwd_home(tmp_path: Path) -> None:
    """copy expands "~" from the passwd entry, modules from $HOME: the role makes it absolute once."""
    home = tmp_path / "home"
    home.mkdir()
    extravars = {
        "autoport_output_dir": str(tmp_path / "out"),
        "harvest_remote_dir": "~/autoport-harvest",
        "harvest_poll_interval": 1,
        "harvest_ports": [{"name": "tinyprocport", "src": str(REPO / "samples" / "ports" / "tinyprocport")}],
    }
    # Ansible's own async_status has the same split; an absolute async dir keeps it out of the test.
    envvars = {"HOME": str(home), "ANSIBLE_ASYNC_DIR": str(home / ".ansible_async")}
    run = run_playbook("harvest.yml", extravars, private_data_dir=str(tmp_path / "run"), envvars=envvars)
    assert_ok(run)
    assert (home / "autoport-harvest" / "tinyprocport" / "port.tar").is_file()
    records = load_json_lines(tmp_path / "out" / "harvest" / "tinyprocport" / "records.jsonl")
    assert any(r["provenance"] == "build" for r in records)


def test_zos_work_dir_must_be_absolute(tmp_path: Path) -> None:
    extravars = {"autoport_output_dir": str(tmp_path / "out"), "harvest_remote_dir": "~/autoport-harvest", "harvest_poll_interval": 1}
    run = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    failed = [e for e in run.events if e.get("event") == "runner_on_failed"]
    assert failed and "must be an absolute path on a z/OS host" in json.dumps(failed[0]["event_data"]["res"])
    assert not (tmp_path / "out" / "harvest").exists()


def test_zos_port_sent_by_tar_keeps_its_commit(shared_dir: Path, tmp_path: Path) -> None:
    # A port directory that is a git checkout goes to the z/OS host as a tar without .git:
    # the controller's HEAD must still reach the records.
    port = tmp_path / "ports" / "tinyprocport"
    shutil.copytree(REPO / "samples" / "ports" / "tinyprocport", port)
    env = {"GIT_AUTHOR_NAME": "p", "GIT_AUTHOR_EMAIL": "p@example.invalid", "GIT_COMMITTER_NAME": "p",
           "GIT_COMMITTER_EMAIL": "p@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    for args in (["init", "-q", "."], ["add", "-A"], ["commit", "-q", "-m", "port"]):
        subprocess.run(["git"] + args, cwd=str(port), env=env, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=str(port), capture_output=True, text=True, check=True).stdout.strip()
    extravars = {"autoport_output_dir": str(tmp_path / "out"), "harvest_remote_dir": str(tmp_path / "remote"), "harvest_poll_interval": 1,
                 "autoport_zopen_config": str(zopen_config(shared_dir, tmp_path)),
                 "harvest_ports": [{"name": "tinyprocport", "src": str(port)}]}
    run = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run"))
    assert_ok(run)
    assert not (tmp_path / "remote" / "tinyprocport" / "port" / ".git").exists()
    records = load_json_lines(tmp_path / "out" / "harvest" / "tinyprocport" / "records.jsonl")
    assert records and {record["port_commit"] for record in records} == {head}


def test_example_zos_inventory_names_the_zopen_config_and_validates(tmp_path: Path) -> None:
    inventory = REPO / "inventory" / "example-zos"
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    bindir = Path(sys.executable).parent
    shown = subprocess.run(
        [str(bindir / "ansible"), "autoport_build_hosts", "-i", str(inventory), "-m", "ansible.builtin.debug",
         "-a", json.dumps({"msg": "config={{ autoport_zopen_config }} remote_dir={{ harvest_remote_dir | default('unset') }}"})],
        capture_output=True, check=False, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "config=/u/portbld/zopen/etc/zopen-config" in shown.stdout
    # Left unset: the role reads $HOME on the host (an absolute path), never "~".
    assert "remote_dir=unset" in shown.stdout
    # The stage's variables validate against the role's argument spec (controller-only tasks).
    ports = json.dumps({"harvest_ports": [{"name": "zlibport", "src": "https://github.com/zopencommunity/zlibport.git"}]})
    checked = subprocess.run([str(bindir / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / "harvest.yml"), "--tags", "always",
                              "-e", ports], capture_output=True, check=False, text=True, env=env, timeout=300)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]


def test_zos_default_work_dir_is_absolute_under_the_hosts_home(shared_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = zopen_config(shared_dir, tmp_path)
    extravars = {"autoport_output_dir": str(tmp_path / "out"), "autoport_zopen_config": str(config), "harvest_ports": []}
    run = run_playbook("harvest.yml", extravars, inventory=str(ZOS_INVENTORY), private_data_dir=str(tmp_path / "run"), envvars={"HOME": str(home)})
    assert_ok(run)
    chosen = [e["event_data"]["res"]["ansible_facts"] for e in run.events if e.get("event") == "runner_on_ok"
              and e["event_data"].get("task") == "Choose the work directory on the build host"]
    assert chosen and chosen[0]["__harvest_remote_root"] == str(home / ".cache" / "autoport" / "harvest")
    # What zopen-config set is in the environment of every z/OS task.
    kept = [e["event_data"]["res"]["ansible_facts"] for e in run.events if e.get("event") == "runner_on_ok"
            and e["event_data"].get("task") == "Keep the zopen environment for every z/OS task"]
    assert kept and kept[0]["__harvest_zopen_env"]["ZOPEN_TEST_CONFIG_SOURCED"] == "yes"
    assert kept[0]["__harvest_zopen_env"]["PATH"].startswith(str(tmp_path / "zopen-linux" / "bin") + ":")
