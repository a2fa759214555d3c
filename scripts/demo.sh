#!/usr/bin/env bash
# Deploy MariaDB on local storage with the collection, write rows, run the failover test and print a short report.
#   scripts/demo.sh            (make demo)   run the demo; the database stays up in namespace dok-demo
#   scripts/demo.sh --clean                  remove everything the demo created
# On the offline test cluster it builds and loads the test image (dok.test/mariadb:11.8) and pins the database to a
# local PV on dok-node-1; on other clusters (kind) it uses the official image and the default StorageClass.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/tests/output/demo
ns=${DOK_DEMO_NAMESPACE:-dok-demo}
name=demo
mkdir -p "$out"
cd "$repo"

"$repo/tests/cluster/up.sh"
# shellcheck source=tests/cluster/env.sh
. "$repo/tests/cluster/env.sh"

image=docker.io/library/mariadb:11.8
local_pv=false
pv_path=""
if [ "$DOK_CLUSTER" = toolkit ]; then
  "$repo/tests/images/build.sh" --load mariadb-11.8
  image=dok.test/mariadb:11.8
  local_pv=true
  pv_path=$DOK_K8S_STATE/node-1/pv/$ns
fi

mode=deploy
[ "${1:-}" = --clean ] && mode=clean

cat >"$out/vars.json" <<JSON
{"demo_namespace": "$ns", "demo_name": "$name", "demo_image": "$image", "demo_local_pv": $local_pv,
 "demo_pv_path": "$pv_path", "demo_report": "$out/report.json", "ansible_python_interpreter": "$(command -v python3)"}
JSON
[ -x "$repo/.venv/bin/python" ] && sed -i "s#\"ansible_python_interpreter\": \"[^\"]*\"#\"ansible_python_interpreter\": \"$repo/.venv/bin/python\"#" "$out/vars.json"

ansible-playbook -i localhost, "$repo/scripts/demo-$mode.yml" -e "@$out/vars.json"

if [ "$mode" = clean ]; then
  echo "demo: removed namespace $ns and its local PV"
  exit 0
fi
echo
echo "================ dok.databases demo ================"
kubectl get pods -n "$ns" -o wide
python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["status"]
print(f"\nMariaDB {r['version']} in {r['namespace']}/{r['name']} on {r['node']} (PV {r['pv']}): "
      f"healthy={s['healthy']}, nodes live {s['live']}/{s['nodes']}")
print(f"rows written before the failover test: {r['rows']}")
for m in r["failover"]:
    print(f"  {m['mode']:<15} outage {m['outage_seconds']} s, pods Ready again after {m['recovery_seconds']} s, "
          f"rows verified {m['rows_verified']}/{m['rows_written']}")
print(f"rows read back after every disruption: {r['rows_after']}/{r['rows']}")
PY
echo "Remove it with: scripts/demo.sh --clean"
