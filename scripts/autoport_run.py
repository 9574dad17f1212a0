"""Run one autoport stage through ansible-runner, the way a CI job does.

    scripts/autoport_run.py harvest -i inventory/example-zos -e @ports.yml -e harvest_strategy=cumulative

Prints one progress line per task, writes a JSON run summary (stage, status, rc,
per-host stats, the set_stats counts, duration) and a JUnit XML report (one testcase
per task, failed tasks as failures) and exits non-zero when the stage failed.

Nothing secret reaches what it leaves behind:
  * the run gets a filtered environment: variables whose names look secret (password,
    token, secret, key, credential...) are dropped unless named with --pass-env;
  * extra variables go to ansible-playbook through a private 0600 file that is deleted
    after the run, never on the command line (ansible-runner records the command line);
  * ansible-runner's env/ files are never written and the environment it stores in
    artifacts/*/command is removed;
  * every value of a secret-looking extra variable or environment variable is replaced
    by ******** in every file the run left (events, stdout, fact cache) and in what this
    script prints and writes.

Exit status: 0 success; the ansible-playbook return code on failure (1 if it had none);
2 for a usage error (unknown stage, missing inventory, unreadable -e file).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import stat
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

STAGES = ("harvest", "mine", "curate", "taxonomy", "train", "site")
COLLECTION_ROOT = Path(__file__).resolve().parents[1]
REDACTED = "********"
# A name that says its value must not be seen (extra variables and environment variables).
SECRET_NAME = re.compile(r"pass(word|wd|phrase)?($|_)|secret|token|api_?key|private_?key|ssh_?key|credential|_auth($|_)", re.IGNORECASE)
# A name for a file or folder holds a path, not the secret itself (ANSIBLE_VAULT_PASSWORD_FILE).
PATH_NAME_SUFFIXES = ("_FILE", "_PATH", "_DIR")
# Values shorter than this are not redacted everywhere (they would mangle ordinary text).
MIN_SECRET_LENGTH = 4
# Environment the run gets besides --pass-env: what ansible-playbook needs to work.
ENV_KEEP_NAMES = {
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "SSH_AUTH_SOCK", "VIRTUAL_ENV", "PYTHONPATH", "JAVA_HOME", "CI",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}
ENV_KEEP_PREFIXES = ("LC_", "ANSIBLE_", "AUTOPORT_")
# Sizes: one failure message in the summary / JUnit, and files the scrubber reads whole.
MESSAGE_MAX = 4000
SCRUB_MAX_BYTES = 512 * 1024 * 1024
FAILED_EVENTS = ("runner_on_failed", "runner_on_unreachable")
RESULT_EVENTS = ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


def is_secret_name(name: str) -> bool:
    """True for a variable name that says its value must not be seen."""
    return bool(SECRET_NAME.search(name)) and not name.upper().endswith(PATH_NAME_SUFFIXES)


# ---------------------------------------------------------------- inputs


def _load_vars_file(path_text: str) -> dict[str, Any]:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise UsageError("-e @%s: no such file" % path_text)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError("-e @%s: not UTF-8 text (%s)" % (path_text, exc.reason)) from exc
    except OSError as exc:
        raise UsageError("-e @%s: cannot read it (%s)" % (path_text, exc.strerror)) from exc
    data = _parse_mapping(text, "-e @%s" % path_text)
    return data


def _parse_mapping(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) if yaml is not None else json.loads(text)
    except Exception as exc:  # yaml.YAMLError or ValueError, with a line number
        raise UsageError("%s: not valid YAML/JSON: %s" % (where, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageError("%s: must be a mapping of variable names to values" % where)
    return data


def parse_extra_vars(items: Iterable[str]) -> dict[str, Any]:
    """Merge -e arguments as ansible-playbook does: key=value pairs, @file (YAML/JSON), inline JSON/YAML."""
    merged: dict[str, Any] = {}
    for item in items:
        item = item.strip()
        if not item:
            continue
        if item.startswith("@"):
            merged.update(_load_vars_file(item[1:]))
        elif item.startswith("{"):
            merged.update(_parse_mapping(item, "-e %s" % item[:40]))
        else:
            for pair in shlex.split(item):
                name, sep, value = pair.partition("=")
                if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                    raise UsageError("-e %s: expected name=value, @file or a JSON object" % pair[:60])
                merged[name] = value
    return merged


def secret_values(extravars: dict[str, Any], environ: dict[str, str], extra_secret_names: Iterable[str] = ()) -> set[str]:
    """Every value that must not appear in an artifact: secret-named variables, at any depth."""
    extra = set(extra_secret_names)
    found: set[str] = set()

    def leaves(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for sub in value.values():
                yield from leaves(sub)
        elif isinstance(value, (list, tuple)):
            for sub in value:
                yield from leaves(sub)
        elif value is not None and not isinstance(value, bool):
            yield str(value)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, str) and (key in extra or is_secret_name(key)):
                    found.update(leaves(sub))
                else:
                    walk(sub)
        elif isinstance(value, (list, tuple)):
            for sub in value:
                walk(sub)

    walk(extravars)
    for name, value in environ.items():
        if (name in extra or is_secret_name(name)) and value:
            found.add(value)
        elif "PROXY" in name.upper() and "@" in value:
            # user:password@proxy
            found.add(value)
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def run_environment(environ: dict[str, str], pass_env: Iterable[str] = ()) -> dict[str, str]:
    """The environment the run gets: what ansible needs, minus secret-looking names, plus --pass-env."""
    allowed = set(pass_env)
    env = {}
    for name, value in environ.items():
        if name in allowed:
            env[name] = value
        elif is_secret_name(name):
            continue
        elif name in ENV_KEEP_NAMES or name.startswith(ENV_KEEP_PREFIXES):
            env[name] = value
    return env


class Redactor:
    """Replaces known secret values (and their JSON-escaped forms) in text and bytes."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms.add(secret)
            escaped = json.dumps(secret)[1:-1]
            forms.add(escaped)
            forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        # Longest first, so a secret that contains another is replaced whole.
        self.forms = sorted((f for f in forms if f), key=len, reverse=True)
        self.byte_forms = [f.encode("utf-8") for f in self.forms]

    def text(self, value: str) -> str:
        for form in self.forms:
            value = value.replace(form, REDACTED)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def blob(self, value: bytes) -> bytes:
        for form in self.byte_forms:
            value = value.replace(form, REDACTED.encode("ascii"))
        return value


def scrub_private_data_dir(private_data_dir: Path, redactor: Redactor) -> list[str]:
    """Remove stored environments and redact secrets in every file ansible-runner left. Returns files changed."""
    changed: list[str] = []
    env_dir = private_data_dir / "env"
    if env_dir.exists():
        shutil.rmtree(env_dir)
        changed.append(str(env_dir))
    for command_file in private_data_dir.glob("artifacts/*/command"):
        try:
            stored = json.loads(command_file.read_text(encoding="utf-8"))
        except (ValueError, OSError, UnicodeDecodeError):
            stored = {}
        # ansible-runner stores the whole run environment here: keep only what ran, and where.
        kept = {"command": stored.get("command", []), "cwd": stored.get("cwd", "")} if isinstance(stored, dict) else {}
        command_file.write_text(json.dumps(redactor.data(kept)), encoding="utf-8")
        changed.append(str(command_file))
    if not redactor.forms:
        return changed
    for path in sorted(private_data_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        size = path.stat().st_size
        if size > SCRUB_MAX_BYTES:
            # Too big to rewrite safely: drop it rather than keep a possible leak.
            path.unlink()
            changed.append(str(path))
            continue
        content = path.read_bytes()
        scrubbed = redactor.blob(content)
        if scrubbed != content:
            mode = stat.S_IMODE(path.stat().st_mode)
            path.write_bytes(scrubbed)
            os.chmod(path, mode)
            changed.append(str(path))
    return changed


@contextmanager
def process_environment(env: dict[str, str]) -> Iterator[None]:
    """ansible-runner copies os.environ into the run: give it only env, restore afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------- events


class TaskRecord:
    """One task of the run and what each host made of it."""

    def __init__(self, index: int, name: str, play: str, started: float) -> None:
        self.index = index
        self.name = name
        self.play = play
        self.started = started
        self.ended = started
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0, "ignored": 0}
        self.failures: list[dict[str, str]] = []

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def skipped(self) -> bool:
        seen = sum(self.counts[k] for k in ("ok", "failed", "skipped", "unreachable", "ignored"))
        return seen > 0 and self.counts["skipped"] == seen


def _failure_message(result: dict[str, Any]) -> str:
    parts = []
    for key in ("msg", "reason", "stderr", "module_stderr"):
        value = result.get(key)
        if value:
            parts.append(str(value))
    if not parts and result.get("exception"):
        parts.append(str(result["exception"]))
    if not parts and result.get("results"):
        for item in result["results"]:
            if isinstance(item, dict) and item.get("failed"):
                parts.append(str(item.get("msg") or item.get("stderr") or "an item failed"))
                break
    message = "\n".join(parts) or "failed"
    return message if len(message) <= MESSAGE_MAX else message[:MESSAGE_MAX] + "..."


class ProgressTracker:
    """ansible-runner event handler: one progress line per task, task records for the reports."""

    def __init__(self, stage: str, redactor: Redactor, emit: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.stage = stage
        self.redactor = redactor
        self.emit = emit
        self.clock = clock
        self.start = clock()
        self.play = ""
        self.tasks: list[TaskRecord] = []
        self.current: TaskRecord | None = None
        self.set_stats: dict[str, Any] = {}
        self.host_stats: dict[str, dict[str, int]] = {}

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        now = self.clock()
        if kind == "playbook_on_play_start":
            self._finish(now)
            self.play = str(data.get("play") or data.get("name") or "")
        elif kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self._finish(now)
            name = str(data.get("task") or data.get("name") or "unnamed task")
            role = data.get("role")
            if role and not name.startswith("%s :" % role):
                name = "%s : %s" % (role, name)
            self.current = TaskRecord(len(self.tasks) + 1, name, self.play, now)
        elif kind in RESULT_EVENTS and self.current is not None:
            self._result(kind, data, now)
        elif kind == "playbook_on_stats":
            self._finish(now)
            self.set_stats = dict(data.get("artifact_data") or {})
            self._host_stats(data)
        return True  # keep the event on disk for post-mortems (scrubbed afterwards)

    def _result(self, kind: str, data: dict[str, Any], now: float) -> None:
        task = self.current
        result = data.get("res") or {}
        host = str(data.get("host") or "?")
        task.ended = now
        if kind == "runner_on_ok":
            task.counts["ok"] += 1
            if result.get("changed"):
                task.counts["changed"] += 1
        elif kind == "runner_on_skipped":
            task.counts["skipped"] += 1
        elif kind == "runner_on_failed" and data.get("ignore_errors"):
            task.counts["ignored"] += 1
        else:
            key = "failed" if kind == "runner_on_failed" else "unreachable"
            task.counts[key] += 1
            task.failures.append({"host": host, "kind": key, "message": self.redactor.text(_failure_message(result))})

    def _host_stats(self, data: dict[str, Any]) -> None:
        keys = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")
        hosts: set[str] = set()
        for key in keys:
            hosts.update((data.get(key) or {}).keys())
        for host in sorted(hosts):
            row = {key: int((data.get(key) or {}).get(host, 0)) for key in keys}
            row["unreachable"] = row.pop("dark")
            self.host_stats[host] = row

    def _finish(self, now: float) -> None:
        task = self.current
        if task is None:
            return
        self.current = None
        if task.ended == task.started:
            # No host reported (a skipped include, a run cut short): the task lasted until now.
            task.ended = now
        self.tasks.append(task)
        counts = task.counts
        status = "FAILED" if task.failed else ("skipped" if task.skipped else ("changed" if counts["changed"] else "ok"))
        line = "[%8.1fs] %s #%d %-7s %s  (ok=%d changed=%d failed=%d skipped=%d unreachable=%d%s)" % (
            now - self.start, self.stage, task.index, status, task.name,
            counts["ok"], counts["changed"], counts["failed"], counts["skipped"], counts["unreachable"],
            " ignored=%d" % counts["ignored"] if counts["ignored"] else "",
        )
        self.emit(self.redactor.text(line))
        for failure in task.failures:
            first = failure["message"].splitlines()[0] if failure["message"] else ""
            self.emit(self.redactor.text("           %s on %s: %s" % (failure["kind"], failure["host"], first[:300])))


# ---------------------------------------------------------------- reports


def write_junit(path: Path, stage: str, tasks: list[TaskRecord], duration: float, timestamp: str) -> None:
    """JUnit XML: one testcase per task; failed/unreachable hosts as a failure, all-skipped as skipped."""
    suite = ET.Element(
        "testsuite",
        name="autoport.%s" % stage,
        tests=str(len(tasks)),
        failures=str(sum(1 for t in tasks if t.failed)),
        errors="0",
        skipped=str(sum(1 for t in tasks if t.skipped and not t.failed)),
        time="%.3f" % duration,
        timestamp=timestamp,
    )
    for task in tasks:
        case = ET.SubElement(
            suite, "testcase",
            classname="autoport.%s.%s" % (stage, task.play or "play"),
            name=task.name,
            time="%.3f" % max(task.ended - task.started, 0.0),
        )
        if task.failed:
            first = task.failures[0]
            failure = ET.SubElement(
                case, "failure",
                message="%s on %s: %s" % (first["kind"], first["host"], first["message"].splitlines()[0][:500] if first["message"] else ""),
                type=first["kind"],
            )
            failure.text = "\n\n".join("%s on %s:\n%s" % (f["kind"], f["host"], f["message"]) for f in task.failures)
        elif task.skipped:
            ET.SubElement(case, "skipped")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def store_summary(set_stats: dict[str, Any]) -> dict[str, Any]:
    """Where the stage read its inputs and wrote its outputs (playbooks/tasks/stage_store.yml).

    location: the store, named without credentials (null: no store, outputs stayed local);
    runs: per stage, the code commit, the input and output revisions (store commits or
    content digests) and, for a git store, the stage's commit; merged with what earlier
    workflow nodes passed on.
    """
    runs = set_stats.get("autoport_runs")
    return {"location": set_stats.get("autoport_store_location"), "runs": runs if isinstance(runs, dict) else {}}


def numeric_counts(set_stats: dict[str, Any]) -> dict[str, float | int]:
    """The set_stats values that are numbers: the counts every stage publishes."""
    return {k: v for k, v in sorted(set_stats.items()) if isinstance(v, (int, float)) and not isinstance(v, bool)}


# ---------------------------------------------------------------- the run


def resolve_playbook(stage: str, playbook: str | None, playbook_dir: str | None) -> Path:
    if stage not in STAGES:
        raise UsageError("unknown stage %r: choose one of %s" % (stage, ", ".join(STAGES)))
    path = Path(playbook) if playbook else Path(playbook_dir or COLLECTION_ROOT / "playbooks") / ("%s.yml" % stage)
    path = path.expanduser().resolve()
    if not path.is_file():
        raise UsageError("playbook %s not found" % path)
    return path


def run_stage(
    stage: str,
    inventory: str,
    extravars: dict[str, Any] | None = None,
    output_dir: str | None = None,
    playbook: str | None = None,
    playbook_dir: str | None = None,
    pass_env: Iterable[str] = (),
    secret_vars: Iterable[str] = (),
    check: bool = False,
    limit: str | None = None,
    tags: str | None = None,
    verbosity: int = 0,
    timeout: int | None = None,
    ansible_cfg: str | None = None,
    emit: Callable[[str], None] = print,
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one stage; write run-summary.json, junit.xml and the scrubbed runner dir under output_dir."""
    import ansible_runner  # only needed here: the helpers above work without it

    playbook_path = resolve_playbook(stage, playbook, playbook_dir)
    inventory_path = Path(inventory).expanduser().resolve()
    if not inventory_path.exists():
        raise UsageError("inventory %s not found" % inventory_path)
    environ = dict(os.environ if environ is None else environ)
    extravars = dict(extravars or {})
    redactor = Redactor(secret_values(extravars, environ, secret_vars))

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    out = Path(output_dir or Path.cwd() / "autoport-run" / ("%s-%s" % (stage, started_wall.strftime("%Y%m%dT%H%M%SZ"))))
    out.mkdir(parents=True, exist_ok=True)
    private_data_dir = out / "runner"
    if private_data_dir.exists():
        shutil.rmtree(private_data_dir)
    private_data_dir.mkdir(mode=0o700)

    env = run_environment(environ, pass_env)
    cfg = Path(ansible_cfg) if ansible_cfg else COLLECTION_ROOT / "ansible.cfg"
    if "ANSIBLE_CONFIG" not in env and cfg.is_file():
        env["ANSIBLE_CONFIG"] = str(cfg)
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    # The interpreter running this script is where ansible-playbook was installed.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])

    tracker = ProgressTracker(stage, redactor, emit)
    cancelled = {"flag": False}

    def on_term(signum: int, frame: Any) -> None:  # pylint: disable=unused-argument
        cancelled["flag"] = True

    vars_dir = Path(tempfile.mkdtemp(prefix="autoport-run-vars-"))
    previous_handler = signal.getsignal(signal.SIGTERM) if _main_thread() else None
    try:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, on_term)
        vars_file = vars_dir / "extravars.json"
        # Private file, outside the artifacts; the command line only names it.
        fd = os.open(str(vars_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(extravars, handle)
        cmdline = ["-e", "@%s" % vars_file]
        if check:
            cmdline.append("--check")
        emit("autoport %s: %s on %s" % (stage, playbook_path, inventory_path))
        with process_environment(env):
            result = ansible_runner.run(
                private_data_dir=str(private_data_dir),
                playbook=str(playbook_path),
                inventory=str(inventory_path),
                cmdline=" ".join(shlex.quote(part) for part in cmdline),
                limit=limit,
                tags=tags,
                verbosity=verbosity or None,
                timeout=timeout,
                quiet=True,
                suppress_env_files=True,
                event_handler=tracker,
                cancel_callback=lambda: cancelled["flag"],
            )
        status = str(result.status)
        rc = result.rc if isinstance(result.rc, int) else 1
    finally:
        shutil.rmtree(vars_dir, ignore_errors=True)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    tracker._finish(tracker.clock())  # a run cut short leaves its last task open  # pylint: disable=protected-access
    finished_wall = datetime.datetime.now(datetime.timezone.utc)
    duration = (finished_wall - started_wall).total_seconds()

    scrub_private_data_dir(private_data_dir, redactor)
    junit_path = out / "junit.xml"
    write_junit(junit_path, stage, tracker.tasks, duration, started_wall.isoformat(timespec="seconds"))
    set_stats = redactor.data(tracker.set_stats)
    summary = {
        "stage": stage,
        "playbook": str(playbook_path),
        "inventory": str(inventory_path),
        "check_mode": check,
        "status": status,
        "rc": rc,
        "started": started_wall.isoformat(timespec="seconds"),
        "finished": finished_wall.isoformat(timespec="seconds"),
        "duration_s": round(duration, 3),
        "hosts": tracker.host_stats,
        "changed": sum(row.get("changed", 0) for row in tracker.host_stats.values()),
        "set_stats": set_stats,
        "counts": numeric_counts(set_stats),
        "store": store_summary(set_stats),
        "tasks": {
            "total": len(tracker.tasks),
            "failed": sum(1 for t in tracker.tasks if t.failed),
            "skipped": sum(1 for t in tracker.tasks if t.skipped and not t.failed),
        },
        "failed_tasks": [
            {"task": t.name, "host": f["host"], "kind": f["kind"], "message": f["message"]}
            for t in tracker.tasks for f in t.failures
        ],
        "junit": str(junit_path),
        "runner_dir": str(private_data_dir),
    }
    summary_path = out / "run-summary.json"
    summary_path.write_text(json.dumps(redactor.data(summary), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    summary["summary"] = str(summary_path)
    counts = " ".join("%s=%s" % (k, v) for k, v in summary["counts"].items())
    emit(redactor.text("autoport %s: %s rc=%s in %.1fs%s" % (stage, status, rc, duration, ("  " + counts) if counts else "")))
    if summary["store"]["location"]:
        emit(redactor.text("store: %s  %s" % (summary["store"]["location"], json.dumps(summary["store"]["runs"].get(stage, {}), sort_keys=True))))
    emit("summary: %s  junit: %s" % (summary_path, junit_path))
    return summary


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def exit_status(summary: dict[str, Any]) -> int:
    if summary["status"] == "successful" and summary["rc"] == 0:
        return 0
    return summary["rc"] if summary["rc"] not in (0, None) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoport_run.py",
        description="Run one autoport stage with ansible-runner: progress lines, a JSON run summary and JUnit XML.",
    )
    parser.add_argument("stage", choices=STAGES, help="the stage to run (playbooks/<stage>.yml)")
    parser.add_argument("-i", "--inventory", default=str(COLLECTION_ROOT / "inventory" / "local"), help="inventory file or folder")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VARS",
                        help="name=value pairs, @file.yml (YAML/JSON) or a JSON object; repeatable")
    parser.add_argument("-o", "--output-dir", help="where the summary, JUnit XML and runner dir go (default ./autoport-run/<stage>-<time>)")
    parser.add_argument("--playbook", help="run this playbook instead of playbooks/<stage>.yml")
    parser.add_argument("--playbook-dir", help="folder of the stage playbooks (default: this collection's playbooks/)")
    parser.add_argument("--pass-env", action="append", default=[], metavar="NAME",
                        help="pass this environment variable to the run even if its name looks secret (its value is still redacted)")
    parser.add_argument("--secret-var", action="append", default=[], metavar="NAME",
                        help="treat this extra variable as secret too (redacted everywhere)")
    parser.add_argument("--check", action="store_true", help="check mode: report what would change")
    parser.add_argument("-l", "--limit", help="limit to these hosts")
    parser.add_argument("-t", "--tags", help="only tasks with these tags")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more ansible output in the runner dir")
    parser.add_argument("--timeout", type=int, help="stop the run after this many seconds")
    parser.add_argument("--ansible-cfg", help="ansible.cfg to use (default: this collection's, unless ANSIBLE_CONFIG is set)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        extravars = parse_extra_vars(args.extra_vars)
        summary = run_stage(
            args.stage, args.inventory, extravars,
            output_dir=args.output_dir, playbook=args.playbook, playbook_dir=args.playbook_dir,
            pass_env=args.pass_env, secret_vars=args.secret_var, check=args.check, limit=args.limit,
            tags=args.tags, verbosity=args.verbose, timeout=args.timeout, ansible_cfg=args.ansible_cfg,
            emit=lambda line: print(line, flush=True),
        )
    except UsageError as exc:
        print("autoport_run: %s" % exc, file=sys.stderr)
        return 2
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # ansible-runner could not start the run at all (not a playbook failure): say so, no traceback.
        print("autoport_run: the %s stage could not run: %s: %s" % (args.stage, type(exc).__name__, exc), file=sys.stderr)
        return 1
    return exit_status(summary)


if __name__ == "__main__":
    sys.exit(main())
