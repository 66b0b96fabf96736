#!/usr/bin/env bash
# scan-secrets.sh LOG...: fail if any test secret literal (testdata/secrets.txt, plus the test
# registry's password when PREFECTCTL_AUTH_REGISTRY_PASSWORD is set) appears in the given logs.
# scripts/test.sh runs it on the whole `go test` output.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/scan-secrets.sh LOG..." >&2; exit 2; }
secrets=()
while read -r name val _; do
  case "$name" in ''|'#'*) continue ;; esac
  secrets+=("$val")
done < testdata/secrets.txt
if [ -n "${PREFECTCTL_AUTH_REGISTRY_PASSWORD:-}" ]; then secrets+=("$PREFECTCTL_AUTH_REGISTRY_PASSWORD"); fi
[ ${#secrets[@]} -gt 0 ] || { echo "scan-secrets: no secrets in testdata/secrets.txt" >&2; exit 2; }
found=0
for s in "${secrets[@]}"; do
  if hits=$(grep -F -n -- "$s" "$@"); then
    # Name the place, never print the secret itself.
    echo "scan-secrets: a test secret (${#s} chars, starts ${s:0:4}…) appears in:" >&2
    cut -d: -f1-2 <<<"$hits" | sort -u >&2
    found=1
  fi
done
if [ "$found" = 1 ]; then exit 1; fi
echo "scan-secrets: none of ${#secrets[@]} test secrets in $*"
