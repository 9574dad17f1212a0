#!/bin/sh
# check.sh - tests for tinyproc, run by `make check`
failures=0
total=0

# expect NAME EXPECTED COMMAND [ARG]...: the command's first output line must be EXPECTED
expect() {
  name=$1
  expected=$2
  shift 2
  total=$((total + 1))
  got=$("$@" 2>&1 | sed -n 1p)
  if [ "$got" = "$expected" ]; then
    echo "PASS: $name"
  else
    echo "FAIL: $name: expected \"$expected\", got \"$got\""
    failures=$((failures + 1))
  fi
}

expect "exit status 0" "exit 0" ./tinyproc -q true
expect "exit status 3" "exit 3" ./tinyproc -q sh -c 'exit 3'
expect "terminated by SIGTERM" "signal 15 (Terminated)" ./tinyproc -q sh -c 'kill -TERM $$'
expect "terminated by SIGKILL" "signal 9 (Killed)" ./tinyproc -q sh -c 'kill -KILL $$'
expect "unknown program gives 127" "exit 127" ./tinyproc -q ./no-such-command

echo "$failures of $total tests failed"
[ "$failures" -eq 0 ]
