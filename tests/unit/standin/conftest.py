"""Fixtures for the ibm.ibm_zos_core test stand-in's tests.

The stand-in lives in tests/collections; putting that folder on sys.path makes
ansible_collections.ibm.ibm_zos_core importable here, and the helpers below run
its modules the two ways Ansible does: directly (module file + args JSON) and
through ansible-playbook on localhost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
STANDIN_COLLECTIONS = REPO / "tests" / "collections"
STANDIN = STANDIN_COLLECTIONS / "ansible_collections" / "ibm" / "ibm_zos_core"
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = VENV_BIN / "python" if (VENV_BIN / "python").exists() else Path(sys.executable)

if str(STANDIN_COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(STANDIN_COLLECTIONS))


class FakeModule:
    """Just enough of AnsibleModule for the stand-in's module_utils functions."""

    def __init__(self, params, version="2.0.0", check_mode=False):
        self.params = params
        self.standin_version = version
        self.check_mode = check_mode

    def run_command(self, args, cwd=None, errors="strict"):
        command = args if isinstance(args, list) else ["/bin/sh", "-c", args]
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        return done.returncode, done.stdout.decode("utf-8", errors), done.stderr.decode("utf-8", errors)

    def get_bin_path(self, name):
        from shutil import which
        return which(name)

    def digest_from_file(self, path, algorithm):
        import hashlib
        if os.path.isdir(path):
            raise AssertionError("attempted to take checksum of directory: %s" % path)
        with open(path, "rb") as handle:
            return hashlib.new(algorithm, handle.read()).hexdigest()


@pytest.fixture
def standin_env(tmp_path, monkeypatch):
    """Isolated environment: own tag registry, default interface, own Ansible temp dirs."""
    env = dict(os.environ)
    for name in ("IBM_ZOS_CORE_STANDIN_VERSION", "IBM_ZOS_CORE_STANDIN_FACTS"):
        env.pop(name, None)
        monkeypatch.delenv(name, raising=False)
    tags = tmp_path / "tags.json"
    env["IBM_ZOS_CORE_STANDIN_TAGS"] = str(tags)
    monkeypatch.setenv("IBM_ZOS_CORE_STANDIN_TAGS", str(tags))
    env["ANSIBLE_COLLECTIONS_PATH"] = str(STANDIN_COLLECTIONS)
    env["ANSIBLE_LOCAL_TEMP"] = str(tmp_path / "ansible-local")
    env["ANSIBLE_REMOTE_TMP"] = str(tmp_path / "ansible-remote")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "0"
    env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", ""))
    return env


def run_module_file(module_name, args, env, cwd):
    """Run a stand-in module file the way AnsiballZ would, without Ansible; return (rc, result)."""
    args_file = Path(cwd) / ("%s-args.json" % module_name)
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}), encoding="utf-8")
    run_env = dict(env)
    run_env["PYTHONPATH"] = str(STANDIN_COLLECTIONS)
    done = subprocess.run([str(PYTHON), str(STANDIN / "plugins" / "modules" / ("%s.py" % module_name)), str(args_file)],
                          cwd=str(cwd), env=run_env, capture_output=True, text=True, timeout=60, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, "no JSON from %s: stdout=%r stderr=%r" % (module_name, done.stdout, done.stderr)
    return done.returncode, json.loads(lines[-1])


def run_playbook(tasks, env, cwd, check=False, extra_env=None):
    """Run tasks on localhost through ansible-playbook; return {task name: result}."""
    playbook = [{
        "name": "stand-in test",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": str(PYTHON)},
        "tasks": tasks,
    }]
    path = Path(cwd) / "playbook.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False), encoding="utf-8")
    run_env = dict(env)
    run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    run_env.update(extra_env or {})
    command = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
    if check:
        command.append("--check")
    done = subprocess.run(command, cwd=str(cwd), env=run_env, capture_output=True, text=True, timeout=300,
                          check=False)
    start = done.stdout.find("{")
    assert start >= 0, "no JSON from ansible-playbook: stdout=%r stderr=%r" % (done.stdout, done.stderr)
    report = json.loads(done.stdout[start:])
    results = {}
    for task in report["plays"][0]["tasks"]:
        results[task["task"]["name"]] = task["hosts"]["localhost"]
    return results


@pytest.fixture
def run_module(standin_env, tmp_path):
    """run_module(name, args, **env) -> (rc, result) for a stand-in module file."""
    def run(module_name, args, **extra_env):
        env = dict(standin_env)
        env.update(extra_env)
        return run_module_file(module_name, args, env, tmp_path)
    return run


@pytest.fixture
def playbook(standin_env, tmp_path):
    """playbook(tasks, check=False, **env) -> {task name: result} from ansible-playbook on localhost."""
    def run(tasks, check=False, **extra_env):
        return run_playbook(tasks, standin_env, tmp_path, check=check, extra_env=extra_env)
    return run


@pytest.fixture
def fake_module():
    return FakeModule
