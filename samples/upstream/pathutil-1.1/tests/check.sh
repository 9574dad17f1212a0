#!/bin/sh
# check.sh - tests of the pathutil command, run by `make check`
failures=0
total=0

# expect NAME EXPECTED COMMAND [ARG]...: the command's output (newlines as spaces) and exit status
expect() {
  name=$1
  expected=$2
  shift 2
  total=$((total + 1))
  out=$("$@" 2>&1)
  status=$?
  got=$(printf '%s [%s]' "$(printf '%s' "$out" | tr '\n' ' ')" "$status" | sed 's/^ //')
  if [ "$got" = "$expected" ]; then
    echo "PASS: $name"
  else
    echo "FAIL: $name: expected \"$expected\", got \"$got\""
    failures=$((failures + 1))
  fi
}

expect "norm" "/usr/lib [0]" ./pathutil norm /usr/./local/../lib/
expect "join" "a/b/c [0]" ./pathutil join a/ /b/c
expect "ext" "[0]" ./pathutil ext README.TXT txt
expect "ext mismatch" "[1]" ./pathutil ext README.md txt
expect "match -i" "[0]" ./pathutil -i match '*.C' main.c
expect "valid" "[1]" ./pathutil valid ..
expect "ls" "check.sh test_pathutil.c [0]" sh -c './pathutil ls tests | grep -v "\\.o$" | grep -v "^test_pathutil$" | sort'
expect "canon of a missing file" "pathutil: no/such: No such file or directory [1]" ./pathutil canon no/such
expect "which" "1 [0]" sh -c './pathutil which sh | grep -c "/sh$"'

echo "$failures of $total tests failed"
[ "$failures" -eq 0 ]
