# shellcheck shell=bash
# The Kubernetes half of `make demo` (sourced by scripts/demo.sh, never run): the guide's
# Kubernetes work pool, a Prefect Kubernetes worker running in the cluster, and reading back the
# Jobs it created. Uses demo.sh's step, log, die, testenv_up, POOL, BIN, DEMO, ROOT and
# WATCH_TIMEOUT, the docker CLI (DOCKER_HOST), and the variables ensure_services exports.
#
#   kube_up          cluster (scripts/testenv.sh up kubernetes), worker image, pool, worker
#   kube_run_cpu     hello/default with --job-variable cpu_request=250m, then the Job's image/CPU
#   kube_status      what runs in the cluster
#   kube_worker_log  the worker's log (for failures)

KUBE_NS=prefect                         # the worker and the flow-run Jobs live here
KUBE_WORKER=prefect-worker              # Deployment, ServiceAccount, Role and RoleBinding name
KUBE_WORKER_NAME=prefect-worker-demo    # the worker's name on the Prefect server
KUBE_CPU_DEFAULT=500m                   # the guide's cpu_request default

kubectl_demo() { "$PREFECTCTL_KUBECTL" "$@"; }

kube_up() {
  step "Kubernetes: etcd, API server, controller-manager, scheduler, kubelet, containerd (scripts/testenv.sh up kubernetes)"
  log "a first run builds the Kubernetes binaries from the Go module proxy (5-10 minutes, then cached)"
  testenv_up kubernetes
  eval "$("$ROOT/scripts/testenv.sh" env)"
  local v
  for v in KUBECONFIG PREFECTCTL_KUBECTL PREFECTCTL_KUBE_API; do
    [[ -n ${!v:-} ]] || die "scripts/testenv.sh env gave no $v: the cluster is not running ('scripts/testenv.sh status kubernetes')"
  done
  export KUBECONFIG
  kubectl_demo get nodes >&2
  kube_worker_image
  kube_pool
  kube_worker
}

# The worker's image: the local base image, which carries prefect-kubernetes (the official
# image plus `pip install prefect-kubernetes`, what the Helm chart's image is), pushed to the
# loopback registry so that containerd pulls it as a cluster pulls from any registry.
kube_worker_image() {
  KUBE_WORKER_IMAGE=$PREFECTCTL_REGISTRY/prefect-worker:${PREFECTCTL_BASE_IMAGE##*:}
  local v
  v=$(docker run --rm --network none "$PREFECTCTL_BASE_IMAGE" python -c 'from importlib.metadata import version; print(version("prefect-kubernetes"))' 2>/dev/null) ||
    die "$PREFECTCTL_BASE_IMAGE has no prefect-kubernetes for the worker"
  log "worker image $KUBE_WORKER_IMAGE (prefect-kubernetes $v)"
  if ! { docker tag "$PREFECTCTL_BASE_IMAGE" "$KUBE_WORKER_IMAGE" && docker push -q "$KUBE_WORKER_IMAGE" >/dev/null; }; then
    die "could not push the worker image to $PREFECTCTL_REGISTRY"
  fi
}

# The guide's pool: prefect-kubernetes' own default base job template (from the package the
# worker runs) with the guide's cpu_request and what this machine needs (kube-guide-pool.py).
kube_pool() {
  step "work pool '$POOL' (type kubernetes, prefect-kubernetes' default template + cpu_request)"
  local tmpl=$DEMO/base-job-template.json out
  docker run --rm -i --network none "$PREFECTCTL_BASE_IMAGE" python - "$KUBE_CPU_DEFAULT" "$PREFECT_API_URL" "$KUBE_NS" \
    <"$ROOT/scripts/lib/kube-guide-pool.py" >"$tmpl" ||
    die "could not read prefect-kubernetes' default base job template from $PREFECTCTL_BASE_IMAGE"
  out=$("$PREFECTCTL_PREFECT" --no-prompt work-pool create "$POOL" --type kubernetes --base-job-template "$tmpl" --overwrite 2>&1) ||
    die "prefect work-pool create $POOL failed: $out"
  log "work pool '$POOL' ready (template: $tmpl)"
}

# kube_worker_manifest: scripts/lib/kube-worker.yaml with its ${NAME}s filled in.
kube_worker_manifest() {
  NAMESPACE=$KUBE_NS WORKER_IMAGE=$KUBE_WORKER_IMAGE POOL=$POOL WORKER_NAME=$KUBE_WORKER_NAME \
    KUBE_API_PORT=${PREFECTCTL_KUBE_API##*:} PREFECT_API_URL=$PREFECT_API_URL \
    python3 -c 'import os, string, sys; sys.stdout.write(string.Template(open(sys.argv[1]).read()).substitute(os.environ))' \
    "$ROOT/scripts/lib/kube-worker.yaml"
}

kube_worker() {
  step "Prefect Kubernetes worker in the cluster (namespace $KUBE_NS, Deployment $KUBE_WORKER)"
  kube_worker_manifest >"$DEMO/worker.yaml"
  kubectl_demo apply -f "$DEMO/worker.yaml" >&2 || die "kubectl apply of the worker ($DEMO/worker.yaml) failed"
  if ! kubectl_demo -n "$KUBE_NS" rollout status "deployment/$KUBE_WORKER" --timeout=180s >&2; then
    kubectl_demo -n "$KUBE_NS" get pods -o wide >&2 || true
    kubectl_demo -n "$KUBE_NS" describe pods -l app.kubernetes.io/name=prefect-worker 2>&1 | tail -30 >&2 || true
    die "the worker Deployment did not become available"
  fi
  local pod i
  pod=$(kubectl_demo -n "$KUBE_NS" get pods -l app.kubernetes.io/name=prefect-worker --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
  log "worker pod $pod; waiting until it polls the pool"
  for ((i = 0; i < 600; i++)); do
    if kubectl_demo -n "$KUBE_NS" logs "$pod" 2>/dev/null | grep -q "started!"; then
      log "worker polling"
      echo "$pod" >"$DEMO/worker.pod"
      return
    fi
    sleep 0.2
  done
  kubectl_demo -n "$KUBE_NS" logs "$pod" 2>&1 | tail -20 >&2
  die "the worker in pod $pod did not start within 120 s"
}

kube_worker_log() { kubectl_demo -n "$KUBE_NS" logs "deployment/$KUBE_WORKER" --tail=40 2>&1 || true; }

# kube_job_of RUN_ID: "image cpu_request job_name" of the Job the worker created for the run.
kube_job_of() {
  kubectl_demo -n "$KUBE_NS" get jobs -l "prefect.io/flow-run-id=$1" \
    -o jsonpath='{.items[0].spec.template.spec.containers[0].image} {.items[0].spec.template.spec.containers[0].resources.requests.cpu} {.items[0].metadata.name}'
}

# kube_run_cpu: the guide's last step, a run that asks for less CPU; the Job is read back from
# the Kubernetes API.
kube_run_cpu() {
  step "prefectctl deployment run hello/default --job-variable cpu_request=250m --watch"
  local out rc=0 id job
  out=$("$BIN" deployment run hello/default --job-variable cpu_request=250m --watch --timeout "$WATCH_TIMEOUT" -o json) || rc=$?
  if ((rc != 0)); then
    kube_worker_log >&2
    die "the run of hello/default with cpu_request=250m did not complete (exit $rc)"
  fi
  id=$("$PREFECTCTL_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["flow_run"]["id"])' <<<"$out")
  job=$(kube_job_of "$id") || die "no Job for flow run $id in namespace $KUBE_NS"
  read -r KUBE_JOB_IMAGE KUBE_JOB_CPU KUBE_JOB_NAME <<<"$job"
  [[ $KUBE_JOB_CPU == 250m ]] || die "the Job $KUBE_JOB_NAME asks for CPU '$KUBE_JOB_CPU', not 250m"
  log "Job $KUBE_JOB_NAME: image $KUBE_JOB_IMAGE, CPU request $KUBE_JOB_CPU (read from the Kubernetes API)"
}

kube_status() {
  [[ -n ${KUBECONFIG:-} && -x ${PREFECTCTL_KUBECTL:-} ]] || return 0
  kubectl_demo get nodes 2>/dev/null || return 0
  kubectl_demo -n "$KUBE_NS" get deployments,pods,jobs 2>/dev/null || true
}
