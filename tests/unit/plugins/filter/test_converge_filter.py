# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge_plan filter as the db_cluster role calls it: live objects in, plan with its text and flags out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.filter.converge import FilterModule

FILTERS = FilterModule().filters()
OLD, NEW = "dok.test/mariadb:10.11", "dok.test/mariadb:11.8"


def sts(image=OLD, replicas=1, memory="512Mi"):
    return {"kind": "StatefulSet",
            "metadata": {"name": "db", "labels": {"app.kubernetes.io/managed-by": "dok.databases"}},
            "spec": {"replicas": replicas,
                     "template": {"spec": {"containers": [{"name": "mariadb", "image": image,
                                                           "resources": {"limits": {"memory": memory}}}]}}},
            "status": {"updateRevision": "r1"}}


def pod(image=OLD):
    return {"metadata": {"name": "db-0", "labels": {"controller-revision-hash": "r1"}},
            "spec": {"containers": [{"name": "mariadb", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def test_equal_plans_nothing_and_says_so():
    result = FILTERS["converge_plan"](sts(), [pod()], "mariadb", sts(), sts())
    assert result["steps"] == [] and result["text"] == ["nothing to do: the live cluster matches the inventory"]
    assert result["template_changed"] is False and result["live"]["image"] == OLD and "pods" not in result["live"]


def test_a_newer_image_in_the_inventory_is_an_upgrade_and_the_dry_run_template_is_compared():
    result = FILTERS["converge_plan"](sts(), [pod()], "mariadb", sts(image=NEW), sts(memory="1Gi"))
    assert [s["action"] for s in result["steps"]] == ["upgrade"] and result["template_changed"] is True
    assert result["text"] == ["db-0: %s -> %s, gated" % (OLD, NEW)]


def test_a_refusal_is_text_the_role_can_show():
    result = FILTERS["converge_plan"](sts(image=NEW), [pod(NEW)], "mariadb", sts(image=OLD), sts(image=NEW))
    assert result["steps"] == [] and result["text"][0].startswith("refused: db: %s is older" % OLD)


def test_an_absent_workload_is_deployed():
    result = FILTERS["converge_plan"](None, [], "mariadb", sts())
    assert [s["action"] for s in result["steps"]] == ["deploy"] and result["template_changed"] is False


def test_a_malformed_object_is_a_filter_error():
    broken = copy.deepcopy(sts())
    broken["spec"]["replicas"] = "three"
    with pytest.raises(AnsibleFilterError, match="could not read"):
        FILTERS["converge_plan"](broken, [], "mariadb", sts())


def test_pod_template_hash_leaves_the_image_out():
    hash_ = FILTERS["pod_template_hash"]
    assert hash_(sts()["spec"]["template"], "mariadb") == hash_(sts(image=NEW)["spec"]["template"], "mariadb")


def test_the_plan_carries_its_drift():
    assert FILTERS["converge_plan"](sts(), [pod()], "mariadb", sts(), sts())["drift"] == []
    result = FILTERS["converge_plan"](sts(), [pod()], "mariadb", sts(image=NEW), sts())
    assert [(d["field"], d["live"], d["inventory"], d["action"]) for d in result["drift"]] == [
        ("image", OLD, NEW, "upgrade")]


def test_converge_drift_joins_the_plans_and_the_member_list():
    plans = [dict(FILTERS["converge_plan"](sts(image=NEW), [pod(NEW)], "mariadb", sts(), sts()), workload="db")]
    nodes = [{"id": "db-0", "pod": "db-0", "ordinal": 0, "is_live": False, "state": "down", "membership": None,
              "is_decommissioning": False}]
    items = FILTERS["converge_drift"](plans, nodes)
    assert [(d["field"], d["action"]) for d in items] == [("image", "refused"), ("member", "none")]
    assert FILTERS["converge_drift"](plans, None)[1:] == []


def test_converge_drift_of_a_cluster_in_sync_is_empty():
    plans = [FILTERS["converge_plan"](sts(), [pod()], "mariadb", sts(), sts())]
    nodes = [{"id": "db-0", "pod": "db-0", "ordinal": 0, "is_live": True, "state": "live", "membership": None,
              "is_decommissioning": False}]
    assert FILTERS["converge_drift"](plans, nodes) == []
