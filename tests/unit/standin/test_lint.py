"""ansible-lint (offline) checks module options against the stand-in's interface."""

from __future__ import annotations

import json
import subprocess

import pytest

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_spec

pytestmark = pytest.mark.integration

PLAYBOOK = """---
- name: Stand-in lint check
  hosts: all
  gather_facts: false
  tasks:
    - name: Copy with a misspelt option
      ibm.ibm_zos_core.zos_copy:
        src: files/a.txt
        dest: /tmp/a.txt
        binery: true

    - name: Stat with a wrong choice
      ibm.ibm_zos_core.zos_stat:
        name: /tmp/a.txt
        type: directory

    - name: Data set with a wrong type
      ibm.ibm_zos_core.zos_data_set:
        name: USER.TEST
        space_primary: lots

    - name: Fetch with the 1.16 option name
      ibm.ibm_zos_core.zos_fetch:
        src: /tmp/a.txt
        dest: out/
        flat: true
        is_binary: true

    - name: Operator command with a 2.0-only option
      ibm.ibm_zos_core.zos_operator:
        cmd: d a,l
        time_unit: cs

    - name: Script that is fine
      ibm.ibm_zos_core.zos_script:
        cmd: scripts/build.sh
        chdir: /tmp
"""


def _lint(tmp_path, standin_env, version):
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / ".ansible-lint").write_text("---\noffline: true\n", encoding="utf-8")
    env = dict(standin_env)
    env["IBM_ZOS_CORE_STANDIN_VERSION"] = version
    done = subprocess.run([standin_env["PATH"].split(":")[0] + "/ansible-lint", "--offline", "-f", "json", "play.yml"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    start = done.stdout.find("[")
    assert start >= 0, "no JSON from ansible-lint: stdout=%r stderr=%r" % (done.stdout, done.stderr)
    issues = json.loads(done.stdout[start:])
    assert not [issue for issue in issues if not issue["check_name"].startswith("args")], issues
    return {issue["content"]["body"].split(": ", 1)[1]: issue["description"]
            for issue in issues if issue["check_name"].startswith("args")}


def test_lint_reports_wrong_options_against_the_2_0_interface(tmp_path, standin_env):
    found = _lint(tmp_path, standin_env, "2.0.0")
    # zos_copy has an action plugin: lint still checks it through the plugin's main().
    assert "zos_copy" in standin_spec.HAS_ACTION_PLUGIN
    assert "binery" in found["Copy with a misspelt option"]
    assert "must be one of: data_set, file, aggregate, gdg, got: directory" in found["Stat with a wrong choice"]
    assert "space_primary" in found["Data set with a wrong type"]
    assert "is_binary" in found["Fetch with the 1.16 option name"]
    assert "Operator command with a 2.0-only option" not in found
    assert "Script that is fine" not in found


def test_lint_follows_the_version_variable(tmp_path, standin_env):
    found = _lint(tmp_path, standin_env, "1.16.0")
    assert "Fetch with the 1.16 option name" not in found
    assert "time_unit" in found["Operator command with a 2.0-only option"]
    assert "binery" in found["Copy with a misspelt option"]
