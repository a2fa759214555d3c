# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the db_cluster role's templates and variables the way the role does, for the template tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "db_cluster")
K8S_VERSIONS = ("1.30.0", "1.34.0")
PASSWORD = "unit-test-root-pw"
USER_PASSWORD = "unit-test-user-pw"

init_plugin_loader()

CASES = {
    "cockroachdb-insecure": {"db_cluster_engine": "cockroachdb", "db_cluster_cockroach_insecure": True},
    # the default: secure, with the certificates the role issues into its own Secrets
    "cockroachdb-issued-certs": {"db_cluster_engine": "cockroachdb"},
    "cockroachdb-tls-locality": {
        "db_cluster_engine": "cockroachdb",
        "db_cluster_cockroach_insecure": False,
        "db_cluster_cockroach_tls_secret": "crdb-node-certs",
        "db_cluster_cockroach_client_tls_secret": "crdb-client-certs",
        "db_cluster_cockroach_locality": "region=eu,zone=a",
        "db_cluster_cockroach_extra_args": ["--max-offset=250ms"],
        "db_cluster_replicas": 5,
        "db_cluster_anti_affinity": "required",
        "db_cluster_storage_class": "local-storage",
        "db_cluster_service_type": "NodePort",
        "db_cluster_tolerations": [{"key": "db", "operator": "Exists", "effect": "NoSchedule"}],
        "db_cluster_node_selector": {"disktype": "ssd"},
        "db_cluster_pod_annotations": {"example.com/scrape": "true"},
        "db_cluster_network_policy": True,
        "db_cluster_network_policy_clients": [
            {"podSelector": {"matchLabels": {"app": "shop"}}},
            {"namespaceSelector": {"matchLabels": {"team": "data"}},
             "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
        ],
    },
    "kaiwudb-kwbase": {
        "db_cluster_engine": "kaiwudb",
        "db_cluster_cockroach_binary": "kwbase",
        "db_cluster_replicas": 1,
        "db_cluster_anti_affinity": "none",
    },
    "kaiwudb-bini-tls": {
        "db_cluster_engine": "kaiwudb",
        "db_cluster_cockroach_binary": "bini",
        "db_cluster_cockroach_insecure": False,
        "db_cluster_cockroach_tls_secret": "bini-node",
        "db_cluster_cockroach_client_tls_secret": "bini-client",
    },
    "cassandra-one-rack": {"db_cluster_engine": "cassandra"},
    "cassandra-racks": {
        "db_cluster_engine": "cassandra",
        "db_cluster_cassandra_racks": [
            {"name": "r1", "replicas": 2, "node_selector": {"topology.kubernetes.io/zone": "a"}},
            {"name": "r2", "replicas": 1},
            {"name": "r3", "replicas": 3},
        ],
        "db_cluster_cassandra_readiness_command": ["/bin/bash", "-c", "nodetool statusbinary | grep -q running"],
        "db_cluster_service_type": "LoadBalancer",
        "db_cluster_service_annotations": {"example.com/internal": "true"},
        "db_cluster_service_load_balancer_source_ranges": ["198.18.0.0/15"],
        "db_cluster_network_policy": True,
    },
    "mariadb-statefulset": {"db_cluster_engine": "mariadb", "db_cluster_mariadb_root_password": PASSWORD},
    "mariadb-deployment-lb-wordpress": {
        "db_cluster_engine": "mariadb",
        "db_cluster_mariadb_workload": "deployment",
        "db_cluster_mariadb_root_password": PASSWORD,
        "db_cluster_mariadb_user": "wp",
        "db_cluster_mariadb_password": USER_PASSWORD,
        "db_cluster_mariadb_config": {"max_connections": 200, "innodb_buffer_pool_size": "256M"},
        "db_cluster_service_type": "LoadBalancer",
        "db_cluster_service_annotations": {"service.kubernetes.io/qcloud-loadbalancer-internal-subnetid": "subnet-x"},
        "db_cluster_wordpress_enabled": True,
        "db_cluster_wordpress_service_type": "NodePort",
        "db_cluster_wordpress_resources": {"requests": {"cpu": "100m"}},
        "db_cluster_network_policy": "true",
        "db_cluster_network_policy_clients": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}],
    },
    "mariadb-existing-secret-admin-ping": {
        "db_cluster_engine": "mariadb",
        "db_cluster_mariadb_root_password_secret": "corp-mariadb",
        "db_cluster_mariadb_root_password_key": "password",
        "db_cluster_mariadb_probe": "admin_ping",
        "db_cluster_wordpress_enabled": True,
    },
    "mysql-statefulset": {"db_cluster_engine": "mysql", "db_cluster_mariadb_root_password": PASSWORD},
}


def _role_vars():
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(ROLE, name), trusted_as_template=True))
    return loader, variables


def render(overrides, templates=None):
    """Render templates like the role does: template lookup, then every YAML document that is not empty."""
    loader, variables = _role_vars()
    variables.update({"db_cluster_name": "db1", "db_cluster_namespace": "ns1"})
    variables.update(overrides)
    variables["ansible_search_path"] = [ROLE]
    loader.set_basedir(ROLE)
    templar = Templar(loader=loader, variables=variables)
    if templates is None:
        templates = templar.template(trust_as_template("{{ _db_cluster_manifests[_db_cluster_family] }}"))
    objects = []
    for name in templates:
        text = templar.template(trust_as_template("{{ lookup('ansible.builtin.template', %r) }}" % name))
        objects.extend(doc for doc in yaml.safe_load_all(text or "") if doc)
    return objects, templar


@functools.lru_cache(maxsize=None)
def _rendered_case(case):
    objects, templar = render(CASES[case])
    family = templar.template(trust_as_template("{{ _db_cluster_family }}"))
    init = render(CASES[case], ["cockroachdb/job-init.yml.j2"])[0] if family == "cockroachdb" else []
    return yaml.safe_dump(objects), yaml.safe_dump(init), family


def render_case(case):
    """Rendered objects of a named case (fresh copies), the init Job objects and the engine family."""
    objects, init, family = _rendered_case(case)
    return yaml.safe_load(objects), yaml.safe_load(init), family


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, "%s/%s: found %d" % (kind, name, len(found))
    return found[0]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def evaluate(overrides, expression, extra_vars=None):
    """Template one expression with the role's defaults and vars, the case's overrides and extra variables
    (registered results the role's vars read, for instance)."""
    dummy, templar = render(dict(overrides, **(extra_vars or {})), [])
    return templar.template(trust_as_template(expression))


def load_tasks(name):
    """The task list of roles/db_cluster/tasks/<name>."""
    loader, dummy = _role_vars()
    return loader.load_from_file(os.path.join(ROLE, "tasks", name), trusted_as_template=True)
