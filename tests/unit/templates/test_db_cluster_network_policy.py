# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster's optional NetworkPolicy: the instance's own pods on every port, the named clients on the client ports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from .db_cluster_render import CASES, by_kind, evaluate, one, render, render_case

OWN = {"app.kubernetes.io/instance": "db1", "app.kubernetes.io/managed-by": "dok.databases"}


@pytest.mark.parametrize("case", [c for c in sorted(CASES) if not CASES[c].get("db_cluster_network_policy")])
def test_no_policy_unless_asked(case):
    objects, dummy, dummy = render_case(case)
    assert by_kind(objects, "NetworkPolicy") == []


@pytest.mark.parametrize("case, ports", [
    ("cockroachdb-tls-locality", [26257, 8080]),
    ("cassandra-racks", [9042]),
    ("mariadb-deployment-lb-wordpress", [3306]),
])
def test_the_policy_selects_the_database_pods_and_admits_the_instance_and_the_clients(case, ports):
    objects, init, dummy = render_case(case)
    policy = one(objects, "NetworkPolicy", "db1")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    workloads = by_kind(objects, "StatefulSet") + by_kind(objects, "Deployment")
    database = [w for w in workloads if w["metadata"]["labels"]["app.kubernetes.io/component"] == "database"]
    for workload in database:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in spec["podSelector"]["matchLabels"].items())
    # every pod the collection runs for this instance is admitted on every port by the first rule
    own = spec["ingress"][0]
    assert own == {"from": [{"podSelector": {"matchLabels": OWN}}]}
    for other in [w for w in workloads + init if w not in database]:
        labels = other["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in OWN.items()), other["metadata"]["name"]
    clients = CASES[case].get("db_cluster_network_policy_clients", [])
    if clients:
        assert spec["ingress"][1] == {"from": clients, "ports": [{"protocol": "TCP", "port": p} for p in ports]}
    else:
        assert len(spec["ingress"]) == 1


@pytest.mark.parametrize("clients", [
    ["app=shop"], [{}], [{"podSelector": {}, "hostNetwork": True}], [{"ports": [{"port": 1}]}],
])
def test_malformed_clients_are_refused_before_any_change(clients):
    found = evaluate({"db_cluster_engine": "cassandra", "db_cluster_network_policy": True,
                      "db_cluster_network_policy_clients": clients}, "{{ _db_cluster_input_errors }}")
    assert len(found) == 1 and found[0].startswith("db_cluster_network_policy_clients has "), found
    assert "each must be a NetworkPolicy peer" in found[0]


def test_the_policy_is_torn_down_with_the_cluster():
    objects, dummy = render({"db_cluster_engine": "cockroachdb", "db_cluster_network_policy": True})
    assert one(objects, "NetworkPolicy", "db1")["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "dok.databases"
    from ansible.parsing.dataloader import DataLoader
    import os
    from .db_cluster_render import ROOT
    teardown = DataLoader().load_from_file(os.path.join(ROOT, "roles", "teardown", "vars", "main.yml"))
    assert {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"} in teardown["_teardown_other_kinds"]
