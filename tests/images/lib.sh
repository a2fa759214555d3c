# shellcheck shell=bash
# Helpers shared by tests/images/build.sh and the image definitions.
#
# An image definition is a file tests/images/<dir>/<target>.conf (shell, sourced) that sets:
#   IMAGE_REF       image reference, e.g. dok.test/mariadb:10.11
#   IMAGE_SUITE     Debian suite for debootstrap (bookworm, trixie)
#   IMAGE_PACKAGES  packages installed with apt-get after the pre-install hook
#   IMAGE_MKIMAGE   extra mkimage arguments (array): entrypoint, cmd, env, user, port
# and may define the functions:
#   image_pre_install ROOTFS    runs before the packages are installed (users with fixed ids, ...)
#   image_post_install ROOTFS   copies the files of <dir>/rootfs, configures, cleans up
# Everything in <dir> is part of the cache key, so editing an entrypoint rebuilds the image.

DOK_IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOK_IMAGE_CACHE=${DOK_IMAGE_CACHE:-/var/cache/dok-images}
DOK_K8S_TOOLKIT=${DOK_K8S_TOOLKIT:-$(cd "$DOK_IMAGES_DIR/../../.." && pwd)/shared/k8s}

dok_log() { printf '%s images: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
dok_die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

# Debian packages a build runs on this host: debootstrap, and the keyring it checks the mirror's signatures with.
DOK_IMAGE_HOST_PACKAGES=(debootstrap debian-archive-keyring)

# Install the named Debian packages that are missing, as tests/cluster/up.sh does for the cluster's (apt-get update
# first, since a fresh machine may have no package lists); without root, say in one line what to run.
dok_need_packages() {
  local p missing=""
  for p in "$@"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -n "$missing" ] || return 0
  [ "$(id -u)" = 0 ] || dok_die "building images needs the Debian package(s)$missing, not installed; run as root:" \
    "apt-get update && apt-get install -y --no-install-recommends$missing"
  dok_log "installing the host's packages:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get update >&2 || dok_die "apt-get update failed (output above); fix the" \
    "sources in /etc/apt, then run: apt-get install -y --no-install-recommends$missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2 \
    || dok_die "apt-get install$missing failed (output above)"
}

# The Debian mirror this machine already uses (deb822 .sources first, then sources.list).
dok_debian_mirror() {
  local uri=""
  if [ -n "${DOK_DEBIAN_MIRROR:-}" ]; then echo "$DOK_DEBIAN_MIRROR"; return; fi
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || dok_die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set DOK_DEBIAN_MIRROR"
  echo "$uri"
}

# All image definitions: "<target> <conf path>" per line.
dok_image_targets() {
  local conf
  for conf in "$DOK_IMAGES_DIR"/*/*.conf; do
    [ -f "$conf" ] || continue
    printf '%s %s\n' "$(basename "$conf" .conf)" "$conf"
  done
}

dok_image_conf() {
  local target=$1 conf
  conf=$(dok_image_targets | awk -v t="$target" '$1 == t { print $2 }')
  [ -n "$conf" ] || dok_die "unknown image '$target' (known: $(dok_image_targets | awk '{print $1}' | tr '\n' ' '))"
  echo "$conf"
}

# Cache key: the definition's directory, this library, the mkimage packer.
dok_image_hash() {
  local conf=$1 dir
  dir=$(dirname "$conf")
  {
    echo "target=$(basename "$conf")"
    (cd "$dir" && find . -type f ! -name '*.conf' ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    sha256sum "$conf" | awk '{print $1}'
    sha256sum "$DOK_IMAGES_DIR/lib.sh" "$DOK_IMAGES_DIR/build.sh" | awk '{print $1}'
    sha256sum "$DOK_K8S_TOOLKIT/mkimage" | awk '{print $1}'
  } | sha256sum | cut -c1-16
}

dok_chroot_mounts() {
  local rootfs=$1
  mount -t proc proc "$rootfs/proc"
  mount --bind /dev "$rootfs/dev"
}

dok_chroot_umounts() {
  local rootfs=$1 m
  for m in dev proc; do
    if mountpoint -q "$rootfs/$m"; then umount "$rootfs/$m" || umount -l "$rootfs/$m"; fi
  done
}

dok_chroot() {
  local rootfs=$1; shift
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C HOME=/root \
    chroot "$rootfs" "$@"
}

# Copy <dir>/rootfs over the image root, keeping modes.
dok_copy_overlay() {
  local dir=$1 rootfs=$2
  [ -d "$dir/rootfs" ] || return 0
  cp -a --no-preserve=ownership "$dir/rootfs/." "$rootfs/"
}

dok_slim_rootfs() {
  local rootfs=$1
  dok_chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
  rm -f "$rootfs"/usr/sbin/policy-rc.d
}

# Build one target into the cache unless a tarball with the same key is there. Prints the tarball path.
dok_build_image() {
  local target=$1 conf dir hash out tmp rootfs mirror
  conf=$(dok_image_conf "$target")
  dir=$(dirname "$conf")
  hash=$(dok_image_hash "$conf")
  out="$DOK_IMAGE_CACHE/$target-$hash.tar"
  if [ -f "$out" ]; then
    dok_log "$target: cached ($out)"
    echo "$out"
    return 0
  fi
  [ "$(id -u)" = 0 ] || dok_die "building $target needs root (debootstrap, chroot)"
  dok_need_packages "${DOK_IMAGE_HOST_PACKAGES[@]}"
  [ -x "$DOK_K8S_TOOLKIT/mkimage" ] || dok_die "mkimage not found at $DOK_K8S_TOOLKIT/mkimage; set DOK_K8S_TOOLKIT"
  (
    set -euo pipefail
    IMAGE_REF="" IMAGE_SUITE="" IMAGE_PACKAGES="" IMAGE_MKIMAGE=()
    # shellcheck source=/dev/null
    . "$conf"
    [ -n "$IMAGE_REF" ] && [ -n "$IMAGE_SUITE" ] || dok_die "$conf must set IMAGE_REF and IMAGE_SUITE"
    mkdir -p "$DOK_IMAGE_CACHE"
    tmp=$(mktemp -d "$DOK_IMAGE_CACHE/.build-$target.XXXXXX")
    rootfs="$tmp/rootfs"
    trap 'dok_chroot_umounts "$rootfs" 2>/dev/null || true; rm -rf "$tmp"' EXIT
    mirror=$(dok_debian_mirror)
    dok_log "$target: debootstrap $IMAGE_SUITE from $mirror"
    debootstrap --variant=minbase "$IMAGE_SUITE" "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
      || { tail -n 30 "$tmp/debootstrap.log" >&2; dok_die "$target: debootstrap failed (log above)"; }
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    dok_chroot_mounts "$rootfs"
    if declare -F image_pre_install >/dev/null; then image_pre_install "$rootfs"; fi
    if [ -n "$IMAGE_PACKAGES" ]; then
      dok_log "$target: apt-get install $IMAGE_PACKAGES"
      # shellcheck disable=SC2086
      dok_chroot "$rootfs" apt-get install -y --no-install-recommends $IMAGE_PACKAGES >"$tmp/apt.log" 2>&1 \
        || { tail -n 30 "$tmp/apt.log" >&2; dok_die "$target: apt-get install failed (log above)"; }
    fi
    dok_copy_overlay "$dir" "$rootfs"
    if declare -F image_post_install >/dev/null; then image_post_install "$rootfs"; fi
    dok_chroot_umounts "$rootfs"
    dok_slim_rootfs "$rootfs"
    # shellcheck disable=SC2016 # dpkg-query expands the format, not the shell
    dok_chroot "$rootfs" dpkg-query -W -f '${Package}=${Version}\n' >"$tmp/packages.txt"
    "$DOK_K8S_TOOLKIT/mkimage" --name "$IMAGE_REF" --rootfs "$rootfs" "${IMAGE_MKIMAGE[@]}" -o "$tmp/image.tar" >&2
    mv "$tmp/packages.txt" "$out.packages"
    mv "$tmp/image.tar" "$out"
    find "$DOK_IMAGE_CACHE" -maxdepth 1 -name "$target-*.tar*" ! -name "$(basename "$out")*" -delete
    dok_log "$target: built $out ($(du -m "$out" | cut -f1) MB)"
  ) || return 1
  echo "$out"
}

# Load a tarball into every node of the toolkit cluster whose containerd answers, unless it already holds it.
# A node taken down (node-down.sh, or a spare node a target added and removed) leaves its socket behind: it is
# skipped and named, since pods cannot run there; a node that answers and refuses the image is an error.
DOK_NODE_RUN_DIR=${DOK_NODE_RUN_DIR:-/run/dokc}
dok_load_image() {
  local target=$1 tar=$2 conf ref digest_file want="" s node have live=() pending=()
  conf=$(dok_image_conf "$target")
  ref=$(sed -n 's/^IMAGE_REF=//p' "$conf" | tr -d "\"'")
  digest_file="$tar.digest"
  for s in "$DOK_NODE_RUN_DIR"/node-*/containerd.sock; do
    [ -e "$s" ] || continue
    node=$(basename "$(dirname "$s")")
    if timeout 20 ctr -a "$s" version >/dev/null 2>&1; then
      live+=("$s")
    else
      dok_log "$target: $node: its containerd does not answer (node down); not loaded there"
    fi
  done
  [ ${#live[@]} -gt 0 ] || [ -n "$(ls "$DOK_NODE_RUN_DIR"/node-*/containerd.sock 2>/dev/null)" ] \
    || dok_die "no node of the offline cluster is running (tests/cluster/up.sh first); on kind use: kind load image-archive $tar"
  [ ${#live[@]} -gt 0 ] || dok_die "no node of the offline cluster answers (tests/cluster/up.sh first)"
  [ -f "$digest_file" ] && want=$(cat "$digest_file")
  for s in "${live[@]}"; do
    have=""
    if [ -n "$want" ]; then
      have=$(ctr -a "$s" -n k8s.io images ls "name==$ref" | awk 'NR == 2 {print $3}') \
        || dok_die "$target: listing the images of $(basename "$(dirname "$s")") failed (output above)"
    fi
    [ -n "$want" ] && [ "$have" = "$want" ] || pending+=("$s")
  done
  if [ ${#pending[@]} -eq 0 ]; then
    dok_log "$target: $ref already loaded on every node that answers"
    return 0
  fi
  rm -f "$digest_file"
  for s in "${pending[@]}"; do
    node=$(basename "$(dirname "$s")")
    dok_log "$target: loading $ref into $node"
    ctr -a "$s" -n k8s.io images import "$tar" >/dev/null || dok_die "$target: loading into $node failed (output above)"
  done
  ctr -a "${live[0]}" -n k8s.io images ls "name==$ref" | awk 'NR == 2 {print $3}' >"$digest_file.tmp" \
    && mv "$digest_file.tmp" "$digest_file"
}
