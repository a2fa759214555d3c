# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/backup/files/dok-backup.sh, the storage side of backup and restore, run with stand-in database clients.

The stand-ins answer the few queries the script makes and record what they are given; the real clients are used by
the backup_mariadb integration target. What the script prints is read with module_utils/backup, as the roles do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import os
import shutil
import subprocess

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.backup import expired, parse_job_log

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "roles", "backup", "files", "dok-backup.sh")

# A stand-in `mariadb`: answers VERSION(), the list of databases and the per-database existence check from files in
# $FAKE_DIR, and records a load (its stdin) into $FAKE_DIR/loaded.sql.
FAKE_CLIENT = r"""#!/bin/bash
for a in "$@"; do case "$a" in --password*|-p*) echo "password on the command line" >&2; exit 9 ;; esac; done
[ "${MYSQL_PWD:-}" = secret ] || { echo "ERROR 1045 (28000): Access denied" >&2; exit 1; }
sql=
while [ $# -gt 0 ]; do [ "$1" = -e ] && { sql=$2; shift; }; shift; done
case "$sql" in
  "SELECT VERSION()") echo "11.8.3-MariaDB-0+deb13u1" ;;
  "SELECT 1") echo 1 ;;
  *information_schema.schemata*"= '"*) db=${sql##*= \'}; db=${db%\'}
     if grep -qx "$db" "$FAKE_DIR/target-dbs" 2>/dev/null; then echo 1; else echo 0; fi ;;
  *information_schema.schemata*) cat "$FAKE_DIR/dbs" ;;
  "") cat > "$FAKE_DIR/loaded.sql" ;;
  *) echo "unexpected SQL: $sql" >&2; exit 3 ;;
esac
"""
FAKE_DUMP = r"""#!/bin/bash
[ "${MYSQL_PWD:-}" = secret ] || { echo "Got error: 1045: Access denied" >&2; exit 2; }
[ -e "$FAKE_DIR/dump-fails" ] && { echo "Got error: 2013: Lost connection" >&2; echo "CREATE TABLE half"; exit 2; }
echo "$@" > "$FAKE_DIR/dump-args"
echo "CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`it\`;"
echo "INSERT INTO t VALUES (1),(2);"
echo "-- Dump completed on 2026-12-06 12:00:00"
"""


@pytest.fixture
def env(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, text in (("mariadb", FAKE_CLIENT), ("mariadb-dump", FAKE_DUMP)):
        path = bindir / name
        path.write_text(text)
        path.chmod(0o755)
    store = tmp_path / "store"
    store.mkdir()
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "dbs").write_text("it\nshop\n")
    return {"PATH": "%s:%s" % (bindir, os.environ["PATH"]), "DOK_STORE": str(store), "DOK_DIR": "ns/db",
            "DOK_HOST": "db-public.ns.svc", "DOK_USER": "root", "DOK_ENGINE": "mariadb", "DOK_CLUSTER": "db",
            "DOK_NAMESPACE": "ns", "MYSQL_PWD": "secret", "FAKE_DIR": str(fake), "TMPDIR": str(tmp_path)}


def run(env, *args, **extra):
    if shutil.which("bash") is None or shutil.which("sha256sum") is None:
        pytest.skip("bash and coreutils are needed to run the storage script")
    e = dict(env, **extra)
    p = subprocess.run(["bash", SCRIPT] + list(args), env=e, capture_output=True, text=True, timeout=60, check=False)
    return p.returncode, parse_job_log(p.stdout), p


def test_backup_writes_a_verifiable_entry_and_lists_it(env):
    rc, out, p = run(env, "backup", "db-1")
    assert rc == 0, p.stdout + p.stderr
    b = out["backup"]
    assert b["name"] == "db-1" and b["databases"] == ["it", "shop"] and b["version"] == "11.8.3-MariaDB-0+deb13u1"
    dump = os.path.join(env["DOK_STORE"], "ns", "db", "db-1", "dump.sql.gz")
    with open(dump, "rb") as f:
        data = f.read()
    assert b["size_bytes"] == len(data) and b["sha256"] == hashlib.sha256(data).hexdigest()
    assert gzip.decompress(data).decode().rstrip().endswith("-- Dump completed on 2026-12-06 12:00:00")
    assert [e["name"] for e in out["entries"]] == ["db-1"]
    args = open(os.path.join(env["FAKE_DIR"], "dump-args")).read().split()
    assert "--single-transaction" in args and args[-3:] == ["--databases", "it", "shop"]
    assert not any(a.startswith(("-p", "--password")) for a in args)
    rc, out, _proc = run(env, "verify", "db-1")
    assert rc == 0 and out["verified"]["name"] == "db-1"


def test_a_name_is_taken_once(env):
    assert run(env, "backup", "db-1")[0] == 0
    rc, out, _proc = run(env, "backup", "db-1")
    assert rc != 0 and "already exists" in out["errors"][0]


@pytest.mark.parametrize("name", ["../x", "A", "-x", "x" * 129, "a/b", ""])
def test_bad_names_are_refused(env, name):
    rc, out, _proc = run(env, "backup", name)
    assert rc != 0 and out["errors"]
    assert not os.listdir(env["DOK_STORE"])


def test_a_failed_dump_leaves_only_a_partial_backup(env):
    open(os.path.join(env["FAKE_DIR"], "dump-fails"), "w").close()
    rc, out, _proc = run(env, "backup", "db-1")
    assert rc != 0 and "the dump failed" in out["errors"][0] and "Lost connection" in out["errors"][0]
    rc, out, _proc = run(env, "list")
    assert rc == 0 and out["entries"] == [] and out["partial"] == ["db-1"]
    rc, out, _proc = run(env, "verify", "db-1")
    assert rc != 0 and "is not in ns/db" in out["errors"][0]
    os.remove(os.path.join(env["FAKE_DIR"], "dump-fails"))
    rc, out, _proc = run(env, "backup", "db-1")
    assert rc == 0 and out["partial"] == [] and [e["name"] for e in out["entries"]] == ["db-1"]


def test_wrong_password_is_a_clear_error(env):
    rc, out, _proc = run(env, "backup", "db-1", MYSQL_PWD="wrong")
    assert rc != 0 and "cannot connect" in out["errors"][0] and "Access denied" in out["errors"][0]


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[:-1], "bytes, "),
    (lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 0xFF]) + b[len(b) // 2 + 1:], "the SHA-256 of dump.sql.gz"),
])
def test_a_corrupt_backup_is_refused_before_the_target_is_touched(env, damage, words):
    assert run(env, "backup", "db-1")[0] == 0
    dump = os.path.join(env["DOK_STORE"], "ns", "db", "db-1", "dump.sql.gz")
    with open(dump, "rb") as f:
        data = f.read()
    with open(dump, "wb") as f:
        f.write(damage(data))
    rc, out, _proc = run(env, "restore", "db-1")
    assert rc != 0 and "is corrupt" in out["errors"][0] and words in out["errors"][0]
    assert not os.path.exists(os.path.join(env["FAKE_DIR"], "loaded.sql"))


def test_restore_refuses_databases_the_target_has_unless_confirmed(env):
    assert run(env, "backup", "db-1")[0] == 0
    with open(os.path.join(env["FAKE_DIR"], "target-dbs"), "w") as f:
        f.write("shop\n")
    rc, out, _proc = run(env, "restore", "db-1")
    assert rc != 0 and "already has database(s) shop" in out["errors"][0]
    assert out["errors"][0].endswith("; nothing was loaded, the target is as it was")
    assert not os.path.exists(os.path.join(env["FAKE_DIR"], "loaded.sql"))
    rc, out, p = run(env, "restore", "db-1", DOK_OVERWRITE="true")
    assert rc == 0, p.stdout + p.stderr
    assert out["restored"]["name"] == "db-1" and out["verified"]["name"] == "db-1"
    loaded = open(os.path.join(env["FAKE_DIR"], "loaded.sql")).read()
    assert loaded.startswith("CREATE DATABASE") and "INSERT INTO t VALUES (1),(2);" in loaded


def test_prune_deletes_only_complete_named_backups(env):
    for n in ("db-1", "db-2", "db-3"):
        assert run(env, "backup", n)[0] == 0
    rc, out, _proc = run(env, "prune", "db-1", "db-9")
    assert rc != 0 and "db-9" in out["errors"][0]
    rc, out, _proc = run(env, "list")
    assert sorted(e["name"] for e in out["entries"]) == ["db-1", "db-2", "db-3"]
    rc, out, _proc = run(env, "prune", "db-1", "db-2")
    assert rc == 0 and out["pruned"] == ["db-1", "db-2"] and [e["name"] for e in out["entries"]] == ["db-3"]


@pytest.mark.parametrize("args, extra", [
    (["frobnicate"], {}),
    (["list", "extra"], {}),
    (["list"], {"DOK_DIR": "../etc"}),
    (["list"], {"DOK_DIR": "a/b/c"}),
    (["list"], {"DOK_STORE": "/nonexistent-store"}),
])
def test_bad_calls_are_refused(env, args, extra):
    rc, out, _proc = run(env, *args, **extra)
    assert rc != 0 and len(out["errors"]) == 1


# The CronJob's retention (dok-backup.sh expired) and the role's (module_utils/backup.expired) are one rule.
NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=timezone.utc)


def write_catalog(store, ends):
    base = os.path.join(store, "ns", "db")
    shutil.rmtree(base, ignore_errors=True)
    entries = []
    for i, end in enumerate(ends):
        name = "db-%d" % i
        os.makedirs(os.path.join(base, name))
        stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = ['  "format": 1,', '  "name": "%s",' % name, '  "start": "%s",' % stamp, '  "end": "%s",' % stamp]
        with open(os.path.join(base, name, "backup.json"), "w") as f:
            f.write("{\n" + "\n".join(lines) + '\n  "encrypted": false\n}\n')
        entries.append({"format": 1, "name": name, "engine": "mariadb", "method": "logical", "cluster": "db",
                        "namespace": "ns", "version": "11.8", "databases": ["it"], "file": "dump.sql.gz",
                        "size_bytes": 1, "sha256": "0" * 64, "start": stamp, "end": stamp, "duration_ms": 0,
                        "consistency": "", "encrypted": False})
    return entries


@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 3600), max_size=8),
       st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=45), st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_scheduled_retention_agrees_with_the_role(env, ages, keep, days, data):
    ends = [NOW - timedelta(seconds=a) for a in ages]
    entries = write_catalog(env["DOK_STORE"], ends)
    names = [e["name"] for e in entries]
    protect = data.draw(st.sampled_from(names)) if names else ""
    rc, out, proc = run(env, "expired", protect, DOK_KEEP=str(keep), DOK_MAX_AGE_DAYS=str(days),
                        DOK_NOW=str(int(NOW.timestamp())))
    assert rc == 0, proc.stdout + proc.stderr
    want = expired(entries, keep, days, NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), (protect,) if protect else ())
    assert sorted(out["expired"]) == sorted(want)


def test_a_scheduled_run_backs_up_then_applies_retention(env):
    for n in ("db-20200101000001", "db-20200101000002", "db-20200101000003"):
        assert run(env, "backup", n)[0] == 0
    rc, out, proc = run(env, "scheduled", DOK_KEEP="2")
    assert rc == 0, proc.stdout + proc.stderr
    taken = out["backup"]["name"]
    assert taken.startswith("db-") and taken not in ("db-20200101000003",)
    assert len(out["pruned"]) == 2 and taken not in out["pruned"]
    assert len(out["entries"]) == 2 and out["entries"][0]["name"] in (taken, "db-20200101000003")


def test_retention_refuses_a_catalog_it_cannot_read(env):
    write_catalog(env["DOK_STORE"], [NOW])
    path = os.path.join(env["DOK_STORE"], "ns", "db", "db-0", "backup.json")
    with open(path) as f:
        text = f.read().replace('"end": "', '"end": "yesterday ')
    with open(path, "w") as f:
        f.write(text)
    write_more = os.path.join(env["DOK_STORE"], "ns", "db", "db-9")
    os.makedirs(write_more)
    rc, out, _proc = run(env, "expired", DOK_KEEP="1")
    assert rc != 0 and "not a UTC time" in out["errors"][0] and out["expired"] == []


def test_a_database_name_that_cannot_pass_is_refused(env):
    with open(os.path.join(env["FAKE_DIR"], "dbs"), "w") as f:
        f.write("it\nmy db\n")
    rc, out, _proc = run(env, "backup", "db-1")
    assert rc != 0 and "database 'my db' has a name" in out["errors"][0]
    assert not os.path.exists(os.path.join(env["DOK_STORE"], "ns", "db", "db-1"))


@pytest.mark.parametrize("target, refused", [("cassandra", True), ("mysql", False), ("mariadb", False)])
def test_restore_refuses_a_backup_of_another_engine(env, target, refused):
    assert run(env, "backup", "db-1")[0] == 0
    rc, out, _proc = run(env, "restore", "db-1", DOK_TARGET_ENGINE=target)
    if refused:
        assert rc != 0 and "is a mariadb backup and the target runs cassandra" in out["errors"][0]
        assert not os.path.exists(os.path.join(env["FAKE_DIR"], "loaded.sql"))
    else:
        assert rc == 0 and out["restored"]["name"] == "db-1"
