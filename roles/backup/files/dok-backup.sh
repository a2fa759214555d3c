#!/usr/bin/env bash
# dok-backup: the storage side of the backup and restore roles of dok.databases. It runs in a Job from the database's
# own image (so the dump and load clients match the server), with the backup volume mounted at $DOK_STORE.
#
#   dok-backup.sh backup NAME     dump the cluster's databases into <dir>/NAME, then list the catalog
#   dok-backup.sh list            list the catalog of <dir>
#   dok-backup.sh verify NAME     check NAME against its recorded size and SHA-256
#   dok-backup.sh restore NAME    verify NAME, then load it into the target server
#   dok-backup.sh prune NAME...   delete the named backups of <dir>
#   dok-backup.sh expired         list the backups retention ($DOK_KEEP newest, $DOK_MAX_AGE_DAYS days) would delete
#   dok-backup.sh scheduled       what a CronJob runs: backup <cluster>-<UTC time>, then delete the expired backups
#
# <dir> is $DOK_STORE/$DOK_DIR (<namespace>/<cluster> of the backed-up cluster). The password comes as MYSQL_PWD
# from a Secret reference of the Job, never as an argument. Every result is one line the role reads:
#   DOK-BACKUP <json>  DOK-ENTRY <json>  DOK-PARTIAL <name>  DOK-VERIFIED <json>  DOK-RESTORED <json>
#   DOK-PRUNED <name>  DOK-EXPIRED <name>  DOK-ERROR <text>
# and nothing else starts with "DOK-". A failure prints DOK-ERROR and exits non-zero; a backup that failed leaves only
# a .partial-NAME directory, which the catalog reports and the next run of the same name removes.
set -uo pipefail
umask 027

FORMAT=1
NAME_RE='^[a-z0-9]([-a-z0-9.]{0,126}[a-z0-9])?$'

ERR_TAIL=''
err() {
  # One line, whatever the message holds, and what it means for the target ($ERR_TAIL) when there is one.
  printf 'DOK-ERROR %s%s\n' "$(printf '%s' "$*" | tr '\n\r\t' '   ')" "$ERR_TAIL"
  exit 2
}

json_str() {
  # A JSON string of $1: backslash, quote and control characters escaped.
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=$(printf '%s' "$s" | tr -d '\000-\010\013-\037')
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

need() {
  local v
  for v in "$@"; do
    [ -n "${!v:-}" ] || err "the Job's environment has no $v; run the backup through the dok.databases roles"
  done
}

need DOK_STORE DOK_DIR
case "$DOK_DIR" in
  */*/*|/*|*..*|.*) err "DOK_DIR '$DOK_DIR' is not <namespace>/<cluster>" ;;
esac
[ -d "$DOK_STORE" ] || err "the backup volume is not mounted at $DOK_STORE"
dir=$DOK_STORE/$DOK_DIR

check_name() {
  [[ $1 =~ $NAME_RE ]] || err "backup name '$1' is not a lowercase DNS-1123 name of at most 128 characters"
}

client() {
  "${DOK_CLIENT:-mariadb}" --protocol=TCP --host="$DOK_HOST" --port="${DOK_PORT:-3306}" --user="$DOK_USER" \
    --connect-timeout=10 "$@"
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
ms() { echo $(($(date +%s%N) / 1000000)); }

list() {
  local d name
  [ -d "$dir" ] || return 0
  for d in "$dir"/* "$dir"/.partial-*; do
    [ -d "$d" ] || continue
    name=${d##*/}
    case "$name" in
      .partial-*) printf 'DOK-PARTIAL %s\n' "${name#.partial-}" ;;
      *) if [ -f "$d/backup.json" ]; then
           printf 'DOK-ENTRY %s\n' "$(tr -d '\n' < "$d/backup.json")"
         else
           printf 'DOK-PARTIAL %s\n' "$name"
         fi ;;
    esac
  done
}

# Reads backup.json of NAME (written by this script, one field per line) without a JSON parser.
field() {
  sed -n -e "s/^  \"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" -e "s/^  \"$2\": \([^\",]*\),\{0,1\}\$/\1/p" \
    "$dir/$1/backup.json" | head -n 1
}

verify() {
  local name=$1 file want_sum want_size sum size
  check_name "$name"
  [ -d "$dir/$name" ] || err "backup $name is not in $DOK_DIR of the backup volume (the catalog lists what is there)"
  [ -f "$dir/$name/backup.json" ] || err "backup $name has no backup.json: it did not complete"
  [ "$(field "$name" format)" = "$FORMAT" ] || err "backup $name has format '$(field "$name" format)', this version reads $FORMAT"
  file=$(field "$name" file)
  want_sum=$(field "$name" sha256)
  want_size=$(field "$name" size_bytes)
  if [ -z "$file" ] || [ ! -f "$dir/$name/$file" ]; then err "backup $name lists file '$file', which is missing"; fi
  size=$(stat -c %s "$dir/$name/$file")
  [ "$size" = "$want_size" ] || err "backup $name is corrupt: $file has $size bytes, $want_size were written"
  sum=$(sha256sum "$dir/$name/$file" | cut -d' ' -f1)
  [ "$sum" = "$want_sum" ] || err "backup $name is corrupt: the SHA-256 of $file is $sum, $want_sum was written"
  gzip -t "$dir/$name/$file" 2>/dev/null || err "backup $name is corrupt: $file is not a complete gzip stream"
}

backup() {
  local name=$1 tmp dest dbs version start end t0 t1 size sum list_json db
  check_name "$name"
  need DOK_HOST DOK_USER DOK_ENGINE DOK_CLUSTER DOK_NAMESPACE
  dest=$dir/$name
  tmp=$dir/.partial-$name
  [ ! -e "$dest" ] || err "backup $name already exists in $DOK_DIR; give another backup_name"
  mkdir -p "$dir" || err "cannot create $DOK_DIR on the backup volume"
  rm -rf "$tmp"
  mkdir "$tmp" || err "cannot create $tmp on the backup volume"
  version=$(client -N -B -e 'SELECT VERSION()' 2>"$tmp/client.err") ||
    err "cannot connect to $DOK_HOST:${DOK_PORT:-3306} as $DOK_USER: $(cat "$tmp/client.err")"
  if [ -n "${DOK_DATABASES:-}" ]; then
    dbs=$(printf '%s\n' "$DOK_DATABASES" | tr ' ' '\n' | sed '/^$/d')
  else
    dbs=$(client -N -B -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN
      ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY schema_name" 2>"$tmp/client.err") ||
      err "cannot list the databases: $(cat "$tmp/client.err")"
  fi
  [ -n "$dbs" ] || err "the server has no database of its users to back up"
  # One name per line from the server; every name must pass through a word list and a JSON string unchanged.
  while IFS= read -r db; do
    [[ $db =~ ^[A-Za-z0-9_$]{1,64}$ ]] ||
      err "database '$db' has a name of characters other than letters, digits, _ and \$, which this backup does not pass on; list the others in backup_databases"
  done <<< "$dbs"
  start=$(now)
  t0=$(ms)
  # One transaction snapshot for all InnoDB tables: every row committed before it, none after, no transaction torn.
  # shellcheck disable=SC2086 # the database names are one per word
  if ! "${DOK_DUMP:-mariadb-dump}" --protocol=TCP --host="$DOK_HOST" --port="${DOK_PORT:-3306}" --user="$DOK_USER" \
      --single-transaction --routines --events --triggers --hex-blob --default-character-set=utf8mb4 \
      --databases $dbs 2>"$tmp/dump.err" | gzip -c -"${DOK_GZIP_LEVEL:-6}" > "$tmp/dump.sql.gz"; then
    err "the dump failed: $(tail -n 5 "$tmp/dump.err")"
  fi
  t1=$(ms)
  end=$(now)
  gzip -dc "$tmp/dump.sql.gz" | tail -n 1 | grep -q '^-- Dump completed' ||
    err "the dump ended without its completion line: $(tail -n 5 "$tmp/dump.err")"
  size=$(stat -c %s "$tmp/dump.sql.gz")
  sum=$(sha256sum "$tmp/dump.sql.gz" | cut -d' ' -f1)
  list_json=
  for db in $dbs; do list_json="$list_json${list_json:+, }$(json_str "$db")"; done
  {
    echo "{"
    echo "  \"format\": $FORMAT,"
    echo "  \"name\": $(json_str "$name"),"
    echo "  \"engine\": $(json_str "$DOK_ENGINE"),"
    echo "  \"method\": \"logical\","
    echo "  \"cluster\": $(json_str "$DOK_CLUSTER"),"
    echo "  \"namespace\": $(json_str "$DOK_NAMESPACE"),"
    echo "  \"version\": $(json_str "$version"),"
    echo "  \"databases\": [$list_json],"
    echo "  \"file\": \"dump.sql.gz\","
    echo "  \"size_bytes\": $size,"
    echo "  \"sha256\": \"$sum\","
    echo "  \"start\": \"$start\","
    echo "  \"end\": \"$end\","
    echo "  \"duration_ms\": $((t1 - t0)),"
    echo "  \"consistency\": \"single-transaction snapshot taken at start\","
    echo "  \"encrypted\": false"
    echo "}"
  } > "$tmp/backup.json" || err "cannot write backup.json"
  rm -f "$tmp/client.err" "$tmp/dump.err"
  sync "$tmp/dump.sql.gz" "$tmp/backup.json" 2>/dev/null || sync
  mv "$tmp" "$dest" || err "cannot move the finished backup into place"
  printf 'DOK-BACKUP %s\n' "$(tr -d '\n' < "$dest/backup.json")"
}

databases() {
  # The "databases" list of backup.json, one name per line.
  sed -n 's/^  "databases": \[\(.*\)\],$/\1/p' "$dir/$1/backup.json" | tr ',' '\n' | tr -d ' "'
}

family() {
  case "$1" in mariadb|mysql) echo mariadb ;; *) echo "$1" ;; esac
}

restore() {
  local name=$1 t0 t1 file db found present='' engine
  # Everything up to the load only reads: a refusal here leaves the target as it was.
  ERR_TAIL='; nothing was loaded, the target is as it was'
  verify "$name"
  need DOK_HOST DOK_USER
  engine=$(field "$name" engine)
  if [ -n "${DOK_TARGET_ENGINE:-}" ] && [ "$(family "$engine")" != "$(family "$DOK_TARGET_ENGINE")" ]; then
    err "backup $name is a $engine backup and the target runs $DOK_TARGET_ENGINE"
  fi
  printf 'DOK-VERIFIED %s\n' "$(tr -d '\n' < "$dir/$name/backup.json")"
  client -N -B -e 'SELECT 1' >/dev/null 2>/tmp/client.err ||
    err "cannot connect to the target $DOK_HOST:${DOK_PORT:-3306} as $DOK_USER: $(cat /tmp/client.err)"
  # A database of the backup that the target already has is overwritten table by table: only when confirmed.
  for db in $(databases "$name"); do
    [[ $db =~ ^[A-Za-z0-9_$]{1,64}$ ]] || err "backup $name lists database '$db', which this restore does not load"
    found=$(client -N -B -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$db'" 2>/tmp/client.err) ||
      err "cannot read the databases of the target: $(cat /tmp/client.err)"
    [ "$found" = 0 ] || present="$present${present:+, }$db"
  done
  if [ -n "$present" ] && [ "${DOK_OVERWRITE:-false}" != true ]; then
    err "the target already has database(s) $present of backup $name. Restore into an empty cluster, or confirm that their tables are replaced by the backup's (restore_confirm: true)"
  fi
  ERR_TAIL=''
  file=$(field "$name" file)
  t0=$(ms)
  gzip -dc "$dir/$name/$file" | client --default-character-set=utf8mb4 2>/tmp/load.err ||
    err "loading backup $name into $DOK_HOST failed, the target may hold part of it: $(tail -n 5 /tmp/load.err)"
  t1=$(ms)
  printf 'DOK-RESTORED {"name": %s, "duration_ms": %s, "size_bytes": %s}\n' \
    "$(json_str "$name")" "$((t1 - t0))" "$(field "$name" size_bytes)"
}

prune() {
  local name
  for name in "$@"; do
    check_name "$name"
    [ -f "$dir/$name/backup.json" ] || err "backup $name is not a complete backup in $DOK_DIR; nothing of it was deleted"
  done
  for name in "$@"; do
    rm -rf "${dir:?}/$name" || err "cannot delete backup $name"
    printf 'DOK-PRUNED %s\n' "$name"
  done
}

# Retention, the same rule as module_utils/backup.py expired(): newest first by end time (then name), the newest and
# the one just taken ($1) never expire; beyond the $DOK_KEEP newest or ended before $DOK_MAX_AGE_DAYS days ago does.
expired() {
  local protect=${1:-} keep=${DOK_KEEP:-0} days=${DOK_MAX_AGE_DAYS:-0} limit='' d name end rank=0 list
  [[ $keep =~ ^[0-9]+$ ]] || err "DOK_KEEP '$keep' is not a whole number"
  [[ $days =~ ^[0-9]+$ ]] || err "DOK_MAX_AGE_DAYS '$days' is not a whole number"
  if [ "$days" -gt 0 ]; then
    limit=$(date -u -d "@$(( ${DOK_NOW:-$(date +%s)} - days * 86400 ))" +%Y-%m-%dT%H:%M:%SZ) || err "cannot compute the age limit"
  fi
  [ -d "$dir" ] || return 0
  list=${TMPDIR:-/tmp}/dok-retention.$$
  : > "$list" || err "cannot write $list"
  for d in "$dir"/*/backup.json; do
    [ -f "$d" ] || continue
    name=${d%/backup.json}
    name=${name##*/}
    end=$(field "$name" end)
    [[ $end =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
      { rm -f "$list"; err "backup $name has end '$end', not a UTC time; retention deletes nothing"; }
    printf '%s %s\n' "$end" "$name" >> "$list"
  done
  LC_ALL=C sort -r "$list" | while read -r end name; do
    if [ "$rank" -gt 0 ] && [ "$name" != "$protect" ]; then
      if { [ "$keep" -gt 0 ] && [ "$rank" -ge "$keep" ]; } || { [ -n "$limit" ] && [[ $end < $limit ]]; }; then
        printf 'DOK-EXPIRED %s\n' "$name"
      fi
    fi
    rank=$((rank + 1))
  done
  rm -f "$list"
}

scheduled() {
  local name victims
  need DOK_CLUSTER
  name=$DOK_CLUSTER-$(date -u +%Y%m%d%H%M%S)
  backup "$name"
  victims=$(expired "$name") || { printf '%s\n' "$victims"; exit 2; }
  # shellcheck disable=SC2046 # one name per word
  [ -z "$victims" ] || prune $(printf '%s\n' "$victims" | sed 's/^DOK-EXPIRED //')
}

cmd=${1:-}
shift || true
case "$cmd" in
  backup) [ $# = 1 ] || err "usage: backup NAME"; backup "$1"; list ;;
  list) [ $# = 0 ] || err "usage: list"; list ;;
  verify) [ $# = 1 ] || err "usage: verify NAME"; verify "$1"
          printf 'DOK-VERIFIED %s\n' "$(tr -d '\n' < "$dir/$1/backup.json")" ;;
  restore) [ $# = 1 ] || err "usage: restore NAME"; restore "$1" ;;
  prune) [ $# -ge 1 ] || err "usage: prune NAME..."; prune "$@"; list ;;
  expired) [ $# -le 1 ] || err "usage: expired [PROTECTED-NAME]"; expired "${1:-}" ;;
  scheduled) [ $# = 0 ] || err "usage: scheduled"; scheduled; list ;;
  *) err "unknown command '$cmd' (backup, list, verify, restore, prune, expired, scheduled)" ;;
esac
