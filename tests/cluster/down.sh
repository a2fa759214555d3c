#!/usr/bin/env bash
# Stop the cluster that tests/cluster/up.sh started. Idempotent.
#   tests/cluster/down.sh [--purge]
# toolkit: the toolkit's cluster-down.sh (--purge also wipes its state dir); kind (also DOK_CLUSTER=kind): deletes the
# kind cluster with tests/cluster/kind-down.sh;
# a cluster given through $KUBECONFIG is not ours and is left running.
set -euo pipefail
purge=""
case "${1:-}" in
  --purge) purge=--purge ;;
  "") ;;
  *) echo "down.sh: unknown argument $1" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
if [ "${DOK_CLUSTER:-}" = kind ]; then
  exec "$here/kind-down.sh" --name "${DOK_KIND_NAME:-dok}"
fi
# shellcheck source=tests/cluster/env.sh
if ! . "$here/env.sh"; then
  echo "down.sh: no cluster answers; nothing to stop" >&2
  exit 0
fi
case "$DOK_CLUSTER" in
  toolkit) "$DOK_K8S_TOOLKIT/cluster-down.sh" --dir "$DOK_K8S_STATE" $purge ;;
  kind) "$here/kind-down.sh" --name "$DOK_KIND_NAME" ;;
  external) echo "down.sh: $KUBECONFIG is a cluster this project did not start; leaving it running" >&2 ;;
esac
