#!/usr/bin/env bash
# Real services for prefectctl's tests, on loopback only.
#
#   scripts/testenv.sh up [all|venv|prefect|docker|registry|images|kubernetes|postgres|prefect-pg]...
#   scripts/testenv.sh down [all|prefect|docker|registry|kubernetes|postgres|prefect-pg]...
#   scripts/testenv.sh env
#   scripts/testenv.sh status [part...]
#
# `up` installs what is missing (apt packages, the pinned Prefect venv), starts each part that is
# not already running on a free loopback port, waits until it answers, and prints on stdout the
# names of the parts it started itself (one a line, as soon as each is started), so its caller
# can later `down` exactly those; with PREFECTCTL_TESTENV_STARTED=FILE it also appends them to
# FILE. Progress and errors go to stderr. `env` prints `export VAR='value'` lines for the parts
# that run. `up all` is prefect, docker, registry and images; `down all` is every part.
#
# State (process records, ports, logs, data) lives in ${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv};
# downloads, the venv and built images are cached in ${PREFECTCTL_TESTENV_CACHE:-~/.cache/prefectctl-testenv}
# (outside the clone: CI clones afresh each run). Each part is guarded by flock, so several test
# binaries may run `up` at once. Services are started and stopped with scripts/lib/procs.sh:
# `down` ends exactly the processes recorded in the state directory and what they started.
set -euo pipefail
# A caller that exported SHELLOPTS (to pass on job control, say) would hand our -euo pipefail to
# every bash script we run, such as a pyenv shim; keep our options to ourselves.
export -n SHELLOPTS BASHOPTS 2>/dev/null || true

readonly PREFECT_VERSION=3.9.1
readonly PREFECT_DOCKER_VERSION=0.7.4
readonly UV_VERSION=0.12.7 # the uv the official image copies in
# Beyond the official image: the guide project's requirements.txt (examples/flows), which
# `make demo` installs with `uv pip install -r` in an image build that has no network, so the base
# image must already satisfy it.
readonly IMAGE_EXTRAS="prefect-docker==$PREFECT_DOCKER_VERSION prefect-kubernetes==0.8.0"
readonly BASE_PYTHON=3.11
readonly BASE_SUITE=bookworm # Debian's Python in bookworm is 3.11, which the image tag promises.
readonly BASE_IMAGE="prefecthq/prefect:${PREFECT_VERSION}-python${BASE_PYTHON}"
readonly ALL_PARTS=(prefect docker registry images kubernetes)
# Every part, in start order (`down` goes backwards): `all` for down and status.
readonly KNOWN_PARTS=(venv prefect docker registry images kubernetes postgres prefect-pg)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}
CACHE=${PREFECTCTL_TESTENV_CACHE:-${HOME:?HOME is not set}/.cache/prefectctl-testenv}
VENV=$CACHE/venv-prefect-$PREFECT_VERSION
HELPERS=$ROOT/scripts/testenv

log() { printf 'testenv: %s\n' "$*" >&2; }
die() {
  printf 'testenv: error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Locks and processes

# lock NAME DIR: takes an exclusive flock on DIR/NAME.lock until unlock NAME (or until exit).
# Services never inherit the descriptor: the launcher closes all of them.
declare -A LOCK_BY_NAME=()
lock() {
  local name=$1 dir=$2 fd
  mkdir -p "$dir"
  exec {fd}>"$dir/$name.lock"
  if ! flock -n "$fd"; then
    log "waiting for another testenv.sh to finish with $name"
    flock "$fd"
  fi
  LOCK_BY_NAME[$name]=$fd
}
unlock() {
  local fd=${LOCK_BY_NAME[$1]}
  exec {fd}>&-
  unset "LOCK_BY_NAME[$1]"
}

# shellcheck source=SCRIPTDIR/lib/procs.sh
source "$ROOT/scripts/lib/procs.sh" # proc_start, proc_alive, proc_wait, proc_stop, ...

# started PART: tells the caller (stdout, and the file PREFECTCTL_TESTENV_STARTED names) that
# this run started PART, once, right when its process is launched: a caller killed meanwhile
# (timeout, Ctrl-C) still knows what to stop.
declare -A REPORTED=()
started() {
  [[ -z ${REPORTED[$1]:-} ]] || return 0
  REPORTED[$1]=1
  printf '%s\n' "$1"
  if [[ -n ${PREFECTCTL_TESTENV_STARTED:-} ]]; then printf '%s\n' "$1" >>"$PREFECTCTL_TESTENV_STARTED"; fi
}

# Services launched by this run that are not ready yet: a failed start stops them (and what
# they started), and so does a signal that ends this script meanwhile.
declare -A PENDING=()
pending() { PENDING[$1]=$2; }
ready() { unset "PENDING[$1]"; }
stop_pending() {
  local dir
  for dir in "${!PENDING[@]}"; do
    proc_stop "$dir" "${PENDING[$dir]}" 10 || true
    unset "PENDING[$dir]"
  done
}
on_signal() {
  trap - INT TERM HUP
  log "interrupted; stopping what this run was starting"
  stop_pending
  exit "$1"
}
# Any other way out while a start is pending (set -e after a child died of the same signal, a
# die): the exit status tells whether a signal was the cause; what was launched is stopped too.
on_exit() {
  local rc=$?
  ((${#PENDING[@]})) || return 0
  if ((rc > 128)); then
    log "interrupted; stopping what this run was starting"
  else
    log "stopping what this run was starting"
  fi
  stop_pending
}
trap on_exit EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# start_failed DIR WHAT MESSAGE: the start of the service tracked in DIR failed: show its log,
# stop whatever of it did start, and fail.
start_failed() {
  tail -20 "$1/log" >&2 2>/dev/null || true
  proc_stop "$1" "$2" 10 || true
  ready "$1"
  die "$3"
}

# stop_legacy DIR PATTERN WHAT: a service started by an older testenv.sh (a bare DIR/pid).
stop_legacy() {
  local pid
  pid=$(read_file "$1/pid")
  [[ -n $pid ]] || return 0
  stop_pid "$pid" "$2" "$3"
  rm -f "$1/pid"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  "$(procs_python)" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' ||
    die "python3 is needed to pick a free port"
}

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" || true; }

read_file() { cat "$1" 2>/dev/null || true; }

# export_line NAME VALUE: one `export` line, VALUE single-quoted for the shell.
export_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

# random_token N: N random alphanumerics (N <= 64). A finite read, so no pipe ends early (pipefail).
random_token() {
  local s
  s=$(head -c 1024 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  printf '%s' "${s:0:$1}"
}

# ---------------------------------------------------------------------------------------------
# Installation

apt_missing() {
  local pkg
  for pkg; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$pkg"
  done
}

# ensure_apt PKG...: installs the Debian packages that are missing (apt-get update only when the
# first try fails or no package list exists yet).
ensure_apt() {
  local missing=()
  mapfile -t missing < <(apt_missing "$@")
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]} (no apt-get here: install them by hand)"
  [[ $(id -u) == 0 ]] || die "missing packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
  lock apt "$CACHE"
  mapfile -t missing < <(apt_missing "$@")
  if ((${#missing[@]})); then
    local aptlog=$CACHE/apt.log
    export DEBIAN_FRONTEND=noninteractive
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
      log "apt-get update (no package lists yet)"
      apt-get update >"$aptlog" 2>&1 || { tail -20 "$aptlog" >&2; die "apt-get update failed (log: $aptlog)"; }
    fi
    log "installing ${missing[*]} (apt-get)"
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$aptlog" 2>&1; then
      log "apt-get install failed; running apt-get update and trying again"
      apt-get update >>"$aptlog" 2>&1 || true
      apt-get install -y --no-install-recommends "${missing[@]}" >>"$aptlog" 2>&1 ||
        { tail -20 "$aptlog" >&2; die "could not install ${missing[*]} (log: $aptlog)"; }
    fi
  fi
  unlock apt
}

# host_python: a Python >= 3.10 for the venv (Prefect 3 needs it); PREFECTCTL_TESTENV_PYTHON wins.
host_python() {
  local c
  for c in ${PREFECTCTL_TESTENV_PYTHON:-} python3.11 python3.12 python3 python3.10 python3.13; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

venv_pins() { echo "prefect==$PREFECT_VERSION prefect-docker==$PREFECT_DOCKER_VERSION"; }

# venv_matches: the venv holds exactly the pinned versions (checked by import metadata, so a venv
# made by hand with the same pins is adopted rather than rebuilt).
venv_matches() {
  [[ -x $VENV/bin/python && -x $VENV/bin/prefect ]] || return 1
  "$VENV/bin/python" - "$PREFECT_VERSION" "$PREFECT_DOCKER_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(not (version("prefect") == sys.argv[1] and version("prefect-docker") == sys.argv[2]))
EOF
}

ensure_venv() {
  local marker=$VENV/.prefectctl-testenv-pins
  [[ -x $VENV/bin/prefect && $(read_file "$marker") == "$(venv_pins)" ]] && return 0
  lock venv "$CACHE"
  if [[ $(read_file "$marker") != "$(venv_pins)" ]]; then
    if venv_matches; then
      venv_pins >"$marker"
    else
      local py piplog=$CACHE/pip.log
      py=$(host_python) || die "no Python >= 3.10 with the venv module found (apt-get install python3-venv, or set PREFECTCTL_TESTENV_PYTHON)"
      log "creating the Prefect venv at $VENV with $(venv_pins) (pip; takes a minute)"
      rm -rf "$VENV"
      "$py" -m venv "$VENV" || die "$py -m venv $VENV failed"
      # shellcheck disable=SC2046
      "$VENV/bin/pip" install --disable-pip-version-check -q $(venv_pins) >"$piplog" 2>&1 ||
        { tail -20 "$piplog" >&2; die "pip install $(venv_pins) failed (log: $piplog)"; }
      venv_matches || die "the venv at $VENV does not hold $(venv_pins) after pip install"
      venv_pins >"$marker"
    fi
  fi
  unlock venv
}

# The venv alone (for tests that only run the Python CLI); nothing to start or stop.
up_venv() { ensure_venv; }

# ---------------------------------------------------------------------------------------------
# Prefect server

prefect_dir() { echo "$STATE/prefect"; }

prefect_healthy() { [[ $(http_code "http://127.0.0.1:$1/api/health") == 200 ]]; }

# server_running DIR: the Prefect server tracked in DIR runs and answers.
server_running() {
  proc_alive "$1" && prefect_healthy "$(read_file "$1/port")"
}

prefect_running() { server_running "$(prefect_dir)"; }

# Environment for a server with PREFECT_HOME=$1 and the settings K=V that follow, as env(1)
# arguments one a line: none of the caller's PREFECT_* settings (a user's PREFECT_API_URL or
# database URL must not leak in), no telemetry, no UI (the tests only use the API; it starts faster).
prefect_server_env() {
  local v unset=()
  for v in $(compgen -e | grep '^PREFECT_' || true); do unset+=(-u "$v"); done
  printf '%s\n' "${unset[@]}" \
    PREFECT_HOME="$1" \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_SERVER_UI_ENABLED=false \
    DO_NOT_TRACK=1 \
    "${@:2}"
}

# prefect_server_opts HOME [K=V...]: the same environment as proc_start options.
prefect_server_opts() {
  local line
  prefect_server_env "$@" | while IFS= read -r line; do
    if [[ $line == -u ]]; then
      printf '%s\n' --unset
    elif [[ $line == *=* ]]; then
      printf '%s\n' --env "$line"
    else
      printf '%s\n' "$line"
    fi
  done
}

# start_prefect_server DIR WHAT PART HOME [K=V...]: `prefect server start` tracked in DIR on a
# free loopback port (DIR/port), with HOME as PREFECT_HOME and the extra settings K=V; returns
# once it answers /api/health. Reports PART as started as soon as the process is launched.
start_prefect_server() {
  local d=$1 what=$2 part=$3 home=$4 port rc
  shift 4
  local -a opts
  mapfile -t opts < <(prefect_server_opts "$home" "$@")
  for _ in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$d/port"
    log "starting $what on 127.0.0.1:$port"
    pending "$d" "$what"
    proc_start "${opts[@]}" "$d" "$d/log" "$VENV/bin/prefect" server start --host 127.0.0.1 --port "$port" ||
      start_failed "$d" "$what" "could not start $what"
    started "$part"
    rc=0
    proc_wait "$d" 300 prefect_healthy "$port" || rc=$?
    case $rc in
      0)
        ready "$d"
        return 0
        ;;
      2) start_failed "$d" "$what" "$what did not answer /api/health within 300 s (log: $d/log)" ;;
    esac
    # It exited. A port taken between free_port and bind is worth another try; anything else is not.
    grep -qi 'address already in use' "$d/log" || start_failed "$d" "$what" "$what exited at start (log: $d/log)"
    proc_stop "$d" "$what" 10
    ready "$d"
    log "port $port was taken meanwhile; trying another"
  done
  die "$what found no free port in 3 tries (log: $d/log)"
}

# prefect_db_template: a migrated, empty SQLite database, made once per Prefect version. Copying it
# into each fresh server home skips the ~8 s of migrations at every start.
prefect_db_template() {
  local t=$CACHE/prefect-$PREFECT_VERSION-db
  if [[ ! -s $t/prefect.db ]]; then
    lock dbtemplate "$CACHE"
    if [[ ! -s $t/prefect.db ]]; then
      log "migrating a template Prefect database (once per version)"
      rm -rf "$t.tmp"
      mkdir -p "$t.tmp"
      local -a e
      mapfile -t e < <(prefect_server_env "$t.tmp")
      env "${e[@]}" "$VENV/bin/prefect" server database upgrade -y >"$t.tmp/log" 2>&1 ||
        { tail -20 "$t.tmp/log" >&2; die "prefect server database upgrade failed (log: $t.tmp/log)"; }
      [[ -s $t.tmp/prefect.db ]] || die "prefect server database upgrade made no $t.tmp/prefect.db"
      rm -rf "$t"
      mv "$t.tmp" "$t"
    fi
    unlock dbtemplate
  fi
  echo "$t/prefect.db"
}

up_prefect() {
  ensure_venv
  ensure_apt tmux # the CLI's terminal tests (internal/cli/tty_test.go) watch prefectctl deploy in tmux
  lock prefect "$STATE"
  if prefect_running; then
    unlock prefect
    return 0
  fi
  local d tmpl
  d=$(prefect_dir)
  stop_legacy "$d" "server start --host 127.0.0.1 --port $(read_file "$d/port")" "the Prefect server"
  proc_stop "$d" "the Prefect server"
  tmpl=$(prefect_db_template)
  rm -rf "$d"
  mkdir -p "$d/home"
  cp "$tmpl" "$d/home/prefect.db"
  start_prefect_server "$d" "the Prefect $PREFECT_VERSION server" prefect "$d/home"
  unlock prefect
}

down_prefect() {
  lock prefect "$STATE"
  proc_stop "$(prefect_dir)" "the Prefect server"
  unlock prefect
}

env_prefect() {
  prefect_running || return 0
  export_line PREFECT_API_URL "http://127.0.0.1:$(read_file "$(prefect_dir)/port")/api"
}

status_prefect() {
  if prefect_running; then
    echo "prefect: running (pid $(proc_pid "$(prefect_dir)"), http://127.0.0.1:$(read_file "$(prefect_dir)/port")/api)"
  else
    echo "prefect: stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Docker engine

docker_dir() { echo "$STATE/docker"; }

docker_answers() { DOCKER_HOST=unix://$1/docker.sock timeout 10 docker version >/dev/null 2>&1; }

docker_running() {
  local d
  d=$(docker_dir)
  proc_alive "$d" && docker_answers "$d"
}

# docker_cgroup_parent: the cgroup under which this engine puts its containers, one per state
# directory (the engines of other state directories use theirs), so that `down` can find and
# remove what a killed engine's containers left.
docker_cgroup_parent() { echo "/prefectctl-testenv-$(printf '%s' "$STATE" | sha)"; }

# remove_cgroups PATH: in every cgroup hierarchy, ends the processes left in PATH and below (the
# containers of our engine, dockerd being stopped) and removes those cgroups, deepest first.
remove_cgroups() {
  local rel=$1 mnt base dirs c pids i
  while read -r mnt; do
    base=$mnt$rel
    [[ -d $base ]] || continue
    mapfile -t dirs < <(find "$base" -depth -type d 2>/dev/null)
    for ((i = 0; i < 50; i++)); do
      pids=$(cat "${dirs[@]/%//cgroup.procs}" 2>/dev/null | sort -un | tr '\n' ' ')
      [[ -n ${pids// /} ]] || break
      ((i > 0)) || log "ending processes left in cgroup $base: $pids"
      # shellcheck disable=SC2086 # one PID a word
      kill -KILL $pids 2>/dev/null || true
      sleep 0.1
    done
    for c in "${dirs[@]}"; do rmdir "$c" 2>/dev/null || true; done
    [[ ! -d $base ]] || log "warning: cannot remove cgroup $base"
  done < <(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts)
  return 0
}

# unmount_under DIR: dockerd leaves mounts behind under its exec root (netns/default) and data
# root; they must go before the directory can be reused or removed. Deepest first.
unmount_under() {
  local dir=$1 m
  awk '{print $2}' /proc/mounts | while read -r m; do
    m=$(printf '%b' "$m") # /proc/mounts writes a space as \040
    if [[ $m == "$dir" || $m == "$dir"/* ]]; then echo "$m"; fi
  done | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: cannot unmount $m"
  done
  return 0
}

# stop_docker: dockerd and everything it started (containerd, shims, containers), then what
# they leave: mounts, cgroups, sockets and runtime state. The data root stays (it caches images).
stop_docker() {
  local d
  d=$(docker_dir)
  stop_legacy "$d" "dockerd --host unix://$d/docker.sock" "dockerd"
  # dockerd stops its containers (10 s each at most) before it exits.
  proc_stop "$d" "dockerd" 60
  unmount_under "$d"
  remove_cgroups "$(docker_cgroup_parent)"
  rm -rf "$d/exec" "$d/docker.sock" "$d/dockerd.pid"
}

up_docker() {
  ensure_apt docker.io
  lock docker "$STATE"
  if docker_running; then
    unlock docker
    return 0
  fi
  local d rc
  d=$(docker_dir)
  # A unix socket path is limited to 107 bytes; fail clearly instead of dockerd's obscure error.
  ((${#d} + 12 <= 107)) || die "PREFECTCTL_TESTENV_DIR is too long for a unix socket path: $d/docker.sock"
  stop_docker
  mkdir -p "$d/root" "$d/exec"
  log "starting dockerd on unix://$d/docker.sock"
  # No default bridge, no iptables: the engine must create no network outside loopback; containers
  # that need the Prefect server use network mode host. cgroupfs, so that the cgroup parent is a
  # path `down` can clean up.
  # PREFECTCTL_TESTENV_DOCKERD_ARGS: extra dockerd flags; make demo passes a loopback
  # --registry-mirror, so that builds with pull=True (prefect-docker's default) find the base image.
  pending "$d" dockerd
  # shellcheck disable=SC2086 # a list of flags
  proc_start "$d" "$d/log" dockerd --host "unix://$d/docker.sock" --data-root "$d/root" --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$(docker_cgroup_parent)" \
    ${PREFECTCTL_TESTENV_DOCKERD_ARGS:-} || start_failed "$d" dockerd "could not start dockerd"
  started docker
  rc=0
  proc_wait "$d" 120 docker_answers "$d" || rc=$?
  case $rc in
    0) ready "$d" ;;
    1) start_failed "$d" dockerd "dockerd exited at start (log: $d/log)" ;;
    *) start_failed "$d" dockerd "dockerd did not answer within 120 s (log: $d/log)" ;;
  esac
  unlock docker
}

down_docker() {
  lock docker "$STATE"
  stop_docker
  unlock docker
}

env_docker() {
  docker_running || return 0
  export_line DOCKER_HOST "unix://$(docker_dir)/docker.sock"
}

status_docker() {
  if docker_running; then
    echo "docker: running (pid $(proc_pid "$(docker_dir)"), unix://$(docker_dir)/docker.sock)"
  else
    echo "docker: stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# OCI registries (Debian's docker-registry): "plain" without auth, "auth" with htpasswd basic auth

registry_dir() { echo "$STATE/registry/$1"; }

# The answer of GET /v2/ when the registry is up: 200, or 401 where auth is required.
registry_ready_code() { if [[ $1 == auth ]]; then echo 401; else echo 200; fi; }

registry_answers() { [[ $(http_code "http://127.0.0.1:$1/v2/") == "$(registry_ready_code "$2")" ]]; }

registry_running() {
  local d
  d=$(registry_dir "$1")
  proc_alive "$d" && registry_answers "$(read_file "$d/port")" "$1"
}

registry_config() { # registry_config KIND DIR PORT
  printf '%s\n' \
    "version: 0.1" \
    "log:" \
    "  level: info" \
    "storage:" \
    "  filesystem:" \
    "    rootdirectory: $2/data" \
    "  delete:" \
    "    enabled: true" \
    "http:" \
    "  addr: 127.0.0.1:$3" \
    "  secret: $(random_token 32)"
  if [[ $1 == auth ]]; then
    printf '%s\n' \
      "auth:" \
      "  htpasswd:" \
      "    realm: prefectctl-testenv" \
      "    path: $2/htpasswd"
  fi
}

# up_one_registry KIND: starts it unless it runs.
up_one_registry() {
  local kind=$1 d port rc what="the $1 registry"
  d=$(registry_dir "$kind")
  if registry_running "$kind"; then return 0; fi
  stop_legacy "$d" "$d/config.yml" "$what"
  proc_stop "$d" "$what"
  for _ in 1 2 3; do
    # Fresh storage at each start: tests must not see images pushed by an earlier run.
    rm -rf "$d"
    mkdir -p "$d/data"
    if [[ $kind == auth ]]; then
      echo prefectctl >"$d/user"
      (umask 077 && random_token 24 >"$d/password")
      htpasswd -Bbn "$(read_file "$d/user")" "$(read_file "$d/password")" >"$d/htpasswd" 2>/dev/null ||
        die "htpasswd failed (package apache2-utils)"
    fi
    port=$(free_port)
    registry_config "$kind" "$d" "$port" >"$d/config.yml"
    echo "$port" >"$d/port"
    log "starting $what on 127.0.0.1:$port"
    pending "$d" "$what"
    proc_start "$d" "$d/log" docker-registry serve "$d/config.yml" || start_failed "$d" "$what" "could not start $what"
    # One name for the pair: `down registry` stops both.
    started registry
    rc=0
    proc_wait "$d" 60 registry_answers "$port" "$kind" || rc=$?
    case $rc in
      0)
        ready "$d"
        return 0
        ;;
      2) start_failed "$d" "$what" "$what did not answer GET /v2/ within 60 s (log: $d/log)" ;;
    esac
    grep -qi 'address already in use' "$d/log" || start_failed "$d" "$what" "$what exited at start (log: $d/log)"
    proc_stop "$d" "$what" 10
    ready "$d"
    log "port $port was taken meanwhile; trying another"
  done
  die "$what found no free port in 3 tries (log: $d/log)"
}

up_registry() {
  ensure_apt docker-registry apache2-utils
  lock registry "$STATE"
  up_one_registry plain
  up_one_registry auth
  unlock registry
}

down_registry() {
  lock registry "$STATE"
  local kind
  for kind in auth plain; do
    stop_legacy "$(registry_dir "$kind")" "$(registry_dir "$kind")/config.yml" "the $kind registry"
    proc_stop "$(registry_dir "$kind")" "the $kind registry"
  done
  unlock registry
}

env_registry() {
  local d
  if registry_running plain; then
    export_line PREFECTCTL_REGISTRY "127.0.0.1:$(read_file "$(registry_dir plain)/port")"
  fi
  if registry_running auth; then
    d=$(registry_dir auth)
    export_line PREFECTCTL_AUTH_REGISTRY "127.0.0.1:$(read_file "$d/port")"
    export_line PREFECTCTL_AUTH_REGISTRY_USER "$(read_file "$d/user")"
    export_line PREFECTCTL_AUTH_REGISTRY_PASSWORD "$(read_file "$d/password")"
  fi
}

status_registry() {
  local kind rc=0
  for kind in plain auth; do
    if registry_running "$kind"; then
      echo "registry ($kind): running (pid $(proc_pid "$(registry_dir "$kind")"), 127.0.0.1:$(read_file "$(registry_dir "$kind")/port"))"
    else
      echo "registry ($kind): stopped"
      rc=1
    fi
  done
  return $rc
}

# ---------------------------------------------------------------------------------------------
# Base image prefecthq/prefect:<version>-python3.11, built locally (nothing is pulled)

readonly ROOTFS_PACKAGES=python3,python3-venv,ca-certificates,tini,git
readonly IMAGE_RECIPE=$HELPERS/base-image

# docker: Debian's CLI when installed (same release as the daemon it talks to), else any on PATH.
dockercli() {
  local bin=docker
  [[ -x /usr/bin/docker ]] && bin=/usr/bin/docker
  DOCKER_HOST=unix://$(docker_dir)/docker.sock "$bin" "$@"
}

# apt_sources_deb822: the machine's own apt sources (never a hard-coded mirror host) as one deb822
# text for mmdebstrap's stdin (it reads stdin as one format), with the host's codename replaced by
# the image's suite should the host run another release.
apt_sources_deb822() {
  local codename f files=()
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  for f in "${files[@]}"; do
    if [[ $f == *.sources ]]; then
      cat "$f"
      echo
    else
      # deb [opt=v ...] URI SUITE COMPONENT... -> a deb822 stanza
      awk '$1 == "deb" {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ } }
        gsub(/[\[\]]/, "", opts)
        printf "Types: deb\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
        for (j = i + 2; j <= NF; j++) printf " %s", $j
        printf "\n"
        n = split(opts, o, " ")
        for (k = 1; k <= n; k++) {
          split(o[k], kv, "=")
          if (kv[1] == "signed-by") printf "Signed-By: %s\n", kv[2]
          else if (kv[1] == "arch") printf "Architectures: %s\n", kv[2]
        }
        printf "\n"
      }' "$f"
    fi
  done | if [[ -n $codename && $codename != "$BASE_SUITE" ]]; then
    sed -E "/^Suites:/ s/\\b${codename}\\b/${BASE_SUITE}/g"
  else
    cat
  fi
}

sha() { sha256sum | cut -c1-16; }

# The rootfs depends on the suite, the package list and the apt sources; the image on the rootfs,
# the recipe files and the pinned versions. Either changes -> a new build, else the cache is used.
rootfs_key() { { echo "$BASE_SUITE minbase $ROOTFS_PACKAGES"; apt_sources_deb822; } | sha; }
image_key() {
  {
    echo "rootfs $(rootfs_key) prefect $PREFECT_VERSION uv $UV_VERSION python $BASE_PYTHON extras $IMAGE_EXTRAS"
    cat "$IMAGE_RECIPE/Dockerfile" "$IMAGE_RECIPE/entrypoint.sh"
  } | sha
}

# image_has_key KEY: the daemon holds BASE_IMAGE built from this very recipe.
image_has_key() {
  [[ $(dockercli image inspect -f '{{ index .Config.Labels "org.prefectctl.testenv.recipe" }}' "$BASE_IMAGE" 2>/dev/null) == "$1" ]]
}

# ensure_uv: a uv of the pinned version on the host (own small venv in the cache), used to resolve
# the image's requirements.
ensure_uv() {
  local u=$CACHE/uv-$UV_VERSION py
  if [[ ! -x $u/bin/uv ]]; then
    lock uv "$CACHE"
    if [[ ! -x $u/bin/uv ]]; then
      py=$(host_python) || die "no Python >= 3.10 with the venv module found (apt-get install python3-venv)"
      log "installing uv==$UV_VERSION into $u (pip)"
      rm -rf "$u"
      if ! { "$py" -m venv "$u" && "$u/bin/pip" install --disable-pip-version-check -q "uv==$UV_VERSION"; } >"$CACHE/pip-uv.log" 2>&1; then
        rm -rf "$u"
        tail -20 "$CACHE/pip-uv.log" >&2
        die "could not install uv==$UV_VERSION (log: $CACHE/pip-uv.log)"
      fi
    fi
    unlock uv
  fi
  echo "$u/bin/uv"
}

# ensure_wheels PYVER: wheels of prefect and uv and all their dependencies for the image's Python
# (exact version PYVER, e.g. 3.11.2) and platform, plus requirements.txt pinning them; downloaded
# once per pins and Python. uv resolves for the target: pip alone would judge markers such as
# `python_full_version < "3.11.3"` by the host's Python and miss packages. Binary wheels only, so
# nothing compiles inside the image.
ensure_wheels() {
  local pyver=$1 arch w piplog uv
  arch=$(uname -m)
  w=$CACHE/wheels-prefect-$PREFECT_VERSION-uv-$UV_VERSION-cp$pyver-$arch-extras-$(sha <<<"$IMAGE_EXTRAS")
  if [[ ! -f $w/.complete ]]; then
    lock wheels "$CACHE"
    if [[ ! -f $w/.complete ]]; then
      ensure_venv
      uv=$(ensure_uv)
      piplog=$CACHE/pip-download.log
      log "resolving and downloading wheels of prefect==$PREFECT_VERSION and uv==$UV_VERSION for Python $pyver"
      rm -rf "$w"
      mkdir -p "$w"
      # bookworm has glibc 2.36: every manylinux tag up to 2_36 fits.
      # shellcheck disable=SC2086 # IMAGE_EXTRAS is a list of requirement specifiers
      printf '%s\n' "prefect==$PREFECT_VERSION" "uv==$UV_VERSION" $IMAGE_EXTRAS |
        "$uv" pip compile --quiet --python-version "$pyver" --python-platform "$arch-manylinux_2_36" \
          --only-binary :all: --no-header --no-annotate - -o "$w/requirements.txt" >"$piplog" 2>&1 ||
        { tail -20 "$piplog" >&2; die "uv pip compile of the image's requirements failed (log: $piplog)"; }
      # This pip expands no manylinux tag by itself, so each is listed.
      local m plats=()
      for ((m = 36; m >= 5; m--)); do plats+=(--platform "manylinux_2_${m}_$arch"); done
      plats+=(--platform "manylinux2014_$arch" --platform "manylinux2010_$arch" --platform "manylinux1_$arch")
      "$VENV/bin/pip" download --disable-pip-version-check -q -d "$w" --no-deps --only-binary=:all: \
        "${plats[@]}" --python-version "$pyver" --implementation cp -r "$w/requirements.txt" >>"$piplog" 2>&1 ||
        { tail -20 "$piplog" >&2; die "pip download of the image's wheels failed (log: $piplog)"; }
      touch "$w/.complete"
    fi
    unlock wheels
  fi
  echo "$w"
}

build_base_image() {
  local key=$1 saved=$2 rk rootfs rootfs_tag wheels ctx blog
  ensure_apt mmdebstrap
  rk=$(rootfs_key)
  rootfs=$CACHE/images/rootfs-$BASE_SUITE-$rk.tar
  blog=$CACHE/images/build.log
  if [[ ! -s $rootfs ]]; then
    log "building a Debian $BASE_SUITE minbase rootfs with mmdebstrap from this machine's apt sources (a minute or two)"
    rm -f "$rootfs.tmp.tar"
    apt_sources_deb822 | mmdebstrap --variant=minbase --include="$ROOTFS_PACKAGES" \
      "$BASE_SUITE" "$rootfs.tmp.tar" - >"$blog" 2>&1 ||
      { tail -20 "$blog" >&2; die "mmdebstrap failed (log: $blog)"; }
    mv "$rootfs.tmp.tar" "$rootfs"
  fi
  rootfs_tag=prefectctl-testenv/rootfs:$BASE_SUITE-$rk
  if ! dockercli image inspect "$rootfs_tag" >/dev/null 2>&1; then
    log "importing the rootfs as $rootfs_tag"
    dockercli import "$rootfs" "$rootfs_tag" >"$blog" 2>&1 ||
      { tail -20 "$blog" >&2; die "docker import failed (log: $blog)"; }
  fi
  local pyver
  pyver=$(dockercli run --rm --network none "$rootfs_tag" python3 -c 'import platform; print(platform.python_version())') ||
    die "cannot run python3 in $rootfs_tag"
  wheels=$(ensure_wheels "$pyver")
  ctx=$(mktemp -d "$STATE/images/context.XXXXXX")
  cp "$IMAGE_RECIPE/Dockerfile" "$IMAGE_RECIPE/entrypoint.sh" "$ctx/"
  cp -al "$wheels" "$ctx/wheels" 2>/dev/null || cp -a "$wheels" "$ctx/wheels"
  log "building $BASE_IMAGE (pip install from local wheels, no network)"
  # The classic builder: it needs no buildx plugin and, with --network none, proves no step
  # reaches out.
  DOCKER_BUILDKIT=0 dockercli build --network none --build-arg "ROOTFS=$rootfs_tag" \
    --build-arg "PYTHON_VERSION=$BASE_PYTHON" --build-arg "RECIPE_HASH=$key" \
    -t "$BASE_IMAGE" "$ctx" >"$blog" 2>&1 ||
    { tail -30 "$blog" >&2; rm -rf "$ctx"; die "docker build of $BASE_IMAGE failed (log: $blog)"; }
  rm -rf "$ctx"
  log "saving $BASE_IMAGE to the cache"
  # Saves of older recipes are dead weight (~0.5 GB each): no engine will load them again.
  find "$CACHE/images" -maxdepth 1 -name "prefect-$PREFECT_VERSION-python$BASE_PYTHON-*.docker.tar*" ! -name "$(basename "$saved")" -delete
  if ! { dockercli save -o "$saved.tmp" "$BASE_IMAGE" && mv "$saved.tmp" "$saved"; }; then
    rm -f "$saved.tmp"
    log "warning: could not save $BASE_IMAGE to $saved; the next fresh engine will rebuild it"
  fi
}

up_images() {
  up_docker
  lock images "$STATE"
  mkdir -p "$STATE/images" "$CACHE/images"
  local key saved out
  key=$(image_key)
  if ! image_has_key "$key"; then
    lock imagecache "$CACHE"
    saved=$CACHE/images/prefect-$PREFECT_VERSION-python$BASE_PYTHON-$key.docker.tar
    if [[ -s $saved ]]; then
      log "loading $BASE_IMAGE from the cache"
      dockercli load -q -i "$saved" >/dev/null || { rm -f "$saved"; die "docker load of $saved failed; removed it, run again to rebuild"; }
    else
      build_base_image "$key" "$saved"
    fi
    unlock imagecache
    image_has_key "$key" || die "$BASE_IMAGE is not in the engine after build/load"
    # The image must really run Prefect, as a worker's container would.
    out=$(dockercli run --rm --network host "$BASE_IMAGE" prefect version 2>&1) ||
      die "docker run $BASE_IMAGE prefect version failed: $out"
    [[ $out == *"$PREFECT_VERSION"* ]] || die "$BASE_IMAGE runs another Prefect than $PREFECT_VERSION: $out"
  fi
  echo "$key" >"$STATE/images/key"
  unlock images
}

images_ready() {
  local key
  key=$(read_file "$STATE/images/key")
  [[ -n $key ]] && docker_running && image_has_key "$key"
}

env_images() {
  images_ready || return 0
  export_line PREFECTCTL_BASE_IMAGE "$BASE_IMAGE"
}

status_images() {
  if images_ready; then
    echo "images: $BASE_IMAGE (recipe $(read_file "$STATE/images/key"))"
  else
    echo "images: missing"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL (Debian's postgresql): a cluster of our own on loopback, and a Prefect server on it

pg_dir() { echo "$STATE/postgres"; }
prefect_pg_dir() { echo "$STATE/prefect-pg"; }

# The database every Prefect server on the cluster starts from: migrated once, then cloned.
readonly PG_TEMPLATE=prefect_template
readonly PG_TEMPLATE_COMMENT="prefect $PREFECT_VERSION migrated"

# pg_bindir: the newest installed PostgreSQL's programs (postgres is not on PATH in Debian).
pg_bindir() {
  local b
  b=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [[ -x $b/postgres && -x $b/initdb ]] || die "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$b"
}

pg_major() { basename "$(dirname "$(pg_bindir)")"; }

# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user (made by
# the package), otherwise to the user running this.
pg_owner() { if [[ $(id -u) == 0 ]]; then echo postgres; else id -un; fi; }

# as_pg CMD...: CMD as the cluster's owner, in the state directory.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    (cd "$(pg_dir)" && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
  else
    (cd "$(pg_dir)" && "$@")
  fi
}

# pg_admin SQL [DB]: runs SQL as the superuser over the cluster's own unix socket.
pg_admin() {
  PGOPTIONS='-c client_min_messages=warning' "$(pg_bindir)/psql" -h "$(pg_dir)/sock" -p "$(read_file "$(pg_dir)/port")" \
    -U postgres -d "${2:-postgres}" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# pg_migrated DB: DB holds Prefect's schema at some Alembic revision.
pg_migrated() { [[ $(pg_admin "SELECT count(*) FROM alembic_version" "$1" 2>/dev/null) == 1 ]]; }

pg_accepts() { "$(pg_bindir)/pg_isready" -q -h 127.0.0.1 -p "$1" -U prefect -d postgres; }

postgres_running() {
  local d
  d=$(pg_dir)
  proc_alive "$d" && pg_accepts "$(read_file "$d/port")"
}

# pg_url [DB] [SCHEME]: the URL the prefect role connects with (libpq form by default).
pg_url() {
  local d
  d=$(pg_dir)
  printf '%s://prefect:%s@127.0.0.1:%s/%s' "${2:-postgresql}" "$(read_file "$d/password")" "$(read_file "$d/port")" "${1:-postgres}"
}

# pg_init_cluster: a fresh cluster in DIR/data: UTF-8, trust on its own socket (a directory only
# the owner can enter), passwords over TCP, and a role `prefect` with a random password.
pg_init_cluster() {
  local d=$1 owner
  owner=$(pg_owner)
  mkdir -p "$d"
  as_pg test -x "$d" 2>/dev/null || die "the PostgreSQL user $owner cannot enter $d; set PREFECTCTL_TESTENV_DIR to a directory it can reach (e.g. under /tmp)"
  rm -rf "$d/data" "$d/sock"
  mkdir -p "$d/data" "$d/sock"
  chown "$owner" "$d/data" "$d/sock"
  chmod 700 "$d/data" "$d/sock"
  (umask 077 && random_token 24 >"$d/password")
  local -a loc=(--locale=C.UTF-8)
  locale -a 2>/dev/null | grep -qix 'c.utf-\?8' || loc=(--locale=C)
  log "creating a PostgreSQL $(pg_major) cluster in $d/data"
  as_pg "$(pg_bindir)/initdb" -D "$d/data" -U postgres -E UTF8 "${loc[@]}" --auth-local=trust \
    --auth-host=scram-sha-256 --no-sync --no-instructions >"$d/initdb.log" 2>&1 ||
    { tail -20 "$d/initdb.log" >&2; die "initdb failed (log: $d/initdb.log)"; }
}

# pg_template: makes sure the cluster holds PG_TEMPLATE, migrated for this Prefect: restored from
# a dump cached per Prefect and PostgreSQL version, or else migrated with `prefect server database
# upgrade` (slow on PostgreSQL) and dumped into the cache for the next cluster.
pg_template() {
  local d have dump
  d=$(pg_dir)
  have=$(pg_admin "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$PG_TEMPLATE'")
  [[ $have != "$PG_TEMPLATE_COMMENT" ]] || return 0
  pg_admin "DROP DATABASE IF EXISTS $PG_TEMPLATE"
  pg_admin "CREATE DATABASE $PG_TEMPLATE OWNER prefect"
  dump=$CACHE/prefect-$PREFECT_VERSION-postgres$(pg_major).dump
  lock pgtemplate "$CACHE"
  if [[ -s $dump ]]; then
    log "restoring the migrated Prefect database from $dump"
    PGPASSWORD=$(read_file "$d/password") "$(pg_bindir)/pg_restore" -h 127.0.0.1 -p "$(read_file "$d/port")" -U prefect \
      -d "$PG_TEMPLATE" --no-owner --exit-on-error "$dump" >"$d/template.log" 2>&1 ||
      { tail -20 "$d/template.log" >&2; die "pg_restore of $dump failed (log: $d/template.log); remove the file to migrate afresh"; }
  else
    log "migrating a template Prefect database on PostgreSQL (once per Prefect and PostgreSQL version; takes a while)"
    local -a e
    mapfile -t e < <(prefect_server_env "$d/home" "PREFECT_API_DATABASE_CONNECTION_URL=$(pg_url "$PG_TEMPLATE" postgresql+asyncpg)")
    mkdir -p "$d/home"
    env "${e[@]}" "$VENV/bin/prefect" server database upgrade -y >"$d/template.log" 2>&1 ||
      { tail -20 "$d/template.log" >&2; die "prefect server database upgrade on PostgreSQL failed (log: $d/template.log)"; }
    pg_migrated "$PG_TEMPLATE" || { tail -5 "$d/template.log" >&2; die "prefect server database upgrade left no schema in $PG_TEMPLATE (log: $d/template.log)"; }
    PGPASSWORD=$(read_file "$d/password") "$(pg_bindir)/pg_dump" -h 127.0.0.1 -p "$(read_file "$d/port")" -U prefect \
      -Fc -f "$dump.tmp" "$PG_TEMPLATE" >>"$d/template.log" 2>&1 ||
      { rm -f "$dump.tmp"; tail -20 "$d/template.log" >&2; die "pg_dump of the migrated database failed (log: $d/template.log)"; }
    mv "$dump.tmp" "$dump"
  fi
  unlock pgtemplate
  pg_migrated "$PG_TEMPLATE" || die "$PG_TEMPLATE holds no Prefect schema after restoring $dump; remove that file to migrate afresh"
  pg_admin "COMMENT ON DATABASE $PG_TEMPLATE IS '$PG_TEMPLATE_COMMENT'"
}

up_postgres() {
  ensure_apt postgresql
  ensure_venv
  lock postgres "$STATE"
  if postgres_running; then
    pg_template
    unlock postgres
    return 0
  fi
  local d port rc what="PostgreSQL"
  d=$(pg_dir)
  ((${#d} + 23 <= 107)) || die "PREFECTCTL_TESTENV_DIR is too long for a unix socket path: $d/sock/.s.PGSQL.NNNNN"
  proc_stop --signal INT "$d" "$what" 30
  # The cluster stays across restarts (it holds the migrated template); a half-made one does not.
  [[ -s $d/data/PG_VERSION && -s $d/password && $(read_file "$d/data/PG_VERSION") == "$(pg_major)" ]] || pg_init_cluster "$d"
  rm -f "$d/data/postmaster.pid" "$d"/sock/.s.PGSQL.*
  for _ in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$d/port"
    log "starting $what $(pg_major) on 127.0.0.1:$port"
    pending "$d" "$what"
    # No fsync and friends: a test database that is rebuilt, not recovered, after a crash.
    proc_start --user "$(pg_owner)" --cwd "$d/data" "$d" "$d/log" "$(pg_bindir)/postgres" -D "$d/data" \
      -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$d/sock" \
      -c unix_socket_permissions=0700 -c max_connections=200 -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c logging_collector=off || start_failed "$d" "$what" "could not start $what"
    started postgres
    rc=0
    proc_wait "$d" 120 pg_accepts "$port" || rc=$?
    case $rc in
      0)
        ready "$d"
        break
        ;;
      2) start_failed "$d" "$what" "$what did not accept connections within 120 s (log: $d/log)" ;;
    esac
    grep -qi 'address already in use' "$d/log" || start_failed "$d" "$what" "$what exited at start (log: $d/log)"
    proc_stop --signal INT "$d" "$what" 10
    ready "$d"
    log "port $port was taken meanwhile; trying another"
  done
  proc_alive "$d" || die "$what found no free port in 3 tries (log: $d/log)"
  # The role's password is the state directory's (a cluster restored by hand keeps working).
  pg_admin "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'prefect') THEN CREATE ROLE prefect LOGIN; END IF;
    END \$\$; ALTER ROLE prefect LOGIN PASSWORD '$(read_file "$d/password")'" ||
    start_failed "$d" "$what" "could not create the role prefect (log: $d/log)"
  pg_template
  unlock postgres
}

down_postgres() {
  down_prefect_pg # it cannot run without its database
  lock postgres "$STATE"
  # INT: PostgreSQL's fast shutdown (TERM would wait for every client to disconnect).
  proc_stop --signal INT "$(pg_dir)" "PostgreSQL" 30
  rm -f "$(pg_dir)"/sock/.s.PGSQL.*
  unlock postgres
}

env_postgres() {
  postgres_running || return 0
  export_line PREFECTCTL_POSTGRES_URL "$(pg_url postgres)"
}

status_postgres() {
  if postgres_running; then
    echo "postgres: running (pid $(proc_pid "$(pg_dir)"), 127.0.0.1:$(read_file "$(pg_dir)/port"), data $(pg_dir)/data)"
  else
    echo "postgres: stopped"
    return 1
  fi
}

prefect_pg_running() {
  local d
  d=$(prefect_pg_dir)
  # A server whose cluster was restarted (on another port) has lost its database.
  [[ $(read_file "$d/dbport") == "$(read_file "$(pg_dir)/port")" ]] && postgres_running && server_running "$d"
}

up_prefect_pg() {
  up_postgres
  lock prefect-pg "$STATE"
  if prefect_pg_running; then
    unlock prefect-pg
    return 0
  fi
  local d what="the Prefect $PREFECT_VERSION server on PostgreSQL"
  d=$(prefect_pg_dir)
  proc_stop "$d" "$what"
  rm -rf "$d"
  mkdir -p "$d/home"
  # A fresh database each start, cloned from the migrated template (a file copy, no migration).
  pg_admin "DROP DATABASE IF EXISTS prefect WITH (FORCE)"
  pg_admin "CREATE DATABASE prefect TEMPLATE $PG_TEMPLATE OWNER prefect"
  read_file "$(pg_dir)/port" >"$d/dbport"
  start_prefect_server "$d" "$what" prefect-pg "$d/home" \
    "PREFECT_API_DATABASE_CONNECTION_URL=$(pg_url prefect postgresql+asyncpg)"
  unlock prefect-pg
}

down_prefect_pg() {
  lock prefect-pg "$STATE"
  proc_stop "$(prefect_pg_dir)" "the Prefect server on PostgreSQL"
  unlock prefect-pg
}

env_prefect_pg() {
  prefect_pg_running || return 0
  export_line PREFECTCTL_PG_API_URL "http://127.0.0.1:$(read_file "$(prefect_pg_dir)/port")/api"
  export_line PREFECTCTL_PG_DATABASE_URL "$(pg_url prefect)"
}

status_prefect_pg() {
  if prefect_pg_running; then
    echo "prefect-pg: running (pid $(proc_pid "$(prefect_pg_dir)"), http://127.0.0.1:$(read_file "$(prefect_pg_dir)/port")/api, database $(pg_url prefect | sed 's/:[^:@]*@/:***@/'))"
  else
    echo "prefect-pg: stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Kubernetes: a real single-node cluster (scripts/testenv/kubernetes.sh)

# shellcheck source=SCRIPTDIR/testenv/kubernetes.sh
source "$HELPERS/kubernetes.sh" # up_kubernetes, down_kubernetes, env_kubernetes, status_kubernetes

# ---------------------------------------------------------------------------------------------
# Commands

# parts WHAT ARG...: expands `all` (ALL_PARTS for up, every part else) and checks names.
parts() {
  local what=$1 p q out=()
  shift
  [[ $# -gt 0 ]] || set -- all
  for p; do
    if [[ $p == all ]]; then
      if [[ $what == up ]]; then out+=("${ALL_PARTS[@]}"); else out+=("${KNOWN_PARTS[@]}"); fi
      continue
    fi
    for q in "${KNOWN_PARTS[@]}"; do [[ $p == "$q" ]] && break; done
    [[ $p == "$q" ]] || die "unknown part '$p' (want all or one of: ${KNOWN_PARTS[*]})"
    out+=("$p")
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

# part_fn VERB PART: the function for a part (prefect-pg -> up_prefect_pg), if it exists.
part_fn() {
  local f=${1}_${2//-/_}
  declare -F "$f" >/dev/null && echo "$f"
}

cmd_up() {
  local p list f
  list=$(parts up "$@")
  mkdir -p "$STATE" "$CACHE"
  for p in $list; do
    f=$(part_fn up "$p") || die "part '$p' is not available yet in this version of testenv.sh"
    "$f"
  done
}

cmd_down() {
  local p list f
  list=$(parts down "$@")
  list=$(tac <<<"$list") # stop in reverse order of start
  for p in $list; do
    if f=$(part_fn down "$p"); then "$f"; fi
  done
  # After `down all` nothing of this state directory may run, whatever started it.
  if [[ " $* " == *" all "* || $# -eq 0 ]]; then
    local rest
    rest=$(proc_owned "$STATE")
    if [[ -n $rest ]]; then
      log "warning: still running after down: $(tr '\n' ' ' <<<"$rest")"
      awk '{ print $2 }' <<<"$rest" | sort -u | while read -r p; do proc_stop "$p" "what was started in $p"; done
    fi
  fi
  return 0
}

cmd_env() {
  local p f
  export_line PREFECTCTL_TESTENV_DIR "$STATE"
  if [[ -x $VENV/bin/prefect ]]; then
    export_line PREFECTCTL_PYTHON "$VENV/bin/python"
    export_line PREFECTCTL_PREFECT "$VENV/bin/prefect"
  fi
  for p in "${KNOWN_PARTS[@]}"; do
    if f=$(part_fn env "$p"); then "$f"; fi
  done
  return 0
}

cmd_status() {
  local p rc=0 list f
  list=$(parts status "$@")
  for p in $list; do
    if f=$(part_fn status "$p"); then
      "$f" || rc=1
    fi
  done
  return $rc
}

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  [[ $# -gt 0 ]] || usage
  local cmd=$1
  shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    env) cmd_env ;;
    status) cmd_status "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
