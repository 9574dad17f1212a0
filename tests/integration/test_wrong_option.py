"""A wrong option to a z/OS module is caught by lint and by a real run (stand-in mirrors the real interface)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playbook_harness import COLLECTIONS, REPO, STANDIN, run_playbook

BAD = Path(__file__).resolve().parent / "fixtures" / "bad" / "wrong_zos_option.yml"


def test_ansible_lint_reports_the_wrong_option(tmp_path: Path) -> None:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="%s:%s" % (COLLECTIONS, STANDIN), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    config = tmp_path / "lint.yml"
    # The repo's config excludes this fixture from the normal lint run; lint it on its own here.
    config.write_text("profile: production\noffline: true\nenable_list: [args]\nwarn_list: []\n", encoding="utf-8")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-lint"), "-c", str(config), "--nocolor", str(BAD)],
        capture_output=True, text=True, cwd=str(REPO), env=env, check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "args[module]" in out and "is_bianry" in out, out


def test_a_real_run_refuses_the_wrong_option(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "build.log").write_text("ERROR CCN3045 x.c:1 Undeclared identifier y.\n", encoding="utf-8")
    run = run_playbook(str(BAD), {"wrong_option_dir": str(logs)}, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    failed = run.task_results("Fetch a log with a mistyped option")
    assert failed and "Unsupported parameters" in failed[0].get("msg", "") and "is_bianry" in failed[0]["msg"]
    # Nothing was fetched and the source is intact.
    assert (logs / "build.log").is_file()
    assert not (logs / "fetched").exists()
