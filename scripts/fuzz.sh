#!/usr/bin/env bash
# Runs every fuzz target: `short` (a few seconds each, in make test) or
# `long` (minutes each; see docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
case "$mode" in
  # Budgets are counts of executions, not durations: with a duration Go's
  # coordinator can report a spurious "context deadline exceeded" when the
  # deadline fires while a starved worker is mid-call (golang/go#75804, fixed
  # only in Go 1.27); a count has no deadline to race. FUZZTIME still takes
  # either form.
  short) t=${FUZZTIME:-20000x} ;;
  long) t=${FUZZTIME:-2000000x} ;;
  *) echo "usage: $0 short|long" >&2; exit 2 ;;
esac
# Each package's Fuzz* functions, found by name so a new target is never missed.
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | awk '{print $2}'); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$t" "$pkg" >/tmp/prefectctl-fuzz.log 2>&1 || { cat /tmp/prefectctl-fuzz.log; exit 1; }
  done
done
