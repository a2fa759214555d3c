#!/usr/bin/env bash
# Bring up (or reuse) the cluster the tests, Molecule and the demo run against. Idempotent.
#   tests/cluster/up.sh [--nodes N]
# Order: $KUBECONFIG when it answers; else the offline toolkit ($DOK_K8S_TOOLKIT, default ../shared/k8s next to the
# repository) with N nodes (default 3), installing its Debian packages when missing; else kind when kind and docker exist.
# Prints the line to source afterwards: . tests/cluster/env.sh
set -euo pipefail
nodes=3
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    -h|--help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '%s cluster: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

TOOLKIT_PACKAGES="containerd runc containernetworking-plugins iptables openssl iproute2 curl xz-utils"

# shellcheck source=tests/cluster/env.sh
if . "$here/env.sh"; then
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
elif command -v kind >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "creating kind cluster $DOK_KIND_NAME with $nodes nodes"
  cfg=$(mktemp)
  trap 'rm -f "$cfg"' EXIT
  {
    echo "kind: Cluster"
    echo "apiVersion: kind.x-k8s.io/v1alpha4"
    echo "nodes:"
    echo "  - role: control-plane"
    for _ in $(seq 2 "$nodes"); do echo "  - role: worker"; done
  } >"$cfg"
  kind create cluster --name "$DOK_KIND_NAME" --config "$cfg" --wait 120s >&2
  unset KUBECONFIG
  . "$here/env.sh" || { echo "up.sh: the kind cluster did not answer" >&2; exit 1; }
else
  cat >&2 <<MSG
up.sh: no Kubernetes cluster is available. Provide one of:
  1. a running cluster: export KUBECONFIG=/path/to/kubeconfig (checked with: kubectl get --raw /readyz)
  2. the offline toolkit at DOK_K8S_TOOLKIT (now: $DOK_K8S_TOOLKIT, needs root and Debian's containerd)
  3. kind and a running docker daemon (kind create cluster is run for you)
MSG
  exit 1
fi

kubectl wait --for=condition=Ready nodes --all --timeout=120s >/dev/null
log "ready: $DOK_CLUSTER, $(kubectl get nodes --no-headers | wc -l) node(s); use it with: . tests/cluster/env.sh"
