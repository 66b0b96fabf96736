#!/usr/bin/env bash
# Process bookkeeping of scripts/testenv.sh (scripts/lib/procs.sh), run by scripts/test.sh:
# `up` then `down` in each context a user may start it from, with every CPU kept busy by a load
# generator, asserting exact bookkeeping each time:
#   - up reports exactly the parts it started, and each has a record (TRACKDIR/proc) naming its
#     live process by PID and start time;
#   - every process of ours (one that inherited this state directory in its environment or names
#     it on its command line) belongs to a recorded service;
#   - after down, none of those processes runs, and no mount, unix socket, cgroup, listening port
#     or record of ours is left.
# Contexts: a plain script; job control (set -m exported through SHELLOPTS); an interactive shell
# on a terminal (bash -i under script(1)); a background job under timeout; nohup; a new session
# with no terminal (CI). Then the failure paths: `up` killed by timeout while a service starts,
# and a dockerd that exits at start; both must leave nothing behind.
#
#   scripts/tracking_test.sh [ROUNDS]   (default 1; PARTS overrides the parts, default
#                                        "prefect docker registry")
#
# State in ${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}-tracking: its own services, never
# the suite's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-1}
PARTS=${PARTS:-prefect docker registry}
S=${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}
S=${S%/}-tracking
unset PREFECTCTL_TESTENV_DIR PREFECTCTL_TESTENV_STARTED # given to each command explicitly
T=$(mktemp -d)

log() { printf 'tracking_test: %s\n' "$*" >&2; }
die() {
  printf 'tracking_test: FAIL: %s\n' "$*" >&2
  exit 1
}
# shellcheck source=SCRIPTDIR/lib/procs.sh
source scripts/lib/procs.sh

cleanup() {
  local rc=$?
  trap - EXIT
  # Subshells: a die in there must not end this trap before the rest is stopped.
  [[ -z ${LOAD:-} ]] || (proc_stop "$LOAD" "the load generator" 5) || rc=1
  PREFECTCTL_TESTENV_DIR=$S scripts/testenv.sh down all >/dev/null 2>>"$T/log" || { tail -5 "$T/log" >&2; rc=1; }
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

# testenv ARGS...: scripts/testenv.sh in our state directory, its log in $T/log.
testenv() { PREFECTCTL_TESTENV_DIR=$S scripts/testenv.sh "$@" 2>>"$T/log"; }

# A busy loop per CPU, tracked like any service, so that it is stopped exactly too.
start_load() {
  LOAD=$T/load
  mkdir -p "$LOAD"
  # shellcheck disable=SC2016 # the inner shell expands $1
  proc_start "$LOAD" "$LOAD/log" bash -c 'for ((i = 0; i < $1; i++)); do (while :; do :; done) & done; wait' _ "$(nproc)" ||
    die "cannot start the load generator"
}

# descends_from PID ANCESTOR: ANCESTOR is PID or one of its ancestors.
descends_from() {
  local p=$1 n=0
  while [[ $p =~ ^[0-9]+$ && $p -gt 1 && $n -lt 64 ]]; do
    [[ $p == "$2" ]] && return 0
    p=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[2] }' "/proc/$p/stat" 2>/dev/null) || return 1
    n=$((n + 1))
  done
  return 1
}

# ours: the live processes that are ours by evidence other than the records: they inherited
# PREFECTCTL_TESTENV_DIR=$S, or their command line names $S. Not this script and its children.
ours() {
  local p
  {
    grep -lzxF "PREFECTCTL_TESTENV_DIR=$S" /proc/[0-9]*/environ 2>/dev/null || true
    grep -lF "$S/" /proc/[0-9]*/cmdline 2>/dev/null || true
  } | sed -E 's#^/proc/([0-9]+)/.*#\1#' | sort -un | while read -r p; do
    descends_from "$p" $$ && continue
    _proc_stat "$p" && [[ $_S_STATE != Z ]] && echo "$p"
  done
  return 0
}

# trackdirs PART...: the service directories of the parts.
trackdirs() {
  local p
  for p; do
    case $p in
      registry) echo "$S/registry/plain" "$S/registry/auth" ;;
      *) echo "$S/$p" ;;
    esac
  done
}

# what a service's main process must be (its executable's name, a prefix is enough).
want_exe() {
  case $1 in
    */prefect | */prefect-pg) echo python ;;
    */docker) echo dockerd ;;
    */registry/*) echo docker-registry ;;
    */postgres) echo postgres ;;
  esac
}

cgroup_parent() { echo "/prefectctl-testenv-$(printf '%s' "$S" | sha256sum | cut -c1-16)"; }

# describe PID: what a test failure should say about a process.
describe() {
  local st
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print "state " $1 ", ppid " $2 ", pgid " $3 ", sid " $4 }')
  printf '%s [%s; %s; started %s s after boot] %s\n' "$1" "$st" \
    "$(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep '^PREFECTCTL_PROC=' || echo 'no PREFECTCTL_PROC')" \
    "$(($(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[20] }' "/proc/$1/stat" 2>/dev/null || echo 0) / $(getconf CLK_TCK)))" \
    "$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | cut -c1-300)"
}

# check_up CONTEXT STARTED: bookkeeping after `up`; sets SEEN to every PID of ours.
check_up() {
  local ctx=$1 started=$2 d exe fam all=''
  [[ $(sort <<<"$started" | tr '\n' ' ') == "$(tr ' ' '\n' <<<"$PARTS" | sort | tr '\n' ' ')" ]] ||
    die "$ctx: up reported '$(tr '\n' ' ' <<<"$started")', want the parts it started: $PARTS"
  # shellcheck disable=SC2086 # one part a word
  for d in $(trackdirs $PARTS); do
    proc_alive "$d" || die "$ctx: $d/proc ($(cat "$d/proc" 2>/dev/null)) names no live process"
    exe=$(basename "$(readlink "/proc/$_P_PID/exe")")
    [[ $exe == "$(want_exe "$d")"* ]] || die "$ctx: $d/proc names pid $_P_PID, which runs $exe, not $(want_exe "$d")"
    fam=$(proc_family "$d")
    all+="$fam"$'\n'
  done
  local p missing=()
  for p in $(ours); do
    grep -qx "$p" <<<"$all" || missing+=("$(describe "$p")")
  done
  ((${#missing[@]} == 0)) || die "$ctx: processes of ours that no record accounts for: ${missing[*]}"
  SEEN=$(sort -un <<<"$all")
}

# check_down CONTEXT: nothing of ours after `down`.
check_down() {
  local ctx=$1 p left=() m
  for p in $SEEN $(ours); do
    _proc_stat "$p" && [[ $_S_STATE != Z ]] && left+=("$p ($(cat "/proc/$p/comm" 2>/dev/null))")
  done
  ((${#left[@]} == 0)) || die "$ctx: still running after down: ${left[*]}"
  [[ -z $(proc_owned "$S") ]] || die "$ctx: proc_owned still lists: $(proc_owned "$S")"
  m=$(awk -v s="$S/" 'index($2, s) == 1 { print $2 }' /proc/mounts)
  [[ -z $m ]] || die "$ctx: mounts left: $m"
  m=$(find "$S" -type s 2>/dev/null)
  [[ -z $m ]] || die "$ctx: unix sockets left: $m"
  m=$(find "$S" -name proc -newer "$T/log" 2>/dev/null)
  [[ -z $m ]] || die "$ctx: records left: $m"
  m=$(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts | while read -r c; do
    [[ ! -d $c$(cgroup_parent) ]] || echo "$c$(cgroup_parent)"
  done)
  [[ -z $m ]] || die "$ctx: cgroups left: $m"
  for p in $PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "$ctx: port $p still accepts connections"; fi
  done
}

ports() { { cat "$S"/*/port "$S"/registry/*/port 2>/dev/null || true; } | tr '\n' ' '; }

# cycle CONTEXT CMD...: CMD runs `up` (its stdout in $T/out) in a context; then check, down, check.
cycle() {
  local ctx=$1 t0=$SECONDS
  shift
  : >"$T/out"
  touch "$T/log"
  "$@" || { tail -20 "$T/log" >&2; die "$ctx: up failed"; }
  check_up "$ctx" "$(cat "$T/out")"
  PORTS=$(ports)
  local t1=$SECONDS
  testenv down all >/dev/null || { tail -20 "$T/log" >&2; die "$ctx: down failed"; }
  check_down "$ctx"
  log "ok: $ctx (up $((t1 - t0)) s, down $((SECONDS - t1)) s, $(wc -w <<<"$SEEN") processes)"
}

up_cmd() { echo "PREFECTCTL_TESTENV_DIR='$S' '$ROOT/scripts/testenv.sh' up $PARTS >'$T/out' 2>>'$T/log'"; }

ctx_plain() { bash -c "$(up_cmd)" </dev/null; }
ctx_jobcontrol() { bash -c "set -m; export SHELLOPTS; $(up_cmd)" </dev/null; }
ctx_interactive() {
  # A terminal (script(1) gives one) and an interactive shell: job control is on in it.
  script -qec "bash --norc -i -c \"$(up_cmd)\"" /dev/null </dev/null >"$T/tty.log" 2>&1
}
ctx_timeout() {
  bash -c "timeout 900 bash -c \"$(up_cmd)\" & wait \$!" </dev/null
}
ctx_nohup() {
  (cd "$T" && nohup bash -c "$(up_cmd)" </dev/null >/dev/null 2>&1 & wait $!)
}
ctx_nosession() { setsid -w bash -c "$(up_cmd)" </dev/null >/dev/null 2>&1; }

command -v script >/dev/null || die "script(1) (util-linux) is needed"
start_load
log "state in $S; parts: $PARTS; $ROUNDS round(s); load: $(nproc) busy loops (pid $SPAWNED)"
testenv down all >/dev/null || true
start=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
  for ctx in ${CONTEXTS:-plain jobcontrol interactive timeout nohup nosession}; do
    cycle "round $round, $ctx" "ctx_$ctx"
  done
done

# Failure paths. `up` gets TERM (as from timeout) while the Prefect server it launched is not
# ready yet: it stops what it was starting, and it had reported that part before.
: >"$T/out"
PREFECTCTL_TESTENV_DIR=$S timeout -s TERM 600 scripts/testenv.sh up prefect >"$T/out" 2>>"$T/log" &
killer=$!
for ((i = 0; i < 600; i++)); do
  [[ -s $T/out ]] && break
  sleep 0.1
done
[[ $(cat "$T/out") == prefect ]] || die "up prefect reported '$(cat "$T/out")' within 60 s, want prefect"
kill -TERM "$killer"
wait "$killer" && die "up prefect succeeded although it got TERM while starting"
grep -q 'interrupted; stopping what this run was starting' "$T/log" || die "up did not stop what it was starting: $(tail -5 "$T/log")"
[[ -z $(ours) ]] || die "up killed at start left: $(ours | tr '\n' ' ')"
[[ -z $(proc_owned "$S") ]] || die "up killed at start left: $(proc_owned "$S")"
log "ok: up killed by timeout while a service starts stops it and leaves nothing"

# dockerd exits at start (a flag it refuses): reported, and nothing left.
if PREFECTCTL_TESTENV_DOCKERD_ARGS=--no-such-flag testenv up docker >"$T/out"; then die "up docker with a bad flag succeeded"; fi
grep -q 'dockerd exited at start' "$T/log" || die "no 'dockerd exited at start' message: $(tail -5 "$T/log")"
[[ -z $(ours) && -z $(proc_owned "$S") ]] || die "a failed dockerd start left: $(ours | tr '\n' ' ')"
log "ok: a dockerd that exits at start is reported and leaves nothing"

# dockerd killed outright (a crash, an OOM kill) with a container running: its containerd, the
# shim and the container live on, unrecorded by anyone but the family; `down docker` must end
# them all and remove the mounts and cgroups they hold.
testenv up docker >/dev/null || { tail -20 "$T/log" >&2; die "up docker failed"; }
tiny=$T/tiny
for f in /usr/bin/sleep $(ldd /usr/bin/sleep | grep -o '/[^ ]*'); do
  mkdir -p "$tiny$(dirname "$f")"
  cp -L "$f" "$tiny$f"
done
dk() { DOCKER_HOST=unix://$S/docker/docker.sock docker "$@"; }
tar -C "$tiny" -cf "$T/tiny.tar" .
dk import "$T/tiny.tar" prefectctl-tracking/tiny:1 >/dev/null || die "docker import failed"
cid=$(dk run -d --network none prefectctl-tracking/tiny:1 /usr/bin/sleep 600) || die "docker run failed"
cpid=$(dk inspect -f '{{.State.Pid}}' "$cid")
_proc_stat "$cpid" || die "the container's process $cpid does not run"
cstart=$_S_START
grep -q "$(cgroup_parent)" "/proc/$cpid/cgroup" || die "the container is not in the engine's cgroup parent $(cgroup_parent): $(cat "/proc/$cpid/cgroup")"
proc_alive "$S/docker" || die "no dockerd record"
dockerd_pid=$_P_PID
SEEN=$(proc_family "$S/docker")
kill -KILL "$dockerd_pid"
sleep 2
if ! { _proc_stat "$cpid" && [[ $_S_START == "$cstart" ]]; }; then
  die "the container died with dockerd; this test proves nothing then"
fi
[[ -n $(proc_family "$S/docker") ]] || die "nothing of the killed dockerd's family is found (containerd, shim)"
PORTS=''
testenv down docker >/dev/null || die "down docker failed"
_proc_stat "$cpid" && [[ $_S_START == "$cstart" && $_S_STATE != Z ]] && die "the container's process $cpid still runs after down"
check_down "dockerd killed with a container running"
log "ok: dockerd killed with a container running: down ends containerd, shim and container, unmounts and removes the cgroups"

# A service whose main process exits but leaves a child in a session of its own: proc_stop finds
# and stops it.
mkdir -p "$S/orphan"
proc_start "$S/orphan" "$S/orphan/log" bash -c 'setsid sleep 600 & sleep 0.5' || die "proc_start failed"
sleep 1
proc_alive "$S/orphan" && die "the orphan test's main process still runs"
[[ -n $(proc_family "$S/orphan") ]] || die "proc_family lost the child that outlived its service"
proc_stop "$S/orphan" "the orphan test" 5 2>>"$T/log"
[[ -z $(proc_owned "$S") ]] || die "proc_stop left: $(proc_owned "$S")"
log "ok: a child that outlives its service in its own session is found and stopped"

log "all ok in $((SECONDS - start)) s"
