"""The zopen build profile against the REAL `zopen build` (zopencommunity/meta bin/zopen-build,
run on Linux by ../shared/tools/zopen-linux), and the source preparation that mirrors it.

Each test names the point of the real script it holds the harvest to; each fails on a
harvest that ignores that point (see issue 10, item 4).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import build_profile
from ansible_collections.autoport.zos.plugins.module_utils import patch_replay, replay_source
from ansible_collections.autoport.zos.plugins.module_utils.patch_replay import replay_port
from ansible_collections.autoport.zos.plugins.module_utils.record import read_records

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
MIRROR = SAMPLES / "mirror"
# The compiler dependency's flags on this host (what check_clang's .env sets on z/OS):
# zopen-linux takes them from ZOPEN_STANDIN_CFLAGS.
STRICT = {"ZOPEN_STANDIN_CFLAGS": build_profile.DEFAULT_POSIX_CFLAGS}
# A flag that breaks every compile: the posix profile's cflags must never reach zopen build.
POISON_CFLAGS = "-include /nonexistent/autoport-posix-only.h"

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("cc", "make", "git", "bash", "curl")), reason="needs cc, make, git, bash and curl"
)


def records_of(result: dict) -> list:
    return [item[1] for item in read_records(result["records_file"])]


def ids(records: list) -> list:
    return [record["id"] for record in records]


def outcomes(result: dict) -> list:
    return [(item["patch"], item["outcome"]) for item in result["patches"]]


def git(cwd, *args) -> str:
    return subprocess.run(["git"] + list(args), cwd=str(cwd), capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def zopen(shared_dir, tmp_path_factory) -> str:
    """`zopen-linux --setup DIR`: a `zopen` command running the real zopen-build."""
    tool = shared_dir / "tools" / "zopen-linux"
    if not os.access(str(tool), os.X_OK):
        pytest.skip("../shared/tools/zopen-linux is absent")
    work = tmp_path_factory.mktemp("zopen-linux")
    done = subprocess.run([str(tool), "--setup", str(work)], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def posix(tmp_path_factory) -> dict:
    """The posix profile's harvest of two sample ports: what the real script must match."""
    runs = {}
    for port in ("tinyprocport", "inicfgport"):
        work = tmp_path_factory.mktemp("posix-%s" % port)
        result = replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(work), "mirror_dir": str(MIRROR)})
        runs[port] = {"result": result, "records": records_of(result)}
    return runs


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    served = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.served.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def real_run(zopen, posix, tmp_path_factory) -> dict:
    """tinyprocport through the real zopen build, set up the way a z/OS host differs from zopen-linux:
    - ZOPEN_LINUX_SET_ACTIVE=1: the front end leaves --no-set-active out (real `zopen` adds nothing);
    - the tarball's URL is an http server that counts requests, and the zopen-linux curl stub
      serves nothing (an empty ZOPEN_LINUX_MIRROR): every download zopen build makes fails;
    - the command is a wrapper that notes each build's TMPDIR, then runs the real one;
    - the posix profile's cflags are a poison that breaks every compile they reach."""
    base = tmp_path_factory.mktemp("real-zopen")
    served = base / "served" / "tinyproc"
    served.mkdir(parents=True)
    shutil.copy(str(MIRROR / "tinyproc-0.4.tar.gz"), str(served))
    (base / "empty-mirror").mkdir()
    _CountingHandler.served = []
    handler = functools.partial(_CountingHandler, directory=str(base / "served"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tmpdirs = base / "tmpdirs.txt"
    wrapper = base / "zopen"
    wrapper.write_text('#!/bin/sh\necho "$TMPDIR" >> "%s"\nexec "%s" "$@"\n' % (tmpdirs, zopen))
    wrapper.chmod(0o755)
    try:
        result = replay_port({
            "port_dir": str(SAMPLES / "ports" / "tinyprocport"),
            "work_dir": str(base / "work"),
            "source": "http://127.0.0.1:%d/tinyproc/tinyproc-0.4.tar.gz" % server.server_address[1],
            "profile": "zopen",
            "zopen_command": str(wrapper),
            "cflags": POISON_CFLAGS,
            "env": dict(STRICT, ZOPEN_LINUX_SET_ACTIVE="1", ZOPEN_LINUX_MIRROR=str(base / "empty-mirror")),
        })
    finally:
        server.shutdown()
    return {"result": result, "records": records_of(result), "served": list(_CountingHandler.served),
            "tmpdirs": tmpdirs.read_text().split(), "base": base}


def test_real_zopen_build_gives_the_posix_records(real_run, posix):
    result, records = real_run["result"], real_run["records"]
    assert result["profile"] == "zopen" and result["builds"] == 5
    assert ids(records) == ids(posix["tinyprocport"]["records"])
    assert outcomes(result) == outcomes(posix["tinyprocport"]["result"])
    names = {os.path.basename(path) for path in result["log_files"]}
    assert {"loo-000-zopen.log", "loo-000-configure.log", "loo-000-build.log", "loo-000-check.log"} <= names
    # The swapped patch folder holds what the tree has applied: at the end, every patch.
    root = Path(result["work_dir"]) / "root"
    swapped = sorted(str(path.relative_to(root / "autoport-patches")) for path in (root / "autoport-patches").rglob("*.patch"))
    assert swapped == ["src/limits.c.patch", "src/run.c.patch", "src/signame.c.patch", "src/tinyproc.h.patch"]


def test_no_set_active_keeps_a_green_build_green(real_run):
    # Without --no-set-active the real script exits 1 after a passing check (mv: cannot stat ...).
    base = {build["key"]: build for build in real_run["result"]["build_results"]}["loo-000"]
    assert base["status"] == "ok", base
    log = (Path(real_run["result"]["log_files"][0]).parent / "loo-000-zopen.log").read_text()
    assert "Skipping Install" in log and "mv: cannot stat" not in log


def test_a_tarball_is_downloaded_once_for_all_builds(real_run):
    # zopen build downloads on every build; it gets the harvest's local copy (file://) instead.
    assert real_run["served"] == ["/tinyproc/tinyproc-0.4.tar.gz"]
    assert all(build["status"] != "skipped" for build in real_run["result"]["build_results"])
    assert "file://" in (Path(real_run["result"]["work_dir"]) / "logs" / "loo-000-zopen.log").read_text()


def test_every_zopen_build_has_its_own_tmpdir(real_run):
    work = real_run["result"]["work_dir"]
    seen = real_run["tmpdirs"]
    # One --print-source-dir call, then one per build.
    assert len(seen) == 1 + real_run["result"]["builds"]
    assert len(set(seen)) == len(seen)
    assert all(path.startswith(work + os.sep) for path in seen)
    assert not any(os.path.exists(path) for path in seen)


def test_toolchain_is_the_compiler_the_build_ran(real_run):
    expected = build_profile.toolchain_label("posix", {"CC": "cc"})
    assert expected != "unknown"
    assert {record["toolchain"] for record in real_run["records"]} == {expected}


def test_posix_cflags_never_reach_zopen_build(real_run):
    assert POISON_CFLAGS not in (Path(real_run["result"]["work_dir"]) / "logs" / "loo-000-zopen.log").read_text()
    assert any("cflags are the posix profile's" in warning for warning in real_run["result"]["warnings"])
    assert all(outcome == "fixed" for _patch, outcome in outcomes(real_run["result"]))


def _make_mirror():
    spec = importlib.util.spec_from_file_location("make_mirror", str(SAMPLES / "make_mirror.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _port_with_url(tmp_path: Path, url: str, extra: str = "") -> Path:
    port = tmp_path / "inicfgport"
    shutil.copytree(str(SAMPLES / "ports" / "inicfgport"), str(port))
    text = (port / "buildenv").read_text().replace("https://example.invalid/inicfg/inicfg-0.9.tar.gz", url)
    (port / "buildenv").write_text(text + extra)
    return port


def test_git_source_with_dots_and_a_tag_is_a_shallow_detached_clone(zopen, posix, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    bare = _make_mirror().make_git_repo(SAMPLES / "upstream" / "inicfg-0.9", mirror)
    bare.rename(mirror / "inicfg.core.git")
    port = _port_with_url(tmp_path, "https://example.invalid/inicfg/inicfg.core.git", 'export ZOPEN_STABLE_TAG="v0.9"\n')
    result = replay_port({"port_dir": str(port), "port": "inicfgport", "work_dir": str(tmp_path / "work"), "mirror_dir": str(mirror),
                          "profile": "zopen", "zopen_command": zopen, "env": STRICT})
    # ${gitname%.git}: inicfg.core/, not inicfg/ (zopen build --print-source-dir agrees, or the harvest stops).
    source = Path(result["work_dir"]) / "root" / "inicfg.core"
    assert (source / ".git").is_dir() and not (Path(result["work_dir"]) / "root" / "inicfg").exists()
    assert subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=str(source), capture_output=True, check=False).returncode != 0
    assert git(source, "rev-parse", "--is-shallow-repository") == "true"
    assert git(source, "rev-parse", "HEAD") == git(bare.parent / "inicfg.core.git", "rev-parse", "v0.9^{commit}")
    assert ids(records_of(result)) == ids(posix["inicfgport"]["records"])


def test_tarball_unpacks_into_its_top_folder_as_a_main_repo_with_zopens_attributes(zopen, posix, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    # GitHub-style archive name: the URL says v0.9, the archive holds inicfg-0.9/.
    shutil.copy(str(MIRROR / "inicfg-0.9.tar.gz"), str(mirror / "v0.9.tar.gz"))
    port = _port_with_url(tmp_path, "https://example.invalid/inicfg/archive/v0.9.tar.gz")
    result = replay_port({"port_dir": str(port), "port": "inicfgport", "work_dir": str(tmp_path / "work"), "mirror_dir": str(mirror),
                          "profile": "zopen", "zopen_command": zopen, "env": STRICT})
    source = Path(result["work_dir"]) / "root" / "inicfg-0.9"
    assert git(source, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert (source / ".gitattributes").read_text() == patch_replay.ZOPEN_GITATTRIBUTES
    assert "* text  working-tree-encoding=UTF-8" in git(source, "show", "HEAD:.gitattributes")
    assert ids(records_of(result)) == ids(posix["inicfgport"]["records"])


def test_patch_that_needs_a_three_way_merge_applies_to_a_git_source(posix, tmp_path):
    # Upstream moved on after the patches were made: the tag is one commit past the blob
    # hash.c.patch was made against, with a change inside the patch's context.
    work = tmp_path / "upstream"
    shutil.copytree(str(SAMPLES / "upstream" / "inicfg-0.9"), str(work))
    env = dict(os.environ, GIT_AUTHOR_NAME="u", GIT_AUTHOR_EMAIL="u@example.invalid", GIT_COMMITTER_NAME="u",
               GIT_COMMITTER_EMAIL="u@example.invalid", GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp_path))
    for args in (["init", "-q", "-b", "main", "."], ["add", "-A"], ["commit", "-q", "-m", "0.9"]):
        subprocess.run(["git"] + args, cwd=str(work), env=env, check=True)
    hash_c = work / "src" / "hash.c"
    hash_c.write_text(hash_c.read_text().replace("for (; *s; s++) {", "for (; *s != '\\0'; s++) {"))
    for args in (["commit", "-q", "-am", "0.9.1"], ["tag", "v0.9.1"]):
        subprocess.run(["git"] + args, cwd=str(work), env=env, check=True)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirror / "inicfg.git")], env=env, check=True)
    port = _port_with_url(tmp_path, "https://example.invalid/inicfg/inicfg.git", 'export ZOPEN_STABLE_TAG="v0.9.1"\n')
    result = replay_port({"port_dir": str(port), "port": "inicfgport", "work_dir": str(tmp_path / "work"), "mirror_dir": str(mirror)})
    assert outcomes(result) == outcomes(posix["inicfgport"]["result"])
    assert ids(records_of(result)) == ids(posix["inicfgport"]["records"])
    source = Path(result["work_dir"]) / "root" / "inicfg"
    assert "*s != '\\0'" in (source / "src" / "hash.c").read_text() and "uint32_t h" in (source / "src" / "hash.c").read_text()
    # The applied patch is a work-tree change, like every other (the index stays at the base).
    assert git(source, "diff", "--cached", "--name-only") == ""


def test_a_three_way_merge_that_conflicts_leaves_the_files_as_they_were(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(str(SAMPLES / "upstream" / "inicfg-0.9"), str(work))
    env = dict(os.environ, GIT_AUTHOR_NAME="u", GIT_AUTHOR_EMAIL="u@example.invalid", GIT_COMMITTER_NAME="u",
               GIT_COMMITTER_EMAIL="u@example.invalid", GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp_path))
    for args in (["init", "-q", "-b", "main", "."], ["add", "-A"], ["commit", "-q", "-m", "0.9"]):
        subprocess.run(["git"] + args, cwd=str(work), env=env, check=True)
    hash_c = work / "src" / "hash.c"
    # A change next to the patch's first insertion: the merge conflicts.
    hash_c.write_text(hash_c.read_text().replace("#include \"inicfg.h\"", "#include \"inicfg.h\" /* moved on */"))
    subprocess.run(["git", "commit", "-q", "-am", "0.9.1"], cwd=str(work), env=env, check=True)
    before = hash_c.read_bytes()
    patch = patch_replay._Patch(str(SAMPLES / "ports" / "inicfgport" / "stable-patches" / "src" / "hash.c.patch"), "hash.c.patch", "hash.c.patch")
    patch.load()
    tree = patch_replay._Tree(str(work), env, git(work, "rev-parse", "HEAD"), three_way=True)
    reason = tree.apply(patch)
    assert reason and "3-way retry" in reason
    assert hash_c.read_bytes() == before
    assert git(work, "status", "--porcelain") == ""


def test_patches_are_ordered_by_sort_in_the_builds_locale(tmp_path):
    if shutil.which("localedef") is None or not Path("/usr/share/i18n/locales/en_US").exists():
        pytest.skip("needs localedef and the en_US locale source")
    locales = tmp_path / "locales"
    locales.mkdir()
    subprocess.run(["localedef", "-i", "en_US", "-f", "UTF-8", str(locales / "en_US.UTF-8")], check=True, capture_output=True)
    env = {"LOCPATH": str(locales), "LC_ALL": "en_US.UTF-8"}
    port = SAMPLES / "ports" / "strkitport"
    expected = subprocess.run(["sh", "-c", 'cd stable-patches && find . -name "*.patch" | sort'], cwd=str(port), env=dict(os.environ, **env),
                              capture_output=True, text=True, check=True).stdout.split()
    # In en_US, configure.patch sorts before Makefile.patch; in C (byte order) after it.
    assert expected.index("./configure.patch") < expected.index("./Makefile.patch")
    preview = replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "env": env, "check_mode": True})
    assert [item["patch"] for item in preview["patches"]] == ["stable-patches/" + name[2:] for name in expected]
    default = replay_port({"port_dir": str(port), "work_dir": str(tmp_path / "work"), "env": {"LC_ALL": "C"}, "check_mode": True})
    c_order = [item["patch"] for item in default["patches"]]
    assert c_order.index("stable-patches/Makefile.patch") < c_order.index("stable-patches/configure.patch")


def test_port_files_are_tagged_like_the_upstream_tree_on_zos(tmp_path, monkeypatch):
    # chtag exists on z/OS only: a stand-in that records its arguments plays it here.
    calls = tmp_path / "chtag.log"
    chtag = tmp_path / "chtag"
    chtag.write_text('#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s"\n' % calls)
    chtag.chmod(0o755)
    monkeypatch.setattr(replay_source, "_chtag", lambda: str(chtag))
    result = replay_port({"port_dir": str(SAMPLES / "ports" / "tinyprocport"), "work_dir": str(tmp_path / "work"), "mirror_dir": str(MIRROR)})
    root = Path(result["work_dir"]) / "root"
    tagged = set()
    for line in calls.read_text().splitlines():
        words = line.split()
        if words[:2] == ["-tc", "ISO8859-1"]:
            tagged.update(words[2:])
    for name in ("buildenv", "patches/src/run.c.patch", "patches/src/tinyproc.h.patch"):
        assert str(root / name) in tagged, name
