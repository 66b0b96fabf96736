#!/usr/bin/env bash
# make demo: the guide project, planned end to end without side effects.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin/prefectctl
if [ "${1:-}" = down ]; then
  echo "nothing to tear down"
  exit 0
fi
cd examples/flows
echo "== prefectctl validate" >&2
"$bin" validate
echo "== prefectctl deploy --all --dry-run" >&2
"$bin" deploy --all --dry-run
