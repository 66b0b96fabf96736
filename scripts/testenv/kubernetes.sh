# shellcheck shell=bash
# The `kubernetes` part of scripts/testenv.sh (sourced by it, never run): a real single-node
# cluster on this machine, offline and on loopback.
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler and one kubelet, built from the
#   Go module proxy at pinned versions and cached in $CACHE/kubernetes (built once: minutes; then
#   reused: seconds); containerd and runc from Debian, with their own config, root, state and
#   socket under $STATE/kube; PKI, token file, kubeconfigs and component configs under $STATE/kube.
#
# Every pod must run with hostNetwork: true (no pod network, no kube-proxy, no cluster DNS: only
# loopback and this machine's own address carry traffic). A pod reaches the API server at
# https://127.0.0.1:<port>; set KUBERNETES_SERVICE_HOST/PORT in its env (the demo's worker does).
# containerd pulls from loopback registries over plain HTTP.
#
# Uses from testenv.sh: log, die, lock, unlock, spawn (+SPAWNED), alive, stop_pid, free_port,
# read_file, export_line, ensure_apt, unmount_under, random_token, STATE, CACHE.
# See ../../docs/testing.md ("Kubernetes") and the host settings in kubernetes-offline.md.

readonly KUBE_VERSION=v1.36.3
readonly ETCD_VERSION=v3.6.16
# Bump when the build recipe (ldflags, wrapper, binaries) changes: it is part of the cache key.
readonly KUBE_RECIPE=1
readonly KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
readonly KUBE_NODE=prefectctl-testenv
readonly KUBE_PAUSE_IMAGE=prefectctl-testenv/pause:1
# Services get addresses from a documentation range: no private range is ever used here.
readonly KUBE_SERVICE_RANGE=198.51.100.0/24

kube_dir() { echo "$STATE/kube"; }
kube_cache() { echo "$CACHE/kubernetes"; }
kube_bin() { echo "$(kube_cache)/bin-$KUBE_VERSION-etcd-$ETCD_VERSION-r$KUBE_RECIPE"; }

# The cgroup under which kubelet puts every pod (cgroupRoot), one per state directory, so a
# second cluster (the demo's beside a test run's) never shares or removes another's cgroups.
kube_cgroup_root() { echo "/prefectctl-kube-$(printf '%s' "$(kube_dir)" | sha256sum | cut -c1-10)"; }

# The cgroup hierarchies mounted here: every v1 controller, and the v2 one of a hybrid host
# (runc makes a cgroup there too).
kube_cgroup_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts | sort -u; }

# ---------------------------------------------------------------------------------------------
# Binaries: built from the Go module proxy, cached outside the clone

# kube_go: Go with no toolchain download and the module cache writable for the wrapper modules.
kube_go() { GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 nice -n 10 go "$@"; }

# kube_build_kubernetes OUT: the Kubernetes binaries into OUT. k8s.io/kubernetes requires its
# staging modules at v0.0.0 (its own go.mod replaces them with directories that a dependent does
# not get), so a wrapper module requires it and replaces each with the published v0.X.Y.
kube_build_kubernetes() {
  local out=$1 w gomod staging minor ld pkgs=() b
  w=$(kube_cache)/src-kubernetes-$KUBE_VERSION
  rm -rf "$w"
  mkdir -p "$w"
  gomod=$(cd "$w" && kube_go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p') ||
    die "cannot download k8s.io/kubernetes@$KUBE_VERSION from the Go module proxy"
  [[ -s $gomod ]] || die "no go.mod for k8s.io/kubernetes@$KUBE_VERSION"
  staging=${KUBE_VERSION/#v1./v0.}
  {
    printf 'module prefectctl.testenv/kubernetes\n\ngo %s\n\nrequire k8s.io/kubernetes %s\n\n' \
      "$(sed -n 's/^go //p' "$gomod")" "$KUBE_VERSION"
    awk -v v="$staging" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print "replace " $1 " => " $1 " " v}' "$gomod"
  } >"$w/go.mod"
  grep -q '^replace k8s.io/api ' "$w/go.mod" || die "found no staging modules in k8s.io/kubernetes@$KUBE_VERSION's go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for b in "${KUBE_BINARIES[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
    printf ')\n'
  } >"$w/tools.go"
  (cd "$w" && kube_go mod tidy) >"$w/build.log" 2>&1 || { tail -20 "$w/build.log" >&2; die "go mod tidy of the Kubernetes wrapper failed (log: $w/build.log)"; }
  minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  ld="-s -w"
  for b in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $b.gitVersion=$KUBE_VERSION -X $b.gitMajor=1 -X $b.gitMinor=$minor -X $b.gitTreeState=clean"
  done
  for b in "${KUBE_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  # One `go build` for all: the packages they share compile once. -trimpath and -s -w keep the
  # binaries reproducible and ~30% smaller; the go build cache makes a rebuild cheap.
  (cd "$w" && kube_go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}") >>"$w/build.log" 2>&1 ||
    { tail -30 "$w/build.log" >&2; die "building Kubernetes $KUBE_VERSION failed (log: $w/build.log)"; }
  rm -rf "$w"
}

# kube_build_etcd OUT: etcd's own go.mod has replace lines, so `go install` refuses it; a wrapper
# main calls its etcdmain.
kube_build_etcd() {
  local out=$1 w
  w=$(kube_cache)/src-etcd-$ETCD_VERSION
  rm -rf "$w"
  mkdir -p "$w"
  printf 'module prefectctl.testenv/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$w/go.mod"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$w/main.go"
  (cd "$w" && kube_go mod tidy && kube_go build -trimpath -ldflags "-s -w" -o "$out/etcd" .) >"$w/build.log" 2>&1 ||
    { tail -30 "$w/build.log" >&2; die "building etcd $ETCD_VERSION failed (log: $w/build.log)"; }
  rm -rf "$w"
}

# kube_build_pause OUT: the pod sandbox's one process, static: it waits for SIGTERM/SIGINT and
# reaps children. Packed as a docker-archive tar that `ctr images import` reads.
kube_build_pause() {
  local out=$1 w cfg layer_sha cfg_sha
  w=$(kube_cache)/src-pause
  rm -rf "$w"
  mkdir -p "$w/rootfs" "$w/image"
  printf 'module prefectctl.testenv/pause\n\ngo 1.24\n' >"$w/go.mod"
  cat >"$w/main.go" <<'EOF'
// pause holds a pod's namespaces: it blocks until SIGTERM or SIGINT and reaps orphans.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
EOF
  (cd "$w" && kube_go build -trimpath -ldflags "-s -w" -o "$w/rootfs/pause" .) >"$w/build.log" 2>&1 ||
    { tail -20 "$w/build.log" >&2; die "building the pause binary failed (log: $w/build.log)"; }
  tar -C "$w/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$w/layer.tar" pause
  layer_sha=$(sha256sum <"$w/layer.tar" | cut -d' ' -f1)
  cfg=$(printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"prefectctl testenv pause"}]}' \
    "$(go env GOARCH)" "$layer_sha")
  cfg_sha=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  mkdir -p "$w/image/$layer_sha"
  mv "$w/layer.tar" "$w/image/$layer_sha/layer.tar"
  printf '%s' "$cfg" >"$w/image/$cfg_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg_sha" "$KUBE_PAUSE_IMAGE" "$layer_sha" >"$w/image/manifest.json"
  tar -C "$w/image" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out/pause-image.tar" .
  rm -rf "$w"
}

# ensure_kube_binaries: the pinned binaries in $(kube_bin), built once per version.
ensure_kube_binaries() {
  local bin b missing=0 t0 tmp
  bin=$(kube_bin)
  for b in etcd "${KUBE_BINARIES[@]}" pause-image.tar; do [[ -s $bin/$b ]] || missing=1; done
  ((missing)) || return 0
  command -v go >/dev/null || die "Go is needed to build the Kubernetes binaries (apt-get install golang, or the Go the project builds with)"
  lock kubebuild "$CACHE"
  missing=0
  for b in etcd "${KUBE_BINARIES[@]}" pause-image.tar; do [[ -s $bin/$b ]] || missing=1; done
  if ((missing)); then
    t0=$SECONDS
    tmp=$bin.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # Older builds are ~600 MB of dead weight once the pins move.
    find "$(kube_cache)" -maxdepth 1 -name 'bin-*' ! -name "$(basename "$bin")" ! -name "$(basename "$tmp")" -exec rm -rf {} + 2>/dev/null || true
    log "building etcd $ETCD_VERSION from the Go module proxy (once; a minute or two)"
    kube_build_etcd "$tmp"
    log "building Kubernetes $KUBE_VERSION (${KUBE_BINARIES[*]}) from the Go module proxy (once; 5-10 minutes on 2 cores)"
    kube_build_kubernetes "$tmp"
    kube_build_pause "$tmp"
    "$tmp/kubelet" --version 2>/dev/null | grep -qx "Kubernetes $KUBE_VERSION" || die "the built kubelet does not report $KUBE_VERSION"
    rm -rf "$bin"
    mv "$tmp" "$bin"
    log "Kubernetes binaries built in $((SECONDS - t0)) s, cached in $bin"
  fi
  unlock kubebuild
}

# ---------------------------------------------------------------------------------------------
# Configuration: PKI, tokens, kubeconfigs, component configs

# kube_node_ip: this machine's own address (kubelet refuses a loopback node IP; the API server
# reaches the kubelet there for logs and exec).
kube_node_ip() {
  local ip
  ip=$(ip -4 route get 192.0.2.255 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1)
  [[ -n $ip && $ip != 127.* ]] || ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
  [[ -n $ip ]] || die "this machine has no non-loopback IPv4 address for the kubelet's node IP"
  echo "$ip"
}

kube_pki() {
  local k=$1 nodeip=$2 p=$1/pki
  mkdir -p "$p"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" -days 3650 -subj "/CN=prefectctl-testenv-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$p/apiserver.key" -out "$p/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' \
      "$nodeip" "${KUBE_SERVICE_RANGE%.*}.1" >"$p/apiserver.ext"
    openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 3650 \
      -extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
    openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
    openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  ) || die "openssl could not make the cluster's certificates"
  [[ -s $p/apiserver.crt && -s $p/sa.pub ]] || die "openssl made no certificates in $p"
}

# kube_kubeconfig FILE PORT TOKEN USER
kube_kubeconfig() {
  local ca
  ca=$(base64 -w0 <"$(kube_dir)/pki/ca.crt")
  (
    umask 077
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: prefectctl-testenv
  cluster:
    server: https://127.0.0.1:$2
    certificate-authority-data: $ca
users:
- name: $4
  user:
    token: $3
contexts:
- name: prefectctl-testenv
  context:
    cluster: prefectctl-testenv
    user: $4
    namespace: default
current-context: prefectctl-testenv
EOF
  )
}

kube_containerd_config() {
  local k=$1
  cat >"$k/containerd/config.toml" <<EOF
version = 2
root = "$k/containerd/root"
state = "$k/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$k/containerd/containerd.sock"

[ttrpc]
  address = "$k/containerd/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$k/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$KUBE_PAUSE_IMAGE"
  # No CAP_SYS_RESOURCE here: runc may not lower oom_score_adj below ours.
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$k/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$k/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$k/containerd/certs.d"
EOF
  # Pods share the host's network; a loopback-only network is enough for the runtime to report
  # its network ready, and creates no interface or address.
  mkdir -p "$k/cni"
  printf '{"cniVersion": "0.4.0", "name": "prefectctl-loopback", "plugins": [{"type": "loopback"}]}\n' >"$k/cni/10-loopback.conflist"
}

# kube_trust_registry HOST:PORT: containerd pulls from it over plain HTTP (read at each pull, so
# a registry started later can be added while containerd runs).
kube_trust_registry() {
  local d
  d=$(kube_dir)/containerd/certs.d/$1
  mkdir -p "$d"
  printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n' "$1" "$1" >"$d/hosts.toml"
}

kube_kubelet_config() {
  local k=$1 nodeip=$2 port=$3 healthz=$4
  cat >"$k/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $nodeip
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://$k/containerd/containerd.sock
imageServiceEndpoint: unix://$k/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: $(kube_cgroup_root)
failCgroupV1: false
failSwapOn: false
podLogsDir: $k/pods
resolvConf: /etc/resolv.conf
staticPodPath: ""
serializeImagePulls: false
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "2%"
  nodefs.inodesFree: "2%"
  imagefs.available: "2%"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes

# Each component's command line holds a path of its own under $STATE/kube: that is what `alive`
# matches, so no other cluster's process is ever taken for ours.
kube_pattern() {
  local k
  k=$(kube_dir)
  case $1 in
    etcd) echo "--data-dir $k/etcd" ;;
    containerd) echo "--config $k/containerd/config.toml" ;;
    kube-apiserver) echo "--token-auth-file $k/tokens.csv" ;;
    kube-controller-manager) echo "--kubeconfig $k/controller-manager.kubeconfig" ;;
    kube-scheduler) echo "--kubeconfig $k/scheduler.kubeconfig" ;;
    kubelet) echo "--config $k/kubelet.yaml" ;;
  esac
}

readonly KUBE_COMPONENTS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)

kube_alive() { alive "$(read_file "$(kube_dir)/$1.pid")" "$(kube_pattern "$1")"; }

kube_api_code() {
  local k port
  k=$(kube_dir)
  port=$(read_file "$k/apiserver.port")
  [[ -n $port ]] || return 0
  curl -s -o /dev/null -m 3 -w '%{http_code}' --cacert "$k/pki/ca.crt" \
    -H "Authorization: Bearer $(read_file "$k/admin.token")" "https://127.0.0.1:$port/$1" || true
}

kubectl_admin() { "$(kube_bin)/kubectl" --kubeconfig "$(kube_dir)/admin.kubeconfig" "$@"; }

kube_default_sa() { kubectl_admin get serviceaccount default -n default -o name >/dev/null 2>&1; }

kube_node_ready() {
  [[ $(kubectl_admin get node "$KUBE_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

kubernetes_running() {
  local c
  for c in "${KUBE_COMPONENTS[@]}"; do kube_alive "$c" || return 1; done
  [[ $(kube_api_code readyz) == 200 ]] && kube_node_ready
}

# kube_fail MESSAGE: a failed start stops what it started (nothing is left for a later `down`,
# since `up` reports the part as started only on success), then dies.
kube_fail() {
  log "stopping what this start began"
  kube_stop_all
  die "$@"
}

kube_api_ready() { [[ $(kube_api_code readyz) == 200 ]]; }

# kube_start NAME ARGS...: spawns the component, records its PID, fails at once if it exits.
kube_start() {
  local name=$1 k
  shift
  k=$(kube_dir)
  # Reported the moment the first component launches, so a caller records the part even if this
  # start is interrupted; until the cluster is ready, a signal stops what was launched.
  started kubernetes
  pending "$k/$name.log.proc" "$name"
  spawn "$k/$name.log" "$@"
  echo "$SPAWNED" >"$k/$name.pid"
  sleep 0.2
  kube_alive "$name" || { tail -20 "$k/$name.log" >&2; kube_fail "$name exited at start (log: $k/$name.log)"; }
}

# kube_wait WHAT SECONDS CMD...: polls CMD every 0.2 s; fails naming WHAT, with every log's tail.
kube_wait() {
  local what=$1 secs=$2 i c k
  shift 2
  k=$(kube_dir)
  for ((i = 0; i < secs * 5; i++)); do
    "$@" && return 0
    for c in "${KUBE_COMPONENTS[@]}"; do
      if [[ -f $k/$c.pid ]] && ! kube_alive "$c"; then
        tail -20 "$k/$c.log" >&2
        kube_fail "$c exited while waiting for $what (log: $k/$c.log)"
      fi
    done
    sleep 0.2
  done
  for c in "${KUBE_COMPONENTS[@]}"; do [[ -f $k/$c.log ]] && { echo "--- $c" >&2; tail -5 "$k/$c.log" >&2; }; done
  kube_fail "$what not within $secs s (logs in $k)"
}

kube_cgroup_create() {
  local root m
  root=$(kube_cgroup_root)
  while read -r m; do
    [[ -d $m$root ]] && continue
    mkdir -p "$m$root" 2>/dev/null || continue
    # A new cpuset cgroup starts without CPUs or memory nodes; give it its parent's.
    if [[ -f $m$root/cpuset.cpus ]]; then
      cat "$m/cpuset.cpus" >"$m$root/cpuset.cpus" 2>/dev/null || true
      cat "$m/cpuset.mems" >"$m$root/cpuset.mems" 2>/dev/null || true
    fi
  done < <(kube_cgroup_mounts)
}

# kube_cgroup_remove: every cgroup under our cgroupRoot, deepest first (only empty ones can go:
# called once the processes are gone).
kube_cgroup_remove() {
  local root m d
  root=$(kube_cgroup_root)
  while read -r m; do
    [[ -d $m$root ]] || continue
    find "$m$root" -depth -type d 2>/dev/null | while read -r d; do
      rmdir "$d" 2>/dev/null || log "warning: cannot remove cgroup $d"
    done
  done < <(kube_cgroup_mounts)
}

up_kubernetes() {
  ensure_apt containerd runc containernetworking-plugins openssl iproute2
  ensure_kube_binaries
  lock kubernetes "$STATE"
  local k bin nodeip eport pport aport kport hport c port
  k=$(kube_dir)
  if kubernetes_running; then
    kube_trust_loopback_registries
    unlock kubernetes
    return 0
  fi
  ((${#k} + 40 <= 107)) || die "PREFECTCTL_TESTENV_DIR is too long for containerd's socket paths: $k"
  # What an earlier, interrupted run left: its processes, mounts and cgroups.
  kube_stop_all
  bin=$(kube_bin)
  nodeip=$(kube_node_ip)
  rm -rf "$k"
  mkdir -p "$k/containerd/certs.d" "$k/pods" "$k/kubelet"
  kube_pki "$k" "$nodeip"
  for c in admin kubelet controller-manager scheduler; do (umask 077 && random_token 32 >"$k/$c.token"); done
  (
    umask 077
    {
      echo "$(read_file "$k/admin.token"),prefectctl-admin,prefectctl-admin,system:masters"
      echo "$(read_file "$k/kubelet.token"),system:node:$KUBE_NODE,system:node:$KUBE_NODE,system:nodes"
      echo "$(read_file "$k/controller-manager.token"),system:kube-controller-manager,system:kube-controller-manager"
      echo "$(read_file "$k/scheduler.token"),system:kube-scheduler,system:kube-scheduler"
    } >"$k/tokens.csv"
  )
  eport=$(free_port)
  pport=$(free_port)
  aport=$(free_port)
  kport=$(free_port)
  hport=$(free_port)
  echo "$aport" >"$k/apiserver.port"
  kube_kubeconfig "$k/admin.kubeconfig" "$aport" "$(read_file "$k/admin.token")" prefectctl-admin
  kube_kubeconfig "$k/kubelet.kubeconfig" "$aport" "$(read_file "$k/kubelet.token")" "system:node:$KUBE_NODE"
  kube_kubeconfig "$k/controller-manager.kubeconfig" "$aport" "$(read_file "$k/controller-manager.token")" system:kube-controller-manager
  kube_kubeconfig "$k/scheduler.kubeconfig" "$aport" "$(read_file "$k/scheduler.token")" system:kube-scheduler
  kube_containerd_config "$k"
  kube_kubelet_config "$k" "$nodeip" "$kport" "$hport"
  kube_trust_loopback_registries
  kube_cgroup_create

  local t0=$SECONDS
  log "starting Kubernetes $KUBE_VERSION (etcd 127.0.0.1:$eport, API https://127.0.0.1:$aport, kubelet $nodeip:$kport)"
  kube_start etcd "$bin/etcd" --name prefectctl --data-dir "$k/etcd" \
    --listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "prefectctl=http://127.0.0.1:$pport" --unsafe-no-fsync --log-level warn
  kube_start containerd containerd --config "$k/containerd/config.toml"
  kube_wait "containerd's socket" 30 test -S "$k/containerd/containerd.sock"
  ctr -a "$k/containerd/containerd.sock" -n k8s.io images import "$bin/pause-image.tar" >"$k/pause-import.log" 2>&1 ||
    { cat "$k/pause-import.log" >&2; kube_fail "importing the pause image into containerd failed"; }
  kube_wait "etcd" 30 curl -sf -o /dev/null -m 2 "http://127.0.0.1:$eport/health"
  kube_start kube-apiserver "$bin/kube-apiserver" --token-auth-file "$k/tokens.csv" \
    --etcd-servers "http://127.0.0.1:$eport" --bind-address 127.0.0.1 --secure-port "$aport" \
    --advertise-address "$nodeip" --tls-cert-file "$k/pki/apiserver.crt" --tls-private-key-file "$k/pki/apiserver.key" \
    --client-ca-file "$k/pki/ca.crt" --authorization-mode Node,RBAC \
    --service-account-key-file "$k/pki/sa.pub" --service-account-signing-key-file "$k/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$KUBE_SERVICE_RANGE" \
    --kubelet-preferred-address-types InternalIP --allow-privileged=true --profiling=false \
    --endpoint-reconciler-type none
  kube_wait "the API server to be ready" 120 kube_api_ready
  kube_start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$k/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$k/pki/sa.key" --root-ca-file "$k/pki/ca.crt" \
    --profiling=false
  kube_start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$k/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false
  kube_start kubelet "$bin/kubelet" --config "$k/kubelet.yaml" --kubeconfig "$k/kubelet.kubeconfig" \
    --root-dir "$k/kubelet" --hostname-override "$KUBE_NODE" --node-ip "$nodeip"
  kube_wait "the node $KUBE_NODE to be Ready" 120 kube_node_ready
  # Pods need the default ServiceAccount (the controller-manager makes it) before they can be created.
  kube_wait "the default ServiceAccount" 60 kube_default_sa
  log "Kubernetes ready in $((SECONDS - t0)) s; export KUBECONFIG=$k/admin.kubeconfig"
  for c in "${KUBE_COMPONENTS[@]}"; do ready "$k/$c.log.proc"; done
  unlock kubernetes
}

# The test environment's plain registry and the demo's (any loopback registry named in
# PREFECTCTL_KUBE_TRUST, space-separated) are pulled from over plain HTTP.
kube_trust_loopback_registries() {
  local port r
  port=$(read_file "$STATE/registry/plain/port")
  [[ -n $port ]] && kube_trust_registry "127.0.0.1:$port"
  for r in ${PREFECTCTL_KUBE_TRUST:-}; do kube_trust_registry "$r"; done
  return 0
}

# kube_kill_tasks: every container containerd runs for us, killed and deleted, so the shims exit
# before containerd does (a shim outlives a stopped containerd by design).
kube_kill_tasks() {
  local k sock id
  k=$(kube_dir)
  sock=$k/containerd/containerd.sock
  kube_alive containerd && [[ -S $sock ]] || return 0
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    timeout 20 ctr -a "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
  done
}

# kube_stop_shims: shims still serving our containerd (their command line names its socket).
kube_stop_shims() {
  local sock pid
  sock=$(kube_dir)/containerd/containerd.sock
  for pid in $(pgrep -f "containerd-shim.* -address $sock" 2>/dev/null || true); do
    stop_pid "$pid" "-address $sock" "a containerd shim" 10
  done
}

kube_stop_all() {
  local k c f
  k=$(kube_dir)
  [[ -d $k ]] || return 0
  # Order matters: kubelet first (nothing restarts pods), containerd after its tasks, and etcd
  # last (the API server hangs on shutdown without it).
  for c in kubelet kube-scheduler kube-controller-manager; do
    stop_pid "$(read_file "$k/$c.pid")" "$(kube_pattern "$c")" "$c" 20
  done
  kube_kill_tasks
  stop_pid "$(read_file "$k/containerd.pid")" "$(kube_pattern containerd)" containerd 20
  kube_stop_shims
  for c in kube-apiserver etcd; do
    stop_pid "$(read_file "$k/$c.pid")" "$(kube_pattern "$c")" "$c" 20
  done
  for c in "${KUBE_COMPONENTS[@]}"; do rm -f "$k/$c.pid"; done
  # Container rootfs, sandbox shm and volume tmpfs mounts all sit under $k.
  unmount_under "$k"
  kube_cgroup_remove
  # containerd's ttrpc socket and kubelet's pod-resources socket outlive their processes.
  [[ -d $k ]] && find "$k" -type s -delete 2>/dev/null
  # kubelet's one fixed path here: /var/log/containers, symlinks into our podLogsDir.
  if [[ -d /var/log/containers ]]; then
    for f in /var/log/containers/*.log; do
      [[ -L $f && $(readlink "$f") == "$k"/* ]] && rm -f "$f"
    done
    rmdir /var/log/containers 2>/dev/null || true
  fi
  return 0
}

down_kubernetes() {
  lock kubernetes "$STATE"
  kube_stop_all
  unlock kubernetes
}

env_kubernetes() {
  local k
  k=$(kube_dir)
  kubernetes_running || return 0
  export_line KUBECONFIG "$k/admin.kubeconfig"
  export_line PREFECTCTL_KUBECTL "$(kube_bin)/kubectl"
  export_line PREFECTCTL_KUBE_API "https://127.0.0.1:$(read_file "$k/apiserver.port")"
  export_line PREFECTCTL_CONTAINERD "$k/containerd/containerd.sock"
}

status_kubernetes() {
  if kubernetes_running; then
    echo "kubernetes: running ($KUBE_VERSION, API https://127.0.0.1:$(read_file "$(kube_dir)/apiserver.port"), node $KUBE_NODE Ready; KUBECONFIG=$(kube_dir)/admin.kubeconfig)"
  else
    echo "kubernetes: stopped"
    return 1
  fi
}
