# shellcheck shell=bash
# Source this file to point kubectl, ansible and the tests at the project's cluster (started by tests/cluster/up.sh):
#   . tests/cluster/env.sh
# Exports KUBECONFIG, PATH (kubectl), DOK_CLUSTER (external | toolkit | kind), DOK_K8S_TOOLKIT, DOK_K8S_STATE,
# ANSIBLE_COLLECTIONS_PATH. Starts nothing. Returns non-zero when no cluster answers.

DOK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOK_K8S_TOOLKIT=${DOK_K8S_TOOLKIT:-$(cd "$DOK_REPO/.." && pwd)/shared/k8s}
DOK_K8S_STATE=${DOK_K8S_STATE:-/var/lib/dokc}
DOK_KIND_NAME=${DOK_KIND_NAME:-dok}
export DOK_REPO DOK_K8S_TOOLKIT DOK_K8S_STATE DOK_KIND_NAME

if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ] && [ -d "$DOK_REPO/.collections" ]; then
  export ANSIBLE_COLLECTIONS_PATH="$DOK_REPO/.collections"
fi
if [ -x "$DOK_REPO/.venv/bin/ansible-playbook" ]; then
  case ":$PATH:" in *":$DOK_REPO/.venv/bin:"*) ;; *) PATH="$DOK_REPO/.venv/bin:$PATH" ;; esac
fi
if [ -f "$DOK_K8S_STATE/bin-dir" ]; then
  _dok_bin=$(cat "$DOK_K8S_STATE/bin-dir")
  case ":$PATH:" in *":$_dok_bin:"*) ;; *) PATH="$PATH:$_dok_bin" ;; esac
  unset _dok_bin
fi
export PATH

dok_cluster_answers() {
  command -v kubectl >/dev/null 2>&1 || return 1
  KUBECONFIG=$1 timeout 10 kubectl get --raw /readyz >/dev/null 2>&1
}

dok_cluster_detect() {
  if [ -n "${KUBECONFIG:-}" ] && dok_cluster_answers "$KUBECONFIG"; then
    if [ "$(readlink -f "$KUBECONFIG")" = "$(readlink -f "$DOK_K8S_STATE/admin.kubeconfig" 2>/dev/null)" ]; then
      DOK_CLUSTER=toolkit
    elif [ "$(kubectl config current-context 2>/dev/null)" = "kind-$DOK_KIND_NAME" ]; then
      DOK_CLUSTER=kind
    else
      DOK_CLUSTER=external
    fi
  elif [ -f "$DOK_K8S_STATE/admin.kubeconfig" ] && dok_cluster_answers "$DOK_K8S_STATE/admin.kubeconfig"; then
    KUBECONFIG=$DOK_K8S_STATE/admin.kubeconfig
    DOK_CLUSTER=toolkit
  elif command -v kind >/dev/null 2>&1 && kind get clusters 2>/dev/null | grep -qx "$DOK_KIND_NAME"; then
    KUBECONFIG=$DOK_REPO/tests/output/kind-$DOK_KIND_NAME.kubeconfig
    mkdir -p "$(dirname "$KUBECONFIG")"
    kind get kubeconfig --name "$DOK_KIND_NAME" >"$KUBECONFIG" && dok_cluster_answers "$KUBECONFIG" || return 1
    DOK_CLUSTER=kind
  else
    return 1
  fi
  export KUBECONFIG DOK_CLUSTER
}

dok_cluster_detect
