from __future__ import annotations

import glob
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from instructlab.schema import schema_base
from instructlab.schema.taxonomy import TaxonomyMessageFormat, TaxonomyParser
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ansible_collections.autoport.zos.plugins.module_utils import dataset_curate as dc
from ansible_collections.autoport.zos.plugins.module_utils import knowledge_doc as kd
from ansible_collections.autoport.zos.plugins.module_utils import qna_render as qr
from ansible_collections.autoport.zos.plugins.module_utils import taxonomy_yaml as ty

_SPEC = importlib.util.spec_from_file_location("curation_samples", str(Path(__file__).resolve().parents[1] / "curation_samples.py"))
samples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(samples)

GITHUB_TOKEN = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8"
URL_PASSWORD = "Pl4ntedPassw0rd"
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
HOME_USER = "mhoffman7"


# ---------------------------------------------------------------------------
# Helpers: InstructLab's own checks, used independently of the code under test.


def _venv_bin_on_path(monkeypatch):
    # TaxonomyParser runs the yamllint command; make sure it is the pinned one.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    assert shutil.which("yamllint"), "yamllint must be runnable for the parser's lint step"


def _ilab_diff_files(taxonomy: Path, base: str | None) -> list[str]:
    """The files `ilab taxonomy diff` would read: taxonomy .yaml files changed since base
    (or all of them for base None, like --taxonomy-base empty) plus untracked ones."""

    def git(*args):
        return subprocess.run(["git", "-C", str(taxonomy)] + list(args), check=True, stdout=subprocess.PIPE, text=True).stdout.split("\n")

    if base:
        changed = git("diff", "--name-only", base, "HEAD")
    else:
        changed = git("ls-files")
    untracked = git("ls-files", "--others", "--exclude-standard")
    return sorted(set(p for p in changed + untracked if p.endswith(".yaml") and p.split("/")[0] in ("compositional_skills", "knowledge")))


STRICTEST_YAMLLINT = "{extends: relaxed, rules: {line-length: {max: 120}}}"


def _ilab_parse(path: Path, yamllint_config: str | None = None):
    """What ilab does for each file (instructlab-sdg read_taxonomy_file / validate_taxonomy_file)."""
    parser = TaxonomyParser(schema_version=0, message_format=TaxonomyMessageFormat.LOGGING, yamllint_config=yamllint_config, yamllint_strict=True)
    return parser.parse(str(path))


def _schema_validator(kind: str):
    base = schema_base().joinpath("v3")

    def retrieve(uri):
        return Resource.from_contents(json.loads(base.joinpath(uri).read_text()), default_specification=DRAFT202012)

    schema = json.loads(base.joinpath(kind + ".json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=Registry(retrieve=retrieve))


def _write_records(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def _git_log(repo: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(repo), "log", "--format=%H"], stdout=subprocess.PIPE, text=True, check=False).stdout
    return out.split()


def _render(tmp_path: Path, records=None, **options):
    src = _write_records(tmp_path / "records.jsonl", samples.sample_records() if records is None else records)
    base = {"src": str(src), "taxonomy_dir": str(tmp_path / "taxonomy"), "docs_repo": str(tmp_path / "docs")}
    base.update(options)
    return base


# ---------------------------------------------------------------------------
# Rendering from realistic records


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("render")
    options = _render(tmp_path, licenses={"curlport": "MIT-like curl licence", "zlibport": "Zlib"})
    result = qr.render_taxonomy(options)
    return tmp_path, options, result


def test_leaves_for_every_category_with_five_records_and_skips_the_rest(rendered):
    tmp_path, _options, result = rendered
    records = samples.sample_records()
    enough = samples.categories_with(records, 5)
    for kind, folder in (("skills", "compositional_skills"), ("knowledge", "knowledge")):
        leaves = sorted(leaf["category"] for leaf in result["leaves"] if leaf["kind"] == kind)
        assert leaves == enough
        for category in enough:
            assert (tmp_path / "taxonomy" / folder / "zos_porting" / category / "qna.yaml").is_file()
            assert (tmp_path / "taxonomy" / folder / "zos_porting" / category / "attribution.txt").is_file()
        skipped = dict((s["category"], s) for s in result["skipped"] if s["kind"] == kind)
        assert sorted(skipped) == ["conflicting-declaration", "resource-limit"]
        assert skipped["conflicting-declaration"]["records"] == 3 and "needs 5" in skipped["conflicting-declaration"]["reason"]
        assert not (tmp_path / "taxonomy" / folder / "zos_porting" / "resource-limit").exists()


def test_every_qna_passes_instructlab_schema_and_the_ilab_parser(rendered, monkeypatch, caplog):
    tmp_path, _options, result = rendered
    _venv_bin_on_path(monkeypatch)
    taxonomy = tmp_path / "taxonomy"
    files = _ilab_diff_files(taxonomy, None)
    assert files == sorted(leaf["path"] for leaf in result["leaves"])
    caplog.set_level(logging.WARNING, logger="instructlab.schema")
    for rel in files:
        data = yaml.safe_load((taxonomy / rel).read_text())
        _schema_validator(rel.split("/")[0]).validate(data)
        assert data["version"] == 3
        # The taxonomy repository's rules (relaxed, line length 120): stricter than ilab's
        # built-in default (relaxed, no line length), so passing them passes both.
        parsed = _ilab_parse(taxonomy / rel, STRICTEST_YAMLLINT)
        assert (parsed.errors, parsed.warnings) == (0, 0), caplog.text
    # A render is committed: nothing under the root is left untracked or modified.
    status = subprocess.run(["git", "-C", str(taxonomy), "status", "--porcelain"], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert status == ""
    assert len(_git_log(taxonomy)) == 1


def test_the_parser_check_is_real_it_catches_a_lint_warning(rendered, monkeypatch, tmp_path):
    # Negative control: the same file with one trailing space must fail ilab's strict lint.
    source, _options, result = rendered
    _venv_bin_on_path(monkeypatch)
    rel = result["leaves"][0]["path"]
    broken = tmp_path / rel
    broken.parent.mkdir(parents=True)
    broken.write_text((source / "taxonomy" / rel).read_text().replace("\nseed_examples:", " \nseed_examples:", 1))
    assert _ilab_parse(broken).errors >= 1
    assert ty.lint_problems(broken.read_text())


def test_skill_examples_are_grounded_diverse_and_never_invent_errors(rendered):
    tmp_path, _options, result = rendered
    by_id = dict((record["id"], record) for record in samples.sample_records())
    for leaf in (leaf for leaf in result["leaves"] if leaf["kind"] == "skills"):
        data = yaml.safe_load((tmp_path / "taxonomy" / leaf["path"]).read_text())
        examples = data["seed_examples"]
        assert len(examples) == 5 == len(leaf["record_ids"])
        assert len(set(leaf["ports"])) >= 4, "examples should come from different ports"
        for example, record_id in zip(examples, leaf["record_ids"]):
            record = by_id[record_id]
            last_code_line = record["correct_code"].strip().splitlines()[-1].strip()
            assert last_code_line in example["answer"]
            if record["provenance"] == "build":
                assert record["error"][:40] in example["context"]
                assert "How do you fix" in example["question"]
            else:
                assert "Build error" not in example["context"] and "error" not in example["question"].lower()
                assert "The z/OS patch adds" in example["context"] and "How do you port" in example["question"]
            assert record["wrong_code"].strip().splitlines()[0].strip() in example["context"]


def test_knowledge_leaves_respect_instructlab_limits_and_cite_their_document(rendered, tmp_path):
    source, _options, result = rendered
    docs = source / "docs"
    for leaf in (leaf for leaf in result["leaves"] if leaf["kind"] == "knowledge"):
        data = yaml.safe_load((source / "taxonomy" / leaf["path"]).read_text())
        examples = data["seed_examples"]
        assert len(examples) >= 5
        total = 0
        for example in examples:
            assert len(example["questions_and_answers"]) >= 3  # fewer: KeyError 'icl_query_2' in ilab
            assert len(example["context"].split()) <= 500
            total += len(example["context"].split())
            for pair in example["questions_and_answers"]:
                assert len(pair["answer"].split()) <= 250
                total += len(pair["question"].split()) + len(pair["answer"].split())
        assert total <= 2300
        document = data["document"]
        assert document["repo"] == "file://" + os.path.realpath(docs)
        assert document["patterns"] == ["zos_porting/%s.md" % leaf["category"]]
        assert data["document_outline"].strip()
        # What ilab does: clone the repo, check out the commit, read the pattern's .md files.
        clone = tmp_path / leaf["category"]
        subprocess.run(["git", "clone", "-q", document["repo"], str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", document["commit"]], check=True)
        found = [p for pattern in document["patterns"] for p in glob.glob(str(clone / pattern)) if p.endswith(".md")]
        assert len(found) == 1
        text = Path(found[0]).read_text()
        for example in examples:
            assert example["context"].strip() in text, "every context is drawn verbatim from the document"


def test_attribution_names_each_port_repo_and_its_licence(rendered):
    tmp_path, _options, result = rendered
    for leaf in result["leaves"]:
        text = (tmp_path / "taxonomy" / leaf["path"]).with_name("attribution.txt").read_text()
        for port in leaf["ports"]:
            url = "https://github.com/zopencommunity/%s" % port
            assert "Link to work: %s" % url in text
            if port == "zlibport":
                assert "License of the work: Zlib" in text
            elif port == "curlport":
                assert "License of the work: MIT-like curl licence" in text
            else:
                assert "License of the work: see %s" % url in text


def test_second_render_changes_nothing_and_makes_no_commit(tmp_path):
    options = _render(tmp_path)
    first = qr.render_taxonomy(options)
    assert first["changed"] and first["commit"] and first["docs_commit"]
    taxonomy_log, docs_log = _git_log(tmp_path / "taxonomy"), _git_log(tmp_path / "docs")
    snapshot = dict((p, p.read_bytes()) for p in (tmp_path / "taxonomy").rglob("*.yaml"))

    second = qr.render_taxonomy(options)
    assert second["changed"] is False and second["commit"] is None and second["docs_commit"] is None
    assert second["changed_files"] == [] and second["removed_files"] == []
    assert second["base_commit"] == first["commit"]
    assert _git_log(tmp_path / "taxonomy") == taxonomy_log and _git_log(tmp_path / "docs") == docs_log
    assert dict((p, p.read_bytes()) for p in (tmp_path / "taxonomy").rglob("*.yaml")) == snapshot

    preview = qr.render_taxonomy(options, check_mode=True)
    assert preview["changed"] is False and preview["changed_files"] == []


def test_check_mode_writes_initialises_and_commits_nothing(tmp_path):
    options = _render(tmp_path)
    preview = qr.render_taxonomy(options, check_mode=True)
    assert preview["changed"]
    assert "compositional_skills/zos_porting/encoding/qna.yaml" in preview["changed_files"]
    assert "docs:zos_porting/encoding.md" in preview["changed_files"]
    assert not (tmp_path / "taxonomy").exists() and not (tmp_path / "docs").exists()

    qr.render_taxonomy(options)
    log = _git_log(tmp_path / "taxonomy")
    attribution = tmp_path / "taxonomy" / "compositional_skills" / "zos_porting" / "encoding" / "attribution.txt"
    before = attribution.read_bytes()
    options["licenses"] = {port: "Apache-2.0" for port in samples.PORTS}
    preview = qr.render_taxonomy(options, check_mode=True)
    assert preview["changed"] and "compositional_skills/zos_porting/encoding/attribution.txt" in preview["changed_files"]
    assert attribution.read_bytes() == before and _git_log(tmp_path / "taxonomy") == log

    applied = qr.render_taxonomy(options)
    assert applied["commit"] and _git_log(tmp_path / "taxonomy") == [applied["commit"]] + log
    assert b"Apache-2.0" in attribution.read_bytes()


def test_a_changed_document_moves_the_knowledge_commit(tmp_path, monkeypatch):
    options = _render(tmp_path)
    qr.render_taxonomy(options)
    records = samples.sample_records() + [samples._encoding(6, "xzport"), samples._encoding(7, "tarport")]
    _write_records(Path(options["src"]), records)
    result = qr.render_taxonomy(options)
    assert result["docs_commit"] and result["commit"]
    data = yaml.safe_load((tmp_path / "taxonomy" / "knowledge" / "zos_porting" / "encoding" / "qna.yaml").read_text())
    assert data["document"]["commit"] == result["docs_commit"]
    shown = subprocess.run(
        ["git", "-C", str(tmp_path / "docs"), "show", "%s:zos_porting/encoding.md" % result["docs_commit"]], stdout=subprocess.PIPE, text=True, check=True
    )
    assert "xz:" in shown.stdout
    # Categories whose document did not change keep citing the older commit.
    other = yaml.safe_load((tmp_path / "taxonomy" / "knowledge" / "zos_porting" / "configure" / "qna.yaml").read_text())
    assert other["document"]["commit"] != result["docs_commit"]


def test_stale_leaves_are_removed_and_committed(tmp_path):
    options = _render(tmp_path)
    qr.render_taxonomy(options)
    records = [r for r in samples.sample_records() if r["error_category"] != "encoding"]
    _write_records(Path(options["src"]), records)
    result = qr.render_taxonomy(options)
    assert "compositional_skills/zos_porting/encoding/qna.yaml" in result["removed_files"]
    assert "docs:zos_porting/encoding.md" in result["removed_files"]
    assert not (tmp_path / "taxonomy" / "compositional_skills" / "zos_porting" / "encoding").exists()
    status = subprocess.run(["git", "-C", str(tmp_path / "taxonomy"), "status", "--porcelain"], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert status == "" and result["commit"]


def test_the_render_only_commits_its_own_root(tmp_path):
    options = _render(tmp_path, kinds=["skills"], docs_repo=None)
    taxonomy = tmp_path / "taxonomy"
    taxonomy.mkdir()
    subprocess.run(["git", "-C", str(taxonomy), "init", "-q", "-b", "main"], check=True)
    (taxonomy / "README.md").write_text("someone else's work in progress\n")
    result = qr.render_taxonomy(options)
    assert result["commit"]
    status = subprocess.run(["git", "-C", str(taxonomy), "status", "--porcelain"], stdout=subprocess.PIPE, text=True, check=True).stdout
    assert status.strip() == "?? README.md"
    assert not any(leaf["kind"] == "knowledge" for leaf in result["leaves"])


def test_fewer_than_three_qna_per_context_is_refused():
    records = [samples._encoding(i, port) for i, port in enumerate(samples.PORTS[:5])]
    with pytest.raises(kd.KnowledgeBudgetError, match="at least 3"):
        kd.build_knowledge("encoding", records, records, qna_per_context=2)
    document, seeds, _outline = kd.build_knowledge("encoding", records, records, qna_per_context=3)
    assert len(seeds) == 5 and all(len(seed["questions_and_answers"]) == 3 for seed in seeds)
    assert all(seed["context"] in document for seed in seeds)


@pytest.mark.parametrize(
    "over, message",
    [
        ({"taxonomy_root": "../escape"}, "taxonomy_root"),
        ({"taxonomy_root": "/abs"}, None),
        ({"examples_per_leaf": 3}, "examples_per_leaf"),
        ({"qna_per_context": 2}, "qna_per_context"),
        ({"kinds": ["knowledge"], "docs_repo": None}, "docs_repo is required"),
        ({"kinds": ["poems"]}, "kinds"),
        ({"created_by": "two\nlines"}, "created_by"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(tmp_path, over, message):
    options = _render(tmp_path, **over)
    if message is None:
        # A leading '/' is stripped: the root always stays inside the taxonomy.
        result = qr.render_taxonomy(options, check_mode=True)
        assert all(path.startswith(("compositional_skills/abs/", "knowledge/abs/", "docs:abs/")) for path in result["changed_files"])
        return
    with pytest.raises(qr.QnaRenderError, match=message):
        qr.render_taxonomy(options)
    assert not (tmp_path / "taxonomy").exists()


def test_inputs_that_are_not_records_are_counted_not_fatal(tmp_path):
    src = tmp_path / "records.jsonl"
    _write_records(src, samples.sample_records())
    with open(src, "ab") as handle:
        handle.write(b"not json\n\xff\xfe\n[1]\n" + json.dumps({"port": "x"}).encode() + b"\n")
    result = qr.render_taxonomy({"src": str(src), "taxonomy_dir": str(tmp_path / "t"), "kinds": ["skills"]}, check_mode=True)
    assert result["invalid"] == 4 and result["records"] == len(samples.sample_records())
    with pytest.raises(qr.QnaRenderError, match="missing.jsonl"):
        qr.render_taxonomy({"src": str(tmp_path / "missing.jsonl"), "taxonomy_dir": str(tmp_path / "t"), "kinds": ["skills"]})
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "file").write_text("x")
    with pytest.raises(qr.git_local.GitError, match="not a git repository"):
        qr.render_taxonomy({"src": str(src), "taxonomy_dir": str(tmp_path / "occupied"), "kinds": ["skills"]})


def test_a_curated_folder_renders_its_train_split_only(tmp_path):
    records = samples.sample_records()
    _write_records(tmp_path / "in.jsonl", records)
    curated = dc.curate({"src": [str(tmp_path / "in.jsonl")], "dest": str(tmp_path / "curated"), "report": False})
    result = qr.render_taxonomy({"src": str(tmp_path / "curated"), "taxonomy_dir": str(tmp_path / "t"), "kinds": ["skills"]})
    assert result["records"] == curated["counts"]["train"]
    used_ports = set(port for leaf in result["leaves"] for port in leaf["ports"])
    assert used_ports and not used_ports & set(curated["test_ports"])


# ---------------------------------------------------------------------------
# The YAML writer


TRICKY = [
    "    leading spaces on the first line\nthen more",
    "tabs\tinside\n\tand a tab-indented line",
    "# looks like a comment\nkey: value\n- item\n'quotes' \"and\" `ticks`",
    "trailing spaces   \nand CRLF\r\nline ends\rold mac",
    "control\x00chars\x1b[0m and \x0c form feed",
    "unicode: z/OS \u00e9 \u2014 \u65e5\u672c",
    "many\n\n\n\n\nblank lines",
    "ends with newlines\n\n\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_round_trips_and_lints_clean(text):
    cleaned = ty.clean_text(text) + "\n"
    data = {
        "version": 3,
        "created_by": "autoport-zos",
        "task_description": cleaned,
        "seed_examples": [{"context": cleaned, "question": "q %d?" % i, "answer": cleaned + "answer %d\n" % i} for i in range(5)],
    }
    rendered = ty.render_qna(data, "compositional_skills", "test/qna.yaml")
    assert yaml.safe_load(rendered) == data
    assert ty.validate_qna(rendered, data, "compositional_skills") == []
    assert "\x00" not in rendered and "\x1b" not in rendered and "\r" not in rendered


def test_the_writer_refuses_what_instructlab_would_refuse():
    data = {"version": 3, "created_by": "me", "task_description": "t", "seed_examples": [{"question": "q%d" % i, "answer": "a"} for i in range(4)]}
    with pytest.raises(ty.TaxonomyFileError, match=r"test/qna.yaml: .*at least|test/qna.yaml: .*too short|non-empty|should be non-empty|4"):
        ty.render_qna(data, "compositional_skills", "test/qna.yaml")
    long_line = {
        "version": 3,
        "created_by": "me",
        "task_description": "x " * 5 + "y" * 10 + " z" * 70 + "\nsecond line\n",
        "seed_examples": [{"question": "q%d" % i, "answer": "a"} for i in range(5)],
    }
    problems = ty.validate_qna(ty.dump_skill(long_line), long_line, "compositional_skills")
    assert any("line too long" in problem for problem in problems)


# ---------------------------------------------------------------------------
# Secrets: planted in records, never in the taxonomy or the documents


def test_planted_secrets_never_reach_the_taxonomy_or_the_documents(tmp_path):
    key = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----" % KEY_BODY
    # Different options added in each record: six distinct fixes, not near-duplicates.
    OPTIONS = ["--depth 1", "--single-branch", "--no-tags", "--quiet", "--shallow-submodules", "--filter=blob:none"]
    leaky = []
    for i, port in enumerate(samples.PORTS[:6]):
        leaky.append(
            samples._record(
                "environment",
                port,
                "scripts/fetch-%d.sh" % i,
                "git clone https://ci:%s@git.example.com/dep%d.git\ncd /home/%s/dep%d\n" % (URL_PASSWORD, i, HOME_USER, i),
                "git clone https://ci:%s@git.example.com/dep%d.git %s\ncd /home/%s/dep%d\n%s\n" % (URL_PASSWORD, i, OPTIONS[i], HOME_USER, i, key),
                "fetch-%d.sh: fatal: Authentication failed (token=%s) for /u/%s/dep%d" % (i, GITHUB_TOKEN, HOME_USER, i),
                toolchain="sh",
                outside=True,
            )
        )
    _write_records(tmp_path / "raw.jsonl", leaky)
    curated = dc.curate({"src": [str(tmp_path / "raw.jsonl")], "dest": str(tmp_path / "curated"), "report": False})
    assert curated["counts"]["kept"] == 6
    # Render the curated dataset: records enter through curate, which scrubs them once.
    for name, src in (("a", tmp_path / "curated" / "dataset.jsonl"),):
        result = qr.render_taxonomy({"src": str(src), "taxonomy_dir": str(tmp_path / name / "t"), "docs_repo": str(tmp_path / name / "d")})
        assert sorted((leaf["kind"], leaf["category"]) for leaf in result["leaves"]) == [("knowledge", "environment"), ("skills", "environment")]
    texts = []
    for path in tmp_path.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    for repo in (tmp_path / "a" / "t", tmp_path / "a" / "d"):
        texts.append(subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"], stdout=subprocess.PIPE, text=True, check=True).stdout)
    outputs = "\n".join(texts)
    raw = (tmp_path / "raw.jsonl").read_text()
    outputs = outputs.replace(raw, "")  # the planted input itself
    for secret in (GITHUB_TOKEN, URL_PASSWORD, KEY_BODY, HOME_USER):
        assert secret in raw
        assert secret not in outputs
    assert "<PRIVATE_KEY>" in outputs and "<PASSWORD>" in outputs and "<TOKEN>" in outputs and "/home/<USER>" in outputs


# ---------------------------------------------------------------------------
# The shared corpus, mined by static_mine


def test_corpus_mined_curated_and_rendered_one_leaf_per_category(corpus_ports, tmp_path, monkeypatch):
    static_mine = pytest.importorskip("ansible_collections.autoport.zos.plugins.module_utils.static_mine")
    ports = sorted(p for p in corpus_ports.iterdir() if p.is_dir())
    assert len(ports) >= 10
    for port in ports:
        static_mine.mine_port(str(port), str(tmp_path / "mined" / (port.name + ".jsonl")))
    curated = dc.curate({"src": [str(tmp_path / "mined")], "dest": str(tmp_path / "curated"), "report": False})
    counts = curated["counts"]
    assert counts["kept"] + counts["rejected"] + counts["merged"] == counts["read"] > 500

    result = qr.render_taxonomy({"src": str(tmp_path / "curated" / "dataset.jsonl"), "taxonomy_dir": str(tmp_path / "t"), "docs_repo": str(tmp_path / "d")})
    per_category = {}
    for line in (tmp_path / "curated" / "dataset.jsonl").read_text().splitlines():
        category = json.loads(line)["error_category"]
        per_category[category] = per_category.get(category, 0) + 1
    leaves = dict(((leaf["kind"], leaf["category"]), leaf) for leaf in result["leaves"])
    skipped = dict(((item["kind"], item["category"]), item) for item in result["skipped"])
    for kind in ("skills", "knowledge"):
        for category, count in per_category.items():
            if (kind, category) in leaves:
                assert count >= 5 and leaves[(kind, category)]["examples"] >= 5
            else:
                # Reported, with a reason: too few records, or too few usable ones.
                assert (kind, category) in skipped
                assert count < 5 or "usable" in skipped[(kind, category)]["reason"]
        assert sum(1 for key in leaves if key[0] == kind) >= 8
    assert not any("not valid for InstructLab" in item["reason"] for item in result["skipped"])

    _venv_bin_on_path(monkeypatch)
    for rel in _ilab_diff_files(tmp_path / "t", None):
        parsed = _ilab_parse(tmp_path / "t" / rel, STRICTEST_YAMLLINT)
        assert (parsed.errors, parsed.warnings) == (0, 0), rel


def test_uncurated_build_and_static_views_of_one_hunk_give_one_example():
    build = samples._implicit_function(0, "curlport")
    static = samples._record(build["error_category"], build["port"], build["file"], build["wrong_code"], build["correct_code"], provenance="static")
    assert (static["patch_file"], static["hunk"]) == (build["patch_file"], build["hunk"])
    usable, reasons = qr.usable_records([static, build])
    assert [record["id"] for record in usable] == [build["id"]]
    assert reasons == {"another record of the same hunk": 1}
    long_code = samples._record("other", "x", "big.c", "int a;\n" * 40, "int b;\n" * 40)
    wide_code = samples._record("other", "x", "wide.c", "int a = %s;\n" % ("1 + " * 40), "int a = 2;\n")
    usable, reasons = qr.usable_records([long_code, wide_code])
    assert usable == [] and reasons == {"code longer than 30 lines": 1, "a line longer than 110 characters": 1}
