from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate as dc
from ansible_collections.autoport.zos.plugins.module_utils import record as rec
from ansible_collections.autoport.zos.plugins.module_utils.fix_text import SYSTEM_PROMPT

_SPEC = importlib.util.spec_from_file_location("curation_samples", str(Path(__file__).resolve().parents[1] / "curation_samples.py"))
samples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(samples)

GITHUB_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
URL_PASSWORD = "Sup3rS3cretPw"
KEY_BODY = "MIIEpAIBAAKCAQEA7s5Fq9X2b"
HOME_USER = "jdoe42"


def _write_jsonl(path: Path, items) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write((item if isinstance(item, str) else json.dumps(item)) + "\n")
    return len(items)


def _all_output_text(dest: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(dest.iterdir()) if p.is_file())


def _equation(report_md: str) -> tuple:
    match = re.search(r"kept (\d+) \+ rejected (\d+) \+ merged duplicates (\d+) = records read (\d+)", report_md)
    assert match, "report.md must state the equation"
    return tuple(int(n) for n in match.groups())


def test_counts_add_up_in_report_and_match_what_was_planted(tmp_path):
    records = samples.sample_records()
    base = records[0]
    exact_copy = dict(base)
    # The same fix in another port: other variable names, comments and spacing.
    near = samples._record(
        "implicit-function",
        "gitport",
        "compat/util.c",
        "static int check(const char *x,const char *y)\n{\n    /* compare */ return strcasecmp(x, y);\n}\n",
        "#include <strings.h>\n\nstatic int check(const char *x, const char *y)\n{\n    return strcasecmp(x,  y);  // case\n}\n",
        "compat/util.c:9:12: error: call to undeclared function 'strcasecmp'",
    )
    static_twin = samples._record(
        base["error_category"],
        base["port"],
        base["file"],
        base["wrong_code"],
        base["correct_code"] + "\n",
        provenance="static",
        patch_dir=base["patch_file"].split("/")[0],
    )
    assert static_twin["patch_file"] == base["patch_file"] and static_twin["hunk"] == base["hunk"]
    bad_category = dict(base, error_category="made-up")
    not_json = "{this is not json"
    not_object = "[1, 2, 3]"
    lines = records + [exact_copy, near, static_twin, bad_category, not_json, not_object]
    read = _write_jsonl(tmp_path / "in" / "harvested.jsonl", lines)

    result = dc.curate({"src": [str(tmp_path / "in")], "dest": str(tmp_path / "out")})

    kept, rejected, merged, total = _equation((tmp_path / "out" / "report.md").read_text())
    assert kept + rejected + merged == total == read
    assert (rejected, merged) == (3, 3)  # bad category, not JSON, not an object; exact, near, static
    assert result["counts"] == {"read": read, "kept": kept, "rejected": 3, "merged": 3, "train": result["counts"]["train"], "test": result["counts"]["test"]}
    assert result["merged_by"] == {"exact": 1, "same_hunk": 1, "near": 1}
    dataset = [json.loads(line) for line in (tmp_path / "out" / "dataset.jsonl").read_text().splitlines()]
    assert len(dataset) == kept == len(records)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["kept"] + summary["rejected"] + summary["merged"] == summary["read"] == read
    assert sum(summary["by_category"].values()) == sum(summary["by_port"].values()) == sum(summary["by_phase"].values()) == kept


def test_every_kept_record_is_valid_for_the_real_json_schema(tmp_path):
    _write_jsonl(tmp_path / "in.jsonl", samples.sample_records())
    dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out"), "report": False})
    validator = jsonschema.Draft202012Validator(rec.RECORD_SCHEMA)
    for name in ("dataset.jsonl", "train.jsonl", "test.jsonl"):
        for line in (tmp_path / "out" / name).read_text().splitlines():
            record = json.loads(line)
            validator.validate(record)
            assert record["id"] == rec.record_id(record)


def test_near_duplicate_in_other_port_is_merged_with_seen_in(tmp_path):
    first = samples._record(
        "unsupported-feature",
        "coreutilsport",
        "lib/fdopendir.c",
        "      else\n        {\n          close (fd);\n          dir = fd_clone_opendir (dupfd, cwd);\n",
        "      else\n        {\n#ifndef __MVS__\n          close (fd);\n#endif\n          dir = fd_clone_opendir (dupfd, cwd);\n",
    )
    # gnulib copied into another port, another variable name and layout.
    second = samples._record(
        "unsupported-feature",
        "tarport",
        "gnu/fdopendir.c",
        "  else {\n    close (descriptor);\n    dir = fd_clone_opendir (dupfd, cwd); /* clone */\n",
        "  else {\n#ifndef __MVS__\n    close (descriptor);\n#endif\n    dir = fd_clone_opendir (dupfd, cwd);\n",
        patch_dir="patches",
    )
    assert dc.near_duplicate_key(first) == dc.near_duplicate_key(second)
    kept, merged = dc.deduplicate([first, second])
    assert merged["near"] == 1 and len(kept) == 1
    places = sorted((entry["port"], entry["patch_file"], entry["id"]) for entry in kept[0]["seen_in"])
    assert places == sorted([(first["port"], first["patch_file"], first["id"]), (second["port"], second["patch_file"], second["id"])])
    assert rec.validate_record(kept[0]) == []


def test_different_fixes_with_the_same_shape_are_not_merged():
    # Same header added, but around different functions: different fixes.
    fdopen = samples._implicit_function(1, "curlport")
    getline = samples._implicit_function(4, "gitport")
    assert "stdio.h" in fdopen["correct_code"] and "stdio.h" in getline["correct_code"]
    assert dc.near_duplicate_key(fdopen) != dc.near_duplicate_key(getline)
    # Two include-only fixes that differ in the header stay apart too.
    a = samples._record("missing-header", "a", "x.c", "", "#include <stdlib.h>\n")
    b = samples._record("missing-header", "b", "x.c", "", "#include <string.h>\n")
    kept, merged = dc.deduplicate([a, b, fdopen, getline])
    assert len(kept) == 4 and merged == {"exact": 0, "same_hunk": 0, "near": 0}


def test_build_record_beats_static_record_of_the_same_hunk():
    build = samples._unresolved(0, "zlibport")
    static = samples._record(
        "build-system",
        build["port"],
        build["file"],
        build["wrong_code"],
        build["correct_code"] + "# static view\n",
        provenance="static",
        phase="build",
        toolchain="make",
    )
    assert (static["patch_file"], static["hunk"]) == (build["patch_file"], build["hunk"])
    kept, merged = dc.deduplicate([static, build])
    assert merged["same_hunk"] == 1 and len(kept) == 1
    assert kept[0]["id"] == build["id"] and kept[0]["provenance"] == "build"
    assert {entry["id"] for entry in kept[0]["seen_in"]} == {build["id"], static["id"]}


def test_split_is_by_port_reproducible_and_never_empty():
    ports = ["%sport" % name for name in ("bash", "curl", "git", "grep", "less", "m4", "make", "sed", "zlib", "xz")]
    train, test = dc.split_ports(ports, 0.3, "seed-a")
    assert set(train) | set(test) == set(ports) and not set(train) & set(test)
    assert (train, test) == dc.split_ports(list(reversed(ports)), 0.3, "seed-a")
    assert any(dc.split_ports(ports, 0.3, "seed-%d" % n)[1] != test for n in range(5))
    for ratio in (0.0, 1.0):
        train, test = dc.split_ports(ports[:2], ratio, "x")
        assert len(train) == 1 and len(test) == 1
    assert dc.split_ports(["only"], 0.5, "x") in ((["only"], []), ([], ["only"]))


def test_train_and_test_files_share_no_port_and_exports_follow(tmp_path):
    records = samples.sample_records()
    _write_jsonl(tmp_path / "in.jsonl", records)
    result = dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out"), "test_ratio": 0.3, "seed": "s1", "report": False})
    out = tmp_path / "out"
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    test = [json.loads(line) for line in (out / "test.jsonl").read_text().splitlines()]
    assert train and test
    assert not {r["port"] for r in train} & {r["port"] for r in test}
    assert sorted({r["port"] for r in test}) == result["test_ports"]

    messages = [json.loads(line) for line in (out / "train_messages.jsonl").read_text().splitlines()]
    alpaca = [json.loads(line) for line in (out / "train_alpaca.jsonl").read_text().splitlines()]
    assert len(messages) == len(alpaca) == len(train)
    for record, example, pair in zip(train, messages, alpaca):
        roles = [m["role"] for m in example["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert example["messages"][0]["content"] == SYSTEM_PROMPT
        assert set(pair) == {"instruction", "input", "output"}
        assert record["correct_code"].strip().splitlines()[-1] in example["messages"][2]["content"]
        if record["provenance"] == "build":
            assert record["error"].splitlines()[0] in example["messages"][1]["content"]
            assert record["error"].splitlines()[0] in pair["input"]
        else:
            # A static record has no error: none may be invented.
            assert "Build error" not in pair["input"] and "How do you port" in pair["instruction"]
    assert len((out / "test_alpaca.jsonl").read_text().splitlines()) == len(test)


def test_bad_lines_are_rejected_with_their_reason(tmp_path, monkeypatch):
    good = samples.sample_records()[0]
    path = tmp_path / "in.jsonl"
    ebcdic = json.dumps({"port": "x"}).encode("cp037")  # same bytes as IBM-1047 for { and "
    with open(path, "wb") as handle:
        handle.write(json.dumps(good).encode() + b"\n")
        handle.write(b"\xff\xfe\x00binary garbage\n")
        handle.write(ebcdic + b"\n")
        handle.write(b'{"truncated": \n')
        handle.write(json.dumps(dict(good, hunk="one")).encode() + b"\n")
        handle.write(json.dumps({k: v for k, v in good.items() if k != "patch"}).encode() + b"\n")
        handle.write(b"\n   \n")
        handle.write(b'"x' + b"y" * 5000 + b'"\n')
    monkeypatch.setattr(dc, "MAX_LINE_BYTES", 4096)
    result = dc.curate({"src": [str(path)], "dest": str(tmp_path / "out"), "report": False})
    rejected = [json.loads(line) for line in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
    by_line = dict((item["line"], item) for item in rejected)
    assert by_line[2]["kind"] == "not UTF-8"
    assert by_line[3]["kind"] == "EBCDIC data" and "IBM-1047" in by_line[3]["reason"]
    assert by_line[4]["kind"] == "not JSON"
    assert by_line[5]["kind"] == "schema: invalid hunk" and "hunk" in by_line[5]["reason"]
    assert by_line[6]["kind"] == "schema: missing required field 'patch'"
    assert by_line[9]["kind"] == "line too long"  # lines 7 and 8 are blank and not counted
    assert all(item["source"] == str(path) for item in rejected)
    assert result["counts"]["read"] == 7 and result["counts"]["kept"] == 1 and result["counts"]["rejected"] == 6


def test_second_run_changes_nothing_and_check_mode_writes_nothing(tmp_path):
    _write_jsonl(tmp_path / "in.jsonl", samples.sample_records())
    # report.html bytes across runs are compared in test_report_html_has_deterministic_embedded_charts.
    options = {"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out"), "report": False}

    preview = dc.curate(options, check_mode=True)
    assert preview["changed"] and len(preview["changed_files"]) == len(dc.OUTPUT_FILES) - 2
    assert not (tmp_path / "out").exists()

    first = dc.curate(options)
    assert first["changed"] and sorted(os.listdir(tmp_path / "out")) == sorted(set(dc.OUTPUT_FILES) - {"report.md", "report.html"})
    stamps = dict((p.name, (p.stat().st_mtime_ns, p.read_bytes())) for p in (tmp_path / "out").iterdir())

    second = dc.curate(options)
    assert second["changed"] is False and second["changed_files"] == []
    assert dict((p.name, (p.stat().st_mtime_ns, p.read_bytes())) for p in (tmp_path / "out").iterdir()) == stamps
    assert dc.curate(options, check_mode=True)["changed"] is False

    # A new input: check mode names exactly what would change and still writes nothing.
    _write_jsonl(tmp_path / "more.jsonl", [samples._resource_limit(1, "xzport")])
    options["src"].append(str(tmp_path / "more.jsonl"))
    preview = dc.curate(options, check_mode=True)
    assert preview["changed"] and str(tmp_path / "out" / "dataset.jsonl") in preview["changed_files"]
    assert dict((p.name, (p.stat().st_mtime_ns, p.read_bytes())) for p in (tmp_path / "out").iterdir()) == stamps


def test_outputs_inside_a_source_folder_are_not_read_back(tmp_path):
    _write_jsonl(tmp_path / "records" / "a.jsonl", samples.sample_records()[:10])
    options = {"src": [str(tmp_path / "records")], "dest": str(tmp_path / "records" / "curated"), "report": False}
    first = dc.curate(options)
    second = dc.curate(options)
    assert first["counts"]["read"] == second["counts"]["read"] == 10
    assert second["changed"] is False


def test_report_html_has_deterministic_embedded_charts(tmp_path):
    _write_jsonl(tmp_path / "in.jsonl", samples.sample_records() + ["nope"])
    dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "a")})
    dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "b")})
    html_a = (tmp_path / "a" / "report.html").read_bytes()
    assert html_a == (tmp_path / "b" / "report.html").read_bytes()
    text = html_a.decode()
    images = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 6  # accounting, category, port, phase, provenance, rejected
    for data in images:
        svg = base64.b64decode(data).decode()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<dc:date>" not in svg
    assert "kept 63 + rejected 1 + merged duplicates 0 = records read 64" in text
    md = (tmp_path / "a" / "report.md").read_text()
    for category in samples.categories_with(samples.sample_records(), 1):
        assert "| %s |" % category in md


def test_hostile_port_names_are_escaped_in_the_html_report(tmp_path):
    record = samples._record("runtime", "<script>alert(1)</script>", "src/a.c", "a();\n", "b();\n")
    _write_jsonl(tmp_path / "in.jsonl", [record])
    dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out")})
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_planted_secrets_never_reach_any_output(tmp_path):
    key = "-----BEGIN RSA PRIVATE KEY-----\n%s\nq1w2e3r4\n-----END RSA PRIVATE KEY-----\n" % KEY_BODY
    leaky = [
        samples._record(
            "build-system",
            "curlport",
            "Makefile",
            "fetch:\n\tgit clone https://builder:%s@git.example.com/deps.git\n" % URL_PASSWORD,
            "fetch:\n\tgit clone https://builder:%s@git.example.com/deps.git --depth 1\n" % URL_PASSWORD,
            "make: *** [fetch] Error 128 (token=%s) in /home/%s/curlport" % (GITHUB_TOKEN, HOME_USER),
            phase="build",
            toolchain="make",
            outside=True,
        ),
        samples._record("other", "gitport", "certs/server.key", "", key, phase="runtime", outside=True),
        # An invalid record with secrets: rejected.jsonl must be clean too.
        dict(samples._runtime(0, "bashport"), error_category="made-up", error="/Users/%s/src token=%s" % (HOME_USER, GITHUB_TOKEN)),
    ]
    _write_jsonl(tmp_path / "in.jsonl", leaky)
    result = dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out")})
    everything = _all_output_text(tmp_path / "out")
    for secret in (GITHUB_TOKEN, URL_PASSWORD, KEY_BODY, HOME_USER):
        assert secret not in everything
    for placeholder in ("<TOKEN>", "<PASSWORD>", "<PRIVATE_KEY>", "/home/<USER>", "/Users/<USER>"):
        assert placeholder in everything
    assert result["scrubbed"]["token"] >= 2 and result["scrubbed"]["password"] >= 2
    assert result["scrubbed"]["private_key"] >= 2 and result["scrubbed"]["home_path"] >= 2
    assert result["counts"]["rejected"] == 1
    # The report gives counts by kind, never values.
    assert "| token | %d |" % result["scrubbed"]["token"] in (tmp_path / "out" / "report.md").read_text()


def test_missing_src_and_bad_options_are_named(tmp_path):
    with pytest.raises(dc.CurateError, match="nowhere.jsonl"):
        dc.curate({"src": [str(tmp_path / "nowhere.jsonl")], "dest": str(tmp_path / "out")})
    (tmp_path / "in.jsonl").write_text("")
    with pytest.raises(dc.CurateError, match="test_ratio"):
        dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out"), "test_ratio": 1.5})
    (tmp_path / "file").write_text("x")
    with pytest.raises(dc.CurateError, match="not a folder"):
        dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "file")})


def test_empty_input_gives_empty_but_complete_outputs(tmp_path):
    (tmp_path / "in.jsonl").write_text("\n\n")
    result = dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "out")})
    assert result["counts"] == {"read": 0, "kept": 0, "rejected": 0, "merged": 0, "train": 0, "test": 0}
    assert (tmp_path / "out" / "dataset.jsonl").read_text() == ""
    assert "kept 0 + rejected 0 + merged duplicates 0 = records read 0" in (tmp_path / "out" / "report.md").read_text()


def test_comments_are_stripped_the_way_the_file_type_writes_them():
    # '//' is a comment in C, but part of a URL in a shell script or Makefile.
    c_a = samples._record("other", "a", "x.c", "int n = 1;\n", "int n = 2; // two\n")
    c_b = samples._record("other", "b", "y.c", "int n = 1; /* one */\n", "int n = 2;\n")
    assert dc.near_duplicate_key(c_a) == dc.near_duplicate_key(c_b)
    sh_a = samples._record("other", "a", "get.sh", "curl https://x.example/a\n", "curl https://x.example/a --retry 3\n")
    sh_b = samples._record("other", "b", "get.sh", "curl https://x.example/a\n", "curl https://x.example/a --insecure\n")
    assert dc.near_duplicate_key(sh_a) != dc.near_duplicate_key(sh_b)
    # '#' starts a comment line in a Makefile, but is a directive in C.
    mk_a = samples._record("other", "a", "Makefile", "CFLAGS = -O2\n", "# z/OS\nCFLAGS = -O2 -qascii\n")
    mk_b = samples._record("other", "b", "Makefile", "CFLAGS = -O2\n", "CFLAGS = -O2 -qascii\n")
    assert dc.near_duplicate_key(mk_a) == dc.near_duplicate_key(mk_b)
    h_a = samples._record("other", "a", "x.h", "int f(void);\n", "#ifndef __MVS__\nint f(void);\n#endif\n")
    h_b = samples._record("other", "b", "x.h", "int f(void);\n", "// ifndef __MVS__\nint f(void);\n// endif\n")
    assert dc.normalised_code(h_b["wrong_code"], h_b["correct_code"], "x.h") == (["int", "f", "(", "void", ")", ";"],) * 2
    assert dc.near_duplicate_key(h_a) != dc.near_duplicate_key(h_b)


def test_autoport_records_win_over_static_ones_and_build_records_over_both():
    """PROVENANCE_RANK: a build record (a harvest build showed the error) wins, then an autoport record
    (a rebuild proved the fix), then a static one, even when the static one names an error code."""
    assert dc.PROVENANCE_RANK["build"] < dc.PROVENANCE_RANK["autoport"] < dc.PROVENANCE_RANK["static"]
    before = "static int check(const char *x, const char *y)\n{\n    return strcasecmp(x, y);\n}\n"
    after = "#include <strings.h>\n\nstatic int check(const char *x, const char *y)\n{\n    return strcasecmp(x, y);\n}\n"
    # The static record sorts first by port and carries an error code: only the provenance rank puts it last.
    static = samples._record("implicit-function", "aport", "src/u.c", before, after, provenance="static",
                             error="CCN3296 src/u.c:3: #include file strings.h not found.", error_code="CCN3296")
    autoport = samples._record("implicit-function", "mport", "src/u.c", before, after, provenance="autoport",
                               error="src/u.c:3:12: error: implicit declaration of function 'strcasecmp'")
    build = samples._record("implicit-function", "zport", "src/u.c", before, after,
                            error="src/u.c:3:12: error: implicit declaration of function 'strcasecmp'")
    assert static.get("error_code") == "CCN3296" and not autoport.get("error_code")
    kept, merged = dc.deduplicate([static, autoport])
    assert merged["near"] == 1 and kept[0]["provenance"] == "autoport" and kept[0]["port"] == "mport"
    assert {entry["port"] for entry in kept[0]["seen_in"]} == {"aport", "mport"}
    kept, _merged = dc.deduplicate([static, autoport, build])
    assert len(kept) == 1 and kept[0]["provenance"] == "build"
