#!/usr/bin/env bash
# Bring up (or reuse) the cluster the tests, Molecule and the demo run against. Idempotent.
#   tests/cluster/up.sh [--nodes N]
# Order: $KUBECONFIG when it answers; else the offline toolkit ($DOK_K8S_TOOLKIT, default ../shared/k8s next to the
# repository) with N nodes (default 3), installing its Debian packages when missing; else kind when the offline kind
# toolkit (../shared/kind) or kind and docker exist. DOK_CLUSTER=kind goes straight to kind (tests/cluster/kind-up.sh,
# cluster $DOK_KIND_NAME, kubeconfig tests/output/kind-$DOK_KIND_NAME.kubeconfig).
# Prints the line to source afterwards: . tests/cluster/env.sh
set -euo pipefail
nodes=3
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    -h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '%s cluster: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

TOOLKIT_PACKAGES="containerd runc containernetworking-plugins iptables openssl iproute2 curl xz-utils"

kind_toolkit=${DOK_KIND_TOOLKIT:-$(cd "$here/../../.." && pwd)/shared/kind}
kind_up() {
  local kubeconfig
  kubeconfig=$("$here/kind-up.sh" --name "${DOK_KIND_NAME:-dok}" --nodes "$nodes") || exit 1
  export KUBECONFIG=$kubeconfig
  if [ -x "$kind_toolkit/kind-up.sh" ]; then kind_path=" PATH=${DOK_KIND_CACHE:-/var/cache/dok-kind}/bin:\$PATH"; fi
  # shellcheck source=tests/cluster/env.sh
  . "$here/env.sh" || { echo "up.sh: the kind cluster did not answer at $KUBECONFIG" >&2; exit 1; }
}

# shellcheck source=tests/cluster/env.sh
if [ "${DOK_CLUSTER:-}" = kind ]; then
  kind_up
elif . "$here/env.sh"; then
  ready=$(kubectl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)
  log "reusing the $DOK_CLUSTER cluster at $KUBECONFIG ($ready Ready node(s))"
  # The API can answer while a controller has exited (the toolkit's controller-manager and scheduler stop when they
  # lose leader election on a saturated host); cluster-up.sh restarts only what is not running.
  if [ "$DOK_CLUSTER" = toolkit ]; then
    log "$ready Ready node(s): running the toolkit's cluster-up.sh to restart anything that stopped"
    "$DOK_K8S_TOOLKIT/cluster-up.sh" --nodes "$nodes" --dir "$DOK_K8S_STATE" >&2
  fi
elif [ -x "$DOK_K8S_TOOLKIT/cluster-up.sh" ]; then
  [ "$(id -u)" = 0 ] || { echo "up.sh: the offline cluster needs root (it runs containerd and kubelets)" >&2; exit 1; }
  missing=""
  for p in $TOOLKIT_PACKAGES; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    log "installing the toolkit's packages:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
  fi
  log "starting the offline cluster with $nodes nodes (state $DOK_K8S_STATE)"
  "$DOK_K8S_TOOLKIT/cluster-up.sh" --nodes "$nodes" --dir "$DOK_K8S_STATE" >&2
  unset KUBECONFIG
  . "$here/env.sh" || { echo "up.sh: the toolkit cluster did not answer after cluster-up.sh" >&2; exit 1; }
elif [ -x "$kind_toolkit/kind-up.sh" ] || { command -v kind >/dev/null 2>&1 && docker info >/dev/null 2>&1; }; then
  kind_up
else
  cat >&2 <<MSG
up.sh: no Kubernetes cluster is available. Provide one of:
  1. a running cluster: export KUBECONFIG=/path/to/kubeconfig (checked with: kubectl get --raw /readyz)
  2. the offline toolkit at DOK_K8S_TOOLKIT (now: $DOK_K8S_TOOLKIT, needs root and Debian's containerd)
  3. kind: the offline kind toolkit at DOK_KIND_TOOLKIT (now: $kind_toolkit), or kind and a running docker daemon
     (tests/cluster/kind-up.sh runs kind create cluster for you)
MSG
  exit 1
fi

kubectl wait --for=condition=Ready nodes --all --timeout=120s >/dev/null
if [ "$DOK_CLUSTER" = kind ]; then
  log "ready: kind, $(kubectl get nodes --no-headers | wc -l) node(s); use it with: export DOK_CLUSTER=kind KUBECONFIG=$KUBECONFIG${kind_path:-}; . tests/cluster/env.sh"
else
  log "ready: $DOK_CLUSTER, $(kubectl get nodes --no-headers | wc -l) node(s); use it with: . tests/cluster/env.sh"
fi
