# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Understanding a zopen ``buildenv`` shell file without running it (part of port_layout).

``_interpret`` (called by port_layout.read_buildenv) understands assignments, ``${VAR}`` expansion, top-level
``if``/``else`` on simple ``[ ... ]`` tests and the ``ln -s X patches`` trick some ports
use to switch patch folders; function bodies and here-documents are skipped, command
substitutions kept as written. Standard library only: this runs on build hosts, z/OS
included (Python 3.9 and later).
"""

from __future__ import annotations

import os
import re

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ASSIGNMENT = re.compile(r"^(%s)(\+?)=(.*)$" % _NAME, re.S)
_FUNCTION_START = re.compile(r"^\s*(?:function\s+(%s)\s*(?:\(\s*\))?|(%s)\s*\(\s*\))\s*(\{)?\s*(?:#.*)?$" % (_NAME, _NAME))
_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


class PortLayoutError(Exception):
    """A port directory or buildenv that cannot be used; the message names the path."""


class Buildenv(dict):
    """Variables assigned by a buildenv (a plain ``dict[str, str]``) plus what else it does.

    ``links`` maps a name in the port dir to the target ``ln -s`` points it at (only
    top-level, active commands); ``functions`` lists the shell functions it defines;
    ``warnings`` lists lines that could not be understood. They are attributes, not
    keys, so the dict stays a clean name -> value map that can be exported as is.
    """

    def __init__(self, *args, **kwargs):
        super(Buildenv, self).__init__(*args, **kwargs)
        self.path = None  # type: str | None
        self.links = {}  # type: dict[str, str]
        self.functions = []  # type: list[str]
        self.warnings = []  # type: list[str]


# ---------------------------------------------------------------------------
# A tiny shell word reader: quotes, escapes and parameter expansion, no execution.


def _unquoted(text: str, start: int = 0, skip=None):
    """(index, char) of each character of ``text`` from ``start`` that stands outside quotes
    and is not escaped (a backslash escapes the next character outside quotes and inside
    double quotes; nothing is escaped inside single quotes). ``skip(index)``, asked before
    each of them, may return the index to go on from instead (a generator)."""
    index = start
    quote = None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "\\":
            index += 2
            continue
        else:
            jump = skip(index) if skip is not None else None
            if jump is not None:
                index = jump
                continue
            yield index, char
        index += 1


class _Words(object):
    """Split one logical shell line into commands of expanded words."""

    def __init__(self, text: str, lookup):
        self.text = text
        self.pos = 0
        self.lookup = lookup

    def _param(self) -> str:
        # self.pos is just after '$'
        text = self.text
        if self.pos >= len(text):
            return "$"
        char = text[self.pos]
        if char == "{":
            end = self._matching(self.pos, "{", "}")
            if end < 0:
                self.pos = len(text)
                return ""
            body = text[self.pos + 1:end]
            self.pos = end + 1
            return self._braced(body)
        if char == "(":
            # Command or arithmetic substitution: never run, kept as written.
            end = self._matching(self.pos, "(", ")")
            if end < 0:
                end = len(text) - 1
            literal = "$" + text[self.pos:end + 1]
            self.pos = end + 1
            return literal
        match = re.match(_NAME, text[self.pos:])
        if match:
            self.pos += match.end()
            return self.lookup(match.group(0))
        if char.isdigit() or char in "@*#?$!-":
            self.pos += 1
            return ""
        return "$"

    def _braced(self, body: str) -> str:
        match = re.match(r"^(%s)(?:(:?)([-=+?])(.*))?$" % _NAME, body, re.S)
        if not match:
            if body.startswith("#"):
                return str(len(self.lookup(body[1:])))
            return ""
        name, colon, operator, word = match.groups()
        value = self.lookup(name)
        if operator is None:
            return value
        unset = (value == "") if colon else (self.lookup(name, missing=None) is None)
        word_value = _Words(word, self.lookup).expand_double(word)
        if operator in "-=":
            return word_value if unset else value
        if operator == "+":
            return "" if unset else word_value
        return value

    def _matching(self, start: int, open_char: str, close_char: str) -> int:
        depth = 0
        for index, char in _unquoted(self.text, start):
            if char == open_char:
                depth += 1
            elif char == close_char:
                depth -= 1
                if depth == 0:
                    return index
        return -1

    def expand_double(self, text: str) -> str:
        """Expand the inside of a double-quoted string."""
        reader = _Words(text, self.lookup)
        out = []
        while reader.pos < len(text):
            char = text[reader.pos]
            if char == "\\" and reader.pos + 1 < len(text):
                nxt = text[reader.pos + 1]
                if nxt in '$`"\\':
                    out.append(nxt)
                    reader.pos += 2
                    continue
                if nxt == "\n":
                    reader.pos += 2
                    continue
                out.append(char)
                reader.pos += 1
            elif char == "$":
                reader.pos += 1
                out.append(reader._param())
            else:
                out.append(char)
                reader.pos += 1
        return "".join(out)

    def commands(self) -> list:
        """Return [[word, ...], ...]: simple commands split at ; && || and |."""
        text = self.text
        commands = []
        words = []
        current = []
        in_word = False
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\n":
                if in_word:
                    words.append("".join(current))
                    current, in_word = [], False
                self.pos += 1
                continue
            if char == "#" and not in_word:
                break
            if char in ";|&":
                if in_word:
                    words.append("".join(current))
                    current, in_word = [], False
                if words:
                    commands.append(words)
                words = []
                self.pos += 1
                continue
            in_word = True
            if char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    end = len(text)
                current.append(text[self.pos + 1:end])
                self.pos = end + 1
            elif char == '"':
                end = self._closing_double(self.pos + 1)
                current.append(self.expand_double(text[self.pos + 1:end]))
                self.pos = end + 1
            elif char == "\\":
                if self.pos + 1 < len(text) and text[self.pos + 1] != "\n":
                    current.append(text[self.pos + 1])
                self.pos += 2
            elif char == "$":
                self.pos += 1
                current.append(self._param())
            elif char == "`":
                end = text.find("`", self.pos + 1)
                if end < 0:
                    end = len(text) - 1
                current.append(text[self.pos:end + 1])
                self.pos = end + 1
            else:
                current.append(char)
                self.pos += 1
        if in_word:
            words.append("".join(current))
        if words:
            commands.append(words)
        return commands

    def _closing_double(self, index: int) -> int:
        text = self.text
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == '"':
                return index
            if char == "$" and index + 1 < len(text) and text[index + 1] in "({":
                reader = _Words(text, self.lookup)
                end = reader._matching(index + 1, text[index + 1], ")" if text[index + 1] == "(" else "}")
                if end > 0:
                    index = end + 1
                    continue
            index += 1
        return len(text)


def _quotes_balanced(text: str) -> bool:
    """True when a line ends outside any quote (so a newline ends the command)."""
    quote = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif quote == '"':
            if char == "\\":
                index += 2
                continue
            if char == '"':
                quote = None
        else:
            if char == "\\":
                index += 2
                continue
            if char == "#" and (index == 0 or text[index - 1] in " \t;"):
                return True
            if char in "'\"":
                quote = char
        index += 1
    return quote is None


def _logical_lines(text: str) -> list:
    """Join continued lines, drop here-document bodies; returns [(line_number, text)]."""
    raw = text.split("\n")
    lines = []
    index = 0
    while index < len(raw):
        start = index
        line = raw[index]
        index += 1
        while (line.endswith("\\") and not line.endswith("\\\\")) or not _quotes_balanced(line):
            if index >= len(raw):
                break
            if line.endswith("\\") and _quotes_balanced(line[:-1]):
                line = line[:-1] + raw[index]
            else:
                line = line + "\n" + raw[index]
            index += 1
        heredoc = _HEREDOC.search(line)
        if heredoc and "<<<" not in line:
            strip_tabs = heredoc.group(1) == "-"
            delimiter = heredoc.group(3)
            while index < len(raw):
                body_line = raw[index]
                index += 1
                if (body_line.lstrip("\t") if strip_tabs else body_line).rstrip() == delimiter:
                    break
        lines.append((start + 1, line))
    return lines


def _test_words(words: list) -> bool | None:
    """Evaluate the words of ``[ ... ]`` / ``test ...``; None when it cannot be decided."""
    if words and words[0] == "[":
        words = words[1:-1] if words[-1] == "]" else None
    elif words and words[0] == "test":
        words = words[1:]
    else:
        return None
    if words is None:
        return None
    negate = False
    while words and words[0] == "!":
        negate = not negate
        words = words[1:]
    result = None
    if len(words) == 1:
        result = words[0] != ""
    elif len(words) == 2 and words[0] in ("-z", "-n"):
        result = (words[1] == "") if words[0] == "-z" else (words[1] != "")
    elif len(words) == 3 and words[1] in ("=", "==", "!="):
        result = (words[0] == words[2]) if words[1] != "!=" else (words[0] != words[2])
    if result is None:
        return None
    return (not result) if negate else result


def _condition(text: str, lookup) -> bool | None:
    """Evaluate an if/elif condition made of tests joined by && / ||."""
    # Split at && and || outside quotes, keeping the operators.
    parts = re.split(r"(&&|\|\|)", text)
    value = None
    operator = None
    for part in parts:
        if part in ("&&", "||"):
            operator = part
            continue
        commands = _Words(part, lookup).commands()
        result = _test_words(commands[0]) if len(commands) == 1 else None
        if result is None:
            return None
        if value is None:
            value = result
        elif operator == "&&":
            value = value and result
        else:
            value = value or result
    return value


def _split_then(line: str) -> tuple:
    """For 'if X; then Y' return (X, Y): the condition and what follows 'then'."""
    match = re.search(r"(?:;|\s)\s*then\b(.*)$", line, re.S)
    if match:
        return line[:match.start()].strip(), match.group(1).strip()
    return line.strip(), ""


def _active(frames: list) -> bool:
    return all(frame[0] for frame in frames)


def _in_function(line: str, stripped: str, env: Buildenv, state: list) -> bool:
    """True when the line belongs to a shell function's definition or body (skipped);
    state is [brace depth of the body being skipped, a 'name()' waits for its '{']."""
    if state[0]:
        state[0] = max(0, state[0] + _brace_delta(line))
        return True
    if state[1]:
        state[1] = False
        if stripped.startswith("{"):
            # The body's '{' on the line after 'name()'.
            state[0] = max(1, _brace_delta(line))
            return True
    function = _FUNCTION_START.match(line)
    if not function:
        return False
    env.functions.append(function.group(1) or function.group(2))
    if function.group(3):
        state[0] = 1
    else:
        state[1] = True
    return True


def _decide(condition: str, lookup, env: Buildenv, number: int) -> bool:
    decided = _condition(condition, lookup)
    if decided is None:
        env.warnings.append("line %d: cannot evaluate condition %r; taken as false" % (number, condition))
    return bool(decided)


def _if_line(keyword: str, stripped: str, number: int, frames: list, env: Buildenv, lookup) -> None:
    """An 'if' or 'elif' line: push or replace the frame, run what follows 'then' on the same line."""
    condition, rest = _split_then(stripped[len(keyword):])
    if keyword == "if":
        decided = _decide(condition, lookup, env, number) if _active(frames) else False
        frames.append([decided, decided])
    elif frames:
        frame = frames.pop()
        decided = _decide(condition, lookup, env, number) if _active(frames) and not frame[1] else False
        frames.append([decided, frame[1] or decided])
    if rest and not rest.startswith("#"):
        if rest.rstrip(";").strip() == "fi" or re.search(r"(^|;)\s*fi\s*;?\s*$", rest):
            body = re.sub(r"(^|;)\s*fi\s*;?\s*$", "", rest)
            if _active(frames) and body.strip():
                _run_commands(body, env, lookup)
            if frames:
                frames.pop()
        elif _active(frames):
            _run_commands(rest, env, lookup)


def _interpret(text: str, env: Buildenv, seed: dict) -> None:
    def lookup(name, missing=""):
        if name in env:
            return env[name]
        return seed.get(name, missing)

    # Each frame: [this branch is active, a branch of this if was already taken]
    frames = []
    function_state = [0, False]
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or _in_function(line, stripped, env, function_state):
            continue
        keyword = stripped.split(None, 1)[0].rstrip(";")
        if keyword in ("if", "elif"):
            _if_line(keyword, stripped, number, frames, env, lookup)
        elif keyword == "else":
            if frames:
                frame = frames.pop()
                frames.append([not frame[1], True])
                rest = stripped[4:].strip()
                if rest and _active(frames):
                    _run_commands(rest, env, lookup)
        elif keyword == "fi":
            if frames:
                frames.pop()
        elif keyword not in ("then", "do", "done", "case", "esac", "for", "while", "until") and _active(frames):
            _run_commands(line, env, lookup)


def _brace_delta(line: str) -> int:
    """Net count of '{' minus '}' that stand as shell words (outside quotes)."""

    def past_parameter(index: int) -> int | None:
        # ${...} is a parameter, not a brace group.
        if line[index] == "$" and index + 1 < len(line) and line[index + 1] == "{":
            end = line.find("}", index)
            return end + 1 if end > 0 else len(line)
        return None

    delta = 0
    for index, char in _unquoted(line, skip=past_parameter):
        if char == "#" and (index == 0 or line[index - 1] in " \t"):
            break
        if char == "{":
            delta += 1
        elif char == "}":
            delta -= 1
    return delta


def _run_commands(line: str, env: Buildenv, lookup) -> None:
    for words in _Words(line, lookup).commands():
        _run_command(words, env)


def _run_command(words: list, env: Buildenv) -> None:
    if not words:
        return
    if words[0] in ("export", "readonly", "declare", "typeset", "local"):
        for word in words[1:]:
            if word.startswith("-"):
                continue
            match = _ASSIGNMENT.match(word)
            if match:
                _assign(env, match.group(1), match.group(3), bool(match.group(2)))
        return
    assignments = []
    for index, word in enumerate(words):
        match = _ASSIGNMENT.match(word)
        if not match:
            # 'X=1 cmd' sets X for cmd only, so nothing stays in the environment.
            if index == 0:
                _other_command(words, env)
            return
        assignments.append(match)
    for match in assignments:
        _assign(env, match.group(1), match.group(3), bool(match.group(2)))


def _assign(env: Buildenv, name: str, value: str, append: bool) -> None:
    env[name] = (env.get(name, "") + value) if append else value


def _other_command(words: list, env: Buildenv) -> None:
    command = words[0]
    if command == "unset":
        for name in words[1:]:
            env.pop(name, None)
    elif command == "ln":
        args = [word for word in words[1:] if not word.startswith("-")]
        symbolic = any(word.startswith("-") and "s" in word for word in words[1:])
        if symbolic and len(args) == 2:
            env.links[os.path.normpath(args[1])] = args[0]
    elif command == "rm":
        for name in words[1:]:
            if not name.startswith("-"):
                env.links.pop(os.path.normpath(name), None)
