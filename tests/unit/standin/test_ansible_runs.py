"""The stand-in driven by ansible-playbook on localhost, action plugins included."""

from __future__ import annotations

import os
import tarfile
import tempfile

import pytest

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_fetch import TEMP_PREFIX

pytestmark = pytest.mark.integration
HOSTILE = "odd name $(touch PWNED) 'q'.txt"


def _fetch_temps():
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith(TEMP_PREFIX)}


def test_copy_and_fetch_move_real_files_between_controller_and_host(tmp_path, playbook):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "buildenv").write_bytes(b"ZOPEN_BUILD_LINE=STABLE\r\nZOPEN_COMP=CLANG\n")
    (tmp_path / "files" / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "files" / "tree" / "sub" / "x.patch").write_bytes(b"--- a/x.c\n+++ b/x.c\n")
    host = tmp_path / "host"
    host.mkdir()
    log = host / "build.log"
    log.write_bytes(b"clang: error: unknown argument\n")
    fetched = tmp_path / "fetched"
    (tmp_path / "files" / HOSTILE).write_bytes(b"hostile\n")
    (tmp_path / "files" / "buildenv.j2").write_text("ZOPEN_BUILD_LINE={{ line }}\n", encoding="utf-8")
    temps_before = _fetch_temps()

    results = playbook([
        {"name": "copy", "ibm.ibm_zos_core.zos_copy": {"src": "files/buildenv", "dest": str(host / "buildenv")}},
        {"name": "copy again", "ignore_errors": True,
         "ibm.ibm_zos_core.zos_copy": {"src": "files/buildenv", "dest": str(host / "buildenv")}},
        {"name": "copy replace", "ibm.ibm_zos_core.zos_copy": {"src": "files/buildenv", "dest": str(host / "buildenv"),
                                                               "replace": True, "validate": True}},
        {"name": "copy tree", "ibm.ibm_zos_core.zos_copy": {"src": "files/tree", "dest": str(host) + "/"}},
        {"name": "copy content", "ibm.ibm_zos_core.zos_copy": {"content": "s3cret-token\n", "dest": str(host / "c")}},
        {"name": "fetch binary", "ibm.ibm_zos_core.zos_fetch": {"src": str(log), "dest": str(fetched) + "/",
                                                                "flat": True, "binary": True}},
        {"name": "fetch binary again", "ibm.ibm_zos_core.zos_fetch": {"src": str(log), "dest": str(fetched) + "/",
                                                                      "flat": True, "binary": True}},
        {"name": "fetch text", "ibm.ibm_zos_core.zos_fetch": {"src": str(log), "dest": "text"}},
        {"name": "fetch text again", "ibm.ibm_zos_core.zos_fetch": {"src": str(log), "dest": "text"}},
        {"name": "copy template", "vars": {"line": "DEV"},
         "ibm.ibm_zos_core.zos_copy": {"src": "files/buildenv.j2", "dest": str(host / "rendered"), "use_template": True,
                                       "template_parameters": {"keep_trailing_newline": True}}},
        {"name": "copy missing", "ignore_errors": True,
         "ibm.ibm_zos_core.zos_copy": {"src": "files/absent.txt", "dest": str(host / "absent.txt")}},
        {"name": "copy hostile name", "ibm.ibm_zos_core.zos_copy": {"src": "files/" + HOSTILE,
                                                                    "dest": str(host / "dir with space") + "/"}},
        {"name": "fetch hostile name", "ibm.ibm_zos_core.zos_fetch": {
            "src": str(host / "dir with space" / HOSTILE), "dest": str(fetched) + "/", "flat": True, "binary": True}},
        {"name": "fetch binary with encoding", "ignore_errors": True,
         "ibm.ibm_zos_core.zos_fetch": {"src": str(log), "dest": str(fetched) + "/", "flat": True, "binary": True,
                                        "encoding": {"from": "ISO8859-1", "to": "UTF-8"}}},
    ])

    assert results["copy"]["changed"] is True and results["copy"]["src"] == "files/buildenv"
    assert (host / "buildenv").read_bytes() == b"ZOPEN_BUILD_LINE=STABLE\nZOPEN_COMP=CLANG\n"
    assert results["copy again"]["failed"] is True
    assert "unable to overwrite unless replace=True" in results["copy again"]["msg"]
    assert results["copy replace"]["changed"] is False and len(results["copy replace"]["checksum"]) == 64
    assert (host / "tree" / "sub" / "x.patch").read_bytes() == b"--- a/x.c\n+++ b/x.c\n"
    assert (host / "c").read_text(encoding="utf-8") == "s3cret-token\n"
    assert "s3cret-token" not in repr(results["copy content"])

    assert (fetched / "build.log").read_bytes() == log.read_bytes()
    assert results["fetch binary"]["changed"] is True and results["fetch binary again"]["changed"] is True
    text = tmp_path / "text" / "localhost" / str(log).lstrip("/")
    assert text.read_bytes() == log.read_bytes().decode("cp1047").encode("utf-8")  # garbled, as on z/OS
    assert results["fetch text"]["changed"] is True and results["fetch text again"]["changed"] is False
    refused = results["fetch binary with encoding"]
    assert refused["failed"] is True and "refuses binary: true together with encoding" in refused["msg"]
    assert log.read_bytes() == b"clang: error: unknown argument\n"
    assert _fetch_temps() - temps_before == set()

    assert (host / "rendered").read_text(encoding="utf-8") == "ZOPEN_BUILD_LINE=DEV\n"
    assert results["copy missing"]["failed"] is True and "absent.txt does not exist" in results["copy missing"]["msg"]
    assert (host / "dir with space" / HOSTILE).read_bytes() == b"hostile\n"
    assert (fetched / HOSTILE).read_bytes() == b"hostile\n" and results["fetch hostile name"]["changed"] is True
    assert not list(tmp_path.rglob("PWNED"))


def test_check_mode_follows_each_real_module(tmp_path, playbook):
    host = tmp_path / "host"
    (host / "pack").mkdir(parents=True)
    (host / "pack" / "a.txt").write_text("alpha\n", encoding="utf-8")
    archive = host / "pack.tar"
    with tarfile.open(str(archive), "w") as handle:
        handle.add(str(host / "pack" / "a.txt"), "a.txt")
    (tmp_path / "local.txt").write_text("x\n", encoding="utf-8")
    out = host / "out"
    out.mkdir()

    results = playbook([
        {"name": "copy", "ibm.ibm_zos_core.zos_copy": {"src": "local.txt", "dest": str(host / "copied.txt")}},
        {"name": "archive", "ibm.ibm_zos_core.zos_archive": {
            "src": [str(host / "pack")], "dest": str(host / "n.tar"), "format": {"type": "tar"}}},
        {"name": "unarchive", "ibm.ibm_zos_core.zos_unarchive": {
            "src": str(archive), "dest": str(out), "format": {"type": "tar"}, "remote_src": True}},
        {"name": "data set", "ibm.ibm_zos_core.zos_data_set": {"name": "USER.TEST", "type": "seq"}},
        {"name": "tso", "ignore_errors": True, "ibm.ibm_zos_core.zos_tso_command": {"commands": ["LISTCAT"]}},
    ], check=True)

    assert results["copy"].get("skipped") is True and not (host / "copied.txt").exists()
    assert results["archive"]["changed"] is False and not (host / "n.tar").exists()
    # The real zos_unarchive ignores check mode; so does the stand-in.
    assert results["unarchive"]["changed"] is True and (out / "a.txt").read_text(encoding="utf-8") == "alpha\n"
    assert results["data set"]["changed"] is False and not results["data set"].get("failed")
    assert results["tso"]["failed"] is True and "not available" in results["tso"]["msg"]


def test_script_through_the_action_plugin(tmp_path, playbook):
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "build.sh"
    script.write_text("#!/bin/sh\necho \"building $1\"\necho 'configure: WARNING: no zoslib' >&2\nexit 0\n",
                      encoding="utf-8")

    results = playbook([
        {"name": "as is", "ignore_errors": True, "ibm.ibm_zos_core.zos_script": {"cmd": "scripts/build.sh zlib"}},
        {"name": "judged by rc", "register": "built", "failed_when": "built.rc != 0",
         "ibm.ibm_zos_core.zos_script": {"cmd": "scripts/build.sh zlib", "chdir": str(tmp_path)}},
        {"name": "remote", "ibm.ibm_zos_core.zos_script": {"cmd": "/bin/echo remote ok", "remote_src": True}},
    ])

    as_is = results["as is"]
    assert as_is["failed"] is True and as_is["msg"] == "The script terminated with an error"
    assert as_is["rc"] == 0 and as_is["stdout_lines"] == ["building zlib", ""]
    judged = results["judged by rc"]
    assert not judged.get("failed") and judged["cmd"] == "scripts/build.sh zlib"
    assert judged["remote_cmd"].startswith(judged["tempfile_path"]) and judged["remote_cmd"].endswith(" zlib")
    assert not os.path.exists(judged["tempfile_path"])
    assert results["remote"]["stdout"] == "remote ok\n" and "tempfile_path" not in results["remote"]


def test_controller_archive_unpacks_on_the_host_and_host_archive_comes_back(tmp_path, playbook):
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "z.c").write_text("int z;\n", encoding="utf-8")
    with tarfile.open(str(tmp_path / "port.tar.gz"), "w:gz") as handle:
        handle.add(str(tmp_path / "src"), "src")
    host = tmp_path / "host"
    host.mkdir()

    results = playbook([
        {"name": "unpack", "ibm.ibm_zos_core.zos_unarchive": {
            "src": "port.tar.gz", "dest": str(host), "format": {"type": "gz"}}},
        {"name": "pack", "ibm.ibm_zos_core.zos_archive": {
            "src": [str(host / "src")], "dest": str(host / "back.zip"), "format": {"type": "zip"}}},
        {"name": "fetch", "ibm.ibm_zos_core.zos_fetch": {
            "src": str(host / "back.zip"), "dest": "back.zip", "flat": True, "binary": True}},
    ])

    assert results["unpack"]["changed"] is True and "src/lib/z.c" in results["unpack"]["targets"]
    assert (host / "src" / "lib" / "z.c").read_text(encoding="utf-8") == "int z;\n"
    import zipfile
    with zipfile.ZipFile(str(tmp_path / "back.zip")) as handle:
        assert handle.read("src/lib/z.c") == b"int z;\n"
    assert results["fetch"]["changed"] is True


def test_interface_version_decides_what_ansible_accepts(tmp_path, playbook):
    (tmp_path / "a.txt").write_text("a\n", encoding="utf-8")
    task = {"name": "old spelling", "ignore_errors": True,
            "ibm.ibm_zos_core.zos_copy": {
                "src": str(tmp_path / "a.txt"), "dest": str(tmp_path / "b.txt"), "remote_src": True, "is_binary": True}}
    new = playbook([task], IBM_ZOS_CORE_STANDIN_VERSION="2.0.0")["old spelling"]
    assert new["failed"] is True
    assert new["msg"].startswith("Unsupported parameters for (ibm.ibm_zos_core.zos_copy) module: is_binary.")
    old = playbook([task], IBM_ZOS_CORE_STANDIN_VERSION="1.16.0")["old spelling"]
    assert not old.get("failed") and (tmp_path / "b.txt").read_text(encoding="utf-8") == "a\n"
