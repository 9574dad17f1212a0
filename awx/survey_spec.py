"""AWX survey specs derived from the roles' argument specs (the single source of truth).

A job template's survey asks exactly for the options of its stage roles' `main` entry
point that a survey can carry: text, numbers, booleans and choices. Lists and dicts
without choices (port lists, environments) cannot be typed into a survey: they come
from the project's inventory (group_vars) or the template's extra_vars, and are listed
under `not_in_survey` so every option is accounted for, one to one.

Used by playbooks/awx_configure.yml at apply time (so surveys never go stale) and by
the tests:

    python awx/survey_spec.py --roles-dir roles --name "autoport harvest" harvest
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

try:
    import yaml
except ImportError as exc:  # pragma: no cover - PyYAML ships with ansible-core
    YAML_IMPORT_ERROR: ImportError | None = exc
else:
    YAML_IMPORT_ERROR = None

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Ansible doc markup (C(x), I(x), B(x), O(x), V(x)) reads badly in a survey.
DOC_MARKUP = re.compile(r"\b[CIBOVMLU]\(([^()]*)\)")
# AWX limits: question_name is a short label, text answers are bounded.
QUESTION_NAME_MAX = 80
TEXT_MAX = 4096
SCALAR_TYPES = ("str", "path", "raw", "int", "float", "bool")


class SurveySpecError(Exception):
    """A role or its argument spec cannot be turned into a survey."""


def load_role_options(roles_dir: Path, role: str) -> dict[str, dict[str, Any]]:
    """Options of the `main` entry point of roles_dir/<role>/meta/argument_specs.yml."""
    if YAML_IMPORT_ERROR is not None:
        raise SurveySpecError("PyYAML is required: %s" % YAML_IMPORT_ERROR)
    if not ROLE_NAME.match(role):
        raise SurveySpecError("invalid role name %r (letters, digits and _ only)" % role)
    path = Path(roles_dir) / role / "meta" / "argument_specs.yml"
    if not path.is_file():
        raise SurveySpecError("role %s has no argument spec at %s" % (role, path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SurveySpecError("cannot read the argument spec %s: %s" % (path, exc)) from exc
    try:
        options = data["argument_specs"]["main"].get("options") or {}
    except (TypeError, KeyError, AttributeError) as exc:
        raise SurveySpecError("%s has no argument_specs.main entry point" % path) from exc
    if not isinstance(options, dict):
        raise SurveySpecError("%s: argument_specs.main.options is not a mapping" % path)
    return options


def _plain_text(description: Any) -> str:
    if isinstance(description, list):
        description = " ".join(str(line) for line in description)
    return DOC_MARKUP.sub(r"\1", str(description or "")).strip()


def _question_name(variable: str) -> str:
    """A stable label from the variable itself (harvest_build_line -> Harvest build line)."""
    name = variable.replace("_", " ").strip().capitalize()
    return name if len(name) <= QUESTION_NAME_MAX else name[: QUESTION_NAME_MAX - 3] + "..."


def _is_template(value: Any) -> bool:
    """A default that Ansible templates at run time ({{ ... }}) means nothing to AWX."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, (list, tuple)):
        return any(_is_template(item) for item in value)
    return False


def survey_question(variable: str, option: dict[str, Any]) -> dict[str, Any] | None:
    """The AWX survey question for one argument spec option, or None if a survey cannot carry it."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    elements = option.get("elements", "str")
    description = _plain_text(option.get("description"))
    question: dict[str, Any] = {
        "variable": variable,
        "question_name": _question_name(variable),
        "question_description": description,
        "required": bool(option.get("required", False)),
    }
    default = option.get("default")
    has_default = "default" in option and default is not None and not _is_template(default)

    if kind == "list" and choices and elements in ("str", "path"):
        question.update(type="multiselect", choices=[str(c) for c in choices])
        if has_default:
            question["default"] = "\n".join(str(item) for item in default)
    elif kind == "list" or kind == "dict" or kind not in SCALAR_TYPES:
        return None
    elif choices:
        question.update(type="multiplechoice", choices=[str(c) for c in choices])
        if has_default:
            question["default"] = str(default)
    elif kind == "bool":
        # A survey has no boolean: a choice of the two words the argument spec accepts.
        question.update(type="multiplechoice", choices=["true", "false"])
        if has_default:
            question["default"] = "true" if default else "false"
    elif kind == "int":
        question.update(type="integer")
        if has_default:
            question["default"] = int(default)
    elif kind == "float":
        question.update(type="float")
        if has_default:
            question["default"] = float(default)
    else:
        secret = bool(option.get("no_log", False))
        question.update(type="password" if secret else "text", min=0, max=TEXT_MAX)
        if has_default:
            question["default"] = str(default)
    if not has_default and "default" in option and default is not None:
        # Left blank, the role's own default applies; show it so nobody has to guess.
        question["question_description"] = ("%s (blank: %s)" % (description, default)).strip()
    return question


def survey_from_specs(roles_dir: Path, roles: Iterable[str], name: str = "", description: str = "") -> dict[str, Any]:
    """AWX survey_spec for the stage roles, plus not_in_survey: the options left to inventory/extra_vars."""
    roles = list(roles)
    if not roles:
        raise SurveySpecError("no stage roles given")
    spec: list[dict[str, Any]] = []
    not_in_survey: list[str] = []
    owner: dict[str, str] = {}
    for role in roles:
        for variable, option in load_role_options(Path(roles_dir), role).items():
            if variable in owner:
                raise SurveySpecError("option %s is declared by both %s and %s" % (variable, owner[variable], role))
            owner[variable] = role
            question = survey_question(variable, option or {})
            if question is None:
                not_in_survey.append(variable)
            else:
                spec.append(question)
    return {
        "name": name or "autoport %s" % "+".join(roles),
        "description": description or "Options of the %s role argument specs" % ", ".join(roles),
        "spec": spec,
        "not_in_survey": sorted(not_in_survey),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles-dir", required=True, type=Path, help="the collection's roles/ folder")
    parser.add_argument("--name", default="", help="survey name")
    parser.add_argument("--description", default="", help="survey description")
    parser.add_argument("roles", nargs="+", help="stage roles, in order")
    args = parser.parse_args(argv)
    try:
        survey = survey_from_specs(args.roles_dir, args.roles, args.name, args.description)
    except SurveySpecError as exc:
        print("survey_spec: %s" % exc, file=sys.stderr)
        return 2
    json.dump(survey, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
