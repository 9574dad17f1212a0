"""message_classify: the real z/OS messages of the corpus, held-out messages of the same
kinds, message id families and ranges, follow-ups and tool precedence."""

from __future__ import annotations

import json

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.message_classify import (
    TOOL_DEFAULT_CATEGORY,
    category_from_text,
    classify,
    is_check_target,
    make_target,
    parse_message_id,
    strip_location,
    tool_for_program,
)
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES


def _corpus(path):
    with open(str(path), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_every_corpus_message_gets_an_accepted_category_and_follow_up(zos_messages):
    entries = _corpus(zos_messages)
    assert len(entries) >= 20
    wrong = []
    for entry in entries:
        # With the id the caller knows, and without it (found in the text).
        for code in (entry["msg_id"], None):
            category, follow_up = classify(entry["message"], code)
            accepted = entry["categories"]
            if follow_up != entry["follow_up"] or (accepted and category not in accepted):
                wrong.append((entry["message"], code, category, follow_up, accepted))
    assert wrong == []


def test_corpus_ids_are_found_in_the_messages(zos_messages):
    for entry in _corpus(zos_messages):
        found = parse_message_id(entry["message"])
        if entry["msg_id"]:
            assert found is not None and found["code"].startswith(entry["msg_id"]), entry["message"]


# Messages written for this test: the same kinds as the corpus, with other identifiers,
# files, numbers and, where the family allows, other message numbers.
HELD_OUT = [
    # undeclared-identifier
    ("ERROR CCN3045 ./src/net/sock.c:88   Undeclared identifier SO_REUSEPORT.", None, "undeclared-identifier"),
    ("lib/fts.c:512:3: error: use of undeclared identifier 'O_DIRECTORY'", None, "undeclared-identifier"),
    ("src/proc.c:77:15: error: no member named 'ru_maxrss' in 'struct rusage'", None, "undeclared-identifier"),
    ("posix.c:41:9: error: 'SIGWINCH' undeclared (first use in this function)", None, "undeclared-identifier"),
    ("io.c:7:1: error: unknown type name 'pthread_spinlock_t'", None, "undeclared-identifier"),
    ('"sock.cpp", line 12.9: CCN5274 (S) The name lookup for "accept4" did not find a declaration.', None, "undeclared-identifier"),
    ('"tbl.c", line 30.14: CCN3022 (S) "d_type" is not a member of "struct dirent".', None, "undeclared-identifier"),
    # missing-header
    ("ERROR CCN3296 ./lib/os.c:12   #include file <sys/inotify.h> not found.", None, "missing-header"),
    ("tools/probe.c:3:10: fatal error: 'linux/limits.h' file not found", None, "missing-header"),
    ("util.c:45:10: fatal error: sys/sysinfo.h: No such file or directory", None, "missing-header"),
    # implicit-function
    ("main.c:90:5: error: call to undeclared library function 'strlcpy' with type 'unsigned long (char *, const char *, unsigned long)'",
     None, "implicit-function"),
    ("net.c:33:9: warning: implicit declaration of function 'getifaddrs' [-Wimplicit-function-declaration]", None, "implicit-function"),
    ('INFORMATIONAL CCN3304 ./term.c:120 No function prototype given for "openpty".', None, "implicit-function"),
    # unresolved-symbol
    ("IEW2456E 9207 SYMBOL epoll_create1 UNRESOLVED.  MEMBER COULD NOT BE INCLUDED FROM THE DESIGNATED CALL LIBRARY.", None,
     "unresolved-symbol"),
    ("IEW2454W 9203 SYMBOL getrandom UNRESOLVED. NO AUTOCALL (NCAL) SPECIFIED.", None, "unresolved-symbol"),
    ("obj/timer.o:(.text+0x44): undefined reference to `clock_nanosleep'", None, "unresolved-symbol"),
    ("ld.lld: error: undefined symbol: __atomic_load_8", None, "unresolved-symbol"),
    # conflicting-declaration
    ('ERROR CCN3334 ./src/compat.h:19   Identifier strndup has already been defined on line 210 of "/usr/include/string.h".', None,
     "conflicting-declaration"),
    ('ERROR CCN3343 ./inc/systime.h:40    Redeclaration of gettimeofday differs from previous declaration on line 77 of "/usr/include/sys/time.h".',
     None, "conflicting-declaration"),
    ("x.c:12:8: error: redefinition of 'struct timespec'", None, "conflicting-declaration"),
    ("dup.c:4:5: error: conflicting types for 'getline'; have 'ssize_t(char **, size_t *, FILE *)'", None, "conflicting-declaration"),
    ("IEW2416W 5603 SECTION strdup CONFLICTS WITH AN EXISTING EXTERNAL LABEL OF THE SAME NAME.", None, "conflicting-declaration"),
    # type-error
    ("called object type 'long' is not a function or function pointer", None, "type-error"),
    ("str.c:61:12: warning: incompatible pointer types passing 'char **' to parameter of type 'const char **'", None, "type-error"),
    ('"a.c", line 8.3: CCN3280 (W) Function argument assignment between types "char*" and "int" is not allowed.', None, "type-error"),
    ("fmt.c:19:7: error: variable has incomplete type 'struct statvfs'", None, "type-error"),
    # unsupported-feature
    ("error: Process CPU usage is not available on this platform", None, "unsupported-feature"),
    ("y.c:30:1: error: thread-local storage is not supported for the current target", None, "unsupported-feature"),
    ('cpu.c:9:2: error: "Unsupported architecture: port me"', None, "unsupported-feature"),
    ("ERROR CCN3275 ./atomic.c:5   Unexpected text __attribute__ encountered.", None, "unsupported-feature"),
    # encoding
    ("./autogen.sh 3: FSUM7332 syntax error: got (, expecting Newline", None, "encoding"),
    ("iconv_open: EDC5147I Illegal byte sequence.", None, "encoding"),
    ("bash: ./mkver: /bin/sh^M: bad interpreter: No such file or directory", None, "encoding"),
    # configure
    ("configure: error: Package requirements (zlib >= 1.2.11) were not met", None, "configure"),
    ("CMake Error at cmake/Deps.cmake:7 (find_package): Could NOT find CURL (missing: CURL_LIBRARY)", None, "configure"),
    # build-system
    ("libtool:   error: cannot build libtool library 'libpcre2.la' from non-libtool objects on this host: /opt/zoslib/lib/celq.o", None,
     "build-system"),
    ("make: *** No rule to make target 'config.h', needed by 'all-am'.  Stop.", None, "build-system"),
    ("Makefile:88: *** missing separator.  Stop.", None, "build-system"),
    ("FSUM9435 Empty recipe for special target .POSIX", None, "build-system"),
    # toolchain
    ("FSUM3010 Specify a file with the correct suffix (.c, .i, .s, .o, .x, .p, .I, or .a), or a corresponding data set name, instead of -lrt.",
     None, "toolchain"),
    ('CCN0767(I) The "XL C/C++" feature of z/OS is not enabled.', None, "toolchain"),
    ("clang: error: unknown argument: '-qlanglvl=extc99'", None, "toolchain"),
    ("IEW2469E 9907 THE ATTRIBUTES OF A REFERENCE TO free FROM SECTION $PRIV000021 DO NOT MATCH THE ATTRIBUTES OF THE TARGET SYMBOL. REASON 3",
     None, "toolchain"),
    # environment
    ("/bin/sh: autopoint: FSUM7351 not found", None, "environment"),
    ('sh: ./genver.sh: FSUM7343 cannot open "/tmp/ver" for output: EDC5111I Permission denied.', None, "environment"),
    ("FSUM7261 vt220-color: Unknown terminal type, using dumb.", None, "environment"),
    ("open failed: EDC5126I Filename too long.", None, "environment"),
    ("bash: line 1: gperf: command not found", None, "environment"),
    # resource-limit
    ("ERROR CCN3300 ./big_table.c:1   Insufficient storage available to complete the compilation.", None, "resource-limit"),
    ("IEW2756S D611 SPACE IS NOT AVAILABLE", None, "resource-limit"),
    ("cc1: out of memory allocating 65536 bytes after a total of 2097152 bytes", None, "resource-limit"),
    ("write: EDC5133I No space left on device.", None, "resource-limit"),
    # runtime
    ("CEE3728S The use of a function, which is not supported by this release of Language Environment was detected.", None, "runtime"),
    ("CEE3204S The system detected a protection exception (System Completion Code=0C4).", None, "runtime"),
    ("CEE3501S The module libzstd.so was not found.", None, "runtime"),
    ("./run.sh: line 9: 50331700 Segmentation fault      (core dumped) ./t-ssl", None, "runtime"),
    # test-failure
    ("FAIL: tests/test-utimens", "", "test-failure"),
    ("not ok 12 - lseek beyond EOF", None, "test-failure"),
]


@pytest.mark.parametrize("message, tool, expected", HELD_OUT, ids=[item[0][:50] for item in HELD_OUT])
def test_held_out_messages_classify_like_their_kind(message, tool, expected):
    category, follow_up = classify(message, None, tool or None)
    assert category == expected
    assert follow_up is False


FOLLOW_UPS = [
    ("CCN0793(I) Compilation failed for file ./src/main.c.  Object file not created.", None),
    ("FSUM3065 The LINKEDIT step ended with return code 8.", None),
    ("FSUM3017 Could not compile ./lib/x.c. Correct the errors and try again.", None),
    ("clang-16: error: linker command failed with exit code 1 (use -v to see invocation)", None),
    ("collect2: error: ld returned 1 exit status", None),
    ("make[2]: *** [Makefile:99: src/x.o] Error 1", "make"),
    ("gmake: *** [GNUmakefile:12: all] Error 2", "make"),
    ("FSUM8226 make: Error code 255", None),
    ("# FAIL:  3", "test"),
    ("*** 4 tests FAILED", "test"),
    ("2 of 118 tests failed", "test"),
    ("IEW2008I 0F03 PROCESSING COMPLETED.  RETURN CODE =  12.", None),
    ("See `config.log' for more details", "configure"),
]


@pytest.mark.parametrize("message, tool", FOLLOW_UPS)
def test_follow_ups_are_flagged(message, tool):
    category, follow_up = classify(message, None, tool)
    assert follow_up is True
    assert category in CATEGORIES


def test_a_failure_that_stops_make_is_not_a_follow_up():
    assert classify("make: *** No rule to make target 'x.c', needed by 'x.o'.  Stop.", None, "make") == ("build-system", False)
    assert classify("# FAIL:  0", None, "test")[1] is False


@pytest.mark.parametrize(
    "message, expected",
    [
        ("make[2]: *** [Makefile:1234: check-TESTS] Error 1", "test-failure"),
        ("make: *** [Makefile:900: test-suite.log] Error 1", "test-failure"),
        ("make: *** [check] Error 2", "test-failure"),
        ("make[1]: *** [Makefile:55: all-recursive] Error 1", "build-system"),
        ("make: *** [Makefile:12: test-lib.o] Error 1", "build-system"),
        ("make: *** [Makefile:20: run] Segmentation fault (core dumped)", "runtime"),
        ("make: execvp: ./install-sh: Permission denied", "environment"),
        ("make: *** No rule to make target 'sigsegv.c', needed by 'sigsegv.o'.  Stop.", "build-system"),
    ],
)
def test_make_messages_by_target_and_wording(message, expected):
    assert classify(message, None, "make")[0] == expected


@pytest.mark.parametrize(
    "message, code, expected",
    [
        # Numbers not in any table: the family and range decide, with the wording.
        ("CCN0999(S) Option ARCH(99) is outside the range the compiler accepts.", "CCN0999", "toolchain"),
        ("CCN8977 The option XYZ is ignored.", "CCN8977", "toolchain"),
        ("CCN3999 Something this test made up happened.", "CCN3999", "other"),
        ("IEW2999E 4711 SYMBOL made_up UNRESOLVED.", "IEW2999E", "unresolved-symbol"),
        ("IEW2998S 4711 MADE UP BINDER FAILURE.", "IEW2998S", "toolchain"),
        ("IEW2997I 4711 MADE UP NOTICE.", "IEW2997I", "other"),
        ("CEE3999S Something made up failed.", "CEE3999S", "runtime"),
        ("CEE0813S Insufficient storage was available to satisfy a get storage request.", "CEE0813S", "resource-limit"),
        ("EDC5132I Not enough memory.", "EDC5132I", "resource-limit"),
        ("EDC5134I Function not implemented.", "EDC5134I", "unsupported-feature"),
        ("EDC5147I Illegal byte sequence.", "EDC5147I", "encoding"),
        ("EDC5111I Permission denied.", "EDC5111I", "environment"),
        ("EDC5199I A made up errno text.", "EDC5199I", "environment"),
        ("FSUM3999 A made up driver message.", "FSUM3999", "toolchain"),
        ("FSUM7999 tput: not found", "FSUM7999", "environment"),
        ("FSUM7998 syntax error: got Word, expecting )", "FSUM7998", "encoding"),
        ("FSUM9999 A made up make message about target all", "FSUM9999", "build-system"),
        ("FSUM6999 A made up utility message.", "FSUM6999", "environment"),
    ],
)
def test_message_id_families_and_ranges(message, code, expected):
    assert classify(message, code)[0] == expected
    assert classify(message)[0] == expected  # the id at the start of the text is its own


def test_the_id_family_wins_over_wording_that_points_elsewhere():
    # "not supported" alone would be unsupported-feature; a CEE message is a runtime failure.
    message = "CEE3728S The use of a function, which is not supported by this release of Language Environment was detected."
    assert category_from_text(message) == "unsupported-feature"
    assert classify(message, "CEE3728S")[0] == "runtime"
    # A command named like a keyword does not make "not found" an encoding problem.
    assert classify("/bin/sh: iconv: FSUM7351 not found", "FSUM7351")[0] == "environment"


def test_tool_decides_for_single_purpose_tools():
    text = "libtool: error: cannot find the library 'libintl.la' on this platform"
    assert classify(text)[0] == "build-system"
    assert classify("configure: error: no acceptable C compiler found in $PATH")[0] == "toolchain"
    assert classify("configure: error: cannot find required auxiliary files: ltmain.sh")[0] == "configure"
    assert classify("CMake Error at src/CMakeLists.txt:10 (add_executable): Cannot find source file: x.c")[0] == "build-system"
    assert classify("No CMAKE_C_COMPILER could be found.", None, "cmake")[0] == "toolchain"
    assert classify("anything at all", None, "test")[0] == "test-failure"


def test_unknown_text_falls_back_to_the_tool_default():
    for tool, default in TOOL_DEFAULT_CATEGORY.items():
        category, follow_up = classify("zzz qqq", None, tool)
        assert category == default and follow_up is False
    assert classify("zzz qqq") == ("other", False)
    assert classify("") == ("other", False)


def test_a_path_in_the_location_does_not_decide():
    # src/asm/ and lib/encoding.c would point at unsupported-feature and encoding.
    assert classify("src/asm/encoding.c:12:3: error: use of undeclared identifier 'x'")[0] == "undeclared-identifier"
    assert classify("lib/encoding/thread.c:9:1: error: expected ';' after top level declarator")[0] == "other"


def test_categories_are_always_record_categories():
    samples = [item[0] for item in HELD_OUT] + [item[0] for item in FOLLOW_UPS] + ["", "\x00\xff", "x" * 10000]
    for message in samples:
        for tool in list(TOOL_DEFAULT_CATEGORY) + [None, "nonsense"]:
            category, follow_up = classify(message, None, tool)
            assert category in CATEGORIES and isinstance(follow_up, bool)


def test_parse_message_id_shapes():
    assert parse_message_id("x IEW2456E 9207 SYMBOL")["code"] == "IEW2456E"
    found = parse_message_id("CCN0793(I) Compilation failed")
    assert (found["code"], found["family"], found["number"], found["letter"]) == ("CCN0793", "CCN", 793, "I")
    found = parse_message_id('"a.c", line 5.3: CCN6118 (S) text')
    assert (found["code"], found["letter"]) == ("CCN6118", "S")
    assert parse_message_id("sh: FSUM7351 not found")["code"] == "FSUM7351"
    assert parse_message_id("EDC5129I No such file")["code"] == "EDC5129I"
    # Not ids: glued to other letters or digits, or too short.
    assert parse_message_id("XCCN3045 or CCN30456 or IEW245") is None
    assert parse_message_id(None) is None


def test_strip_location_and_program_names():
    assert strip_location("src/a.c:12:5: error: use of undeclared identifier 'x'") == ("use of undeclared identifier 'x'", None)
    assert strip_location("libtool:   error: cannot build") == ("cannot build", "libtool")
    assert strip_location('"a.c", line 51.32: CCN6118 (S) text') == ("CCN6118 (S) text", None)
    assert strip_location("ERROR CCN3045 ./x.c:214   Undeclared identifier X.") == ("CCN3045 Undeclared identifier X.", None)
    assert strip_location("./zopen-setup 41: FSUM7332 syntax error")[0] == "FSUM7332 syntax error"
    assert tool_for_program("/usr/bin/x86_64-linux-gnu-gcc-12") == "gcc"
    assert tool_for_program("ibm-clang64") == "clang"
    assert tool_for_program("xlclang++") == "xlc"
    assert tool_for_program("collect2") == "ld"
    assert tool_for_program("gmake") == "make"
    assert tool_for_program("frobnicate") is None


def test_make_targets():
    assert make_target("make: *** [Makefile:12: all] Error 1") == "all"
    assert make_target("make: *** [check] Error 2") == "check"
    assert make_target("make: *** No rule") is None
    assert is_check_target("check-TESTS") and is_check_target("t0001.trs") and is_check_target("test")
    assert not is_check_target("test-lib.o") and not is_check_target("all") and not is_check_target(None)
