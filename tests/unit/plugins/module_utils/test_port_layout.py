"""port_layout: buildenv reading, patch folder choice, patch listing and source spec."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import port_layout
from ansible_collections.autoport.zos.plugins.module_utils.port_layout import (
    PortLayoutError,
    compiler_toolchain,
    list_patches,
    read_buildenv,
    resolve_build_line,
    select_patch_dir,
    source_spec,
)


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "w") as handle:
        handle.write(text)
    return str(path)


# ---------------------------------------------------------------------------
# read_buildenv


def test_buildenv_assignments_quotes_expansion_and_comments(tmp_path):
    path = write(
        tmp_path / "buildenv",
        "# bump: foo-version\n"
        'FOO_VERSION="1.2.3"\n'
        "export ZOPEN_BUILD_LINE='DEV' # trailing comment\n"
        'export ZOPEN_STABLE_URL="https://example.invalid/foo-${FOO_VERSION}.tar.gz"\n'
        "export ZOPEN_DEV_URL=https://example.invalid/foo.git\n"
        'export ZOPEN_EXTRA_CFLAGS="${ZOPEN_EXTRA_CFLAGS} -std=gnu99"\n'
        'export ZOPEN_CHECK_OPTS="HARNESS_JOBS=\\$ZOPEN_NUM_JOBS test"\n'
        "export SINGLE='keeps $FOO_VERSION as written'\n"
        'export DEFAULTED="${UNSET_VAR:-fallback} ${FOO_VERSION:-x}"\n'
        "PLAIN=$FOO_VERSION-rc\n"
        "export A=1 B=2\n",
    )
    env = read_buildenv(path)
    assert env["FOO_VERSION"] == "1.2.3"
    assert env["ZOPEN_BUILD_LINE"] == "DEV"
    assert env["ZOPEN_STABLE_URL"] == "https://example.invalid/foo-1.2.3.tar.gz"
    assert env["ZOPEN_DEV_URL"] == "https://example.invalid/foo.git"
    assert env["ZOPEN_EXTRA_CFLAGS"] == " -std=gnu99"
    assert env["ZOPEN_CHECK_OPTS"] == "HARNESS_JOBS=$ZOPEN_NUM_JOBS test"
    assert env["SINGLE"] == "keeps $FOO_VERSION as written"
    assert env["DEFAULTED"] == "fallback 1.2.3"
    assert env["PLAIN"] == "1.2.3-rc"
    assert (env["A"], env["B"]) == ("1", "2")
    assert isinstance(env, dict)


def test_buildenv_skips_function_bodies_and_here_documents(tmp_path):
    path = write(
        tmp_path / "buildenv",
        "export ZOPEN_COMP=CLANG\n"
        "zopen_init()\n"
        "{\n"
        "  export ZOPEN_COMP=XLCLANG\n"
        "  if [ 1 ]; then { echo nested; }; fi\n"
        "}\n"
        "zopen_append_to_env() {\n"
        "cat <<ZZ\n"
        "export ZOPEN_BUILD_LINE=DEV\n"
        "}\n"
        "ZZ\n"
        "}\n"
        "function zopen_other {\n"
        "  AFTER=inside\n"
        "}\n"
        "AFTER=outside\n",
    )
    env = read_buildenv(path)
    assert env["ZOPEN_COMP"] == "CLANG"
    assert "ZOPEN_BUILD_LINE" not in env
    assert env["AFTER"] == "outside"
    assert env.functions == ["zopen_init", "zopen_append_to_env", "zopen_other"]


def test_buildenv_follows_top_level_if_else_and_links(tmp_path):
    path = write(
        tmp_path / "buildenv",
        'export ZOPEN_BUILD_LINE="DEV"\n'
        "rm -f patches\n"
        'if [ "${ZOPEN_BUILD_LINE}" = "DEV" ]; then\n'
        "  ln -s gitpatches patches\n"
        "  CHOSEN=dev\n"
        "else\n"
        "  ln -s tarballpatches patches\n"
        "  CHOSEN=stable\n"
        "fi\n"
        'if [ ! -z "$NOT_SET_ANYWHERE" ]; then\n'
        "  HW=yes\n"
        'elif [ "${ZOPEN_BUILD_LINE}x" != "STABLEx" ]; then\n'
        "  HW=elif\n"
        "else\n"
        "  HW=no\n"
        "fi\n",
    )
    env = read_buildenv(path)
    assert env["CHOSEN"] == "dev"
    assert env.links == {"patches": "gitpatches"}
    assert env["HW"] == "elif"


def test_buildenv_never_runs_command_substitution(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path / "buildenv", 'export X="$(touch %s)"\nY=`touch %s`\n' % (marker, marker))
    env = read_buildenv(path)
    assert not marker.exists()
    assert env["X"] == "$(touch %s)" % marker


def test_buildenv_errors_name_the_file(tmp_path):
    missing = str(tmp_path / "nope" / "buildenv")
    with pytest.raises(PortLayoutError) as info:
        read_buildenv(missing)
    assert missing in str(info.value)
    binary = tmp_path / "buildenv"
    binary.write_bytes(b"\x00\x01\x02export X=1")
    with pytest.raises(PortLayoutError) as info:
        read_buildenv(str(binary))
    assert str(binary) in str(info.value) and "binary" in str(info.value)


def test_buildenv_too_big_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(port_layout, "MAX_BUILDENV_BYTES", 100)
    path = write(tmp_path / "buildenv", "X=1\n" * 100)
    with pytest.raises(PortLayoutError) as info:
        read_buildenv(path)
    assert "too big" in str(info.value) and path in str(info.value)


def test_buildenv_latin1_is_read_with_a_warning(tmp_path):
    path = tmp_path / "buildenv"
    path.write_bytes(b"export NAME='caf\xe9'\n")
    env = read_buildenv(str(path))
    assert env["NAME"] == "caf\xe9"
    assert env.warnings


# ---------------------------------------------------------------------------
# select_patch_dir / list_patches


def make_port(tmp_path, folders):
    port = tmp_path / "fooport"
    port.mkdir(parents=True)
    for folder in folders:
        (port / folder).mkdir(parents=True)
    return port


def test_select_prefers_patch_dir_variable_then_build_line_then_patches(tmp_path):
    port = make_port(tmp_path, ["stable-patches", "dev-patches", "patches", "custom"])
    assert select_patch_dir(str(port), {"ZOPEN_PATCH_DIR": "custom"}) == (str(port / "custom"), "STABLE")
    assert select_patch_dir(str(port), {}) == (str(port / "stable-patches"), "STABLE")
    assert select_patch_dir(str(port), {"ZOPEN_BUILD_LINE": "DEV"}) == (str(port / "dev-patches"), "DEV")
    assert select_patch_dir(str(port), {"ZOPEN_BUILD_LINE": "DEV"}, "STABLE") == (str(port / "stable-patches"), "STABLE")
    only_patches = make_port(tmp_path / "b", ["patches"])
    assert select_patch_dir(str(only_patches), {"ZOPEN_BUILD_LINE": "DEV"}) == (str(only_patches / "patches"), "DEV")
    empty = make_port(tmp_path / "c", [])
    assert select_patch_dir(str(empty), {}) == (None, "STABLE")


def test_patch_dir_variable_built_from_zopen_root(tmp_path):
    port = make_port(tmp_path, ["stable-patches", "mine/zos"])
    write(port / "buildenv", 'export ZOPEN_PATCH_DIR="${ZOPEN_ROOT}/mine/zos"\n')
    env = read_buildenv(str(port / "buildenv"))
    # ZOPEN_ROOT is the port dir during zopen build.
    assert env["ZOPEN_PATCH_DIR"] == os.path.join(str(port), "mine/zos")
    assert select_patch_dir(str(port), env) == (str(port / "mine" / "zos"), "STABLE")
    assert json.loads(json.dumps(env)) == {"ZOPEN_PATCH_DIR": env["ZOPEN_PATCH_DIR"]}


def test_select_follows_buildenv_symlink(tmp_path):
    port = make_port(tmp_path, ["gitpatches", "tarballpatches"])
    write(port / "buildenv", 'export ZOPEN_BUILD_LINE=DEV\n'
                             'if [ "$ZOPEN_BUILD_LINE" = DEV ]; then ln -s gitpatches patches; else ln -s tarballpatches patches; fi\n')
    env = read_buildenv(str(port / "buildenv"))
    assert select_patch_dir(str(port), env) == (str(port / "gitpatches"), "DEV")


def test_select_refuses_folders_outside_the_port(tmp_path):
    port = make_port(tmp_path, ["patches"])
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(PortLayoutError) as info:
        select_patch_dir(str(port), {"ZOPEN_PATCH_DIR": "../elsewhere"})
    assert "outside" in str(info.value)
    with pytest.raises(PortLayoutError):
        select_patch_dir(str(port), {"ZOPEN_PATCH_DIR": str(tmp_path / "elsewhere")})
    os.symlink(str(tmp_path / "elsewhere"), str(port / "stable-patches"))
    with pytest.raises(PortLayoutError):
        select_patch_dir(str(port), {})
    with pytest.raises(PortLayoutError) as info:
        select_patch_dir(str(tmp_path / "missing"), {})
    assert "missing" in str(info.value)
    with pytest.raises(PortLayoutError):
        select_patch_dir(str(port), {}, "NIGHTLY")


def test_list_patches_recursive_sorted_without_diff_files(tmp_path):
    root = tmp_path / "patches"
    for name in ("b.c.patch", "a.c.patch", "PR2/z.patch", "PR10/y.patch", "lib/x.h.patch", "notes.diff", "README.md", "lib/deep/w.patch"):
        write(root / name, "x")
    found = list_patches(str(root))
    assert all(os.path.isabs(path) for path in found)
    relative = [os.path.relpath(path, str(root)) for path in found]
    assert relative == ["PR10/y.patch", "PR2/z.patch", "a.c.patch", "b.c.patch", "lib/deep/w.patch", "lib/x.h.patch"]
    with pytest.raises(PortLayoutError):
        list_patches(str(tmp_path / "absent"))


def test_list_patches_reports_unreadable_folders(tmp_path, monkeypatch):
    root = tmp_path / "patches"
    write(root / "ok.patch", "x")
    write(root / "locked" / "hidden.patch", "x")
    real_scandir = os.scandir

    def scandir(path="."):
        # Tests run as root here, so chmod cannot make a folder unreadable.
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors = []
    found = list_patches(str(root), errors)
    assert [os.path.basename(path) for path in found] == ["ok.patch"]
    assert len(errors) == 1
    assert errors[0][0].endswith("locked") and "cannot read folder: Permission denied" == errors[0][1]


# ---------------------------------------------------------------------------
# source_spec / build line / toolchain


def test_source_spec_current_variables():
    env = {
        "ZOPEN_BUILD_LINE": "STABLE",
        "ZOPEN_STABLE_URL": "https://example.invalid/foo-1.0.tar.gz",
        "ZOPEN_STABLE_TAG": "v1.0",
        "ZOPEN_DEV_URL": "https://example.invalid/foo.git",
        "ZOPEN_DEV_BRANCH": "main",
    }
    assert source_spec(env, "auto") == {"url": "https://example.invalid/foo-1.0.tar.gz", "kind": "tarball", "tag": "v1.0", "branch": None}
    assert source_spec(env, "DEV") == {"url": "https://example.invalid/foo.git", "kind": "git", "tag": None, "branch": "main"}
    assert source_spec(dict(env, ZOPEN_STABLE_TYPE="GIT"), "STABLE")["kind"] == "git"


def test_source_spec_deprecated_variables():
    legacy = {"ZOPEN_GIT_URL": "https://example.invalid/v.git", "ZOPEN_TARBALL_URL": "https://example.invalid/v.tgz"}
    assert source_spec(dict(legacy, ZOPEN_TYPE="GIT"), "STABLE")["url"] == "https://example.invalid/v.git"
    assert source_spec(dict(legacy, ZOPEN_TYPE="TARBALL"), "DEV") == {"url": "https://example.invalid/v.tgz", "kind": "tarball", "tag": None, "branch": None}
    assert source_spec(legacy, "STABLE")["kind"] == "tarball"
    assert source_spec(legacy, "DEV")["kind"] == "git"
    assert source_spec({}, "STABLE") == {"url": None, "kind": None, "tag": None, "branch": None}


def test_build_line_and_toolchain():
    assert resolve_build_line({}, "auto") == "STABLE"
    assert resolve_build_line({"ZOPEN_BUILD_LINE": "dev"}, "auto") == "DEV"
    assert resolve_build_line({"ZOPEN_BUILD_LINE": "DEV"}, "stable") == "STABLE"
    assert compiler_toolchain({"ZOPEN_COMP": "CLANG"}) == "ibm-clang"
    assert compiler_toolchain({"ZOPEN_COMP": "clang"}) == "ibm-clang"
    assert compiler_toolchain({"ZOPEN_COMP": "XLCLANG"}) == "xlclang"
    assert compiler_toolchain({}) == "unknown"


# ---------------------------------------------------------------------------
# The shared corpus


def corpus_index(corpus_ports):
    with open(str(corpus_ports / "INDEX.json")) as handle:
        return json.load(handle)["repos"]


def test_corpus_patch_dir_matches_index_for_every_port(corpus_ports):
    repos = corpus_index(corpus_ports)
    assert len(repos) >= 50
    for repo in repos:
        port_dir = str(corpus_ports / repo["repo"].split("/")[1])
        env = read_buildenv(os.path.join(port_dir, "buildenv")) if repo["has_buildenv"] else {}
        chosen, line = select_patch_dir(port_dir, env)
        got = os.path.relpath(chosen, port_dir) if chosen else None
        assert got == repo["active_patch_dir_guess"], repo["repo"]
        if repo["build_line"]:
            assert line == repo["build_line"], repo["repo"]


def test_corpus_ports_that_switch_folders_in_buildenv(corpus_ports):
    htop = str(corpus_ports / "htopport")
    env = read_buildenv(os.path.join(htop, "buildenv"))
    assert env.links == {"patches": "gitpatches"}
    assert select_patch_dir(htop, env) == (os.path.join(htop, "gitpatches"), "DEV")
    # Forcing STABLE does not make the buildenv's DEV-only link apply.
    env_stable = read_buildenv(os.path.join(htop, "buildenv"), environ={"ZOPEN_ROOT": htop})
    assert env_stable.links == {"patches": "gitpatches"}
    openssl = str(corpus_ports / "opensslport")
    env = read_buildenv(os.path.join(openssl, "buildenv"))
    # OPENSSL_HW_BUILD is unset, so the hardware_patches link is not made.
    assert env.links == {}
    assert select_patch_dir(openssl, env) == (os.path.join(openssl, "stable-patches"), "STABLE")
    assert env["ZOPEN_STABLE_TAG"] == "openssl-" + env["OPENSSL_VERSION"]


def test_corpus_buildenvs_read_without_error_and_give_sources(corpus_ports):
    for repo in corpus_index(corpus_ports):
        if not repo["has_buildenv"]:
            continue
        env = read_buildenv(str(corpus_ports / repo["repo"].split("/")[1] / "buildenv"))
        spec = source_spec(env, "auto")
        if env.get("ZOPEN_TYPE") == "BARE":
            continue
        assert spec["url"], repo["repo"]
        assert spec["kind"] in ("git", "tarball")
        # Parameters are expanded; a command substitution stays as written (never run).
        assert "${" not in spec["url"], spec["url"]
    neovim = read_buildenv(str(corpus_ports / "neovimport" / "buildenv"))
    assert source_spec(neovim, "auto") == {"url": "https://github.com/neovim/neovim.git", "kind": "git", "tag": "v" + neovim["NEOV_VERSION"], "branch": None}
    assert compiler_toolchain(neovim) == "ibm-clang"
