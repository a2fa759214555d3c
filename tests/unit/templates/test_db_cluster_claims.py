# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster refuses an existing claim named like one its workloads would mount unless dok.databases manages it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from .db_cluster_render import CASES, evaluate, load_tasks, render_case

LABEL = "app.kubernetes.io/managed-by"


def checked_objects(case):
    """What owned.yml hands to the ownership check for a rendered case: its facts set in order, the manifests
    rendered as the template tests render them."""
    objects, init, dummy = render_case(case)
    tasks = load_tasks("owned.yml")
    check = [t for t in tasks if t.get("ansible.builtin.import_tasks") == "ownership.yml"]
    assert len(check) == 1
    facts = {"__db_cluster_owned_objects": objects + init}
    # the facts set between the rendering and the ownership check, each only when its condition holds
    for task in tasks[1:tasks.index(check[0])]:
        when = task.get("when")
        if when is not None and not evaluate(CASES[case], "{{ %s }}" % when, facts):
            continue
        for name, expression in task.get("ansible.builtin.set_fact", {}).items():
            facts[name] = evaluate(CASES[case], expression, facts)
    return evaluate(CASES[case], check[0]["vars"]["_db_cluster_ownership_objects"], facts)


def issued_secrets(case):
    """The certificate Secrets the role issues: secure CockroachDB/KaiwuDB without the user's own Secrets (CA, node,
    root client), MariaDB/MySQL with TLS (on by default) without the user's own Secret (CA, server)."""
    overrides = CASES[case]
    if overrides["db_cluster_engine"] in ("cockroachdb", "kaiwudb"):
        if overrides.get("db_cluster_cockroach_insecure") is True or overrides.get("db_cluster_cockroach_tls_secret"):
            return []
        return ["ca", "node-certs", "root-certs"]
    if overrides["db_cluster_engine"] in ("mariadb", "mysql"):
        if overrides.get("db_cluster_mariadb_tls") is False or overrides.get("db_cluster_mariadb_tls_secret"):
            return []
        return ["ca", "server-certs"]
    return []


def claim_names(objects):
    return [o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"]


@pytest.mark.parametrize("case, claims", [
    ("mariadb-statefulset", ["datadir-db1-0"]),
    ("mysql-statefulset", ["datadir-db1-0"]),
    ("kaiwudb-kwbase", ["datadir-db1-0"]),
    ("cockroachdb-insecure", ["datadir-db1-0", "datadir-db1-1", "datadir-db1-2"]),
    ("cockroachdb-tls-locality", ["datadir-db1-%d" % i for i in range(5)]),
    ("cassandra-racks", ["datadir-db1-r1-0", "datadir-db1-r1-1", "datadir-db1-r2-0",
                         "datadir-db1-r3-0", "datadir-db1-r3-1", "datadir-db1-r3-2"]),
    # the Deployment mounts the claim the role renders itself: it is checked as a rendered object
    ("mariadb-deployment-lb-wordpress", ["datadir-db1-0", "db1-wordpress"]),
])
def test_every_claim_a_workload_would_mount_is_looked_up(case, claims):
    checked = checked_objects(case)
    assert sorted(claim_names(checked)) == sorted(claims)
    for claim in [o for o in checked if o["kind"] == "PersistentVolumeClaim"]:
        assert claim["apiVersion"] == "v1"
        assert claim["metadata"]["namespace"] == "ns1"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_claims_follow_each_statefulset_template_and_replicas(case):
    objects, init, dummy = render_case(case)
    expected = ["%s-%s-%d" % (t["metadata"]["name"], s["metadata"]["name"], i)
                for s in objects if s["kind"] == "StatefulSet"
                for t in s["spec"].get("volumeClaimTemplates", [])
                for i in range(s["spec"]["replicas"])]
    rendered = claim_names(objects)
    checked = checked_objects(case)
    assert sorted(claim_names(checked)) == sorted(expected + rendered)
    issued = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db1-" + suffix, "namespace": "ns1"}}
              for suffix in issued_secrets(case)]
    assert [o for o in checked if o["kind"] != "PersistentVolumeClaim"] == \
        [o for o in objects + init if o["kind"] != "PersistentVolumeClaim"] + issued


def lookup(name, labels, kind="PersistentVolumeClaim"):
    """The role's inputs when it is about to apply one object that the API lists with these labels."""
    metadata = {"name": name, "namespace": "ns1", "resourceVersion": "1"}
    if labels is not None:
        metadata["labels"] = labels
    return {"_db_cluster_ownership_objects": [{"apiVersion": "v1", "kind": kind,
                                               "metadata": {"name": name, "namespace": "ns1"}}],
            "__db_cluster_owners": {"results": [{"item": ["v1", kind], "resources": [{"metadata": metadata}]}],
                                    "changed": False}}


@pytest.mark.parametrize("labels, foreign", [
    (None, True),
    ({}, True),
    ({"app": "db1"}, True),
    ({LABEL: "Helm", "app": "db1"}, True),
    ({LABEL: "dok.databases", "app": "db1"}, False),
])
def test_a_claim_is_foreign_unless_it_carries_our_label(labels, foreign):
    got = evaluate(CASES["mariadb-statefulset"], "{{ _db_cluster_foreign_objects }}", lookup("datadir-db1-0", labels))
    assert got == (["PersistentVolumeClaim/datadir-db1-0"] if foreign else [])


def refusal():
    asserts = [t for t in load_tasks("ownership.yml") if "ansible.builtin.assert" in t]
    assert len(asserts) == 1
    return asserts[0]["ansible.builtin.assert"]


def test_the_refusal_of_a_foreign_claim_says_the_workload_would_mount_it():
    task = refusal()
    foreign = lookup("datadir-db1-0", {"app": "other"})
    assert evaluate(CASES["mariadb-statefulset"], "{{ %s }}" % task["that"], foreign) is False
    message = " ".join(evaluate(CASES["mariadb-statefulset"], task["fail_msg"], foreign).split())
    assert message.startswith("Refusing to take over objects that dok.databases does not manage: "
                              "PersistentVolumeClaim/datadir-db1-0 already in namespace ns1 without the label "
                              "app.kubernetes.io/managed-by=dok.databases ")
    assert "the database pods would mount PersistentVolumeClaim/datadir-db1-0 as their data directory" in message
    assert "Nothing was applied." in message
    assert "kubectl -n ns1 label persistentvolumeclaim/datadir-db1-0 app.kubernetes.io/managed-by=dok.databases" \
        in message
    ours = lookup("datadir-db1-0", {LABEL: "dok.databases"})
    assert evaluate(CASES["mariadb-statefulset"], "{{ %s }}" % task["that"], ours) is True


def test_the_refusal_of_other_objects_does_not_speak_of_claims():
    task = refusal()
    secret = lookup("db1-credentials", None, kind="Secret")
    message = " ".join(evaluate(CASES["mariadb-statefulset"], task["fail_msg"], secret).split())
    assert "mount" not in message
