#!/usr/bin/env bash
# make demo: Prefect's "Run flows on Kubernetes" guide, end to end on this machine, on a real
# single-node Kubernetes cluster (scripts/testenv.sh up kubernetes) with Prefect's Kubernetes
# worker running in it (scripts/lib/demo-kubernetes.sh). PREFECTCTL_DEMO_POOL_TYPE=docker runs
# the same guide with a Docker work pool and a local Docker worker instead.
#
#   scripts/demo.sh [up]    bring up what is missing, deploy examples/flows, run hello/arthur;
#                           then change the flow's log line and redeploy with the Docker daemon
#                           stopped (a code layer, scripts/lib/demo-codelayer.sh) and run it again
#   scripts/demo.sh down    stop exactly what earlier `up` runs started (by PID), nothing else
#   scripts/demo.sh status  show what the demo runs
#
# State lives in $PREFECTCTL_DEMO_DIR: by default /tmp/prefectctl-demo, or
# $PREFECTCTL_TESTENV_DIR-demo when PREFECTCTL_TESTENV_DIR is set (so that demos started with
# different test-environment directories never meet). The services (dockerd, registry, Prefect
# server, base image) come from scripts/testenv.sh with PREFECTCTL_TESTENV_DIR set to
# $PREFECTCTL_DEMO_DIR/env, so the demo neither uses nor stops a test run's services.
# Processes are started and stopped with scripts/lib/procs.sh: testenv.sh records each part it
# starts in $PREFECTCTL_DEMO_DIR/started the moment it starts it; the worker and the Docker Hub
# mirror registry are tracked in $PREFECTCTL_DEMO_DIR/worker and $PREFECTCTL_DEMO_DIR/mirror.
# `down` stops all of these with whatever they started, then checks that no process and no
# mount of the demo's is left.
set -euo pipefail
# A caller that exported SHELLOPTS (to pass on job control, say) would hand our -euo pipefail to
# every bash script we run, such as a pyenv shim; keep our options to ourselves.
export -n SHELLOPTS BASHOPTS 2>/dev/null || true

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${PREFECTCTL_DEMO_DIR:-} ]]; then
  DEMO=$PREFECTCTL_DEMO_DIR
elif [[ -n ${PREFECTCTL_TESTENV_DIR:-} ]]; then
  DEMO=${PREFECTCTL_TESTENV_DIR%/}-demo
else
  DEMO=/tmp/prefectctl-demo
fi
[[ $DEMO == /* ]] || DEMO=$PWD/$DEMO
# Its own test environment, whatever a shell that ran `eval "$(scripts/testenv.sh env)"` exports:
# the demo's engine needs a registry mirror flag, and `down` must not stop a test run's services.
export PREFECTCTL_TESTENV_DIR=${PREFECTCTL_DEMO_TESTENV_DIR:-$DEMO/env}
# testenv.sh appends each part it starts here, even if this script is killed meanwhile.
export PREFECTCTL_TESTENV_STARTED=$DEMO/started
BIN=${PREFECTCTL_BIN:-$ROOT/bin/prefectctl}
POOL=kubernetes # the guide's prefect.yaml names this pool
MIRROR=$DEMO/mirror
WORKER=$DEMO/worker
WATCH_TIMEOUT=${PREFECTCTL_DEMO_TIMEOUT:-10m}

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
log() { printf 'demo: %s\n' "$*" >&2; }
die() {
  printf 'demo: error: %s\n' "$*" >&2
  exit 1
}

read_file() { cat "$1" 2>/dev/null || true; }

# shellcheck source=SCRIPTDIR/lib/procs.sh
source "$ROOT/scripts/lib/procs.sh" # proc_start, proc_alive, proc_wait, proc_stop, proc_owned
# shellcheck source=SCRIPTDIR/lib/demo-kubernetes.sh
source "$ROOT/scripts/lib/demo-kubernetes.sh" # kube_up, kube_run_cpu, kube_status, kube_worker_log
DEMO_POOL_TYPE=${PREFECTCTL_DEMO_POOL_TYPE:-kubernetes}
# shellcheck source=SCRIPTDIR/lib/demo-codelayer.sh
source "$ROOT/scripts/lib/demo-codelayer.sh" # codelayer_act: the code-only redeploy without Docker

stop_worker() {
  proc_stop "$WORKER" "the Prefect worker" 30
  rm -f "$WORKER/api"
}

# demo_leftovers: what of the demo's still runs or is mounted, one a line (nothing when clean).
demo_leftovers() {
  proc_owned "$DEMO" | sed 's/^/process /'
  awk '{ print $2 }' /proc/mounts | while read -r m; do
    m=$(printf '%b' "$m")
    if [[ $m == "$DEMO"/* ]]; then echo "mount $m"; fi
  done
}

cmd_down() {
  step "stopping what the demo started (state in $DEMO)"
  # Started by an older demo.sh, which kept bare PIDs.
  stop_pid "$(read_file "$DEMO/worker.pid")" "worker start --pool $POOL --type docker" "the Prefect worker" 30
  stop_pid "$(read_file "$MIRROR/pid")" "$MIRROR/config.yml" "the Docker Hub mirror registry" 10
  rm -f "$DEMO/worker.pid" "$DEMO/worker.api" "$MIRROR/pid"
  stop_worker
  stop_mirror
  local parts
  parts=$(read_file "$DEMO/started" | awk 'NF && !seen[$0]++')
  if [[ -z ${PREFECTCTL_DEMO_TESTENV_DIR:-} ]]; then
    # The demo's own test environment: whatever runs there is the demo's.
    "$ROOT/scripts/testenv.sh" down all
  elif [[ -n $parts ]]; then
    # shellcheck disable=SC2086 # one part name a word
    "$ROOT/scripts/testenv.sh" down $parts
  else
    log "no test-environment service was started by the demo"
  fi
  rm -f "$DEMO/started"
  local left
  left=$(demo_leftovers)
  if [[ -n $left ]]; then
    printf '%s\n' "$left" >&2
    die "the demo left the above behind in $DEMO"
  fi
  log "done (cached downloads, the venv and images stay in ~/.cache/prefectctl-testenv)"
}

cmd_status() {
  if proc_alive "$WORKER"; then echo "worker: running (pid $_P_PID, pool $POOL)"; else echo "worker: stopped"; fi
  if proc_alive "$MIRROR"; then
    echo "Docker Hub mirror: running (pid $_P_PID, 127.0.0.1:$(read_file "$MIRROR/port"))"
  else
    echo "Docker Hub mirror: stopped"
  fi
  "$ROOT/scripts/testenv.sh" status || true
  eval "$("$ROOT/scripts/testenv.sh" env)"
  kube_status
}

# need CMD WHY: fail naming the missing command.
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; it is needed $2"; }

ensure_binary() {
  if [[ ! -x $BIN ]]; then
    need go "to build prefectctl (or run 'make build' first)"
    step "building prefectctl"
    (cd "$ROOT" && make --no-print-directory build) || die "building prefectctl failed"
  fi
  "$BIN" version >/dev/null || die "$BIN does not run"
}

# testenv_up PART...: scripts/testenv.sh up; what it starts is recorded in $DEMO/started
# (PREFECTCTL_TESTENV_STARTED), even when it fails.
testenv_up() {
  "$ROOT/scripts/testenv.sh" up "$@" >/dev/null ||
    die "scripts/testenv.sh up $* failed (see the testenv error above); 'make demo-down' stops what did start"
}

port_free() { python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The guide's build step pulls its base image (prefect-docker's pull=True default, which prefectctl
# keeps), and this machine has no route to Docker Hub. So the demo runs a loopback registry that
# the engine uses as its Docker Hub mirror (dockerd --registry-mirror) and pushes the local base
# image into it: the pull then succeeds as it would against Docker Hub. Its storage persists in
# $DEMO/mirror/data, and it keeps its port so the engine's flag stays valid across runs.
mirror_answers() { [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/v2/") == 200 ]]; }

ensure_mirror() {
  local port rc
  port=$(read_file "$MIRROR/port")
  if proc_alive "$MIRROR" && mirror_answers "$port"; then
    return
  fi
  need docker-registry "for the Docker Hub mirror (apt-get install docker-registry)"
  stop_mirror
  mkdir -p "$MIRROR/data"
  if [[ -z $port ]] || ! port_free "$port"; then port=$(free_port); fi
  printf '%s\n' "version: 0.1" "log:" "  level: warn" "storage:" "  filesystem:" \
    "    rootdirectory: $MIRROR/data" "http:" "  addr: 127.0.0.1:$port" >"$MIRROR/config.yml"
  echo "$port" >"$MIRROR/port"
  proc_start "$MIRROR" "$MIRROR/log" docker-registry serve "$MIRROR/config.yml" || die "could not start the mirror registry"
  rc=0
  proc_wait "$MIRROR" 60 mirror_answers "$port" || rc=$?
  case $rc in
    0) log "Docker Hub mirror on 127.0.0.1:$port (pid $SPAWNED)" ;;
    1)
      tail -5 "$MIRROR/log" >&2
      stop_mirror
      die "the mirror registry exited at start (log: $MIRROR/log)"
      ;;
    *)
      stop_mirror
      die "the mirror registry did not answer on 127.0.0.1:$port within 60 s (log: $MIRROR/log)"
      ;;
  esac
}

stop_mirror() {
  proc_stop "$MIRROR" "the Docker Hub mirror registry" 10
}

ensure_services() {
  step "test environment: Prefect server, registry, Docker engine, base image (scripts/testenv.sh up)"
  log "state in $PREFECTCTL_TESTENV_DIR; a first run installs packages and builds the base image (a few minutes)"
  testenv_up prefect registry
  ensure_mirror
  local mirror host mirrors
  mirror=http://127.0.0.1:$(read_file "$MIRROR/port")
  host=unix://$PREFECTCTL_TESTENV_DIR/docker/docker.sock
  if "$ROOT/scripts/testenv.sh" status docker >/dev/null 2>&1; then
    mirrors=$(DOCKER_HOST=$host docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null || true)
    if [[ $mirrors != *"$mirror"* ]]; then
      grep -qx docker "$DEMO/started" 2>/dev/null ||
        die "the Docker engine at $host was not started by the demo and has no registry mirror $mirror; stop it or set PREFECTCTL_TESTENV_DIR to a fresh directory"
      log "restarting the demo's Docker engine with the mirror $mirror"
      "$ROOT/scripts/testenv.sh" down docker
    fi
  fi
  PREFECTCTL_TESTENV_DOCKERD_ARGS="--registry-mirror=$mirror" testenv_up docker images
  eval "$("$ROOT/scripts/testenv.sh" env)"
  local v
  for v in PREFECT_API_URL DOCKER_HOST PREFECTCTL_REGISTRY PREFECTCTL_PYTHON PREFECTCTL_PREFECT PREFECTCTL_BASE_IMAGE; do
    [[ -n ${!v:-} ]] || die "scripts/testenv.sh env gave no $v: that part is not running ('scripts/testenv.sh status')"
  done
  export PREFECT_API_URL DOCKER_HOST
  # A code layer re-checks the base image (pull: true) in the registry without the daemon: through
  # the same mirror the daemon pulls from.
  export PREFECTCTL_REGISTRY_MIRRORS=$mirror
  need docker "to push the base image into the mirror (apt-get install docker.io)"
  local mref
  mref=127.0.0.1:$(read_file "$MIRROR/port")/${PREFECTCTL_BASE_IMAGE}
  log "pushing $PREFECTCTL_BASE_IMAGE into the mirror (minutes the first time, seconds after)"
  if ! { docker tag "$PREFECTCTL_BASE_IMAGE" "$mref" && docker push -q "$mref" >/dev/null; }; then
    die "could not push $PREFECTCTL_BASE_IMAGE to the mirror at $mref"
  fi
  # Nothing of the user's own Prefect configuration may steer the demo elsewhere.
  export PREFECT_PROFILES_PATH=$DEMO/profiles.toml PREFECT_HOME=$DEMO/prefect-home
  unset PREFECT_API_KEY PREFECT_PROFILE
  mkdir -p "$PREFECT_HOME"
  log "Prefect API $PREFECT_API_URL, Docker $DOCKER_HOST, registry $PREFECTCTL_REGISTRY"
}

# The guide project must sit in a git checkout: its build step tags the image with
# `git rev-parse --short HEAD`. The repository is one; a tarball of it is not, so then the demo
# deploys a copy committed into a fresh repository.
project_dir() {
  local src=$ROOT/examples/flows
  if git -C "$src" rev-parse --short HEAD >/dev/null 2>&1; then
    echo "$src"
    return
  fi
  need git "to tag the image with a commit SHA as the guide does"
  local copy=$DEMO/project
  if ! git -C "$copy" rev-parse --short HEAD >/dev/null 2>&1 || ! diff -rq -x .git "$src" "$copy" >/dev/null 2>&1; then
    log "$src is not in a git checkout; deploying a copy committed in $copy"
    rm -rf "$copy"
    cp -a "$src" "$copy"
    git -C "$copy" init -q
    git -C "$copy" add -A
    git -C "$copy" -c user.name=prefectctl-demo -c user.email=demo@localhost commit -qm "guide project" ||
      die "git commit in $copy failed"
  fi
  echo "$copy"
}

# The pool the guide creates on the cluster, as a Docker pool whose containers share the host's
# network (the engine runs with --bridge=none, and the server listens on loopback). Pulling always
# makes the run prove the push: the worker takes the image from the registry, not the build cache.
ensure_pool() {
  step "work pool '$POOL' (type docker, network_mode host)"
  local tmpl=$DEMO/base-job-template.json out
  "$PREFECTCTL_PYTHON" - "$tmpl" <<'EOF' || die "could not read prefect-docker's default base job template from $PREFECTCTL_PYTHON"
import json, sys
from prefect_docker.worker import DockerWorker
t = DockerWorker.get_default_base_job_template()
props = t["variables"]["properties"]
props["network_mode"]["default"] = "host"
props["image_pull_policy"]["default"] = "Always"
props["auto_remove"]["default"] = True
with open(sys.argv[1], "w") as f:
    json.dump(t, f, indent=2)
EOF
  # --overwrite makes a second run update the template instead of failing on the existing pool.
  out=$("$PREFECTCTL_PREFECT" --no-prompt work-pool create "$POOL" --type docker --base-job-template "$tmpl" --overwrite 2>&1) ||
    die "prefect work-pool create $POOL failed: $out"
  log "work pool '$POOL' ready"
}

worker_polls() { grep -q "started!" "$WORKER/log" 2>/dev/null; }

ensure_worker() {
  step "Prefect Docker worker for pool '$POOL'"
  local rc
  if proc_alive "$WORKER"; then
    if [[ $(read_file "$WORKER/api") == "$PREFECT_API_URL" ]]; then
      log "reusing the worker (pid $_P_PID)"
      return
    fi
    log "the worker (pid $_P_PID) polls another server; restarting it"
  fi
  stop_worker
  mkdir -p "$WORKER"
  # Its own session: the worker outlives this script and never holds our terminal.
  proc_start "$WORKER" "$WORKER/log" "$PREFECTCTL_PREFECT" worker start --pool "$POOL" --type docker --name prefectctl-demo ||
    die "could not start the Prefect worker"
  echo "$PREFECT_API_URL" >"$WORKER/api"
  log "started (pid $SPAWNED, log $WORKER/log); waiting until it polls the pool"
  rc=0
  proc_wait "$WORKER" 180 worker_polls || rc=$?
  case $rc in
    0) log "worker polling" ;;
    1)
      tail -20 "$WORKER/log" >&2
      stop_worker
      die "the Prefect worker exited (log: $WORKER/log)"
      ;;
    *)
      tail -20 "$WORKER/log" >&2
      stop_worker
      die "the Prefect worker did not start within 180 s (log: $WORKER/log)"
      ;;
  esac
}

cmd_up() {
  mkdir -p "$DEMO"
  need curl "by scripts/testenv.sh to wait for services"
  ensure_binary
  ensure_services
  case $DEMO_POOL_TYPE in
    kubernetes) kube_up ;;
    docker)
      ensure_pool
      ensure_worker
      ;;
    *) die "PREFECTCTL_DEMO_POOL_TYPE must be kubernetes or docker, not '$DEMO_POOL_TYPE'" ;;
  esac

  local dir image
  dir=$(project_dir)
  image=$PREFECTCTL_REGISTRY/hello
  step "prefectctl deploy --all (in $dir, PREFECT_IMAGE_NAME=$image)"
  # The guide's prefect.yaml says prefect-version: 3.0.0, and with no Prefect
  # in this machine's python3 that would pick the base image
  # prefecthq/prefect:3.0.0-python3.11; the demo has the 3.9.1 image locally.
  (cd "$dir" && PREFECT_IMAGE_NAME=$image PREFECTCTL_PREFECT_IMAGE_VERSION=${PREFECTCTL_PREFECT_IMAGE_VERSION:-3.9.1} \
    PREFECTCTL_PYTHON_VERSION=${PREFECTCTL_PYTHON_VERSION:-3.11} "$BIN" deploy --all) ||
    die "prefectctl deploy --all failed (Docker: $DOCKER_HOST, registry: $PREFECTCTL_REGISTRY)"

  step "prefectctl deployment run hello/arthur --watch"
  local log=$DEMO/run.log rc=0
  "$BIN" deployment run hello/arthur --watch --timeout "$WATCH_TIMEOUT" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  if ((rc != 0)); then
    if [[ $DEMO_POOL_TYPE == kubernetes ]]; then kube_worker_log >&2; else tail -30 "$WORKER/log" >&2; fi
    die "the run of hello/arthur did not complete (exit $rc); see the worker log above"
  fi
  grep -q 'Hello, Arthur!' "$log" || die "the run completed but its log line 'Hello, Arthur!' was not shown (see $log)"
  [[ $DEMO_POOL_TYPE != kubernetes ]] || kube_run_cpu

  # The image as registered: HEAD may have moved while the build ran.
  local registered
  registered=$("$BIN" deployment inspect hello/arthur -o json |
    "$PREFECTCTL_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["job_variables"]["image"])') ||
    die "prefectctl deployment inspect hello/arthur failed"

  # The Docker pool's worker needs dockerd to start the run's container; the cluster pulls the
  # image itself.
  local run_needs_docker=0
  [[ $DEMO_POOL_TYPE == docker ]] && run_needs_docker=1
  codelayer_act "$dir" "$image" "$run_needs_docker"
  step "done"
  local pool_line try_more=
  if [[ $DEMO_POOL_TYPE == kubernetes ]]; then
    pool_line="$POOL (type kubernetes), worker: Deployment $KUBE_NS/$KUBE_WORKER in the cluster"
  else
    pool_line="$POOL (type docker, network_mode host), worker pid $(proc_pid "$WORKER")"
  fi
  cat <<EOF
The guide ran end to end:
  Prefect server   $PREFECT_API_URL
  work pool        $pool_line
  image            $registered (built for linux/amd64, pushed to the loopback registry)
  deployments      hello/default, hello/arthur
  flow run         hello/arthur COMPLETED, logged "Hello, Arthur!"
  second act       a one-line change deployed with the Docker daemon stopped: a code layer
                   appended in the registry, $CODELAYER_IMAGE;
                   hello/arthur COMPLETED on it, logged "$CODELAYER_LINE"
EOF
  if [[ $DEMO_POOL_TYPE == kubernetes ]]; then
    cat <<EOF
  flow run         hello/default --job-variable cpu_request=250m COMPLETED
  Kubernetes Job   $KUBE_JOB_NAME: image $KUBE_JOB_IMAGE, CPU request $KUBE_JOB_CPU
EOF
    try_more="       export KUBECONFIG=$KUBECONFIG; $PREFECTCTL_KUBECTL -n $KUBE_NS get jobs,pods
       $BIN deployment inspect hello/default --job --job-variable cpu_request=250m
"
  fi
  cat <<EOF

Try:   export PREFECT_API_URL=$PREFECT_API_URL
       $BIN deployment run hello/default --param name=Ford --watch
${try_more}Stop everything the demo started:   make demo-down
EOF
}

case ${1:-up} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
