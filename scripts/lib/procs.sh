# shellcheck shell=bash
# Process helpers shared by scripts/testenv.sh and scripts/demo.sh: sourced, never run.
# The sourcing script defines `log MESSAGE` and `die MESSAGE` (both to stderr).

# alive PID PATTERN: the process exists, is not a zombie, and its command line contains PATTERN
# (so a recycled PID is never taken for ours).
alive() {
  local pid=$1 pattern=$2 state cmd
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$pattern"* ]]
}

# stop_pid PID PATTERN WHAT [TERM_SECONDS]: only if PID is still our process, TERM it, wait up to
# TERM_SECONDS (default 20), then KILL, and return only once it is gone (callers and tests check
# right after that nothing they started is left).
stop_pid() {
  local pid=$1 pattern=$2 what=$3 secs=${4:-20} i
  alive "$pid" "$pattern" || return 0
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
