#!/usr/bin/env bash
# Delete a kind cluster that tests/cluster/kind-up.sh brought up, and its kubeconfig. Idempotent.
#   tests/cluster/kind-down.sh [--name NAME] [--stop-docker]
# With the offline kind toolkit (DOK_KIND_TOOLKIT, default ../shared/kind) the toolkit's kind-down.sh deletes it;
# --stop-docker then also stops the docker daemon the toolkit started (docker stays installed). Otherwise the kind
# on PATH deletes it and docker is left alone.
set -euo pipefail
name=${DOK_KIND_NAME:-dok}
stop_docker=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --stop-docker) stop_docker=(--stop-docker); shift ;;
    -h|--help) sed -n '2,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "kind-down.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# shellcheck source=tests/cluster/kind-lib.sh
. "$(dirname "$0")/kind-lib.sh"

if [ -x "$toolkit/kind-down.sh" ]; then
  KUBECONFIG=$kubeconfig "$toolkit/kind-down.sh" --name "$name" --cache "$cache" "${stop_docker[@]+"${stop_docker[@]}"}"
elif command -v kind >/dev/null 2>&1; then
  if kind get clusters 2>/dev/null | grep -qx "$name"; then
    KUBECONFIG=$kubeconfig kind delete cluster --name "$name"
  else
    echo "kind-down.sh: no kind cluster named $name; nothing to delete" >&2
  fi
else
  echo "kind-down.sh: kind is not on PATH; nothing to delete" >&2
fi
rm -f "$kubeconfig"
