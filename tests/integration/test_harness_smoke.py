"""The harness itself: a real playbook run through ansible-runner reports what happened."""

from __future__ import annotations

from pathlib import Path

from playbook_harness import assert_idempotent, run_playbook


def test_harness_sees_changes_and_check_mode(tmp_path: Path) -> None:
    playbook = tmp_path / "touch.yml"
    target = tmp_path / "marker.txt"
    playbook.write_text(
        "- hosts: localhost\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Write a marker\n"
        "      ansible.builtin.copy:\n"
        "        content: hello\n"
        "        dest: %s\n"
        "    - name: Publish a count\n"
        "      ansible.builtin.set_stats:\n"
        "        data:\n"
        "          markers: 1\n" % target,
        encoding="utf-8",
    )
    first = run_playbook(str(playbook), private_data_dir=str(tmp_path / "r1"))
    second = run_playbook(str(playbook), private_data_dir=str(tmp_path / "r2"))
    check = run_playbook(str(playbook), check=True, private_data_dir=str(tmp_path / "r3"))
    assert_idempotent(first, second, check)
    assert target.read_text(encoding="utf-8") == "hello"
    assert first.changed_tasks() == ["Write a marker"]
    assert first.set_stats == {"markers": 1}
