#!/usr/bin/env bash
# Same environment interface as the official cassandra image's entrypoint: CASSANDRA_LISTEN_ADDRESS (default: this
# container's IP), CASSANDRA_BROADCAST_ADDRESS, CASSANDRA_RPC_ADDRESS, CASSANDRA_BROADCAST_RPC_ADDRESS, CASSANDRA_SEEDS,
# CASSANDRA_CLUSTER_NAME, CASSANDRA_NUM_TOKENS, CASSANDRA_ENDPOINT_SNITCH, CASSANDRA_DC, CASSANDRA_RACK; then the
# server runs as uid/gid 999 (cassandra).
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- cassandra -f "$@"
fi

if [ "$1" = cassandra ] && [ "$(id -u)" = 0 ]; then
  find "$CASSANDRA_CONF" /var/lib/cassandra /var/log/cassandra \! -user cassandra -exec chown cassandra:cassandra '{}' +
  exec setpriv --reuid=999 --regid=999 --init-groups "${BASH_SOURCE[0]}" "$@"
fi

container_ip() {
  local ip
  ip=$(hostname --ip-address 2>/dev/null | awk '{print $1}')
  [ -n "$ip" ] || { echo "docker-entrypoint: cannot find this container's IP address; set CASSANDRA_LISTEN_ADDRESS" >&2; exit 1; }
  echo "$ip"
}

set_yaml() {
  local key=$1 value=$2 yaml=$CASSANDRA_CONF/cassandra.yaml
  if grep -Eq "^#? ?$key:" "$yaml"; then
    sed -ri "s|^#? ?($key:).*|\1 $value|" "$yaml"
  else
    echo "$key: $value" >>"$yaml"
  fi
}

if [ "$1" = cassandra ]; then
  : "${CASSANDRA_RPC_ADDRESS:=0.0.0.0}"
  : "${CASSANDRA_LISTEN_ADDRESS:=auto}"
  [ "$CASSANDRA_LISTEN_ADDRESS" = auto ] && CASSANDRA_LISTEN_ADDRESS=$(container_ip)
  : "${CASSANDRA_BROADCAST_ADDRESS:=$CASSANDRA_LISTEN_ADDRESS}"
  [ "$CASSANDRA_BROADCAST_ADDRESS" = auto ] && CASSANDRA_BROADCAST_ADDRESS=$(container_ip)
  : "${CASSANDRA_BROADCAST_RPC_ADDRESS:=$CASSANDRA_BROADCAST_ADDRESS}"
  if [ -n "${CASSANDRA_NAME:-}" ]; then : "${CASSANDRA_SEEDS:=$CASSANDRA_NAME}"; fi
  : "${CASSANDRA_SEEDS:=$CASSANDRA_BROADCAST_ADDRESS}"

  sed -ri "s|(- seeds:).*|\1 \"$CASSANDRA_SEEDS\"|" "$CASSANDRA_CONF/cassandra.yaml"
  set_yaml listen_address "$CASSANDRA_LISTEN_ADDRESS"
  set_yaml broadcast_address "$CASSANDRA_BROADCAST_ADDRESS"
  set_yaml rpc_address "$CASSANDRA_RPC_ADDRESS"
  set_yaml broadcast_rpc_address "$CASSANDRA_BROADCAST_RPC_ADDRESS"
  [ -n "${CASSANDRA_CLUSTER_NAME:-}" ] && set_yaml cluster_name "'$CASSANDRA_CLUSTER_NAME'"
  [ -n "${CASSANDRA_NUM_TOKENS:-}" ] && set_yaml num_tokens "$CASSANDRA_NUM_TOKENS"
  [ -n "${CASSANDRA_ENDPOINT_SNITCH:-}" ] && set_yaml endpoint_snitch "$CASSANDRA_ENDPOINT_SNITCH"
  for key in dc rack; do
    var=CASSANDRA_${key^^}
    if [ -n "${!var:-}" ]; then
      sed -ri "s|^($key=).*|\1${!var}|" "$CASSANDRA_CONF/cassandra-rackdc.properties"
    fi
  done
fi

exec "$@"
