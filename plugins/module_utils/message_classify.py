# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Give one build message an error category (record.CATEGORIES) and a follow-up flag.

A message is classified from, in this order:

1. the tool that printed it, for tools whose messages have one meaning (make, libtool,
   configure, cmake, a test harness);
2. its z/OS message id (CCN, IEW, CEE, EDC, FSUM): the family, the number range and a
   few well known numbers decide, with family-specific wording first;
3. the shape of its text (``use of undeclared identifier``, ``UNRESOLVED``,
   ``file not found`` ...), written for the wording of clang/Open XL, gcc, xlc, the
   binder, GNU ld and the shells, not for exact messages;
4. a default for the tool.

``follow_up`` is true when the message only reports that an earlier step failed
(``CCN0793``, ``FSUM3065 ... ended with return code``, make's ``Error 1``,
``collect2: error: ld returned 1 exit status``, a test-suite summary).

Standard library only: this runs on build hosts (z/OS included).
"""

from __future__ import annotations

import functools
import re

from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES
from ansible_collections.autoport.zos.plugins.module_utils.zos_message_ids import documented

# How message ids are used: "table" (IBM's documented meaning first, then family and
# range), "family" (family and range only) or "none" (ids ignored: wording and tool only).
ID_MODES = ("table", "family", "none")

# A z/OS message id: CCNnnnn (XL C/C++), IEWnnnnX (binder), CEEnnnnX (Language
# Environment), EDCnnnnX (C runtime), FSUMnnnn (shell, utilities, c89/xlc driver).
# The severity letter is either glued to the id (IEW2456E) or in brackets (CCN0793(I)).
MESSAGE_ID = re.compile(
    r"(?<![A-Za-z0-9])(?P<id>(?:CCN|IEW|CEE|EDC)\d{4}|FSUM[0-9A-Z]\d{3})"
    r"(?P<letter>[IWESUTC])?(?:\s?\((?P<paren>[IWESUT])\))?(?![A-Za-z0-9])"
)

# Program names as they prefix a message ("clang: error: ...", "make[2]: *** ...").
_PROGRAM_TOOLS = (
    (re.compile(r"^(?:ibm-)?clang(?:\+\+)?(?:64)?(?:-\d+(?:\.\d+)*)?$|^njsc\+\+$"), "clang"),
    (re.compile(r"^(?:xlclang(?:\+\+)?|xlc(?:\+\+|_r)?|xlC|c89|c99|cxx)(?:_\d+)?$"), "xlc"),
    (re.compile(r"^(?:[\w.-]*-)?(?:gcc|g\+\+|cc1(?:plus)?|cc|c\+\+|cpp)(?:-\d+(?:\.\d+)*)?$"), "gcc"),
    (re.compile(r"^(?:[\w.-]*-)?(?:ld(?:\.\w+)?|gold|lld|collect2)$"), "ld"),
    (re.compile(r"^(?:[\w.-]*-)?(?:ar|ranlib|nm|strip|objcopy)$"), "ar"),
    (re.compile(r"^g?n?make$|^ninja$"), "make"),
    (re.compile(r"^libtool(?:ize)?$"), "libtool"),
    (re.compile(r"^(?:configure|config\.status)$"), "configure"),
    (re.compile(r"^c?cmake$|^ctest$"), "cmake"),
    (re.compile(r"^(?:autoreconf|autoconf|automake|aclocal|autoheader|autopoint|gnulib-tool|m4)(?:-\d+(?:\.\d+)*)?$"), "autotools"),
    (re.compile(r"^(?:ba|k|da|z|tc)?sh$"), "shell"),
    (re.compile(r"^git(?:-[\w-]+)?$"), "git"),
)

# What each tool's messages are about when nothing more specific is known.
TOOL_DEFAULT_CATEGORY = {
    "clang": "other",
    "gcc": "other",
    "xlc": "other",
    "ld": "toolchain",
    "binder": "toolchain",
    "ar": "build-system",
    "make": "build-system",
    "libtool": "build-system",
    "configure": "configure",
    "cmake": "configure",
    "autotools": "build-system",
    "shell": "environment",
    "le": "runtime",
    "crtl": "environment",
    "test": "test-failure",
    "git": "other",
}

# Leading text that locates a message but says nothing about it; removed before the
# text rules run so a path such as src/asm/x.c or lib/encoding.c cannot decide.
_LOCATION_PREFIXES = (
    # "file.c:12:5: error: " (clang, gcc, Open XL), bison's "file.y:12.3-5: error: "
    re.compile(r"^\s*[^\s:\"'][^:\"]*?:\d+(?:[:.]\d+(?:-[\d.]+)?)?:\s*(?:fatal error|error|warning|note|remark)\s*:\s*"),
    # '"file.c", line 51.32: ' (xlc, xlclang)
    re.compile(r"^\s*\"[^\"]+\",\s+line\s+\d+(?:\.\d+)?\s*:\s*"),
    # "ERROR CCN3045 ./file.c:214 " (xlc)
    re.compile(r"^\s*(?:SEVERE ERROR|UNRECOVERABLE ERROR|ERROR|WARNING|INFORMATIONAL|INFO|SEVERE|UNRECOVERABLE)\s+(?=CCN\d)"),
    # "script 41: " frames of the z/OS shell, possibly nested
    re.compile(r"^\s*(?:[^\s:]+\s+\d+:\s+)+(?=FSUM|\S)"),
    # "error: " without a location
    re.compile(r"^\s*(?:fatal error|error|warning|note)\s*:\s*", re.I),
)
_PROGRAM_PREFIX = re.compile(
    r"^\s*(?P<prog>[\w./+-]+?)(?:\[\d+\])?(?::\d+)?:\s+(?:(?:link|compile|install|finish|execute|clean|uninstall):\s+)?"
    r"(?:(?:fatal error|error|warning|note|WARNING)\s*:\s*)?"
)
_CMAKE_PREFIX = re.compile(r"^CMake (?:Error|Warning|Deprecation Warning)(?: \(dev\))?(?: at [^:]+:\d+(?: \([^)]*\))?)?\s*:\s*")
_ID_LOCATION = re.compile(r"^(?P<id>(?:CCN)\d{4}(?:\s?\([IWESU]\))?)\s+\S+?:\d+(?::\d+)?\s+")


def first_label(table: tuple, text: str) -> str | None:
    """The label of the first ``(pattern, label)`` of ``table`` whose pattern is found in ``text``; None if none is."""
    for pattern, label in table:
        if pattern.search(text):
            return label
    return None


@functools.lru_cache(maxsize=512)
def tool_for_program(program: str) -> str | None:
    """The tool name (clang, gcc, xlc, ld, make, ...) for a program name or path, None if unknown."""
    name = program.rsplit("/", 1)[-1]
    if name.endswith(".exe"):
        name = name[:-4]
    return first_label(_PROGRAM_TOOLS, name)


def strip_location(message: str) -> tuple[str, str | None]:
    """Remove the location, severity and program prefix from a message line.

    Returns (text, tool named by a program prefix or None).
    """
    text = message.strip()
    tool = None
    match = _CMAKE_PREFIX.match(text)
    if match:
        return text[match.end():].strip(), "cmake"
    match = _PROGRAM_PREFIX.match(text)
    if match:
        found = tool_for_program(match.group("prog"))
        if found is not None:
            tool = found
            text = text[match.end():]
    for pattern in _LOCATION_PREFIXES:
        match = pattern.match(text)
        if match:
            text = text[match.end():]
    match = _ID_LOCATION.match(text)
    if match:
        text = match.group("id") + " " + text[match.end():]
    return text.strip(), tool


def parse_message_id(text: str | None) -> dict | None:
    """The first z/OS message id in text: {code, family, number, letter}, or None.

    ``code`` is the id as users quote it: IEW2456E, CEE3561S, EDC5129I, FSUM7351, CCN3045.
    """
    if not text:
        return None
    match = MESSAGE_ID.search(text)
    if not match:
        return None
    ident = match.group("id")
    family = "FSUM" if ident.startswith("FSUM") else ident[:3]
    digits = ident[len(family):]
    letter = match.group("letter") or match.group("paren")
    code = ident + (match.group("letter") or "")
    number = int(digits) if digits.isdigit() else None
    return {"code": code, "family": family, "number": number, "digits": digits, "letter": letter, "start": match.start()}


# --- follow-ups -------------------------------------------------------------------

# Follow-up wording: substrings that decide, then (gate, regex) pairs, case-sensitive.
_FOLLOW_UP_HITS = (
    "step ended with return code", "Compilation failed for file", "Object file not created", "Could not compile",
    "Correct the errors", "linker command failed with exit code", "Error code ", "RETURN CODE", "errors generated",
    "error generated", "compilation terminated", "build stopped: subcommand failed", "Waiting for unfinished jobs",
    "The following tests FAILED", "Errors while running CTest",
)
_FOLLOW_UP_CHECKS = (
    ("Error ", re.compile(r"(?:^|\]\s|\s)Error \d+\s*$")),
    ("ld returned", re.compile(r"\bld returned \d+ exit status")),
    ("See ", re.compile(r"^See [`'\"]?config\.log")),
    ("failed with exit", re.compile(r"command '[^']*' failed with exit (?:code|status)")),
    ("#", re.compile(r"^#\s*(?:FAIL|ERROR|XPASS)\s*:\s*[1-9]")),
    ("test", re.compile(r"^(?:\*+\s*)?\d+\s+(?:of\s+\d+\s+)?tests?\s+(?:FAILED|failed)")),
    ("FAILED", re.compile(r"^FAILED\s*\((?:failures|errors)=|^FAILED:\s+\S+\.(?:o|obj|lo|a|so|dll|x)\b")),
    ("Failed", re.compile(r"^Failed \d+/\d+ test|^Failed tests?:")),
)

# --- categories from the shape of the text ------------------------------------------
# Ordered: the first rule that matches wins, so specific wording comes before general.
# Each rule is (category, hits, checks) applied to the lower-cased text: any substring
# in hits decides; a check (gate, regex) decides when its gate substring is present and
# its regex matches. Substring tests keep this fast (a log can hold thousands of
# messages); the regexes are only for wording a substring cannot express.


def _checks(*pairs):
    return tuple((gate, re.compile(pattern)) for gate, pattern in pairs)


_TEXT_RULES = (
    ("missing-header", (
        "' file not found", "cannot open source file", "cannot open include file",
    ), _checks(
        ("not found", r"#\s*include\b.*\bnot found|include file .* not found|\.(?:h|hh|hpp|hxx|inc|def)['\">]?\s*:?\s*not found"),
        ("no such file", r"\.(?:h|hh|hpp|hxx|inc|def)['\">]?\s*:?\s*no such file or directory"),
    )),
    ("resource-limit", (
        "out of memory", "memory exhausted", "virtual memory", "insufficient storage", "insufficient memory", "insufficient space",
        "insufficient virtual", "not enough storage", "not enough memory", "not enough space", "cannot allocate memory",
        "no space left", "space is not available", "storage exhausted", "storage is exhausted", "storage not available",
        "storage is not available", "too many open files", "file too large", "disk quota", "program too large",
        "program too complex", "enomem", "enospc", "region size", "resource temporarily unavailable",
    ), _checks(("killed", r"\bkilled\b"))),
    ("implicit-function", (
        "implicit declaration of function", "call to undeclared function", "call to undeclared library function",
        "implicitly declaring library function", "no function prototype given", "implicit function declaration",
        "-wimplicit-function-declaration",
    ), _checks(("declared implicitly", r"function .* (?:is )?declared implicitly"))),
    ("unresolved-symbol", (
        "undefined reference to", "undefined symbol", "unresolved", "cannot resolve symbol", "symbol(s) not found",
        "was not found in dll", "not found in the dll", "not found in dll", "not found in the side deck", "not found in side deck",
    ), ()),
    ("conflicting-declaration", (
        "conflicting types for", "redefinition of", "redeclaration of", "has already been defined", "already defined",
        "multiple definition of", "duplicate symbol", "previous declaration", "previous definition",
        "follows non-static declaration", "conflicts with an existing", "conflicts with previous", "conflicts with a previous",
        "declared differently", "conflicting declaration",
    ), _checks(("redefined", r"\bredefined\b"))),
    ("undeclared-identifier", (
        "undeclared identifier", "was not declared", "not declared in this scope", "unknown type name", "no member named",
        "is not a member of", "did not find a declaration", "no type named", "undefined identifier", "unknown identifier",
        "use of undeclared", "has not been declared", "not declared",
    ), _checks(("undeclared", r"\bundeclared\b"), ("is undefined", r"identifier .* is undefined"))),
    ("toolchain", (
        "unknown argument", "unrecognized command-line option", "unrecognized command line option", "unrecognized option",
        "unrecognised option", "unknown option", "unsupported option", "invalid option", "not a valid option",
        "argument unused during compilation", "compiler not found", "no acceptable c compiler", "cannot create executables",
        "cannot run c compiled programs", "correct suffix", "xplink", "31-bit", "64-bit", "linker command failed",
        "frontend command failed", "internal compiler error", "compiler crash", "please submit a bug report", "unknown target",
        "no input files", "language not recognized", "file format not recognized", "file not recognized", "wrong elf class",
        "skipping incompatible", "do not match the attributes", "attributes of a reference",
    ), _checks(
        ("not enabled", r"\bnot enabled\b"),
        ("mode", r"\b[ar]mode\b"),
        ("-m", r"-m(?:31|64)\b"),
        ("lp", r"\b(?:i?lp64|ilp32)\b"),
        ("assembler", r"\bassembler\b"),
        ("option", r"option .*(?:ignored|not recognized|not supported)"),
        ("not supported", r"target .* (?:is )?not supported"),
        ("incompatible with", r"incompatible with .*(?:architecture|target)"),
    )),
    ("encoding", (
        "illegal byte sequence", "invalid multibyte", "ebcdic", "codepage", "code page", "ccsid", "file tag", "filetag", "chtag",
        "untagged", "codeset", "character set", "source character", "invalid utf-8", "invalid character", "non-ascii",
        "null character", "not valid utf-8", "^m", "\\r'", "autocvt", "_bpxk_",
    ), _checks(("ascii", r"\bascii\b"), ("stray", r"stray '\\\d+'"))),
    ("unsupported-feature", (
        "#error", "# error", "not supported", "unsupported", "not implemented", "isn't supported", "is not available on",
        "thread-local storage", "_thread_local", "inline assembl", "invalid instruction", "invalid register", "unknown register",
        "attribute ignored", "attribute directive ignored", "unknown attribute", "__attribute__", "__builtin_", "port me",
        "not ported", "not yet ported", "does not support", "incorrect pragma", "unrecognized pragma", "unknown pragma",
        "unknown platform", "unknown os", "unknown operating system", "unknown architecture", "platform not recognized",
        "platform not supported", "platform is not supported",
    ), _checks(
        ("this ", r"(?:on|for) this (?:platform|host|system|os|operating system|target|architecture)"),
        ("thread", r"__thread\b|\bthread_local\b"),
        ("asm", r"\basm\b|__asm"),
        ("builtin", r"\bbuiltin\b"),
        ("pragma", r"pragma .* ignored"),
    )),
    ("type-error", (
        "incompatible", "incomplete type", "incomplete definition", "cannot convert", "invalid conversion", "too few arguments",
        "too many arguments", "called object type", "is not a function or function pointer", "invalid operands",
        "no matching function", "no matching constructor", "makes pointer from", "makes integer from", "pointer from integer",
        "integer from pointer", "cast from ", "cast to ", "discards const", "discards 'const", "discards qualifiers",
        "operation between types", "assignment between types", "not compatible", "invalid use of", "subscripted value",
        "requires an lvalue", "requires lvalue", "not assignable", "narrowing conversion", "operand must be", "must be a scalar",
        "must be a pointer", "must be a modifiable", "type mismatch", "implicit conversion", "loses integer precision",
        "loses precision", "cannot be converted", "-wshorten-64-to-32", "-wint-conversion", "-wpointer-sign",
    ), _checks(
        ("assigning to", r"assigning to .* from"),
        ("passing", r"passing .* to parameter of type"),
        ("initializing", r"initializing .* with an expression of type"),
        ("between types", r"between types .* is not allowed"),
        ("but argument is of type", r"expected .* but argument is of type"),
        ("is undefined", r"struct .* is undefined"),
    )),
    ("runtime", (
        "segmentation fault", "segfault", "bus error", "illegal instruction", "floating point exception", "abort trap",
        "core dumped", "protection exception", "operation exception", "data exception", "ceedump", "terminated by signal",
        "stack overflow",
    ), _checks(
        ("sig", r"\bsig(?:segv|abrt|bus|ill|fpe|kill|term|pipe)\b|\bsignal \d+"),
        ("abort", r"\baborted\b"),
        ("abend", r"\babend\b"),
        ("assertion", r"assertion .*failed"),
    )),
    ("test-failure", (
        "tests failed", "test failed", "test case failed", "--- fail",
    ), _checks(("not ok", r"^not ok\b"))),
    ("environment", (
        "command not found", "no such file or directory", "permission denied", "cannot open", "can't open", "could not open",
        "unable to open", "unable to find", "unable to access", "unable to locate", "not a directory", "is a directory",
        "name too long", "unknown terminal", "terminal type", "cannot execute", "exec format error", "bad interpreter", "$path",
        "not in path", "in your path", "$home", "environment variable", "read-only file system", "operation not permitted",
        "cannot create", "could not find", "could not locate", "can't find", "can't locate", "no module named", "does not exist",
        "cannot find -l", "library not found", "not installed", "fsum7351",
    ), _checks(("not found", r"(?:^|:\s)not found\b"))),
    ("build-system", (
        "no rule to make target", "missing separator", "recipe for target", "libtool", ".la'", "automake", "autoconf", "aclocal",
        "autoreconf", "ranlib", "nothing to be done", "stop.", "overriding recipe", "pattern rule", "special target", "recipe",
        "cmakelists", "undefined macro", "circular",
    ), _checks(("makefile", r"\bmakefile\b"), (".la", r"\.la\b"), ("ar:", r"^ar:"), ("a", r"\ba[cm]_[a-z_]{3,}"))),
    ("configure", (
        "configure: error", "checking for", "config.log", "find_package", "pkg-config", "required package", "required library",
        "required version", "feature test", "header check", "requirements",
    ), _checks(("require", r"requires? .*(?:version|>=)"))),
)

# Harness words that only mean a test failure in upper case (FAIL:, FAILED, ERROR:).
_TEST_WORDS = re.compile(r"^(?:FAIL|XPASS|ERROR)\s*:|\bFAIL(?:ED)?\b")
_TOKEN = re.compile(r"[a-z0-9_]+")


def _interior_word(hit: str) -> str | None:
    # The longest word of a hit with a non-word character on both sides inside the
    # hit: wherever the hit occurs in a text, that word is a whole word of the text.
    # Failing that, the hit's first word when a non-word character follows it: hits
    # are meant to start at a word ("permission denied" does not match "xpermission").
    best = None
    first = None
    for match in _TOKEN.finditer(hit):
        if match.end() < len(hit):
            if match.start() > 0:
                if best is None or len(match.group()) > len(best):
                    best = match.group()
            elif first is None:
                first = match.group()
    return best or first


def _index_rules(rules):
    # Per rule: hits grouped by an interior word, so one set intersection with the
    # words of a message skips every rule that cannot match.
    indexed = []
    for category, hits, checks in rules:
        keyed = {}
        unkeyed = []
        for hit in hits:
            word = _interior_word(hit)
            if word is None:
                unkeyed.append(hit)
            else:
                keyed.setdefault(word, []).append(hit)
        indexed.append((category, frozenset(keyed), keyed, tuple(unkeyed), checks))
    return tuple(indexed)


_INDEXED_RULES = _index_rules(_TEXT_RULES)


def category_from_text(text: str) -> str | None:
    """The category the wording of a message points to, None when nothing matches."""
    lowered = text.lower()
    words = None
    for category, keys, keyed, unkeyed, checks in _INDEXED_RULES:
        for hit in unkeyed:
            if hit in lowered:
                return category
        if keys:
            if words is None:
                words = frozenset(_TOKEN.findall(lowered))
            for word in keys.intersection(words):
                for hit in keyed[word]:
                    if hit in lowered:
                        return category
        for gate, pattern in checks:
            if gate in lowered and pattern.search(lowered):
                return category
        if category == "test-failure" and ("FAIL" in text or "ERROR" in text) and _TEST_WORDS.search(text):
            return category
    return None


# --- categories from message ids ------------------------------------------------

# z/OS errno values behind EDC5nnnI messages (EDC5129I = errno 129 = ENOENT).
_EDC_ERRNO = {
    "resource-limit": (112, 119, 124, 125, 127, 131, 132, 133, 145),
    "unsupported-feature": (134,),
    "encoding": (147,),
    "runtime": (113, 115, 116, 118, 120, 121, 140, 142, 143),
}
_EDC_BY_ERRNO = dict((number, category) for category, numbers in _EDC_ERRNO.items() for number in numbers)

_BINDER_RULES = (
    ("unresolved-symbol", re.compile(r"UNRESOLVED|NOT FOUND IN", re.I)),
    ("conflicting-declaration", re.compile(r"CONFLICTS WITH|ALREADY DEFINED|DUPLICATE|DEFINED MORE THAN ONCE", re.I)),
    ("resource-limit", re.compile(r"SPACE|STORAGE|TOO LARGE|EXCEED", re.I)),
    ("toolchain", re.compile(r"AMODE|RMODE|ATTRIBUTES|XPLINK|INCOMPATIBLE|NOT COMPATIBLE|OPTION|PARAMETER", re.I)),
    ("environment", re.compile(r"COULD NOT BE OPENED|CANNOT BE OPENED|DDNAME|NOT FOUND|DOES NOT EXIST|NOT AUTHORIZED", re.I)),
)


def _binder_category(number: int | None, letter: str | None, text: str) -> str | None:
    for category, pattern in _BINDER_RULES:
        if pattern.search(text):
            return category
    if letter == "I":
        return "other"
    return "toolchain"


def _ccn_category(number: int | None, text: str) -> str | None:
    found = category_from_text(text)
    if found is not None:
        return found
    # CCN0nnn-CCN2nnn driver, licence and invocation messages; CCN8nnn/CCN9nnn options
    # and internal limits; CCN4nnn IPA and code generation.
    if number is not None and (number < 3000 or number >= 8000 or 4000 <= number < 5000):
        return "toolchain"
    return "other"


def _fsum_category(digits: str, text: str) -> str | None:
    group = digits[:1]
    if group == "7" and re.search(r"syntax error|unexpected|expecting", text, re.I):
        # The shell reading an untagged ASCII script (or an EBCDIC one through
        # autoconversion) fails on the first line it cannot tokenise.
        return "encoding"
    if group == "7" and re.search(r"not found|cannot open|cannot execute|cannot find|permission|no such file|unknown terminal", text, re.I):
        # The shell's own complaints name a command or file; the name says nothing.
        return "environment"
    found = category_from_text(text)
    if found is not None:
        return found
    if group == "3":
        return "toolchain"  # c89/cc/c++/xlc driver
    if group in ("8", "9") and re.search(r"\bmake\b|target|recipe|makefile|rule", text, re.I):
        return "build-system"
    if group == "9":
        return "build-system"
    return "environment"


def _edc_category(number: int | None, text: str) -> str | None:
    if number is not None and 5100 <= number < 5300:
        errno = number - 5000
        if errno in _EDC_BY_ERRNO:
            return _EDC_BY_ERRNO[errno]
        return "environment"
    found = category_from_text(text)
    return found if found is not None else "runtime"


def _cee_category(number: int | None, text: str) -> str | None:
    if re.search(r"storage|stack overflow|heap|out of memory", text, re.I):
        return "resource-limit"
    return "runtime"


def category_for_id(ident: dict, text: str, ids: str = "table") -> str:
    """The category of a message with a z/OS id (from parse_message_id): documented meaning, else family and range."""
    entry = documented(ident) if ids == "table" else None
    if entry is not None and entry["category"] is not None:
        return entry["category"]
    family = ident["family"]
    number = ident["number"]
    if family == "CCN":
        return _ccn_category(number, text) or "other"
    if family == "IEW":
        return _binder_category(number, ident["letter"], text) or "toolchain"
    if family == "FSUM":
        return _fsum_category(ident["digits"], text) or "environment"
    if family == "EDC":
        return _edc_category(number, text) or "runtime"
    return _cee_category(number, text) or "runtime"


# --- tools whose messages have one meaning ------------------------------------------

# make targets that run a port's tests: check, test, check-TESTS, test-suite.log, x.trs ...
_CHECK_TARGET = re.compile(r"^(?:check|tests?|testsuite|installcheck|runtests?|check-[\w.-]+|tests?-(?:suite|all|run)[\w.-]*|\S+\.(?:log|trs))$")


def make_target(text: str) -> str | None:
    """The target of a make failure line ("[Makefile:12: all] Error 1" -> "all"), None if absent."""
    match = re.search(r"\[([^\]]*)\]", text)
    if not match:
        return None
    return match.group(1).rsplit(": ", 1)[-1].strip() or None


def is_check_target(target: str | None) -> bool:
    """True for make targets that run a port's tests (check, test, check-TESTS, test-suite.log ...)."""
    return bool(target) and bool(_CHECK_TARGET.match(target))


def _make_category(text: str) -> str | None:
    target = make_target(text)
    if is_check_target(target) and re.search(r"Error \d+", text):
        return "test-failure"
    if re.search(r"Permission denied|No such file or directory|not found|execvp|cannot execute", text, re.I) and not re.search(
        r"No rule to make target", text
    ):
        return "environment"
    if re.search(r"No rule to make target|missing separator|Stop\.", text):
        return "build-system"
    after = text.rsplit("]", 1)[-1] if target else text
    found = category_from_text(after)
    if found in ("resource-limit", "runtime"):
        return found
    return "build-system"


def _configure_category(text: str) -> str | None:
    if re.search(r"cannot create executables|no acceptable (?:C|C\+\+) compiler|C\+?\+? compiler|cannot run C compiled|compiler .*not found",
                 text, re.I):
        return "toolchain"
    return "configure"


def _cmake_category(text: str) -> str | None:
    if re.search(r"CMAKE_\w*COMPILER|compiler|is not able to compile", text, re.I):
        return "toolchain"
    if re.search(r"Cannot find source file|add_(?:executable|library|custom)|No SOURCES|target|generator|Makefile", text, re.I):
        return "build-system"
    return "configure"


_TOOL_CLASSIFIERS = {
    "make": _make_category,
    "configure": _configure_category,
    "cmake": _cmake_category,
    "libtool": lambda text: "build-system",
    "autotools": lambda text: "build-system",
    "ar": lambda text: "build-system",
    "test": lambda text: "test-failure",
}


def is_follow_up(text: str, ident: dict | None = None) -> bool:
    """True when a message only reports that something earlier failed."""
    if ident is not None and ident["family"] == "CCN" and ident["number"] == 793:
        return True
    for hit in _FOLLOW_UP_HITS:
        if hit in text:
            return True
    for gate, pattern in _FOLLOW_UP_CHECKS:
        if gate in text and pattern.search(text):
            return True
    return False


def classify(message: str, code: str | None = None, tool: str | None = None, ids: str = "table") -> tuple[str, bool]:
    """(category, follow_up) for one message line.

    ``message`` is the line as a user would quote it (location prefixes are fine);
    ``code`` is its message id when the caller knows it (CCN3045, IEW2456E ...);
    ``tool`` is the program that printed it (clang, gcc, xlc, binder, ld, make, libtool,
    configure, cmake, shell, le, crtl, test, git, autotools, ar) when known;
    ``ids`` is one of ID_MODES (the others exist to measure what the id table adds).
    """
    if ids not in ID_MODES:
        raise ValueError("ids must be one of %s, not %r" % (", ".join(ID_MODES), ids))
    text, prefix_tool = strip_location(message or "")
    tool = tool or prefix_tool
    ident = parse_message_id(code) if code and ids != "none" else None
    embedded = parse_message_id(text) if ids != "none" else None
    entry = documented(embedded) if ids == "table" else None
    if ident is None and embedded is not None and (embedded["start"] == 0 or (entry is not None and entry["category"])):
        # The line is that message ("IEW2456E ...", "CEE3561S ..."), or quotes an id whose
        # documented meaning is known ("sh: x: FSUM7343 cannot open ..."): the id decides.
        ident = embedded
    known = documented(ident or embedded) if ids == "table" else None
    follow_up = is_follow_up(text, ident or embedded) or bool(known and known["follow_up"])
    category = None
    classifier = _TOOL_CLASSIFIERS.get(tool)
    if classifier is not None:
        category = classifier(text)
    if category is None and ident is not None:
        # The caller says this message is that id: the id decides first.
        category = category_for_id(ident, text, ids)
    if category is None:
        category = category_from_text(text)
    if category is None and embedded is not None:
        category = category_for_id(embedded, text, ids)
    if category is None:
        category = TOOL_DEFAULT_CATEGORY.get(tool or "", "other")
    if category not in CATEGORIES:  # a rule table out of step with record.CATEGORIES
        category = "other"
    return category, follow_up
