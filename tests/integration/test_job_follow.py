"""ilab_env's run_async entry point follows its command with autoport.zos.job_follow (one task,
a progress line per poll) and still reports the command's failure with the log's tail."""

from __future__ import annotations

import sys
from pathlib import Path

from playbook_harness import assert_ok, run_playbook

PLAYBOOK = """
- name: Run one long command through ilab_env's run_async
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run it
      ansible.builtin.include_role:
        name: autoport.zos.ilab_env
        tasks_from: run_async.yml
      vars:
        ilab_env_run_name: counting
        ilab_env_run_argv: ["{python}", "-c", "{script}", "{exit_code}"]
        ilab_env_run_log: "{log}"
        ilab_env_run_poll_interval: 1
"""
# A tqdm-like bar redrawn with carriage returns, the way ilab data generate prints it.
SCRIPT = (
    "import sys, time\\n"
    "for done in range(1, 5):\\n"
    "    sys.stdout.write('gen Prompt Generation: %d%%|##| %d/4 [00:01<00:01]\\\\r' % (done * 25, done)); sys.stdout.flush(); time.sleep(1)\\n"
    "print('the end')\\n"
    "sys.exit(int(sys.argv[1]))\\n"
)


def run(tmp_path: Path, exit_code: int):
    playbook = tmp_path / "run_async.yml"
    playbook.write_text(PLAYBOOK.format(python=sys.executable, script=SCRIPT.replace('"', '\\"'), exit_code=exit_code, log=tmp_path / "step.log"))
    return run_playbook(str(playbook), private_data_dir=str(tmp_path / "run"))


def test_run_async_follows_with_progress_lines(tmp_path):
    result = run(tmp_path, 0)
    assert_ok(result)
    followed = result.task_results("Follow: counting")
    assert len(followed) == 1 and followed[0]["finished"] is True and followed[0]["polls"] >= 2
    assert "| counting: gen Prompt Generation" in result.stdout
    assert (tmp_path / "step.log.rc").read_text().strip() == "0"


def test_run_async_reports_a_failed_command_with_its_tail(tmp_path):
    result = run(tmp_path, 3)
    assert result.rc != 0
    failed = result.task_results("Stop when it failed: counting")
    assert failed and "exit code 3" in failed[0]["msg"] and "the end" in failed[0]["msg"]
