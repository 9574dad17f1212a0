# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Remove secrets and personal data from text before it is kept anywhere.

Tokens, passwords, user ids, private keys, e-mail addresses, author names in mail
headers and user names in home-directory paths become fixed placeholders (``<TOKEN>``,
``<PASSWORD>``, ``<USER>``, ``<PRIVATE_KEY>``, ``<EMAIL>``, ``<NAME>``,
``/home/<USER>``). Every replacement is counted by kind; the values themselves are
never kept or reported.

What is recognised: PEM, OpenSSH and PGP private key blocks; JWTs; the token shapes of
GitHub, GitLab, Slack (tokens and webhook URLs), npm, PyPI, Hugging Face, AWS, Azure
(``AccountKey=``, SAS ``sig=``), GCP (``AIza`` keys, OAuth tokens, service-account
``private_key``), Stripe and OpenAI; credentials in URLs, ``Authorization`` headers,
``curl -u``, ``--password``-style flags, ``.netrc``; z/OS TSO ``LOGON user/pass``,
RACF ``PASSWORD(...)``, JCL ``USER=``/``PASSWORD=`` on JOB cards, Zowe and z/OSMF
credentials; ``key = value`` assignments whose value looks like a credential; and
high-entropy strings right after a word such as key, token, secret or password.

The patterns are written for source code: ``token = strtok(NULL, " ");`` is code, not a
secret, so generic ``token=`` / ``password=`` assignments only match values that look
like literal credentials. ``scrub_file`` cleans a build log in place. Standard library
only (this runs on build hosts).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

# Kinds reported in the counts, in a fixed order for reports.
SCRUB_KINDS = ("private_key", "password", "token", "user", "email", "name", "home_path")

PLACEHOLDERS = {
    "private_key": "<PRIVATE_KEY>",
    "password": "<PASSWORD>",
    "token": "<TOKEN>",
    "email": "<EMAIL>",
    "name": "<NAME>",
    "user": "<USER>",
}
_P = PLACEHOLDERS

# A whole private key block (PEM, OpenSSH, PGP); a block cut off by clipping has no END
# line and is removed up to the end of the text.
_KEY_MARK = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PRIVATE_KEY = re.compile(r"-----BEGIN " + _KEY_MARK + r"(?:.*?-----END " + _KEY_MARK + r"|.*\Z)", re.S)

# Slack incoming webhooks: the path is the secret.
_SLACK_WEBHOOK = re.compile(r"(https?://hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9/_-]{8,}")

# scheme://user:password@host
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,20}://)([^\s/:@<>'\"]{1,200}):([^\s/@<>'\"]{1,200})@")

# Authorization: Bearer xxx / Basic xxx / token xxx (HTTP headers, curl -H lines), and a
# bare "Bearer <long token>".
_AUTH_HEADER = re.compile(r"(\bAuthorization\s*[:=]\s*[\"']?(?:Bearer|Basic|token|Token|Negotiate)\s+)([A-Za-z0-9._~+/=-]{4,})", re.I)
_BEARER = re.compile(r"(\bBearer\s+)(?!<)([A-Za-z0-9._~+/=-]{16,})", re.I)

# JSON Web Tokens: base64url header and payload, both JSON objects ("eyJ" = '{"').
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")

# Provider tokens with a recognisable shape.
_KNOWN_TOKENS = re.compile(
    r"\b(?:"
    r"gh[pousr]_[A-Za-z0-9]{20,255}"  # GitHub classic tokens
    r"|github_pat_[A-Za-z0-9_]{20,255}"  # GitHub fine-grained tokens
    r"|gl(?:pat|dt|rt|ptt|cbt|ft|oas|soat|agent)-[A-Za-z0-9_-]{20,200}"  # GitLab tokens
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}"  # AWS access key ids
    r"|xox[abposre]-[A-Za-z0-9-]{10,200}|xapp-[0-9]-[A-Za-z0-9-]{10,200}"  # Slack tokens
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{20,}"  # Google OAuth tokens and client secrets
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,200}"  # OpenAI / Anthropic-style secret keys
    r"|npm_[A-Za-z0-9]{36}"  # npm access tokens
    r"|pypi-[A-Za-z0-9_-]{50,}"  # PyPI API tokens
    r"|hf_(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{30,}"  # Hugging Face tokens
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,}"  # Stripe keys
    r")\b"
)
_KNOWN_TOKEN_NEEDLES = (
    "gh", "github_pat_", "gl", "akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "xox", "xapp-", "aiza", "ya29.", "gocspx-",
    "sk-", "npm_", "pypi-", "hf_", "_live_", "_test_", "whsec_",
)

# Azure storage and service-bus connection strings, and SAS signatures in URLs.
_AZURE_KEY = re.compile(r"\b((?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=)(?!<)([^;\"'\s]{8,})", re.I)
_SAS_SIG = re.compile(r"([?&;]sig=)(?!<)([A-Za-z0-9%/+=_-]{16,})")

# npm configuration: //registry/:_authToken=..., _auth=..., _password=... (.npmrc).
_NPMRC = re.compile(r"(?<![A-Za-z0-9])(_authToken|_auth|_password)(\s*=\s*)(?![$<{])([^\s\"']+)")

# Session cookies of z/OSMF and other WebSphere Liberty servers.
_COOKIES = re.compile(r"\b((?:LtpaToken2?|jwtToken|JSESSIONID)=)(?!<)([^;\s\"']{8,})")

# Start of a command word, also right after an escaped newline or tab (JSON or C string
# text: "...\ncurl -u ...").
_W = r"(?:\b|(?<=\\[nrt]))"

# curl -u user:password (and --user, -U/--proxy-user): the pair is a credential.
_CURL_USER = re.compile(_W + r"(curl\b[^\n]*?\s(?:-u|--user|-U|--proxy-user)(?:[ \t]+|=))([\"']?)(?![$<{])([^\s:\"']+):([^\s\"']+)\2")
# --password X, --pw X (Zowe), --passwd, --token-value X ...: the next word is the secret.
_FLAG_SECRET = re.compile(
    r"(?<![\w-])(--(?:password|passwd|pass|pw|passphrase|token-value|token|api-key|secret|client-secret)(?:[ \t]+|=))([\"']?)(?![$<{-])([^\s\"']+)\2", re.I
)
# Zowe: --user X / -u X on a zowe command line, and the user variables of its profiles.
_ZOWE_USER = re.compile(_W + r"(zowe\b[^\n]*?\s(?:--user|-u)[ \t]+)([\"']?)(?![$<{-])([^\s\"']+)\2")
_ZOWE_USER_VAR = re.compile(r"\b((?:ZOWE_OPT_USER|ZOSMF_USER(?:ID)?|ZOWE_USER)\s*[=:]\s*)([\"']?)(?![$<{])([A-Za-z0-9@#$._-]{1,64})\2")
# .netrc: "machine host login user password secret", on one line or one word per line.
_NETRC_INLINE = re.compile(_W + r"(machine\s+\S+(?:\s+(?:login|account|port)\s+\S+)*?\s+password\s+)(?![$<{])(\S+)")
_NETRC_LOGIN = re.compile(_W + r"(machine\s+\S+\s+login\s+)(?![$<{])(\S+)")
_NETRC_LINE = re.compile(r"(?m)^([+ -]?[ \t]*password[ \t]+)(?![$<{])(\S+)[ \t]*$")

# z/OS. TSO LOGON userid/password, RACF and TSO operands PASSWORD(x) / PHRASE('x'),
# JCL JOB cards USER=id,PASSWORD=pw (also PASSWORD=(old,new)).
_TSO_LOGON = re.compile(_W + r"(LOGON[ \t]+)(?!<)([A-Za-z0-9@#$]{1,8})/([^\s/\"',]{1,100})", re.I)
_RACF_PASSWORD = re.compile(r"\b((?:PASSWORD|PASSWD|PASSPHRASE|PHRASE|NEWPASS|NEWPASSWORD)\(\s*)([\"']?)(?![$<{)])([^)\"'\n]{1,100})\2(\s*\))")
_JCL_USER = re.compile(r"(?m)((?:^[+ -]?//|\bJOB\b)[^\n]*?[\s,]USER=)(?!<)([A-Za-z0-9@#$]{1,8})(?![A-Za-z0-9@#$])")
_JCL_PASSWORD = re.compile(r"(?m)((?:^[+ -]?//|\bJOB\b)[^\n]*?[\s,]PASSWORD=)(?![<(])([A-Za-z0-9@#$]{1,8})(?![A-Za-z0-9@#$])")
_JCL_PASSWORD_PAIR = re.compile(r"\b(PASSWORD=)\((?!<)([^)\s]{1,100})\)", re.I)

_SECRET_KEY_NAMES = (
    r"(?:api[_-]?key|apikey|api[_-]?token|access[_-]?token|auth[_-]?token|private[_-]?token|refresh[_-]?token|session[_-]?token"
    r"|client[_-]?secret|secret[_-]?key|secret[_-]?access[_-]?key|access[_-]?key(?:[_-]?id)?|account[_-]?key|private[_-]?key(?:[_-]?id)?"
    r"|credentials?|token|secret)"
)
_PASSWORD_KEY_NAMES = r"(?:password|passwd|passphrase|pass|pwd)"
# A key is one of the names, not inside a longer word but possibly after words joined
# with '_', '-' or '.' (DB_PASSWORD, aws_secret_access_key, git.token; those words stay
# outside the match, which keeps the regex linear), and not followed by more name.
# (The first-letter lookahead only makes the scan faster: every name starts with one.)
_KEY = r"(?=[acprst])(?<![A-Za-z0-9])(?P<key>%s)(?![A-Za-z0-9_])"
# Values that are code or configuration words, never credentials.
_NOT_A_VALUE = r"(?![$%<{(\\])(?!(?:true|false|yes|no|null|none|nil|undefined|required|optional|changeme)\b)"
# A credential-looking value: 8+ characters with both a letter and a digit.
_SECRETISH = r"(?=[A-Za-z0-9_./+~-]*[0-9])(?=[A-Za-z0-9_./+~-]*[A-Za-z])[A-Za-z0-9_./+~=-]{8,200}"

# Separator and opening quote of a quoted value; quotes may be escaped (JSON inside a C
# string literal: \"key\": \"value\").
_QUOTED_SEP = r"(?P<sep>\\{0,3}[\"']?\s*[:=]\s*)(?P<q>\\{0,3}[\"'])"

# key = "literal" (JSON, YAML, C, shell): the literal must look like a credential.
_QUOTED_SECRET = re.compile(
    _KEY % _SECRET_KEY_NAMES + _QUOTED_SEP + _NOT_A_VALUE + r"(?P<value>" + _SECRETISH + r")(?P=q)",
    re.I,
)
# password = "literal": any literal of 3+ characters without spaces.
_QUOTED_PASSWORD = re.compile(
    _KEY % _PASSWORD_KEY_NAMES + _QUOTED_SEP + _NOT_A_VALUE + r"(?P<value>[^\"'\s]{3,200})(?P=q)",
    re.I,
)
# key=value without quotes: shell, URL query and config style only (no space before the
# separator), and not code: no call, member access or statement end after the value.
_BARE_SECRET = re.compile(
    _KEY % _SECRET_KEY_NAMES + r"(?P<sep>=|:[ \t]?)" + _NOT_A_VALUE + r"(?P<value>" + _SECRETISH + r")(?![A-Za-z0-9_./+~=(-])(?![ \t]*[;(])",
    re.I,
)
# ("PASS: t/t0001.sh" is a test harness line, not a password.)
_BARE_PASSWORD = re.compile(
    r"(?!pass:)" + _KEY % _PASSWORD_KEY_NAMES + r"(?P<sep>=|:[ \t]?)" + _NOT_A_VALUE
    + r"(?!\\)(?P<value>[^\s\"'&;,()<>{}\[\]]{3,200})(?![^\s\"'&;,()<>{}\[\]])(?![ \t]*[;(])",
    re.I,
)

# A long random-looking string right after a word naming a credential
# ("export KEY=...", "token: ...", "secret ..."): judged by its entropy (see _high_entropy).
_NEAR_WORD = re.compile(
    r"(?=[ktspca])(?P<key>(?:key|token|secret|passw(?:or)?d|passphrase|credential|auth)[A-Za-z0-9_]*)"
    r"(?P<sep>(?=[\\\"' \t:=])\\{0,2}[\"']?[ \t]{0,3}[:=]?[ \t]{0,3}\\{0,2}[\"']?)"
    r"(?P<value>(?![<$%{])[A-Za-z0-9+/=_.~-]{20,400})(?![A-Za-z0-9+/=_.~-])(?![ \t]*\()",
    re.I,
)
MIN_ENTROPY = 3.5

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


def entropy(text: str) -> float:
    """Shannon entropy of a string in bits per character."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = float(len(text))
    return -sum((n / size) * math.log(n / size, 2) for n in counts.values())


def _random_looking(value: str) -> bool:
    # A credential mixes classes and repeats little; identifiers, paths, words and
    # version strings do not (hash_table_lookup_2, /usr/lib/x86_64, 1.2.3-beta).
    if not (re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)):
        return False
    if "_" in value and all(re.fullmatch(r"[A-Z0-9]*|[a-z0-9]+|[A-Z][a-z0-9]+", part) for part in value.split("_")):
        return False  # an identifier made of words: EC_KEY_get0_private_key, MAX_KEY_LEN_2
    if value.startswith(("/", "./", "../")) or value.count(".") >= 2 or value.count("-") >= 3:
        return False
    if "/" in value and all(re.fullmatch(r"[a-z0-9_.+-]*|[A-Z0-9_.+-]*", part) for part in value.split("/")):
        return False  # a relative path: lib/x86_64-linux-gnu/libz.so
    return entropy(value) >= MIN_ENTROPY


def _high_entropy(match):
    if not _random_looking(match.group("value")):
        return match.group(0)
    return "%s%s%s" % (match.group("key"), match.group("sep"), _P["token"])


def _replace_assignment(placeholder: str):
    def replace(match):
        quote = match.groupdict().get("q") or ""
        return "%s%s%s%s%s" % (match.group("key"), match.group("sep"), quote, placeholder, quote)

    return replace


def _replace_email(match):
    local = match.group(1)
    if local.lower() in _SERVICE_LOCAL_PARTS:
        return match.group(0)
    return _P["email"]


def _replace_name(match):
    name = match.group("name").strip()
    if not name or name == _P["name"]:
        return match.group(0)
    return "%s%s%s<" % (match.group("prefix"), _P["name"], match.group("space") or " ")


def _after(group_count: int, placeholder: str):
    # Keep groups 1..group_count (the words around a secret), then the placeholder.
    return lambda m: "".join(m.group(i) or "" for i in range(1, group_count + 1)) + placeholder


def _quoted(placeholder: str):
    # (prefix)(quote)(value)quote -> prefix quote placeholder quote
    return lambda m: "%s%s%s%s" % (m.group(1), m.group(2), placeholder, m.group(2))


# (kind, lower-case substrings one of which must be present, pattern, replacement) in the
# order they are applied: whole blocks first, then credentials inside URLs, headers and
# commands, then shapes, then assignments, then personal data. The substrings only skip
# rules that cannot match.
_PASS_NEEDLES = ("pass", "pwd")
_SECRET_NEEDLES = ("token", "secret", "key", "credential")
_RULES = (
    ("private_key", ("private key",), _PRIVATE_KEY, lambda m: _P["private_key"]),
    ("token", ("hooks.slack.com",), _SLACK_WEBHOOK, lambda m: m.group(1) + "services/" + _P["token"]),
    ("password", ("://",), _URL_CREDENTIALS, lambda m: "%s%s:%s@" % (m.group(1), _P["user"], _P["password"])),
    ("token", ("authorization",), _AUTH_HEADER, _after(1, _P["token"])),
    ("token", ("bearer",), _BEARER, _after(1, _P["token"])),
    ("token", ("eyj",), _JWT, lambda m: _P["token"]),
    ("token", _KNOWN_TOKEN_NEEDLES, _KNOWN_TOKENS, lambda m: _P["token"]),
    ("token", ("accountkey", "sharedaccess", "sharedsecret"), _AZURE_KEY, _after(1, _P["token"])),
    ("token", ("sig=",), _SAS_SIG, _after(1, _P["token"])),
    ("token", ("_auth", "_password"), _NPMRC, _after(2, _P["token"])),
    ("token", ("ltpatoken", "jwttoken", "jsessionid"), _COOKIES, _after(1, _P["token"])),
    ("password", ("curl",), _CURL_USER, lambda m: "%s%s%s:%s%s" % (m.group(1), m.group(2), _P["user"], _P["password"], m.group(2))),
    ("password", ("--",), _FLAG_SECRET, _quoted(_P["password"])),
    ("user", ("zowe",), _ZOWE_USER, _quoted(_P["user"])),
    ("user", ("zowe_", "zosmf_"), _ZOWE_USER_VAR, _quoted(_P["user"])),
    ("password", ("machine",), _NETRC_INLINE, _after(1, _P["password"])),
    ("user", ("machine",), _NETRC_LOGIN, _after(1, _P["user"])),
    ("password", ("password",), _NETRC_LINE, _after(1, _P["password"])),
    ("password", ("logon",), _TSO_LOGON, lambda m: "%s%s/%s" % (m.group(1), _P["user"], _P["password"])),
    ("password", ("pass", "phrase"), _RACF_PASSWORD, lambda m: "%s%s%s%s%s" % (m.group(1), m.group(2), _P["password"], m.group(2), m.group(4))),
    ("user", ("user=",), _JCL_USER, _after(1, _P["user"])),
    ("password", ("password=",), _JCL_PASSWORD, _after(1, _P["password"])),
    ("password", ("password=",), _JCL_PASSWORD_PAIR, lambda m: m.group(1) + _P["password"]),
    ("password", _PASS_NEEDLES, _QUOTED_PASSWORD, _replace_assignment(_P["password"])),
    ("password", _PASS_NEEDLES, _BARE_PASSWORD, _replace_assignment(_P["password"])),
    ("token", _SECRET_NEEDLES, _QUOTED_SECRET, _replace_assignment(_P["token"])),
    ("token", _SECRET_NEEDLES, _BARE_SECRET, _replace_assignment(_P["token"])),
    ("token", _SECRET_NEEDLES + _PASS_NEEDLES + ("auth",), _NEAR_WORD, _high_entropy),
    ("name", ("<",), _NAME_HEADER, _replace_name),
    ("email", ("@",), _EMAIL, _replace_email),
    ("home_path", ("/u/", "/home/", "/users/"), _HOME_PATH, lambda m: "%s/%s" % (m.group("root"), _P["user"])),
    ("home_path", (":\\",), _WINDOWS_HOME, lambda m: "%s\\%s" % (m.group("root"), _P["user"])),
)

# Every needle of every rule: text without any of them has nothing to scrub.
_ALL_NEEDLES = tuple(sorted(set(needle for rule in _RULES for needle in rule[1])))
# Rules whose match can span lines; every other rule works on one line at a time.
_MULTI_LINE = frozenset((id(_PRIVATE_KEY), id(_NETRC_INLINE), id(_NETRC_LOGIN)))
# Texts longer than this (logs) are scrubbed line by line: a rule runs only on the lines
# that hold one of its needles, so a needle on one line does not make it scan the rest.
_LINE_MODE_CHARS = 16384


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
    lower = text.lower()
    # Needles are looked for once: placeholders never bring a rule anything to replace.
    present = frozenset(needle for needle in _ALL_NEEDLES if needle in lower)
    if not present:
        return text, counts
    # (str.lower keeps the length of nearly every text; line mode needs equal offsets.)
    by_line = len(text) > _LINE_MODE_CHARS and len(lower) == len(text)
    for kind, needles, pattern, replacement in _RULES:
        if present.isdisjoint(needles):
            continue
        substitute = _counting(kind, replacement, counts)
        if by_line and id(pattern) not in _MULTI_LINE:
            new = _sub_lines(text, lower, needles, pattern, substitute)
        else:
            new = pattern.sub(substitute, text)
        if new != text:
            text = new
            lower = text.lower()
            by_line = by_line and len(lower) == len(text)
    return text, counts


def _sub_lines(text: str, lower: str, needles, pattern, substitute) -> str:
    # pattern.sub on each line that holds a needle, the other lines untouched.
    starts = set()
    for needle in needles:
        at = lower.find(needle)
        while at >= 0:
            start = lower.rfind("\n", 0, at) + 1
            starts.add(start)
            end = lower.find("\n", at)
            at = lower.find(needle, end) if end >= 0 else -1
    pieces = []
    done = 0
    for start in sorted(starts):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        pieces.append(text[done:start])
        pieces.append(pattern.sub(substitute, text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


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


# scrub_file reads this much at a time; a private key block open at the end of a chunk
# is completed (up to _MAX_KEY_BLOCK more bytes) so it is removed whole.
_FILE_CHUNK = 1024 * 1024
_MAX_KEY_BLOCK = 256 * 1024
_OPEN_KEY_BLOCK = re.compile(r"-----BEGIN " + _KEY_MARK + r"(?:(?!-----END ).)*\Z", re.S)


def _redact(text: str, literals, counts: dict[str, int]) -> str:
    for literal in literals:
        if literal and literal in text:
            counts["token"] = counts.get("token", 0) + text.count(literal)
            text = text.replace(literal, _P["token"])
    return text


def scrub_file(path: str, counts: dict[str, int] | None = None, literals=()) -> dict[str, int]:
    """Scrub a text file (a build log) in place, in bounded memory; returns the counts.

    ``literals`` are values removed word for word as well (the credentials a harvest
    hands to its builds); the longest go first.

    Bytes are read as latin-1, so any encoding round-trips unchanged except where a
    secret was replaced; the file is rewritten (through a temporary file and a rename)
    only when something was replaced.
    """
    if counts is None:
        counts = empty_counts()
    literals = sorted((str(value).encode("utf-8").decode("latin-1") for value in literals if value), key=len, reverse=True)
    before = sum(counts.values())
    temp = "%s.scrub-%d" % (path, os.getpid())
    try:
        with open(path, "rb") as source, open(temp, "wb") as target:
            carry = b""
            while True:
                data = source.read(_FILE_CHUNK)
                chunk = carry + data
                if data:
                    # Cut at the last newline; keep an open key block whole.
                    cut = chunk.rfind(b"\n") + 1
                    text = chunk[:cut].decode("latin-1")
                    if _OPEN_KEY_BLOCK.search(text[-_MAX_KEY_BLOCK:]) and len(chunk) < _FILE_CHUNK + _MAX_KEY_BLOCK:
                        carry = chunk
                        continue
                    if cut == 0 and len(chunk) < 4 * _FILE_CHUNK:
                        carry = chunk
                        continue
                    cut = cut or len(chunk)
                    carry = chunk[cut:]
                    chunk = chunk[:cut]
                text = _redact(chunk.decode("latin-1"), literals, counts)
                target.write(scrub_text(text, counts)[0].encode("latin-1"))
                if not data:
                    break
        if sum(counts.values()) != before:
            os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return counts


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Add one count dict into another (in place) and return it."""
    for kind, number in more.items():
        total[kind] = total.get(kind, 0) + number
    return total
