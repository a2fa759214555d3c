# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster looks up every object it is about to apply and refuses objects that another owner created."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from .db_cluster_render import CASES, PASSWORD, USER_PASSWORD, load_tasks, render_case, evaluate

LABEL = "app.kubernetes.io/managed-by"
FAMILY_CASE = {"cockroachdb": "cockroachdb-insecure", "cassandra": "cassandra-racks", "mariadb": "mariadb-statefulset"}


def refs_of(objects):
    return [(o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"]["namespace"]) for o in objects]


def checked_refs(case, objects):
    return evaluate(CASES[case], "{{ _db_cluster_ownership_refs }}", {"_db_cluster_ownership_objects": objects})


def task_using(tasks, action):
    return [i for i, t in enumerate(tasks) if action in t]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_rendered_object_and_the_init_job_are_looked_up(case):
    objects, init, dummy = render_case(case)
    refs = checked_refs(case, objects + init)
    assert [(r["apiVersion"], r["kind"], r["metadata"]["name"], r["metadata"]["namespace"]) for r in refs] \
        == refs_of(objects + init)


@pytest.mark.parametrize("case", ["mariadb-statefulset", "mariadb-deployment-lb-wordpress"])
def test_the_lookups_carry_no_secret_data(case):
    objects, dummy, dummy = render_case(case)
    assert [o for o in objects if o["kind"] == "Secret"]
    refs = checked_refs(case, objects)
    dumped = json.dumps(refs)
    assert all(set(r) == {"apiVersion", "kind", "metadata"} for r in refs)
    assert PASSWORD not in dumped and USER_PASSWORD not in dumped
    assert all("data" not in r and "spec" not in r for r in refs)


def lookup(kind, name, live):
    """An object the role is about to apply (kind, name) and what the API lists of that name (live)."""
    return kind, name, [dict(item, metadata=dict(item["metadata"], name=name)) for item in live]


def owners(lookups):
    """The role's inputs for these objects: their references, and its k8s_info results, one list per kind."""
    wanted = [{"apiVersion": "v1", "kind": k, "metadata": {"name": n, "namespace": "ns1"}} for k, n, dummy in lookups]
    kinds = []
    for k, dummy, dummy in lookups:
        if k not in kinds:
            kinds.append(k)
    results = [{"item": ["v1", k], "resources": [r for kk, dummy, live in lookups if kk == k for r in live]}
               for k in kinds]
    return {"_db_cluster_ownership_objects": wanted, "__db_cluster_owners": {"results": results, "changed": False}}


def live(labels):
    metadata = {"name": "x", "namespace": "ns1", "resourceVersion": "1"}
    if labels is not None:
        metadata["labels"] = labels
    return [{"metadata": metadata}]


@pytest.mark.parametrize("results, foreign", [
    ([], []),
    ([lookup("Secret", "db1-credentials", [])], []),
    ([lookup("Secret", "db1-credentials", live({LABEL: "dok.databases", "app": "db1"}))], []),
    ([lookup("Secret", "db1-credentials", live(None))], ["Secret/db1-credentials"]),
    ([lookup("Secret", "db1-credentials", live({}))], ["Secret/db1-credentials"]),
    ([lookup("Service", "db1", live({"app": "db1", "app.kubernetes.io/instance": "db1"}))], ["Service/db1"]),
    ([lookup("StatefulSet", "db1", live({LABEL: "Helm"}))], ["StatefulSet/db1"]),
    ([lookup("StatefulSet", "db1", live({"app.kubernetes.io/managed-by-x": "dok.databases"}))], ["StatefulSet/db1"]),
    ([lookup("ServiceAccount", "db1", live({LABEL: "dok.databases"})),
      lookup("Secret", "db1-credentials", live({"a": "b"})),
      lookup("Service", "db1", []),
      lookup("Service", "db1-public", live(None)),
      lookup("Job", "db1-init", live({LABEL: "dok.databases"}))],
     ["Secret/db1-credentials", "Service/db1-public"]),
])
def test_foreign_objects_are_the_existing_ones_without_our_label(results, foreign):
    got = evaluate(CASES["mariadb-statefulset"], "{{ _db_cluster_foreign_objects }}", owners(results))
    assert got == foreign


def test_objects_of_other_names_in_the_namespace_are_not_ours_to_judge():
    """The list of a kind holds every object of that kind; only the names about to be applied count."""
    got = owners([lookup("Secret", "db1-credentials", live({LABEL: "dok.databases"}))])
    got["__db_cluster_owners"]["results"][0]["resources"].append(
        {"metadata": {"name": "someone-elses", "namespace": "ns1", "labels": {LABEL: "Helm"}}})
    assert evaluate(CASES["mariadb-statefulset"], "{{ _db_cluster_foreign_objects }}", got) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_list_call_per_kind(case):
    objects, init, dummy = render_case(case)
    kinds = evaluate(CASES[case], "{{ _db_cluster_ownership_kinds }}", {"_db_cluster_ownership_objects": objects + init})
    expected = []
    for o in objects + init:
        if [o["apiVersion"], o["kind"]] not in expected:
            expected.append([o["apiVersion"], o["kind"]])
    assert sorted(kinds) == sorted(expected)
    assert len(kinds) < len(objects + init) or len(expected) == len(objects + init)


def refusal(tasks):
    asserts = [t for t in tasks if "ansible.builtin.assert" in t]
    assert len(asserts) == 1
    return asserts[0]["ansible.builtin.assert"]


def test_the_refusal_names_each_object_and_says_what_to_do():
    task = refusal(load_tasks("ownership.yml"))
    foreign = owners([lookup("Secret", "db1-credentials", live(None)), lookup("Service", "db1", live({"app": "other"}))])
    assert evaluate(CASES["mariadb-statefulset"], "{{ %s }}" % task["that"], foreign) is False
    message = " ".join(evaluate(CASES["mariadb-statefulset"], task["fail_msg"], foreign).split())
    assert message.startswith("Refusing to take over objects that dok.databases does not manage: "
                              "Secret/db1-credentials, Service/db1 already in namespace ns1 without the label "
                              "app.kubernetes.io/managed-by=dok.databases ")
    assert "Nothing was applied." in message
    assert "db_cluster_name" in message
    assert "kubectl -n ns1 delete secret/db1-credentials service/db1" in message
    assert "kubectl -n ns1 label secret/db1-credentials service/db1 app.kubernetes.io/managed-by=dok.databases" \
        in message
    nothing = owners([lookup("Secret", "db1-credentials", [])])
    assert evaluate(CASES["mariadb-statefulset"], "{{ %s }}" % task["that"], nothing) is True


def test_the_lookup_hides_what_it_does_not_need():
    tasks = load_tasks("ownership.yml")
    info = [t for t in tasks if "kubernetes.core.k8s_info" in t]
    assert len(info) == 1
    args = info[0]["kubernetes.core.k8s_info"]
    assert {"data", "stringData", "metadata.annotations", "metadata.managedFields"} <= set(args["hidden_fields"])
    assert info[0]["loop"].strip() == "{{ _db_cluster_ownership_kinds }}"
    assert args["namespace"] == "{{ db_cluster_namespace }}" and "name" not in args
    assert info[0]["register"] == "__db_cluster_owners"


def test_the_check_comes_before_anything_is_applied_by_init():
    tasks = load_tasks("init.yml")
    check = [i for i, t in enumerate(tasks) if t.get("ansible.builtin.import_tasks") == "ownership.yml"]
    assert len(check) == 1
    assert tasks[check[0]]["vars"]["_db_cluster_ownership_objects"].strip() == "{{ __db_cluster_init_objects }}"
    applies = task_using(tasks, "kubernetes.core.k8s")
    assert applies and min(applies) > check[0]


def test_the_check_of_every_object_comes_before_the_plan_reads_or_dry_runs_the_live_workloads():
    main = [t.get("ansible.builtin.include_tasks", {}).get("file") for t in load_tasks("main.yml")]
    assert main.index("owned.yml") < main.index("converge.yml") < main.index("apply.yml")
    owned = load_tasks("owned.yml")
    check = [i for i, t in enumerate(owned) if t.get("ansible.builtin.import_tasks") == "ownership.yml"]
    assert len(check) == 1
    assert owned[check[0]]["vars"]["_db_cluster_ownership_objects"].strip() == "{{ __db_cluster_owned_objects }}"
    rendered = owned[0]["ansible.builtin.set_fact"]["__db_cluster_owned_objects"]
    # the same manifests apply.yml and init.yml apply: the workloads and Services, then the init Job
    assert "_db_cluster_manifests[_db_cluster_family]" in rendered
    assert "_db_cluster_init_manifests[_db_cluster_family]" in rendered


def test_every_applied_object_comes_from_the_checked_lists():
    for stage, allowed in (("apply.yml", "__db_cluster_objects"), ("init.yml", "__db_cluster_init_objects")):
        for task in load_tasks(stage):
            args = task.get("kubernetes.core.k8s")
            if not args or args.get("kind") == "Namespace":
                continue
            if isinstance(args.get("definition"), dict) and args["definition"].get("kind") == "Namespace":
                # created only when missing, never changed once it exists
                assert "not __db_cluster_ns_exists" in task["when"], task["name"]
                continue
            # one object per loop item, or the whole list in one call
            source = task["loop"] if args["definition"] == "{{ item }}" else args["definition"]
            assert source.strip().startswith("{{ " + allowed + " "), task["name"]


@pytest.mark.parametrize("family", sorted(FAMILY_CASE))
def test_init_objects_are_the_init_job_for_cockroachdb_only(family):
    dummy, init, dummy = render_case(FAMILY_CASE[family])
    manifests = evaluate(CASES[FAMILY_CASE[family]], "{{ _db_cluster_init_manifests[_db_cluster_family] }}")
    assert manifests == (["cockroachdb/job-init.yml.j2"] if family == "cockroachdb" else [])
    assert [o["kind"] for o in init] == (["Job"] if family == "cockroachdb" else [])
