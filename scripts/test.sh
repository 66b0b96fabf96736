#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint"
make --no-print-directory lint

echo "== go test -race"
go test -race -count=1 ./...

echo "== fuzz (short runs)"
scripts/fuzz.sh short
