# shellcheck shell=bash
# shellcheck disable=SC2034 # IMAGE_* are read by tests/images/lib.sh
# Shared by cassandra-*.conf: Apache Cassandra from Maven Central (org.apache.cassandra:cassandra-all and its runtime
# class path, resolved by pom.xml) on Debian's OpenJDK 17, with the official cassandra image's interface.
# The conf file sets CASSANDRA_VERSION before sourcing this file.

IMAGE_SUITE=bookworm
IMAGE_PACKAGES="openjdk-17-jre-headless procps python3 python-is-python3 python3-cassandra hostname"
IMAGE_MKIMAGE=(
  --entrypoint /usr/local/bin/docker-entrypoint.sh
  --cmd cassandra
  --env CASSANDRA_HOME=/opt/cassandra
  --env CASSANDRA_CONF=/etc/cassandra
  --env PATH=/opt/cassandra/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  --env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
  --env "CASSANDRA_VERSION=$CASSANDRA_VERSION"
  --port 7000/tcp --port 7001/tcp --port 7199/tcp --port 9042/tcp
)

# The official image's cassandra user is 999:999.
image_pre_install() {
  local rootfs=$1
  dok_chroot "$rootfs" groupadd --system --gid 999 cassandra
  dok_chroot "$rootfs" useradd --system --uid 999 --gid 999 --home-dir /var/lib/cassandra --no-create-home \
    --shell /usr/sbin/nologin cassandra
}

# Maven's local repository stays in the image cache, so a rebuild downloads nothing already fetched.
cassandra_resolve_jars() {
  local lib=$1 work
  command -v mvn >/dev/null || dok_die "mvn is not installed: apt-get install -y maven"
  work=$(mktemp -d "$DOK_IMAGE_CACHE/.mvn-cassandra.XXXXXX")
  cp "$(dirname "${BASH_SOURCE[0]}")/pom.xml" "$work/pom.xml"
  mkdir -p "$DOK_IMAGE_CACHE/m2" "$lib"
  dok_log "cassandra-$CASSANDRA_VERSION: resolving cassandra-all $CASSANDRA_VERSION (runtime scope)"
  if ! mvn -B -q -f "$work/pom.xml" -Dmaven.repo.local="$DOK_IMAGE_CACHE/m2" -Dcassandra.version="$CASSANDRA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2
    rm -rf "$work"
    dok_die "maven could not resolve org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION (log above)"
  fi
  rm -rf "$work"
  [ -f "$lib/cassandra-all-$CASSANDRA_VERSION.jar" ] || dok_die "cassandra-all-$CASSANDRA_VERSION.jar missing after resolution"
}

image_post_install() {
  local rootfs=$1 tool
  [ "$(dok_chroot "$rootfs" id -u cassandra)" = 999 ] || dok_die "cassandra user does not have uid 999"
  cassandra_resolve_jars "$rootfs/opt/cassandra/lib"
  echo "$CASSANDRA_VERSION" >"$rootfs/opt/cassandra/VERSION"
  ln -sfn /etc/cassandra "$rootfs/opt/cassandra/conf"
  for tool in cassandra nodetool cql-probe; do
    chmod 0755 "$rootfs/opt/cassandra/bin/$tool"
    ln -sf "/opt/cassandra/bin/$tool" "$rootfs/usr/local/bin/$tool"
  done
  ln -sf /opt/cassandra/bin/cql-probe "$rootfs/usr/local/bin/cqlsh"
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
  install -d -o 999 -g 999 -m 0755 "$rootfs/var/lib/cassandra" "$rootfs/var/log/cassandra"
  chown -R 999:999 "$rootfs/etc/cassandra"
}
