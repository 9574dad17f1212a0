"""GitOps trigger: the signed webhook source, the push -> stage filter, and ansible-rulebook receiving real POSTs.

Every server here listens on 127.0.0.1 only; request loops are bounded in count and time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from playbook_harness import COLLECTIONS, REPO, STANDIN

EDA = REPO / "extensions" / "eda"
RULEBOOK = EDA / "rulebooks" / "autoport_gitops.yml"
FIXTURE_COLLECTION = Path(__file__).resolve().parent / "fixtures" / "ops" / "eda"
BIN = Path(sys.executable).parent
SECRET = "gitops-test-secret-4e1f9a0c7b"
COMMITS = {"site": "1" * 40, "train": "2" * 40, "unsigned": "3" * 40, "wrong": "4" * 40, "other": "5" * 40}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stage_filter():
    return _load("autoport_git_push_stage", EDA / "plugins" / "event_filter" / "git_push_stage.py")


@pytest.fixture(scope="module")
def webhook():
    return _load("autoport_git_webhook", EDA / "plugins" / "event_source" / "git_webhook.py")


def push(commit: str, paths: list[str], ref: str = "refs/heads/main") -> dict[str, Any]:
    return {
        "ref": ref, "before": "0" * 40, "after": commit, "repository": {"full_name": "example/autoport"},
        "commits": [{"id": commit, "author": {"email": "dev@example.invalid"}, "added": paths[:1], "modified": paths[1:], "removed": []}],
    }


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ------------------------------------------------------------ the filter: which stage a push asks for


@pytest.mark.parametrize(
    "paths, stage",
    [
        (["inventory/example-zos/group_vars/all/harvest_ports.yml"], "site"),
        (["inventory/harvest_ports.yml"], "site"),
        (["ports.yml"], "site"),
        (["config/ports.yml"], "site"),
        (["taxonomy/compositional_skills/zos/porting/qna.yaml"], "train"),
        (["taxonomy/x/qna.yaml", "inventory/a/harvest_ports_extra.yml"], "site"),  # both: site trains too
        (["README.md", "roles/harvest/tasks/main.yml"], None),
        (["inventory/harvest_portsdir/../x"], None),
        (["my-taxonomy/qna.yaml", "oldports.yml"], None),
    ],
)
def test_changed_paths_decide_the_stage(stage_filter, paths: list[str], stage: str | None) -> None:
    decision = stage_filter.decide(push("a" * 40, paths))
    assert decision["stage"] == stage, decision
    if stage:
        assert decision["commit"] == "a" * 40 and decision["paths"] and decision["branch"] == "main"
        assert decision["repository"] == "example/autoport"
    else:
        assert decision["reason"].startswith("no changed path")


@pytest.mark.parametrize(
    "payload, reason",
    [
        (push("a" * 40, ["ports.yml"], ref="refs/heads/feature"), "branch feature is not watched"),
        (push("a" * 40, ["ports.yml"], ref="refs/tags/v1"), "not a branch push"),
        (dict(push("0" * 40, ["ports.yml"]), deleted=True), "the branch was deleted"),
        (push("$(rm -rf /)", ["ports.yml"]), "not a hex commit id"),
        ({"ref": 7, "after": None, "commits": "all of them"}, "not a branch push"),
    ],
)
def test_pushes_that_must_start_nothing(stage_filter, payload: dict[str, Any], reason: str) -> None:
    decision = stage_filter.decide(payload)
    assert decision["stage"] is None and decision["commit"] in (None,) and reason in decision["reason"]


def test_hostile_payload_shapes_are_bounded_and_never_crash(stage_filter) -> None:
    many = [{"added": ["f%d" % i for i in range(100)], "modified": [None, 3, {"x": 1}], "removed": "nope"} for i in range(5000)]
    paths = stage_filter.changed_paths({"commits": many + ["junk", None]})
    assert paths == ["f%d" % i for i in range(100)]  # deduplicated, non-strings dropped
    huge = [{"added": ["p/%d" % i for i in range(30000)]}]
    assert len(stage_filter.changed_paths({"commits": huge})) == stage_filter.MAX_PATHS
    assert stage_filter.changed_paths({"commits": [{"added": ["x" * 5000]}]}) == []


def test_filter_entry_point_drops_the_payload_and_refuses_templated_branches(stage_filter) -> None:
    event = {"payload": push("b" * 40, ["taxonomy/a/qna.yaml"]), "meta": {"headers": {}}}
    out = stage_filter.main(event, branches=["main"])
    assert "payload" not in out and out["autoport"]["stage"] == "train"
    assert stage_filter.main({"meta": {}})["autoport"]["reason"] == "no payload"
    assert stage_filter.decide(push("b" * 40, ["ports.yml"], ref="refs/heads/release"), branches="main, release")["stage"] == "site"
    with pytest.raises(ValueError, match="does not template filter arguments"):
        stage_filter.decide(push("b" * 40, ["ports.yml"]), branches=["{{ branches }}"])


def test_glob_semantics(stage_filter) -> None:
    regex = stage_filter.glob_to_regex("inventory/**/harvest_ports*")
    assert regex.match("inventory/harvest_ports.yml") and regex.match("inventory/a/b/harvest_ports.yml")
    assert not regex.match("inventory/a/harvest_ports/x") and not regex.match("xinventory/harvest_ports")
    assert stage_filter.glob_to_regex("a?c").match("abc") and not stage_filter.glob_to_regex("a?c").match("a/c")
    assert stage_filter.glob_to_regex("a.b").match("a.b") and not stage_filter.glob_to_regex("a.b").match("axb")


# ------------------------------------------------------------ the source: signatures, secret, HTTP


def test_signature_check(webhook) -> None:
    body = b'{"ref": "refs/heads/main"}'
    assert webhook.signature_matches(SECRET.encode(), body, sign(body))
    assert webhook.signature_matches(SECRET.encode(), body, sign(body)[len("sha256="):].upper())
    assert not webhook.signature_matches(SECRET.encode(), body, sign(body, "other-secret"))
    assert not webhook.signature_matches(SECRET.encode(), body + b" ", sign(body))
    assert not webhook.signature_matches(SECRET.encode(), body, None)
    assert not webhook.signature_matches(SECRET.encode(), body, "sha256=")


def test_secret_is_required_and_taken_out_of_the_environment(webhook) -> None:
    environ = {"AUTOPORT_WEBHOOK_SECRET": "from-env-123456", "OTHER": "x"}
    assert webhook.read_secret({}, environ) == b"from-env-123456"
    assert "AUTOPORT_WEBHOOK_SECRET" not in environ and environ == {"OTHER": "x"}
    assert webhook.read_secret({"secret": "given"}, {}) == b"given"
    for args, environ in (({}, {}), ({"secret": "  "}, {}), ({"secret_env": "MY_HOOK"}, {"MY_HOOK": ""})):
        with pytest.raises(webhook.WebhookConfigError, match="needs a shared secret"):
            webhook.read_secret(args, environ)


@pytest.mark.parametrize("args, message", [({}, "port argument is required"), ({"port": "http"}, "not a number"), ({"port": 70000}, "out of range")])
def test_bad_source_arguments(webhook, args: dict[str, Any], message: str) -> None:
    with pytest.raises(webhook.WebhookConfigError, match=message):
        webhook.parse_config(args)
    assert webhook.parse_config({"port": "5000"})["host"] == "127.0.0.1"


def test_http_answers(webhook) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    async def scenario() -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        queue: asyncio.Queue = asyncio.Queue()
        config = webhook.parse_config({"port": 1, "max_body_bytes": 4096})
        app = webhook.build_app(queue, config, SECRET.encode(), asyncio.Event())
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            body = json.dumps(push("c" * 40, ["ports.yml"])).encode()
            cases = [
                ("unsigned", body, {"X-GitHub-Event": "push"}),
                ("wrong signature", body, {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(body, "guess")}),
                ("signed", body, {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(body), "X-GitHub-Delivery": "d-1"}),
                ("redelivered", body, {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(body), "X-GitHub-Delivery": "d-1"}),
                ("ping", b"{}", {"X-GitHub-Event": "ping", "X-Hub-Signature-256": sign(b"{}")}),
                ("issue event", b"{}", {"X-GitHub-Event": "issues", "X-Hub-Signature-256": sign(b"{}")}),
                ("not json", b"\xc1\xc2\x40", {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(b"\xc1\xc2\x40")}),
                ("json list", b"[1]", {"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(b"[1]")}),
                ("too big", b"{" + b" " * 5000 + b"}", {"X-GitHub-Event": "push"}),
            ]
            for label, data, headers in cases:
                response = await client.post("/webhook", data=data, headers=headers)
                answers.append((label, response.status))
            answers.append(("other path", (await client.post("/elsewhere", data=body, headers=cases[2][2])).status))
            answers.append(("GET", (await client.get("/webhook")).status))
        events = []
        while not queue.empty():
            events.append(queue.get_nowait())
        return answers, events

    answers, events = asyncio.run(scenario())
    assert answers == [
        ("unsigned", 401), ("wrong signature", 401), ("signed", 202), ("redelivered", 200), ("ping", 200),
        ("issue event", 202), ("not json", 400), ("json list", 400), ("too big", 413), ("other path", 404), ("GET", 405),
    ]
    assert len(events) == 1
    assert events[0]["payload"]["after"] == "c" * 40
    headers = events[0]["meta"]["headers"]
    assert headers["X-GitHub-Event"] == "push" and headers["X-GitHub-Delivery"] == "d-1"
    assert set(headers) <= {"X-GitHub-Event", "X-GitHub-Delivery", "User-Agent"}  # no signature, no authorization
    assert SECRET not in json.dumps(events)


# ------------------------------------------------------------ ansible-rulebook, for real


def _java_home() -> str | None:
    if os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists():
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parents[1]) if java else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request("http://127.0.0.1:%d/webhook" % port, data=body, headers=dict(headers, **{"Content-Type": "application/json"}))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _wait_listening(port: int, proc: subprocess.Popen, deadline_s: float = 90) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("ansible-rulebook exited early (rc %s)" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("ansible-rulebook did not listen on 127.0.0.1:%d within %ss" % (port, deadline_s))


def _wait_log(path: Path, text: str, count: int, proc: subprocess.Popen, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if path.read_text(encoding="utf-8").count(text) >= count:
            return
        if proc.poll() is not None:
            raise AssertionError("ansible-rulebook exited early (rc %s)" % proc.returncode)
        time.sleep(0.5)
    raise AssertionError("%r did not appear %d times in %s within %ss" % (text, count, path, deadline_s))


def _rulebook_env(out: Path, secret: str | None) -> dict[str, str]:
    java_home = _java_home()
    if not (BIN / "ansible-rulebook").exists() or not java_home:
        pytest.skip("ansible-rulebook or Java 17 is missing: pip install -r requirements/ops.in -c requirements/ops-constraints.txt")
    env = {k: v for k, v in os.environ.items() if k != "AUTOPORT_WEBHOOK_SECRET"}
    env.update({
        "JAVA_HOME": java_home,
        "PATH": "%s:%s" % (BIN, env["PATH"]),
        "ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (COLLECTIONS, STANDIN),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "AUTOPORT_EDA_TEST_OUT": str(out),
    })
    if secret is not None:
        env["AUTOPORT_WEBHOOK_SECRET"] = secret
    return env


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def _project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project repository: commit A (port list, stand-in playbooks), then B (taxonomy) on main."""
    repo = tmp_path / "project"
    (repo / "playbooks").mkdir(parents=True)
    for name in ("site.yml", "train.yml"):
        shutil.copy(FIXTURE_COLLECTION / "playbooks" / name, repo / "playbooks" / name)
    (repo / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n", encoding="utf-8")
    inventory = repo / "inventory" / "local"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n  vars:\n    ansible_connection: local\n"
                                         "    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n", encoding="utf-8")
    (inventory / "group_vars" / "all" / "harvest_ports.yml").write_text("gitops_inventory_marker: from-commit-a\n", encoding="utf-8")
    (repo / "marker.txt").write_text("commit a\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "port list")
    commits = {"a": _git(repo, "rev-parse", "HEAD")}
    (repo / "taxonomy" / "compositional_skills" / "zos").mkdir(parents=True)
    (repo / "taxonomy" / "compositional_skills" / "zos" / "qna.yaml").write_text("version: 3 # commit b\n", encoding="utf-8")
    (repo / "marker.txt").write_text("commit b\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "taxonomy")
    commits["b"] = _git(repo, "rev-parse", "HEAD")
    return repo, commits


def _start(tmp_path: Path, env: dict[str, str], port: int, max_events: int, project: Path | None = None) -> subprocess.Popen:
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({
        "autoport_collection_dir": str(REPO), "autoport_webhook_port": port, "autoport_webhook_max_events": max_events,
        "autoport_gitops_repo": str(project or tmp_path / "no-project"), "autoport_gitops_dir": str(tmp_path / "gitops"),
        "autoport_gitops_inventory": "inventory/local",
    }), encoding="utf-8")
    return subprocess.Popen(
        [str(BIN / "ansible-rulebook"), "-r", str(RULEBOOK), "-i", str(REPO / "inventory" / "local"), "-e", str(variables)],
        stdout=open(tmp_path / "rulebook.out", "w", encoding="utf-8"), stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path),
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_rulebook_runs_the_pushed_commit_for_signed_pushes_only_and_ignores_replays(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = _rulebook_env(out, SECRET)
    project, commits = _project(tmp_path)
    unknown = "9" * 40
    port = _free_port()
    # One push at a time, each waited for (its playbook's recap), so the order is the order posted;
    # then the listener is stopped: ansible-rulebook drops queued events when its source ends.
    proc = _start(tmp_path, env, port, max_events=0, project=project)
    try:
        _wait_listening(port, proc)
        statuses = {}
        recaps = 0
        for label, commit, paths, secret, ref in (
            ("unsigned", commits["a"], ["ports.yml"], None, "refs/heads/main"),
            ("wrong", commits["a"], ["ports.yml"], "not-the-secret", "refs/heads/main"),
            ("other", COMMITS["other"], ["ports.yml"], SECRET, "refs/heads/feature"),
            ("site", commits["a"], ["inventory/local/group_vars/all/harvest_ports.yml"], SECRET, "refs/heads/main"),
            ("train", commits["b"], ["taxonomy/compositional_skills/zos/qna.yaml"], SECRET, "refs/heads/main"),
            ("stale", commits["a"], ["inventory/local/group_vars/all/harvest_ports.yml"], SECRET, "refs/heads/main"),
            ("replay", commits["b"], ["taxonomy/compositional_skills/zos/qna.yaml"], SECRET, "refs/heads/main"),
            ("unknown", unknown, ["ports.yml"], SECRET, "refs/heads/main"),
        ):
            body = json.dumps(push(commit, paths, ref=ref)).encode()
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": label}
            if secret:
                headers["X-Hub-Signature-256"] = sign(body, secret)
            statuses[label] = _post(port, body, headers)
            if statuses[label] == 202 and ref == "refs/heads/main":
                recaps += 1
                _wait_log(tmp_path / "rulebook.out", "\nPLAY RECAP", recaps, proc)  # the outer play's, not the stage's
    finally:
        _stop(proc)
    log = (tmp_path / "rulebook.out").read_text(encoding="utf-8")
    assert statuses == {"unsigned": 401, "wrong": 401, "site": 202, "train": 202, "stale": 202, "replay": 202, "other": 202, "unknown": 202}, log

    runs = sorted(p.name for p in out.iterdir())
    assert runs == sorted(["site-%s.json" % commits["a"], "train-%s.json" % commits["b"]]), log
    site = json.loads((out / ("site-%s.json" % commits["a"])).read_text(encoding="utf-8"))
    train = json.loads((out / ("train-%s.json" % commits["b"])).read_text(encoding="utf-8"))
    # Each ran from a fresh checkout of its own commit (the project's main is at b by then).
    gitops = tmp_path / "gitops" / "runs"
    assert site["playbook_dir"] == str(gitops / commits["a"] / "ansible_collections" / "autoport" / "zos" / "playbooks")
    assert site["marker"] == "commit a" and site["inventory_marker"] == "from-commit-a" and site["autoport_commit"] == commits["a"]
    assert train["autoport_commit"] == commits["b"] and train["qna"] == "version: 3 # commit b"
    assert train["ilab_train_taxonomy_src"] == str(gitops / commits["b"] / "ansible_collections" / "autoport" / "zos" / "taxonomy")
    assert site["webhook_secret_in_env"] == "" and train["webhook_secret_in_env"] == ""
    flat = " ".join(log.replace("'", " ").split())  # messages are wrapped by the YAML callback
    assert "ignored push of %s to main: it is older than %s, the last commit run" % (commits["a"], commits["b"]) in flat
    assert "ignored push of %s to main: it was already run" % commits["b"] in flat
    assert "commit %s is not on branch main of %s" % (unknown, project) in flat
    assert "branch feature is not watched" in log
    last = json.loads((tmp_path / "gitops" / "last-main.json").read_text(encoding="utf-8"))
    assert last["commit"] == commits["b"] and last["status"] == "successful"
    assert last["paths"] == ["taxonomy/compositional_skills/zos/qna.yaml"]  # the decision reached the playbook, not the payload
    assert "dev@example.invalid" not in json.dumps(last)
    assert SECRET not in log


def test_rulebook_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = _start(tmp_path, _rulebook_env(out, None), _free_port(), max_events=1)
    try:
        proc.wait(timeout=90)
    finally:
        _stop(proc)
    log = (tmp_path / "rulebook.out").read_text(encoding="utf-8")
    assert proc.returncode != 0, log
    assert "needs a shared secret: set AUTOPORT_WEBHOOK_SECRET" in log
    assert list(out.iterdir()) == []
