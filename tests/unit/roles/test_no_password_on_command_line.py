# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MariaDB/MySQL commands the roles run in pods, rendered from the roles' own Jinja and run by a real shell with
recording stand-ins for the clients: the password reaches the client as MYSQL_PWD from the pod's variable, never as
an argument. And the Cassandra smoke test gives both cqlsh kinds a request timeout a busy ring can meet."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CQL_PROBE = os.path.join(ROOT, "tests", "images", "cassandra", "rootfs", "opt", "cassandra", "bin", "cql-probe")
SECRET = "s3cret-Pw.42"
ENGINES = {"mariadb": "MARIADB_ROOT_PASSWORD", "mysql": "MYSQL_ROOT_PASSWORD"}
SQL_CLIENTS = ("mariadb", "mysql", "mariadb-upgrade", "mysql_upgrade")

init_plugin_loader()

# Records its argv and MYSQL_PWD as one JSON line; a SELECT of the smoke row answers with that row.
RECORDER = r"""#!%(python)s
import json, os, sys
with open(os.environ["DOK_RECORD"], "a") as log:
    log.write(json.dumps({"name": os.path.basename(sys.argv[0]), "argv": sys.argv[1:],
                          "MYSQL_PWD": os.environ.get("MYSQL_PWD")}) + "\n")
print("dok-smoke-ok")
"""

# A cqlsh of either kind: --help prints that kind's help; the first SELECT finds no row, so every statement runs.
CQLSH = r"""#!%(python)s
import json, os, sys
if sys.argv[1:] == ["--help"]:
    sys.stdout.write(open(os.environ["DOK_CQL_HELP"]).read())
    sys.exit(0)
record = os.environ["DOK_RECORD"]
seen = os.path.exists(record)
with open(record, "a") as log:
    log.write(json.dumps({"name": "cqlsh", "argv": sys.argv[1:]}) + "\n")
statement = sys.argv[sys.argv.index("-e") + 1]
if statement.startswith("SELECT") and seen:
    print("dok-smoke-ok")
"""

OFFICIAL_CQLSH_HELP = """Usage: cqlsh.py [options] [host [port]]

CQL Shell for Apache Cassandra

Options:
  --version             show program's version number and exit
  -h, --help            show this help message and exit
  -u USERNAME, --username=USERNAME
                        Authenticate as user.
  -e EXECUTE, --execute=EXECUTE
                        Execute the statement and quit.
  --connect-timeout=CONNECT_TIMEOUT
                        Specify the connection timeout in seconds (default: 5
                        seconds).
  --request-timeout=REQUEST_TIMEOUT
                        Specify the default request timeout in seconds
                        (default: 10 seconds).
"""


def role_templar(role, overrides):
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(ROOT, "roles", role, name), trusted_as_template=True))
    variables.update(overrides)
    return Templar(loader=loader, variables=variables)


def render(role, expression, **overrides):
    return role_templar(role, overrides).template(trust_as_template(expression))


def task(role, filename, name):
    with open(os.path.join(ROOT, "roles", role, "tasks", filename)) as handle:
        tasks = yaml.safe_load(handle)
    found = [t for t in walk(tasks) if t.get("name") == name]
    assert len(found) == 1, "%s: no single task named %r" % (filename, name)
    return found[0]


def walk(tasks):
    for item in tasks:
        yield item
        for key in ("block", "rescue", "always"):
            yield from walk(item.get(key, []))


def exec_command(role, filename, name, **overrides):
    """The command of a k8s_exec task, rendered with the task's own vars."""
    found = task(role, filename, name)
    variables = dict(overrides)
    for key, value in (found.get("vars") or {}).items():
        variables.setdefault(key, value)
    return render(role, found["kubernetes.core.k8s_exec"]["command"], **variables)


def run_in_pod(script, tmp_path, env_name, shell_argv=None, extra_env=None):
    """Run a script with sh as the pod would, the password in env_name; return what the clients were given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in SQL_CLIENTS:
        path = bin_dir / name
        path.write_text(RECORDER % {"python": sys.executable})
        path.chmod(0o755)
    record = tmp_path / "record.jsonl"
    env = {"PATH": "%s:%s" % (bin_dir, os.environ["PATH"]), "DOK_RECORD": str(record), env_name: SECRET}
    env.update(extra_env or {})
    result = subprocess.run(shell_argv or ["sh", "-c", script], env=env, capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def assert_password_from_environment(calls, command):
    assert calls, "no client ran: %s" % command
    for call in calls:
        assert call["name"] in SQL_CLIENTS
        assert not [a for a in call["argv"] if SECRET in a], call
        assert not [a for a in call["argv"] if a.startswith("--password") or a.startswith("-p")], call
        assert call["MYSQL_PWD"] == SECRET, call


def assert_no_password_in_text(command, env_name):
    assert SECRET not in command
    assert "--password" not in command
    assert not [w for w in shlex.split(command) if w.startswith("-p")], command
    assert 'MYSQL_PWD="$%s"' % env_name in command


# rolling_upgrade

def rolling_upgrade_vars(engine):
    return {"rolling_upgrade_engine": engine, "rolling_upgrade_name": "db1", "rolling_upgrade_namespace": "ns1",
            "rolling_upgrade_image": "docker.io/library/%s:11.8" % engine, "__rolling_upgrade_sql_pod": "db1-0"}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_rolling_upgrade_sql_takes_the_password_from_the_environment(engine, tmp_path):
    command = exec_command("rolling_upgrade", "sql.yml", "Run {{ __rolling_upgrade_sql_purpose }}",
                           __rolling_upgrade_sql="SELECT VERSION()", **rolling_upgrade_vars(engine))
    argv = shlex.split(command)
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    assert_no_password_in_text(command, ENGINES[engine])
    calls = run_in_pod(argv[2], tmp_path, ENGINES[engine])
    assert_password_from_environment(calls, command)
    assert [c["name"] for c in calls] == [engine]
    assert calls[0]["argv"][-2:] == ["-e", "SELECT VERSION()"]


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", ["Check whether the system tables need an upgrade",
                                  "Run the MariaDB upgrade tool in the new pod"])
def test_rolling_upgrade_upgrade_tool_takes_the_password_from_the_environment(engine, name, tmp_path):
    command = exec_command("rolling_upgrade", "finish.yml", name, **rolling_upgrade_vars(engine))
    argv = shlex.split(command)
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    assert_no_password_in_text(command, ENGINES[engine])
    calls = run_in_pod(argv[2], tmp_path, ENGINES[engine])
    assert_password_from_environment(calls, command)
    assert [c["name"] for c in calls] == ["mariadb-upgrade" if engine == "mariadb" else "mysql_upgrade"]


def test_rolling_upgrade_a_named_password_variable_is_the_one_read(tmp_path):
    command = exec_command("rolling_upgrade", "sql.yml", "Run {{ __rolling_upgrade_sql_purpose }}",
                           __rolling_upgrade_sql="SELECT 1", rolling_upgrade_login_password_env="APP_PW",
                           rolling_upgrade_login_user="app", **rolling_upgrade_vars("mariadb"))
    assert_no_password_in_text(command, "APP_PW")
    calls = run_in_pod(shlex.split(command)[2], tmp_path, "APP_PW")
    assert_password_from_environment(calls, command)
    assert calls[0]["argv"][calls[0]["argv"].index("-u") + 1] == "app"


# failover_test

def failover_vars(engine, **extra):
    variables = {"failover_test_engine": engine, "failover_test_name": "db1", "failover_test_namespace": "ns1",
                 "failover_test_password_env": ENGINES[engine], "__failover_test_run": "r20260101000000"}
    variables.update(extra)
    return variables


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_failover_local_client_takes_the_password_from_the_environment(engine, tmp_path):
    command = render("failover_test", "{{ _failover_test_local_exec }}",
                     __failover_test_sql="SELECT COUNT(*) FROM dok_failover.probe_rows;", **failover_vars(engine))
    argv = shlex.split(command)
    assert argv[:2] == ["sh", "-c"] and len(argv) == 3
    assert_no_password_in_text(command, ENGINES[engine])
    calls = run_in_pod(argv[2], tmp_path, ENGINES[engine])
    assert_password_from_environment(calls, command)
    assert [c["name"] for c in calls] == [engine]
    assert calls[0]["argv"][calls[0]["argv"].index("-h") + 1] == "127.0.0.1"


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_failover_probe_pod_script_takes_the_password_from_the_environment(engine, tmp_path):
    found = task("failover_test", "probe_start.yml", "Start the probe pod")
    script = render("failover_test", found["vars"]["__failover_test_probe_script"],
                    **failover_vars(engine, failover_test_probe_max_seconds=1, failover_test_probe_interval_ms=400))
    assert_no_password_in_text(script, ENGINES[engine])
    # The script keeps its state in /tmp of the probe pod; here in the test's own directory.
    script = script.replace("/tmp/", "%s/" % tmp_path)
    calls = run_in_pod(script, tmp_path, ENGINES[engine])
    assert_password_from_environment(calls, script)
    assert {c["argv"][c["argv"].index("-h") + 1] for c in calls} == {"db1-public"}
    assert {c["argv"][-1] for c in calls} == {"SELECT 1"}


def test_failover_without_a_password_variable_sets_no_mysql_pwd():
    command = render("failover_test", "{{ _failover_test_local_exec }}", __failover_test_sql="SELECT 1",
                     **failover_vars("mariadb", failover_test_password_env="",
                                     _failover_test_engines={"mariadb": {
                                         "binary": "mariadb", "container": "mariadb", "port": 3306, "user": "root",
                                         "password_env": "", "probe_sql": "SELECT 1"}}))
    assert "MYSQL_PWD" not in command and "--password" not in command


# db_cluster smoke test

def smoke_command(engine, **extra):
    variables = dict({"db_cluster_engine": engine, "db_cluster_name": "db1", "db_cluster_namespace": "ns1"}, **extra)
    return render("db_cluster", "{{ _db_cluster_smoke_commands[_db_cluster_family] }}", **variables)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_db_cluster_smoke_takes_the_password_from_the_environment(engine, tmp_path):
    command = smoke_command(engine)
    argv = shlex.split(command)
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    assert_no_password_in_text(command, ENGINES[engine])
    calls = run_in_pod(argv[2], tmp_path, ENGINES[engine], shell_argv=["sh", "-c", argv[2]])
    assert_password_from_environment(calls, command)
    assert [c["name"] for c in calls] == [engine]
    assert "--user=root" in calls[0]["argv"]


def cql_help(kind, tmp_path):
    path = tmp_path / ("help-%s.txt" % kind)
    if kind == "official":
        path.write_text(OFFICIAL_CQLSH_HELP)
    else:
        result = subprocess.run([sys.executable, CQL_PROBE, "--help"], capture_output=True, text=True, check=True)
        path.write_text(result.stdout)
    return path


def run_cassandra_smoke(kind, tmp_path):
    command = smoke_command("cassandra")
    argv = shlex.split(command)
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cqlsh").write_text(CQLSH % {"python": sys.executable})
    (bin_dir / "cqlsh").chmod(0o755)
    record = tmp_path / "record.jsonl"
    env = {"PATH": "%s:%s" % (bin_dir, os.environ["PATH"]), "DOK_RECORD": str(record),
           "DOK_CQL_HELP": str(cql_help(kind, tmp_path))}
    result = subprocess.run(["sh", "-c", argv[2]], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "dok-smoke-ok" in result.stdout.splitlines() and "inserted=1" in result.stdout.splitlines()
    return [json.loads(line)["argv"] for line in record.read_text().splitlines()]


def test_cassandra_smoke_gives_the_official_cqlsh_a_60_second_request_timeout(tmp_path):
    calls = run_cassandra_smoke("official", tmp_path)
    statements = [c[c.index("-e") + 1].split()[:2] for c in calls]
    assert statements == [["SELECT", "v"], ["CREATE", "KEYSPACE"], ["CREATE", "TABLE"], ["INSERT", "INTO"],
                          ["SELECT", "v"]]
    for argv in calls:
        assert "--request-timeout=60" in argv, argv
        assert "--timeout" not in argv, argv


def test_cassandra_smoke_gives_the_test_images_cqlsh_a_60_second_timeout(tmp_path):
    calls = run_cassandra_smoke("probe", tmp_path)
    assert len(calls) == 5
    for argv in calls:
        assert argv[argv.index("--timeout") + 1] == "60", argv
        assert not [a for a in argv if a.startswith("--request-timeout")], argv


class RecordingCluster:
    """Stands in for cassandra.cluster.Cluster in cql-probe: keeps the timeouts it was given, runs nothing."""

    calls = []

    def __init__(self, contact_points, port, connect_timeout, execution_profiles, **kwargs):
        profile = list(execution_profiles.values())[0]
        RecordingCluster.calls.append((connect_timeout, profile.request_timeout))

    def connect(self):
        return self

    def execute(self, statement):
        return []

    def shutdown(self):
        pass


def test_cassandra_smoke_options_are_ones_the_test_images_cqlsh_takes(tmp_path, monkeypatch):
    loader = importlib.machinery.SourceFileLoader("cql_probe", CQL_PROBE)
    probe = importlib.util.module_from_spec(importlib.util.spec_from_loader("cql_probe", loader))
    loader.exec_module(probe)
    monkeypatch.setattr(probe, "Cluster", RecordingCluster)
    monkeypatch.setattr(probe, "WhiteListRoundRobinPolicy", lambda hosts: hosts)
    RecordingCluster.calls = []
    calls = run_cassandra_smoke("probe", tmp_path)
    for argv in calls:
        monkeypatch.setattr(sys, "argv", ["cqlsh", "--host", "127.0.0.1"] + argv)
        assert probe.main() == 0, argv
    assert RecordingCluster.calls == [(60.0, 60.0)] * len(calls)
