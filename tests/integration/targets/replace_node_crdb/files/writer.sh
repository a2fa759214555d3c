#!/usr/bin/env bash
# Inserts rows 1, 2, ... into rn.w through one pod until the stop file exists; appends each id the database
# acknowledged to the acked file.   writer.sh NAMESPACE POD ACKED STOP
set -u
ns=$1 pod=$2 acked=$3 stop=$4
i=0
: >"$acked"
while [ ! -e "$stop" ]; do
  i=$((i + 1))
  if kubectl exec -n "$ns" "$pod" -c cockroachdb -- cockroach sql --certs-dir=/cockroach/cockroach-certs \
      -e "INSERT INTO rn.w (id, v) VALUES ($i, 'row-$i')" >/dev/null 2>&1; then
    echo "$i" >>"$acked"
  fi
  sleep 0.2
done
echo "writer: $(wc -l <"$acked") acknowledged of $i attempted"
