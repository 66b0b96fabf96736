#!/usr/bin/env bash
# make bench: prefectctl side by side with the real `prefect==3.9.1` CLI against the same real
# Prefect servers (SQLite and PostgreSQL), on this machine, locally and through a latency proxy.
# Writes BENCHMARKS.md, docs/bench-scaling.png and docs/bench-latency.png.
#
#   scripts/bench.sh            full run (~50 minutes on 2 cores, most of it `prefect deploy` at 80 ms)
#   BENCH_QUICK=1 scripts/bench.sh   fewer repetitions and sizes, to try the script out
#
# The services come from scripts/testenv.sh in a state directory of their own (only the parts this
# script started are stopped at the end). Timings and peak RSS are taken by scripts/bench (a Go program: fork-to-exit wall time and
# rusage of each run); the report and the plot by scripts/bench/report.py with matplotlib from a
# small cached venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin/prefectctl
CACHE=${PREFECTCTL_TESTENV_CACHE:-$HOME/.cache/prefectctl-testenv}
QUICK=${BENCH_QUICK:-}
OUT_MD=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
OUT_PNG=${BENCH_PNG:-$ROOT/docs/bench-scaling.png}
OUT_LAT_PNG=${BENCH_LATENCY_PNG:-$ROOT/docs/bench-latency.png}

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}

[[ -x $BIN ]] || make --no-print-directory build
W=$(mktemp -d /tmp/prefectctl-bench.XXXXXX)
started=$W/started
cleanup() {
  local parts
  parts=$(cat "$started" 2>/dev/null || true)
  # shellcheck disable=SC2086 # one part name a word
  if [[ -n $parts ]]; then scripts/testenv.sh down $parts || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

# Its own test environment: the suite's shared server (SQLite) is busy with other tests, and lock
# contention there (503 "database is locked") would be measured instead of the CLIs.
export PREFECTCTL_TESTENV_DIR=${BENCH_TESTENV_DIR:-/tmp/prefectctl-bench-env}
# The parts the benchmarks use (no Kubernetes cluster), and a server on PostgreSQL.
say "test environment in $PREFECTCTL_TESTENV_DIR (scripts/testenv.sh up prefect docker registry images prefect-pg)"
scripts/testenv.sh up prefect docker registry images prefect-pg >"$started" || die "scripts/testenv.sh up failed"
eval "$(scripts/testenv.sh env)"
for v in PREFECT_API_URL PREFECTCTL_PG_API_URL DOCKER_HOST PREFECTCTL_REGISTRY PREFECTCTL_PREFECT PREFECTCTL_PYTHON PREFECTCTL_BASE_IMAGE; do
  [[ -n ${!v:-} ]] || die "scripts/testenv.sh env gave no $v"
done
PREFECT=$PREFECTCTL_PREFECT
# Both CLIs see the same clean settings: the server's URL and nothing of the user's profiles.
export PREFECT_API_URL DOCKER_HOST PREFECT_HOME=$W/home PREFECT_PROFILES_PATH=$W/profiles.toml
# The generated projects' version is "stamp-$BENCH_STAMP": a new stamp changes every deployment.
export BENCH_STAMP=base
unset PREFECT_API_KEY PREFECT_PROFILE
mkdir -p "$PREFECT_HOME"

say "tools: scripts/bench and a matplotlib venv"
go build -o "$W/bench" ./scripts/bench || die "go build ./scripts/bench failed"
B=$W/bench
PLOTVENV=$CACHE/venv-bench-matplotlib-3.11.2
if [[ ! -x $PLOTVENV/bin/python ]] || ! "$PLOTVENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  rm -rf "$PLOTVENV"
  if ! { python3 -m venv "$PLOTVENV" && "$PLOTVENV/bin/pip" install --disable-pip-version-check -q 'matplotlib==3.11.2'; }; then
    rm -rf "$PLOTVENV"
    die "could not install matplotlib into $PLOTVENV (pip; needs python3-venv and access to the package index)"
  fi
fi

# The raw results stay after the run (report.py can be rerun on them).
RES=${BENCH_RESULTS_DIR:-/tmp/prefectctl-bench-results}
rm -rf "$RES"
mkdir -p "$RES"
R=$RES/results.jsonl
META=$RES/meta.env
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "prefectctl=$("$BIN" version | head -1)"
  echo "prefect=$("$PREFECTCTL_PYTHON" -c 'import prefect; print(prefect.__version__)')"
  echo "go=$(go env GOVERSION)"
  echo "python=$("$PREFECTCTL_PYTHON" -c 'import platform; print(platform.python_version())')"
  echo "docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
  echo "quick=${QUICK:-0}"
  echo "loadavg=$(cut -d" " -f1-3 /proc/loadavg)"
} >"$META"

# want SECTION: the section runs (all of them unless BENCH_ONLY lists some, e.g. "build flowmeta";
# the report is written only after a full run, except BENCH_ONLY=codelayer, which rewrites only
# that section of BENCHMARKS.md).
want() { [[ -z ${BENCH_ONLY:-} || " $BENCH_ONLY " == *" $1 "* ]]; }

# reps FULL QUICK: the repetition count for this mode.
reps() { if [[ -n $QUICK ]]; then echo "$2"; else echo "$1"; fi; }

say "work pool and generated projects"
"$PREFECT" --no-prompt work-pool create bench --type process --overwrite >/dev/null 2>&1 ||
  die "prefect work-pool create bench failed"
# Sizes of the scaling curve; 50 deployments over 10 flow files is the headline project.
if [[ -n $QUICK ]]; then SIZES=(10 50 100); PYSIZES=(10 50); else SIZES=(10 50 100 200 500); PYSIZES=(10 50 100 200); fi
for n in "${SIZES[@]}"; do
  "$B" gen -dir "$W/p$n" -files $((n < 10 ? n : n / 5)) -deployments "$n" -pool bench
done

if want cold; then
say "cold start"
"$B" time -label "prefectctl --help" -n "$(reps 30 5)" -warmup 3 -out "$R" -- "$BIN" --help
"$B" time -label "prefect --help" -n "$(reps 5 2)" -warmup 1 -out "$R" -- "$PREFECT" --help
"$B" time -label "prefectctl version" -n "$(reps 30 5)" -warmup 3 -out "$R" -- "$BIN" version
"$B" time -label "prefect version" -n "$(reps 5 2)" -warmup 1 -out "$R" -- "$PREFECT" version

fi

if want register; then
say "registration without builds"
# Each timed deploy updates existing deployments (the warm-up run creates them), the everyday case.
# prefectctl skips deployments the server already holds unchanged; --force re-sends them, so it
# does the same writes as prefect deploy, which always re-sends. Both are measured.
"$B" time -label "prefectctl deploy --all (50)" -dir "$W/p50" -n "$(reps 5 2)" -warmup 1 -out "$R" -- "$BIN" deploy --all --force
"$B" time -label "prefectctl deploy --all, nothing changed (50)" -dir "$W/p50" -n "$(reps 5 2)" -warmup 0 -out "$R" -- "$BIN" deploy --all
"$B" time -label "prefect deploy --all (50)" -dir "$W/p50" -n "$(reps 3 1)" -warmup 0 -out "$R" -- "$PREFECT" --no-prompt deploy --all
# On a self-hosted server prefectctl registers one deployment at a time by default (its SQLite
# serialises writes); this is what 4 in flight, the Prefect Cloud default, costs here.
"$B" time -label "prefectctl deploy --all --concurrency 4 (50)" -dir "$W/p50" -n "$(reps 3 1)" -warmup 0 -out "$R" -- "$BIN" deploy --all --force --concurrency 4

say "the floor: prefectctl's own requests replayed by a minimal client"
"$B" record -upstream "$PREFECT_API_URL" -dir "$W/p50" -out "$RES/requests-50.json" -- "$BIN" deploy --all --force
"$B" replay -in "$RES/requests-50.json" -api "$PREFECT_API_URL" -c 1 -n "$(reps 5 2)" -label "floor: replay (50)" -out "$R"
# Under 4 writers in flight the server can keep answering 503 past every retry; the run goes on then.
"$B" replay -in "$RES/requests-50.json" -api "$PREFECT_API_URL" -c 4 -n "$(reps 3 1)" -label "floor: replay, 4 in flight (50)" -out "$R" ||
  echo "bench: the 4-in-flight replay gave up (the report leaves it out)" >&2
"$B" time -label "prefectctl deploy --all --dry-run (50)" -dir "$W/p50" -n "$(reps 10 3)" -warmup 1 -out "$R" -- "$BIN" deploy --all --dry-run -o json
"$B" record -upstream "$PREFECT_API_URL" -dir "$W/p50" -out "$RES/requests-50-prefect.json" -- "$PREFECT" --no-prompt deploy --all

fi

if want scale; then
say "scale: time and peak RSS against the number of deployments"
for n in "${SIZES[@]}"; do
  [[ $n == 50 ]] && continue # measured above
  "$B" time -label "prefectctl deploy --all ($n)" -dir "$W/p$n" -n "$(if ((n >= 500)); then echo 1; else reps 2 1; fi)" -warmup 1 -out "$R" -- "$BIN" deploy --all --force
done
for n in "${PYSIZES[@]}"; do
  # 50 is measured above; 10 and 200 by the latency section (0 ms, SQLite), when it runs.
  [[ $n == 50 ]] && continue
  if want latency && [[ $n == 10 || $n == 200 ]]; then continue; fi
  # The prefectctl warm-up above created these deployments, so this too is an update.
  "$B" time -label "prefect deploy --all ($n)" -dir "$W/p$n" -n 1 -warmup 0 -out "$R" -- "$PREFECT" --no-prompt deploy --all
done

fi

if want latency; then
say "latency: 10 / 50 / 200 deployments x 0 / 20 / 80 ms RTT x SQLite / PostgreSQL"
# Every command goes through the fault proxy's latency mode (scripts/bench time -rtt), which also
# counts its requests. Per cell, in rounds: prefectctl's first deploy (the project's flows wiped
# before), an all-changed redeploy (a new BENCH_STAMP changes every deployment's version), a
# nothing-changed redeploy, and `prefect deploy --all` right after them (it always re-sends
# everything), so each prefect run is paired with the prefectctl runs of its round. prefect deploy
# takes minutes at 80 ms and 200 deployments: it runs 3 times only where a target is set (50
# deployments at 80 ms), once elsewhere.
if [[ -n $QUICK ]]; then LSIZES=(10 50); RTTS=(0 80); else LSIZES=(10 50 200); RTTS=(0 20 80); fi
for db in sqlite postgres; do
  if [[ $db == sqlite ]]; then api=$PREFECT_API_URL; else api=$PREFECTCTL_PG_API_URL; fi
  PREFECT_API_URL=$api "$PREFECT" --no-prompt work-pool create bench --type process --overwrite >/dev/null 2>&1 ||
    die "prefect work-pool create bench on $db failed"
  for n in "${LSIZES[@]}"; do
    for rtt in "${RTTS[@]}"; do
      cell="$db $n ${rtt}ms"
      if [[ -n $QUICK ]]; then reps=1; pyreps=1; elif ((n >= 200)); then reps=1; pyreps=1; else reps=3; pyreps=1; fi
      if [[ -z $QUICK && $n == 50 && $rtt == 80 ]]; then pyreps=3; fi
      for ((i = 0; i < reps; i++)); do
        rec=()
        T() { "$B" time -label "$1" -dir "$W/p$n" -n 1 -warmup 0 -out "$R" -upstream "$api" -rtt "${rtt}ms" "${@:2}"; }
        last=$((i == reps - 1 && rtt == 0))
        export BENCH_STAMP=$db-$n-$rtt-$i
        ((last)) && rec=(-record "$RES/req-first-$db-$n.json")
        T "ctl first | $cell" -wipe bench-flow- "${rec[@]}" -- "$BIN" deploy --all
        export BENCH_STAMP=$db-$n-$rtt-$i-changed
        ((last)) && rec=(-record "$RES/req-changed-$db-$n.json")
        T "ctl changed | $cell" "${rec[@]}" -- "$BIN" deploy --all
        ((last)) && rec=(-record "$RES/req-unchanged-$db-$n.json")
        T "ctl unchanged | $cell" "${rec[@]}" -- "$BIN" deploy --all
        if ((i < pyreps)); then
          T "prefect | $cell" -- "$PREFECT" --no-prompt deploy --all
        fi
      done
    done
    # The server's own time for each kind of deploy: its recorded requests replayed straight to the
    # server by a minimal client, one at a time and 8 at a time (the report takes the faster).
    for kind in first changed unchanged; do
      for c in 1 8; do
        passes=$(reps 3 1)
        ((n >= 200)) && passes=1
        "$B" replay -in "$RES/req-$kind-$db-$n.json" -api "$api" -c "$c" -n "$passes" -label "server $kind c$c | $db $n" -out "$R" ||
          echo "bench: replay of $kind ($db, $n, $c in flight) gave up (the report leaves it out)" >&2
      done
    done
  done
done
if [[ -z $QUICK ]]; then
  say "500 deployments, all changed, PostgreSQL at 20 ms"
  export BENCH_STAMP=big-created
  "$B" time -label "ctl first | postgres 500 20ms" -dir "$W/p500" -n 1 -warmup 0 -out "$R" \
    -upstream "$PREFECTCTL_PG_API_URL" -rtt 20ms -wipe bench-flow- -- "$BIN" deploy --all
  export BENCH_STAMP=big-changed
  "$B" time -label "ctl changed | postgres 500 20ms" -dir "$W/p500" -n 1 -warmup 0 -out "$R" \
    -upstream "$PREFECTCTL_PG_API_URL" -rtt 20ms -record "$RES/req-changed-postgres-500.json" -- "$BIN" deploy --all
  "$B" check -api "$PREFECTCTL_PG_API_URL" -prefix bench-flow- -deployments 500 -flows 100 2>"$RES/check-500.txt" ||
    { cat "$RES/check-500.txt" >&2; die "500 deployments on PostgreSQL: the server does not hold each exactly once"; }
  cat "$RES/check-500.txt" >&2
fi
export BENCH_STAMP=base

fi

if want flowmeta; then
say "flow metadata (scripts/bench-flowmeta.sh)"
PREFECTCTL_PYTHON=$PREFECTCTL_PYTHON scripts/bench-flowmeta.sh >"$RES/flowmeta.txt" 2>&1 ||
  { cat "$RES/flowmeta.txt" >&2; die "scripts/bench-flowmeta.sh failed"; }
cat "$RES/flowmeta.txt" >&2

fi

# build_project DIR NAME IMAGE DOCKERFILE DEPLOYMENT: the prefect.yaml of a one-deployment project
# that builds IMAGE:bench from DOCKERFILE (pull: false: this engine reaches no Docker Hub) and
# pushes it.
build_project() {
  cat >"$1/prefect.yaml" <<EOF
name: $2
prefect-version: 3.9.1
build:
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    requires: prefect-docker>=0.4.0
    image_name: $3
    tag: bench
    dockerfile: $4
    pull: false
push:
- prefect_docker.deployments.steps.push_docker_image:
    requires: prefect-docker>=0.4.0
    image_name: "{{ build-image.image_name }}"
    tag: "{{ build-image.tag }}"
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/prefect/flows
deployments:
- name: $5
  entrypoint: flows/hello.py:hello
  work_pool:
    name: bench
    job_variables:
      image: "{{ build-image.image }}"
EOF
}

if want build; then
say "build and push: prefectctl vs docker build && docker push vs prefect deploy"
P=$W/pbuild
mkdir -p "$P/flows"
cp examples/flows/flows/hello.py "$P/flows/"
printf 'FROM %s\nCOPY flows /opt/prefect/flows\nWORKDIR /opt/prefect/flows\n' "$PREFECTCTL_BASE_IMAGE" >"$P/Dockerfile"
IMG=$PREFECTCTL_REGISTRY/bench-build
# pull: false because this engine reaches no Docker Hub (make demo shows the pull through a mirror);
# every timed run first changes flows/stamp, so each build makes a new layer and each push sends it.
build_project "$P" bench-build "$IMG" Dockerfile built
stamp='date +%s%N >flows/stamp && '
"$B" time -label "build+push: docker build && docker push" -dir "$P" -n "$(reps 5 2)" -warmup 1 -out "$R" -- \
  bash -c "${stamp}docker build -q -t $IMG:bench . >/dev/null && docker push -q $IMG:bench"
"$B" time -label "build+push: prefectctl deploy" -dir "$P" -n "$(reps 5 2)" -warmup 1 -out "$R" -- \
  bash -c "${stamp}exec $BIN deploy --all"
"$B" time -label "build+push: prefect deploy" -dir "$P" -n "$(reps 3 1)" -warmup 1 -out "$R" -- \
  bash -c "${stamp}exec $PREFECT --no-prompt deploy --all"

fi

if want codelayer; then
say "code-only redeploys: a code layer without Docker vs docker build && docker push vs prefect deploy"
# The guide's shape: dockerfile: auto in a directory named flows, one deployment, pushed. The image
# names a counting proxy in front of the registry, on one port for the whole section: the image
# name, and so the repository a code layer goes on, must not change between runs.
CP=$W/pcode/flows
mkdir -p "$CP/flows" "$W/nobin"
cp examples/flows/flows/hello.py "$CP/flows/"
REGPROXY=127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A repository of this run's own: an image left in the registry by an earlier run must not be found.
CREPO=bench-code-$(date +%s)
CIMG=$REGPROXY/$CREPO
build_project "$CP" bench-code "$CIMG" auto code
# The one-line change (the flow's log line), run untimed before each timed run.
# shellcheck disable=SC2016 # $(date) runs in change.sh, at each run
printf '#!/bin/sh\nexec sed -i "s/^    logger.info(.*/    logger.info(f\\"Hello, {name}! $(date +%%s%%N)\\")/" flows/hello.py\n' >"$W/change.sh"
chmod +x "$W/change.sh"
if ! { (cd "$CP" && "$W/change.sh") && grep -q 'Hello, {name}! [0-9]' "$CP/flows/hello.py"; }; then
  die "the one-line change did not apply to $CP/flows/hello.py"
fi
# The generated Dockerfile, for docker build (prefectctl and prefect-docker write this text).
printf 'FROM %s\nCOPY . /opt/prefect/flows/\nWORKDIR /opt/prefect/flows/\n' "$PREFECTCTL_BASE_IMAGE" >"$W/Dockerfile.auto"
echo "codelayer_project_gz=$(tar -C "$CP" -cf - . | gzip -c | wc -c)" >>"$META"
# prefectctl's generated Dockerfile names the base image of the local one (prefect-docker takes
# the versions from its own Python and prefect, which are the same here).
base_tag=${PREFECTCTL_BASE_IMAGE##*:}
export PREFECTCTL_PREFECT_IMAGE_VERSION=${base_tag%-python*} PREFECTCTL_PYTHON_VERSION=${base_tag##*-python}
CT=(-registry-proxy "$REGPROXY" -registry "$PREFECTCTL_REGISTRY" -dir "$CP" -out "$R")
NODOCKER=(env PATH="$W/nobin" DOCKER_HOST="unix://$W/no-docker.sock")
"$B" time -label "codelayer: first deploy, full build (prefectctl, Docker)" -n 1 -warmup 0 "${CT[@]}" -- "$BIN" deploy --all --full-build
"$B" time -label "codelayer: prefectctl deploy, one-line change, no Docker" -n "$(reps 5 2)" -warmup 0 -before "$W/change.sh" \
  "${CT[@]}" -- "${NODOCKER[@]}" "$BIN" deploy --all
"$B" time -label "codelayer: prefectctl deploy, nothing changed, no Docker" -n "$(reps 3 1)" -warmup 0 \
  "${CT[@]}" -- "${NODOCKER[@]}" "$BIN" deploy --all
"$B" time -label "codelayer: docker build && docker push, warm cache" -n "$(reps 5 2)" -warmup 1 -before "$W/change.sh" "${CT[@]}" -- \
  bash -c "docker build -q -f $W/Dockerfile.auto -t $REGPROXY/$CREPO-docker:bench . >/dev/null && docker push -q $REGPROXY/$CREPO-docker:bench"
"$B" time -label "codelayer: prefect deploy, empty build cache" -n "$(reps 3 1)" -warmup 0 \
  -before "$W/change.sh && docker image rm -f $CIMG:bench >/dev/null && docker image prune -f >/dev/null && docker builder prune -af >/dev/null" \
  "${CT[@]}" -- "$PREFECT" --no-prompt deploy --all
unset PREFECTCTL_PREFECT_IMAGE_VERSION PREFECTCTL_PYTHON_VERSION

fi

if [[ ${BENCH_ONLY:-} == codelayer ]]; then
  "$PLOTVENV/bin/python" scripts/bench/report.py --codelayer-only --results "$R" --meta "$META" --md "$OUT_MD"
  echo "BENCH_ONLY=codelayer: wrote the code-layer section of $OUT_MD (results in $RES)" >&2
  exit 0
fi
if [[ -n ${BENCH_ONLY:-} ]]; then
  echo "BENCH_ONLY=$BENCH_ONLY: results in $RES, no report" >&2
  exit 0
fi
say "report"
"$PLOTVENV/bin/python" scripts/bench/report.py --results "$R" --meta "$META" --flowmeta "$RES/flowmeta.txt" \
  --requests "$RES/requests-50.json" --requests-prefect "$RES/requests-50-prefect.json" --resdir "$RES" \
  --md "$OUT_MD" --png "$OUT_PNG" --png-rel "docs/$(basename "$OUT_PNG")" \
  --latency-png "$OUT_LAT_PNG" --latency-png-rel "docs/$(basename "$OUT_LAT_PNG")"
echo "wrote $OUT_MD, $OUT_PNG and $OUT_LAT_PNG" >&2
