#!/bin/sh
# check.sh - tests for lnfind, run by `make check`
failures=0
total=0

# expect NAME EXPECTED INPUT ARG...: lnfind's output for INPUT must be EXPECTED
expect() {
  name=$1
  expected=$2
  input=$3
  shift 3
  total=$((total + 1))
  got=$(printf '%s\n' "$input" | ./lnfind "$@" 2>&1 | tr '\n' '|')
  if [ "$got" = "$expected" ]; then
    echo "PASS: $name"
  else
    echo "FAIL: $name: expected \"$expected\", got \"$got\""
    failures=$((failures + 1))
  fi
}

expect "one word" "bravo|" "$(printf 'alpha\nbravo\ncharlie')" rav
expect "two words" "alpha|charlie|" "$(printf 'alpha\nbravo\ncharlie')" lph,arl
expect "case differs" "" "$(printf 'Alpha\nBRAVO')" rav
expect "ignore case" "BRAVO|" "$(printf 'Alpha\nBRAVO')" -i rav
expect "empty words are skipped" "alpha|" "$(printf 'alpha\nbravo')" ,,alp,

echo "$failures of $total tests failed"
[ "$failures" -eq 0 ]
