# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_cluster's pods pass the Pod Security Standard restricted, and the role refuses pods a namespace would reject."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dok.databases.plugins.module_utils import pod_security

from .db_cluster_render import CASES, by_kind, evaluate, load_tasks, pod_spec, render, render_case

USERS = {"cockroachdb": 1000, "kaiwudb": 1000, "cassandra": 999, "mariadb": 999, "mysql": 999}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_database_pod_and_init_job_passes_restricted(case):
    objects, init, dummy = render_case(case)
    pods = [o for o in objects + init if o["kind"] in ("StatefulSet", "Deployment", "Job")
            and not o["metadata"]["name"].endswith("-wordpress")]
    assert pods
    assert pod_security.object_violations(pods, "restricted") == []
    engine = CASES[case]["db_cluster_engine"]
    for workload in pods:
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsUser"] == USERS[engine]
        assert spec["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
        assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is (engine == "cockroachdb")


@pytest.mark.parametrize("case", [c for c in sorted(CASES) if CASES[c].get("db_cluster_wordpress_enabled")])
def test_the_wordpress_client_needs_baseline_and_gets_it(case):
    objects, dummy, dummy = render_case(case)
    wordpress = [o for o in objects if o["metadata"]["name"].endswith("-wordpress") and o["kind"] == "Deployment"]
    assert len(wordpress) == 1
    assert pod_security.object_violations(wordpress, "baseline") == []
    assert pod_security.object_violations(wordpress, "restricted")
    assert evaluate(CASES[case], "{{ _db_cluster_namespace_pod_security }}") == "baseline"


def test_overrides_merge_over_the_restricted_defaults():
    objects, dummy = render({"db_cluster_engine": "cassandra",
                             "db_cluster_pod_security_context": {"runAsUser": 4242, "supplementalGroups": [5]},
                             "db_cluster_container_security_context": {"readOnlyRootFilesystem": True,
                                                                       "capabilities": {"add": ["NET_BIND_SERVICE"]}}})
    spec = pod_spec(by_kind(objects, "StatefulSet")[0])
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 4242, "runAsGroup": 999, "fsGroup": 999,
                                       "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroups": [5],
                                       "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}


def test_mariadb_user_and_group_come_from_their_own_variables():
    objects, dummy = render({"db_cluster_engine": "mariadb", "db_cluster_mariadb_root_password": "x",
                             "db_cluster_mariadb_run_as_user": 1001, "db_cluster_mariadb_fs_group": 1002})
    ctx = pod_spec(by_kind(objects, "StatefulSet")[0])["securityContext"]
    assert (ctx["runAsUser"], ctx["runAsGroup"], ctx["fsGroup"]) == (1001, 1002, 1002)


@pytest.mark.parametrize("setting,wordpress,level", [
    ("auto", False, "restricted"), ("auto", True, "baseline"), ("baseline", False, "baseline"),
    ("none", False, "none"), ("privileged", True, "privileged"),
])
def test_the_level_of_a_namespace_the_role_creates(setting, wordpress, level):
    overrides = {"db_cluster_engine": "mariadb", "db_cluster_namespace_pod_security": setting,
                 "db_cluster_wordpress_enabled": wordpress}
    assert evaluate(overrides, "{{ _db_cluster_namespace_pod_security }}") == level


def _check_task():
    tasks = load_tasks("owned.yml")
    return [t for t in tasks if t["name"] == "Check the pods against the Pod Security Standard the namespace enforces"][0]


FORBIDDEN = "forbidden"


def _namespace_facts(overrides, info):
    """The facts owned.yml sets from the namespace lookup's result `info`."""
    task = [t for t in load_tasks("namespace.yml")
            if "__db_cluster_ns_level" in t.get("ansible.builtin.set_fact", {})][0]
    facts = task["ansible.builtin.set_fact"]
    extra = dict(task["vars"], __db_cluster_namespace_info=info)
    return {name: evaluate(dict(overrides, **extra), expression) for name, expression in facts.items()}


def _refused(overrides, namespace_labels):
    """The level owned.yml finds with the namespace found (labels), absent (None) or unreadable (FORBIDDEN), and
    what its check refuses at that level."""
    task = _check_task()
    objects, dummy = render(overrides)
    init = render(overrides, ["cockroachdb/job-init.yml.j2"])[0] if overrides["db_cluster_engine"] == "cockroachdb" \
        else []
    if namespace_labels == FORBIDDEN:
        info = {"failed": True, "msg": "Exception '(403)\nReason: Forbidden' raised while trying to get resource"}
    else:
        info = {"resources": [] if namespace_labels is None else [{"metadata": {"labels": namespace_labels}}]}
    level = _namespace_facts(overrides, info)["__db_cluster_ns_level"]
    # the task's list is this filter over these objects (collection filters are not loadable under pytest)
    assert task["vars"]["__db_cluster_ns_refused"].split() == [
        "{{", "__db_cluster_owned_objects", "|", "dok.databases.pod_security_violations(__db_cluster_ns_level)", "}}"]
    return level, pod_security.object_violations(objects + init, level)


def test_a_namespace_the_identity_cannot_read_exists_and_is_taken_to_enforce_the_role_level():
    facts = _namespace_facts({"db_cluster_engine": "mariadb", "db_cluster_create_namespace": False},
                             {"failed": True, "msg": "Exception '(403)\nReason: Forbidden' raised"})
    assert facts == {"__db_cluster_ns_exists": True, "__db_cluster_ns_level_known": False,
                     "__db_cluster_ns_level": "restricted"}
    assert _refused(ROOT_OVERRIDE, FORBIDDEN)[0] == "restricted" and _refused(ROOT_OVERRIDE, FORBIDDEN)[1]
    found = _namespace_facts({"db_cluster_engine": "mariadb"}, {"resources": []})
    assert found["__db_cluster_ns_exists"] is False and found["__db_cluster_ns_level_known"] is True


def test_only_a_forbidden_namespace_lookup_is_tolerated():
    task = [t for t in load_tasks("namespace.yml") if t["name"] == "Look up the namespace"][0]
    conditions = task["failed_when"]
    assert conditions[0] == "__db_cluster_namespace_info.failed | default(false)"
    assert conditions[1] == "__db_cluster_namespace_info.msg | default('') is not search('\\(403\\)|Forbidden')"


ROOT_OVERRIDE = {"db_cluster_engine": "cockroachdb", "db_cluster_pod_security_context": {"runAsUser": 0}}


def test_an_override_a_new_restricted_namespace_would_refuse_is_caught_before_applying():
    level, refused = _refused(ROOT_OVERRIDE, None)
    assert level == "restricted"
    assert "StatefulSet/db1: securityContext.runAsUser must not be 0" in refused
    assert "Job/db1-init: securityContext.runAsUser must not be 0" in refused


def test_an_existing_namespace_is_checked_against_its_own_label():
    assert _refused(ROOT_OVERRIDE, {"pod-security.kubernetes.io/enforce": "baseline"}) == ("baseline", [])
    assert _refused(ROOT_OVERRIDE, {}) == ("privileged", [])
    level, refused = _refused(ROOT_OVERRIDE, {"pod-security.kubernetes.io/enforce": "restricted"})
    assert level == "restricted" and refused


def test_the_defaults_pass_a_restricted_namespace_and_wordpress_fails_it():
    assert _refused({"db_cluster_engine": "cassandra"}, {"pod-security.kubernetes.io/enforce": "restricted"})[1] == []
    level, refused = _refused({"db_cluster_engine": "mariadb", "db_cluster_mariadb_root_password": "x",
                               "db_cluster_wordpress_enabled": True},
                              {"pod-security.kubernetes.io/enforce": "restricted"})
    assert refused and all(r.startswith("Deployment/db1-wordpress: ") for r in refused)


def test_the_refusal_comes_before_anything_is_held_created_or_applied():
    main = [t.get("ansible.builtin.include_tasks", {}).get("file") for t in load_tasks("main.yml")]
    assert main.index("owned.yml") < main.index("converge.yml") < main.index("hold.yml") < main.index("apply.yml")
    owned = load_tasks("owned.yml")
    assert owned[-1]["name"] == _check_task()["name"]
    assert owned[-2].get("ansible.builtin.import_tasks") == "namespace.yml"
    # the objects checked are the ones the role renders: workloads, Services, the init Job
    rendered = owned[0]["ansible.builtin.set_fact"]["__db_cluster_owned_objects"]
    assert "_db_cluster_manifests[_db_cluster_family]" in rendered
    assert "_db_cluster_init_manifests[_db_cluster_family]" in rendered


def test_apply_reads_the_namespace_itself_so_it_also_runs_alone():
    """apply.yml is run alone (tasks_from) too; it must not depend on a fact of owned.yml or of an earlier run."""
    apply = load_tasks("apply.yml")
    assert apply[0].get("ansible.builtin.import_tasks") == "namespace.yml"
