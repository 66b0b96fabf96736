#!/usr/bin/env bash
# Regenerates testdata/flows/golden with the real Prefect (scripts/flow-oracle.py)
# and fails when the result differs from the checked-in goldens, so a drift
# between Prefect and the goldens prefectctl is tested against is caught.
#   PREFECTCTL_PYTHON  python with prefect==3.9.1 (default: the test venv)
#   --update           write the regenerated goldens instead of comparing
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PREFECTCTL_PYTHON:-$HOME/.cache/prefectctl-testenv/venv-prefect-3.9.1/bin/python}
if [ ! -x "$py" ]; then
  echo "flow-oracle: $py not found; set PREFECTCTL_PYTHON or run scripts/testenv.sh" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Keep Prefect from touching the user's home or a server while importing flows.
export PREFECT_HOME="$tmp/home" PREFECT_API_URL= PYTHONDONTWRITEBYTECODE=1
"$py" scripts/flow-oracle.py testdata/flows "$tmp/golden"
if [ "${1:-}" = "--update" ]; then
  rm -f testdata/flows/golden/*.json
  cp "$tmp"/golden/*.json testdata/flows/golden/
  echo "flow-oracle: goldens updated ($(ls "$tmp"/golden | wc -l) entrypoints)"
  exit 0
fi
if ! diff -ru testdata/flows/golden "$tmp/golden"; then
  echo "flow-oracle: goldens differ from Prefect's output; run scripts/flow-oracle.sh --update and review" >&2
  exit 1
fi
echo "flow-oracle: $(ls "$tmp"/golden | wc -l) goldens match Prefect"
