#!/usr/bin/env bash
# Entrypoint with the interface of the official mariadb image:
#   MARIADB_ROOT_PASSWORD[_FILE] | MARIADB_ALLOW_EMPTY_ROOT_PASSWORD | MARIADB_RANDOM_ROOT_PASSWORD, MARIADB_ROOT_HOST,
#   MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD[_FILE], the MYSQL_* aliases, /docker-entrypoint-initdb.d/.
# The datadir is initialized once, when it has no `mysql` directory. Initialization runs in a directory on the same
# volume and the `mysql` directory is renamed into place last, so an interrupted first start is redone from scratch
# instead of leaving a datadir that would boot without the root password.
set -eo pipefail
shopt -s nullglob

log() { printf '%s [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR, MYSQL_ alias or VAR_FILE (the file wins only when VAR is unset).
file_env() {
  local var=$1 def=${2:-} alias="MYSQL_${1#MARIADB_}" val=""
  local fvar="${var}_FILE" afvar="${alias}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then die "both $var and $fvar are set (but are exclusive)"; fi
  if [ -n "${!var:-}" ]; then val=${!var}
  elif [ -n "${!fvar:-}" ]; then
    [ -r "${!fvar}" ] || die "$fvar=${!fvar} is not a readable file"
    val=$(<"${!fvar}")
  elif [ -n "${!alias:-}" ]; then val=${!alias}
  elif [ -n "${!afvar:-}" ]; then
    [ -r "${!afvar}" ] || die "$afvar=${!afvar} is not a readable file"
    val=$(<"${!afvar}")
  else val=$def
  fi
  export "$var"="$val"
  unset "$fvar" "$alias" "$afvar"
}

sql_escape() { local s=${1//\\/\\\\}; printf '%s' "${s//\'/\\\'}"; }
ident_escape() { printf '%s' "${1//\`/\`\`}"; }

get_option() {
  # awk reads to the end: exiting early would kill the server with SIGPIPE and, under pipefail, this script too
  "$@" --verbose --help 2>/dev/null | awk -v opt="$OPTION" '$1 == opt && !found { print $2; found = 1 }'
}

setup_env() {
  file_env MARIADB_ROOT_PASSWORD
  file_env MARIADB_ROOT_HOST '%'
  file_env MARIADB_DATABASE
  file_env MARIADB_USER
  file_env MARIADB_PASSWORD
  file_env MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
  file_env MARIADB_RANDOM_ROOT_PASSWORD
  OPTION=datadir DATADIR=$(get_option "$@")
  OPTION=socket SOCKET=$(get_option "$@")
  DATADIR=${DATADIR%/}
  DATADIR=${DATADIR:-/var/lib/mysql}
  SOCKET=${SOCKET:-/run/mysqld/mysqld.sock}
}

verify_env() {
  if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
    die "the datadir is empty and no root password is set: set one of MARIADB_ROOT_PASSWORD (or MARIADB_ROOT_PASSWORD_FILE), MARIADB_ALLOW_EMPTY_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD"
  fi
  if [ -n "$MARIADB_USER" ] && [ "$MARIADB_USER" = root ]; then
    die "MARIADB_USER=root: the root user is created already; use MARIADB_ROOT_PASSWORD for it"
  fi
  if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ]; then
    die "MARIADB_USER is set but MARIADB_PASSWORD (or MARIADB_PASSWORD_FILE) is not"
  fi
}

random_password() {
  local p
  p=$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 512 /dev/urandom))
  printf '%s' "${p:0:32}"
}

temp_server_start() {
  local dir=$1
  shift
  "$@" --datadir="$dir" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" \
    --wsrep_on=OFF --loose-innodb_buffer_pool_load_at_startup=0 &
  TEMP_PID=$!
  for _ in $(seq 60); do
    if mariadb --no-defaults --socket="$SOCKET" -uroot -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    kill -0 "$TEMP_PID" 2>/dev/null || die "the temporary server for initialization exited"
    sleep 1
  done
  die "the temporary server for initialization did not answer within 60 s"
}

temp_server_stop() {
  kill "$TEMP_PID"
  wait "$TEMP_PID" || die "the temporary server did not stop cleanly"
}

init_datadir() {
  local work="$DATADIR/.init-in-progress" root_pw hc_pw entry f h
  verify_env
  log "Initializing database files in $work"
  rm -rf "$work"
  mkdir -p "$work"
  mariadb-install-db --no-defaults --rpm --datadir="$work" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve >/dev/null \
    || die "mariadb-install-db failed"
  log "Starting a temporary server"
  temp_server_start "$work" "$@"

  root_pw=$MARIADB_ROOT_PASSWORD
  if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
    root_pw=$(random_password)
    log "GENERATED ROOT PASSWORD: $root_pw"
  fi
  hc_pw=$(random_password)
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.global_priv WHERE user = '' OR (user = 'root' AND host <> 'localhost');"
    echo "FLUSH PRIVILEGES;"
    echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$(sql_escape "$root_pw")');"
    if [ "$MARIADB_ROOT_HOST" != localhost ]; then
      echo "CREATE USER 'root'@'$(sql_escape "$MARIADB_ROOT_HOST")' IDENTIFIED BY '$(sql_escape "$root_pw")';"
      echo "GRANT ALL ON *.* TO 'root'@'$(sql_escape "$MARIADB_ROOT_HOST")' WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO 'root'@'$(sql_escape "$MARIADB_ROOT_HOST")' WITH GRANT OPTION;"
    fi
    for h in 127.0.0.1 ::1 localhost; do
      echo "CREATE USER 'healthcheck'@'$h' IDENTIFIED BY '$hc_pw';"
    done
    if [ -n "$MARIADB_DATABASE" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$(ident_escape "$MARIADB_DATABASE")\`;"
    fi
    if [ -n "$MARIADB_USER" ]; then
      echo "CREATE USER '$(sql_escape "$MARIADB_USER")'@'%' IDENTIFIED BY '$(sql_escape "$MARIADB_PASSWORD")';"
      if [ -n "$MARIADB_DATABASE" ]; then
        echo "GRANT ALL ON \`$(ident_escape "${MARIADB_DATABASE//_/\\_}")\`.* TO '$(sql_escape "$MARIADB_USER")'@'%';"
      fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --no-defaults --socket="$SOCKET" -uroot --binary-mode || die "setting up users and databases failed"
  printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\nprotocol=tcp\n' "$SOCKET" "$hc_pw" \
    >"$work/.my-healthcheck.cnf"
  chmod 0600 "$work/.my-healthcheck.cnf"

  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        log "Running $f"
        # shellcheck source=/dev/null
        if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "Running $f"; mariadb --no-defaults --socket="$SOCKET" -uroot -p"$root_pw" \
        ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} <"$f" || die "$f failed" ;;
      *.sql.gz) log "Running $f"; gzip -dc "$f" | mariadb --no-defaults --socket="$SOCKET" -uroot -p"$root_pw" \
        ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} || die "$f failed" ;;
      *) log "Ignoring $f" ;;
    esac
  done
  log "Stopping the temporary server"
  temp_server_stop

  for entry in "$work"/* "$work"/.[!.]*; do
    [ "$(basename "$entry")" = mysql ] && continue
    rm -rf "${DATADIR:?}/$(basename "$entry")"
    mv "$entry" "$DATADIR/"
  done
  # The rename of `mysql` is what marks the datadir initialized; it must stay the last step.
  rm -rf "${DATADIR:?}/mysql"
  mv "$work/mysql" "$DATADIR/mysql"
  rmdir "$work"
  log "Database files initialized in $DATADIR"
}

if [ "${1:0:1}" = - ]; then set -- mariadbd "$@"; fi

if [ "$1" = mariadbd ] || [ "$1" = mysqld ]; then
  setup_env "$@"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$DATADIR" /run/mysqld
    find "$DATADIR" /run/mysqld \! -user mysql -exec chown mysql:mysql {} + 2>/dev/null || true
    exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
  fi
  [ -w "$DATADIR" ] || die "$DATADIR is not writable by uid $(id -u) gid $(id -g): give the volume to uid/gid 999 (fsGroup: 999)"
  if [ ! -d "$DATADIR/mysql" ]; then
    init_datadir "$@"
  else
    log "Database files found in $DATADIR; skipping initialization"
  fi
fi
exec "$@"
