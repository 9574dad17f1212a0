# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Words about one fix record: what its category means, what its patch changes, and the
prompt/answer pair built from it.

Everything said about a record is read from the record itself (its error, code, patch,
port, file, phase, toolchain): no error message or behaviour is ever invented. A static
record (found in a patch, never seen failing) has an empty ``error`` and is described by
what its patch changes. Shared by the training exports (dataset_curate) and the taxonomy
renderer (qna_render). Standard library only.
"""

from __future__ import annotations

import os
import re
import textwrap

SYSTEM_PROMPT = (
    "You are an expert in porting open-source software to z/OS UNIX System Services. "
    "Given a build error or a piece of code from a port, explain the z/OS-specific problem "
    "and give the corrected code."
)

CATEGORY_TITLES = {
    "missing-header": "missing headers",
    "undeclared-identifier": "undeclared identifiers",
    "implicit-function": "implicitly declared functions",
    "unresolved-symbol": "unresolved symbols at link time",
    "conflicting-declaration": "conflicting declarations",
    "type-error": "type errors",
    "unsupported-feature": "unsupported features",
    "encoding": "EBCDIC and ASCII encoding",
    "configure": "configure failures",
    "build-system": "build system changes",
    "toolchain": "toolchain differences",
    "environment": "environment differences",
    "resource-limit": "resource limits",
    "runtime": "runtime behaviour",
    "test-failure": "test failures",
    "other": "other porting changes",
}

# General statements about each category on z/OS; nothing port-specific.
CATEGORY_DESCRIPTIONS = {
    "missing-header": (
        "A header that the code includes is not available on z/OS, or is found under another name, so compilation "
        "stops at the #include. The usual fix includes the header z/OS provides instead, guards the include with "
        "#ifdef __MVS__, or takes the declarations from zoslib."
    ),
    "undeclared-identifier": (
        "The code uses a macro, constant, type or variable that the z/OS headers do not declare, or only declare "
        "when a feature-test macro such as _XOPEN_SOURCE, _ALL_SOURCE or _OPEN_SYS is defined. The fix defines or "
        "guards the identifier, includes the right header, or sets the feature-test macro."
    ),
    "implicit-function": (
        "A function is called without a prototype in scope: it is missing from the z/OS C library or hidden behind "
        "a feature-test macro, and current compilers treat the implicit declaration as an error. The fix includes the "
        "declaring header, enables the feature-test macro, uses a z/OS equivalent, or uses the function from zoslib."
    ),
    "unresolved-symbol": (
        "The link step cannot resolve a symbol: the function is not in the z/OS libraries, or a library or object is "
        "missing from the link (the z/OS binder reports IEW messages). The fix adds the missing library, provides an "
        "implementation, or avoids the call on z/OS."
    ),
    "conflicting-declaration": (
        "A declaration in the port conflicts with one in the z/OS system headers: a different prototype, a redefined "
        "macro or a duplicate type. The fix renames or guards the local declaration, or makes it match the system one."
    ),
    "type-error": (
        "The code does not compile because of a type mismatch that shows up with the z/OS compilers or headers, such "
        "as different integer sizes, signedness, const qualifiers or pointer types. The fix uses the right types or casts."
    ),
    "unsupported-feature": (
        "The code relies on an operating system, compiler or library feature that z/OS does not provide. The fix "
        "disables the feature on z/OS, provides an alternative, or takes a portable code path."
    ),
    "encoding": (
        "z/OS is an EBCDIC system: files, pipes and terminals carry code page tags, and text may need conversion between "
        "EBCDIC (IBM-1047) and ASCII or UTF-8 (ISO8859-1). The fix tags or converts data, or removes assumptions that "
        "only hold for ASCII character values."
    ),
    "configure": (
        "The configure step fails or detects the wrong thing on z/OS: the platform is not recognised, a feature test "
        "gives the wrong answer, or an option is missing. The fix teaches configure, config.guess or config.sub about "
        "z/OS, or sets the right cache variables and options."
    ),
    "build-system": (
        "The build files (Makefiles, CMake, Meson, libtool or build scripts) need changes for z/OS, such as different "
        "compiler or linker flags, tools with other options, or platform checks. The fix adjusts the build files."
    ),
    "toolchain": (
        "A z/OS compiler, assembler or the binder rejects an option or construct that other toolchains accept (Open XL "
        "clang, xlclang or xlc). The fix changes the flags or the code so that the z/OS toolchain accepts it."
    ),
    "environment": (
        "The build or the tool depends on its environment: shell behaviour, environment variables, paths or utilities "
        "that differ on z/OS UNIX. The fix sets or checks the environment, or uses commands that work on z/OS."
    ),
    "resource-limit": (
        "The build or its tests hit a z/OS resource limit such as memory, region size, file size, processes, threads or "
        "path length. The fix lowers the demand or raises the limit."
    ),
    "runtime": (
        "The program builds but behaves differently when it runs on z/OS, for example with signals, file tags, process "
        "handling or memory layout. The fix changes the runtime behaviour on z/OS."
    ),
    "test-failure": (
        "A test of the port fails on z/OS, often because it assumes ASCII, Linux behaviour or a particular output format. "
        "The fix adapts or skips the test on z/OS, or fixes the code under test."
    ),
    "other": "A z/OS porting change that fits none of the other categories.",
}

_INCLUDE = re.compile(r"^\s*#\s*include\s*([<\"][^>\"]+[>\"])")
_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)")
_PRAGMA = re.compile(r"^\s*#\s*pragma\s+([A-Za-z_][A-Za-z0-9_]*)")
_ZOS_MACROS = re.compile(r"\b(__MVS__|__TOS_390__|__IBMC__|__IBMCPP__|__open_xl__|__xlC__|__ibmxl__|__CHARSET_LIB|__NATIVE_ASCII_F)\b")
_ZOS_CALLS = re.compile(r"\b(__(?:e2a|a2e|etoa|atoe)[A-Za-z0-9_]*|__chgfdccsid|__getfdccsid|__setfd[A-Za-z0-9_]+|__disableautocvt|__ae_[A-Za-z0-9_]+)\s*\(")

_FENCE_LANGUAGES = (
    ((".c", ".h"), "c"),
    ((".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".C"), "cpp"),
    ((".sh", ".bash", ".ksh"), "sh"),
    ((".py",), "python"),
    ((".pl", ".pm"), "perl"),
    ((".m4", ".ac"), "m4"),
    ((".mk", ".am"), "make"),
    ((".cmake",), "cmake"),
    ((".s", ".S", ".asm"), "asm"),
)


def category_title(category: str) -> str:
    return CATEGORY_TITLES.get(category, category)


def category_description(category: str) -> str:
    return CATEGORY_DESCRIPTIONS.get(category, CATEGORY_DESCRIPTIONS["other"])


def tool_name(port: str) -> str:
    """The tool a port repository builds: 'curlport' -> 'curl'."""
    if port.endswith("port") and len(port) > 4:
        return port[:-4]
    return port


def fence_language(path: str) -> str:
    """A markdown code-fence language for a file name ('' when unknown)."""
    base = os.path.basename(path or "")
    if base in ("GNUmakefile", "makefile") or base.startswith("Makefile"):
        return "make"
    if base in ("configure", "buildenv") or base.startswith("config."):
        return "sh"
    if base == "CMakeLists.txt":
        return "cmake"
    for suffixes, language in _FENCE_LANGUAGES:
        if base.endswith(suffixes):
            return language
    return ""


def fenced(code: str, path: str = "") -> str:
    """Code in a markdown fence whose marker cannot clash with the code."""
    fence = "~~~" if "```" in code else "```"
    return "%s%s\n%s\n%s" % (fence, fence_language(path), code.rstrip("\n"), fence)


def patch_lines(patch: str) -> tuple[list[str], list[str]]:
    """(added, removed) body lines of a unified diff, without their +/- marker."""
    added = []
    removed = []
    for line in (patch or "").splitlines():
        if line.startswith("+++ ") or line.startswith("--- "):
            continue
        if line.startswith("+"):
            added.append(line[1:])
        elif line.startswith("-"):
            removed.append(line[1:])
    return added, removed


def _quote_list(items: list[str], limit: int = 3) -> str:
    shown = ["`%s`" % item for item in items[:limit]]
    if len(items) > limit:
        shown.append("%d more" % (len(items) - limit))
    if len(shown) == 1:
        return shown[0]
    return "%s and %s" % (", ".join(shown[:-1]), shown[-1])


def _unique(items):
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def change_facts(record: dict) -> list[str]:
    """Short statements of what the record's patch does, read from its added and removed lines."""
    added, removed = patch_lines(record.get("patch", ""))
    facts = []
    includes_added = _unique(m.group(1) for m in map(_INCLUDE.match, added) if m)
    includes_removed = _unique(m.group(1) for m in map(_INCLUDE.match, removed) if m)
    if includes_added:
        facts.append("adds %s" % _quote_list(["#include " + name for name in includes_added]))
    if includes_removed:
        facts.append("removes %s" % _quote_list(["#include " + name for name in includes_removed]))
    macros = _unique(m for line in added for m in _ZOS_MACROS.findall(line))
    if macros:
        facts.append("tests the z/OS compiler macro%s %s" % ("s" if len(macros) > 1 else "", _quote_list(macros)))
    defines = _unique(m.group(1) for m in map(_DEFINE.match, added) if m)
    if defines:
        facts.append("defines %s" % _quote_list(defines))
    pragmas = _unique(m.group(1) for m in map(_PRAGMA.match, added) if m)
    if pragmas:
        facts.append("adds %s" % _quote_list(["#pragma " + name for name in pragmas]))
    calls = _unique(m for line in added for m in _ZOS_CALLS.findall(line))
    if calls:
        facts.append("calls %s" % _quote_list(calls))
    return facts


def change_summary(record: dict, lead: str = "The patch") -> str:
    """One sentence: how many lines the patch adds and removes in which file, and what it does."""
    added, removed = patch_lines(record.get("patch", ""))
    where = record.get("file") or record.get("patch_file") or "the file"
    sentence = "%s adds %d line%s and removes %d line%s in `%s`" % (
        lead,
        len(added),
        "" if len(added) == 1 else "s",
        len(removed),
        "" if len(removed) == 1 else "s",
        where,
    )
    facts = change_facts(record)
    if facts:
        sentence += ": it " + "; it ".join(facts)
    return sentence + "."


def excerpt_lines(text: str, max_lines: int) -> str:
    """The first max_lines lines of a text, saying how many were left out."""
    lines = (text or "").rstrip("\n").splitlines()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    return "\n".join(lines[:max_lines] + ["... (%d more lines)" % (len(lines) - max_lines)])


def wrap_long_lines(text: str, width: int | None) -> str:
    """Message text with lines longer than width folded (continuations indented); code
    is never passed here, only messages, which have no layout to keep."""
    if not width:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, subsequent_indent="    ", break_on_hyphens=False) or [""])
    return "\n".join(out)


def error_excerpt(record: dict, max_lines: int, width: int | None = None) -> str:
    """The first lines of the record's error, folded to width when one is given."""
    return wrap_long_lines(excerpt_lines(record.get("error", ""), max_lines), width)


def where_text(record: dict) -> str:
    """'the curl port (patch stable-patches/lib.c.patch, hunk 2)'."""
    text = "the %s port (patch %s" % (tool_name(record.get("port", "")), record.get("patch_file", "?"))
    if record.get("hunk"):
        text += ", hunk %d" % record["hunk"]
    return text + ")"


def is_static(record: dict) -> bool:
    return record.get("provenance") == "static" or not (record.get("error") or "").strip()


def fix_context(record: dict, max_lines: int = 40, error_width: int | None = None) -> str:
    """What the model is shown: the error and the code before the fix (or, for a static
    record, what the patch changes and the code before it). error_width folds long
    message lines (for YAML line limits)."""
    path = record.get("file") or ""
    parts = []
    if is_static(record):
        parts.append("Port: %s. File: %s. %s" % (tool_name(record.get("port", "")), path or "?", change_summary(record, "The z/OS patch")))
    else:
        parts.append(
            "Port: %s. File: %s. Phase: %s. Toolchain: %s." % (tool_name(record.get("port", "")), path or "?", record.get("phase"), record.get("toolchain"))
        )
        parts.append("Build error:\n" + fenced(error_excerpt(record, max_lines // 2 or 1, error_width)))
    wrong = record.get("wrong_code") or ""
    if wrong.strip():
        parts.append("Code before the fix:\n" + fenced(excerpt_lines(wrong, max_lines), path))
    return "\n\n".join(parts)


def fix_question(record: dict) -> str:
    """The question asked for a record; static records ask how to port, never about an error."""
    path = record.get("file") or "this file"
    tool = tool_name(record.get("port", ""))
    if is_static(record):
        return "How do you port this code from %s in %s to z/OS?" % (path, tool)
    code = record.get("error_code")
    about = "this %s error" % (record.get("phase") or "build") if not code else "this %s error (%s)" % (record.get("phase") or "build", code)
    return "How do you fix %s in %s when porting %s to z/OS?" % (about, path, tool)


def fix_answer(record: dict, max_lines: int = 40) -> str:
    """The explanation and the corrected code, from the category and the patch."""
    category = record.get("error_category", "other")
    parts = [category_description(category)]
    parts.append(change_summary(record, "In %s, the patch" % where_text(record)))
    correct = record.get("correct_code") or ""
    if correct.strip():
        parts.append("Corrected code:\n" + fenced(excerpt_lines(correct, max_lines), record.get("file") or ""))
    else:
        parts.append("The fix removes this code on z/OS.")
    return "\n\n".join(parts)


def messages_example(record: dict, system_prompt: str = SYSTEM_PROMPT) -> dict:
    """One InstructLab messages training line."""
    return {
        "messages": [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": fix_context(record) + "\n\n" + fix_question(record)},
            {"role": "assistant", "content": fix_answer(record)},
        ]
    }


def alpaca_example(record: dict) -> dict:
    """One instruction/input/output pair (Alpaca style, for PEFT/LoRA trainers)."""
    return {"instruction": fix_question(record), "input": fix_context(record), "output": fix_answer(record)}
