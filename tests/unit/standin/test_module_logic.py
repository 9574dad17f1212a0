"""Behaviour of the stand-in modules' remote halves, called directly."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile

import pytest

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import (
    standin_archive, standin_copy, standin_encode, standin_facts, standin_fetch, standin_script, standin_stat,
    standin_tags, standin_unavailable,
)
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_spec import StandinFailure


# ------------------------------------------------------------------ fetch --

def _fetch_params(src, **extra):
    params = dict(src=str(src), dest="/unused", binary=False, encoding=None, fail_on_missing=True, flat=True,
                  validate_checksum=True)
    params.update(extra)
    return params


def test_fetch_refuses_binary_with_encoding_and_keeps_the_source(tmp_path, fake_module):
    source = tmp_path / "build.log"
    source.write_bytes(b"compile ok\n")
    params = _fetch_params(source, binary=True, encoding={"from": "IBM-1047", "to": "UTF-8"})
    with pytest.raises(StandinFailure) as err:
        standin_fetch.run_fetch(fake_module(params))
    assert "refuses binary: true together with encoding" in err.value.msg and str(source) in err.value.msg
    assert source.read_bytes() == b"compile ok\n"


def test_fetch_refuses_the_1_16_spelling_too(tmp_path, fake_module):
    source = tmp_path / "build.log"
    source.write_bytes(b"x")
    params = _fetch_params(source, is_binary=True, encoding={"from": "IBM-1047", "to": "UTF-8"})
    params.pop("binary")
    with pytest.raises(StandinFailure):
        standin_fetch.run_fetch(fake_module(params, version="1.16.0"))
    assert source.exists()


def test_fetch_default_converts_from_ibm1047_so_ascii_is_garbled(tmp_path, fake_module):
    source = tmp_path / "config.log"
    source.write_bytes(b"checking for gcc... no\n")
    result = standin_fetch.run_fetch(fake_module(_fetch_params(source)))
    try:
        assert result["encoding"] == {"from": "IBM-1047", "to": "UTF-8"}
        assert result["remote_path"] != str(source) and standin_fetch.is_fetch_temp(result["remote_path"])
        with open(result["remote_path"], "rb") as handle:
            fetched = handle.read()
        assert fetched == b"checking for gcc... no\n".decode("cp1047").encode("utf-8")
        assert fetched != source.read_bytes()
    finally:
        os.remove(result["remote_path"])


def test_fetch_binary_sends_the_file_itself(tmp_path, fake_module):
    source = tmp_path / "a.out"
    source.write_bytes(bytes(range(256)))
    result = standin_fetch.run_fetch(fake_module(_fetch_params(source, binary=True)))
    assert result["remote_path"] == str(source)
    assert not standin_fetch.is_fetch_temp(result["remote_path"])


def test_fetch_missing_file_fails_or_reports_by_fail_on_missing(tmp_path, fake_module):
    missing = tmp_path / "nope.log"
    with pytest.raises(StandinFailure) as err:
        standin_fetch.run_fetch(fake_module(_fetch_params(missing)))
    assert "does not exist" in err.value.msg and str(missing) in err.value.msg
    result = standin_fetch.run_fetch(fake_module(_fetch_params(missing, fail_on_missing=False)))
    assert "No data was fetched." in result["msg"]


def test_fetch_of_a_data_set_is_not_available(fake_module):
    with pytest.raises(StandinFailure) as err:
        standin_fetch.run_fetch(fake_module(_fetch_params("USER.BUILD.LOG")))
    assert "not available in the test stand-in" in err.value.msg


# ------------------------------------------------------------------ encode --

def test_encode_converts_tags_and_is_not_idempotent(tmp_path, fake_module, standin_env):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello\n")
    params = dict(src=str(source), dest=None, encoding={"from": "ISO8859-1", "to": "IBM-1047"}, backup=False)
    first = standin_encode.run_encode(fake_module(params))
    assert first["changed"] is True and source.read_bytes() == "hello\n".encode("cp1047")
    assert standin_tags.get_tag(str(source)) == "IBM-1047"
    standin_encode.run_encode(fake_module(params))
    assert source.read_bytes() == "hello\n".encode("cp1047").decode("latin-1").encode("cp1047")


def test_encode_fails_when_from_equals_to_and_leaves_the_file(tmp_path, fake_module, standin_env):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello\n")
    params = dict(src=str(source), dest=None, encoding={"from": "IBM-1047", "to": "ibm-1047"})
    with pytest.raises(StandinFailure) as err:
        standin_encode.run_encode(fake_module(params))
    assert "from_encoding and to_encoding are the same" in err.value.msg
    assert source.read_bytes() == b"hello\n"


def test_encode_rejects_unknown_code_sets_and_backs_up(tmp_path, fake_module, standin_env):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"abc\n")
    with pytest.raises(StandinFailure) as err:
        standin_encode.run_encode(fake_module(dict(src=str(source), encoding={"from": "IBM-1047", "to": "KLINGON"})))
    assert "Invalid codeset" in err.value.msg
    result = standin_encode.run_encode(fake_module(dict(src=str(source), backup=True, backup_name=None,
                                                        encoding={"from": "ISO8859-1", "to": "IBM-1047"})))
    with open(result["backup_name"], "rb") as handle:
        assert handle.read() == b"abc\n"


# -------------------------------------------------------------------- stat --

def test_stat_of_a_file_has_the_real_shape_and_reports_the_tag(tmp_path, fake_module, standin_env):
    target = tmp_path / "buildenv"
    target.write_text("ZOPEN_BUILD_LINE=STABLE\n", encoding="utf-8")
    standin_tags.set_tag(str(target), "ISO8859-1")
    params = dict(name=str(target), type="file", follow=False, get_checksum=True, checksum_algorithm="sha256",
                  get_mime=False)
    result = standin_stat.run_stat(fake_module(params))
    stat = result["stat"]
    assert result["changed"] is True and stat["exists"] is True and stat["isfile"] is True
    attributes = stat["attributes"]
    assert attributes["charset"] == "ISO8859-1" and attributes["size"] == 24 and attributes["isreg"] is True
    for key in standin_stat.FILE_ATTRS + standin_stat.DATA_SET_ATTRS + standin_stat.GDG_ATTRS:
        assert key in attributes
    assert attributes["dsorg"] is None and attributes["quiesced"] == {"job": None, "system": None, "timestamp": None}
    import hashlib
    assert attributes["checksum"] == hashlib.sha256(target.read_bytes()).hexdigest()


def test_stat_missing_file_and_non_file_types(tmp_path, fake_module):
    params = dict(name=str(tmp_path / "none"), type="file", follow=False, get_checksum=True,
                  checksum_algorithm="sha1", get_mime=False)
    result = standin_stat.run_stat(fake_module(params))
    assert result == {"changed": False, "stat": {"name": str(tmp_path / "none"), "resource_type": "file",
                                                 "exists": False}}
    params.update(type="data_set")
    with pytest.raises(StandinFailure) as err:
        standin_stat.run_stat(fake_module(params))
    assert "type: file" in err.value.msg


# ------------------------------------------------------------------- facts --

def _facts_params(**extra):
    params = dict(gather_subset=["all"], filter=[])
    params.update(extra)
    return params


def test_bundled_facts_describe_a_zos_3_1_system(fake_module, standin_env):
    facts = standin_facts.run_gather_facts(fake_module(_facts_params()))["ansible_facts"]
    assert facts["product_name"] == "z/OS" and facts["product_version"] == "03" and facts["product_release"] == "01"
    assert {"sys_name", "cpc_nd_model", "ipl_volume", "iodf_name"} <= set(facts)


def test_facts_subset_and_filter(fake_module, standin_env):
    facts = standin_facts.run_gather_facts(fake_module(_facts_params(gather_subset=["cpu"],
                                                                     filter=["cpc_nd_*"])))["ansible_facts"]
    assert facts and all(key.startswith("cpc_nd_") for key in facts)
    with pytest.raises(StandinFailure) as bad:
        standin_facts.run_gather_facts(fake_module(_facts_params(gather_subset=["sys;rm -rf /"])))
    assert bad.value.msg == "An invalid subset was passed to Ansible."
    with pytest.raises(StandinFailure) as unknown:
        standin_facts.run_gather_facts(fake_module(_facts_params(gather_subset=["uss"])))
    assert unknown.value.msg == "An invalid subset was detected."


def test_facts_gather_nothing_in_check_mode(fake_module, standin_env):
    assert standin_facts.run_gather_facts(fake_module(_facts_params(), check_mode=True))["ansible_facts"] == {}


def test_facts_fixture_from_the_environment(tmp_path, fake_module, standin_env, monkeypatch):
    fixture = tmp_path / "facts.json"
    fixture.write_text(json.dumps({"sys": {"sys_name": "TEST01", "product_version": "02"}}), encoding="utf-8")
    monkeypatch.setenv("IBM_ZOS_CORE_STANDIN_FACTS", str(fixture))
    facts = standin_facts.run_gather_facts(fake_module(_facts_params()))["ansible_facts"]
    assert facts == {"sys_name": "TEST01", "product_version": "02"}
    fixture.write_text("{broken", encoding="utf-8")
    with pytest.raises(StandinFailure) as err:
        standin_facts.run_gather_facts(fake_module(_facts_params()))
    assert str(fixture) in err.value.msg and "not UTF-8 JSON" in err.value.msg


# ---------------------------------------------------------------- archives --

def _tree(root):
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("alpha\n", encoding="utf-8")
    (root / "src" / "sub" / "b.bin").write_bytes(bytes(range(256)))
    return root / "src"


def _archive_params(sources, dest, fmt, **extra):
    params = dict(src=[str(s) for s in sources], dest=str(dest), format={"type": fmt, "options": None},
                  exclude=None, force=False, remove=False, encoding=None, mode=None, owner=None, group=None)
    params.update(extra)
    return params


def _unarchive_params(src, dest, fmt, **extra):
    params = dict(src=str(src), dest=None if dest is None else str(dest), format={"type": fmt, "options": None},
                  include=None,
                  exclude=None, list=False, encoding=None, mode=None, owner=None, group=None, remote_src=True)
    params.update(extra)
    return params


@pytest.mark.parametrize("fmt", ["tar", "gz", "bz2", "pax", "zip"])
def test_archive_and_unarchive_round_trip(tmp_path, fake_module, fmt):
    src = _tree(tmp_path)
    archive = tmp_path / ("logs.%s" % fmt)
    result = standin_archive.run_archive(fake_module(_archive_params([src], archive, fmt)))
    assert result["changed"] is True and result["dest_state"] in ("archive", "compress")
    assert result["arcroot"] == str(tmp_path) and str(src / "sub" / "b.bin") in result["archived"]
    out = tmp_path / "out"
    out.mkdir()
    unpacked = standin_archive.run_unarchive(fake_module(_unarchive_params(archive, out, fmt)))
    assert unpacked["changed"] is True
    assert (out / "src" / "a.txt").read_text(encoding="utf-8") == "alpha\n"
    assert (out / "src" / "sub" / "b.bin").read_bytes() == bytes(range(256))


def test_archive_refuses_an_existing_dest_without_force_and_skips_in_check_mode(tmp_path, fake_module):
    src = _tree(tmp_path)
    archive = tmp_path / "x.tar"
    assert standin_archive.run_archive(fake_module(_archive_params([src], archive, "tar"), check_mode=True)) == {
        "changed": False, "original_message": "", "message": ""}
    assert not archive.exists()
    standin_archive.run_archive(fake_module(_archive_params([src], archive, "tar")))
    with pytest.raises(StandinFailure) as err:
        standin_archive.run_archive(fake_module(_archive_params([src], archive, "tar")))
    assert err.value.msg == "%s file exists. Use force flag to replace dest" % archive
    again = standin_archive.run_archive(fake_module(_archive_params([src], archive, "tar", force=True)))
    assert again["changed"] is False  # same files, same tar bytes


def test_archive_of_terse_or_data_sets_is_not_available(tmp_path, fake_module):
    with pytest.raises(StandinFailure) as err:
        standin_archive.run_archive(fake_module(_archive_params(["USER.SRC"], "USER.ARC", "terse")))
    assert "not available in the test stand-in" in err.value.msg


def test_unarchive_lists_includes_and_reports_missing(tmp_path, fake_module):
    src = _tree(tmp_path)
    archive = tmp_path / "logs.zip"
    standin_archive.run_archive(fake_module(_archive_params([src], archive, "zip")))
    listed = standin_archive.run_unarchive(fake_module(_unarchive_params(archive, tmp_path, "zip", list=True)))
    assert "src/a.txt" in listed["targets"] and listed["changed"] is False
    out = tmp_path / "only"
    out.mkdir()
    some = standin_archive.run_unarchive(fake_module(_unarchive_params(
        archive, out, "zip", include=["src/a.txt", "src/ghost"])))
    assert some["targets"] == ["src/a.txt"] and some["missing"] == ["src/ghost"]
    assert sorted(p.name for p in (out / "src").iterdir()) == ["a.txt"]


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/absolute.txt", "ok/../../escape.txt"])
def test_unarchive_refuses_members_that_leave_dest(tmp_path, fake_module, member):
    archive = tmp_path / "evil.tar"
    with tarfile.open(str(archive), "w") as handle:
        info = tarfile.TarInfo(member)
        payload = b"pwned\n"
        info.size = len(payload)
        handle.addfile(info, io.BytesIO(payload))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StandinFailure) as err:
        standin_archive.run_unarchive(fake_module(_unarchive_params(archive, out, "tar")))
    assert member in err.value.msg
    assert not (tmp_path / "escape.txt").exists() and list(out.iterdir()) == []


def test_unarchive_refuses_a_symlink_leaving_dest(tmp_path, fake_module):
    archive = tmp_path / "link.tar"
    with tarfile.open(str(archive), "w") as handle:
        info = tarfile.TarInfo("passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../../etc/passwd"
        handle.addfile(info)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StandinFailure):
        standin_archive.run_unarchive(fake_module(_unarchive_params(archive, out, "tar")))
    assert list(out.iterdir()) == []


def test_unarchive_of_garbage_names_the_file(tmp_path, fake_module):
    bogus = tmp_path / "not.zip"
    bogus.write_bytes(b"\x00" * 100)
    with pytest.raises(StandinFailure) as err:
        standin_archive.run_unarchive(fake_module(_unarchive_params(bogus, tmp_path, "zip")))
    assert str(bogus) in err.value.msg


def test_unarchive_into_the_archives_directory_by_default(tmp_path, fake_module):
    src = _tree(tmp_path)
    archive = tmp_path / "pack" / "logs.tar"
    archive.parent.mkdir()
    standin_archive.run_archive(fake_module(_archive_params([src / "a.txt"], archive, "tar")))
    standin_archive.run_unarchive(fake_module(_unarchive_params(archive, None, "tar")))
    assert (tmp_path / "pack" / "a.txt").read_text(encoding="utf-8") == "alpha\n"


def test_zip_from_the_real_zipfile_layout_is_read(tmp_path, fake_module):
    archive = tmp_path / "plain.zip"
    with zipfile.ZipFile(str(archive), "w") as handle:
        handle.writestr("dir/file.txt", "content\n")
    out = tmp_path / "o"
    out.mkdir()
    result = standin_archive.run_unarchive(fake_module(_unarchive_params(archive, out, "zip")))
    assert result["targets"] == ["dir/file.txt"] and (out / "dir" / "file.txt").read_text() == "content\n"


# -------------------------------------------------------------------- copy --

def _copy_params(src, dest, **extra):
    params = dict(src=str(src), dest=str(dest), content=None, remote_src=True, binary=False, executable=False,
                  encoding=None, validate=False, replace=False, force=False, backup=False, backup_name=None,
                  asa_text=False, aliases=False, mode=None, owner=None, group=None)
    params.update(extra)
    return params


def test_copy_fails_on_existing_dest_unless_replace_and_is_idempotent_with_it(tmp_path, fake_module):
    src = tmp_path / "patch.diff"
    src.write_bytes(b"--- a\n+++ b\n")
    dest = tmp_path / "dest.diff"
    first = standin_copy.run_copy(fake_module(_copy_params(src, dest)))
    assert first["changed"] is True and first["dest_created"] is True and "checksum" not in first
    with pytest.raises(StandinFailure) as err:
        standin_copy.run_copy(fake_module(_copy_params(src, dest)))
    assert "unable to overwrite unless replace=True" in err.value.msg
    again = standin_copy.run_copy(fake_module(_copy_params(src, dest, replace=True, validate=True)))
    assert again["changed"] is False and again["checksum"]


def test_copy_under_1_16_uses_force_to_overwrite(tmp_path, fake_module):
    src = tmp_path / "a"
    src.write_bytes(b"1\n")
    dest = tmp_path / "b"
    dest.write_bytes(b"2\n")
    params = _copy_params(src, dest, is_binary=False, force_lock=False)
    params.pop("binary")
    params.pop("replace")
    with pytest.raises(StandinFailure) as err:
        standin_copy.run_copy(fake_module(params, version="1.16.0"))
    assert "force=True" in err.value.msg
    params["force"] = True
    assert standin_copy.run_copy(fake_module(params, version="1.16.0"))["changed"] is True
    assert dest.read_bytes() == b"1\n"


def test_local_text_copy_drops_cr_and_binary_needs_binary(tmp_path, fake_module):
    text = tmp_path / "crlf.txt"
    text.write_bytes(b"one\r\ntwo\r\n")
    standin_copy.run_copy(fake_module(_copy_params(text, tmp_path / "lf.txt", remote_src=False)))
    assert (tmp_path / "lf.txt").read_bytes() == b"one\ntwo\n"
    blob = tmp_path / "tool.tar.gz"
    blob.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe\r\n")
    with pytest.raises(StandinFailure) as err:
        standin_copy.run_copy(fake_module(_copy_params(blob, tmp_path / "copy.tar.gz", remote_src=False)))
    assert "binary: true" in err.value.msg
    done = standin_copy.run_copy(fake_module(_copy_params(blob, tmp_path / "copy.tar.gz", remote_src=False,
                                                          binary=True)))
    assert done["changed"] and (tmp_path / "copy.tar.gz").read_bytes() == blob.read_bytes()


def test_copy_with_encoding_converts_and_tags(tmp_path, fake_module, standin_env):
    src = tmp_path / "jcl.txt"
    src.write_text("//JOB [X]\n", encoding="utf-8")
    dest = tmp_path / "jcl.ebc"
    standin_copy.run_copy(fake_module(_copy_params(src, dest, encoding={"from": "UTF-8", "to": "IBM-1047"})))
    assert dest.read_bytes() == "//JOB [X]\n".encode("cp1047")
    assert standin_tags.get_tag(str(dest)) == "IBM-1047"
    with pytest.raises(StandinFailure):
        standin_copy.run_copy(fake_module(_copy_params(src, tmp_path / "x", binary=True,
                                                       encoding={"from": "UTF-8", "to": "IBM-1047"})))


def test_copy_directory_with_and_without_trailing_slash(tmp_path, fake_module):
    src = _tree(tmp_path)
    into = tmp_path / "into"
    into.mkdir()
    standin_copy.run_copy(fake_module(_copy_params(src, into, binary=True)))
    assert (into / "src" / "sub" / "b.bin").read_bytes() == bytes(range(256))
    contents = tmp_path / "contents"
    contents.mkdir()
    # src/ means "the contents of src"; an existing dest needs replace, as on z/OS.
    with pytest.raises(StandinFailure):
        standin_copy.run_copy(fake_module(_copy_params(str(src) + "/", contents, binary=True)))
    standin_copy.run_copy(fake_module(_copy_params(str(src) + "/", contents, binary=True, replace=True)))
    assert (contents / "a.txt").exists() and not (contents / "src").exists()


def test_copy_to_a_data_set_is_not_available(tmp_path, fake_module):
    src = tmp_path / "a"
    src.write_text("x", encoding="utf-8")
    with pytest.raises(StandinFailure) as err:
        standin_copy.run_copy(fake_module(_copy_params(src, "USER.PDS(MEMBER)")))
    assert "not available" in err.value.msg


# ------------------------------------------------------------------ script --

def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    return path


def _script_params(cmd, **extra):
    params = dict(cmd=cmd, chdir=None, executable=None, creates=None, removes=None, remote_src=True)
    params.update(extra)
    return params


def test_script_fails_on_stderr_even_with_rc_0(tmp_path, fake_module):
    script = _script(tmp_path, "warn.sh", "echo built\necho 'warning: deprecated' >&2\nexit 0\n")
    with pytest.raises(StandinFailure) as err:
        standin_script.run_script(fake_module(_script_params(str(script))))
    assert err.value.msg == "The script terminated with an error"
    assert err.value.result["rc"] == 0 and err.value.result["stderr_lines"] == ["warning: deprecated", ""]


def test_script_success_returns_the_real_fields(tmp_path, fake_module):
    script = _script(tmp_path, "ok.sh", 'echo "args: $*"\npwd\n')
    result = standin_script.run_script(fake_module(_script_params("%s one two" % script, chdir=str(tmp_path))))
    assert result["rc"] == 0 and result["changed"] is True
    assert result["stdout_lines"] == ["args: one two", str(tmp_path), ""]
    assert result["cmd"] == "%s one two" % script and result["remote_cmd"] == "%s one two" % script
    assert os.access(str(script), os.X_OK) is False  # permissions put back


def test_script_creates_removes_and_temp_cleanup(tmp_path, fake_module):
    script = _script(tmp_path, "zos_script.abc.run.sh", "echo hi\n")
    skipped = standin_script.run_script(fake_module(_script_params(str(script), creates=str(tmp_path))))
    assert skipped["skipped"] is True and script.exists()
    # A local script's temp copy (made by the action plugin) is removed after the run...
    standin_script.run_script(fake_module(_script_params(str(script), remote_src=False)))
    assert not script.exists()
    # ...but a user's own script is never removed.
    mine = _script(tmp_path, "mine.sh", "echo hi\n")
    standin_script.run_script(fake_module(_script_params(str(mine), remote_src=False)))
    assert mine.exists()


# ------------------------------------------------------------- unavailable --

@pytest.mark.parametrize("module_name", sorted(standin_unavailable.NEEDS))
def test_unavailable_modules_fail_clearly(fake_module, module_name):
    with pytest.raises(StandinFailure) as err:
        standin_unavailable.unavailable(module_name)(fake_module({}))
    assert "ibm.ibm_zos_core.%s is not available in the test stand-in" % module_name in err.value.msg


def test_check_mode_results_mirror_the_real_modules(fake_module):
    assert standin_unavailable.unavailable("zos_data_set")(fake_module({}, check_mode=True)) == {"changed": False}
    assert standin_unavailable.unavailable("zos_mvs_raw")(fake_module({}, check_mode=True)) == {
        "changed": True, "dd_names": [], "ret_code": {"code": 0}}
    with pytest.raises(StandinFailure):
        standin_unavailable.unavailable("zos_tso_command")(fake_module({}, check_mode=True))
