#!/usr/bin/env bash
# Times prefectctl's static flow reader (internal/flowmeta, BenchmarkLoad1000)
# against Prefect's own AST-based static path (load_flow_arguments_from_entrypoint
# + parameter_schema_from_entrypoint, run by python with Prefect installed) on the
# same 1,000 generated flow files of ~300 lines, and prints files/s and the ratio.
#   PREFECTCTL_PYTHON  python with prefect (default: the test venv)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PREFECTCTL_PYTHON:-$HOME/.cache/prefectctl-testenv/venv-prefect-3.9.1/bin/python}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

out=$(FLOWMETA_BENCH_DIR="$dir" go test -run '^$' -bench '^BenchmarkLoad1000$' -benchtime 5x ./internal/flowmeta)
go_ns=$(awk '/^BenchmarkLoad1000/ {print $3}' <<<"$out")
if [ -z "$go_ns" ]; then
  echo "$out" >&2
  echo "bench-flowmeta: Go benchmark produced no result" >&2
  exit 1
fi

if [ ! -x "$py" ]; then
  echo "prefectctl static: $(awk -v ns="$go_ns" 'BEGIN {printf "%.0f files/s, %.1f ms for 1000 files", 1000/(ns/1e9), ns/1e6}')"
  echo "bench-flowmeta: no python at $py; Prefect side skipped (set PREFECTCTL_PYTHON)" >&2
  exit 0
fi

py_s=$(cd "$dir" && PREFECT_HOME="$dir/.prefect" "$py" - <<'PY'
import glob, logging, time, warnings
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
from prefect.flows import load_flow_arguments_from_entrypoint
from prefect.utilities.callables import parameter_schema_from_entrypoint
files = sorted(glob.glob("flow_*.py"))
start = time.perf_counter()
for f in files:
    ep = f + ":bench_flow"
    load_flow_arguments_from_entrypoint(ep)
    parameter_schema_from_entrypoint(ep)
print(time.perf_counter() - start)
PY
)
awk -v ns="$go_ns" -v ps="$py_s" 'BEGIN {
  gs = ns / 1e9
  printf "%-34s %10.0f files/s  %9.1f ms / 1000 files\n", "prefectctl static (Go)", 1000/gs, gs*1000
  printf "%-34s %10.0f files/s  %9.1f ms / 1000 files\n", "Prefect static path (python)", 1000/ps, ps*1000
  printf "%-34s %10.1fx\n", "ratio (Go faster by)", ps/gs
}'
