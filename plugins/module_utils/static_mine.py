# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Static mining: fix records from a port's patch files alone, without a build.

A static record never carries an error message (``error`` is empty: nothing is
invented); its ``error_category`` is inferred from what the hunk does: which kind
of file it edits and the shape of the lines it adds and removes.

Standard library only: this runs on build hosts, z/OS included (Python 3.9 and later).
"""

from __future__ import annotations

import os
import re

from ansible_collections.autoport.zos.plugins.module_utils.file_tree import inside
from ansible_collections.autoport.zos.plugins.module_utils import git_local, patch_read, port_layout
from ansible_collections.autoport.zos.plugins.module_utils.port_records import replace_port_records
from ansible_collections.autoport.zos.plugins.module_utils.record import RecordError, make_record

# ---------------------------------------------------------------------------
# What kind of file a path is.

_TEST_DIRS = {"test", "tests", "t", "testsuite", "test-suite", "unittest", "unittests", "gtest", "regress", "regression", "testdata", "test_data"}
_CONFIGURE_NAMES = {"configure", "configure.ac", "configure.in", "config.guess", "config.sub", "aclocal.m4", "acinclude.m4", "config.status", "config.h.in"}
_BOOTSTRAP_NAMES = {"autogen.sh", "bootstrap", "bootstrap.conf", "bootstrap.sh", "autoreconf.sh"}
_BUILD_NAMES = {
    "makefile", "gnumakefile", "makefile.in", "makefile.am", "cmakelists.txt", "meson.build", "meson_options.txt",
    "libtool", "ltmain.sh", "build.ninja", "sconstruct", "jamfile", "configure.cmake",
}
_BUILD_SUFFIXES = (".am", ".mk", ".mak", ".make", ".cmake", ".ninja", ".gyp", ".gypi", ".lt")
_DOC_SUFFIXES = (".md", ".texi", ".texinfo", ".rst", ".html", ".pod", ".man", ".1", ".3", ".5", ".7", ".8")
_DOC_NAMES = {"readme", "news", "changelog", "install", "authors", "copying", "todo", "manifest"}
_SOURCE_SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".inc", ".def", ".y", ".l", ".s", ".asm")


def path_kind(path: str) -> str:
    """'test', 'configure', 'bootstrap', 'build-system', 'doc', 'source' or 'other' for a file path."""
    norm = (path or "").replace("\\", "/").strip("/")
    parts = [part for part in norm.split("/") if part]
    base = parts[-1] if parts else ""
    lower = base.lower()
    dirs = {part.lower() for part in parts[:-1]}
    if dirs & _TEST_DIRS or re.search(r"(^test[-_.]|[-_]test[s]?\.|_unittest\.|\.t$|\.at$|\.test$|\.exp$|^run-|\.right$|^testsuite)", lower):
        return "test"
    if lower in _CONFIGURE_NAMES or lower.endswith(".m4") or base == "Configure" or "configurations" in dirs:
        return "configure"
    if lower in _BOOTSTRAP_NAMES:
        return "bootstrap"
    if lower in _BUILD_NAMES or lower.startswith("makefile") or lower.endswith(_BUILD_SUFFIXES) or "build-aux" in dirs:
        return "build-system"
    if lower.endswith(_SOURCE_SUFFIXES):
        return "source"
    if lower.endswith(_DOC_SUFFIXES) or lower in _DOC_NAMES or "doc" in dirs or "docs" in dirs or "man" in dirs:
        return "doc"
    return "other"


def infer_phase(path: str) -> str:
    """Where a failure fixed in this file shows up: configure, bootstrap, build, check (record.PHASES)."""
    kind = path_kind(path)
    base = os.path.basename((path or "").replace("\\", "/")).lower()
    if kind == "test":
        return "check"
    if kind == "configure" or base == "cmakelists.txt" or base.endswith(".cmake"):
        # CMake scripts run when the project is configured.
        return "configure"
    if kind == "bootstrap" or (kind == "build-system" and base.endswith((".am", ".ac"))):
        # automake input is consumed when the build is bootstrapped.
        return "bootstrap" if kind == "bootstrap" else "build"
    return "build"


# ---------------------------------------------------------------------------
# What a hunk does.

_ENCODING = re.compile(
    r"__CHARSET_LIB|#\s*pragma\s+convert|ebcdic|\b__[ae]2[ae]|\b_?_?[ae]toe?[ae]\b|__etoa|__atoe|\bsetccsid\b|__chgfdccsid|"
    r"__setfd(?:text|binary)|\bF_SETTAG\b|\bf_cnvrt\b|\bchtag\b|_BPXK_AUTOCVT|\bAUTOCVT\b|\bccsid\b|\bft_txtflag\b|"
    r"\bst_tag\b|\b1047\b|\bFILETAG\b|_ENHANCED_ASCII|__isASCII|\bcodepage\b|\bcode ?page\b|tag_file|\b__tag\b|file ?tag|untagged|-qascii|"
    r"\bASCII\b|\bIBM-?1047\b|\bISO8859-1\b|zos_file_tag|__disableautocvt|__ascii",
    re.I,
)
_MVS_GUARD = re.compile(r"^#\s*(?:if|elif|ifdef|ifndef)\b.*(?:__MVS__|__os390__|__OS390__|__ZOS__|__zos__|_ZOS|\bMVS\b|OS390|__TOS_MVS__)")
_MVS_NEGATIVE = re.compile(r"^#\s*(?:ifndef\s+(?:__MVS__|__os390__|__ZOS__)|if\s*!\s*defined\s*\(?\s*(?:__MVS__|__os390__|__ZOS__))")
_PP_COND = re.compile(r"^#\s*(?:if|ifdef|ifndef|elif|else|endif)\b")
_PP_INCLUDE = re.compile(r"^#\s*(?:include|include_next|import)\s*[<\"]")
_PP_DEFINE = re.compile(r"^#\s*define\s+\w+")
_PP_UNDEF = re.compile(r"^#\s*undef\s+\w+")
_PROTOTYPE = re.compile(
    r"^(?!typedef\b|return\b)(?:extern\s+)?(?:(?:static|inline|const|unsigned|signed|struct|enum|union|volatile)\s+)*"
    r"[A-Za-z_][\w]*(?:\s*\*+\s*|\s+)\**\s*[A-Za-z_]\w*\s*\([^;{}]*\)\s*(?:__attribute__\s*\(\(.*\)\)\s*)?;$"
)
_FUNCTION_START = re.compile(
    r"^(?:(?:static|inline|extern|const|unsigned|signed|struct|enum|volatile)\s+)*"
    r"[A-Za-z_][\w]*(?:\s*\*+\s*|\s+)\**\s*[A-Za-z_]\w*\s*\([^;]*\)?\s*\{?$"
)
_FUNCTION_NAME_ONLY = re.compile(r"^[A-Za-z_]\w*\s*\([^;]*\)\s*\{?$")
_STATEMENT_KEYWORDS = re.compile(r"^(?:if|else|while|for|do|switch|case|return|goto|break|continue|sizeof|default)\b")
_DECLARATION = re.compile(
    r"^(?!return\b|goto\b)(?:extern\s+|typedef\s+|static\s+|const\s+|struct\s+|enum\s+|union\s+|unsigned\s+|volatile\s+)*[A-Za-z_][\w]*(?:\s*\*+\s*|\s+)"
    r"\**[A-Za-z_]\w*(?:\[[^\]]*\])?(?:\s*,\s*\**[A-Za-z_]\w*(?:\[[^\]]*\])?)*\s*(?:=[^;]*)?;$"
)
_ENUM_OR_MEMBER = re.compile(r"^[A-Z_][A-Z0-9_]*\s*(?:=\s*[^,;]+)?,?$")
_TOOLCHAIN = re.compile(
    r"__IBMC__|__IBMCPP__|__xlC__|__xlc__|__clang__|__GNUC__|__open_xl__|__ibmxl__|__COMPILER_VER__|_LP64|__64BIT__|"
    r"__attribute__|__builtin_|\b__asm__\b|\basm\s*\(|#\s*pragma\b|-q[a-z]+|-fzos|-mzos|\b-m64\b|-Wl,|-Wc,|\bxlclang\b|\bibm-clang|"
    r"\.insn\b|\\n\\t\"|\bCFLAGS\b|\bCPPFLAGS\b|\bCXXFLAGS\b|\bLDFLAGS\b|-std=|\b__cplusplus\b|_ALL_SOURCE|_XOPEN_SOURCE|_OPEN_SYS|_AE_BIMODAL|_UNIX03",
)
_FLAG_LINE = re.compile(
    r"^\s*(?:export\s+)?[A-Za-z_]*(?:CFLAGS|CPPFLAGS|CXXFLAGS|LDFLAGS|LIBS|CC|CXX|LD|AR|ARFLAGS|CCLD|DEFS|INCLUDES)\s*[+:?]?=|"
    r"(?:^|\s)-(?:q[a-z]+|W[lc],|m64|m31|fzos|mzos|D_|std=|O[0-3s]?\b|fno-|fvisibility)",
)
_RUNTIME = re.compile(
    r"\bSIG[A-Z0-9]{2,}\b|\bsignal\s*\(|\bsigaction\b|\bsigprocmask\b|\bsigset|\berrno\b|\balarm\s*\(|\bfork\s*\(|\bexec[lv]p?e?\s*\(|"
    r"\bsetenv\b|\bgetenv\b|\bpthread_|\btty|\bioctl\b|\btermios\b|\bc_[oicl]flag\b|\bsleep\s*\(|\bwaitpid\b|\btimeout\b|\bsetvbuf\b|"
    r"\bmmap\b|\bsocket\b|\bselect\s*\(|\bpoll\s*\(|\bsetlocale\b|\bumask\b|\bchmod\b|\bfcntl\b|\bopen\s*\(|\bmalloc\s*\(|\brealloc\s*\(|"
    r"\bthread|\btls\b|__tls|\bclock_gettime\b|\bgettimeofday\b|\bgetpwnam\b|\bgetpwuid\b|\bdlopen\b|\bexit\s*\(",
)
_UNSUPPORTED_TEXT = re.compile(r"not supported|unsupported|not available|\bENOSYS\b|\bENOTSUP\b|\bEOPNOTSUPP\b|not implemented|skip_all|\bSKIP\b", re.I)


def _code(lines: list) -> list:
    """Non-blank lines that are not only a comment."""
    out = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith(("//", "/*", "*", "*/")) or text in ("{", "}", "};"):
            continue
        out.append(text)
    return out


def _pp_normal(text: str) -> str:
    # "#  ifdef" and "# include" are the same directives as "#ifdef" and "#include".
    return re.sub(r"^#\s+", "#", text)


def _function_definitions(added: list) -> int:
    """How many function bodies the added lines start ('name(args)' followed by '{')."""
    count = 0
    stripped = [line.strip() for line in added]
    for index, text in enumerate(stripped):
        if not text or text.endswith(";") or _STATEMENT_KEYWORDS.match(text) or text.startswith("#"):
            continue
        if not (_FUNCTION_START.match(text) or (_FUNCTION_NAME_ONLY.match(text) and index > 0 and re.match(r"^[\w\s\*]+$", stripped[index - 1]))):
            continue
        if "(" not in text or (added[index][:1] in (" ", "\t") and not text.endswith("{")):
            # An indented 'foo(...)' without its '{' is a call inside a body, not a definition.
            continue
        following = stripped[index:index + 6]
        if any(line.endswith("{") or line == "{" for line in following):
            count += 1
    return count


def _by_file(fp: patch_read.FilePatch, kind: str, added: list, added_code: list, removed_code: list, changed_text: str) -> tuple | None:
    """The rules that look at the file and the shape of the change (before the code itself); None when none applies."""
    changed_code = added_code + removed_code
    if kind == "test":
        return "test-failure", "edits a test file"
    if kind == "configure":
        return "configure", "edits configure input (configure, *.ac, *.m4, config.guess/sub)"
    if kind in ("build-system", "bootstrap"):
        if changed_code and all(_FLAG_LINE.search(line) for line in changed_code):
            return "toolchain", "changes only compiler/linker flags in a build file"
        return "build-system", "edits a build file (Makefile, CMake, automake, libtool)"
    if not changed_code:
        if fp.is_deleted or fp.is_new:
            return "other", "adds or deletes a file with no code in it"
        return "other", "changes only blank lines or comments"
    if _same_tokens(removed_code, added_code):
        return "other", "changes only spacing"
    if fp.is_new and kind == "source":
        if fp.path.lower().endswith((".h", ".hpp", ".hh", ".hxx")):
            return "missing-header", "adds a header file the source expects"
        return "unresolved-symbol", "adds a source file that supplies missing functions"
    if not added_code and removed_code and _commented_out(removed_code, added):
        return "unsupported-feature", "comments out code z/OS cannot build or run"
    if fp.path.lower().endswith((".s", ".asm")) or "perlasm" in fp.path.lower():
        return "toolchain", "edits assembler source"
    if _ENCODING.search(changed_text):
        return "encoding", "deals with character sets, EBCDIC/ASCII conversion or file tags"
    return None


def _by_code(hunk: patch_read.Hunk, added: list, added_code: list, removed_code: list, changed_text: str) -> tuple:
    """The rules that look at the added and removed code lines (preprocessor, declarations, guards)."""
    changed_code = added_code + removed_code
    includes = [line for line in added_code if _PP_INCLUDE.match(line)]
    conditionals = [line for line in added_code if _PP_COND.match(line)]
    defines = [line for line in added_code if _PP_DEFINE.match(line)]
    undefs = [line for line in added_code if _PP_UNDEF.match(line)]
    prototypes = [line for line in added_code if _PROTOTYPE.match(line) and not _STATEMENT_KEYWORDS.match(line)]
    removed_prototypes = [line for line in removed_code if _PROTOTYPE.match(line) and not _STATEMENT_KEYWORDS.match(line)]
    definitions = _function_definitions(added)
    plain_added = [line for line in added_code if not line.startswith("#")]
    removed_includes = [line for line in removed_code if _PP_INCLUDE.match(line)]
    mvs_guard = any(_MVS_GUARD.match(line) for line in added_code)
    negative_guard = any(_MVS_NEGATIVE.match(line) for line in added_code)

    if includes and not plain_added and not defines:
        return "missing-header", "adds #include lines (and only their guards)"
    if removed_includes and not plain_added and not defines and not includes:
        return "missing-header", "removes an #include of a header z/OS lacks"
    if undefs and not plain_added and not definitions:
        return "conflicting-declaration", "#undef of a name that clashes with a system definition"
    if defines and not definitions and all(
        line.startswith("#") or _ENUM_OR_MEMBER.match(line) or _DECLARATION.match(line) or line.endswith("\\") for line in added_code
    ) and not removed_code:
        return "undeclared-identifier", "defines a missing macro or constant"
    if prototypes and not definitions and all(line.startswith("#") or _PROTOTYPE.match(line) or _DECLARATION.match(line) for line in added_code):
        if removed_prototypes:
            return "conflicting-declaration", "replaces a declaration with a different one"
        return "implicit-function", "adds a function prototype"
    if definitions and not removed_code:
        return "unresolved-symbol", "supplies a function definition"
    if removed_prototypes and prototypes:
        return "conflicting-declaration", "replaces a declaration with a different one"
    if not added_code and removed_prototypes:
        return "conflicting-declaration", "removes a clashing declaration"
    wrapped = [_pp_normal(line) for line in _code(_wrapped_context(hunk))]
    if added_code and not removed_code and all(_PP_COND.match(line) for line in added_code):
        if wrapped and all(_PP_INCLUDE.match(line) for line in wrapped):
            return "missing-header", "hides an #include of a header z/OS lacks behind a condition"
        if negative_guard and wrapped and all(_PROTOTYPE.match(line) or _DECLARATION.match(line) or line.startswith("#") for line in wrapped):
            return "conflicting-declaration", "hides a declaration from z/OS behind #ifndef __MVS__"
        return "unsupported-feature", "wraps existing code in a preprocessor condition"
    if plain_added and not removed_code and not prototypes and all(_DECLARATION.match(line) for line in plain_added) and all(
        line.startswith("#") for line in added_code if not _DECLARATION.match(line)
    ):
        return "undeclared-identifier", "declares a missing variable, constant or member"
    if negative_guard or (mvs_guard and not plain_added):
        if _UNSUPPORTED_TEXT.search(changed_text):
            return "unsupported-feature", "disables a feature z/OS does not support"
        if removed_code and all(_PP_COND.match(line) for line in changed_code):
            return "unsupported-feature", "changes a preprocessor condition so z/OS takes other code"
        declarations_only = all(_PROTOTYPE.match(line) or _DECLARATION.match(line) or line.startswith("#") for line in wrapped)
        if negative_guard and wrapped and not plain_added and declarations_only:
            return "conflicting-declaration", "hides a declaration from z/OS behind #ifndef __MVS__"
        return "unsupported-feature", "guards code out of the z/OS build with #if(n)def __MVS__"
    if _UNSUPPORTED_TEXT.search(changed_text):
        return "unsupported-feature", "reports a feature z/OS does not support"
    if _TOOLCHAIN.search(changed_text):
        return "toolchain", "deals with compiler-specific macros, pragmas, attributes or flags"
    if defines and not plain_added:
        return "undeclared-identifier", "defines a missing macro or constant"
    if _type_change(removed_code, added_code):
        return "type-error", "changes types or casts of otherwise identical lines"
    if _RUNTIME.search(changed_text):
        return "runtime", "changes runtime behaviour (signals, processes, terminals, memory, threads)"
    if mvs_guard:
        return "runtime", "adds z/OS-only behaviour under #ifdef __MVS__"
    if includes:
        return "missing-header", "adds #include lines with other code"
    return "other", "no recognised shape"


def explain_category(fp: patch_read.FilePatch, hunk: patch_read.Hunk) -> tuple:
    """(category, reason): the inferred record.CATEGORIES value and the rule that chose it."""
    kind = path_kind(fp.path)
    added = [line[1:] for line in hunk.lines if line.startswith("+")]
    removed = [line[1:] for line in hunk.lines if line.startswith("-")]
    added_code = [_pp_normal(line) for line in _code(added)]
    removed_code = [_pp_normal(line) for line in _code(removed)]
    changed_text = "\n".join(added_code + removed_code)
    return _by_file(fp, kind, added, added_code, removed_code, changed_text) or _by_code(hunk, added, added_code, removed_code, changed_text)


def _wrapped_context(hunk: patch_read.Hunk) -> list:
    """Context lines that sit between an added #if/#ifdef/#ifndef and its added #else/#elif/#endif."""
    wrapped = []
    depth = 0
    for line in hunk.lines:
        text = _pp_normal(line[1:].strip())
        if line.startswith("+") and re.match(r"^#(?:if|ifdef|ifndef)\b", text):
            depth += 1
        elif line.startswith("+") and re.match(r"^#(?:else|elif|endif)\b", text):
            depth = max(0, depth - 1) if text.startswith("#endif") else 0
        elif line.startswith(" ") and depth:
            wrapped.append(line[1:])
    return wrapped


def _commented_out(removed_code: list, added: list) -> bool:
    """True when the added lines are comments that keep the removed code's text."""
    comments = " ".join(line.strip() for line in added)
    squeezed = re.sub(r"\s+", "", comments)
    return bool(comments) and all(re.sub(r"\s+", "", line) in squeezed for line in removed_code)


_TYPE_WORDS = {
    "int", "long", "short", "char", "unsigned", "signed", "const", "size_t", "ssize_t", "off_t", "uint32_t", "uint64_t",
    "int32_t", "int64_t", "uint8_t", "uint16_t", "int8_t", "int16_t", "void", "double", "float", "bool", "intptr_t",
    "uintptr_t", "ptrdiff_t", "time_t", "pid_t", "uid_t", "gid_t", "mode_t", "socklen_t", "struct", "volatile", "*",
}


def _tokens(line: str) -> list:
    return re.findall(r"[A-Za-z_]\w*|\S", line)


def _same_tokens(removed: list, added: list) -> bool:
    """True when removed and added lines pair up with the same tokens (only spacing differs)."""
    return len(removed) == len(added) and all(_tokens(old) == _tokens(new) for old, new in zip(removed, added))


def _type_change(removed: list, added: list) -> bool:
    """True when removed and added lines pair up and differ only in type words or casts (at least one type word)."""
    if not removed or len(removed) != len(added):
        return False
    type_changed = False
    for old, new in zip(removed, added):
        old_tokens, new_tokens = _tokens(old), _tokens(new)
        if old_tokens == new_tokens:
            continue
        old_rest = [token for token in old_tokens if token not in _TYPE_WORDS and token not in ("(", ")")]
        new_rest = [token for token in new_tokens if token not in _TYPE_WORDS and token not in ("(", ")")]
        if old_rest != new_rest:
            return False
        old_types = [token for token in old_tokens if token in _TYPE_WORDS]
        new_types = [token for token in new_tokens if token in _TYPE_WORDS]
        type_changed = type_changed or old_types != new_types
    return type_changed


def infer_category(fp: patch_read.FilePatch, hunk: patch_read.Hunk) -> str:
    """The record.CATEGORIES value for a hunk, from the file it edits and the lines it adds/removes."""
    return explain_category(fp, hunk)[0]


# ---------------------------------------------------------------------------
# Mining a port.


def port_head_commit(port_dir: str) -> str | None:
    """HEAD commit of a port dir that is itself a git checkout (has .git); None otherwise."""
    if not os.path.exists(os.path.join(port_dir, ".git")):
        return None
    try:
        commit = git_local.head(port_dir) or ""
    except git_local.GitError:
        return None
    return commit if re.match(r"^[0-9a-f]{40,64}$", commit) else None


def _relative_name(path: str, port_dir: str) -> str:
    return os.path.relpath(path, port_dir).replace(os.sep, "/")


def _safe_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def records_for_patch(pf: patch_read.PatchFile, port: str, patch_file: str, toolchain: str, build_line: str | None, port_commit: str | None) -> list:
    """One static record per hunk of a parsed patch (binary sections have no hunks and give none).
    The mine stage is the one caller: the harvest writes build records only."""
    records = []
    for fp, hunk in pf.hunks:
        wrong_code, correct_code = patch_read.hunk_code(hunk)
        records.append(
            make_record(
                wrong_code=wrong_code,
                error_category=infer_category(fp, hunk),
                error="",
                correct_code=correct_code,
                patch=patch_read.hunk_patch_text(fp, hunk),
                port=port,
                port_commit=port_commit,
                patch_file=patch_file,
                file=fp.path,
                hunk=hunk.index,
                phase=infer_phase(fp.path),
                toolchain=toolchain,
                provenance="static",
                build_line=build_line,
            )
        )
    return records


def _port_buildenv(port_dir: str, warnings: list) -> port_layout.Buildenv:
    """The port's buildenv, or an empty one with a warning that says why (the patch folder is then chosen by the default rules)."""
    buildenv_path = os.path.join(port_dir, "buildenv")
    if not os.path.isfile(buildenv_path):
        warnings.append("no buildenv in %s; patch folder chosen by the default rules (stable-patches/, dev-patches/, patches/)" % port_dir)
        return port_layout.Buildenv()
    try:
        buildenv = port_layout.read_buildenv(buildenv_path)
    except port_layout.PortLayoutError as exc:
        warnings.append("%s; patch folder chosen without it" % exc)
        return port_layout.Buildenv()
    warnings.extend("buildenv: %s" % text for text in buildenv.warnings)
    return buildenv


def _patch_records(path: str, real_port: str, result: dict) -> list:
    """The records of one patch file; a patch that gives none goes to result's left_out with the reason."""
    name = _relative_name(os.path.realpath(os.path.dirname(path)), real_port) + "/" + os.path.basename(path)
    if not _safe_text(name):
        result["left_out"].append({"file": name.encode("utf-8", "backslashreplace").decode("utf-8"), "reason": "file name is not valid UTF-8"})
        return []
    if not inside(path, real_port) or os.path.realpath(path) == real_port:
        result["left_out"].append({"file": name, "reason": "symlink leads outside the port directory"})
        return []
    try:
        pf = patch_read.read_patch_file(path)
        patch_read.check_paths(pf)
    except patch_read.PatchReadError as exc:
        result["left_out"].append({"file": name, "reason": exc.reason})
        return []
    if not pf.hunks:
        reason = "binary patch, no text hunks" if any(fp.is_binary for fp in pf.files) else "no hunks (mode change or rename only)"
        result["left_out"].append({"file": name, "reason": reason})
        return []
    try:
        found = records_for_patch(pf, result["port"], name, result["toolchain"], result["build_line"], result["port_commit"])
    except RecordError as exc:
        result["left_out"].append({"file": name, "reason": "cannot make a record: %s" % exc})
        return []
    result["parsed"] += 1
    result["warnings"].extend("%s: %s" % (name, text) for text in pf.warnings)
    return found


def mine_port(
    port_dir: str,
    dest: str | None,
    build_line: str = "auto",
    port: str | None = None,
    check_mode: bool = False,
    port_commit: str | None = None,
) -> dict:
    """Make static records for every hunk of the port's active patches; ``dest`` then holds
    exactly those as the port's records (records of patches edited or removed since are gone).

    Returns ``patch_dir`` (relative to port_dir, or None), ``build_line``, ``patch_files``
    (count), ``parsed`` (count), ``left_out`` (list of {file, reason}: every patch that
    gave no records, with why), ``records`` (count for this port), ``written`` (records
    dest did not have), ``removed`` (the port's records taken out of dest), ``changed``
    (dest's bytes changed), ``warnings`` and ``port_commit``. In check mode nothing is
    written; ``changed`` says whether it would. With ``dest`` None the records are only
    counted. Raises PortLayoutError when port_dir is not a directory, OutputError when
    dest cannot be written.
    """
    if not port_dir or not os.path.isdir(port_dir):
        raise port_layout.PortLayoutError("port dir %s: no such directory" % port_dir)
    port_dir = os.path.abspath(port_dir)
    port = port or os.path.basename(port_dir.rstrip(os.sep))
    warnings = []
    buildenv = _port_buildenv(port_dir, warnings)
    patch_dir, line = port_layout.select_patch_dir(port_dir, buildenv, build_line)
    toolchain = port_layout.compiler_toolchain(buildenv)
    if port_commit is None:
        port_commit = port_head_commit(port_dir)
    result = {
        "port": port,
        "patch_dir": _relative_name(patch_dir, os.path.realpath(port_dir)) if patch_dir else None,
        "build_line": line,
        "toolchain": toolchain,
        "port_commit": port_commit,
        "patch_files": 0,
        "parsed": 0,
        "left_out": [],
        "records": 0,
        "written": 0,
        "removed": 0,
        "changed": False,
        "warnings": warnings,
    }
    if patch_dir is None:
        warnings.append("no patch folder for build line %s in %s" % (line, port_dir))
        return _write(result, [], dest, check_mode)
    real_port = os.path.realpath(port_dir)
    records = []
    walk_errors = []
    patch_paths = port_layout.list_patches(patch_dir, walk_errors)
    for folder, reason in walk_errors:
        result["left_out"].append({"file": _relative_name(folder, real_port), "reason": reason})
    for path in patch_paths:
        result["patch_files"] += 1
        records.extend(_patch_records(path, real_port, result))
    result["records"] = len(records)
    return _write(result, records, dest, check_mode)


def _write(result: dict, records: list, dest: str | None, check_mode: bool) -> dict:
    """dest holds exactly the port's current records (port_records): edited or removed patches leave nothing."""
    if dest is None:
        return result
    output = replace_port_records(dest, result["port"], records, check_mode=check_mode)
    result["changed"] = output["changed"]
    result["removed"] = output["removed"]
    if check_mode:
        result["would_write"] = output["written"]
    else:
        result["written"] = output["written"]
    return result
