#!/usr/bin/env bash
# Back-to-back `make demo && make demo-down`, each from a background job under `timeout`, with
# every CPU kept busy by a load generator beside them; each run must succeed and leave nothing
# behind. The acceptance test of process tracking (issue 17); scripts/test.sh runs a short form.
#
#   scripts/demo_soak.sh [RUNS]     (default 10; PREFECTCTL_SOAK_RUN_TIMEOUT per run, default 20m)
#
# The jobs alternate between the contexts a user starts them from: a plain background job, one
# with job control on (set -m, passed on through SHELLOPTS), nohup, and a new session with no
# terminal (as CI runs it). While a run goes, a watcher samples every process of the run (all
# carry PREFECTCTL_DEMO_DIR in their environment, services included) and every process in the
# demo engine's cgroups (containers). After `make demo-down`:
#   - none of the sampled processes runs (PID and start time, so a reused PID is no false alarm);
#   - no process carries the demo's directory, no process is left in its cgroups, and the cgroups
#     are gone;
#   - nothing is mounted under the demo's directory, no unix socket is left in it, and no port
#     the demo recorded accepts connections.
#
# State in $PREFECTCTL_SOAK_DIR, by default ${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}-soak
# (a demo directory of its own; its Docker data root and mirror storage persist, so only the first
# run loads the base image).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-10}
RUN_TIMEOUT=${PREFECTCTL_SOAK_RUN_TIMEOUT:-20m}
D=${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}
D=${PREFECTCTL_SOAK_DIR:-${D%/}-soak}
unset PREFECTCTL_TESTENV_DIR PREFECTCTL_TESTENV_STARTED PREFECTCTL_DEMO_DIR PREFECTCTL_DEMO_TESTENV_DIR
T=$(mktemp -d)

log() { printf 'demo_soak: %s\n' "$*" >&2; }
die() {
  printf 'demo_soak: FAIL: %s\n' "$*" >&2
  exit 1
}
# shellcheck source=SCRIPTDIR/lib/procs.sh
source scripts/lib/procs.sh

cleanup() {
  local rc=$?
  trap - EXIT
  # Subshells: a die in there must not end this trap before the rest is stopped.
  [[ -z ${WATCH:-} ]] || (proc_stop "$WATCH" "the watcher" 5) || rc=1
  [[ -z ${LOAD:-} ]] || (proc_stop "$LOAD" "the load generator" 5) || rc=1
  PREFECTCTL_DEMO_DIR=$D scripts/demo.sh down >/dev/null 2>"$T/down.log" || { tail -5 "$T/down.log" >&2; rc=1; }
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

cgroup_parent() { echo "/prefectctl-testenv-$(printf '%s' "$D/env" | sha256sum | cut -c1-16)"; }

# cgroup_dirs: the demo engine's cgroups, in every hierarchy.
cgroup_dirs() {
  local mnt
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts | while read -r mnt; do
    [[ ! -d $mnt$(cgroup_parent) ]] || echo "$mnt$(cgroup_parent)"
  done
}

# run_pids: "PID STARTTIME" of every process of the demo's: its environment names the demo
# directory, or it sits in the demo engine's cgroups.
run_pids() {
  local p
  {
    grep -lzxF "PREFECTCTL_DEMO_DIR=$D" /proc/[0-9]*/environ 2>/dev/null | sed -E 's#^/proc/([0-9]+)/.*#\1#' || true
    cgroup_dirs | while read -r c; do find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null || true; done
  } | sort -un | while read -r p; do
    _proc_stat "$p" && [[ $_S_STATE != Z ]] && echo "$p $_S_START"
  done
  return 0
}

# The watcher: a service of its own (bash sourcing this script's functions), sampling every 2 s.
start_watcher() {
  WATCH=$T/watch
  mkdir -p "$WATCH"
  local lib
  lib=$(declare -f _proc_stat cgroup_parent cgroup_dirs run_pids)
  # shellcheck disable=SC2016 # expanded by the watcher
  proc_start "$WATCH" "$WATCH/log" bash -c "$lib"'
    D=$1
    while :; do run_pids >>"$2"; sleep 2; done' _ "$D" "$T/seen" || die "cannot start the watcher"
}

start_load() {
  LOAD=$T/load
  mkdir -p "$LOAD"
  # shellcheck disable=SC2016 # the inner shell expands $1
  proc_start "$LOAD" "$LOAD/log" bash -c 'for ((i = 0; i < $1; i++)); do (while :; do :; done) & done; wait' _ "$(nproc)" ||
    die "cannot start the load generator"
}

# job CONTEXT: `make demo && make demo-down` in a background job under timeout, in CONTEXT.
job() {
  local cmd
  cmd="PREFECTCTL_DEMO_DIR='$D' timeout --kill-after=30s $RUN_TIMEOUT bash -c 'make --no-print-directory -C \"$ROOT\" demo && make --no-print-directory -C \"$ROOT\" demo-down'"
  case $1 in
    background) bash -c "$cmd & wait \$!" ;;
    jobcontrol) bash -c "set -m; export SHELLOPTS; $cmd & wait \$!" ;;
    nohup) (cd "$T" && nohup bash -c "$cmd" & wait $!) ;;
    nosession) setsid -w bash -c "$cmd & wait \$!" ;;
  esac </dev/null >"$T/run.log" 2>&1
}

# check_clean RUN: nothing of the demo's after down.
check_clean() {
  local run=$1 pid start left=() m p
  sort -u "$T/seen" >"$T/seen.u"
  while read -r pid start; do
    if _proc_stat "$pid" && [[ $_S_START == "$start" && $_S_STATE != Z ]]; then
      left+=("$pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-120))")
    fi
  done <"$T/seen.u"
  while read -r pid _; do
    [[ -n $pid ]] && left+=("$pid ($(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-120))")
  done < <(run_pids)
  ((${#left[@]} == 0)) || die "run $run left processes running: ${left[*]}"
  [[ -z $(proc_owned "$D") ]] || die "run $run: proc_owned $D lists $(proc_owned "$D")"
  m=$(cgroup_dirs)
  [[ -z $m ]] || die "run $run left cgroups: $m"
  m=$(awk -v s="$D/" 'index($2, s) == 1 { print $2 }' /proc/mounts)
  [[ -z $m ]] || die "run $run left mounts: $m"
  m=$(find "$D" -type s 2>/dev/null)
  [[ -z $m ]] || die "run $run left unix sockets: $m"
  for p in $(cat "$D"/env/*/port "$D"/env/registry/*/port "$D"/mirror/port 2>/dev/null || true); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "run $run: port $p still accepts connections"; fi
  done
  log "run $run: all $(wc -l <"$T/seen.u") processes seen during the run are gone; no mount, socket, cgroup or port left"
}

start_load
start_watcher
log "state in $D; $RUNS run(s), each under timeout $RUN_TIMEOUT; load: $(nproc) busy loops (pid $(proc_pid "$LOAD"))"
# A clean slate: what an interrupted earlier soak left.
PREFECTCTL_DEMO_DIR=$D scripts/demo.sh down >/dev/null 2>&1 || true
contexts=(background jobcontrol nohup nosession)
t0=$SECONDS
for ((run = 1; run <= RUNS; run++)); do
  ctx=${contexts[$(((run - 1) % ${#contexts[@]}))]}
  : >"$T/seen"
  t=$SECONDS
  rc=0
  job "$ctx" || rc=$?
  sleep 2 # one more sample after the job
  if ((rc != 0)); then
    tail -40 "$T/run.log" >&2
    die "run $run ($ctx) failed (exit $rc) after $((SECONDS - t)) s"
  fi
  grep -q 'Hello, Arthur!' "$T/run.log" || die "run $run ($ctx): the flow run did not log 'Hello, Arthur!'"
  grep -q 'done (cached downloads' "$T/run.log" || die "run $run ($ctx): make demo-down did not finish"
  log "run $run ($ctx): make demo && make demo-down ok in $((SECONDS - t)) s"
  check_clean "$run"
done
log "all $RUNS runs ok in $((SECONDS - t0)) s"
