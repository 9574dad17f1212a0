"""The auto-port loop on real sample ports with their patches removed (gcc, make, git apply).

The examples come from the OTHER sample ports' harvested and curated records (split by
port: a port never learns from its own patches, which the test checks). The proof test
auto-ports all six sample ports and states per port how many errors the loop fixed and
whether the final build passes, and proves that nothing the rebuild rejected is kept:
the written patches equal the accepted candidates applied in order, and an independent
rebuild with only those patches shows none of the fixed errors. This file takes about
40 s on the project's 2-core machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils import autoport_loop
from ansible_collections.autoport.zos.plugins.module_utils import autoport_output
from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate
from ansible_collections.autoport.zos.plugins.module_utils import fix_templates
from ansible_collections.autoport.zos.plugins.module_utils import fix_transfer
from ansible_collections.autoport.zos.plugins.module_utils import patch_replay
from ansible_collections.autoport.zos.plugins.module_utils.record import read_records, validate_record

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "samples"
PORTS = ("tinyprocport", "inicfgport", "strkitport", "ringbufport", "pathutilport", "lnfindport")
AUTOPORTED = PORTS
# "port: fixed/met, final build passes|fails" of every port the proof test auto-ported.
STATED = {}


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> dict:
    """{port: train.jsonl of the other ports}: harvested with patch_replay, curated with dataset_curate."""
    base = tmp_path_factory.mktemp("harvest")
    for port in PORTS:
        patch_replay.replay_port({"port_dir": str(SAMPLES / "ports" / port), "work_dir": str(base / "work"), "mirror_dir": str(SAMPLES / "mirror"),
                                  "dest": str(base / "records" / (port + ".jsonl"))})
    split = {}
    for port in AUTOPORTED:
        others = [str(base / "records" / (name + ".jsonl")) for name in PORTS if name != port]
        dest = base / ("curated-without-" + port)
        dataset_curate.curate({"src": others, "dest": str(dest), "test_ratio": 0.0, "report": False})
        split[port] = dest / "dataset.jsonl"
    return split


def _bare_port(tmp_path: Path, port: str) -> Path:
    dest = tmp_path / "ports" / port
    shutil.copytree(SAMPLES / "ports" / port, dest, ignore=shutil.ignore_patterns("*patches"))
    return dest


def _options(tmp_path: Path, port_dir: Path, records: Path, **extra) -> dict:
    return dict({"port_dir": str(port_dir), "port": port_dir.name, "work_dir": str(tmp_path / "work"), "output_dir": str(tmp_path / "out"),
                 "mirror_dir": str(SAMPLES / "mirror"), "records": [str(records)], "proposers": ["retrieval", "template"]}, **extra)


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, input=stdin, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _tree_after(tmp_path: Path, name: str, diffs: list) -> dict:
    source = tmp_path / name / "tree"
    shutil.copytree(SAMPLES / "upstream" / next(p.name for p in (SAMPLES / "upstream").iterdir() if p.name.split("-")[0] in name), source)
    _git(source, "init", "-q", ".")
    for diff in diffs:
        _git(source, "apply", "-", stdin=diff.encode())
    return {str(path.relative_to(source)): path.read_bytes() for path in sorted(source.rglob("*")) if path.is_file() and ".git" not in path.parts}


@pytest.mark.parametrize("port", AUTOPORTED)
def test_autoport_keeps_only_what_the_rebuild_proves(tmp_path, curated, port, capsys):
    records = [record for _number, record in read_records(str(curated[port]))]
    # Leave one port out: no example is of the port, nor merged with one of it.
    assert records and all(record["port"] != port and port not in [seen.get("port") for seen in record.get("seen_in") or []] for record in records)
    assert not [reason for _where, reason in autoport_loop.load_records([str(curated[port])], port)[1] if "port itself" in reason]
    port_dir = _bare_port(tmp_path, port)
    result = autoport_output.run(_options(tmp_path, port_dir, curated[port], write_patches=True))
    report = result["report"]
    summary = report["summary"]
    verdict = "passes" if summary["final_build_passes"] else "fails"
    STATED[port] = (summary["errors_fixed"], summary["errors_met"], verdict)
    with capsys.disabled():
        print("\n%s: %d of %d errors fixed (%s), final build %s" % (
            port, summary["errors_fixed"], summary["errors_met"], ", ".join("%s %d" % i for i in sorted(summary["fixed_by_proposer"].items())) or "-",
            verdict))
    accepted = [c for error in report["errors"] for c in error["candidates"] if c["outcome"] == "accepted"]
    rebuilt_candidates = [c for error in report["errors"] for c in error["candidates"] if c.get("rebuild")]
    assert summary["errors_met"] >= 1 and summary["builds"] == 1 + len(rebuilt_candidates)
    assert summary["errors_fixed"] == len(accepted)
    if port in ("tinyprocport", "ringbufport", "pathutilport"):
        assert accepted, "the loop fixes some of %s's errors from the other ports' records" % port
    # Every candidate tried has an outcome and a reason; a rejected one was rebuilt or refused before.
    for error in report["errors"]:
        for candidate in error["candidates"]:
            assert candidate["outcome"] in ("accepted", "rejected", "refused", "does-not-apply") and candidate["reason"]
    # The patches written are exactly the accepted candidates, nothing rejected.
    written = [(Path(result["patch_dir"]) / name).read_text() for name in result["patches"]]
    assert _tree_after(tmp_path, "from-patches-" + port, written) == _tree_after(tmp_path, "from-accepted-" + port, [c["diff"] for c in accepted])
    # An independent build of the port with only those patches (now in its patch folder): no fixed error is back.
    session = patch_replay.BuildSession({"port_dir": str(port_dir), "work_dir": str(tmp_path / "verify"), "mirror_dir": str(SAMPLES / "mirror")})
    assert session.start() == []
    rebuilt = session.build("verify")
    keys = {diag["key"] for diag in rebuilt["diagnostics"]}
    assert not [error["key"] for error in report["errors"] if error["fixed"] and error["key"] in keys]
    assert (rebuilt["status"] == "ok") == summary["final_build_passes"]
    # Every accepted fix is a valid record with provenance autoport; rejected ones are negatives with a reason.
    made = [record for _number, record in read_records(result["records_file"])]
    assert len(made) == len(accepted) and all(r["provenance"] == "autoport" and not validate_record(r) for r in made)
    negatives = [json.loads(line) for line in (Path(result["records_file"]).parent / "negatives.jsonl").read_text().splitlines()]
    assert len(negatives) == sum(len(e["candidates"]) for e in report["errors"]) - len(accepted)
    assert all(n["reason"] and n["outcome"] != "accepted" for n in negatives)


def test_the_proof_states_every_port():
    """Runs after the six ports: the statement covers them all (and fails if one is missing)."""
    assert sorted(STATED) == sorted(AUTOPORTED), "ports auto-ported: %s" % sorted(STATED)
    fixed, met = sum(v[0] for v in STATED.values()), sum(v[1] for v in STATED.values())
    print("all six: %d of %d errors fixed, final build passes for %d" % (fixed, met, sum(v[2] == "passes" for v in STATED.values())))
    assert met > 0 and fixed > 0


def test_second_run_gives_the_same_patches_and_check_mode_writes_nothing(tmp_path, curated):
    port_dir = _bare_port(tmp_path, "inicfgport")
    options = _options(tmp_path, port_dir, curated["inicfgport"])
    first = autoport_output.run(options)
    patches = {name: (Path(first["patch_dir"]) / name).read_bytes() for name in first["patches"]}
    second = autoport_output.run(options)
    assert not second["changed"] and second["patches"] == first["patches"]
    assert {name: (Path(second["patch_dir"]) / name).read_bytes() for name in second["patches"]} == patches
    assert not any(port_dir.rglob("*.patch")), "write_patches is false: the port repo is not touched"
    checked = autoport_output.run(dict(options, output_dir=str(tmp_path / "check-out")), check_mode=True)
    assert not checked["changed"] and not (tmp_path / "check-out").exists()


def test_unsafe_candidates_are_refused_with_the_reason(tmp_path):
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "a" / "x.c").write_text("int x;\n")
    outside = "--- a/../evil.c\n+++ b/../evil.c\n@@ -0,0 +1 @@\n+int y;\n"
    delete = "diff --git a/a/x.c b/a/x.c\ndeleted file mode 100644\n--- a/a/x.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-int x;\n"
    big = fix_transfer.unified_diff("a/x.c", "int x;\n", "int x;\n" + "int z;\n" * 50)
    assert "escapes the source tree" in autoport_loop.refusal(outside, str(source), 40)[0]
    assert autoport_loop.refusal(delete, str(source), 40)[0].startswith("deletes a/x.c")
    assert autoport_loop.refusal(big, str(source), 40)[0] == "changes 50 lines (limit 40)"
    assert autoport_loop.refusal(fix_transfer.unified_diff("a/x.c", "int x;\n", "long x;\n"), str(source), 40)[0] is None
    (source / "link").symlink_to(tmp_path)
    linked = fix_transfer.unified_diff("link/y.c", "int y;\n", "long y;\n")
    assert "outside the source tree" in autoport_loop.refusal(linked, str(source), 40)[0]


def test_templates_are_learned_from_records_not_written_per_error():
    record = {"port": "p", "error": "src/a.c:2:10: fatal error: malloc/malloc.h: No such file or directory", "error_category": "missing-header",
              "patch": "--- a/src/a.c\n+++ b/src/a.c\n@@ -1,3 +1,2 @@\n #include <stdlib.h>\n-#include <malloc/malloc.h>\n int x;\n"}
    templates = fix_templates.TemplateSet([record])
    ranked = templates.ranked("missing-header", "vis.h")
    assert [op for _score, op in ranked] == [{"kind": "delete_include"}]
    assert fix_templates.instantiate(ranked[0][1], "vis.h", {"b.c": "#include <vis.h>\nint y;\n"}) == [("b.c", "int y;\n")]
    assert fix_templates.TemplateSet([]).ranked("missing-header", "vis.h") == []


def test_model_proposer_is_skipped_without_endpoint_and_a_dead_one_is_a_reason_not_a_crash():
    from ansible_collections.autoport.zos.plugins.module_utils import fix_propose
    import socket

    context = {"diag": {"message": "a.c:1:1: error: 'X' undeclared", "category": "undeclared-identifier"}, "file": "a.c",
               "files": {"a.c": "int y = X;\n"}, "excerpt": "int y = X;", "token": "X"}
    assert fix_propose.Proposers([], ["model"]).propose(context, 3) == ([], [])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    candidates, problems = fix_propose.Proposers([], ["model"], {"url": "http://127.0.0.1:%d/v1" % port, "api_key": "sekrit"}).propose(context, 3)
    assert candidates == [] and len(problems) == 1 and problems[0].startswith("model: model endpoint unreachable")
    assert "sekrit" not in problems[0]


def test_model_prompt_carries_the_error_code_and_examples_but_no_secret():
    from ansible_collections.autoport.zos.plugins.module_utils import fix_propose

    context = {"diag": {"message": "a.c:2:9: error: 'X' undeclared", "category": "undeclared-identifier", "line": 2}, "file": "a.c",
               "files": {}, "excerpt": 'const char *pw = "x";\npassword = "hunter2secret"\nint y = X;', "token": "X"}
    example = {"error": "b.c:1: error: 'Y' undeclared", "error_category": "undeclared-identifier", "file": "b.c", "phase": "build",
               "wrong_code": "int z = Y;", "correct_code": "int z = 1;", "patch": "--- a/b.c\n+++ b/b.c\n@@ -1 +1 @@\n-int z = Y;\n+int z = 1;\n"}
    messages = fix_propose.prompt_messages(context, [example])
    # The training shape: system prompt, the example as an earlier user/assistant turn, then the error.
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "'Y' undeclared" in messages[1]["content"] and "Corrected code:" in messages[2]["content"]
    user = messages[3]["content"]
    assert "'X' undeclared" in user and "int y = X;" in user and "How do you fix this build error in a.c" in user
    assert not any("hunter2secret" in m["content"] for m in messages)


def test_model_is_asked_the_way_it_was_trained():
    """chat: the training messages to /chat/completions; ilab: the ilab text turns to /completions."""
    from ansible_collections.autoport.zos.plugins.module_utils import fix_evaluate, fix_propose

    context = {"diag": {"message": "a.c:2:9: error: 'X' undeclared", "category": "undeclared-identifier", "line": 2}, "file": "a.c",
               "files": {"a.c": "int w;\nint y = X;\n"}, "excerpt": "int w;\nint y = X;", "excerpt_start": 0, "token": "X"}
    path, body = fix_propose.model_request(context, [], "chat")
    assert path == "/chat/completions" and body["messages"] == fix_propose.prompt_messages(context, [])
    assert body["temperature"] == 0 and body["seed"] == 0 and "prompt" not in body
    path, body = fix_propose.model_request(context, [], "ilab")
    assert path == "/completions" and "messages" not in body and body["stop"] == fix_evaluate.ILAB_STOP
    messages = fix_propose.prompt_messages(context, [])
    assert body["prompt"] == "<|system|>\n%s\n<|user|>\n%s\n<|assistant|>\n" % (messages[0]["content"], messages[1]["content"])
    assert "'X' undeclared" in body["prompt"]
    with pytest.raises(fix_propose.ProposeError, match="chat or ilab"):
        fix_propose.model_request(context, [], "alpaca")
    # An answer in the trained shape ("Corrected code:" and a fenced block) becomes a diff of the file.
    answer = "The name is not declared on z/OS.\n\nCorrected code:\n```c\nint w;\nint y = 1;\n```\n"
    made = fix_propose.answer_candidates(answer, context, "tuned")
    assert len(made) == 1 and made[0]["proposer"] == "model" and "-int y = X;\n+int y = 1;\n" in made[0]["diff"]
    assert fix_propose.answer_candidates("I like turtles.", context, "tuned") == []


def test_records_about_the_same_name_rank_first_and_proven_fixes_are_reused_first():
    from ansible_collections.autoport.zos.plugins.module_utils import fix_propose

    def record(ident, error, patch, port="p"):
        return {"id": ident * 32, "port": port, "error": error, "error_category": "implicit-function", "file": "src/x.c",
                "wrong_code": "", "patch": patch}

    # BM25 alone prefers the record sharing most words; the one about strlcpy must still come first.
    near = record("a", "src/x.c:3:5: error: implicit declaration of function 'strlcat' [-Wimplicit-function-declaration] copy buffer size",
                  "--- a/src/x.c\n+++ b/src/x.c\n@@ -1 +1,2 @@\n #include <string.h>\n+size_t strlcat(char *, const char *, size_t);\n")
    same = record("b", "lib/y.c:9:2: error: implicit declaration of function 'strlcpy'",
                  "--- a/lib/y.c\n+++ b/lib/y.c\n@@ -1 +1,2 @@\n #include <string.h>\n+size_t strlcpy(char *, const char *, size_t);\n")
    context = {"diag": {"message": "src/x.c:3:5: error: implicit declaration of function 'strlcpy' [-Wimplicit-function-declaration]",
                        "category": "implicit-function"}, "file": "src/x.c", "excerpt": "copy buffer size",
               "files": {"src/x.c": "#include <string.h>\nint f(void) { return 0; }\n"}, "token": "strlcpy"}
    index = fix_propose.bm25_index([near, same])
    assert [r["id"][0] for r, _s in index.search_tokens(fix_propose._query(context), 2)] == ["a", "b"]
    assert [r["id"][0] for r, _s in fix_propose.ranked_records(context, index, 2)] == ["b", "a"]
    # A fix proven earlier in the run for the same diagnostic is the first candidate, before retrieval.
    proven = [{"signature": ("implicit-function", "strlcpy"),
               "diff": "--- a/src/w.c\n+++ b/src/w.c\n@@ -1 +1,2 @@\n #include <string.h>\n+#include \"compat.h\"\n",
               "file": "src/w.c", "error": "src/w.c:4:1: error: implicit declaration of function 'strlcpy'", "error_number": 1, "proposer": "template"}]
    proposers = fix_propose.Proposers([near, same], ["retrieval"])
    candidates, _problems = proposers.propose(context, 3, proven)
    assert candidates[0]["proposer"] == "reuse" and '+#include "compat.h"' in candidates[0]["diff"]
    assert candidates[1]["origin"] == "record:" + "b" * 32
    other = dict(context, diag=dict(context["diag"], message="src/x.c:3:5: error: implicit declaration of function 'memmem'"), token="memmem")
    assert all(c["proposer"] != "reuse" for c in proposers.propose(other, 3, proven)[0])


def test_a_value_learned_for_another_name_is_not_proposed_as_a_fix():
    from ansible_collections.autoport.zos.plugins.module_utils import fix_propose

    record = {"port": "p", "id": "1" * 32, "error": "src/a.c:3:9: error: 'M_PI' undeclared (first use in this function)",
              "error_category": "undeclared-identifier", "file": "src/a.c", "wrong_code": "",
              "patch": ("--- a/src/a.c\n+++ b/src/a.c\n@@ -1,2 +1,6 @@\n #include <math.h>\n"
                        "+#ifndef M_PI\n+#define M_PI 3.14159265358979323846\n+#endif\n+\n int x;\n")}
    context = {"diag": {"message": "src/b.c:2:12: error: 'ARG_MAX' undeclared", "category": "undeclared-identifier"}, "file": "src/b.c",
               "files": {"src/b.c": "#include <limits.h>\nlong n = ARG_MAX;\n"}, "excerpt": "", "token": "ARG_MAX"}
    proposers = fix_propose.Proposers([record], ["retrieval", "template"])
    candidates, _problems = proposers.propose(context, 4)
    assert candidates and all("#define ARG_MAX 3.14" in c["diff"] for c in candidates)
    assert all(c["invented"] == "defines ARG_MAX with the value a record gave M_PI" or c["invented"].startswith("defines ARG_MAX with the value")
               for c in candidates)
    same_name = dict(context, diag={"message": "src/b.c:2:12: error: 'M_PI' undeclared", "category": "undeclared-identifier"},
                     files={"src/b.c": "#include <math.h>\ndouble t = M_PI;\n"}, token="M_PI")
    candidates, _problems = proposers.propose(same_name, 4)
    assert candidates and not any(c.get("invented") for c in candidates)


def _tree_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_the_loop_refuses_unsafe_candidates_before_any_build_and_reverts_a_rejected_one_exactly(tmp_path):
    """The gate in the loop itself, on a real build of tinyproc, with diffs as an untrusted model could answer
    them: a deleted file, a path outside the tree (and into .git), too many lines are refused with the reason,
    never applied and never built; a candidate that applies but does not fix is rebuilt, rejected and its file
    gets its bytes back."""
    opts = autoport_output.check_options(dict(_options(tmp_path, _bare_port(tmp_path, "tinyprocport"), tmp_path / "none.jsonl"),
                                              records=[], max_changed_lines=40))
    loop = autoport_loop.Loop(opts, [])
    assert loop.session.start() == []
    loop.result = loop._build("start")
    target = loop.result["roots"][0]
    source = Path(loop.source_dir)
    run_c = (source / "src" / "run.c").read_text()
    deleted = "diff --git a/src/run.c b/src/run.c\ndeleted file mode 100644\n--- a/src/run.c\n+++ /dev/null\n@@ -1,%d +0,0 @@\n%s" % (
        len(run_c.splitlines()), "".join("-" + line + "\n" for line in run_c.splitlines()))
    unsafe = {
        "deletes src/run.c": deleted,
        "escapes the source tree": "--- a/../outside.c\n+++ b/../outside.c\n@@ -0,0 +1 @@\n+int y;\n",
        "outside the source tree": "--- a/.git/config\n+++ b/.git/config\n@@ -0,0 +1 @@\n+[core]\n",
        "changes 50 lines (limit 40)": fix_transfer.unified_diff("src/run.c", run_c, run_c + "int pad;\n" * 50),
    }
    before, builds = _tree_bytes(source), loop.builds
    for number, (reason, diff) in enumerate(sorted(unsafe.items()), 1):
        entry = loop.attempt(target, {"proposer": "model", "origin": "model:untrusted", "diff": diff}, number)
        assert entry["outcome"] == "refused" and reason in entry["reason"], (reason, entry["reason"])
        assert "rebuild" not in entry
    assert loop.builds == builds and _tree_bytes(source) == before and not (tmp_path / "outside.c").exists()
    harmless = fix_transfer.unified_diff("src/run.c", run_c, "/* not a fix */\n" + run_c)
    entry = loop.attempt(target, {"proposer": "model", "origin": "model:untrusted", "diff": harmless}, 9)
    assert entry["outcome"] == "rejected" and entry["reason"] == "error unchanged" and entry["rebuild"]["status"] != "ok"
    assert loop.builds == builds + 1 and _tree_bytes(source) == before


def test_records_of_the_port_or_merged_with_one_of_it_are_never_its_examples(tmp_path):
    """Leave one port out, also after curate merged duplicates: a record another port won whose seen_in
    names the port being auto-ported is dropped with its reason, like the port's own records."""
    patch = "--- a/src/a.c\n+++ b/src/a.c\n@@ -1 +1 @@\n-int x;\n+long x;\n"
    base = {"error": "src/a.c:1:1: error: 'x' undeclared", "patch": patch, "hunk": 1, "patch_file": "patches/src/a.c.patch"}
    lines = [dict(base, id="1" * 32, port="tinyprocport"),
             dict(base, id="2" * 32, port="ringbufport", seen_in=[{"port": "ringbufport"}, {"port": "tinyprocport"}]),
             dict(base, id="3" * 32, port="ringbufport", seen_in=[{"port": "pathutilport"}])]
    path = tmp_path / "dataset.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    kept, dropped = autoport_loop.load_records([str(path)], "tinyprocport")
    assert [record["id"][0] for record in kept] == ["3"]
    assert [reason for _where, reason in dropped] == ["record of the port itself", "record also seen in the port itself"]
