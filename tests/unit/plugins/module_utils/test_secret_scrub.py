from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import record as rec
from ansible_collections.autoport.zos.plugins.module_utils.record import scrub_record
from ansible_collections.autoport.zos.plugins.module_utils import secret_scrub
from ansible_collections.autoport.zos.plugins.module_utils.secret_scrub import SCRUB_KINDS, empty_counts, scrub_text, scrub_value

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
FINE_GRAINED = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz\nq1w2e3r4t5y6\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    "text, secret, placeholder, kind",
    [
        ("export GITHUB_TOKEN=%s" % GITHUB_TOKEN, GITHUB_TOKEN, "<TOKEN>", "token"),
        ("curl -H 'Authorization: token %s' x" % FINE_GRAINED, FINE_GRAINED, "<TOKEN>", "token"),
        ("aws_access_key_id = %s" % AWS_KEY, AWS_KEY, "<TOKEN>", "token"),
        ("curl -H 'Authorization: Bearer eyJhbGciOi.J9x8y7z6' https://api", "eyJhbGciOi.J9x8y7z6", "<TOKEN>", "token"),
        ("https://example.com/api?api_key=9f8e7d6c5b4a3210&x=1", "9f8e7d6c5b4a3210", "<TOKEN>", "token"),
        ('{"client_secret": "s3cr3tValue42"}', "s3cr3tValue42", "<TOKEN>", "token"),
        ("token=abc123def456ghi789", "abc123def456ghi789", "<TOKEN>", "token"),
        ("git clone https://alice:hunter2pw@github.com/org/repo.git", "hunter2pw", "<PASSWORD>", "password"),
        ("DB_PASSWORD=Tr0ub4dor", "Tr0ub4dor", "<PASSWORD>", "password"),
        ('const char *password = "letmein";', "letmein", "<PASSWORD>", "password"),
        ("+" + PRIVATE_KEY.replace("\n", "\n+"), "MIIEowIBAAKCAQEAxyz", "<PRIVATE_KEY>", "private_key"),
        ("Reported by jane.doe@example.org on the list", "jane.doe@example.org", "<EMAIL>", "email"),
        ("From: Jane Doe <jane@example.org>", "Jane Doe", "<NAME>", "name"),
        ("/u/ibmuser/zopen/dev/curlport/lib/x.c:12: error", "ibmuser", "/u/<USER>/", "home_path"),
        ("-I/home/alice/include -L/Users/bob/lib", "alice", "/home/<USER>/", "home_path"),
        ("C:\\Users\\carol\\src\\main.c", "carol", "\\<USER>\\", "home_path"),
    ],
)
def test_each_kind_becomes_its_placeholder_and_is_counted(text, secret, placeholder, kind):
    cleaned, counts = scrub_text(text)
    assert secret not in cleaned
    assert placeholder in cleaned
    assert counts[kind] >= 1
    # Scrubbing the result again changes nothing and counts nothing.
    again, more = scrub_text(cleaned)
    assert again == cleaned
    assert sum(more.values()) == 0


def test_private_key_cut_off_by_clipping_is_removed_to_the_end():
    text = "+key data follows\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n... [truncated]\n"
    cleaned, counts = scrub_text(text)
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in cleaned
    assert cleaned.startswith("+key data follows\n<PRIVATE_KEY>")
    assert counts["private_key"] == 1


@pytest.mark.parametrize(
    "code",
    [
        'token = strtok(NULL, " ");',
        "char *token = next_token(p);",
        "if (password == NULL)",
        "password = getpass(prompt);",
        "int pwd = getpwd();",
        "x = secret_key;",
        'static const char *keyword_token = "return";',
        "#define PASS_THROUGH 1",
        "lt_cv_deplibs_check_method=pass_all",
        "pass: true",
        "git@github.com:zopencommunity/curlport.git",
        "password=$PASSWORD_FROM_ENV",
        "/usr/include/stdio.h",
    ],
)
def test_code_that_only_looks_like_a_secret_is_left_alone(code):
    cleaned, counts = scrub_text(code)
    assert cleaned == code
    assert sum(counts.values()) == 0


def test_scrub_value_reaches_nested_strings_and_keys():
    value = {"system": {"home": "/home/dave/build", "/home/erin/x": 1}, "list": ["token=zz99yy88xx77ww66"], "n": 3}
    cleaned, counts = scrub_value(value)
    assert cleaned == {"system": {"home": "/home/<USER>/build", "/home/<USER>/x": 1}, "list": ["token=<TOKEN>"], "n": 3}
    assert counts["home_path"] == 2 and counts["token"] == 1
    assert set(counts) == set(SCRUB_KINDS)


def _record(**over):
    fields = dict(
        port="curlport",
        patch_file="stable-patches/lib_url.c.patch",
        file="lib/url.c",
        hunk=1,
        phase="build",
        toolchain="clang",
        provenance="build",
        error="/u/ibmuser/curl/lib/url.c:10:5: error: use of undeclared identifier 'X' token=%s" % GITHUB_TOKEN,
        error_category="undeclared-identifier",
        wrong_code="int a = X;\n",
        correct_code="#define X 1\nint a = X;\n",
        patch="--- a/lib/url.c\n+++ b/lib/url.c\n@@ -1 +1,2 @@\n+#define X 1\n int a = X;\n",
    )
    fields.update(over)
    # A record from outside (curate's input): never scrubbed, so built without make_record.
    record = dict(fields, port_commit=None)
    record["id"] = rec.record_id(record)
    return record


def test_scrub_record_recomputes_the_id_from_clean_fields():
    original = _record()
    cleaned, counts = scrub_record(original)
    assert GITHUB_TOKEN not in cleaned["error"] and "ibmuser" not in cleaned["error"]
    assert counts["token"] == 1 and counts["home_path"] == 1
    assert cleaned["id"] != original["id"]
    assert cleaned["id"] == rec.record_id(cleaned)
    assert rec.validate_record(cleaned) == []
    # The input record is not modified.
    assert GITHUB_TOKEN in original["error"]


def test_scrub_record_drops_ids_inside_seen_in_and_keeps_places():
    record = dict(_record(), seen_in=[{"port": "curlport", "patch_file": "p/a.patch", "id": "ab" * 16}, {"port": "gitport", "patch_file": "p/b.patch"}])
    cleaned = scrub_record(record)[0]
    assert cleaned["seen_in"] == [{"port": "curlport", "patch_file": "p/a.patch"}, {"port": "gitport", "patch_file": "p/b.patch"}]


def test_placeholder_longer_than_secret_is_clipped_back_to_the_schema_limit():
    # "pass" (4 chars) becomes "<PASSWORD>" (10): a field at its limit must be clipped again.
    code = 'char *password = "pass";\n'
    filler = "x" * (rec.MAX_CODE_CHARS - len(code))
    record = dict(_record(), correct_code=filler + code)
    assert len(record["correct_code"]) == rec.MAX_CODE_CHARS
    cleaned, counts = scrub_record(record)
    assert counts["password"] == 1
    assert len(cleaned["correct_code"]) <= rec.MAX_CODE_CHARS
    assert rec.validate_record(cleaned) == []


def test_huge_text_is_scrubbed_in_reasonable_work():
    # Patterns are linear: a 2 MB blob with many near-misses must not hang.
    blob = ("token = value;\n/home/\n-----BEGIN X PRIVATE KEY-----\n" + "a@b " * 50) * 4000
    cleaned, counts = scrub_text(blob)
    assert counts["private_key"] == 1  # the first unterminated block runs to the end
    assert len(cleaned) < len(blob)


# ---------------------------------------------------------------------------
# Every kind of the planted-secret catalogue (tests/planted_secrets.py)

_HERE = Path(__file__).resolve()
if str(_HERE.parents[3]) not in sys.path:
    sys.path.insert(0, str(_HERE.parents[3]))
from planted_secrets import ALL_SECRETS, CATALOGUE  # noqa: E402


@pytest.mark.parametrize("kind, text, secrets", CATALOGUE, ids=[entry[0] for entry in CATALOGUE])
def test_every_planted_kind_is_removed_counted_and_stable(kind, text, secrets):
    # As written, as patch lines, inside a log line, and escaped inside a C or JSON string
    # (a compiler echoing an #error line; a record or an event holding the text).
    variants = (text, "+" + text.replace("\n", "\n+"), "build.log: %s; exit 1" % text, "#error " + json.dumps(text),
                json.dumps({"log": "a\n%s\nb" % text}), json.dumps(json.dumps(text)))
    for variant in variants:
        cleaned, counts = scrub_text(variant)
        for secret in secrets:
            assert secret not in cleaned, (kind, cleaned)
        assert sum(counts.values()) >= 1
        again, more = scrub_text(cleaned)
        assert again == cleaned and sum(more.values()) == 0


def test_the_whole_catalogue_in_one_text_leaves_nothing():
    text = "\n".join(entry[1] for entry in CATALOGUE)
    cleaned = scrub_text(text)[0]
    assert [secret for secret in ALL_SECRETS if secret in cleaned] == []


@pytest.mark.parametrize(
    "code",
    [
        "priv_key = EC_KEY_get0_private_key(eckey);",
        "pubkey = EC_KEY_get0_public_key(eckey);",
        "docker run -u 1000:1000 image",
        "cc -u __start_main -o prog main.o",
        "echo $TOKEN | docker login --password-stdin",
        " * The password is checked by the caller.",
        "key = lookup_key_in_hash_table_2(table, name);",
        "token_len = strlen(token_start_pointer_value_1);",
        "export PKG_CONFIG_PATH=/usr/lib/x86_64-linux-gnu/pkgconfig",
        "key: lib/x86_64-linux-gnu/libcrypto.so.3",
        "ERROR CCN3045 ./../../c/jwk.c:214   Undeclared identifier HTTP_CLIENT_EWOULDBLOCK.",
        "//SYSIN DD *",
        "USER=$(id -un)",
        "LOGON PROC",
    ],
)
def test_more_code_that_only_looks_like_a_secret_is_left_alone(code):
    cleaned, counts = scrub_text(code)
    assert cleaned == code
    assert sum(counts.values()) == 0


# Secret kinds: replacements of these in real port patches and z/OS messages are false
# positives (the corpus holds no credentials). Personal data (names, addresses in mail
# headers, home paths) is really there and is expected to be replaced.
SECRET_KINDS = ("private_key", "token", "user")


def test_real_port_patches_and_zos_messages_give_almost_no_false_positives(corpus_ports, zos_messages, repo_root):
    totals = empty_counts()
    texts = 0
    for path in sorted(corpus_ports.rglob("*.patch")):
        scrub_text(path.read_bytes().decode("utf-8", "replace"), totals)
        texts += 1
    for line in zos_messages.read_text(encoding="utf-8").splitlines():
        scrub_text(json.loads(line)["message"], totals)
        texts += 1
    for path in sorted((repo_root / "samples").rglob("*")):
        if path.is_file() and not path.name.endswith(".gz"):
            scrub_text(path.read_bytes().decode("utf-8", "replace"), totals)
            texts += 1
    print("false-positive check over %d texts: %s" % (texts, totals))
    assert texts > 500
    assert sum(totals[kind] for kind in SECRET_KINDS) == 0, totals
    # Test passwords written as literals ("pass") in librdkafka's test code: 8 today.
    assert totals["password"] <= 10, totals


def test_scrub_file_removes_a_key_block_across_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(secret_scrub, "_FILE_CHUNK", 64)
    log = tmp_path / "build.log"
    body = "\n".join("line %d: cc -c x%d.c" % (i, i) for i in range(40))
    text = "%s\n%s\nexport GITHUB_TOKEN=%s\n%s\n" % (body, CATALOGUE[2][1], GITHUB_TOKEN, body)
    log.write_bytes(text.encode("utf-8") + b"\xff\xfe latin-1 bytes stay\n")
    counts = secret_scrub.scrub_file(str(log))
    data = log.read_bytes()
    assert counts["private_key"] == 1 and counts["token"] == 1
    assert GITHUB_TOKEN.encode() not in data and b"PlantedKeyBody" not in data
    assert data.startswith(body.encode()) and data.endswith(b"\xff\xfe latin-1 bytes stay\n")
    # A clean file is left as it is (not rewritten).
    before = log.stat().st_mtime_ns
    assert sum(secret_scrub.scrub_file(str(log)).values()) == 0
    assert log.stat().st_mtime_ns == before and log.read_bytes() == data


def test_build_log_lines_stay_as_they_are():
    # Test-harness and make output that names passes and keys (scrub_file runs on whole logs).
    lines = [
        "PASS: t/t4071-wait4.sh 4071 - wait4 works",
        "XPASS: tests/regex.sh",
        "FAIL: sk_count_high (expected 3, got 2)",
        "checking for pthread_key_create... yes",
        "make[2]: Entering directory '/build/strkit-1.2/src'",
        "src/hash.c:12:5: error: implicit declaration of function 'strlcpy'",
    ]
    text = "\n".join(lines) + "\n"
    assert scrub_text(text) == (text, empty_counts())


def test_long_texts_scrubbed_line_by_line_give_what_short_ones_give():
    filler = "".join("src/x%d.c:%d:1: warning: unused variable 'n' [-Wunused-variable]\n" % (i, i) for i in range(300))
    parts = [filler + text + "\n" for _kind, text, _found in CATALOGUE]
    long_text = "".join(parts)
    assert len(long_text) > secret_scrub._LINE_MODE_CHARS
    cleaned, counts = scrub_text(long_text)
    assert cleaned == "".join(scrub_text(part)[0] for part in parts)
    assert [secret for secret in ALL_SECRETS if secret in cleaned] == []
    assert sum(counts.values()) >= len(CATALOGUE)
