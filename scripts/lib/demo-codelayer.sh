# shellcheck shell=bash
# The demo's second act (issue 14): a code-only redeploy with no Docker daemon. Sourced by
# scripts/demo.sh, which provides step, log, die, read_file, BIN, DEMO, ROOT, WATCH_TIMEOUT,
# MIRROR, PREFECTCTL_PYTHON and the environment ensure_services exports.
#
#   codelayer_act SRC IMAGE RUN_NEEDS_DOCKER
#
# SRC is the project the first act deployed (examples/flows) and IMAGE its image name. The act
# works on a copy in $DEMO/act2/flows (same directory name, so the same generated Dockerfile) with
# a git repository of its own in $DEMO/act2/git: it never commits into the user's checkout. It changes the flow's log
# line and commits, stops the Docker daemon (only the one the demo's testenv started, through
# scripts/testenv.sh, which stops it by PID), runs `prefectctl deploy --all` with DOCKER_HOST
# pointing nowhere and no docker binary on PATH, checks that the deploy appended a code layer,
# then runs hello/arthur and checks the new line in the run's logs from the real worker.
# RUN_NEEDS_DOCKER=1 (the Docker pool: its worker starts containers through dockerd) brings the
# daemon back before the run; on a Kubernetes pool the cluster pulls the image itself.

CODELAYER_GREETING='Hello again, {name}! (code layer, no Docker)'

codelayer_act() {
  local src=$1 image=$2 run_needs_docker=$3
  local act=$DEMO/act2 dir=$DEMO/act2/flows
  step "second act: a one-line flow change, redeployed with the Docker daemon stopped"
  rm -rf "$act"
  mkdir -p "$act"
  # The project as the first act deployed it (without any .git of the source checkout), then the
  # change as a commit of its own: its SHA tags the new image.
  (cd "$src" && tar --exclude=.git -cf - .) | (mkdir -p "$dir" && cd "$dir" && tar -xpf -) ||
    die "could not copy $src to $dir"
  # The repository lives beside the project (GIT_DIR), so the build context holds the same files
  # as in the first act, .git excluded.
  export GIT_DIR=$act/git
  local g=(git --work-tree="$dir" -c user.name=prefectctl-demo -c user.email=demo@localhost)
  if ! { "${g[@]}" init -q && "${g[@]}" add -A && "${g[@]}" commit -qm "guide project"; }; then
    die "git commit in $dir failed"
  fi
  grep -q 'logger.info(f"Hello, {name}!")' "$dir/flows/hello.py" ||
    die "$dir/flows/hello.py has no line 'logger.info(f\"Hello, {name}!\")' to change"
  sed -i "s|logger.info(f\"Hello, {name}!\")|logger.info(f\"$CODELAYER_GREETING\")|" "$dir/flows/hello.py"
  "${g[@]}" commit -qam "hello: a new log line" || die "git commit in $dir failed"
  log "changed flows/hello.py's log line and committed it as $("${g[@]}" rev-parse --short HEAD) in $dir"

  # No Docker: the demo's daemon stopped (when the demo started it), DOCKER_HOST naming a socket
  # that does not exist, and a PATH holding only git (for the project's shell step).
  local stopped=0
  if grep -qx docker "$DEMO/started" 2>/dev/null; then
    log "stopping the demo's Docker daemon (scripts/testenv.sh down docker)"
    "$ROOT/scripts/testenv.sh" down docker >/dev/null || die "scripts/testenv.sh down docker failed"
    stopped=1
  else
    log "the Docker daemon at $DOCKER_HOST was not started by the demo: leaving it running, but prefectctl will not see it"
  fi
  local nobin=$act/bin out=$act/deploy.log rc=0
  mkdir -p "$nobin"
  ln -sf "$(command -v git)" "$nobin/git"
  step "prefectctl deploy --all (DOCKER_HOST=unix://$act/no-docker.sock, PATH=$nobin: no daemon, no docker binary)"
  (cd "$dir" && env PATH="$nobin" DOCKER_HOST="unix://$act/no-docker.sock" PREFECT_IMAGE_NAME="$image" \
    PREFECTCTL_REGISTRY_MIRRORS="http://127.0.0.1:$(read_file "$MIRROR/port")" \
    PREFECTCTL_PREFECT_IMAGE_VERSION="${PREFECTCTL_PREFECT_IMAGE_VERSION:-3.9.1}" \
    PREFECTCTL_PYTHON_VERSION="${PREFECTCTL_PYTHON_VERSION:-3.11}" \
    "$BIN" deploy --all) 2>&1 | tee "$out" >&2 || rc=${PIPESTATUS[0]}
  ((rc == 0)) || die "the code-only prefectctl deploy --all failed (exit $rc, log $out)"
  grep -q "code layer" "$out" || die "the deploy did not append a code layer (see $out)"

  if ((stopped)) && [[ $run_needs_docker == 1 ]]; then
    log "starting the Docker daemon again: the Docker worker runs the flow in a container"
    PREFECTCTL_TESTENV_DOCKERD_ARGS="--registry-mirror=http://127.0.0.1:$(read_file "$MIRROR/port")" \
      "$ROOT/scripts/testenv.sh" up docker >/dev/null || die "scripts/testenv.sh up docker failed"
  fi

  CODELAYER_IMAGE=$("$BIN" deployment inspect hello/arthur -o json |
    "$PREFECTCTL_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["job_variables"]["image"])') ||
    die "prefectctl deployment inspect hello/arthur failed"
  [[ $CODELAYER_IMAGE == "$image:$("${g[@]}" rev-parse --short HEAD)" ]] ||
    die "hello/arthur runs $CODELAYER_IMAGE, not the code-layer image of the new commit"

  unset GIT_DIR
  step "prefectctl deployment run hello/arthur --watch (image $CODELAYER_IMAGE)"
  local runlog=$act/run.log
  rc=0
  "$BIN" deployment run hello/arthur --watch --timeout "$WATCH_TIMEOUT" 2>&1 | tee "$runlog" || rc=${PIPESTATUS[0]}
  ((rc == 0)) || die "the run of hello/arthur on the code-layer image did not complete (exit $rc)"
  local want=${CODELAYER_GREETING//\{name\}/Arthur}
  grep -qF "$want" "$runlog" || die "the run completed but did not log the new line '$want' (see $runlog)"
  # shellcheck disable=SC2034 # read by demo.sh's summary
  CODELAYER_LINE=$want
}
