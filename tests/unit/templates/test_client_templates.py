# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the sql_shell client pod and the admin_ui Service against every db_cluster case's own objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shlex

import pytest
import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from .db_cluster_render import CASES, K8S_VERSIONS, PASSWORD, USER_PASSWORD, ROOT, render_case


ENGINE_CLIENT = {"cockroachdb": "cockroach", "kaiwudb": "kwbase", "cassandra": "cqlsh", "mariadb": "mariadb",
                 "mysql": "mysql"}


def render_role(role, template, overrides, found):
    """Template the role's file the way the role does, with discovery results `found` as registered facts."""
    path = os.path.join(ROOT, "roles", role)
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(path, name), trusted_as_template=True))
    variables.update(overrides)
    variables.update(found)
    variables["ansible_search_path"] = [path]
    loader.set_basedir(path)
    templar = Templar(loader=loader, variables=variables)
    text = templar.template(trust_as_template("{{ lookup('ansible.builtin.template', %r) }}" % template))
    return yaml.safe_load(text), templar


def case_objects(case):
    objects, dummy, dummy = render_case(case)
    workloads = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")
                 and o["metadata"]["labels"].get("app.kubernetes.io/component") == "database"]
    public = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"].endswith("-public")]
    return workloads, public


def shell_pod(case, **overrides):
    workloads, public = case_objects(case)
    found = {"__sql_shell_workloads": workloads, "__sql_shell_service": {"resources": public}}
    tls = CASES[case].get("db_cluster_cockroach_insecure") is not True
    base = {"sql_shell_name": "db1", "sql_shell_namespace": "ns1", "sql_shell_insecure": not tls}
    base.update(overrides)
    return render_role("sql_shell", "pod.yml.j2", base, found)


def evaluate(templar, expression):
    return templar.template(trust_as_template("{{ %s }}" % expression))


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_shell_pod_validates_strictly(case, version, validator):
    pod, dummy = shell_pod(case)
    validator.validate(pod, version, strict=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_shell_pod_meets_the_restricted_pod_security_standard(case):
    pod, dummy = shell_pod(case)
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for volume in spec["volumes"]:
        assert set(volume) - {"name"} <= {"emptyDir", "projected", "secret", "configMap"}
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert "ports" not in container and "hostNetwork" not in spec and "hostPID" not in spec


@pytest.mark.parametrize("case", sorted(CASES))
def test_shell_pod_is_ours_and_never_matches_the_database_selector(case):
    pod, dummy = shell_pod(case)
    workloads, public = case_objects(case)
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "dok.databases"
    assert labels["app.kubernetes.io/instance"] == "db1"
    for selector in [w["spec"]["selector"]["matchLabels"] for w in workloads] + [s["spec"]["selector"] for s in public]:
        assert not all(labels.get(k) == v for k, v in selector.items()), selector


@pytest.mark.parametrize("case", sorted(CASES))
def test_shell_pod_runs_the_database_image_and_holds_no_secret_value(case):
    pod, dummy = shell_pod(case)
    workloads, dummy = case_objects(case)
    (container,) = pod["spec"]["containers"]
    db_images = {c["image"] for w in workloads for c in w["spec"]["template"]["spec"]["containers"]}
    assert container["image"] in db_images
    text = json.dumps(pod)
    assert PASSWORD not in text and USER_PASSWORD not in text
    for entry in container["env"]:
        assert entry["name"] == "HOME" or ("valueFrom" in entry and "value" not in entry), entry


@pytest.mark.parametrize("case, secret, key", [
    ("mariadb-statefulset", "db1-credentials", "root-password"),
    ("mariadb-deployment-lb-wordpress", "db1-credentials", "root-password"),
    ("mariadb-existing-secret-admin-ping", "corp-mariadb", "password"),
    ("mysql-statefulset", "db1-credentials", "root-password"),
])
def test_password_comes_from_the_clusters_secret_through_the_environment(case, secret, key):
    pod, templar = shell_pod(case)
    (container,) = pod["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MYSQL_PWD"]["valueFrom"] == {"secretKeyRef": {"name": secret, "key": key}}
    for command in (evaluate(templar, "_sql_shell_interactive"), evaluate(templar, "_sql_shell_run_command")):
        assert "password" not in command.lower() and "MYSQL_PWD" not in command


def test_another_users_password_variable_is_copied_instead():
    pod, dummy = shell_pod("mariadb-deployment-lb-wordpress", sql_shell_user="wp", sql_shell_password_env="MARIADB_PASSWORD")
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["MYSQL_PWD"]["valueFrom"] == {"secretKeyRef": {"name": "db1-credentials", "key": "user-password"}}


@pytest.mark.parametrize("case", ["cockroachdb-tls-locality", "kaiwudb-bini-tls"])
def test_tls_client_gets_the_ca_and_its_client_certificate_but_never_the_node_key(case):
    pod, templar = shell_pod(case)
    (certs,) = [v for v in pod["spec"]["volumes"] if v["name"] == "certs"]
    keys = sorted(i["key"] for s in certs["projected"]["sources"] for i in s["secret"]["items"])
    assert keys == ["ca.crt", "client.root.crt", "client.root.key"]
    mounts = {m["name"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["certs"]["mountPath"] == "/cockroach/cockroach-certs" and mounts["certs"]["readOnly"] is True
    assert "--certs-dir=/cockroach/cockroach-certs" in shlex.split(evaluate(templar, "_sql_shell_interactive"))


@pytest.mark.parametrize("case, expected", [
    ("cockroachdb-insecure", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- cockroach sql --host=db1-public:26257 "
                             "--user=root --insecure"),
    ("kaiwudb-kwbase", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- kwbase sql --host=db1-public:26257 --user=root "
                       "--certs-dir=/cockroach/cockroach-certs"),
    ("cockroachdb-issued-certs", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- cockroach sql --host=db1-public:26257 "
                                 "--user=root --certs-dir=/cockroach/cockroach-certs"),
    ("cassandra-one-rack", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- cqlsh db1-public 9042 --connect-timeout=10"),
    ("mariadb-statefulset", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- mariadb --protocol=TCP --host=db1-public "
                            "--port=3306 --user=root --connect-timeout=10"),
    ("mysql-statefulset", "kubectl exec -it -n ns1 db1-sql-shell -c shell -- mysql --protocol=TCP --host=db1-public "
                          "--port=3306 --user=root --connect-timeout=10"),
])
def test_interactive_command_points_the_engines_client_at_the_public_service(case, expected):
    dummy, templar = shell_pod(case)
    assert evaluate(templar, "_sql_shell_interactive") == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_statements_run_from_a_file_on_stdin_never_as_arguments(case):
    dummy, templar = shell_pod(case, sql_shell_statements="CREATE USER x IDENTIFIED BY 's3cret-in-sql'",
                               __sql_shell_run_id="r1", __sql_shell_bytes=40)
    argv = shlex.split(evaluate(templar, "_sql_shell_run_command"))
    assert argv[:2] == ["sh", "-c"]
    assert '"$@" < "$f"' in argv[2]
    assert argv[3:8] == ["sql_shell", "/tmp/statements-r1.sql", "40", "timeout", "120"]
    assert argv[8] == ENGINE_CLIENT[CASES[case]["db_cluster_engine"]]
    assert not any("s3cret" in a for a in argv)


@pytest.mark.parametrize("overrides, problem", [
    ({"sql_shell_port": 70000}, "sql_shell_port is 70000"),
    ({"sql_shell_timeout": 0}, "sql_shell_timeout is 0"),
    ({"sql_shell_pod_lifetime": "soon"}, "sql_shell_pod_lifetime is soon"),
    ({"sql_shell_run_as_user": 0}, "sql_shell_run_as_user is 0: it must be a whole number from 1 to 2147483647"),
    ({"sql_shell_ready_timeout": -5}, "sql_shell_ready_timeout is -5"),
])
def test_numbers_out_of_range_are_named(overrides, problem):
    dummy, templar = shell_pod("mariadb-statefulset", **overrides)
    errors = evaluate(templar, "_sql_shell_input_errors")
    assert len(errors) == 1 and errors[0].startswith(problem), errors


def test_defaults_are_in_range():
    dummy, templar = shell_pod("mariadb-statefulset")
    assert evaluate(templar, "_sql_shell_input_errors") == []


def nodeport_service(case, **overrides):
    workloads, public = case_objects(case)
    found = {"__admin_ui_workloads": workloads, "__admin_ui_public": {"resources": public}}
    base = {"admin_ui_name": "db1", "admin_ui_namespace": "ns1", "admin_ui_mode": "node_port"}
    base.update(overrides)
    return render_role("admin_ui", "service-nodeport.yml.j2", base, found)


UI_CASES = ["cockroachdb-insecure", "cockroachdb-tls-locality", "kaiwudb-kwbase", "kaiwudb-bini-tls"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", UI_CASES)
@pytest.mark.parametrize("node_port", [0, 30080])
def test_nodeport_service_validates_strictly(case, version, node_port, validator):
    service, dummy = nodeport_service(case, admin_ui_node_port=node_port)
    validator.validate(service, version, strict=True)
    (port,) = service["spec"]["ports"]
    assert port.get("nodePort", 0) == node_port


@pytest.mark.parametrize("case", UI_CASES)
def test_nodeport_service_is_ours_and_selects_the_pods_of_the_public_service(case):
    service, templar = nodeport_service(case)
    workloads, (public,) = case_objects(case)
    assert service["metadata"]["name"] == "db1-admin-ui"
    assert service["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "dok.databases"
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == "admin-ui"
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == public["spec"]["selector"]
    (http,) = [p for p in public["spec"]["ports"] if p["name"] == "http"]
    assert service["spec"]["ports"][0]["port"] == http["port"] and service["spec"]["ports"][0]["targetPort"] == "http"
    assert evaluate(templar, "_admin_ui_port_forward") == "kubectl port-forward -n ns1 service/db1-public 8080:8080"
    tls = CASES[case].get("db_cluster_cockroach_insecure") is not True
    assert evaluate(templar, "_admin_ui_port_forward_url") == ("https" if tls else "http") + "://localhost:8080/"


@pytest.mark.parametrize("engine, title", [("cassandra", "Cassandra"), ("mariadb", "MariaDB"), ("mysql", "MySQL")])
def test_engines_without_an_admin_ui_are_refused_by_name(engine, title):
    dummy, templar = nodeport_service("cockroachdb-insecure", _admin_ui_refusal_engine=engine)
    message = evaluate(templar, "_admin_ui_refusal")
    assert message.startswith(title + " has no admin UI")
    assert "runs %s" % title in message and "Nothing was changed." in message


@pytest.mark.parametrize("overrides, problem", [
    ({"admin_ui_node_port": 70000}, "admin_ui_node_port is 70000"),
    ({"admin_ui_local_port": 0}, "admin_ui_local_port is 0"),
    ({"admin_ui_local_port": "x"}, "admin_ui_local_port is x"),
])
def test_admin_ui_numbers_out_of_range_are_named(overrides, problem):
    dummy, templar = nodeport_service("cockroachdb-insecure", **overrides)
    errors = evaluate(templar, "_admin_ui_input_errors")
    assert len(errors) == 1 and errors[0].startswith(problem), errors
