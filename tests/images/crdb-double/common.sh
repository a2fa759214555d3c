# shellcheck shell=bash
# shellcheck disable=SC2034 # IMAGE_* are read by tests/images/lib.sh
# Shared by the crdb-double *.conf files: Debian's python3 plus the test double program, labelled as a double.
# A conf sets DOUBLE_FLAVOUR (cockroach|kwbase) and DOUBLE_VERSION (the version the double reports) before sourcing.

IMAGE_SUITE=bookworm
IMAGE_PACKAGES="python3"

case "$DOUBLE_FLAVOUR" in
  cockroach) DOUBLE_HOME=/cockroach; DOUBLE_BINARIES="cockroach" ;;
  kwbase) DOUBLE_HOME=/kaiwudb; DOUBLE_BINARIES="kwbase bini" ;;
  *) dok_die "DOUBLE_FLAVOUR must be cockroach or kwbase, not '$DOUBLE_FLAVOUR'" ;;
esac
IMAGE_MKIMAGE=(
  --entrypoint "/usr/local/bin/${DOUBLE_BINARIES%% *}"
  --env "PATH=$DOUBLE_HOME:$DOUBLE_HOME/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --workdir "$DOUBLE_HOME"
  --port 26257/tcp
  --port 8080/tcp
)

image_post_install() {
  local rootfs=$1 bin
  install -D -m 0755 "$(dirname "${BASH_SOURCE[0]}")/crdb_double.py" "$rootfs/usr/local/lib/crdb-double/crdb_double.py"
  install -d -m 0755 "$rootfs/etc/crdb-double" "$rootfs$DOUBLE_HOME/bin" "$rootfs$DOUBLE_HOME/$DOUBLE_FLAVOUR-data"
  printf 'flavour=%s\nversion=%s\n' "$DOUBLE_FLAVOUR" "$DOUBLE_VERSION" >"$rootfs/etc/crdb-double/build"
  for bin in $DOUBLE_BINARIES; do
    printf '#!/bin/sh\n# crdb-double: a TEST DOUBLE of the %s command line, not the database.\nexec /usr/bin/python3 /usr/local/lib/crdb-double/crdb_double.py --program %s "$@"\n' \
      "$bin" "$bin" >"$rootfs/usr/local/bin/$bin"
    chmod 0755 "$rootfs/usr/local/bin/$bin"
    ln -sf "/usr/local/bin/$bin" "$rootfs$DOUBLE_HOME/bin/$bin"
  done
  if [ "$DOUBLE_FLAVOUR" = cockroach ]; then ln -sf /usr/local/bin/cockroach "$rootfs/cockroach/cockroach"; fi
}
