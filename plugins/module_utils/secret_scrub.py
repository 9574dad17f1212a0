# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Remove secrets and personal data from fix records before anything else sees them.

Tokens, passwords, private keys, e-mail addresses, author names in mail headers and
user names in home-directory paths become fixed placeholders (``<TOKEN>``,
``<PASSWORD>``, ``<PRIVATE_KEY>``, ``<EMAIL>``, ``<NAME>``, ``/home/<USER>``). Every
replacement is counted by kind; the values themselves are never kept or reported.

The patterns are written for source code: ``token = strtok(NULL, " ");`` is code, not a
secret, so generic ``token=`` / ``password=`` assignments only match values that look
like literal credentials. Standard library only.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.autoport.zos.plugins.module_utils.record import MAX_CODE_CHARS, MAX_ERROR_CHARS, MAX_PATCH_CHARS, clip, record_id

# Kinds reported in the counts, in a fixed order for reports.
SCRUB_KINDS = ("private_key", "password", "token", "email", "name", "home_path")

PLACEHOLDERS = {
    "private_key": "<PRIVATE_KEY>",
    "password": "<PASSWORD>",
    "token": "<TOKEN>",
    "email": "<EMAIL>",
    "name": "<NAME>",
    "user": "<USER>",
}

# A whole PEM private key block; a block cut off by record clipping has no END line
# and is removed up to the end of the text.
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)", re.S)

# scheme://user:password@host
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,20}://)([^\s/:@<>'\"]{1,200}):([^\s/@<>'\"]{1,200})@")

# Authorization: Bearer xxx / Basic xxx / token xxx (HTTP headers, curl -H lines).
_AUTH_HEADER = re.compile(r"(\bAuthorization\s*[:=]\s*[\"']?(?:Bearer|Basic|token|Token)\s+)([A-Za-z0-9._~+/=-]{4,})", re.I)

# Provider tokens with a recognisable shape.
_KNOWN_TOKENS = re.compile(
    r"\b(?:"
    r"gh[pousr]_[A-Za-z0-9]{20,255}"  # GitHub classic tokens
    r"|github_pat_[A-Za-z0-9_]{20,255}"  # GitHub fine-grained tokens
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}"  # AWS access key ids
    r"|xox[abposr]-[A-Za-z0-9-]{10,200}"  # Slack tokens
    r"|glpat-[A-Za-z0-9_-]{20,200}"  # GitLab personal tokens
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|sk-[A-Za-z0-9]{32,200}"  # OpenAI-style secret keys
    r")\b"
)

_SECRET_KEY_NAMES = (
    r"(?:api[_-]?key|apikey|api[_-]?token|access[_-]?token|auth[_-]?token|private[_-]?token|refresh[_-]?token"
    r"|client[_-]?secret|secret[_-]?key|secret[_-]?access[_-]?key|token|secret)"
)
_PASSWORD_KEY_NAMES = r"(?:password|passwd|passphrase|pass|pwd)"
# A key is one of the names, optionally prefixed by words joined with '_', '-' or '.'
# (DB_PASSWORD, aws_secret_access_key, git.token), and not followed by more name.
_KEY = r"(?P<key>\b(?:[A-Za-z0-9]+[_.-])*%s)(?![A-Za-z0-9_])"
# Values that are code or configuration words, never credentials.
_NOT_A_VALUE = r"(?![$%<{(])(?!(?:true|false|yes|no|null|none|nil|undefined|required|optional|changeme)\b)"
# A credential-looking value: 8+ characters with both a letter and a digit.
_SECRETISH = r"(?=[A-Za-z0-9_./+~-]*[0-9])(?=[A-Za-z0-9_./+~-]*[A-Za-z])[A-Za-z0-9_./+~=-]{8,200}"

# key = "literal" (JSON, YAML, C, shell): the literal must look like a credential.
_QUOTED_SECRET = re.compile(
    _KEY % _SECRET_KEY_NAMES + r"(?P<sep>[\"']?\s*[:=]\s*)(?P<q>[\"'])" + _NOT_A_VALUE + r"(?P<value>" + _SECRETISH + r")(?P=q)",
    re.I,
)
# password = "literal": any literal of 3+ characters without spaces.
_QUOTED_PASSWORD = re.compile(
    _KEY % _PASSWORD_KEY_NAMES + r"(?P<sep>[\"']?\s*[:=]\s*)(?P<q>[\"'])" + _NOT_A_VALUE + r"(?P<value>[^\"'\s]{3,200})(?P=q)",
    re.I,
)
# key=value without quotes: shell, URL query and config style only (no space before the
# separator), and not code: no call, member access or statement end after the value.
_BARE_SECRET = re.compile(
    _KEY % _SECRET_KEY_NAMES + r"(?P<sep>=|:[ \t]?)" + _NOT_A_VALUE + r"(?P<value>" + _SECRETISH + r")(?![A-Za-z0-9_./+~=(-])(?![ \t]*[;(])",
    re.I,
)
_BARE_PASSWORD = re.compile(
    _KEY % _PASSWORD_KEY_NAMES + r"(?P<sep>=|:[ \t]?)" + _NOT_A_VALUE + r"(?P<value>[^\s\"'&;,()<>{}\[\]]{3,200})(?![^\s\"'&;,()<>{}\[\]])(?![ \t]*[;(])",
    re.I,
)

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})\b")
# Local parts that are service accounts, not people (git@github.com:org/repo.git).
_SERVICE_LOCAL_PARTS = frozenset(("git", "noreply", "no-reply"))

# Author names next to an address in mail and trailer headers.
_NAME_HEADER = re.compile(
    r"^(?P<prefix>[ +-]?(?:From|Author|Signed-off-by|Co-authored-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Cc|To):[ \t]*)"
    r"(?P<name>[^<>\n]{1,120}?)(?P<space>[ \t]*)<",
    re.M | re.I,
)

# Home directories: /u/<user>, /home/<user>, /Users/<user>, C:\Users\<user>, ~user/.
_HOME_PATH = re.compile(r"(?P<root>/(?:u|home|Users|export/home))/(?P<user>(?!<USER>)[A-Za-z0-9._$#@-]{1,64})(?=[/\s\"':;,)\]}>]|$)")
_WINDOWS_HOME = re.compile(r"(?P<root>\b[A-Za-z]:\\(?:Users|Documents and Settings))\\(?P<user>(?!<USER>)[^\\/\s\"':;]{1,64})")


def _replace_assignment(placeholder: str):
    def replace(match):
        quote = match.groupdict().get("q") or ""
        return "%s%s%s%s%s" % (match.group("key"), match.group("sep"), quote, placeholder, quote)

    return replace


def _replace_email(match):
    local = match.group(1)
    if local.lower() in _SERVICE_LOCAL_PARTS:
        return match.group(0)
    return PLACEHOLDERS["email"]


def _replace_name(match):
    name = match.group("name").strip()
    if not name or name == PLACEHOLDERS["name"]:
        return match.group(0)
    return "%s%s%s<" % (match.group("prefix"), PLACEHOLDERS["name"], match.group("space") or " ")


def _replace_home(match):
    return "%s/%s" % (match.group("root"), PLACEHOLDERS["user"])


def _replace_windows_home(match):
    return "%s\\%s" % (match.group("root"), PLACEHOLDERS["user"])


# (kind, lower-case substrings one of which must be present, pattern, replacement) in the
# order they are applied: whole blocks first, then credentials inside URLs and headers,
# then shapes, then personal data. The substrings only skip rules that cannot match.
_RULES = (
    ("private_key", ("private key",), _PRIVATE_KEY, lambda m: PLACEHOLDERS["private_key"]),
    ("password", ("://",), _URL_CREDENTIALS, lambda m: "%s%s:%s@" % (m.group(1), PLACEHOLDERS["user"], PLACEHOLDERS["password"])),
    ("token", ("authorization",), _AUTH_HEADER, lambda m: m.group(1) + PLACEHOLDERS["token"]),
    (
        "token",
        ("gh", "github_pat_", "akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "xox", "glpat-", "aiza", "sk-"),
        _KNOWN_TOKENS,
        lambda m: PLACEHOLDERS["token"],
    ),
    ("password", ("pass", "pwd"), _QUOTED_PASSWORD, _replace_assignment(PLACEHOLDERS["password"])),
    ("password", ("pass", "pwd"), _BARE_PASSWORD, _replace_assignment(PLACEHOLDERS["password"])),
    ("token", ("token", "secret", "key"), _QUOTED_SECRET, _replace_assignment(PLACEHOLDERS["token"])),
    ("token", ("token", "secret", "key"), _BARE_SECRET, _replace_assignment(PLACEHOLDERS["token"])),
    ("name", ("<",), _NAME_HEADER, _replace_name),
    ("email", ("@",), _EMAIL, _replace_email),
    ("home_path", ("/u/", "/home/", "/users/"), _HOME_PATH, _replace_home),
    ("home_path", (":\\",), _WINDOWS_HOME, _replace_windows_home),
)


def empty_counts() -> dict[str, int]:
    """A zero count for every scrub kind."""
    return dict((kind, 0) for kind in SCRUB_KINDS)


def scrub_text(text: str, counts: dict[str, int] | None = None) -> tuple[str, dict[str, int]]:
    """Replace secrets and personal data in one string.

    Returns the cleaned text and the counts (the ``counts`` dict passed in, updated, or a
    new one). Placeholders never match again, so scrubbing twice changes nothing and the
    second pass counts nothing.
    """
    if counts is None:
        counts = empty_counts()
    if not text:
        return text, counts
    for kind, needles, pattern, replacement in _RULES:
        lower = text.lower()
        if any(needle in lower for needle in needles):
            text = pattern.sub(_counting(kind, replacement, counts), text)
    return text, counts


def _counting(kind: str, replacement, counts: dict[str, int]):
    # Count only real replacements: a service address or an existing placeholder comes back unchanged.
    def replace(match):
        new = replacement(match)
        if new != match.group(0):
            counts[kind] = counts.get(kind, 0) + 1
        return new

    return replace


def scrub_value(value: Any, counts: dict[str, int] | None = None) -> tuple[Any, dict[str, int]]:
    """Scrub every string inside a JSON-like value (str, list, dict; keys included)."""
    if counts is None:
        counts = empty_counts()
    if isinstance(value, str):
        return scrub_text(value, counts)
    if isinstance(value, list):
        return [scrub_value(item, counts)[0] for item in value], counts
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            new_key = scrub_text(key, counts)[0] if isinstance(key, str) else key
            cleaned[new_key] = scrub_value(item, counts)[0]
        return cleaned, counts
    return value, counts


def scrub_record(record: dict, recompute_id: bool = True) -> tuple[dict, dict[str, int]]:
    """Scrub every string field of a record and give it a fresh id.

    The id is a hash of fields that may have held a secret, so it is recomputed from the
    cleaned fields (``record.record_id``); ids inside ``seen_in`` cannot be recomputed
    here and are dropped (port and patch file stay).
    """
    cleaned, counts = scrub_value(record)
    if not isinstance(cleaned, dict):
        return cleaned, counts
    if isinstance(cleaned.get("seen_in"), list):
        cleaned["seen_in"] = [
            dict((key, value) for key, value in entry.items() if key != "id") if isinstance(entry, dict) else entry for entry in cleaned["seen_in"]
        ]
    # A placeholder can be longer than what it replaced: clip to the schema limits again.
    for name, limit in (("wrong_code", MAX_CODE_CHARS), ("correct_code", MAX_CODE_CHARS), ("error", MAX_ERROR_CHARS), ("patch", MAX_PATCH_CHARS)):
        if isinstance(cleaned.get(name), str) and len(cleaned[name]) > limit:
            cleaned[name] = clip(cleaned[name], limit)
    if recompute_id:
        cleaned["id"] = record_id(cleaned)
    return cleaned, counts


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Add one count dict into another (in place) and return it."""
    for kind, number in more.items():
        total[kind] = total.get(kind, 0) + number
    return total
