"""build_log: each kind of log, encodings, streaming across block boundaries, bounded
memory, bad input, secrets, phases and message keys."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import build_log
from ansible_collections.autoport.zos.plugins.module_utils.build_log import (
    DIAGNOSTIC_KEYS,
    SEVERITIES,
    BuildLogError,
    decode_cp1047,
    detect_encoding,
    encode_cp1047,
    iter_diagnostics,
    message_key,
    normalize_encoding,
    parse_log,
    phase_from_log_name,
)
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES, PHASES

LOGS = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def _parse(name, **options):
    return parse_log(src=str(LOGS / name), **options)


def _by_message(result):
    return dict((diag["message"], diag) for diag in result["diagnostics"])


def _shape(diag):
    return (diag["file"], diag["line"], diag["column"], diag["severity"], diag["code"], diag["category"], diag["follow_up"],
            diag["phase"], diag["tool"])


def test_every_fixture_gives_well_formed_diagnostics():
    names = sorted(os.listdir(str(LOGS)))
    assert len(names) >= 9
    for name in names:
        result = _parse(name)
        assert result["diagnostics"], name
        assert result["encoding"] == "utf-8" and result["binary"] is False and result["warnings"] == []
        for diag in result["diagnostics"]:
            assert tuple(sorted(diag)) == tuple(sorted(DIAGNOSTIC_KEYS))
            assert diag["category"] in CATEGORIES and diag["phase"] in PHASES and diag["severity"] in SEVERITIES
            assert isinstance(diag["follow_up"], bool) and diag["message"] and "\n" not in diag["message"]
        # counts cover the primaries, severity_counts everything.
        primaries = [diag for diag in result["diagnostics"] if not diag["follow_up"]]
        assert sum(result["counts"].values()) == len(primaries)
        assert sum(result["severity_counts"].values()) == result["total"] == len(result["diagnostics"])
        assert result["follow_ups"] == result["total"] - len(primaries)


def test_clang_log_errors_notes_and_make_follow_ups():
    result = _parse("20240312_101500_build.log")
    diags = result["diagnostics"]
    found = [(d["file"], d["line"], d["column"], d["severity"], d["category"], d["follow_up"]) for d in diags]
    assert found[:9] == [
        ("src/util.h", 12, 10, "fatal", "missing-header", False),
        ("src/jv_print.c", 88, 16, "warning", "type-error", False),
        ("src/builtin.c", 1702, 9, "error", "implicit-function", False),
        ("src/builtin.c", 1760, 29, "error", "undeclared-identifier", False),
        ("src/builtin.c", 1821, 15, "error", "undeclared-identifier", False),
        ("src/jv_alloc.c", 40, 7, "error", "conflicting-declaration", False),
        ("/usr/include/string.h", 289, 9, "note", "conflicting-declaration", True),
        ("src/jv_thread.c", 12, 8, "error", "unsupported-feature", False),
        ("src/decNumber.c", 301, 3, "error", "type-error", False),
    ]
    # The full line is the message; source excerpts, carets and "N errors generated." are not diagnostics.
    assert diags[2]["message"].startswith("src/builtin.c:1702:9: error: call to undeclared function 'timegm'")
    make = diags[9:]
    assert [d["tool"] for d in make] == ["make"] * 3 and all(d["follow_up"] for d in make)
    assert {d["phase"] for d in diags} == {"build"}
    assert {d["tool"] for d in diags[:9]} == {"clang"}
    assert result["total"] == 12 and result["follow_ups"] == 4


def test_xlc_log_ccn_and_fsum_messages():
    diags = _by_message(_parse("20240312_101500_xlc_build.log"))
    first = diags["ERROR CCN3045 ./../../c/jwk.c:214   Undeclared identifier HTTP_CLIENT_EWOULDBLOCK."]
    assert _shape(first) == ("./../../c/jwk.c", 214, None, "error", "CCN3045", "undeclared-identifier", False, "build", "xlc")
    warning = diags["WARNING CCN3236 ./../../c/jwk.c:17    Macro name O_CLOEXEC has been redefined."]
    assert (warning["severity"], warning["category"]) == ("warning", "conflicting-declaration")
    assert diags["ERROR CCN3296 ./../../c/httpclient.c:40   #include file <sys/random.h> not found."]["category"] == "missing-header"
    follow = diags["CCN0793(I) Compilation failed for file ./../../c/jwk.c.  Object file not created."]
    assert (follow["code"], follow["severity"], follow["follow_up"]) == ("CCN0793", "info", True)
    assert diags["FSUM3065 The COMPILE step ended with return code 12."]["follow_up"] is True
    assert diags["FSUM3017 Could not compile ./../../c/jwk.c. Correct the errors and try again."]["follow_up"] is True
    quoted = diags['"omrport.cpp", line 51.32: CCN5274 (S) The name lookup for "getentropy" did not find a declaration.']
    assert _shape(quoted) == ("omrport.cpp", 51, 32, "error", "CCN5274", "undeclared-identifier", False, "build", "xlc")
    converted = diags['"omrport.cpp", line 77.5: CCN5216 (S) An expression of type "const char *" cannot be converted to "char *".']
    assert converted["category"] == "type-error"
    suffix = [d for m, d in diags.items() if m.startswith("FSUM3010")][0]
    assert (suffix["category"], suffix["tool"], suffix["follow_up"]) == ("toolchain", "xlc", False)


def test_binder_lines_wrapped_by_the_log_are_joined():
    diags = _parse("20240312_104200_link.log")["diagnostics"]
    messages = [d["message"] for d in diags]
    assert messages[0] == ("IEW2456E 9207 SYMBOL __mkstemp_ascii UNRESOLVED.  MEMBER COULD NOT BE INCLUDED "
                           "FROM THE DESIGNATED CALL LIBRARY.")
    assert messages[1] == ("IEW2456E 9207 SYMBOL pthread_setname_np UNRESOLVED.  MEMBER COULD NOT BE "
                           "INCLUDED FROM THE DESIGNATED CALL LIBRARY.")
    assert messages[2].endswith("DO NOT MATCH THE ATTRIBUTES OF THE TARGET SYMBOL. REASON  2")
    assert messages[3].endswith("OF THE SAME NAME.")
    assert [(d["code"], d["severity"], d["category"], d["phase"], d["tool"]) for d in diags[:4]] == [
        ("IEW2456E", "error", "unresolved-symbol", "link", "binder"),
        ("IEW2456E", "error", "unresolved-symbol", "link", "binder"),
        ("IEW2469E", "error", "toolchain", "link", "binder"),
        ("IEW2416W", "warning", "conflicting-declaration", "link", "binder"),
    ]
    # The continuation lines are not diagnostics of their own; the completion code and the
    # driver's "linker command failed" are follow-ups in the link phase.
    assert len(diags) == 7
    assert [(d["code"], d["follow_up"], d["phase"]) for d in diags[4:6]] == [("IEW2008I", True, "link"), (None, True, "link")]


def test_configure_log_with_config_log_excerpt():
    result = _parse("20240312_095900_config.log")
    diags = result["diagnostics"]
    assert {d["phase"] for d in diags} == {"configure"}
    messages = [d["message"] for d in diags]
    # "error: in `dir':" only says where: not a diagnostic.
    assert not any("error: in `" in message for message in messages)
    assert messages[0] == "configure: error: C compiler cannot create executables"
    assert (diags[0]["category"], diags[0]["tool"], diags[0]["follow_up"]) == ("toolchain", "configure", False)
    unknown = [d for d in diags if "unknown argument" in d["message"]][0]
    assert (unknown["category"], unknown["tool"]) == ("toolchain", "clang")
    # A failing probe compile in config.log: evidence, not the failure itself.
    probe = [d for d in diags if d["file"] == "conftest.c"][0]
    assert (probe["line"], probe["category"], probe["follow_up"], probe["severity"]) == (62, "missing-header", True, "fatal")
    assert "configure:4543: error: C compiler cannot create executables" in messages
    warning = [d for d in diags if d["severity"] == "warning"][0]
    assert warning["message"].startswith("configure: WARNING: unrecognized options")
    assert diags[-1]["category"] == "configure"


def test_make_libtool_and_zos_make_messages():
    diags = _by_message(_parse("make_libtool.log"))
    libtool = [d for m, d in diags.items() if m.startswith("libtool:")][0]
    assert (libtool["category"], libtool["tool"], libtool["follow_up"]) == ("build-system", "libtool", False)
    assert diags["make[3]: *** [Makefile:1064: liblzma.la] Error 1"]["follow_up"] is True
    stop = diags["make[3]: *** No rule to make target 'lzma_decoder.c', needed by 'lzma_decoder.lo'.  Stop."]
    assert (stop["category"], stop["follow_up"]) == ("build-system", False)
    separator = diags["Makefile:212: *** missing separator.  Stop."]
    assert (separator["file"], separator["line"], separator["tool"]) == ("Makefile", 212, "make")
    override = diags["Makefile:98: warning: overriding recipe for target 'install'"]
    assert (override["severity"], override["tool"], override["category"]) == ("warning", "make", "build-system")
    assert diags["FSUM9435 Empty recipe for special target %"]["category"] == "build-system"
    assert diags["FSUM8226 make: Error code 255"]["follow_up"] is True
    assert diags["ar: liblzma.a: No such file or directory"]["tool"] == "ar"
    assert diags["make: execvp: ./build-aux/install-sh: Permission denied"]["category"] == "environment"


def test_check_log_harness_failures():
    result = _parse("20240312_111000_check.log")
    diags = result["diagnostics"]
    assert {d["phase"] for d in diags} == {"check"}
    primaries = [d["message"] for d in diags if not d["follow_up"]]
    assert primaries == [
        "FAIL: encoding-error",
        "FAIL: pcre-jitstack",
        "ERROR: fgrep-longest",
        "not ok 4 - grep -z handles NUL bytes",
        "test-strtod.c:87: assertion 'ptr == input + 1' failed",
        "Assertion failed: len == 3, file: test-quotearg.c, line: 112",
    ]
    assert result["counts"] == {"test-failure": 6}
    follow = [d["message"] for d in diags if d["follow_up"]]
    # Summaries with a zero count, PASS/SKIP/XFAIL lines and a TAP TODO are not failures.
    assert follow == ["# FAIL:  2", "# ERROR: 1", "*** 2 tests FAILED", "make[2]: *** [Makefile:3123: test-suite.log] Error 1",
                      "make[1]: *** [Makefile:3231: check-TESTS] Error 2", "make: *** [Makefile:1430: check] Error 2"]
    assertion = [d for d in diags if d["file"] == "test-quotearg.c"][0]
    assert (assertion["line"], assertion["category"]) == (112, "test-failure")


def test_gcc_log_of_the_posix_profile():
    diags = _parse("posix_gcc.log")["diagnostics"]
    assert [(d["category"], d["tool"], d["phase"], d["follow_up"]) for d in diags] == [
        ("implicit-function", "gcc", "build", False),
        ("missing-header", "gcc", "build", False),
        ("undeclared-identifier", "gcc", "build", False),
        ("unresolved-symbol", "ld", "link", False),
        ("conflicting-declaration", "ld", "link", False),
        ("environment", "ld", "link", False),
        # collect2 and make report the failure before them and carry its category.
        ("environment", "ld", "link", True),
        ("environment", "make", "build", True),
    ]
    assert diags[3]["file"] == "execute.c"
    assert diags[1]["message"] == "lib/getrandom.c:25:10: fatal error: sys/random.h: No such file or directory"


def test_cmake_messages_take_their_indented_body():
    diags = _parse("cmake.log")["diagnostics"]
    assert len(diags) == 3
    assert diags[0]["message"] == ("CMake Error at CMakeLists.txt:42 (find_package): Could NOT find OpenSSL, try to set the path to "
                                   "OpenSSL root folder in the system variable OPENSSL_ROOT_DIR (missing: OPENSSL_CRYPTO_LIBRARY)")
    assert (diags[0]["file"], diags[0]["line"], diags[0]["category"], diags[0]["phase"]) == ("CMakeLists.txt", 42, "configure", "configure")
    assert (diags[1]["file"], diags[1]["category"]) == ("src/CMakeLists.txt", "build-system")
    assert diags[2]["severity"] == "warning" and "This warning is for project developers" not in diags[2]["message"]


def test_shell_le_and_crtl_messages():
    diags = _by_message(_parse("shell_runtime.log"))
    syntax = diags["./zopen-setup 41: FSUM7332 syntax error: got |, expecting Newline"]
    assert _shape(syntax) == ("./zopen-setup", 41, None, "error", "FSUM7332", "encoding", False, "unknown", "shell")
    assert diags["/bin/sh: gperf: FSUM7351 not found"]["category"] == "environment"
    nested = [d for m, d in diags.items() if "FSUM7343" in m][0]
    assert (nested["file"], nested["line"], nested["code"], nested["category"]) == (
        "/fixmig/boot/meta-main/bin/lib/zopen-download", 296, "FSUM7343", "environment")
    space = [d for m, d in diags.items() if "FSUM6258" in m][0]
    assert space["category"] == "resource-limit"
    crash = [d for m, d in diags.items() if m.startswith("CEE3204S")][0]
    assert (crash["severity"], crash["category"], crash["phase"], crash["tool"]) == ("error", "runtime", "runtime", "le")
    # A mid-sentence wrap is joined; an indented traceback after a finished sentence is not.
    assert "CEE3561S External function get_new_handler__3stdFv was not found in DLL CELHDCPP." in diags
    assert not any(m.startswith("CEE3204S") and "From entry point" in m for m in diags)
    assert diags["bash: ./configure: /bin/sh^M: bad interpreter: No such file or directory"]["category"] == "encoding"
    segv = diags["./run-tests.sh: line 14: 33554490 Segmentation fault      (core dumped) ./test-regex"]
    assert (segv["file"], segv["line"], segv["category"]) == ("./run-tests.sh", 14, "runtime")


@pytest.mark.parametrize("block_size", [7, 64, 333, 4096])
def test_block_boundaries_change_nothing(monkeypatch, block_size):
    expected = dict((name, _parse(name)) for name in sorted(os.listdir(str(LOGS))))
    monkeypatch.setattr(build_log, "BLOCK_SIZE", block_size)
    for name, whole in expected.items():
        again = _parse(name)
        assert again["diagnostics"] == whole["diagnostics"], name
        assert again["lines"] == whole["lines"] == (LOGS / name).read_bytes().count(b"\n")


def test_cp1047_tables_match_iconv_and_round_trip():
    text = "".join(chr(code) for code in range(32, 256) if code not in (0x7F, 0x85)) + "\n"
    assert decode_cp1047(encode_cp1047(text)) == text
    # Code points that differ between IBM-1047 and IBM-037, and z/OS's newline.
    assert encode_cp1047("[]^\xac\xdd\xa8\n a0") == b"\xad\xbd\x5f\xb0\xba\xbb\x15\x40\x81\xf0"
    iconv = shutil.which("iconv")
    if iconv is None:
        pytest.skip("no iconv to compare with")
    sample = "".join(chr(code) for code in range(32, 256) if code not in (0x7F, 0x85))
    done = subprocess.run([iconv, "-f", "ISO8859-1", "-t", "IBM1047"], input=sample.encode("latin-1"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        pytest.skip("iconv here has no IBM1047")
    assert encode_cp1047(sample) == done.stdout


@pytest.mark.parametrize("name", ["20240312_101500_xlc_build.log", "20240312_104200_link.log", "shell_runtime.log"])
def test_ebcdic_log_is_detected_and_parsed_like_its_ascii_copy(tmp_path, name):
    text = (LOGS / name).read_text(encoding="utf-8")
    ebcdic = tmp_path / name
    ebcdic.write_bytes(encode_cp1047(text))
    assert detect_encoding(ebcdic.read_bytes()[:65536]) == "cp1047"
    ascii_result = _parse(name)
    ebcdic_result = parse_log(src=str(ebcdic))
    assert ebcdic_result["encoding"] == "cp1047"
    assert ebcdic_result["diagnostics"] == ascii_result["diagnostics"]
    assert ebcdic_result["counts"] == ascii_result["counts"] and ebcdic_result["lines"] == ascii_result["lines"]
    # Told explicitly, under either name.
    for encoding in ("cp1047", "IBM-1047"):
        assert parse_log(src=str(ebcdic), encoding=encoding)["diagnostics"] == ascii_result["diagnostics"]


def test_encoding_detection_and_names():
    assert detect_encoding(b"") == "utf-8"
    assert detect_encoding("x.c:1:2: error: caf\u00e9 \u2018x\u2019\n".encode("utf-8")) == "utf-8"
    assert detect_encoding("x.c:1:2: error: caf\u00e9 na\u00efve\n".encode("latin-1")) == "iso8859-1"
    assert detect_encoding(encode_cp1047("ERROR CCN3045 ./a.c:1 Undeclared identifier X.\n")) == "cp1047"
    # A sample cut inside a multi-byte character is still UTF-8.
    assert detect_encoding("abc \u00e9".encode("utf-8")[:-1]) == "utf-8"
    assert normalize_encoding("IBM-1047") == "cp1047" and normalize_encoding("Latin-1") == "iso8859-1"
    with pytest.raises(BuildLogError, match="unknown encoding 'utf-16'"):
        normalize_encoding("utf-16")


def test_latin1_and_invalid_utf8_are_decoded_not_fatal(tmp_path):
    latin = tmp_path / "latin.log"
    latin.write_bytes("caf\u00e9.c:3:1: error: use of undeclared identifier 'na\u00efve'\n".encode("latin-1"))
    result = parse_log(src=str(latin))
    assert result["encoding"] == "iso8859-1"
    assert result["diagnostics"][0]["message"] == "caf\u00e9.c:3:1: error: use of undeclared identifier 'na\u00efve'"
    mixed = tmp_path / "mixed.log"
    mixed.write_bytes(b"ok line\n" * 10 + b"bad.c:1:1: error: use of undeclared identifier '\xff\xfe'\n")
    result = parse_log(src=str(mixed), encoding="utf-8")
    assert result["diagnostics"][0]["category"] == "undeclared-identifier"
    assert "\ufffd" in result["diagnostics"][0]["message"]
    assert any("not utf-8" in warning for warning in result["warnings"])


def test_crlf_ansi_colours_and_bom_are_cleaned():
    data = (b"\xef\xbb\xbf\x1b[1ma.c:1:2: \x1b[0;1;31merror: \x1b[0m\x1b[1muse of undeclared identifier 'X'\x1b[0m\r\n"
            b"make: *** [Makefile:3: a.o] Error 1\r\n")
    diags = parse_log(content=data)["diagnostics"]
    assert [d["message"] for d in diags] == ["a.c:1:2: error: use of undeclared identifier 'X'", "make: *** [Makefile:3: a.o] Error 1"]
    assert diags[0]["file"] == "a.c"


def test_binary_file_is_said_and_its_text_lines_are_parsed(tmp_path):
    junk = bytes(range(256)) * 64
    path = tmp_path / "core.bin"
    path.write_bytes(junk + b"\nsrc/x.c:3:4: error: use of undeclared identifier 'y'\n" + junk)
    result = parse_log(src=str(path))
    assert result["binary"] is True
    assert any(str(path) in warning and "binary" in warning for warning in result["warnings"])
    assert [d["message"] for d in result["diagnostics"] if d["file"] == "src/x.c"] == ["src/x.c:3:4: error: use of undeclared identifier 'y'"]


def test_a_long_run_without_newlines_is_cut_not_loaded(monkeypatch):
    monkeypatch.setattr(build_log, "MAX_RUN_WITHOUT_NEWLINE", 4096)
    monkeypatch.setattr(build_log, "BLOCK_SIZE", 1024)
    data = b"\x00" * 100000 + b"\nx.c:1:1: error: unknown type name 'T'\n"
    result = parse_log(content=data)
    assert [d["category"] for d in result["diagnostics"]] == ["undeclared-identifier"]


def test_a_newline_free_run_after_some_lines_is_not_held_whole(tmp_path):
    path = tmp_path / "after-text.log"
    with open(str(path), "wb") as handle:
        handle.write(b"line one\nline two\nline three\n")
        for _block in range(24):
            handle.write(b"\x00" * (1024 * 1024))
        handle.write(b"\nx.c:1:1: error: unknown type name 'T'\n")
    tracemalloc.start()
    try:
        result = parse_log(src=str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d["message"] for d in result["diagnostics"]] == ["x.c:1:1: error: unknown type name 'T'"]
    assert result["binary"] is True
    assert peak < 16 * 1024 * 1024


class _GeneratedLog(io.RawIOBase):
    """A log of `size` bytes made on the fly, so the test never holds it."""

    def __init__(self, size):
        self.left = size
        self.unit = (b"ibm-clang64 -DHAVE_CONFIG_H -I. -O2 -m64 -c -o lib/hash.o lib/hash.c\n" * 400
                     + b"lib/hash.c:12:5: error: use of undeclared identifier 'O_CLOEXEC'\n"
                     + b"make[2]: *** [Makefile:1109: lib/hash.o] Error 1\n")
        self.units = 0

    def readable(self):
        return True

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        count = max(1, min(size if size > 0 else 1 << 20, self.left) // len(self.unit))
        self.left -= count * len(self.unit)
        self.units += count
        return self.unit * count


def test_memory_stays_flat_on_a_large_stream():
    stream = _GeneratedLog(32 * 1024 * 1024)
    tracemalloc.start()
    try:
        total = follow_ups = 0
        for diag in iter_diagnostics(stream):
            total += 1
            follow_ups += diag["follow_up"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 2 * stream.units and follow_ups == stream.units
    # A few blocks of 2 MiB at a time, whatever the size of the log.
    assert peak < 16 * 1024 * 1024


def test_max_diagnostics_truncates_but_counts_everything():
    whole = _parse("20240312_101500_build.log")
    cut = _parse("20240312_101500_build.log", max_diagnostics=2)
    assert cut["diagnostics"] == whole["diagnostics"][:2]
    assert cut["truncated"] is True and whole["truncated"] is False
    assert cut["counts"] == whole["counts"] and cut["total"] == whole["total"]
    assert _parse("20240312_101500_build.log", max_diagnostics=0)["diagnostics"] == []
    with pytest.raises(BuildLogError, match="max_diagnostics"):
        _parse("20240312_101500_build.log", max_diagnostics=-1)


def test_same_input_gives_the_same_result():
    assert _parse("20240312_104200_link.log") == _parse("20240312_104200_link.log")
    data = (LOGS / "posix_gcc.log").read_bytes()
    assert parse_log(content=data) == parse_log(content=data.decode("utf-8"))


def test_missing_directory_and_special_files_are_named(tmp_path):
    missing = tmp_path / "nope.log"
    with pytest.raises(BuildLogError, match="build log %s: no such file" % missing):
        parse_log(src=str(missing))
    with pytest.raises(BuildLogError, match="is a directory"):
        parse_log(src=str(tmp_path))
    fifo = tmp_path / "pipe.log"
    os.mkfifo(str(fifo))
    with pytest.raises(BuildLogError, match="not a regular file"):
        parse_log(src=str(fifo))
    # iter_diagnostics fails when called, not later.
    with pytest.raises(BuildLogError, match="no such file"):
        iter_diagnostics(str(missing))
    with pytest.raises(BuildLogError, match="exactly one"):
        parse_log(src=str(missing), content="x")
    with pytest.raises(BuildLogError, match="exactly one"):
        parse_log()
    with pytest.raises(BuildLogError, match="phase 'compile'"):
        parse_log(content="x", phase="compile")


def test_unreadable_file_is_named(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    locked = tmp_path / "locked.log"
    locked.write_text("x\n")
    locked.chmod(0)
    with pytest.raises(BuildLogError, match="cannot be read"):
        parse_log(src=str(locked))


def test_hostile_names_are_shown_escaped(tmp_path):
    name = tmp_path / "evil\nname\x1b[31m.log"
    with pytest.raises(BuildLogError) as caught:
        parse_log(src=str(name))
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)
    assert "evil\\nname" in str(caught.value)


def test_secrets_and_home_directories_do_not_reach_the_diagnostics():
    log = (
        "fatal: unable to access 'https://bob:hunter2secret@github.com/zopencommunity/gitport.git/': The requested URL returned error: 403\n"
        "error: push rejected for token ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"
        "/home/alice/zopen/dev/x/y.c:3:4: error: use of undeclared identifier 'password_hash'\n"
    )
    diags = parse_log(content=log)["diagnostics"]
    assert len(diags) == 3
    text = repr(diags)
    for secret in ("hunter2secret", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "alice"):
        assert secret not in text
    assert diags[2]["file"] == "/home/<USER>/zopen/dev/x/y.c"
    assert diags[2]["category"] == "undeclared-identifier"


def test_phase_from_caller_log_name_and_tool(tmp_path):
    assert phase_from_log_name("log.STABLE/20240101_120000_config.log") == "configure"
    assert phase_from_log_name("config.log") == "configure"
    assert phase_from_log_name("20240101_120000_check.log") == "check"
    assert phase_from_log_name("tests/test-suite.log") == "check"
    assert phase_from_log_name("20240101_120000_bootstrap.log") == "bootstrap"
    assert phase_from_log_name("20240101_120000_build.log") == "build"
    assert phase_from_log_name("whatever.txt") is None
    text = (LOGS / "posix_gcc.log").read_bytes()
    check_log = tmp_path / "20240101_120000_check.log"
    check_log.write_bytes(text)
    assert {d["phase"] for d in parse_log(src=str(check_log))["diagnostics"]} == {"check"}
    assert {d["phase"] for d in parse_log(content=text, phase="install")["diagnostics"]} == {"install"}
    assert [d["phase"] for d in parse_log(content=text)["diagnostics"]] == ["build"] * 3 + ["link"] * 4 + ["build"]


def test_assertion_outside_the_check_step_is_a_runtime_failure():
    diag = parse_log(content="Assertion failed: p != NULL, file: gen.c, line: 40\n", phase="build")["diagnostics"][0]
    assert (diag["category"], diag["file"], diag["line"]) == ("runtime", "gen.c", 40)


def test_message_key_ignores_paths_and_numbers_but_not_names():
    first = {"message": "/home/a/zopen/dev/jq-1.7/src/builtin.c:1702:9: error: use of undeclared identifier 'CLOCK_MONOTONIC'",
             "file": "/home/a/zopen/dev/jq-1.7/src/builtin.c", "tool": "clang", "code": None}
    moved = {"message": "/tmp/build/src/builtin.c:1710:9: error: use of undeclared identifier 'CLOCK_MONOTONIC'",
             "file": "/tmp/build/src/builtin.c", "tool": "clang", "code": None}
    other = dict(moved, message=moved["message"].replace("CLOCK_MONOTONIC", "CLOCK_REALTIME"))
    assert message_key(first) == message_key(moved)
    assert message_key(first) != message_key(other)
    binder = {"message": "IEW2456E 9207 SYMBOL __mkstemp_ascii UNRESOLVED.", "file": None, "tool": "binder", "code": "IEW2456E"}
    assert message_key(binder) == "binder|IEW2456E||IEW2456E # SYMBOL __mkstemp_ascii UNRESOLVED."
    assert message_key(dict(binder, message="IEW2456E 9207 SYMBOL mkdtemp UNRESOLVED.")) != message_key(binder)


def test_bytes_text_and_file_objects_are_accepted():
    data = (LOGS / "20240312_104200_link.log").read_bytes()
    from_path = list(iter_diagnostics(str(LOGS / "20240312_104200_link.log")))
    assert list(iter_diagnostics(data)) == from_path
    assert list(iter_diagnostics(io.BytesIO(data))) == from_path
    assert list(iter_diagnostics(io.StringIO(data.decode("utf-8")))) == from_path
    with pytest.raises(BuildLogError, match="cannot read a build log from a int"):
        iter_diagnostics(42)
