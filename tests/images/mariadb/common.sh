# shellcheck shell=bash
# shellcheck disable=SC2034 # IMAGE_* are read by tests/images/lib.sh
# Shared by mariadb-*.conf: the interface of the official mariadb image on Debian's packages.

IMAGE_PACKAGES="mariadb-server mariadb-client gzip"
IMAGE_MKIMAGE=(
  --entrypoint /usr/local/bin/docker-entrypoint.sh
  --cmd mariadbd
  --user 999:999
  --port 3306/tcp
)

# The official image's mysql user is 999:999; create it before the package so dpkg does not pick another id.
image_pre_install() {
  local rootfs=$1
  dok_chroot "$rootfs" groupadd --system --gid 999 mysql
  dok_chroot "$rootfs" useradd --system --uid 999 --gid 999 --home-dir /var/lib/mysql --no-create-home \
    --shell /usr/sbin/nologin mysql
}

image_post_install() {
  local rootfs=$1
  [ "$(dok_chroot "$rootfs" id -u mysql)" = 999 ] || dok_die "mysql user does not have uid 999"
  rm -rf "$rootfs"/var/lib/mysql "$rootfs"/run/mysqld
  install -d -o 999 -g 999 -m 0755 "$rootfs"/var/lib/mysql "$rootfs"/run/mysqld
  chmod 1777 "$rootfs"/run/mysqld
  chmod 0755 "$rootfs"/usr/local/bin/docker-entrypoint.sh "$rootfs"/usr/local/bin/healthcheck.sh
  ln -sf usr/local/bin/docker-entrypoint.sh "$rootfs"/docker-entrypoint.sh
  ln -sf /usr/local/bin/healthcheck.sh "$rootfs"/usr/bin/healthcheck.sh
  # Debian's server config binds to 127.0.0.1 and logs nothing to stderr; a container needs the opposite.
  sed -i -e 's/^\(bind-address\)/#\1/' "$rootfs"/etc/mysql/mariadb.conf.d/50-server.cnf
}
