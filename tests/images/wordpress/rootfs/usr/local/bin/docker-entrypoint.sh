#!/usr/bin/env bash
# Entrypoint with the interface of the official wordpress image: WORDPRESS_DB_HOST (host[:port]), WORDPRESS_DB_USER,
# WORDPRESS_DB_PASSWORD[_FILE], WORDPRESS_DB_NAME, WORDPRESS_TABLE_PREFIX. The database is created when missing.
set -eo pipefail

log() { printf '%s [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$*"; }

file_env() {
  local var=$1 def=${2:-} fvar="${1}_FILE"
  if [ -z "${!var:-}" ] && [ -n "${!fvar:-}" ]; then
    export "$var"="$(<"${!fvar}")"
  elif [ -z "${!var:-}" ]; then
    export "$var"="$def"
  fi
  unset "$fvar"
}

if [ "$1" = apache2-foreground ]; then
  file_env WORDPRESS_DB_HOST mysql
  file_env WORDPRESS_DB_USER root
  file_env WORDPRESS_DB_PASSWORD
  file_env WORDPRESS_DB_NAME wordpress
  file_env WORDPRESS_TABLE_PREFIX wp_
  # php var_export() quotes every value safely for the generated PHP file.
  # shellcheck disable=SC2016 # PHP code: the variables are PHP's
  php -r '
    $keys = ["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"];
    $out = "<?php\n";
    foreach (["DB_HOST" => "WORDPRESS_DB_HOST", "DB_USER" => "WORDPRESS_DB_USER", "DB_PASSWORD" => "WORDPRESS_DB_PASSWORD", "DB_NAME" => "WORDPRESS_DB_NAME"] as $const => $env) {
      $out .= "define(" . var_export($const, true) . ", " . var_export(getenv($env), true) . ");\n";
    }
    foreach ($keys as $k) {
      $v = getenv("WORDPRESS_" . $k) ?: bin2hex(random_bytes(32));
      $out .= "define(" . var_export($k, true) . ", " . var_export($v, true) . ");\n";
    }
    $out .= "define(\"DB_CHARSET\", \"utf8mb4\");\ndefine(\"DB_COLLATE\", \"\");\n";
    $out .= "\$table_prefix = " . var_export(getenv("WORDPRESS_TABLE_PREFIX"), true) . ";\n";
    file_put_contents("/etc/wordpress/config-container.php", $out);
  '
  chown root:www-data /etc/wordpress/config-container.php
  chmod 0640 /etc/wordpress/config-container.php
  # shellcheck disable=SC2016 # PHP code: the variables are PHP's
  php -r '
    [$host, $port] = array_pad(explode(":", getenv("WORDPRESS_DB_HOST"), 2), 2, 3306);
    mysqli_report(MYSQLI_REPORT_OFF);
    for ($i = 1; $i <= 30; $i++) {
      $db = @new mysqli($host, getenv("WORDPRESS_DB_USER"), getenv("WORDPRESS_DB_PASSWORD"), "", (int)$port);
      if (!$db->connect_errno) {
        $name = "`" . str_replace("`", "``", getenv("WORDPRESS_DB_NAME")) . "`";
        if (!$db->query("CREATE DATABASE IF NOT EXISTS $name")) {
          fwrite(STDERR, "creating database $name failed: " . $db->error . "\n");
          exit(1);
        }
        exit(0);
      }
      fwrite(STDERR, "database $host:$port not ready ($i/30): " . $db->connect_error . "\n");
      sleep(2);
    }
    exit(1);
  ' || { log "ERROR: cannot reach the database at $WORDPRESS_DB_HOST as $WORDPRESS_DB_USER"; exit 1; }
  log "WordPress configured for database $WORDPRESS_DB_NAME on $WORDPRESS_DB_HOST"
  # shellcheck source=/dev/null
  . /etc/apache2/envvars
  mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
  exec apache2 -DFOREGROUND
fi
exec "$@"
