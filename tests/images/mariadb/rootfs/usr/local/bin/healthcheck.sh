#!/usr/bin/env bash
# Container probe with the options of the official mariadb image's healthcheck.sh:
#   healthcheck.sh [--defaults-file=FILE] [--su-mysql] --connect|--innodb_initialized|--innodb_buffer_pool_loaded|--mariadbupgrade ...
# Credentials: FILE, else <datadir>/.my-healthcheck.cnf (written at initialization), else root with $MARIADB_ROOT_PASSWORD.
# Exit 0 when every requested test passes.
set -o pipefail

DATADIR=${DATADIR:-/var/lib/mysql}
defaults=""
tests=()

for arg in "$@"; do
  case "$arg" in
    --defaults-file=*|--defaults-extra-file=*) defaults=${arg#*=} ;;
    --su-mysql|--su=*) ;;
    --datadir=*) DATADIR=${arg#*=} ;;
    --connect|--innodb_initialized|--innodb_buffer_pool_loaded|--mariadbupgrade) tests+=("${arg#--}") ;;
    --no-defaults|--verbose) ;;
    *) echo "healthcheck.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
[ ${#tests[@]} -gt 0 ] || { echo "healthcheck.sh: no test given (--connect, --innodb_initialized, ...)" >&2; exit 2; }

client() {
  if [ -n "$defaults" ]; then
    mariadb --defaults-file="$defaults" "$@"
  elif [ -r "$DATADIR/.my-healthcheck.cnf" ]; then
    mariadb --defaults-file="$DATADIR/.my-healthcheck.cnf" "$@"
  else
    MYSQL_PWD=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}} mariadb --no-defaults -uroot -h127.0.0.1 --protocol=tcp "$@"
  fi
}

query() { client --batch --skip-column-names -e "$1" 2>&1; }

for t in "${tests[@]}"; do
  case "$t" in
    connect)
      if ! out=$(query 'SELECT 1') || [ "$out" != 1 ]; then echo "healthcheck connect failed: $out" >&2; exit 1; fi ;;
    innodb_initialized)
      out=$(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'innodb' AND support IN ('YES', 'DEFAULT', 'ENABLED')")
      [ "$out" = 1 ] || { echo "healthcheck innodb_initialized failed: ${out:-InnoDB not initialized}" >&2; exit 1; } ;;
    innodb_buffer_pool_loaded)
      out=$(query "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_LOAD_STATUS'")
      case "$out" in *'load completed'*|'') ;; *) echo "healthcheck innodb_buffer_pool_loaded failed: $out" >&2; exit 1 ;; esac ;;
    mariadbupgrade)
      version=$(query 'SELECT VERSION()') || { echo "healthcheck mariadbupgrade failed: $version" >&2; exit 1; }
      info="$DATADIR/mariadb_upgrade_info"
      [ -r "$info" ] || info="$DATADIR/mysql_upgrade_info"
      if [ -r "$info" ]; then
        upgraded=$(tr -d '\0' <"$info")
        if [ "${upgraded%%-*}" != "${version%%-*}" ]; then
          echo "healthcheck mariadbupgrade failed: datadir was upgraded for $upgraded, server is $version" >&2; exit 1
        fi
      fi ;;
  esac
done
exit 0
