# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render every db_cluster template for every engine and option set, validate against the Kubernetes schemas."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import shlex
import subprocess

import pytest
import yaml

from ansible.template import trust_as_template

from .db_cluster_render import (CASES, K8S_VERSIONS, PASSWORD, USER_PASSWORD, by_kind, evaluate, load_tasks, one, pod_spec,
                                render, render_case)


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_object_validates_strictly(case, version, validator):
    objects, init, dummy = render_case(case)
    objects += init
    assert objects
    assert_valid(validator, case, objects, version)


def assert_valid(validator, case, objects, version):
    for obj in objects:
        try:
            validator.validate(obj, version, strict=True)
        except validator.ValidationError as exc:
            pytest.fail("%s %s/%s invalid for Kubernetes %s: %s" % (
                case, obj["kind"], obj["metadata"]["name"], version, str(exc).splitlines()[0]))


READINESS_OVERRIDE = {"periodSeconds": 1, "initialDelaySeconds": "0"}
EXTRA_ENV = [{"name": "JVM_EXTRA_OPTS", "value": "-Dcassandra.ring_delay_ms=5000"},
             {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("case", ["mariadb-statefulset", "mariadb-deployment-lb-wordpress", "cockroachdb-insecure",
                                  "kaiwudb-kwbase", "cassandra-one-rack", "cassandra-racks"])
def test_overridden_probe_timing_and_extra_env_validate_strictly(case, version, validator):
    objects, dummy = render(dict(CASES[case], db_cluster_readiness_probe=READINESS_OVERRIDE,
                                 db_cluster_extra_env=EXTRA_ENV))
    assert_valid(validator, case, objects, version)


@pytest.mark.parametrize("case", sorted(CASES))
def test_contract_labels_and_namespace_on_every_object(case):
    objects, dummy, dummy = render_case(case)
    engine = CASES[case]["db_cluster_engine"]
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert obj["metadata"]["namespace"] == "ns1"
        assert labels["app.kubernetes.io/name"] == engine
        assert labels["app.kubernetes.io/instance"] == "db1"
        assert labels["app.kubernetes.io/managed-by"] == "dok.databases"
        assert labels["app"] == "db1"


@pytest.mark.parametrize("case", sorted(CASES))
def test_contract_names(case):
    objects, dummy, family = render_case(case)
    engine = CASES[case]["db_cluster_engine"]
    headless = one(objects, "Service", "db1")
    assert headless["spec"]["clusterIP"] == "None"
    public = one(objects, "Service", "db1-public")
    assert public["spec"]["type"] == CASES[case].get("db_cluster_service_type", "ClusterIP")
    assert headless["spec"]["selector"] == public["spec"]["selector"]
    if family == "mariadb":
        assert not by_kind(objects, "PodDisruptionBudget")
    else:
        pdb = one(objects, "PodDisruptionBudget", "db1-budget")
        assert pdb["spec"]["maxUnavailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"] == headless["spec"]["selector"]
    workloads = by_kind(objects, "StatefulSet") + [d for d in by_kind(objects, "Deployment") if d["metadata"]["name"] == "db1"]
    assert workloads
    for workload in workloads:
        template_labels = workload["spec"]["template"]["metadata"]["labels"]
        selector = workload["spec"]["selector"]["matchLabels"]
        assert all(template_labels.get(k) == v for k, v in selector.items())
        assert all(template_labels.get(k) == v for k, v in headless["spec"]["selector"].items())
        assert pod_spec(workload)["containers"][0]["name"] == engine
        if workload["kind"] == "StatefulSet":
            assert workload["spec"]["serviceName"] == "db1"
            assert [c["metadata"]["name"] for c in workload["spec"]["volumeClaimTemplates"]] == ["datadir"]


def test_cockroach_start_flags_probes_and_drain():
    objects, dummy, dummy = render_case("cockroachdb-insecure")
    sts = one(objects, "StatefulSet", "db1")
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    container = pod_spec(sts)["containers"][0]
    start = container["command"][-1]
    assert start.startswith("exec /cockroach/cockroach start --insecure ")
    join = "--join=" + ",".join("db1-%d.db1.ns1.svc.cluster.local:26257" % i for i in range(3))
    assert join in start.split()
    assert "--cache=25%" in start.split() and "--max-sql-memory=25%" in start.split()
    assert "--locality" not in start
    assert container["readinessProbe"]["httpGet"] == {"path": "/health?ready=1", "port": "http", "scheme": "HTTP"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert "/cockroach/cockroach node drain --insecure" in container["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert {p["containerPort"] for p in container["ports"]} == {26257, 8080}
    public = one(objects, "Service", "db1-public")
    assert {p["port"] for p in public["spec"]["ports"]} == {26257, 8080}
    assert one(objects, "Service", "db1")["spec"]["publishNotReadyAddresses"] is True


def test_cockroach_is_secure_by_default_with_the_certificates_the_role_issues():
    objects, init, dummy = render_case("cockroachdb-issued-certs")
    spec = pod_spec(one(objects, "StatefulSet", "db1"))
    container = spec["containers"][0]
    start = container["command"][-1].split()
    assert "--certs-dir=/cockroach/cockroach-certs" in start and "--insecure" not in start
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert "--insecure" not in container["lifecycle"]["preStop"]["exec"]["command"][-1]
    sources = spec["volumes"][0]["projected"]["sources"]
    assert [s["secret"]["name"] for s in sources] == ["db1-node-certs", "db1-root-certs"]
    assert init[0]["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "db1-root-certs"
    assert "--insecure" not in init[0]["spec"]["template"]["spec"]["containers"][0]["command"][-1]


def test_pods_carry_the_fingerprint_of_the_node_certificate_in_effect_and_only_with_issued_certificates():
    """A certificate issued again changes the pod template, so the converge rolls the pods through its gates."""
    case = dict(CASES["cockroachdb-issued-certs"], db_cluster_pod_annotations={"team": "db"})
    objects, dummy = render(dict(case, __db_cluster_node_cert_id="sha256:abc"))
    annotations = one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"team": "db", "dok.databases/node-certificate": "sha256:abc"}
    objects, dummy = render(dict(case, __db_cluster_node_cert_id="sha256:def"))
    assert one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]["annotations"][
        "dok.databases/node-certificate"] == "sha256:def"
    # before the role has read the certificates (unit renders) and with the user's own Secrets: no annotation
    objects, dummy = render(case)
    assert "dok.databases/node-certificate" not in one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"][
        "annotations"]
    own = dict(case, db_cluster_cockroach_tls_secret="mine", db_cluster_cockroach_client_tls_secret="mine-root",
               __db_cluster_node_cert_id="sha256:abc")
    objects, dummy = render(own)
    assert one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]["annotations"] == {"team": "db"}
    insecure = dict(CASES["cockroachdb-issued-certs"], db_cluster_cockroach_insecure=True,
                    __db_cluster_node_cert_id="sha256:abc")
    objects, dummy = render(insecure)
    assert "annotations" not in one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]


def _san_matches(pattern, host):
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and dot == "." and rest == pattern[2:]
    return pattern == host


def test_the_issued_node_certificate_names_every_address_a_peer_or_client_dials():
    case = CASES["cockroachdb-issued-certs"]
    sans = evaluate(case, "{{ _db_cluster_node_cert_sans }}")
    dns = [s[4:] for s in sans if s.startswith("DNS:")]
    objects, init, dummy = render_case("cockroachdb-issued-certs")
    start = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]["command"][-1].split()
    joins = [a.rsplit(":", 1)[0] for a in next(a for a in start if a.startswith("--join="))[7:].split(",")]
    init_host = [a for a in init[0]["spec"]["template"]["spec"]["containers"][0]["command"][-1].split()
                 if a.startswith("--host=")][0][7:].rsplit(":", 1)[0]
    wanted = joins + [init_host, "db1-public", "db1-public.ns1", "db1-public.ns1.svc.cluster.local", "localhost",
                      "db1-4.db1.ns1.svc.cluster.local", "db1-0.db1"]
    assert [h for h in wanted if not any(_san_matches(p, h) for p in dns)] == []
    assert "IP:127.0.0.1" in sans
    # nothing outside the cluster's own names
    assert [h for h in ["db2-0.db2.ns1.svc.cluster.local", "db1-0.db1.ns2.svc.cluster.local", "example.com"]
            if any(_san_matches(p, h) for p in dns)] == []


def test_cockroach_tls_mounts_both_secrets_and_uses_https():
    objects, dummy, dummy = render_case("cockroachdb-tls-locality")
    sts = one(objects, "StatefulSet", "db1")
    spec = pod_spec(sts)
    container = spec["containers"][0]
    start = container["command"][-1].split()
    assert "--certs-dir=/cockroach/cockroach-certs" in start and "--insecure" not in start
    assert "--locality=region=eu,zone=a" in start and "--max-offset=250ms" in start
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    sources = spec["volumes"][0]["projected"]["sources"]
    assert [s["secret"]["name"] for s in sources] == ["crdb-node-certs", "crdb-client-certs"]
    keys = [i["key"] for s in sources for i in s["secret"]["items"]]
    assert sorted(keys) == ["ca.crt", "client.root.crt", "client.root.key", "node.crt", "node.key"]
    assert spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert spec["nodeSelector"] == {"disktype": "ssd"}
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "local-storage"
    assert sts["spec"]["replicas"] == 5
    job = render_case("cockroachdb-tls-locality")[1][0]
    assert job["metadata"]["name"] == "db1-init"
    assert job["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "crdb-client-certs"


@pytest.mark.parametrize("binary", ["kwbase", "bini"])
def test_kaiwudb_binary_is_used_everywhere(binary):
    case = "kaiwudb-kwbase" if binary == "kwbase" else "kaiwudb-bini-tls"
    objects, dummy, dummy = render_case(case)
    container = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]
    assert container["name"] == "kaiwudb"
    assert container["command"][-1].startswith("exec %s start " % binary)
    assert container["lifecycle"]["preStop"]["exec"]["command"][-1].startswith("%s node drain " % binary)
    job = render_case(case)[1][0]
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "out=$(%s init " % binary in script
    assert "already been initialized" in script


def test_kaiwudb_single_replica_joins_itself_only():
    objects, dummy, dummy = render_case("kaiwudb-kwbase")
    start = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]["command"][-1].split()
    assert "--join=db1-0.db1.ns1.svc.cluster.local:26257" in start
    assert "affinity" not in pod_spec(one(objects, "StatefulSet", "db1"))


def test_cassandra_single_rack_env_and_probes():
    objects, dummy, dummy = render_case("cassandra-one-rack")
    sts = one(objects, "StatefulSet", "db1")
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert sts["spec"]["replicas"] == 3
    spec = pod_spec(sts)
    assert spec["terminationGracePeriodSeconds"] >= 120
    container = spec["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "CASSANDRA_SEEDS": "db1-0.db1.ns1.svc.cluster.local",
        "CASSANDRA_CLUSTER_NAME": "db1",
        "CASSANDRA_DC": "dc1",
        "CASSANDRA_RACK": "rack1",
        "CASSANDRA_ENDPOINT_SNITCH": "GossipingPropertyFileSnitch",
        "CASSANDRA_NUM_TOKENS": "16",
        "MAX_HEAP_SIZE": "512M",
        "HEAP_NEWSIZE": "128M",
    }
    assert container["readinessProbe"]["exec"]["command"] == ["cqlsh", "-e", "SELECT now() FROM system.local"]
    assert container["lifecycle"]["preStop"]["exec"]["command"][-1] == "nodetool drain"
    assert [p["port"] for p in one(objects, "Service", "db1-public")["spec"]["ports"]] == [9042]


def test_cassandra_one_statefulset_per_rack_with_first_pods_as_seeds():
    objects, dummy, dummy = render_case("cassandra-racks")
    stses = by_kind(objects, "StatefulSet")
    assert [s["metadata"]["name"] for s in stses] == ["db1-r1", "db1-r2", "db1-r3"]
    assert [s["spec"]["replicas"] for s in stses] == [2, 1, 3]
    seeds = ",".join("db1-%s-0.db1.ns1.svc.cluster.local" % r for r in ("r1", "r2", "r3"))
    for sts, rack in zip(stses, ("r1", "r2", "r3")):
        env = {e["name"]: e["value"] for e in pod_spec(sts)["containers"][0]["env"]}
        assert env["CASSANDRA_SEEDS"] == seeds
        assert env["CASSANDRA_RACK"] == rack
        assert sts["spec"]["selector"]["matchLabels"]["dok.databases/rack"] == rack
        assert sts["spec"]["serviceName"] == "db1"
    assert pod_spec(stses[0])["nodeSelector"] == {"topology.kubernetes.io/zone": "a"}
    assert "nodeSelector" not in pod_spec(stses[1])
    public = one(objects, "Service", "db1-public")
    assert public["spec"]["loadBalancerSourceRanges"] == ["198.18.0.0/15"]
    assert public["metadata"]["annotations"] == {"example.com/internal": "true"}


def test_mariadb_statefulset_secret_and_no_plain_password():
    objects, dummy, dummy = render_case("mariadb-statefulset")
    assert sorted(o["kind"] for o in objects) == ["ConfigMap", "Secret", "Service", "Service", "ServiceAccount",
                                                  "StatefulSet"]
    secret = one(objects, "Secret", "db1-credentials")
    assert base64.b64decode(secret["data"]["root-password"]).decode() == PASSWORD
    sts = one(objects, "StatefulSet", "db1")
    assert sts["spec"]["replicas"] == 1
    spec = pod_spec(sts)
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 999, "runAsGroup": 999, "fsGroup": 999,
                                       "fsGroupChangePolicy": "OnRootMismatch",
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    container = spec["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["MARIADB_ROOT_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "db1-credentials", "key": "root-password"}
    assert container["readinessProbe"]["tcpSocket"] == {"port": "mysql"}
    assert container["startupProbe"]["tcpSocket"] == {"port": "mysql"}
    assert container["livenessProbe"]["exec"]["command"][0] == "healthcheck.sh"
    # SIGTERM is mariadbd's clean shutdown; an exec before it only delays the replacement.
    assert "lifecycle" not in container
    for obj in objects:
        if obj["kind"] != "Secret":
            assert PASSWORD not in yaml.safe_dump(obj)


def test_mariadb_tls_mounts_the_server_certificate_and_configures_the_server():
    """TLS by default: the server's own Secret (CA, certificate, key; the key group-readable through fsGroup) and the
    ssl_* settings; off, neither; the user's own Secret instead of the issued one."""
    objects, dummy, dummy = render_case("mariadb-statefulset")
    spec = pod_spec(one(objects, "StatefulSet", "db1"))
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["tls"]["secret"] == {"secretName": "db1-server-certs", "defaultMode": 0o440,
                                        "items": [{"key": k, "path": k} for k in ("ca.crt", "tls.crt", "tls.key")]}
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["tls"] == {"name": "tls", "mountPath": "/etc/mysql/dok-tls", "readOnly": True}
    assert mounts["config"]["mountPath"] == "/etc/mysql/conf.d/dok.cnf"
    assert spec["securityContext"]["fsGroup"] == 999
    config = one(objects, "ConfigMap", "db1-config")["data"]["dok.cnf"].splitlines()
    assert config == ["[mysqld]", "ssl_ca = /etc/mysql/dok-tls/ca.crt", "ssl_cert = /etc/mysql/dok-tls/tls.crt",
                      "ssl_key = /etc/mysql/dok-tls/tls.key"]
    objects, dummy = render(dict(CASES["mariadb-statefulset"], db_cluster_mariadb_tls=False))
    assert not by_kind(objects, "ConfigMap")
    assert "volumes" not in pod_spec(one(objects, "StatefulSet", "db1"))
    objects, dummy = render(dict(CASES["mariadb-statefulset"], db_cluster_mariadb_tls_secret="corp-tls",
                                 __db_cluster_node_cert_id="sha256:abc"))
    sts = one(objects, "StatefulSet", "db1")
    assert {v["name"]: v for v in pod_spec(sts)["volumes"]}["tls"]["secret"]["secretName"] == "corp-tls"
    assert "dok.databases/node-certificate" not in sts["spec"]["template"]["metadata"]["annotations"], \
        "no restart for a certificate the role does not issue"
    objects, dummy = render(dict(CASES["mariadb-statefulset"], __db_cluster_node_cert_id="sha256:abc"))
    annotations = one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["dok.databases/node-certificate"] == "sha256:abc"
    assert sorted(annotations) == ["dok.databases/config", "dok.databases/node-certificate"]


def test_mariadb_pods_carry_the_fingerprint_of_their_configuration_so_a_change_rolls_them():
    """The server reads dok.cnf only when it starts (a subPath mount never updates either): the pod template names
    the configuration it was started with, so that a changed setting is a pod template change, which the gated
    rollout applies, instead of a ConfigMap the running server never reads."""
    def rendered(**overrides):
        objects, dummy = render(dict(CASES["mariadb-statefulset"], **overrides))
        template = one(objects, "StatefulSet", "db1")["spec"]["template"]["metadata"]
        configmaps = by_kind(objects, "ConfigMap")
        return template.get("annotations", {}), configmaps[0]["data"]["dok.cnf"] if configmaps else None

    annotations, cnf = rendered()
    assert annotations == {"dok.databases/config": "sha256:" + hashlib.sha256(cnf.encode()).hexdigest()[:16]}
    tuned, tuned_cnf = rendered(db_cluster_mariadb_config={"max_connections": 300, "innodb_buffer_pool_size": "256M"})
    assert tuned_cnf.splitlines()[-2:] == ["innodb_buffer_pool_size = 256M", "max_connections = 300"]
    assert tuned["dok.databases/config"] != annotations["dok.databases/config"]
    assert rendered(db_cluster_mariadb_config={"innodb_buffer_pool_size": "256M", "max_connections": 300})[0] == tuned, \
        "the order of the settings is not a change"
    assert rendered(db_cluster_mariadb_config={"max_connections": 301})[0] != tuned
    assert rendered(db_cluster_mariadb_tls=False) == ({}, None), "no configuration file, nothing to name"
    untls, untls_cnf = rendered(db_cluster_mariadb_tls=False, db_cluster_mariadb_config={"max_connections": 300})
    assert untls_cnf == "[mysqld]\nmax_connections = 300\n"
    assert untls["dok.databases/config"] == "sha256:" + hashlib.sha256(untls_cnf.encode()).hexdigest()[:16]
    for case in ("cockroachdb-issued-certs", "cassandra-one-rack"):
        objects, dummy, dummy = render_case(case)
        for sts in by_kind(objects, "StatefulSet"):
            assert "dok.databases/config" not in sts["spec"]["template"]["metadata"].get("annotations", {})


def test_mariadb_deployment_with_wordpress():
    objects, dummy, dummy = render_case("mariadb-deployment-lb-wordpress")
    assert not by_kind(objects, "StatefulSet")
    deployment = one(objects, "Deployment", "db1")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
    assert volumes["datadir"]["persistentVolumeClaim"]["claimName"] == "datadir-db1-0"
    assert volumes["config"]["configMap"]["name"] == "db1-config"
    one(objects, "PersistentVolumeClaim", "datadir-db1-0")
    config = one(objects, "ConfigMap", "db1-config")["data"]["dok.cnf"]
    assert config.splitlines() == ["[mysqld]", "ssl_ca = /etc/mysql/dok-tls/ca.crt", "ssl_cert = /etc/mysql/dok-tls/tls.crt",
                                   "ssl_key = /etc/mysql/dok-tls/tls.key",
                                   "innodb_buffer_pool_size = 256M", "max_connections = 200"]
    env = {e["name"]: e for e in pod_spec(deployment)["containers"][0]["env"]}
    assert env["MARIADB_USER"]["value"] == "wp"
    assert env["MARIADB_DATABASE"]["value"] == "wordpress"
    assert env["MARIADB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "user-password"
    public = one(objects, "Service", "db1-public")
    assert public["spec"]["type"] == "LoadBalancer"
    assert "service.kubernetes.io/qcloud-loadbalancer-internal-subnetid" in public["metadata"]["annotations"]
    wordpress = one(objects, "Deployment", "db1-wordpress")
    wp_env = {e["name"]: e for e in pod_spec(wordpress)["containers"][0]["env"]}
    assert wp_env["WORDPRESS_DB_HOST"]["value"] == "db1-public:3306"
    assert wp_env["WORDPRESS_DB_USER"]["value"] == "wp"
    assert wp_env["WORDPRESS_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "db1-credentials", "key": "user-password"}
    wp_selector = wordpress["spec"]["selector"]["matchLabels"]
    db_selector = deployment["spec"]["selector"]["matchLabels"]
    assert wp_selector["app.kubernetes.io/component"] != db_selector["app.kubernetes.io/component"]
    assert one(objects, "Service", "db1-wordpress")["spec"]["type"] == "NodePort"
    one(objects, "PersistentVolumeClaim", "db1-wordpress")
    for obj in objects:
        if obj["kind"] != "Secret":
            dumped = yaml.safe_dump(obj)
            assert PASSWORD not in dumped and USER_PASSWORD not in dumped


def test_mariadb_existing_secret_is_referenced_not_created():
    objects, dummy, dummy = render_case("mariadb-existing-secret-admin-ping")
    assert not by_kind(objects, "Secret")
    container = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]
    ref = container["env"][0]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "corp-mariadb", "key": "password"}
    assert container["livenessProbe"]["exec"]["command"][:2] == ["mariadb-admin", "ping"]
    # WordPress connects as its own user, whose password is the Secret's user-password, never as root
    wordpress = one(objects, "Deployment", "db1-wordpress")
    wp_env = {e["name"]: e for e in pod_spec(wordpress)["containers"][0]["env"]}
    assert wp_env["WORDPRESS_DB_USER"]["value"] == "wordpress"
    assert wp_env["WORDPRESS_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "corp-mariadb", "key": "user-password"}
    env = {e["name"]: e for e in container["env"]}
    assert env["MARIADB_USER"]["value"] == "wordpress" and env["MARIADB_DATABASE"]["value"] == "wordpress"
    assert env["MARIADB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "corp-mariadb", "key": "user-password"}


def test_wordpress_gets_an_application_user_by_default_and_never_root():
    case = dict(CASES["mariadb-statefulset"], db_cluster_wordpress_enabled=True,
                db_cluster_mariadb_password=USER_PASSWORD)
    objects, dummy = render(case)
    secret = one(objects, "Secret", "db1-credentials")
    assert base64.b64decode(secret["data"]["user-password"]).decode() == USER_PASSWORD
    env = {e["name"]: e for e in pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]["env"]}
    assert env["MARIADB_USER"]["value"] == "wordpress" and env["MARIADB_DATABASE"]["value"] == "wordpress"
    wp_env = {e["name"]: e for e in pod_spec(one(objects, "Deployment", "db1-wordpress"))["containers"][0]["env"]}
    assert wp_env["WORDPRESS_DB_USER"]["value"] == "wordpress"
    assert wp_env["WORDPRESS_DB_NAME"]["value"] == "wordpress"
    assert wp_env["WORDPRESS_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "db1-credentials", "key": "user-password"}
    # without WordPress and without a user, no application user at all
    objects, dummy = render(CASES["mariadb-statefulset"])
    env = {e["name"] for e in pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]["env"]}
    assert not env & {"MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE"}


def test_mysql_uses_mysql_env_and_admin_ping():
    objects, dummy, dummy = render_case("mysql-statefulset")
    container = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]
    assert container["name"] == "mysql"
    assert container["image"].startswith("docker.io/library/mysql:")
    assert [e["name"] for e in container["env"]] == ["MYSQL_ROOT_PASSWORD"]
    assert container["livenessProbe"]["exec"]["command"][:2] == ["mysqladmin", "ping"]
    assert container["readinessProbe"]["tcpSocket"] == {"port": "mysql"}


@pytest.mark.parametrize("case, command", [
    ("mariadb-statefulset", ["healthcheck.sh", "--connect", "--innodb_initialized"]),
    ("mysql-statefulset", ["mysqladmin", "ping", "--host=127.0.0.1", "--port=3306"]),
])
def test_mariadb_exec_readiness_keeps_the_health_command_and_its_timing(case, command):
    objects, dummy = render(dict(CASES[case], db_cluster_mariadb_readiness="exec"))
    container = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]
    probe = container["readinessProbe"]
    assert probe["exec"]["command"] == command and "tcpSocket" not in probe
    assert (probe["initialDelaySeconds"], probe["periodSeconds"], probe["timeoutSeconds"]) == (5, 5, 5)
    assert container["startupProbe"]["tcpSocket"] == {"port": "mysql"}


@pytest.mark.parametrize("case", ["mariadb-statefulset", "mariadb-deployment-lb-wordpress", "mysql-statefulset"])
def test_mariadb_liveness_waits_for_the_startup_probe_not_a_fixed_delay(case):
    objects, dummy, dummy = render_case(case)
    workload = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")][0]
    container = pod_spec(workload)["containers"][0]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800
    assert "initialDelaySeconds" not in container["livenessProbe"]


def test_broken_override_fails_validation(validator):
    """A wrong type that renders fine must be caught by the schema validation the tests above rely on."""
    objects, dummy = render(dict(CASES["mariadb-statefulset"], db_cluster_image_pull_policy=["IfNotPresent"]))
    sts = one(objects, "StatefulSet", "db1")
    with pytest.raises(validator.ValidationError):
        validator.validate(sts, K8S_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("case", ["cockroachdb-insecure", "kaiwudb-bini-tls", "cassandra-racks",
                                  "mariadb-statefulset", "mysql-statefulset"])
def test_smoke_command_is_one_valid_shell_script(case):
    """k8s_exec splits the command with shlex: it must give `/bin/sh -c <script>` and the script must parse."""
    dummy, templar = render(CASES[case], [])
    command = templar.template(trust_as_template("{{ _db_cluster_smoke_commands[_db_cluster_family] }}"))
    argv = shlex.split(command)
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    script = argv[2]
    assert subprocess.run(["/bin/sh", "-n", "-c", script], check=False).returncode == 0
    assert "db1" in script and "dok-smoke-ok" in script
    assert PASSWORD not in script
    if CASES[case]["db_cluster_engine"] in ("mariadb", "mysql"):
        prefix = "MARIADB" if CASES[case]["db_cluster_engine"] == "mariadb" else "MYSQL"
        assert 'MYSQL_PWD="$%s_ROOT_PASSWORD"' % prefix in script
        assert "--password" not in script
        assert 'SELECT CONCAT(\\"inserted=\\", ROW_COUNT())' in script
    else:
        assert "echo inserted=1" in script


def test_string_booleans_from_surveys_are_honoured():
    """AWX surveys and -e pass booleans as strings; "false" must not count as true."""
    overrides = dict(CASES["cockroachdb-tls-locality"], db_cluster_cockroach_insecure="false")
    objects, dummy = render(overrides)
    container = pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]
    assert "--insecure" not in container["command"][-1]
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    overrides = dict(CASES["mariadb-statefulset"], db_cluster_wordpress_enabled="false")
    objects, dummy = render(overrides)
    assert not [o for o in objects if o["metadata"]["name"].endswith("-wordpress")]


@pytest.mark.parametrize("case,port", [
    ("cockroachdb-insecure", 26257), ("kaiwudb-bini-tls", 26257), ("cassandra-one-rack", 7199),
    ("cassandra-racks", 7199), ("mariadb-statefulset", 3306),
])
def test_verify_gives_the_status_cli_its_own_port(case, port):
    """nodetool talks JMX (7199); handing it the CQL port makes every poll of the verify stage fail."""
    tasks = load_tasks("verify.yml")
    args = [t for t in tasks if "dok.databases.db_node_status" in t][0]["dok.databases.db_node_status"]
    dummy, templar = render(CASES[case], [])
    assert int(templar.template(args["port"])) == port


@pytest.mark.parametrize("case, timing", [
    ("mariadb-statefulset", (0, 1, 1, 2)),
    ("mysql-statefulset", (0, 1, 1, 2)),
    ("cockroachdb-insecure", (10, 5, 5, 2)),
    ("kaiwudb-kwbase", (10, 5, 5, 2)),
    ("cassandra-one-rack", (20, 10, 10, 3)),
])
def test_readiness_probe_timing_defaults_per_engine_and_overrides(case, timing):
    fields = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold")

    def probe(objects):
        workload = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")][0]
        return pod_spec(workload)["containers"][0]["readinessProbe"]

    objects, dummy, dummy = render_case(case)
    assert tuple(probe(objects)[f] for f in fields) == timing
    overridden, dummy = render(dict(CASES[case], db_cluster_readiness_probe=READINESS_OVERRIDE))
    got = probe(overridden)
    assert (got["initialDelaySeconds"], got["periodSeconds"]) == (0, 1)
    assert (got["timeoutSeconds"], got["failureThreshold"]) == timing[2:]


@pytest.mark.parametrize("case", ["mariadb-statefulset", "mariadb-deployment-lb-wordpress", "cockroachdb-insecure",
                                  "kaiwudb-kwbase", "cassandra-one-rack", "cassandra-racks"])
def test_extra_env_is_appended_to_the_database_container_only(case):
    extra = EXTRA_ENV
    plain, dummy, dummy = render_case(case)
    objects, dummy = render(dict(CASES[case], db_cluster_extra_env=extra))
    workloads = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")]
    assert workloads
    for workload, before in zip(workloads, [o for o in plain if o["kind"] in ("StatefulSet", "Deployment")]):
        env = pod_spec(workload)["containers"][0].get("env", [])
        old = pod_spec(before)["containers"][0].get("env", [])
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] == "database":
            assert env == old + extra
        else:
            assert env == old
