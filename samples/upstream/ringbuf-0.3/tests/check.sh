#!/bin/sh
# check.sh - tests of the ringbuf command, run by `make check`
failures=0
total=0

# expect NAME EXPECTED COMMAND [ARG]...: the command's output (newlines as spaces) must be EXPECTED
expect() {
  name=$1
  expected=$2
  shift 2
  total=$((total + 1))
  got=$("$@" 2>&1 < tests/lines.txt | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" = "$expected" ]; then
    echo "PASS: $name"
  else
    echo "FAIL: $name: expected \"$expected\", got \"$got\""
    failures=$((failures + 1))
  fi
}

expect "last two lines" "gamma delta" ./ringbuf -n 2
expect "last lines of a file" "beta gamma delta" ./ringbuf -n 3 tests/lines.txt
expect "joined" "alpha+beta+gamma+delta" ./ringbuf -j + -n 9
expect "sample of a short input keeps it all" "alpha beta gamma delta" ./ringbuf -r -n 9
expect "stats of lines that are not numbers" "n=0 mean=0 stddev=0" ./ringbuf -s
expect "missing file" "tests/none.txt: No such file or directory" ./ringbuf tests/none.txt

echo "$failures of $total tests failed"
[ "$failures" -eq 0 ]
