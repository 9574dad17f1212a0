"""cp1047 codec, code set names, file conversion and the emulated file tags."""

from __future__ import annotations

import codecs
import json
import os

import pytest

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_codecs, standin_tags


def test_cp1047_is_registered_and_round_trips_every_byte():
    every_byte = bytes(range(256))
    text = every_byte.decode("cp1047")
    assert len(set(text)) == 256  # a bijection: no two bytes share a character
    assert text.encode("cp1047") == every_byte
    assert codecs.lookup("IBM-1047").name == "cp1047"


@pytest.mark.parametrize("char,byte", [
    ("A", 0xC1), ("a", 0x81), ("0", 0xF0), (" ", 0x40), ("[", 0xAD), ("]", 0xBD), ("^", 0x5F),
    ("\u00ac", 0xB0), ("\u00dd", 0xBA), ("\u00a8", 0xBB), ("\n", 0x15), ("\u0085", 0x25),
])
def test_cp1047_code_points_that_differ_from_cp037_and_the_zos_newline(char, byte):
    assert char.encode("cp1047") == bytes([byte])


def test_text_round_trip_through_ibm1047():
    text = "int main(void) { return a[0] ^ b[1]; }\n#ifdef __MVS__\n"
    ebcdic = standin_codecs.convert_bytes(text.encode("utf-8"), "UTF-8", "IBM-1047")
    assert ebcdic != text.encode("utf-8")
    assert standin_codecs.convert_bytes(ebcdic, "IBM-1047", "UTF-8").decode("utf-8") == text


def test_ascii_read_as_ibm1047_is_garbled_not_an_error():
    # What zos_fetch does to an ASCII log by default.
    garbled = standin_codecs.convert_bytes(b"make: *** [all] Error 2\n", "IBM-1047", "UTF-8")
    assert garbled.decode("utf-8") != "make: *** [all] Error 2\n"


@pytest.mark.parametrize("name,codec", [
    ("IBM-1047", "cp1047"), ("ibm1047", "cp1047"), ("ISO8859-1", "latin-1"), ("UTF-8", "utf-8"),
    ("IBM-037", "cp037"), ("819", "latin-1"),
])
def test_zos_code_set_names(name, codec):
    assert standin_codecs.python_codec(name) == codec


@pytest.mark.parametrize("name", ["IBM-99999", "", "   ", None, "../../etc/passwd", "base64", "rot13"])
def test_unknown_code_sets_are_refused_by_name(name):
    with pytest.raises(standin_codecs.CodesetError) as err:
        standin_codecs.python_codec(name)
    assert "Invalid codeset" in str(err.value)


def test_convert_file_keeps_multibyte_characters_split_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(standin_codecs, "CHUNK_SIZE", 7)
    text = "caf\u00e9 d\u00e9j\u00e0 vu \u00e9t\u00e9\n" * 50
    src = tmp_path / "latin.txt"
    src.write_bytes(text.encode("utf-8"))
    ebcdic = tmp_path / "ebcdic.txt"
    standin_codecs.convert_file(str(src), str(ebcdic), "UTF-8", "IBM-1047")
    assert ebcdic.read_bytes() == text.encode("cp1047")
    standin_codecs.convert_file(str(ebcdic), str(ebcdic), "IBM-1047", "UTF-8")  # in place
    assert ebcdic.read_text(encoding="utf-8") == text


def test_convert_file_names_the_file_on_bad_data_and_leaves_dest_alone(tmp_path):
    src = tmp_path / "binary.bin"
    src.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    dest = tmp_path / "out.txt"
    dest.write_text("before", encoding="utf-8")
    with pytest.raises(standin_codecs.ConversionError) as err:
        standin_codecs.convert_file(str(src), str(dest), "UTF-8", "IBM-1047")
    assert str(src) in str(err.value)
    assert dest.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.bin", "out.txt"]


def test_characters_outside_ibm1047_do_not_convert(tmp_path):
    src = tmp_path / "emoji.txt"
    src.write_text("build ok \u2705\n", encoding="utf-8")
    with pytest.raises(standin_codecs.ConversionError):
        standin_codecs.check_convertible(str(src), "UTF-8", "IBM-1047")


def test_tags_are_kept_per_file_and_forgotten_when_the_file_is_replaced(tmp_path, standin_env):
    target = tmp_path / "log.txt"
    target.write_text("x", encoding="utf-8")
    assert standin_tags.charset(str(target)) == "untagged"
    standin_tags.set_tag(str(target), "ISO8859-1")
    assert standin_tags.get_tag(str(target)) == "ISO8859-1"
    replacement = tmp_path / "new.txt"
    replacement.write_text("y", encoding="utf-8")
    os.replace(str(replacement), str(target))
    assert standin_tags.charset(str(target)) == "untagged"


def test_tagging_a_directory_tags_its_files_and_clear_removes_them(tmp_path, standin_env):
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "a.c").write_text("a", encoding="utf-8")
    (tmp_path / "d" / "e" / "b.h").write_text("b", encoding="utf-8")
    standin_tags.set_tag(str(tmp_path / "d"), "IBM-1047")
    assert standin_tags.get_tag(str(tmp_path / "d" / "e" / "b.h")) == "IBM-1047"
    standin_tags.clear_tag(str(tmp_path / "d"))
    assert standin_tags.get_tag(str(tmp_path / "d" / "a.c")) is None


def test_a_damaged_registry_reads_as_untagged_and_is_rewritten(tmp_path, standin_env):
    registry = tmp_path / "tags.json"
    registry.write_text("{not json", encoding="utf-8")
    target = tmp_path / "f"
    target.write_text("x", encoding="utf-8")
    assert standin_tags.get_tag(str(target)) is None
    standin_tags.set_tag(str(target), "UTF-8")
    assert json.loads(registry.read_text(encoding="utf-8"))[os.path.realpath(str(target))]["codeset"] == "UTF-8"
