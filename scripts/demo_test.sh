#!/usr/bin/env bash
# End-to-end test of `make demo` (run by scripts/test.sh): the demo runs twice in its own state
# directory, the second run must reuse what the first started, the flow run must have logged
# "Hello, Arthur!", the image must be in the loopback registry under the git SHA tag, the Job of
# the cpu_request=250m run must ask for 250m, and `scripts/demo.sh down` must stop exactly the
# processes the demo started and leave no mount or cgroup of its cluster behind.
#
# PREFECTCTL_DEMO_TEST_DIR (default ${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}-demotest, so
# that test runs in different state directories never share a demo) keeps the engine's data root
# between runs, so only the first run on a machine loads the base image.
set -euo pipefail
cd "$(dirname "$0")/.."
testenv_dir=${PREFECTCTL_TESTENV_DIR:-/tmp/prefectctl-testenv}
export PREFECTCTL_DEMO_DIR=${PREFECTCTL_DEMO_TEST_DIR:-${testenv_dir%/}-demotest}
unset PREFECTCTL_DEMO_TESTENV_DIR PREFECTCTL_TESTENV_STARTED
D=$PREFECTCTL_DEMO_DIR
start=$SECONDS

fail() {
  printf 'demo_test: FAIL: %s\n' "$*" >&2
  exit 1
}
read_file() { cat "$1" 2>/dev/null || true; }
log() { printf 'demo_test: %s\n' "$*" >&2; }
die() { fail "$@"; }
# shellcheck source=SCRIPTDIR/lib/procs.sh
source scripts/lib/procs.sh
running() { [[ -r /proc/$1/stat && $(awk '{print $3}' "/proc/$1/stat") != Z ]]; }

# Every PID the demo's state names (TRACKDIR/proc records: worker, mirror, and the services of
# its test environment), with what each started (scripts/lib/procs.sh).
demo_pids() {
  local f
  find "$D" -name proc -type f 2>/dev/null | while read -r f; do
    proc_family "$(dirname "$f")"
  done | sort -un
}

cleanup() {
  [[ ${downed:-} == 1 ]] || scripts/demo.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

[[ -x bin/prefectctl ]] || make --no-print-directory build

# A service of someone else (the suite's own test environment) that must survive `down`.
outsider=$(proc_pid "$testenv_dir/prefect" || true)

# A clean slate: what an earlier, interrupted test left is stopped first.
scripts/demo.sh down >/dev/null 2>&1 || true

echo "demo_test: first run (state in $D)"
out1=$(scripts/demo.sh 2>&1) || {
  printf '%s\n' "$out1" | tail -40 >&2
  fail "the first make demo failed"
}
grep -q 'Hello, Arthur!' <<<"$out1" || fail "the first run did not show 'Hello, Arthur!'"
grep -q "finished successfully in 'Completed'" <<<"$out1" || fail "the first run did not end Completed"
grep -q 'hello/default, hello/arthur' <<<"$out1" || fail "the summary does not name both deployments"
grep -q 'make demo-down' <<<"$out1" || fail "the summary does not say how to tear down"
grep -qE 'Kubernetes Job +[^ ]+: image [^ ]+/hello:[0-9a-f]+, CPU request 250m' <<<"$out1" ||
  fail "the summary does not show the cpu_request=250m Job's image and CPU request"
# The second act: the changed log line, deployed as a code layer with the daemon stopped, run by
# the real worker.
grep -q "stopping the demo's Docker daemon" <<<"$out1" || fail "the second act did not stop the Docker daemon"
grep -q 'code layer: only project files changed' <<<"$out1" || fail "the second act's deploy did not append a code layer"
grep -qF 'Hello again, Arthur! (code layer, no Docker)' <<<"$out1" || fail "the second act's run did not log the new line"

# The tag the summary names must be a commit of this repository (HEAD may have moved since: the
# tree is shared) and must be in the registry.
sha=$(sed -nE 's#^ *image +[^ ]+/hello:([0-9a-f]+) .*#\1#p' <<<"$out1")
[[ -n $sha ]] || fail "the summary names no image tag"
git cat-file -e "$sha^{commit}" 2>/dev/null || fail "the image tag $sha is not a commit of this repository"
eval "$(PREFECTCTL_TESTENV_DIR=$D/env scripts/testenv.sh env)"
tags=$(curl -sf "http://$PREFECTCTL_REGISTRY/v2/hello/tags/list") || fail "the registry has no image 'hello'"
grep -q "\"$sha\"" <<<"$tags" || fail "the registry's hello tags $tags lack the git SHA $sha"
deployments=$(PREFECT_API_URL=$PREFECT_API_URL PREFECT_PROFILES_PATH=$D/profiles.toml PREFECT_HOME=$D/prefect-home \
  bin/prefectctl deployment ls -o json) || fail "prefectctl deployment ls failed"
for name in default arthur; do
  grep -q "\"$name\"" <<<"$deployments" || fail "deployment hello/$name is not on the server"
done

worker1=$(read_file "$D/worker.pod")
[[ -n $worker1 ]] || fail "the demo recorded no worker pod"
started1=$(sort -u "$D/started")
t1=$((SECONDS - start))

echo "demo_test: second run (must reuse what exists)"
out2=$(scripts/demo.sh 2>&1) || {
  printf '%s\n' "$out2" | tail -40 >&2
  fail "the second make demo failed"
}
grep -q 'Hello, Arthur!' <<<"$out2" || fail "the second run did not show 'Hello, Arthur!'"
[[ $(read_file "$D/worker.pod") == "$worker1" ]] || fail "the second run replaced the worker pod $worker1 by $(read_file "$D/worker.pod")"
[[ $(sort -u "$D/started") == "$started1" ]] || fail "the second run started services again: $(cat "$D/started")"
t2=$((SECONDS - start - t1))

pids=$(demo_pids)
[[ -n $pids ]] || fail "the demo recorded no PIDs"
# The cluster's container shims are the demo's too (children of its containerd, by its socket).
shims=$(pgrep -f "containerd-shim.* -address $D/env/kube/containerd/containerd.sock" || true)
[[ -n $shims ]] || fail "the cluster runs no container shim (is the worker pod running?)"
pids="$pids $shims"
# The cluster's pods live under this cgroup (kubelet's cgroupRoot, see scripts/testenv/kubernetes.sh).
cgroup_root=/prefectctl-kube-$(printf '%s' "$D/env/kube" | sha256sum | cut -c1-10)
compgen -G "/sys/fs/cgroup/*$cgroup_root" >/dev/null || fail "no cgroup $cgroup_root while the cluster runs"
echo "demo_test: down"
scripts/demo.sh down >/dev/null 2>&1 || fail "scripts/demo.sh down failed"
downed=1
for pid in $pids; do
  # A process whose command line is already gone may still be finishing its
  # exit for a moment; give it a few seconds, no more.
  for ((i = 0; i < 50; i++)); do running "$pid" || break; sleep 0.1; done
  ! running "$pid" || fail "pid $pid is still running after down"
done
[[ -z $outsider ]] || running "$outsider" || fail "down stopped the test environment's Prefect server (pid $outsider)"
if awk '{print $2}' /proc/mounts | grep -q "^$D/env/kube"; then fail "mounts under $D/env/kube are left after down"; fi
! compgen -G "/sys/fs/cgroup/*$cgroup_root" >/dev/null || fail "the cluster's cgroup $cgroup_root is left after down: $(compgen -G "/sys/fs/cgroup/*$cgroup_root" | head -3)"
echo "demo_test: ok (first run ${t1}s, second ${t2}s, $(wc -w <<<"$pids") processes stopped)"
