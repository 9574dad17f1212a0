#!/usr/bin/env bash
# System tools the tests and the demo use beyond Python: a C compiler, make and git for
# the POSIX harvest, Java 17 for ansible-rulebook, shellcheck for ansible-test sanity. Installed from Debian's packages when
# missing and we may (root with apt-get); otherwise say what is missing.
set -euo pipefail
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v make >/dev/null || missing+=(make)
command -v git >/dev/null || missing+=(git)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v shellcheck >/dev/null || missing+=(shellcheck)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing ${missing[*]} (Debian packages)"
  apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]} (install them, then run make again)" >&2
  exit 1
fi
