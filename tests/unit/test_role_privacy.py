"""No role reads another role's private variables (__<role>_...): roles talk through public results.

ilab_train used to read ilab_env's __ilab_env_run_result; run_async now publishes
ilab_env_run_result and stamped_step ilab_env_step_result.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir())


def private_reads(roles_dir: Path, roles: list[str]) -> list[str]:
    """file:line: variable, for every __<other role>_ name found in a role's files."""
    found = []
    for role in roles:
        others = [other for other in roles if other != role]
        pattern = re.compile(r"\b__(?:%s)_[A-Za-z0-9_]*" % "|".join(map(re.escape, others)))
        for path in sorted((roles_dir / role).rglob("*")):
            if path.suffix not in (".yml", ".yaml", ".j2") or not path.is_file():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in pattern.finditer(line):
                    found.append("%s:%d: %s" % (path.relative_to(roles_dir), number, match.group(0)))
    return found


def test_no_role_reads_another_roles_private_variables() -> None:
    assert {"ilab_env", "ilab_train", "ilab_models", "harvest"} <= set(ROLES)
    assert private_reads(REPO / "roles", ROLES) == []


def test_a_private_read_is_found(tmp_path: Path) -> None:
    (tmp_path / "alpha" / "tasks").mkdir(parents=True)
    (tmp_path / "beta" / "tasks").mkdir(parents=True)
    (tmp_path / "alpha" / "tasks" / "main.yml").write_text("- debug: {msg: '{{ __alpha_own }}'}\n", encoding="utf-8")
    (tmp_path / "beta" / "tasks" / "main.yml").write_text("- debug: {msg: '{{ __alpha_result.elapsed_s }}'}\n", encoding="utf-8")
    assert private_reads(tmp_path, ["alpha", "beta"]) == ["beta/tasks/main.yml:1: __alpha_result"]
