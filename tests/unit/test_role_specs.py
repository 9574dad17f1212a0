"""Every role's meta/argument_specs.yml says the same defaults as its defaults/main.yml.

ansible-doc shows the spec; the role runs with defaults/main.yml. The rule, for every role
and every entry point:
- an option with a spec default has the same value (same text for templates) in defaults/main.yml;
- an option without one is required, or optional with no default anywhere;
- every variable of defaults/main.yml is an option of some entry point.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(path.parent.parent for path in (REPO / "roles").glob("*/meta/argument_specs.yml"))


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def spec_default_differences(specs: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    """One line per disagreement between the argument specs and defaults/main.yml."""
    differences = []
    documented = set()
    for entry_point, body in sorted(specs.items()):
        for name, option in sorted(((body or {}).get("options") or {}).items()):
            documented.add(name)
            if "default" in option:
                if name not in defaults:
                    differences.append("%s: %s has spec default %r but no entry in defaults/main.yml" % (entry_point, name, option["default"]))
                elif option["default"] != defaults[name]:
                    differences.append("%s: %s spec default %r != defaults/main.yml %r" % (entry_point, name, option["default"], defaults[name]))
            elif name in defaults and not option.get("required"):
                differences.append("%s: %s has no spec default but defaults/main.yml says %r" % (entry_point, name, defaults[name]))
            elif name in defaults:
                differences.append("%s: %s is required yet defaults/main.yml gives it %r" % (entry_point, name, defaults[name]))
    for name in sorted(set(defaults) - documented):
        differences.append("%s is in defaults/main.yml but in no argument spec" % name)
    return differences


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_spec_defaults_equal_defaults_main(role: Path) -> None:
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    defaults = _load(role / "defaults" / "main.yml") or {}
    assert spec_default_differences(specs, defaults) == []


def test_every_role_is_checked() -> None:
    names = {role.name for role in ROLES}
    assert names >= {"curate", "harvest", "ilab_env", "ilab_models", "ilab_train", "mine", "taxonomy"}
    assert all((role / "defaults" / "main.yml").is_file() for role in ROLES)


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_a_changed_default_is_reported(role: Path) -> None:
    """The comparison finds a difference in any option of any role (the test above can fail)."""
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    defaults = _load(role / "defaults" / "main.yml") or {}
    for name in defaults:
        changed = copy.deepcopy(defaults)
        changed[name] = ["not", "the", "spec", "default"]
        assert any(name in line for line in spec_default_differences(specs, changed)), name
        missing = {key: value for key, value in defaults.items() if key != name}
        documented_default = any("default" in ((body or {}).get("options") or {}).get(name, {}) for body in specs.values())
        if documented_default:
            assert any(name in line for line in spec_default_differences(specs, missing)), name
    undocumented = dict(defaults, role_typo_variable=1)
    assert "role_typo_variable is in defaults/main.yml but in no argument spec" in spec_default_differences(specs, undocumented)
