"""The stand-in's option interface is exactly the real one, for 1.16.0 and 2.0.0."""

from __future__ import annotations

import ast
import json
import subprocess

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ibm.ibm_zos_core.plugins.module_utils import standin_spec
from ansible_collections.ibm.ibm_zos_core.plugins.module_utils.standin_options import load_options

VERSIONS = ("1.16.0", "2.0.0")
REFERENCE = load_options()["versions"]
ATTRIBUTES = ("type", "default", "choices", "aliases", "elements", "required")


def _pairs():
    return [(version, name) for version in VERSIONS for name in sorted(REFERENCE[version])]


def _assert_same_options(documented: dict, spec: dict, where: str) -> int:
    """Every documented option, attribute and suboption is in the spec, and nothing else; returns the count."""
    assert set(spec) == set(documented), where
    checked = 0
    for name, doc in documented.items():
        entry = spec[name]
        for attribute in ATTRIBUTES:
            assert entry.get(attribute) == doc.get(attribute), "%s.%s %s" % (where, name, attribute)
        assert ("options" in entry) == ("suboptions" in doc), "%s.%s suboptions" % (where, name)
        checked += 1
        if "suboptions" in doc:
            checked += _assert_same_options(doc["suboptions"], entry["options"], "%s.%s" % (where, name))
    return checked


def test_the_stand_in_has_exactly_the_sixteen_modules_of_both_versions():
    expected = {
        "zos_archive", "zos_copy", "zos_data_set", "zos_encode", "zos_fetch", "zos_find", "zos_gather_facts",
        "zos_job_output", "zos_job_submit", "zos_mvs_raw", "zos_operator", "zos_ping", "zos_script", "zos_stat",
        "zos_tso_command", "zos_unarchive",
    }
    assert set(REFERENCE["1.16.0"]) == expected == set(REFERENCE["2.0.0"])
    assert set(standin_spec.MODULE_NAMES) == expected == set(standin_spec.CHECK_MODE_SUPPORT)
    module_files = {path.stem for path in (standin_spec_root() / "plugins" / "modules").glob("zos_*.py")}
    assert module_files == expected


def standin_spec_root():
    from pathlib import Path
    return Path(standin_spec.__file__).resolve().parents[2]


@pytest.mark.parametrize("version,module_name", _pairs())
def test_argument_spec_matches_the_reference_option_by_option(version, module_name):
    spec = standin_spec.argument_spec(module_name, version)
    checked = _assert_same_options(REFERENCE[version][module_name]["options"], spec, module_name)
    assert checked == _count(REFERENCE[version][module_name]["options"])


def _count(options: dict) -> int:
    return sum(1 + _count(doc.get("suboptions", {})) for doc in options.values())


def test_embedded_reference_is_the_shared_one(shared_dir):
    shared = json.loads((shared_dir / "reference" / "ibm_zos_core-options.json").read_text(encoding="utf-8"))
    assert load_options() == shared


@pytest.mark.parametrize("module_name", sorted(REFERENCE["2.0.0"]))
def test_documentation_block_lists_the_2_0_options(module_name):
    source = (standin_spec_root() / "plugins" / "modules" / ("%s.py" % module_name)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    docs = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", None) == "DOCUMENTATION"]
    assert len(docs) == 1
    documentation = yaml.safe_load(docs[0])
    assert documentation["module"] == module_name
    expected_check = "full" if standin_spec.CHECK_MODE_SUPPORT[module_name] else "none"
    assert documentation["attributes"]["check_mode"]["support"] == expected_check

    def strip(options):
        return {name: {key: (strip(value) if key == "suboptions" else value)
                       for key, value in doc.items() if key != "description"}
                for name, doc in (options or {}).items()}

    assert strip(documentation["options"]) == REFERENCE["2.0.0"][module_name]["options"]


def test_generated_module_files_are_up_to_date():
    done = subprocess.run([str(_python()), str(standin_spec_root() / "tools" / "generate_modules.py"), "--check"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr


def _python():
    from pathlib import Path
    import sys
    venv = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def _validate(module_name, version, params):
    kwargs = standin_spec.module_kwargs(module_name, version)
    return ArgumentSpecValidator(kwargs["argument_spec"],
                                 mutually_exclusive=kwargs.get("mutually_exclusive")).validate(params)


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_option_is_rejected_with_the_ansible_message(version):
    errors = _validate("zos_copy", version, {"src": "/a", "dest": "/b", "binery": True}).error_messages
    assert len(errors) == 1
    assert errors[0].startswith("binery. Supported parameters include:")
    assert ("is_binary" in errors[0]) == (version == "1.16.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_type_and_wrong_choice_are_rejected(version):
    typed = _validate("zos_data_set", version, {"name": "A.B", "space_primary": "lots"}).error_messages
    assert any("space_primary" in message and "int" in message for message in typed)
    choice = _validate("zos_stat", version, {"name": "/a", "type": "directory"}).error_messages
    assert any("must be one of" in message and "directory" in message for message in choice)


def test_renamed_options_follow_the_chosen_version():
    # 2.0 dropped is_binary; 1.16 accepts binary as an alias of is_binary.
    assert _validate("zos_fetch", "2.0.0", {"src": "/a", "dest": "/b", "is_binary": True}).error_messages
    assert not _validate("zos_fetch", "1.16.0", {"src": "/a", "dest": "/b", "is_binary": True}).error_messages
    old = _validate("zos_fetch", "1.16.0", {"src": "/a", "dest": "/b", "binary": True})
    assert not old.error_messages and old.validated_parameters["is_binary"] is True
    assert _validate("zos_job_submit", "2.0.0", {"src": "/a", "location": "uss"}).error_messages
    assert not _validate("zos_job_submit", "1.16.0", {"src": "/a", "location": "uss"}).error_messages
    new = _validate("zos_archive", "2.0.0", {"src": ["/a"], "dest": "/b.tar", "format": {"name": "tar"}})
    assert not new.error_messages and new.validated_parameters["format"]["type"] == "tar"


def test_defaults_are_applied_with_the_real_types():
    fetch = _validate("zos_fetch", "2.0.0", {"src": "/a", "dest": "/b"}).validated_parameters
    assert fetch["binary"] is False and fetch["fail_on_missing"] is True and fetch["validate_checksum"] is True
    found = _validate("zos_find", "2.0.0", {"patterns": ["A.*"]}).validated_parameters
    assert found["resource_type"] == ["nonvsam"]


def test_include_and_exclude_are_mutually_exclusive_for_unarchive():
    errors = _validate("zos_unarchive", "2.0.0", {"src": "/a.tar", "format": {"type": "tar"},
                                                  "include": ["x"], "exclude": ["y"]}).error_messages
    assert any("mutually exclusive" in message for message in errors)


def test_secret_options_are_no_log():
    assert standin_spec.argument_spec("zos_copy", "2.0.0")["content"]["no_log"] is True
    raw = standin_spec.argument_spec("zos_mvs_raw", "2.0.0")
    data_set = raw["dds"]["options"]["dd_data_set"]["options"]
    assert data_set["key_label"]["no_log"] is True and data_set["encryption_key_1"]["no_log"] is True


def test_version_comes_from_the_environment_and_bad_values_are_refused():
    assert standin_spec.selected_version({}) == "2.0.0"
    assert standin_spec.selected_version({"IBM_ZOS_CORE_STANDIN_VERSION": "1.16.0"}) == "1.16.0"
    with pytest.raises(standin_spec.StandinVersionError) as err:
        standin_spec.selected_version({"IBM_ZOS_CORE_STANDIN_VERSION": "1.15.0"})
    assert "1.15.0" in str(err.value) and "IBM_ZOS_CORE_STANDIN_VERSION" in str(err.value)


@pytest.mark.parametrize("version", VERSIONS)
def test_module_file_fails_a_wrong_option_like_ansiblemodule(run_module, version):
    rc, result = run_module("zos_copy", {"src": "/tmp/a", "dest": "/tmp/b", "binery": True},
                            IBM_ZOS_CORE_STANDIN_VERSION=version)
    assert rc == 1 and result["failed"] is True
    assert result["msg"].startswith("Unsupported parameters for (basic.py) module: binery.")


def test_module_file_uses_the_selected_interface(run_module):
    rc, result = run_module("zos_operator", {"cmd": "d a", "wait_time_s": 3}, IBM_ZOS_CORE_STANDIN_VERSION="2.0.0")
    assert rc == 1 and "wait_time_s" in result["msg"]
    rc, result = run_module("zos_operator", {"cmd": "d a", "wait_time_s": 3}, IBM_ZOS_CORE_STANDIN_VERSION="1.16.0")
    assert rc == 1 and "not available in the test stand-in" in result["msg"] and "1.16.0" in result["msg"]


def test_module_file_reports_a_bad_version_variable(run_module):
    rc, result = run_module("zos_ping", {}, IBM_ZOS_CORE_STANDIN_VERSION="9.9.9")
    assert rc == 1 and result["failed"] is True and "9.9.9" in result["msg"]
