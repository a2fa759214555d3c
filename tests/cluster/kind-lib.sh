# Sourced by kind-up.sh and kind-down.sh after their arguments are read: where the kind toolkit, its cache and the
# kubeconfig of cluster $name are.
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this file
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
toolkit=${DOK_KIND_TOOLKIT:-$(cd "$repo/.." && pwd)/shared/kind}
cache=${DOK_KIND_CACHE:-/var/cache/dok-kind}
kubeconfig=$repo/tests/output/kind-${name:?}.kubeconfig
