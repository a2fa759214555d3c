#!/usr/bin/env bash
# Bring up (or reuse) a kind cluster and load test images into it. Idempotent.
#   tests/cluster/kind-up.sh [--name NAME] [--nodes N] [--image TARGET]...
# With the offline kind toolkit (DOK_KIND_TOOLKIT, default ../shared/kind next to the repository; needs root), the
# toolkit's kind-up.sh brings the cluster up: docker from Debian, a node image built on this machine, nothing pulled,
# N is 1 or 3. Otherwise the kind and docker on PATH do, with two knobs for machines behind a registry mirror:
#   DOK_KIND_NODE_IMAGE  the node image (kind create cluster --image), e.g. a mirror's copy of kindest/node
#   DOK_KIND_CONFIG      a file of extra kind Cluster settings (e.g. containerdConfigPatches naming the mirror),
#                        added to the generated config; it must not set kind, apiVersion or nodes
# --image TARGET takes a tests/images build target from the image cache (building it first when missing) and loads it
# with kind load image-archive, unless every node already holds that exact image. The cluster's kubeconfig goes to
# tests/output/kind-NAME.kubeconfig (no other kubeconfig is written); its path is printed.
set -euo pipefail
name=${DOK_KIND_NAME:-dok}
nodes=1
images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --image) images+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "kind-up.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# shellcheck source=tests/cluster/kind-lib.sh
. "$(dirname "$0")/kind-lib.sh"
log() { printf '%s kind: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'kind-up.sh: %s\n' "$*" >&2; exit 1; }

case "$name" in
  ''|*[!a-z0-9-]*) die "--name must be a DNS label of lower-case letters, digits and '-', got '$name'" ;;
esac
case "$nodes" in
  ''|*[!0-9]*|0) die "--nodes must be a whole number of at least 1, got '$nodes'" ;;
esac
mkdir -p "$(dirname "$kubeconfig")"

if [ -x "$toolkit/kind-up.sh" ]; then
  [ "$(id -u)" = 0 ] || die "the offline kind toolkit at $toolkit needs root (docker, debootstrap); run as root, or set DOK_KIND_TOOLKIT=none to use the kind on PATH"
  case "$nodes" in 1|3) ;; *) die "the offline kind toolkit makes 1 or 3 nodes, not $nodes" ;; esac
  if [ -n "${DOK_KIND_NODE_IMAGE:-}${DOK_KIND_CONFIG:-}" ]; then
    log "DOK_KIND_NODE_IMAGE and DOK_KIND_CONFIG apply to the kind on PATH only; the offline toolkit builds its own node image (DOK_KIND_TOOLKIT=none uses the kind on PATH)"
  fi
  log "offline kind toolkit $toolkit: cluster $name with $nodes node(s)"
  # kind writes the new context into $KUBECONFIG: point it at our file so that no other kubeconfig changes.
  KUBECONFIG=$kubeconfig "$toolkit/kind-up.sh" --name "$name" --nodes "$nodes" --cache "$cache" >/dev/null
  export PATH=$cache/bin:$PATH
  path_hint=" PATH=$cache/bin:\$PATH"
else
  command -v kind >/dev/null 2>&1 || die "kind is not on PATH and no offline kind toolkit is at $toolkit; install kind (https://kind.sigs.k8s.io) and docker"
  docker info >/dev/null 2>&1 || die "docker does not answer (docker info); start the docker daemon, or run as a user allowed to use it"
  if kind get clusters 2>/dev/null | grep -qx "$name"; then
    log "reusing kind cluster $name"
  else
    cfg=$(mktemp)
    trap 'rm -f "$cfg"' EXIT
    {
      echo "kind: Cluster"
      echo "apiVersion: kind.x-k8s.io/v1alpha4"
      echo "nodes:"
      echo "  - role: control-plane"
      for _ in $(seq 2 "$nodes"); do echo "  - role: worker"; done
    } >"$cfg"
    if [ -n "${DOK_KIND_CONFIG:-}" ]; then
      [ -f "$DOK_KIND_CONFIG" ] || die "DOK_KIND_CONFIG names $DOK_KIND_CONFIG, which is not a file"
      if grep -Eq '^(kind|apiVersion|nodes):' "$DOK_KIND_CONFIG"; then
        die "DOK_KIND_CONFIG ($DOK_KIND_CONFIG) sets kind, apiVersion or nodes, which this script writes; keep only the extra settings (e.g. containerdConfigPatches)"
      fi
      cat "$DOK_KIND_CONFIG" >>"$cfg"
    fi
    log "creating kind cluster $name with $nodes node(s)${DOK_KIND_NODE_IMAGE:+ from $DOK_KIND_NODE_IMAGE}"
    image_args=()
    [ -z "${DOK_KIND_NODE_IMAGE:-}" ] || image_args=(--image "$DOK_KIND_NODE_IMAGE")
    kind create cluster --name "$name" --config "$cfg" --kubeconfig "$kubeconfig" --wait 180s \
      "${image_args[@]+"${image_args[@]}"}" >&2
  fi
fi
kind get kubeconfig --name "$name" >"$kubeconfig.new"
chmod 0600 "$kubeconfig.new"
mv "$kubeconfig.new" "$kubeconfig"

for image_target in "${images[@]+"${images[@]}"}"; do
  # shellcheck source=tests/images/lib.sh
  tar=$(. "$repo/tests/images/lib.sh"; dok_build_image "$image_target") || die "could not build the image $image_target (output above)"
  # The archive names its image and config; a node whose image of that name has the same config has it already.
  read -r ref config < <(tar -xOf "$tar" manifest.json | python3 -c \
    'import json, sys; m = json.load(sys.stdin)[0]; print(m["RepoTags"][0], m["Config"].split(".")[0])')
  missing=0
  for node in $(kind get nodes --name "$name"); do
    # shellcheck disable=SC2016 # expanded by the node's shell
    docker exec "$node" sh -c 'm=$(ctr -n k8s.io images ls "name==$1" | awk "NR == 2 {print \$3}")
      [ -n "$m" ] && ctr -n k8s.io content get "$m"' sh "$ref" 2>/dev/null | grep -q "sha256:$config" || missing=1
  done
  if [ "$missing" = 0 ]; then
    log "$ref already on every node of $name"
  else
    log "loading $ref ($tar)"
    kind load image-archive --name "$name" "$tar" >&2
  fi
done
log "ready: export KUBECONFIG=$kubeconfig${path_hint:-}"
echo "$kubeconfig"
