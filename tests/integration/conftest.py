"""Integration tests import their harness as `from playbook_harness import run_playbook`."""

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def posix_harvest(tmp_path_factory) -> dict:
    """One real harvest of the sample ports on localhost, shared by the tests that read its output."""
    from playbook_harness import assert_ok, run_playbook

    base = tmp_path_factory.mktemp("harvest-posix")
    extravars = {"autoport_output_dir": str(base / "out"), "harvest_remote_dir": str(base / "remote"), "harvest_poll_interval": 1}
    first = run_playbook("harvest.yml", extravars, private_data_dir=str(base / "run1"))
    assert_ok(first)
    return {"base": base, "extravars": extravars, "first": first}
