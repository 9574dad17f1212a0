"""Builds see an allow-listed environment, and their logs are scrubbed as they end."""

from __future__ import annotations

import time

from ansible_collections.autoport.zos.plugins.module_utils import build_profile

OPERATOR_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_CTYPE": "C",
    "_BPXK_AUTOCVT": "ON",
    "_CEE_RUNOPTS": "FILETAG(AUTOCVT,AUTOTAG) POSIX(ON)",
    "_TAG_REDIR_OUT": "txt",
    "ZOPEN_ROOT": "/zopen",
    "CFLAGS": "-O2",
    # What an operator's shell exports and no build may see:
    "GITHUB_TOKEN": "ghp_" + "Pl4nted0GithubClassicTok3nAbCdEf012345",
    "AWS_SECRET_ACCESS_KEY": "opaque-operator-value-1",
    "ZOWE_OPT_PASSWORD": "opaque-operator-value-2",
    "VAULT_ADDR": "https://vault.example.com",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
}


def test_base_environment_keeps_the_allow_list_only():
    env = build_profile.base_environment(OPERATOR_ENV)
    assert env == {name: OPERATOR_ENV[name] for name in ("PATH", "LANG", "LC_CTYPE", "_BPXK_AUTOCVT", "_CEE_RUNOPTS", "_TAG_REDIR_OUT", "ZOPEN_ROOT", "CFLAGS")}


def test_profiles_give_builds_no_operator_secret_but_the_harvest_env(tmp_path, monkeypatch):
    for name, value in OPERATOR_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("posix", "zopen"):
        profile = build_profile.make_profile(name, root=str(tmp_path / "root"), source_dir=str(tmp_path / "src"), buildenv={}, build_line="STABLE",
                                             log_dir=str(tmp_path / "logs"), env={"PORT_SETTING": "from-harvest_build_env"})
        env = profile.environment()
        assert env["PORT_SETTING"] == "from-harvest_build_env"
        assert env["_BPXK_AUTOCVT"] == "ON"
        for secret in ("GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "ZOWE_OPT_PASSWORD", "VAULT_ADDR", "SSH_AUTH_SOCK"):
            assert secret not in env, (name, secret)


def test_a_log_is_scrubbed_when_its_command_ends(tmp_path):
    log = tmp_path / "build.log"
    token = OPERATOR_ENV["GITHUB_TOKEN"]
    argv = ["/bin/sh", "-c", "echo 'x.c:1:1: error: bad'; echo \"push failed for $T\"; echo 'curl -u bob:Hunter2pw https://h/x'"]
    code, timed_out = build_profile.run_logged(argv, str(tmp_path), {"PATH": "/usr/bin:/bin", "T": token}, str(log), time.monotonic() + 30)
    text = log.read_text()
    assert code == 0 and not timed_out
    assert token not in text and "Hunter2pw" not in text and "bob" not in text
    assert "x.c:1:1: error: bad" in text and "<TOKEN>" in text and "<USER>:<PASSWORD>" in text


def test_credential_values_of_harvest_build_env_are_removed_from_logs_word_for_word(tmp_path):
    env = {"PLANT_DEPLOY_SECRET": "opaque-build-env-value", "CC": "gcc", "AUTH_HEADER_FILE": "a"}
    assert build_profile.secret_values(env) == ("opaque-build-env-value",)
    log = tmp_path / "b.log"
    argv = ["/bin/sh", "-c", "env | sort; echo 'gcc: error: x.c'"]
    build_profile.run_logged(argv, str(tmp_path), dict(env, PATH="/usr/bin:/bin"), str(log), None, redact=build_profile.secret_values(env))
    text = log.read_text()
    assert "opaque-build-env-value" not in text and "PLANT_DEPLOY_SECRET=<TOKEN>" in text
    assert "CC=gcc" in text and "gcc: error: x.c" in text
