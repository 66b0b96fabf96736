#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint"
make --no-print-directory lint

echo "== test environment (scripts/testenv.sh up all)"
# testenv.sh records each part it starts in $PREFECTCTL_TESTENV_STARTED, also when the Go tests
# start one on demand (prefect-pg, ...); only those are stopped on exit, so services that were
# already up (a developer's, another run's) stay up.
testenv_started=$(mktemp)
export PREFECTCTL_TESTENV_STARTED=$testenv_started
testenv_cleanup() {
  local parts
  parts=$(awk 'NF && !seen[$0]++' "$testenv_started")
  rm -f "$testenv_started"
  # shellcheck disable=SC2086 # one argument per part name
  if [ -n "$parts" ]; then scripts/testenv.sh down $parts; fi
}
trap testenv_cleanup EXIT
scripts/testenv.sh up all >/dev/null
eval "$(scripts/testenv.sh env)"

echo "== flow metadata goldens, regenerated with the real Prefect (fails on any drift)"
scripts/flow-oracle.sh

echo "== go test -race (output kept for the secrets scan)"
go_test_log=$(mktemp)
go_test_status=0
go test -race -count=1 -timeout 30m ./... 2>&1 | tee "$go_test_log" || go_test_status=$?

# Also after failures: their dumped output is where a leak would show.
echo "== no test secret (testdata/secrets.txt) in the suite's output"
scripts/scan-secrets.sh "$go_test_log"
rm -f "$go_test_log"
if [ "$go_test_status" != 0 ]; then exit "$go_test_status"; fi

echo "== fuzz (short runs)"
scripts/fuzz.sh short

echo "== process tracking: testenv.sh up/down in every context with the CPUs saturated (scripts/tracking_test.sh)"
scripts/tracking_test.sh 1

echo "== make demo end to end (scripts/demo_test.sh; 3 to 6 minutes, more on a first run)"
scripts/demo_test.sh

echo "== make demo && make demo-down under timeout, CPUs saturated (scripts/demo_soak.sh 1; ~3 minutes)"
# In demo_test.sh's directory, right after its runs and its down: back to back with them, and its
# engine already holds the base image. The full acceptance is scripts/demo_soak.sh (10 runs).
PREFECTCTL_SOAK_DIR=${PREFECTCTL_DEMO_TEST_DIR:-${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}-demotest} scripts/demo_soak.sh 1
