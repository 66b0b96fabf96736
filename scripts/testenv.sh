#!/usr/bin/env bash
# Real services for prefectctl's tests, on loopback only.
#
#   scripts/testenv.sh up [all|venv|prefect|docker|registry|images|kubernetes]...
#   scripts/testenv.sh down [all|prefect|docker|registry|kubernetes]...
#   scripts/testenv.sh env
#   scripts/testenv.sh status [part...]
#
# `up` installs what is missing (apt packages, the pinned Prefect venv), starts each part that is
# not already running on a free loopback port, waits until it answers, and prints on stdout the
# names of the parts it started itself (one a line), so its caller can later `down` exactly those.
# Progress and errors go to stderr. `env` prints `export VAR='value'` lines for the parts that run.
#
# State (PIDs, ports, logs, data) lives in ${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv};
# downloads, the venv and built images are cached in ${PREFECTCTL_TESTENV_CACHE:-~/.cache/prefectctl-testenv}
# (outside the clone: CI clones afresh each run). Each part is guarded by flock, so several test
# binaries may run `up` at once. `down` ends only the PIDs recorded in the state directory.
set -euo pipefail

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

# Lock file descriptors currently held; spawned services must not inherit them, or the lock would
# outlive this script.
LOCK_FDS=()

# lock NAME DIR: takes an exclusive flock on DIR/NAME.lock until unlock NAME (or until exit).
declare -A LOCK_BY_NAME=()
lock() {
  local name=$1 dir=$2 fd
  mkdir -p "$dir"
  exec {fd}>"$dir/$name.lock"
  if ! flock -n "$fd"; then
    log "waiting for another testenv.sh to finish with $name"
    flock "$fd"
  fi
  LOCK_FDS+=("$fd")
  LOCK_BY_NAME[$name]=$fd
}
unlock() {
  local fd=${LOCK_BY_NAME[$1]} kept=() f
  exec {fd}>&-
  for f in "${LOCK_FDS[@]}"; do [[ $f == "$fd" ]] || kept+=("$f"); done
  LOCK_FDS=("${kept[@]}")
  unset "LOCK_BY_NAME[$1]"
}

# spawn LOG CMD...: starts CMD in its own session, detached from our stdio and locks; sets SPAWNED
# to its PID. Without job control a background subshell is no process-group leader, so setsid
# execs in place and $! is the service's own PID.
SPAWNED=
spawn() {
  local logfile=$1
  shift
  (
    for fd in "${LOCK_FDS[@]}"; do eval "exec $fd>&-"; done
    exec setsid "$@" </dev/null >"$logfile" 2>&1
  ) &
  SPAWNED=$!
  # Until the subshell has exec'd, its command line is this script's, and `alive PID PATTERN`
  # would take the service for dead; wait for the exec (or the child's exit), at most 5 s.
  local i self
  self=$(readlink /proc/$$/exe)
  for ((i = 0; i < 500; i++)); do
    [[ $(readlink "/proc/$SPAWNED/exe" 2>/dev/null) == "$self" ]] || break
    sleep 0.01
  done
}

# shellcheck source=SCRIPTDIR/lib/procs.sh
source "$ROOT/scripts/lib/procs.sh" # alive, stop_pid

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' ||
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

# What our server's command line holds (other Prefect servers may run on this machine).
prefect_pattern() { echo "server start --host 127.0.0.1 --port $1"; }

prefect_running() {
  local d pid port
  d=$(prefect_dir)
  pid=$(read_file "$d/pid")
  port=$(read_file "$d/port")
  [[ -n $pid && -n $port ]] || return 1
  alive "$pid" "$(prefect_pattern "$port")" || return 1
  [[ $(http_code "http://127.0.0.1:$port/api/health") == 200 ]]
}

# Environment for the server: none of the caller's PREFECT_* settings (a user's PREFECT_API_URL or
# database URL must not leak in), no telemetry, no UI (the tests only use the API; it starts faster).
prefect_server_env() {
  local v unset=()
  for v in $(compgen -e | grep '^PREFECT_' || true); do unset+=(-u "$v"); done
  printf '%s\n' "${unset[@]}" \
    PREFECT_HOME="$1" \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_SERVER_UI_ENABLED=false \
    DO_NOT_TRACK=1
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
  local d tmpl pid port i
  d=$(prefect_dir)
  stop_pid "$(read_file "$d/pid")" "$(prefect_pattern "$(read_file "$d/port")")" "the Prefect server"
  tmpl=$(prefect_db_template)
  for _ in 1 2 3; do
    rm -rf "$d"
    mkdir -p "$d/home"
    cp "$tmpl" "$d/home/prefect.db"
    port=$(free_port)
    local -a e
    mapfile -t e < <(prefect_server_env "$d/home")
    log "starting the Prefect $PREFECT_VERSION server on 127.0.0.1:$port"
    spawn "$d/log" env "${e[@]}" "$VENV/bin/prefect" server start --host 127.0.0.1 --port "$port"
    pid=$SPAWNED
    echo "$pid" >"$d/pid"
    echo "$port" >"$d/port"
    for ((i = 0; i < 1200; i++)); do
      if ! alive "$pid" "$(prefect_pattern "$port")"; then break; fi
      if [[ $(http_code "http://127.0.0.1:$port/api/health") == 200 ]]; then
        echo prefect
        unlock prefect
        return 0
      fi
      sleep 0.1
    done
    if alive "$pid" "$(prefect_pattern "$port")"; then
      stop_pid "$pid" "$(prefect_pattern "$port")" "the Prefect server"
      tail -20 "$d/log" >&2
      die "the Prefect server did not answer /api/health within 120 s (log: $d/log)"
    fi
    # A port taken between free_port and bind is worth another try; anything else is not.
    grep -qi 'address already in use' "$d/log" || { tail -20 "$d/log" >&2; die "the Prefect server exited at start (log: $d/log)"; }
    log "port $port was taken meanwhile; trying another"
  done
  die "the Prefect server found no free port in 3 tries (log: $d/log)"
}

down_prefect() {
  lock prefect "$STATE"
  local d
  d=$(prefect_dir)
  stop_pid "$(read_file "$d/pid")" "$(prefect_pattern "$(read_file "$d/port")")" "the Prefect server"
  rm -f "$d/pid"
  unlock prefect
}

env_prefect() {
  prefect_running || return 0
  export_line PREFECT_API_URL "http://127.0.0.1:$(read_file "$(prefect_dir)/port")/api"
}

status_prefect() {
  if prefect_running; then
    echo "prefect: running (pid $(read_file "$(prefect_dir)/pid"), http://127.0.0.1:$(read_file "$(prefect_dir)/port")/api)"
  else
    echo "prefect: stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Docker engine

docker_dir() { echo "$STATE/docker"; }

docker_running() {
  local d pid
  d=$(docker_dir)
  pid=$(read_file "$d/pid")
  [[ -n $pid ]] || return 1
  alive "$pid" "dockerd --host unix://$d/docker.sock" || return 1
  DOCKER_HOST=unix://$d/docker.sock timeout 10 docker version >/dev/null 2>&1
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

up_docker() {
  ensure_apt docker.io
  lock docker "$STATE"
  if docker_running; then
    unlock docker
    return 0
  fi
  local d pid i
  d=$(docker_dir)
  # A unix socket path is limited to 107 bytes; fail clearly instead of dockerd's obscure error.
  ((${#d} + 12 <= 107)) || die "PREFECTCTL_TESTENV_DIR is too long for a unix socket path: $d/docker.sock"
  stop_pid "$(read_file "$d/pid")" "dockerd --host unix://$d/docker.sock" "dockerd"
  # A dockerd killed outright (not by `down`) leaves its mounts, container ones included.
  unmount_under "$d"
  # The data root stays across restarts (it caches the base image); the runtime state does not.
  rm -rf "$d/exec" "$d/docker.sock" "$d/dockerd.pid"
  mkdir -p "$d/root" "$d/exec"
  log "starting dockerd on unix://$d/docker.sock"
  # No default bridge, no iptables: the engine must create no network outside loopback; containers
  # that need the Prefect server use network mode host.
  # PREFECTCTL_TESTENV_DOCKERD_ARGS: extra dockerd flags; make demo passes a loopback
  # --registry-mirror, so that builds with pull=True (prefect-docker's default) find the base image.
  # shellcheck disable=SC2086 # a list of flags
  spawn "$d/log" dockerd --host "unix://$d/docker.sock" --data-root "$d/root" --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    ${PREFECTCTL_TESTENV_DOCKERD_ARGS:-}
  pid=$SPAWNED
  echo "$pid" >"$d/pid"
  for ((i = 0; i < 600; i++)); do
    alive "$pid" "dockerd" || { tail -20 "$d/log" >&2; die "dockerd exited at start (log: $d/log)"; }
    if DOCKER_HOST=unix://$d/docker.sock timeout 10 docker version >/dev/null 2>&1; then
      echo docker
      unlock docker
      return 0
    fi
    sleep 0.1
  done
  stop_pid "$pid" "dockerd" "dockerd"
  tail -20 "$d/log" >&2
  die "dockerd did not answer within 60 s (log: $d/log)"
}

down_docker() {
  lock docker "$STATE"
  local d
  d=$(docker_dir)
  stop_pid "$(read_file "$d/pid")" "dockerd --host unix://$d/docker.sock" "dockerd"
  unmount_under "$d"
  rm -f "$d/pid"
  unlock docker
}

env_docker() {
  docker_running || return 0
  export_line DOCKER_HOST "unix://$(docker_dir)/docker.sock"
}

status_docker() {
  if docker_running; then
    echo "docker: running (pid $(read_file "$(docker_dir)/pid"), unix://$(docker_dir)/docker.sock)"
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

registry_running() {
  local d pid port
  d=$(registry_dir "$1")
  pid=$(read_file "$d/pid")
  port=$(read_file "$d/port")
  [[ -n $pid && -n $port ]] || return 1
  alive "$pid" "$d/config.yml" || return 1
  [[ $(http_code "http://127.0.0.1:$port/v2/") == "$(registry_ready_code "$1")" ]]
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

# up_one_registry KIND: starts it unless it runs; appends KIND to $STATE/registry/.started if started.
up_one_registry() {
  local kind=$1 d pid port i
  d=$(registry_dir "$kind")
  if registry_running "$kind"; then return 0; fi
  stop_pid "$(read_file "$d/pid")" "$d/config.yml" "the $kind registry"
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
    log "starting the $kind registry on 127.0.0.1:$port"
    spawn "$d/log" docker-registry serve "$d/config.yml"
    pid=$SPAWNED
    echo "$pid" >"$d/pid"
    echo "$port" >"$d/port"
    for ((i = 0; i < 300; i++)); do
      alive "$pid" "$d/config.yml" || break
      if [[ $(http_code "http://127.0.0.1:$port/v2/") == "$(registry_ready_code "$kind")" ]]; then
        echo "$kind" >>"$STATE/registry/.started"
        return 0
      fi
      sleep 0.1
    done
    if alive "$pid" "$d/config.yml"; then
      stop_pid "$pid" "$d/config.yml" "the $kind registry"
      tail -20 "$d/log" >&2
      die "the $kind registry did not answer GET /v2/ within 30 s (log: $d/log)"
    fi
    grep -qi 'address already in use' "$d/log" || { tail -20 "$d/log" >&2; die "the $kind registry exited at start (log: $d/log)"; }
    log "port $port was taken meanwhile; trying another"
  done
  die "the $kind registry found no free port in 3 tries (log: $d/log)"
}

up_registry() {
  ensure_apt docker-registry apache2-utils
  lock registry "$STATE"
  rm -f "$STATE/registry/.started"
  up_one_registry plain
  up_one_registry auth
  # One name for the pair: `down registry` stops both.
  if [[ -s $STATE/registry/.started ]]; then echo registry; fi
  rm -f "$STATE/registry/.started"
  unlock registry
}

down_registry() {
  lock registry "$STATE"
  local kind d
  for kind in auth plain; do
    d=$(registry_dir "$kind")
    stop_pid "$(read_file "$d/pid")" "$d/config.yml" "the $kind registry"
    rm -f "$d/pid"
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
      echo "registry ($kind): running (pid $(read_file "$(registry_dir "$kind")/pid"), 127.0.0.1:$(read_file "$(registry_dir "$kind")/port"))"
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

images_ready() { docker_running && image_has_key "$(read_file "$STATE/images/key")"; }

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
# Kubernetes: a real single-node cluster (scripts/testenv/kubernetes.sh)

# shellcheck source=SCRIPTDIR/testenv/kubernetes.sh
source "$HELPERS/kubernetes.sh" # up_kubernetes, down_kubernetes, env_kubernetes, status_kubernetes

# ---------------------------------------------------------------------------------------------
# Commands

# parts ARG...: expands `all` and checks names.
parts() {
  local p out=()
  [[ $# -gt 0 ]] || set -- all
  for p; do
    case $p in
      all) out+=("${ALL_PARTS[@]}") ;;
      venv | prefect | docker | registry | images | kubernetes) out+=("$p") ;;
      *) die "unknown part '$p' (want all, venv, prefect, docker, registry, images or kubernetes)" ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

implemented() { declare -F "up_$1" >/dev/null; }

cmd_up() {
  local p list
  list=$(parts "$@")
  mkdir -p "$STATE" "$CACHE"
  for p in $list; do
    implemented "$p" || die "part '$p' is not available yet in this version of testenv.sh"
    "up_$p"
  done
}

cmd_down() {
  local p list
  list=$(parts "$@")
  list=$(tac <<<"$list") # stop in reverse order of start
  for p in $list; do
    declare -F "down_$p" >/dev/null && "down_$p"
  done
  return 0
}

cmd_env() {
  local p
  export_line PREFECTCTL_TESTENV_DIR "$STATE"
  if [[ -x $VENV/bin/prefect ]]; then
    export_line PREFECTCTL_PYTHON "$VENV/bin/python"
    export_line PREFECTCTL_PREFECT "$VENV/bin/prefect"
  fi
  for p in "${ALL_PARTS[@]}"; do
    declare -F "env_$p" >/dev/null && "env_$p"
  done
  return 0
}

cmd_status() {
  local p rc=0 list
  list=$(parts "$@")
  for p in $list; do
    if declare -F "status_$p" >/dev/null; then
      "status_$p" || rc=1
    fi
  done
  return $rc
}

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
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
