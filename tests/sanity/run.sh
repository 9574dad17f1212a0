#!/usr/bin/env bash
# ansible-test wants the collection physically at .../ansible_collections/autoport/zos
# (a symlink is refused) and, offline, a cached pip bootstrap. This script provides both
# and runs the sanity tests on the files git knows (the test stand-ins are excluded:
# they are test data, never shipped).
set -euo pipefail
dest=$1
shared=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
version=$(ansible --version | sed -n 's/.*core \([0-9.]*\).*/\1/p' | head -1)

cache="$HOME/.ansible/test/cache"
pip_cache="$cache/get_pip_24_2.py"
if [ ! -f "$pip_cache" ]; then
  if [ -f "$shared/tools/ansible-test-get-pip.py" ]; then
    mkdir -p "$cache"
    cp "$shared/tools/ansible-test-get-pip.py" "$pip_cache"
  else
    echo "ansible-test needs its pip bootstrap: no $pip_cache and no $shared/tools/ansible-test-get-pip.py" >&2
    exit 2
  fi
fi

rm -rf "$dest"
mkdir -p "$dest"
(cd "$repo" && git ls-files -co --exclude-standard -z \
  | grep -zv -e '^tests/collections/' -e '^samples/mirror/' -e '^benchmarks/' \
  | xargs -0 tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) | tar -xf - -C "$dest"
cd "$dest"
git init -q . && git add -A >/dev/null
echo "ansible-core $version: ansible-test sanity --venv --python 3.11"
ansible-test sanity --venv --python 3.11 --color no
