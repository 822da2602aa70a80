#!/bin/sh
# Runs the whole suite with Bun's test runner and ends with a plain "N passed, N failed" line.
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64/bin/bun
[ -x "$BUN" ] || { echo "Bun is missing: run npm install first" >&2; exit 1; }
[ -x native/executor/berth-executor ] || sh native/build.sh || exit 1
out=$(mktemp)
"$BUN" test --timeout 60000 "$@" 2>&1 | tee "$out"
status=$(grep -a -E '^ *[0-9]+ (pass|fail)$' "$out")
pass=$(echo "$status" | awk '$2=="pass"{print $1}')
fail=$(echo "$status" | awk '$2=="fail"{print $1}')
rm -f "$out"
echo "${pass:-0} passed, ${fail:-0} failed"
[ "${fail:-0}" = 0 ] && [ "${pass:-0}" != 0 ]
