# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster's accounts.yml script (the application user of an existing MariaDB/MySQL server), rendered from the
role's vars and run by a real `sh` with a recording stand-in client: the user is created only when missing, its
password and the root password never reach an argv, and hostile values stay inside their SQL literals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shlex
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from .db_cluster_render import CASES, evaluate, load_tasks

# Records argv, MYSQL_PWD and stdin as one JSON line; a COUNT(*) query answers from $FAKE_USERS.
CLIENT = r"""#!%(python)s
import json, os, sys
sql = sys.stdin.read()
with open(os.environ["DOK_RECORD"], "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "MYSQL_PWD": os.environ.get("MYSQL_PWD"), "sql": sql}) + "\n")
if os.environ.get("MYSQL_PWD") != os.environ.get("FAKE_ROOT_PW"):
    sys.stderr.write("ERROR 1045 (28000): Access denied for user 'root'@'localhost'\n")
    sys.exit(1)
if sql.startswith("SELECT COUNT(*) FROM mysql.user"):
    print(os.environ.get("FAKE_USERS", "0"))
"""


def script():
    return evaluate(CASES["mariadb-statefulset"], "{{ _db_cluster_account_script }}")


def run(tmp_path, prefix="MARIADB", client="mariadb", users="0", **env):
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    fake = bindir / client
    fake.write_text(CLIENT % {"python": sys.executable})
    fake.chmod(0o755)
    record = tmp_path / "record.jsonl"
    if record.exists():
        record.unlink()
    full = {"PATH": "%s:/usr/bin:/bin" % bindir, "DOK_RECORD": str(record), "FAKE_USERS": users,
            "FAKE_ROOT_PW": env.get(prefix + "_ROOT_PASSWORD", "")}
    full.update(env)
    # the command as the task hands it to k8s_exec, split the way the module splits it
    argv = shlex.split("sh -c %s sh %s %s" % (shlex.quote(script()), prefix, client))
    result = subprocess.run(argv, env=full, capture_output=True, text=True, timeout=30, check=False)
    calls = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return result, calls, argv


BASE = {"MARIADB_ROOT_PASSWORD": "r00t'pw\\", "MARIADB_USER": "wordpress", "MARIADB_PASSWORD": "us3r'pw\\x",
        "MARIADB_DATABASE": "wordpress"}


def test_missing_user_is_created_with_its_database_and_grant(tmp_path):
    result, calls, argv = run(tmp_path, **BASE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created"
    assert len(calls) == 2
    assert calls[0]["sql"] == "SELECT COUNT(*) FROM mysql.user WHERE User = 'wordpress' AND Host = '%';\n"
    assert calls[1]["sql"].splitlines() == [
        "CREATE DATABASE IF NOT EXISTS `wordpress`;",
        "CREATE USER 'wordpress'@'%' IDENTIFIED BY 'us3r\\'pw\\\\x';",
        "GRANT ALL ON `wordpress`.* TO 'wordpress'@'%';"]
    for call in calls:
        assert call["argv"][0] == "--user=root" and call["MYSQL_PWD"] == BASE["MARIADB_ROOT_PASSWORD"]
        for secret in (BASE["MARIADB_PASSWORD"], BASE["MARIADB_ROOT_PASSWORD"], "us3r", "r00t"):
            assert not any(secret in a for a in call["argv"])
    for secret in ("us3r", "r00t"):
        assert not any(secret in a for a in argv), "the exec's own argv holds no password"


def test_existing_user_is_left_alone(tmp_path):
    result, calls, dummy = run(tmp_path, users="1", **BASE)
    assert result.returncode == 0 and result.stdout.strip() == "exists"
    assert len(calls) == 1


def test_mysql_variables_and_client(tmp_path):
    env = {"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_USER": "app", "MYSQL_PASSWORD": "apppw", "MYSQL_DATABASE": "my_db"}
    result, calls, dummy = run(tmp_path, prefix="MYSQL", client="mysql", **env)
    assert result.stdout.strip() == "created", result.stderr
    assert "GRANT ALL ON `my\\_db`.* TO 'app'@'%';" in calls[1]["sql"], "an _ in the grant is a literal, not a wildcard"


@pytest.mark.parametrize("env, message", [
    (dict(BASE, MARIADB_ROOT_PASSWORD="wrong"), "Access denied"),
    ({k: v for k, v in BASE.items() if k != "MARIADB_USER"}, "the container has no MARIADB_USER"),
])
def test_failures_end_the_script_without_printing_a_result(tmp_path, env, message):
    result, calls, dummy = run(tmp_path, FAKE_ROOT_PW=BASE["MARIADB_ROOT_PASSWORD"], **env)
    assert result.returncode != 0 and message in result.stderr
    assert result.stdout.strip() not in ("created", "exists")


def test_unknown_prefix_is_refused(tmp_path):
    result, calls, dummy = run(tmp_path, prefix="POSTGRES", **BASE)
    assert result.returncode == 2 and "unknown variable prefix" in result.stderr and calls == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\n\r"), min_size=1,
                        max_size=40))
def test_any_password_stays_one_sql_literal(tmp_path, password):
    env = dict(BASE)
    env["MARIADB_PASSWORD"] = password
    result, calls, dummy = run(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    create = calls[1]["sql"].split("\n")[1]
    prefix, suffix = "CREATE USER 'wordpress'@'%' IDENTIFIED BY '", "';"
    assert create.startswith(prefix) and create.endswith(suffix)
    literal = create[len(prefix):-len(suffix)]
    # undo the SQL escaping: what the server stores is the password itself
    out, i = [], 0
    while i < len(literal):
        if literal[i] == "\\":
            out.append(literal[i + 1])
            i += 2
        else:
            assert literal[i] != "'", "an unescaped quote would end the literal"
            out.append(literal[i])
            i += 1
    assert "".join(out) == password


def test_the_task_reports_changed_only_when_it_created_the_user():
    tasks = [t for block in load_tasks("accounts.yml") for t in block.get("block", [block])]
    task = [t for t in tasks if "kubernetes.core.k8s_exec" in t][0]
    assert task["changed_when"] == "__db_cluster_account.stdout | trim == 'created'"
    assert "not in ['created', 'exists']" in task["failed_when"]
    assert os.path.basename(__file__).startswith("test_")
