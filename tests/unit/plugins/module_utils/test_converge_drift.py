# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""converge.drift and converge.member_drift: where the live cluster differs from the inventory, read from the same
plan the converge runs, and which members the database lists that the StatefulSet does not have (or the reverse)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.converge import drift, member_drift, plan

from test_converge import NEW, OLD, desired, live, pod, sts


def fields(items):
    return [i["field"] for i in items]


def report(live_state, desired_state, options=None):
    return drift(live_state, desired_state, plan(live_state, desired_state, options or {}))


def test_in_sync_is_an_empty_list():
    assert report(live(), desired()) == []
    assert report(live(sts(storage="1Gi")), desired(storage="1024Mi")) == []


def test_an_image_change_is_image_drift_with_what_site_would_do():
    items = report(live(), desired(image=NEW))
    assert fields(items) == ["image"] and items[0]["live"] == OLD and items[0]["inventory"] == NEW
    assert items[0]["action"] == "upgrade"
    assert items[0]["text"] == "db: image %s live, %s in the inventory; site.yml: upgrade, gated" % (OLD, NEW)


def test_an_older_image_is_drift_that_site_refuses():
    items = report(live(sts(image=NEW)), desired(image=OLD))
    assert fields(items) == ["image"] and items[0]["action"] == "refused" and "refuses" in items[0]["text"]


def test_replicas_up_and_down():
    up = report(live(), desired(replicas=4))
    assert fields(up) == ["replicas"] and up[0]["action"] == "scale_up" and up[0]["text"].startswith(
        "db: replicas 3 live, 4 in the inventory; site.yml: scale up")
    down = report(live(), desired(replicas=2))
    assert fields(down) == ["replicas"] and down[0]["action"] == "refused"
    confirmed = report(live(), desired(replicas=2), {"confirm_scale_down": True})
    assert confirmed[0]["action"] == "scale_down"


def test_another_pod_template_change():
    items = report(live(), desired(cpu="1"))
    assert fields(items) == ["pod_template"] and items[0]["action"] == "rollout"


def test_claim_template_fields_compare_as_quantities_and_are_refused():
    items = report(live(sts(storage="1Gi", storage_class="local")), desired(storage="2Gi", storage_class="fast"))
    assert fields(items) == ["volumeClaimTemplates[datadir].storage", "volumeClaimTemplates[datadir].storageClassName"]
    assert all(i["action"] == "refused" for i in items)
    assert items[0]["live"] == "1Gi" and items[0]["inventory"] == "2Gi"


def test_an_unreadable_size_is_drift_not_a_crash():
    items = report(live(sts(storage="1Gi")), desired(storage="lots"))
    assert fields(items) == ["volumeClaimTemplates[datadir].storage"] and items[0]["action"] == "refused"


def test_several_differences_each_get_an_item():
    items = report(live(), desired(image=NEW, replicas=4, cpu="1"))
    assert fields(items) == ["image", "replicas", "pod_template"]


def test_absent_and_foreign_workloads():
    absent = drift({"exists": False}, desired(), plan({"exists": False}, desired(), {}))
    assert fields(absent) == ["workload"] and absent[0]["action"] == "deploy"
    foreign = live(sts(managed=False))
    items = report(foreign, desired())
    assert fields(items) == ["ownership"] and items[0]["action"] == "refused"


def test_a_half_done_rollout_is_drift():
    workload = sts(image=NEW, partition=1, update_revision="r2")
    items = report(live(workload, [pod(0, OLD, "r1"), pod(1, NEW, "r2"), pod(2, NEW, "r2")]), desired(image=NEW))
    assert fields(items) == ["rollout"] and items[0]["action"] == "finish_rollout" and "db-0" in items[0]["text"]


def node(pod_name, node_id, membership="active", is_live=True):
    ordinal = int(pod_name.rsplit("-", 1)[1]) if pod_name else None
    return {"id": node_id, "pod": pod_name, "ordinal": ordinal, "membership": membership, "is_live": is_live,
            "address": "%s.db.ns:26257" % pod_name if pod_name else "10.0.0.9:26257",
            "state": "live" if is_live else "dead", "is_decommissioning": membership != "active"}


def test_members_and_pods_that_match_are_no_drift():
    nodes = [node("db-0", 1), node("db-1", 2), node("db-2", 3)]
    assert member_drift([live()], nodes) == []


def test_a_decommissioned_member_after_a_scale_down_is_no_drift():
    nodes = [node("db-0", 1), node("db-1", 2), node("db-2", 3), node("db-3", 4, "decommissioned", False)]
    assert member_drift([live()], nodes) == []


def test_a_member_without_a_pod_in_the_statefulset():
    nodes = [node("db-0", 1), node("db-1", 2), node("db-2", 3), node("db-3", 4)]
    items = member_drift([live()], nodes)
    assert fields(items) == ["member"] and items[0]["live"] == "db-3"
    assert "db-3" in items[0]["text"] and "3 replicas" in items[0]["text"] and "node 4" in items[0]["text"]


def test_a_dead_member_and_a_decommissioning_one():
    nodes = [node("db-0", 1), node("db-1", 2, is_live=False), node("db-2", 3, "decommissioning")]
    items = member_drift([live()], nodes)
    assert [(i["field"], i["live"]) for i in items] == [("member", "db-1"), ("member", "db-2")]
    assert "dead" in items[0]["text"] and "decommissioning" in items[1]["text"]


def test_a_pod_the_database_does_not_list():
    nodes = [node("db-0", 1), node("db-1", 2), node("db-2", 3, "decommissioned", False)]
    items = member_drift([live()], nodes)
    assert fields(items) == ["pod"] and items[0]["live"] == "db-2" and "does not list" in items[0]["text"]


def test_a_member_whose_pod_is_unknown():
    items = member_drift([live()], [node("db-0", 1), node("db-1", 2), node("db-2", 3), node(None, 7, is_live=False)])
    assert fields(items) == ["member"] and "10.0.0.9" in items[0]["text"]


def test_no_member_list_means_no_member_drift():
    assert member_drift([live()], None) == [] and member_drift([{"exists": False}], [node("db-0", 1)]) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5), st.sets(st.integers(min_value=0, max_value=6)),
       st.sets(st.integers(min_value=0, max_value=6)))
def test_every_member_without_a_pod_and_pod_without_a_member_is_reported(replicas, members, dead):
    nodes = [node("db-%d" % o, o + 1, is_live=o not in dead) for o in sorted(members)]
    items = member_drift([live(sts(replicas=replicas))], nodes)
    reported = {(i["field"], i["live"]) for i in items}
    for ordinal in range(max(replicas, max(members | {0}) + 1)):
        name = "db-%d" % ordinal
        if ordinal in members and (ordinal >= replicas or ordinal in dead):
            assert ("member", name) in reported
        elif ordinal < replicas and ordinal not in members:
            assert ("pod", name) in reported
        else:
            assert ("member", name) not in reported and ("pod", name) not in reported
