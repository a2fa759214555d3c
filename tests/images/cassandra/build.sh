#!/usr/bin/env bash
# Build dok.test/cassandra:<version> test images: Debian bookworm (debootstrap) with Debian's OpenJDK 17 JRE and
# python3-cassandra, plus the runtime class path of org.apache.cassandra:cassandra-all resolved by Maven.
# The image follows the official cassandra image's interface (see README.md).
#
#   build.sh [--load] [--force] [VERSION...]     default: every version listed in ./versions
#
# Each stage is cached under $DOK_IMAGE_CACHE (default ~/.cache/dok.databases/images) by a hash of its inputs:
# the Debian root file system (suite, packages, mirror), the jars (version, pom.xml) and the final image (both
# hashes plus every file under rootfs/). Maven's repository lives in the cache too, so reruns download nothing.
# The Debian mirror is read from this machine's apt sources; DOK_DEBIAN_MIRROR overrides it.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
cache=${DOK_IMAGE_CACHE:-${HOME}/.cache/dok.databases/images}/cassandra
k8s_dir=${DOK_K8S_DIR:-/work/shared/k8s}
suite=bookworm
packages=openjdk-17-jre-headless,procps,python3,python3-cassandra,hostname
load=0
force=0
versions=()

die() { echo "build.sh: $*" >&2; exit 1; }
log() { echo "build.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --load) load=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (expected --load, --force or versions)" ;;
    *) versions+=("$1") ;;
  esac
  shift
done
[ ${#versions[@]} -gt 0 ] || mapfile -t versions < <(grep -v '^#' "$here/versions" | grep .)

debian_mirror() {
  if [ -n "${DOK_DEBIAN_MIRROR:-}" ]; then echo "$DOK_DEBIAN_MIRROR"; return; fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
    case $uri in *security*|"") ;; *) echo "$uri"; return ;; esac
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  die "no Debian mirror found in /etc/apt/sources.list*; set DOK_DEBIAN_MIRROR"
}

hash_of() { sha256sum | cut -c1-16; }

build_base() {
  local mirror key dir
  mirror=$(debian_mirror)
  key=$(printf '%s\n' "$suite" "$packages" "$mirror" | hash_of)
  dir=$cache/base-$key
  if [ -f "$dir.done" ] && [ $force = 0 ]; then echo "$dir"; return; fi
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
  log "debootstrap $suite with $packages into $dir"
  rm -rf "$dir" "$dir.done"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 \
    || die "debootstrap failed, see $dir.log"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/tmp/*
  touch "$dir.done"
  echo "$dir"
}

build_jars() {
  local version=$1 key dir
  key=$(cat "$here/pom.xml" <(echo "$version") | hash_of)
  dir=$cache/jars-$version-$key
  if [ -f "$dir.done" ] && [ $force = 0 ]; then echo "$dir"; return; fi
  command -v mvn >/dev/null || die "mvn is missing (apt-get install maven)"
  log "resolving cassandra-all $version (runtime scope) into $dir"
  rm -rf "$dir" "$dir.done"
  mkdir -p "$dir/lib" "$cache/m2"
  mvn -B -q -f "$here/pom.xml" -Dmaven.repo.local="$cache/m2" -Dcassandra.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/lib" \
    >"$dir.log" 2>&1 || die "maven could not resolve cassandra-all $version, see $dir.log"
  rm -rf "$here/target"
  [ -f "$dir/lib/cassandra-all-$version.jar" ] || die "cassandra-all-$version.jar missing after resolution"
  touch "$dir.done"
  echo "$dir"
}

build_image() {
  local version=$1 base jars key out root
  base=$(build_base)
  jars=$(build_jars "$version")
  key=$( (echo "$base $jars $version"; cd "$here" && find rootfs -type f | LC_ALL=C sort | xargs sha256sum; \
          sha256sum build.sh) | hash_of)
  out=$cache/cassandra-$version-$key.tar
  if [ -f "$out" ] && [ $force = 0 ]; then echo "$out"; return; fi
  root=$cache/rootfs-$version
  log "assembling dok.test/cassandra:$version"
  rm -rf "$root"
  cp -a "$base" "$root"
  cp -a "$here/rootfs/." "$root/"
  mkdir -p "$root/opt/cassandra/lib"
  cp -a "$jars/lib/." "$root/opt/cassandra/lib/"
  echo "$version" >"$root/opt/cassandra/VERSION"
  chroot "$root" /bin/sh -ec '
    getent group cassandra >/dev/null || groupadd --system --gid 999 cassandra
    getent passwd cassandra >/dev/null || useradd --system --uid 999 --gid 999 --home-dir /var/lib/cassandra --no-create-home --shell /usr/sbin/nologin cassandra
    mkdir -p /var/lib/cassandra /var/log/cassandra
    ln -sfn /etc/cassandra /opt/cassandra/conf
    chown -R 999:999 /var/lib/cassandra /var/log/cassandra /etc/cassandra
    chmod 0755 /var/lib/cassandra /var/log/cassandra
    for t in cassandra nodetool cql-probe; do ln -sf /opt/cassandra/bin/$t /usr/local/bin/$t; done
  '
  find "$root" -newermt @0 -print0 2>/dev/null | xargs -0r touch -h -d @"${SOURCE_DATE_EPOCH:-1700000000}"
  "$k8s_dir/mkimage" --name "dok.test/cassandra:$version" --rootfs "$root" \
    --entrypoint /usr/local/bin/docker-entrypoint.sh --cmd cassandra \
    --env CASSANDRA_HOME=/opt/cassandra --env CASSANDRA_CONF=/etc/cassandra \
    --env PATH=/opt/cassandra/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 --env CASSANDRA_VERSION="$version" \
    --port 7000/tcp --port 7001/tcp --port 7199/tcp --port 9042/tcp \
    -o "$out.tmp" >&2
  mv "$out.tmp" "$out"
  rm -rf "$root"
  echo "$out"
}

for v in "${versions[@]}"; do
  tar=$(build_image "$v")
  log "dok.test/cassandra:$v -> $tar"
  if [ $load = 1 ]; then "$k8s_dir/load-image.sh" "$tar"; fi
done
