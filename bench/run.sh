#!/usr/bin/env bash
# Run the benchmarks side by side (ours vs baseline) and print one table; `make bench` runs this.
#   bench/run.sh [--quick] [-n N] [--out FILE] [PAIR...]
# PAIR: failover node_status local_pv scale rolling_upgrade backup replace_node (default: all, in that order).
# -n N: repetitions per side (default 5; the Cassandra upgrade runs once unless -n is given); --quick: N=1, smaller
# local_pv count and fake node sizes, for a smoke run. The table is also written as JSON to bench/results/<UTC time>.json
# (or --out), each pair's raw samples next to it (<name>.parts/), and pictures next to it (pictures.py): <name>.failover.png
# (probe timeline) and <name>.growth.png (scale pair). Each pair cleans up what it created (names start with
# dok-bench-). Never part of the tests; nothing here asserts a duration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
py=$repo/.venv/bin/python
n="" quick=0 out="" pairs=()
all_pairs=(failover node_status local_pv scale rolling_upgrade backup replace_node)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    -n) n=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
    *)
      case " ${all_pairs[*]} " in *" $1 "*) pairs+=("$1") ;; *)
        echo "bench/run.sh: unknown pair $1 (pairs: ${all_pairs[*]})" >&2; exit 2 ;; esac ;;
  esac
  shift
done
[ ${#pairs[@]} -gt 0 ] || pairs=("${all_pairs[@]}")
[ -x "$py" ] || { echo "bench/run.sh: $py missing; run 'make setup' first" >&2; exit 1; }
if [ "$quick" = 1 ]; then n=${n:-1}; fi
log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

"$repo/tests/cluster/up.sh"
# shellcheck source=tests/cluster/env.sh
. "$repo/tests/cluster/env.sh"
images=()
for p in "${pairs[@]}"; do
  case "$p" in
    failover|node_status|backup) images+=(mariadb-11.8) ;;
    scale) images+=(cockroach-double-v23.2.4) ;;
    replace_node) images+=(cockroach-double-v23.1.11) ;;
    rolling_upgrade) images+=(cassandra-5.0.8 cassandra-5.0.9) ;;
  esac
done
if [ ${#images[@]} -gt 0 ]; then
  # shellcheck disable=SC2207 # image target names have no spaces
  images=($(printf '%s\n' "${images[@]}" | sort -u))
  "$repo/tests/images/build.sh" --load "${images[@]}"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$here/results"
out=$(realpath -m "${out:-$here/results/$stamp.json}")
parts=${out%.json}.parts
mkdir -p "$parts"
cd "$here"
status=0
for p in "${pairs[@]}"; do
  args=(--out "$parts/$p.json")
  case "$p" in
    local_pv) [ "$quick" = 1 ] && args+=(--count 30) ;;
    scale) [ "$quick" = 1 ] && args+=(--sizes 10) ;;
    backup) [ "$quick" = 1 ] && args+=(--rows 20000) ;;
    rolling_upgrade) args+=(--status-out "$parts/node_status_cassandra.json" --status-n "${n:-5}") ;;
  esac
  if [ -n "$n" ]; then args+=(--n "$n"); fi
  log "$p: started (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if "$py" "$here/$p.py" "${args[@]}" >"$parts/$p.stdout"; then
    log "$p: done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  else
    log "$p: FAILED (its measurements so far are kept)"
    status=1
  fi
done

"$py" - "$parts/meta.json" "$stamp" "${pairs[*]}" "${n:-default}" <<'PY'
import json, os, platform, subprocess, sys
path, stamp, pairs, n = sys.argv[1:5]
def out(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""
meta = {"started_utc": stamp, "pairs": pairs.split(), "n": n, "cpus": os.cpu_count(),
        "load_average_at_end": open("/proc/loadavg").read().split()[:3], "kernel": platform.release(),
        "kubernetes": out("kubectl", "version", "-o", "json"), "nodes": out("kubectl", "get", "nodes", "--no-headers"),
        "git_commit": out("git", "rev-parse", "HEAD")}
with open(path, "w") as f:
    json.dump(meta, f)
PY
parts_list=()
for p in "${pairs[@]}"; do
  [ -f "$parts/$p.json" ] && parts_list+=("$parts/$p.json")
  if [ "$p" = rolling_upgrade ] && [ -f "$parts/node_status_cassandra.json" ]; then
    parts_list+=("$parts/node_status_cassandra.json")
  fi
done
"$py" "$here/report.py" --json "$out" --meta "$parts/meta.json" "${parts_list[@]}"
if "$py" -c "import matplotlib" 2>/dev/null; then
  "$py" "$here/pictures.py" --results "$out" --probes "$parts/failover.probes.json" || status=1
else
  log "no pictures: matplotlib is not importable by $py (make setup installs it from requirements-dev.txt)"
fi
exit "$status"
