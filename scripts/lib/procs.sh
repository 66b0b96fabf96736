# shellcheck shell=bash
# Service processes, tracked exactly: sourced by scripts/testenv.sh, scripts/demo.sh and the
# parts under scripts/testenv/; never run. The sourcing script defines `log MESSAGE` and
# `die MESSAGE` (both to stderr).
#
# A service is tracked in a directory TRACKDIR (its state directory, absolute). TRACKDIR/proc
# holds "PID STARTTIME" of its main process, written by the launcher (scripts/lib/spawn.py) in
# the child itself, after setsid and before exec: it is right whatever the caller's context
# (job control on or off, timeout, nohup, no terminal, a loaded machine), and exec keeps both
# numbers. STARTTIME (clock ticks after boot) tells the process from a later one with a reused
# PID, so nothing here compares command lines (a process's command line reads empty while it
# execs, which once made a live dockerd look dead).
#
# The service's family is what `proc_stop` ends: the main process, every process of its session
# (setsid made the main process a session leader), every process carrying PREFECTCTL_PROC=TRACKDIR
# in its environment (the launcher sets it; children inherit it, even those that start sessions
# of their own, such as dockerd's containerd and its shims), and every descendant of these (a
# process that rewrites its title over its environment, as PostgreSQL's do, is still a child).
#
#   proc_start [--user U] [--cwd D] [--env K=V]... [--unset K]... TRACKDIR LOG CMD...
#                               start CMD detached; sets SPAWNED to its PID; 1 if it cannot exec
#   proc_alive TRACKDIR         the main process runs (not a zombie, same start time)
#   proc_pid TRACKDIR           print the main PID (if it runs)
#   proc_wait TRACKDIR SECS PROBE...
#                               poll PROBE every 0.1 s: 0 once it succeeds, 1 when the main
#                               process exited first, 2 after SECS seconds (wall clock)
#   proc_family TRACKDIR        print the PIDs of the family still running (main first)
#   proc_stop [--signal SIG] TRACKDIR WHAT [SECS]
#                               SIG (default TERM) to the main process, KILL after SECS (default
#                               20) seconds, then TERM/KILL whatever of the family is left;
#                               returns once none of it runs, and removes TRACKDIR/proc
#   proc_owned DIR              print "PID TRACKDIR" for every running process whose TRACKDIR is
#                               DIR or lies under it (what of a state directory still runs)
#
# Kept for older callers (same arguments as before; prefer the proc_* functions):
#   spawn LOG CMD...            proc_start LOG.proc LOG CMD... (sets SPAWNED, empty if CMD
#                               cannot be exec'd)
#   alive PID PATTERN           PID runs and its command line holds PATTERN (waits out an exec)
#   stop_pid PID PATTERN WHAT [SECS]
#                               proc_stop of PID's TRACKDIR when it was started by proc_start,
#                               else TERM/KILL of PID alone

PROCS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# procs_python: a Python 3 for the launcher; the system one first (a pyenv shim costs ~0.1 s).
procs_python() {
  local p
  for p in ${PREFECTCTL_PROCS_PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1; then
      command -v "$p"
      return 0
    fi
  done
  die "python3 is needed to start services (apt-get install python3)"
}

# _proc_abs DIR: DIR as an absolute path without a trailing slash.
_proc_abs() {
  local d=$1
  [[ $d == /* ]] || d=$PWD/$d
  while [[ $d == */ && $d != / ]]; do d=${d%/}; done
  printf '%s' "$d"
}

# _proc_read TRACKDIR: sets _P_PID and _P_START from TRACKDIR/proc; fails without a record.
_proc_read() {
  _P_PID='' _P_START=''
  local line=''
  [[ -r $1/proc ]] || return 1
  { read -r line <"$1/proc"; } 2>/dev/null || [[ -n $line ]] || return 1
  read -r _P_PID _P_START _ <<<"$line"
  [[ $_P_PID =~ ^[0-9]+$ && $_P_START =~ ^[0-9]+$ ]]
}

# _proc_stat PID: sets _S_STATE, _S_SID and _S_START of a process; fails when it does not exist.
_proc_stat() {
  local s='' f
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || [[ -n $s ]] || return 1
  s=${s##*) } # the command name may hold spaces and parentheses
  read -ra f <<<"$s"
  _S_STATE=${f[0]} _S_SID=${f[3]} _S_START=${f[19]}
}

proc_start() {
  local opts=()
  while [[ ${1:-} == --user || ${1:-} == --cwd || ${1:-} == --env || ${1:-} == --unset ]]; do
    opts+=("$1" "$2")
    shift 2
  done
  local dir log
  dir=$(_proc_abs "$1")
  log=$2
  shift 2
  SPAWNED=
  mkdir -p "$dir"
  rm -f "$dir/proc"
  "$(procs_python)" -I -S "$PROCS_LIB/spawn.py" "${opts[@]}" "$dir" "$log" -- "$@" || return 1
  _proc_read "$dir" || die "the launcher left no record in $dir/proc"
  SPAWNED=$_P_PID
}

proc_alive() {
  _proc_read "$1" || return 1
  _proc_stat "$_P_PID" || return 1
  [[ $_S_START == "$_P_START" && $_S_STATE != Z && $_S_STATE != X ]]
}

proc_pid() {
  proc_alive "$1" || return 1
  echo "$_P_PID"
}

proc_wait() {
  local dir=$1 secs=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    proc_alive "$dir" || return 1
    ((SECONDS < deadline)) || return 2
    sleep 0.1
  done
}

# _proc_self: this shell and its ancestors, never part of a family (a script started by a
# service carries its marker).
_proc_self() {
  local p=$BASHPID n=0
  echo "$$"
  while [[ $p =~ ^[0-9]+$ && $p -gt 1 && $n -lt 64 ]]; do
    echo "$p"
    p=$(awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[2] }' "/proc/$p/stat" 2>/dev/null) || break
    n=$((n + 1))
  done
}

proc_family() {
  local dir sid='' main=''
  dir=$(_proc_abs "$1")
  if _proc_read "$dir"; then
    if _proc_stat "$_P_PID"; then
      # A PID in use by another process means our session is gone: Linux reuses no PID while a
      # session or group of that ID has members.
      if [[ $_S_START == "$_P_START" ]]; then
        sid=$_P_PID
        [[ $_S_STATE == Z || $_S_STATE == X ]] || main=$_P_PID
      fi
    else
      sid=$_P_PID
    fi
  fi
  # One pass over /proc/*/stat: the main process, its session, the processes carrying the
  # marker (listed first, as "marked PID"), and all descendants of any of them. Processes come
  # and go while /proc is read: no step's status counts (pipefail, set -e).
  {
    _proc_marked "PREFECTCTL_PROC=$dir" -x | sed 's/^/marked /'
    # cat, not awk FILE...: mawk gives up at the first file that vanished since the glob.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{ p = $1; s = $0; sub(/^.*\) /, "", s); print p, s }'
  } | awk -v main="$main" -v sid="$sid" -v self="$(_proc_self | tr '\n' ' ')" '
    BEGIN { n = split(self, a, " "); for (i = 1; i <= n; i++) skip[a[i]] = 1 }
    $1 == "marked" { seed[$2] = 1; next }
    { state[$1] = $2; parent[$1] = $3; if ((sid != "" && $5 == sid) || $1 == main) seed[$1] = 1 }
    END {
      for (p in seed) if (p in state) fam[p] = 1
      do {
        grew = 0
        for (p in parent) if (!(p in fam) && (parent[p] in fam)) { fam[p] = 1; grew = 1 }
      } while (grew)
      if (main != "" && (main in fam)) print main
      for (p in fam) if (p != main && !(p in skip) && state[p] != "Z" && state[p] != "X") print p
    }' | awk '!seen[$0]++'
}

# _proc_marked TEXT [-x]: PIDs whose environment holds TEXT (-x: a variable exactly TEXT).
_proc_marked() {
  local flags=-lzF
  [[ ${2:-} != -x ]] || flags=-lzxF
  { grep "$flags" -- "$1" /proc/[0-9]*/environ 2>/dev/null || true; } | sed 's#^/proc/##; s#/environ$##'
}

proc_owned() {
  local prefix p dir
  prefix=$(_proc_abs "$1")
  for p in $(_proc_marked "PREFECTCTL_PROC=$prefix" | { grep -vxF -f <(_proc_self) || true; }); do
    dir=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | sed -n 's/^PREFECTCTL_PROC=//p' | head -1)
    [[ $dir == "$prefix" || $dir == "$prefix"/* ]] || continue
    _proc_stat "$p" && [[ $_S_STATE != Z ]] && echo "$p $dir"
  done
  return 0
}

# _proc_names PIDS: "PID (comm), ..." for messages; PIDS one a line or word.
_proc_names() {
  local p c out=''
  for p in $1; do
    c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    out+="${out:+, }$p ($c)"
  done
  printf '%s' "$out"
}

proc_stop() {
  local sig=TERM
  if [[ ${1:-} == --signal ]]; then
    sig=$2
    shift 2
  fi
  local dir what secs i round pids
  dir=$(_proc_abs "$1")
  what=$2
  secs=${3:-20}
  if proc_alive "$dir"; then
    local main=$_P_PID deadline
    log "stopping $what (pid $main)"
    kill -s "$sig" "$main" 2>/dev/null || true
    deadline=$((SECONDS + secs))
    while proc_alive "$dir" && ((SECONDS < deadline)); do sleep 0.1; done
    if proc_alive "$dir"; then
      log "$what (pid $main) ignored $sig for $secs s; killing it"
      kill -KILL "$main" 2>/dev/null || true
    fi
  fi
  # What outlived the main process: children that started sessions of their own (dockerd's
  # containerd), workers of a server that was killed, a half-started service's helpers.
  for round in TERM KILL; do
    pids=$(proc_family "$dir")
    [[ -n $pids ]] || break
    if [[ $round == TERM ]]; then
      log "stopping what is left of $what: $(_proc_names "$pids")"
    else
      log "killing what is left of $what: $(_proc_names "$pids")"
    fi
    # shellcheck disable=SC2086 # one PID a word
    kill -s "$round" $pids 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [[ -n $(proc_family "$dir") ]] || break
      sleep 0.1
    done
  done
  pids=$(proc_family "$dir")
  [[ -z $pids ]] || die "$what: $(_proc_names "$pids") do not stop"
  rm -f "$dir/proc"
}

# --- kept for older callers -----------------------------------------------------------------

# shellcheck disable=SC2034 # read by the sourcing script
SPAWNED=
spawn() {
  local logfile=$1
  shift
  # A directory per log file: callers keep several services' logs in one directory.
  proc_start "$logfile.proc" "$logfile" "$@" || true
}

alive() {
  local pid=$1 pattern=$2 cmd i
  for ((i = 0; i < 200; i++)); do
    _proc_stat "$pid" || return 1
    [[ $_S_STATE != Z && $_S_STATE != X ]] || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    if [[ -n $cmd ]]; then
      [[ $cmd == *"$pattern"* ]]
      return
    fi
    sleep 0.01 # empty while the process execs
  done
  return 1
}

stop_pid() {
  local pid=$1 pattern=$2 what=$3 secs=${4:-20} dir i
  alive "$pid" "$pattern" || return 0
  dir=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | sed -n 's/^PREFECTCTL_PROC=//p' | head -1)
  if [[ -n $dir ]] && _proc_read "$dir" && [[ $_P_PID == "$pid" ]]; then
    proc_stop "$dir" "$what" "$secs"
    return
  fi
  log "stopping $what (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" "$pattern" || return 0
    sleep 0.1
  done
  log "$what (pid $pid) ignored TERM for $secs s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" "$pattern" || return 0
    sleep 0.1
  done
  die "$what (pid $pid) does not stop"
}
