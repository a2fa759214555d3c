#!/usr/bin/env bash
# Build the test images from Debian packages and optionally load them into the offline cluster.
#   tests/images/build.sh [--load] [--list] TARGET... | all
# TARGET is the name of a tests/images/<dir>/<TARGET>.conf file (mariadb-10.11, mariadb-11.8, wordpress, ...).
# Tarballs are cached in $DOK_IMAGE_CACHE (default /var/cache/dok-images) under a hash of their inputs.
set -euo pipefail
# shellcheck source=tests/images/lib.sh
. "$(dirname "$0")/lib.sh"

load=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --load) load=1 ;;
    --list) dok_image_targets | awk '{print $1}'; exit 0 ;;
    -h|--help) sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 0 ;;
    all) while read -r t _; do targets+=("$t"); done < <(dok_image_targets) ;;
    -*) dok_die "unknown option $arg" ;;
    *) targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || dok_die "usage: $0 [--load] TARGET...|all (targets: $(dok_image_targets | awk '{print $1}' | tr '\n' ' '))"

for t in "${targets[@]}"; do
  start=$SECONDS
  tar=$(dok_build_image "$t")
  if [ "$load" = 1 ]; then dok_load_image "$t" "$tar"; fi
  dok_log "$t: done in $((SECONDS - start)) s"
done
