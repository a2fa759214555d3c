# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cassandra commands of the failover_test role, fed to the cqlsh of the test image (tests/images/cassandra,
``cql-probe`` installed as ``cqlsh``) with a recording driver in place of a cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import os
import re
import shlex
import sys

import cassandra
import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.dok.databases.plugins.module_utils import pod_security

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "failover_test")
CQL_PROBE = os.path.join(ROOT, "tests", "images", "cassandra", "rootfs", "opt", "cassandra", "bin", "cql-probe")

init_plugin_loader()


def load_cql_probe():
    loader = importlib.machinery.SourceFileLoader("cql_probe", CQL_PROBE)
    spec = importlib.util.spec_from_loader("cql_probe", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Recorder:
    """Stands in for cassandra.cluster.Cluster: records what cql-probe would send, answers like a node."""

    calls = []

    def __init__(self, contact_points, port, connect_timeout, execution_profiles, **kwargs):
        profile = list(execution_profiles.values())[0]
        self.call = {"hosts": list(contact_points), "port": port, "consistency": profile.consistency_level,
                     "timeout": (connect_timeout, profile.request_timeout), "statements": []}
        Recorder.calls.append(self.call)

    def connect(self):
        return self

    def execute(self, statement):
        self.call["statements"].append(statement)
        if re.match(r"\s*CONSISTENCY\b", statement, re.I):
            raise ValueError("line 1:0 no viable alternative at input 'CONSISTENCY' (a cqlsh command, not CQL)")
        if one_statement(statement) is None:
            raise ValueError("line 1: more than one statement in %r" % statement)
        if statement.upper().startswith("SELECT COUNT"):
            return [(100, 5050)]
        return []

    def shutdown(self):
        pass


def one_statement(text):
    """The statement without its trailing semicolons, or None when the text holds several (a BATCH is one)."""
    body = re.sub(r"'[^']*'", "''", text).strip().rstrip(";").strip()
    if re.match(r"BEGIN\s+(UNLOGGED\s+)?BATCH\b", body, re.I) and re.search(r"APPLY\s+BATCH$", body, re.I):
        return body
    return None if ";" in body else body


def run_cqlsh(argv, monkeypatch):
    """Run cql-probe with argv (what follows `cqlsh` on a command line); returns (rc, the recorded call)."""
    probe = load_cql_probe()
    monkeypatch.setattr(probe, "Cluster", Recorder)
    monkeypatch.setattr(probe, "WhiteListRoundRobinPolicy", lambda hosts: hosts)  # it would resolve the names
    monkeypatch.setattr(sys, "argv", ["cqlsh"] + argv)
    Recorder.calls = []
    try:
        rc = probe.main()
    except SystemExit as exc:  # argparse refuses an option
        rc = exc.code
    return rc, (Recorder.calls[0] if Recorder.calls else None)


def cqlsh_argv(command):
    """The arguments after `cqlsh` in a command the role runs (unwrapping `sh -c` and `timeout N`)."""
    words = shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    return words[words.index("cqlsh") + 1:]


def evaluate(expression, **facts):
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(ROLE, name), trusted_as_template=True))
    variables.update({"failover_test_engine": "cassandra", "failover_test_name": "ring",
                      "failover_test_namespace": "ns1", "__failover_test_run": "r20260101000000"})
    variables.update(facts)
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template(expression))


def local_commands(**facts):
    """Every command the role runs with the local client, in order: setup, one insert batch, count, delete."""
    setup = evaluate("{{ _failover_test_sql_setup }}", **facts)
    values = ["('r20260101000000', %d, 'row-%d')" % (i, i) for i in (1, 2)]
    insert_into = "INSERT INTO dok_failover.probe_rows (run, id, v) VALUES "
    consistency = evaluate("{{ _failover_test_sql_consistency }}", **facts)
    statements = list(setup) + [
        consistency + "BEGIN UNLOGGED BATCH " + "; ".join(insert_into + v for v in values) + "; APPLY BATCH;",
        consistency + "SELECT COUNT(*), SUM(id) FROM dok_failover.probe_rows WHERE run = 'r20260101000000';",
        consistency + "DELETE FROM dok_failover.probe_rows WHERE run = 'r20260101000000';",
    ]
    return [evaluate("{{ _failover_test_local_exec }}", __failover_test_sql=s, **facts) for s in statements]


def test_the_probe_runs_on_the_test_images_cqlsh_against_the_public_service(monkeypatch):
    command = evaluate("{{ _failover_test_probe_command }}")
    rc, call = run_cqlsh(cqlsh_argv(command), monkeypatch)
    assert rc == 0, command
    assert call["hosts"] == ["ring-public"]
    assert call["port"] == 9042
    assert call["statements"] == ["SELECT release_version FROM system.local"]


def test_the_probe_uses_only_what_both_cqlsh_accept():
    assert evaluate("{{ _failover_test_probe_command }}", __failover_test_cql_probe=True) \
        == evaluate("{{ _failover_test_probe_command }}", __failover_test_cql_probe=False)
    command = evaluate("{{ _failover_test_probe_command }}")
    assert cqlsh_argv(command) == ["ring-public", "9042", "-e", "SELECT release_version FROM system.local"]


def test_every_local_statement_is_one_cql_statement_at_quorum_on_the_test_images_cqlsh(monkeypatch):
    commands = local_commands(__failover_test_cql_probe=True)
    assert len(commands) == 5
    quorum = cassandra.ConsistencyLevel.QUORUM
    for command in commands:
        assert shlex.split(command)[:2] == ["sh", "-c"]
        assert shlex.split(shlex.split(command)[2])[:2] == ["timeout", "120"]
        rc, call = run_cqlsh(cqlsh_argv(command), monkeypatch)
        assert rc == 0, command
        assert call["hosts"] == ["127.0.0.1"]
        assert call["consistency"] == quorum, command
        assert call["timeout"] == (60.0, 60.0)
        assert len(call["statements"]) == 1
    created = [cqlsh_argv(c)[-1] for c in commands[:2]]
    assert created[0].startswith("CREATE KEYSPACE IF NOT EXISTS dok_failover WITH replication = ")
    assert "'replication_factor': 3" in created[0]
    assert created[1].startswith("CREATE TABLE IF NOT EXISTS dok_failover.probe_rows (run text, id int, v text,")


def test_the_official_cqlsh_gets_the_consistency_as_its_shell_command():
    commands = local_commands(__failover_test_cql_probe=False)
    for command in commands[2:]:
        argv = cqlsh_argv(command)
        assert "--consistency" not in argv
        assert "--request-timeout=60" in argv
        assert argv[-2] == "-e"
        assert argv[-1].startswith("CONSISTENCY QUORUM; ")
    assert [cqlsh_argv(c)[:2] for c in commands] == [["127.0.0.1", "9042"]] * 5


def test_the_sql_clients_get_no_cassandra_option():
    for engine in ("cockroachdb", "kaiwudb", "mariadb", "mysql"):
        command = evaluate("{{ _failover_test_local_exec }}", failover_test_engine=engine, __failover_test_sql="SELECT 1")
        assert "--consistency" not in command and "timeout=60" not in command and "--timeout" not in command, command


def test_no_option_the_test_images_cqlsh_refuses_is_ever_sent(monkeypatch):
    for command in local_commands(__failover_test_cql_probe=True) + [evaluate("{{ _failover_test_probe_command }}")]:
        argv = cqlsh_argv(command)
        assert not [a for a in argv if a.startswith("--connect-timeout") or a in ("-u", "-p")], command


def test_the_sql_engines_keep_their_one_call_setup():
    assert evaluate("{{ _failover_test_sql_setup }}", failover_test_engine="cockroachdb") == [
        "CREATE DATABASE IF NOT EXISTS dok_failover; CREATE TABLE IF NOT EXISTS dok_failover.probe_rows "
        "(run VARCHAR(64) NOT NULL, id INT NOT NULL, v VARCHAR(64), PRIMARY KEY (run, id));"]
    assert evaluate("{{ _failover_test_sql_consistency }}", failover_test_engine="mariadb") == ""


@pytest.mark.parametrize("help_text, expected", [
    ("usage: cqlsh [-h] [-e STATEMENT] [--host HOST] [--port PORT] [--timeout TIMEOUT] [--consistency {ALL,ANY}]",
     True),
    ("Usage: cqlsh.py [options] [host [port]]\n  --connect-timeout=CONNECT_TIMEOUT\n  -e EXECUTE, --execute=EXECUTE",
     False),
    ("", False),
])
def test_the_client_kind_is_read_from_its_help(help_text, expected):
    assert evaluate("{{ _failover_test_cql_help_says_probe }}", __failover_test_cql_help={"stdout": help_text}) \
        is expected


@pytest.mark.parametrize("db_uid,probe_uid", [(999, 999), (1000, 1000), (0, 1000), (None, 1000)])
def test_the_probe_pod_passes_pod_security_restricted_as_the_database_user(db_uid, probe_uid):
    workload = {"spec": {"template": {"spec": {"containers": [{"name": "cassandra"}]}}}}
    if db_uid is not None:
        workload["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": db_uid}
    tasks = DataLoader().load_from_file(os.path.join(ROLE, "tasks", "discover.yml"), trusted_as_template=True)
    facts = [t for t in tasks if "__failover_test_probe_uid" in t.get("ansible.builtin.set_fact", {})][0]
    uid = evaluate(facts["ansible.builtin.set_fact"]["__failover_test_probe_uid"], __failover_test_workload=workload)
    text = evaluate("{{ lookup('ansible.builtin.template', 'probe_pod.yml.j2') }}", ansible_search_path=[ROLE],
                    __failover_test_probe_uid=uid, __failover_test_probe_image="dok.test/cassandra:5.0.8",
                    __failover_test_probe_script="true", __failover_test_probe_env=[],
                    __failover_test_cert_sources=[])
    pod = yaml.safe_load(text)
    assert pod["spec"]["securityContext"]["runAsUser"] == probe_uid
    assert "volumes" not in pod["spec"] and "fsGroup" not in pod["spec"]["securityContext"]
    assert pod_security.violations(pod["spec"], "restricted") == []


def test_the_probe_of_a_secure_cockroachdb_gets_its_client_certificate_and_no_node_key():
    certs = {"name": "certs", "projected": {"sources": [
        {"secret": {"name": "db-node-certs", "items": [{"key": k, "path": k} for k in ("ca.crt", "node.crt", "node.key")]}},
        {"secret": {"name": "db-root-certs", "items": [{"key": k, "path": k} for k in ("client.root.crt", "client.root.key")]}}]}}
    workload = {"spec": {"template": {"spec": {
        "securityContext": {"runAsUser": 1000},
        "containers": [{"name": "cockroachdb", "volumeMounts": [{"name": "certs", "mountPath": "/cockroach/cockroach-certs"}]}],
        "volumes": [certs]}}}}
    tasks = DataLoader().load_from_file(os.path.join(ROLE, "tasks", "discover.yml"), trusted_as_template=True)
    facts = [t for t in tasks if "__failover_test_cert_sources" in t.get("ansible.builtin.set_fact", {})][0]
    sources = evaluate(facts["ansible.builtin.set_fact"]["__failover_test_cert_sources"], failover_test_engine="cockroachdb",
                       __failover_test_workload=workload, __failover_test_db_container=workload["spec"]["template"]["spec"]["containers"])
    text = evaluate("{{ lookup('ansible.builtin.template', 'probe_pod.yml.j2') }}", ansible_search_path=[ROLE],
                    failover_test_engine="cockroachdb", __failover_test_probe_uid=1000,
                    __failover_test_probe_image="dok.test/cockroach-double:v23.1.11", __failover_test_probe_script="true",
                    __failover_test_probe_env=[], __failover_test_cert_sources=sources)
    pod = yaml.safe_load(text)
    mounted = [i["key"] for s in pod["spec"]["volumes"][0]["projected"]["sources"] for i in s["secret"]["items"]]
    assert sorted(mounted) == ["ca.crt", "client.root.crt", "client.root.key"]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "certs", "mountPath": "/cockroach/cockroach-certs", "readOnly": True}]
    assert pod["spec"]["securityContext"]["fsGroup"] == 1000
    assert pod_security.violations(pod["spec"], "restricted") == []
    insecure = evaluate(facts["ansible.builtin.set_fact"]["__failover_test_cert_sources"], failover_test_engine="cockroachdb",
                        failover_test_insecure=True, __failover_test_workload=workload,
                        __failover_test_db_container=workload["spec"]["template"]["spec"]["containers"])
    assert insecure == []
