"""Planted secrets never come out: harvest + mine -> curate -> taxonomy for real, with every kind
of secret of tests/planted_secrets.py planted in

- a tiny port's patches (a fixing patch and a new documentation file),
- the compiler messages its build prints (``#error`` lines the fixing patch removes),
- the environment: exported by the operator (must not reach the build) and given in
  ``harvest_build_env`` (reaches the build, which prints its environment to its log),
- records from outside that enter curation;

and then none of the values is in any file the run wrote: the harvest's records, logs
and checkpoints on the build host, the mine stage's static records, everything under the output folder, the taxonomy and
knowledge repositories with their git history, and ansible-runner's artifact folders.

What is not searched: the copies of the inputs, which hold the planted inputs by design:
the controller's ``.sources/`` (the port as cloned or packed to be sent), and the build
host's ``port/``, the ``port.tar`` it came in and ``work/`` (the source tree the build ran in).
One exclusion: ansible-runner writes the environment it was started with to
``artifacts/<id>/command``; the operator's exported values are there because the test
harness handed them to ansible-runner, not because the collection wrote them.
"""

from __future__ import annotations

import difflib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from playbook_harness import assert_ok, run_playbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planted_secrets import ALL_SECRETS, CATALOGUE  # noqa: E402

from ansible_collections.autoport.zos.plugins.module_utils.record import record_id  # noqa: E402

pytest.importorskip("instructlab.schema.taxonomy")

OPERATOR_SECRETS = {"GITHUB_TOKEN": "ghp_" + "Op3rat0rExp0rtedTok3nAbCdEf0123456789", "ZZ_VAULT_LEASE": "opaque-operator-lease-value"}
BUILD_ENV = {"PLANT_DEPLOY_SECRET": "opaque-build-env-value", "PLANT_GITLAB_TOKEN": "glpat-" + "Bu1ldEnvGitLabTok3n_xyzw"}
ONE_LINE = [entry for entry in CATALOGUE if "\n" not in entry[1]]
MULTI_LINE = [entry for entry in CATALOGUE if "\n" in entry[1]]

UPSTREAM_C = "#include <stdio.h>\n%s\nint main(void)\n{\n    puts(\"plant\");\n    return 0;\n}\n" % "\n".join(
    "#error %s" % json.dumps(text) for _kind, text, _found in ONE_LINE)
FIXED_C = "#include <stdio.h>\n/* Deployment notes, kept by the porter:\n%s\n */\nint main(void)\n{\n    puts(\"plant\");\n    return 0;\n}\n" % "\n".join(
    " * " + line for _kind, text, _found in MULTI_LINE for line in text.splitlines())
MAKEFILE = """all: plant

plant: plant.c
\tenv | sort
\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o plant.o plant.c
\t$(CC) $(LDFLAGS) -o plant plant.o

check: plant
\t./plant

clean:
\trm -f plant plant.o

.PHONY: all check clean
"""
BUILDENV = """# plantport: a port whose patches, messages and environment hold planted secrets
export ZOPEN_TYPE="TARBALL"
export ZOPEN_TARBALL_URL="https://example.invalid/plant/plant-1.0.tar.gz"
export ZOPEN_TARBALL_DEPS="make"
export ZOPEN_CONFIGURE="skip"

zopen_get_version()
{
  echo "1.0"
}
"""


def _diff(path: str, before: str, after: str) -> str:
    old = "/dev/null" if before is None else "a/" + path
    lines = difflib.unified_diff((before or "").splitlines(True), after.splitlines(True), old, "b/" + path, n=3)
    return "".join(lines)


def _tarball(dest: Path) -> None:
    with tarfile.open(dest, "w:gz") as tar:
        for name, text, mode in (("Makefile", MAKEFILE, 0o644), ("plant.c", UPSTREAM_C, 0o644)):
            data = text.encode("utf-8")
            info = tarfile.TarInfo("plant-1.0/" + name)
            info.size, info.mode, info.mtime = len(data), mode, 1700000000
            tar.addfile(info, io.BytesIO(data))


def _outside_records() -> list:
    """Records as a third party could hand them to curate: six fixes of one category,
    each carrying a share of the catalogue in its code, message and patch."""
    records = []
    for i in range(6):
        mine = [text for n, (_kind, text, _found) in enumerate(CATALOGUE) if n % 6 == i]
        before = "#!/bin/sh\n# fetch step %d of the port\n%s\nmake fetch-%d\n" % (i, "\n".join(mine), i)
        after = "#!/bin/sh\n# fetch step %d of the port\n%s\nexport _BPXK_AUTOCVT=ON\nmake fetch-%d\n" % (i, "\n".join(mine), i)
        record = {
            "port": "outside%dport" % i, "port_commit": None, "patch_file": "patches/fetch-%d.sh.patch" % i, "file": "fetch-%d.sh" % i,
            "hunk": 1, "phase": "build", "toolchain": "sh", "provenance": "build", "error_category": "environment",
            "error": "fetch-%d.sh: %s: text file is not tagged" % (i, mine[0].splitlines()[0]), "error_code": None, "build_line": "STABLE",
            "wrong_code": before, "correct_code": after, "patch": _diff("fetch-%d.sh" % i, before, after),
        }
        record["id"] = record_id(record)
        records.append(record)
    return records


def _texts(root: Path, skip: tuple = ()) -> list:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part in skip for part in path.relative_to(root).parts):
            found.append((path, path.read_bytes().decode("utf-8", "replace")))
    return found


def _git_history(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "log", "-p", "--all", "--format=%H %an %ae %s%n%b"], stdout=subprocess.PIPE,
                          text=True, check=True).stdout


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("planted")
    port = base / "ports" / "plantport"
    (port / "patches").mkdir(parents=True)
    (port / "buildenv").write_text(BUILDENV, encoding="utf-8")
    (port / "patches" / "plant.c.patch").write_text(_diff("plant.c", UPSTREAM_C, FIXED_C), encoding="utf-8")
    notes = "\n".join(text for _kind, text, _found in CATALOGUE) + "\n"
    (port / "patches" / "notes.patch").write_text(_diff("docs/deploy-notes.txt", None, notes), encoding="utf-8")
    mirror = base / "mirror"
    mirror.mkdir()
    _tarball(mirror / "plant-1.0.tar.gz")
    out = base / "out"
    (base / "outside").mkdir()
    (base / "outside" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _outside_records()), encoding="utf-8")
    inventory = base / "inventory.yml"
    groups = {"autoport_build_hosts": {"hosts": {"localhost": None}}, "autoport_ai_hosts": {"hosts": {"localhost": None}}}
    inventory.write_text(yaml.safe_dump({"all": {"children": groups, "vars": {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "autoport_output_dir": str(out),
        "harvest_remote_dir": str(base / "remote"),
        "harvest_poll_interval": 1,
        "harvest_mirror_dir": str(mirror),
        "harvest_ports": [{"name": "plantport", "src": str(port)}],
        "harvest_build_env": BUILD_ENV,
        "curate_src": [str(out / "harvest"), str(out / "mined"), str(base / "outside")],
        "taxonomy_src": str(out / "curated" / "dataset.jsonl"),
    }}}), encoding="utf-8")
    runs = {}
    # The harvest writes build records only; the patches' static records (the planted
    # documentation file's among them) come from the mine stage.
    for stage in ("harvest", "mine", "curate", "taxonomy"):
        runs[stage] = run_playbook("%s.yml" % stage, {}, inventory=str(inventory), private_data_dir=str(base / ("run-" + stage)),
                                   envvars=OPERATOR_SECRETS)
        assert_ok(runs[stage])
    return {"base": base, "out": out, "runs": runs}


def test_the_planted_inputs_went_all_the_way(planted_run: dict) -> None:
    out = planted_run["out"]
    harvested = [json.loads(line) for line in (out / "harvest" / "plantport" / "records.jsonl").read_text().splitlines()]
    assert {r["patch_file"] for r in harvested} == {"patches/plant.c.patch"}
    # The fixing patch was credited with the #error messages the build printed.
    assert any(r["provenance"] == "build" and "#error" in r["error"] for r in harvested)
    assert all(r["provenance"] == "build" for r in harvested)
    mined = [json.loads(line) for line in (out / "mined" / "plantport.jsonl").read_text().splitlines()]
    assert {r["patch_file"] for r in mined} == {"patches/plant.c.patch", "patches/notes.patch"}
    assert all(r["provenance"] == "static" for r in mined)
    logs = "\n".join(text for _path, text in _texts(out / "harvest" / "plantport" / "logs"))
    assert "#error" in logs and "PLANT_DEPLOY_SECRET=<TOKEN>" in logs and "PATH=" in logs
    dataset = (out / "curated" / "dataset.jsonl").read_text()
    assert "outside3port" in dataset and "plantport" in dataset
    leaves = list((out / "taxonomy").rglob("qna.yaml"))
    assert leaves, "no leaf rendered: the taxonomy check would prove nothing"
    assert "<TOKEN>" in "".join(p.read_text() for p in leaves)


def test_no_planted_secret_in_any_output_log_history_or_artifact(planted_run: dict) -> None:
    base = planted_run["base"]
    everything = list(ALL_SECRETS) + list(OPERATOR_SECRETS.values()) + list(BUILD_ENV.values())
    searched = _texts(base / "out", skip=(".sources",)) + _texts(base / "remote", skip=("port", "port.tar", "work"))
    for repo in (base / "out" / "taxonomy", base / "out" / "knowledge-docs"):
        searched.append((repo / ".git", _git_history(repo)))
    for stage in planted_run["runs"]:
        searched += _texts(base / ("run-" + stage) / "artifacts")
    assert len(searched) > 20
    leaks = []
    for path, text in searched:
        for secret in everything:
            if secret in text and not (path.name == "command" and secret in OPERATOR_SECRETS.values()):
                leaks.append((str(path.relative_to(base)) if path.is_relative_to(base) else str(path), secret[:12] + "..."))
    assert leaks == []
    # The build saw harvest_build_env but not the operator's exported variables.
    logs = "\n".join(text for _path, text in _texts(base / "out" / "harvest" / "plantport" / "logs"))
    assert "GITHUB_TOKEN" not in logs and "ZZ_VAULT_LEASE" not in logs and "PLANT_GITLAB_TOKEN=" in logs
