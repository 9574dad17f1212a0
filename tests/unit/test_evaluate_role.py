"""Role evaluate: argument spec equals defaults; the server helper refuses a busy port, reports a
server that dies with its log, and stops only the process it started."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "evaluate"
HELPER = ROLE / "files" / "model_server.py"


def test_argument_spec_equals_defaults():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert {name: spec["default"] for name, spec in options.items()} == defaults
    assert all(name.startswith("evaluate_") for name in defaults)


def helper(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HELPER), *args], capture_output=True, text=True, timeout=60, check=False)


def test_a_busy_port_is_refused(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = helper("start", "--config", str(tmp_path / "c.json"), "--port", str(port), "--log", str(tmp_path / "log"), "--pid", str(tmp_path / "pid"))
    assert result.returncode == 1
    assert "port %d on 127.0.0.1 is in use by another program: set evaluate_serve_port" % port in result.stderr
    assert not (tmp_path / "pid").exists()


def test_a_server_that_dies_is_reported_with_its_log(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "c.json").write_text(json.dumps({"models": []}), encoding="utf-8")
    # An interpreter without llama_cpp: the server exits at once.
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'No module named llama_cpp' >&2\nexit 3\n", encoding="utf-8")
    fake_python.chmod(0o755)
    result = helper("start", "--config", str(tmp_path / "c.json"), "--port", str(port), "--log", str(tmp_path / "log"),
                    "--pid", str(tmp_path / "pid"), "--python", str(fake_python), "--timeout", "20")
    assert result.returncode == 1
    assert "the model server exited with code 3 before answering" in result.stderr and "No module named llama_cpp" in result.stderr
    assert not (tmp_path / "pid").exists()


def test_stop_ends_the_process_group_it_started(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    (tmp_path / "pid").write_text("%d\n" % sleeper.pid, encoding="ascii")
    result = helper("stop", "--pid", str(tmp_path / "pid"))
    assert json.loads(result.stdout) == {"stopped": True}
    assert sleeper.wait(timeout=20) != 0
    assert not (tmp_path / "pid").exists()
    assert json.loads(helper("stop", "--pid", str(tmp_path / "pid")).stdout) == {"stopped": False}
