# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""converge.plan: every difference between the live workload and the inventory goes to its gated path or is refused."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.dok.databases.plugins.module_utils import converge
from ansible_collections.dok.databases.plugins.module_utils.converge import (
    VersionError, compare_versions, live_state, parse_version, plan, plan_text, template_hash,
)

NAME = "db"
OLD, NEW = "dok.test/mariadb:10.11", "dok.test/mariadb:11.8"


def sts(image=OLD, replicas=3, partition=None, revision="r1", update_revision="r1", managed=True, storage="2Gi",
        storage_class="local", cpu="500m"):
    strategy = {"type": "RollingUpdate"}
    if partition is not None:
        strategy["rollingUpdate"] = {"partition": partition}
    labels = {"app.kubernetes.io/managed-by": "dok.databases"} if managed else {}
    return {
        "kind": "StatefulSet",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "replicas": replicas,
            "updateStrategy": strategy,
            "template": {"metadata": {"labels": {"app": NAME}},
                         "spec": {"containers": [{"name": "mariadb", "image": image,
                                                  "resources": {"requests": {"cpu": cpu}}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "datadir"},
                                      "spec": {"storageClassName": storage_class,
                                               "resources": {"requests": {"storage": storage}}}}],
        },
        "status": {"currentRevision": revision, "updateRevision": update_revision},
    }


def pod(ordinal, image=OLD, revision="r1", ready=True):
    return {"metadata": {"name": "%s-%d" % (NAME, ordinal), "labels": {"controller-revision-hash": revision}},
            "spec": {"containers": [{"name": "mariadb", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def live(workload=None, pods=None, decommissioning=None):
    workload = sts() if workload is None else workload
    if pods is None:
        pods = [pod(i, image=workload["spec"]["template"]["spec"]["containers"][0]["image"])
                for i in range(workload["spec"]["replicas"])]
    return live_state(workload, pods, "mariadb", decommissioning)


def desired(image=OLD, replicas=3, storage="2Gi", storage_class="local", cpu="500m", kind="StatefulSet"):
    template = sts(image=image, cpu=cpu)["spec"]["template"]
    return {"kind": kind, "image": image, "replicas": replicas,
            "template_hash": template_hash(template, "mariadb"),
            "claims": {"datadir": {"storage": storage, "storage_class": storage_class}}}


def actions(result):
    return [s["action"] for s in result["steps"]]


@pytest.mark.parametrize("image, numbers, variant", [
    ("dok.test/mariadb:10.11", (10, 11, 0, 0), ""),
    ("cockroachdb/cockroach:v23.1.11", (23, 1, 11, 0), ""),
    ("registry:5000/cassandra:5.0.8", (5, 0, 8, 0), ""),
    ("docker.io/library/mariadb:11.8.2-noble", (11, 8, 2, 0), "noble"),
    ("docker.io/library/mariadb:11.8@sha256:" + "a" * 64, (11, 8, 0, 0), ""),
])
def test_parse_version_reads_release_tags(image, numbers, variant):
    assert parse_version(image) == (numbers, variant)


@pytest.mark.parametrize("image", [
    "mariadb", "mariadb:latest", "mariadb:lts", "registry:5000/mariadb", "mariadb:11.8-rc1", "mariadb:11.8-beta",
    "mariadb@sha256:" + "a" * 64, "mariadb:11..8", "mariadb:1.2.3.4.5", "",
])
def test_parse_version_refuses_what_is_not_a_release(image):
    with pytest.raises(VersionError) as exc:
        parse_version(image)
    assert "never guesses" in exc.value.msg


@pytest.mark.parametrize("old, new, direction", [
    ("m:10.11", "m:11.8", 1), ("m:11.8", "m:10.11", -1), ("m:10.11", "m:10.11.0", 0), ("m:v23.1.11", "m:v23.2.4", 1),
    ("m:5.0.9", "m:5.0.10", 1), ("a/m:11.8", "b/m:11.8", 0),
])
def test_compare_versions_orders_by_number_not_text(old, new, direction):
    assert compare_versions(old, new) == direction


def test_compare_versions_refuses_variants_of_one_release():
    with pytest.raises(VersionError, match="different variants"):
        compare_versions("m:11.8-noble", "m:11.8-jammy")


def test_absent_workload_is_deployed():
    result = plan({"exists": False}, desired(), {})
    assert actions(result) == ["deploy"] and result["changed"] and result["refusals"] == []


def test_live_equal_to_desired_is_nothing_to_do():
    result = plan(live(), desired(), {})
    assert result == {"changed": False, "steps": [], "planned": [], "refusals": []}
    assert plan_text(result) == ["nothing to do: the live cluster matches the inventory"]


def test_a_workload_not_ours_is_refused():
    result = plan(live(sts(managed=False)), desired(), {})
    assert actions(result) == [] and "never adopts" in result["refusals"][0]


def test_newer_image_is_a_gated_upgrade_highest_ordinal_first():
    result = plan(live(), desired(image=NEW), {})
    assert actions(result) == ["upgrade"]
    step = result["steps"][0]
    assert step["image"] == NEW and step["pods"] == ["db-2", "db-1", "db-0"] and step["via"] == "rolling_upgrade"
    assert plan_text(result) == ["db-2, db-1, db-0: %s -> %s, gated" % (OLD, NEW)]


def test_older_image_is_refused_naming_both():
    result = plan(live(sts(image=NEW)), desired(image=OLD), {"allow_downgrade": True})
    assert actions(result) == [] and not result["changed"]
    assert "is older than the live" in result["refusals"][0] and "no supported downgrade" in result["refusals"][0]


def test_older_image_runs_only_with_the_option_where_the_engine_allows_it():
    both = {"allow_downgrade": True, "engine_allows_downgrade": True}
    assert actions(plan(live(sts(image=NEW)), desired(image=OLD), both)) == ["downgrade"]
    refused = plan(live(sts(image=NEW)), desired(image=OLD), {"engine_allows_downgrade": True})
    assert actions(refused) == [] and "before the upgrade is finalized" in refused["refusals"][0]


def test_an_unparsable_tag_is_refused_not_guessed():
    result = plan(live(), desired(image="dok.test/mariadb:latest"), {})
    assert actions(result) == [] and "not a release version" in result["refusals"][0]


def test_more_replicas_is_a_scale_up_naming_the_new_pods():
    result = plan(live(), desired(replicas=5), {})
    assert actions(result) == ["scale_up"] and result["steps"][0]["pods"] == ["db-3", "db-4"]


def test_fewer_replicas_without_confirmation_is_refused_naming_what_would_go():
    result = plan(live(sts(replicas=4)), desired(replicas=2), {})
    assert actions(result) == [] and "db-3, db-2" in result["refusals"][0]


def test_fewer_replicas_with_confirmation_decommissions_highest_first():
    result = plan(live(sts(replicas=4)), desired(replicas=2), {"confirm_scale_down": True})
    assert actions(result) == ["scale_down"] and result["steps"][0]["pods"] == ["db-3", "db-2"]
    assert "claims kept" in result["steps"][0]["text"]


def test_several_changes_come_in_order():
    result = plan(live(sts(replicas=4)), desired(image=NEW, replicas=2), {"confirm_scale_down": True})
    assert actions(result) == ["scale_down", "upgrade"]
    assert result["steps"][1]["pods"] == ["db-1", "db-0"]
    assert actions(plan(live(), desired(image=NEW, replicas=4), {})) == ["upgrade", "scale_up"]


def test_another_template_change_is_a_gated_rollout():
    result = plan(live(), desired(cpu="1"), {})
    assert actions(result) == ["rollout"] and result["steps"][0]["pods"] == ["db-2", "db-1", "db-0"]


@pytest.mark.parametrize("change, field", [
    ({"storage": "4Gi"}, "spec.volumeClaimTemplates[datadir].spec.resources.requests.storage"),
    ({"storage_class": "fast"}, "spec.volumeClaimTemplates[datadir].spec.storageClassName"),
    ({"kind": "Deployment"}, "field kind, immutable"),
])
def test_immutable_changes_are_refused_naming_the_field(change, field):
    result = plan(live(), desired(image=NEW, **change), {})
    assert actions(result) == [] and any(field in r for r in result["refusals"]), result["refusals"]


def test_a_half_done_rollout_to_the_same_image_is_finished_first():
    workload = sts(image=NEW, partition=1, update_revision="r2")
    pods = [pod(0, OLD, "r1"), pod(1, NEW, "r2"), pod(2, NEW, "r2")]
    result = plan(live(workload, pods), desired(image=NEW, replicas=4), {})
    assert actions(result) == ["finish_rollout", "scale_up"] and result["steps"][0]["pods"] == ["db-0"]


def test_a_half_done_rollout_to_another_image_is_refused():
    workload = sts(image=NEW, partition=2, update_revision="r2")
    pods = [pod(0, OLD, "r1"), pod(1, OLD, "r1"), pod(2, NEW, "r2")]
    result = plan(live(workload, pods), desired(image="dok.test/mariadb:12.0"), {})
    assert actions(result) == [] and "is half done" in result["refusals"][0] and "db-0, db-1" in result["refusals"][0]


def test_a_scale_down_is_refused_while_a_rollout_is_half_done():
    workload = sts(image=NEW, partition=2, update_revision="r2")
    pods = [pod(0, OLD, "r1"), pod(1, OLD, "r1"), pod(2, NEW, "r2")]
    result = plan(live(workload, pods), desired(image=NEW, replicas=2), {"confirm_scale_down": True})
    assert actions(result) == [] and any("while a rollout is half done" in r for r in result["refusals"])


def test_a_member_still_decommissioning_is_reported_before_anything_new():
    result = plan(live(decommissioning=["db-3"]), desired(image=NEW), {})
    assert actions(result) == [] and "db-3 decommissioning" in result["refusals"][0]


def test_a_confirmed_scale_down_resumes_a_decommissioning_member():
    result = plan(live(sts(replicas=4), decommissioning=["db-3"]), desired(replicas=3), {"confirm_scale_down": True})
    assert actions(result) == ["scale_down"] and result["steps"][0]["pods"] == ["db-3"]


def test_pods_missing_for_the_replicas_finish_the_scale():
    result = plan(live(sts(replicas=4), [pod(0), pod(1), pod(2)]), desired(replicas=4), {})
    assert actions(result) == ["finish_scale"]


def test_live_state_reads_the_workload_and_its_pods():
    state = live(sts(partition=2, update_revision="r2"), [pod(1, NEW, "r2", ready=False), pod(0)])
    assert state["partition"] == 2 and state["image"] == OLD and state["replicas"] == 3
    assert [p["name"] for p in state["pods"]] == ["db-0", "db-1"] and state["pods"][1]["ready"] is False
    assert state["claims"] == {"datadir": {"storage": "2Gi", "storage_class": "local"}}
    assert live_state(None, [], "mariadb") == {"exists": False}


def test_template_hash_ignores_the_image_and_key_order():
    a = sts(image=OLD)["spec"]["template"]
    b = copy.deepcopy(sts(image=NEW)["spec"]["template"])
    b["metadata"] = dict(reversed(list(b["metadata"].items())))
    assert template_hash(a, "mariadb") == template_hash(b, "mariadb")
    assert template_hash(a, "mariadb") != template_hash(sts(cpu="1")["spec"]["template"], "mariadb")


def test_every_action_has_a_place_in_the_order():
    assert set(converge.CHANGES) <= set(converge.ORDER)


def test_desired_state_takes_the_template_from_the_dry_run():
    rendered, applied = sts(image=NEW, replicas=4), sts(image=OLD, cpu="1")
    state = converge.desired_state(rendered, applied, "mariadb")
    assert state["image"] == NEW and state["replicas"] == 4 and state["claims"]["datadir"]["storage"] == "2Gi"
    assert state["template_hash"] == template_hash(applied["spec"]["template"], "mariadb")
    assert converge.desired_state(rendered, None, "mariadb")["template_hash"] == ""


def test_live_state_leaves_out_pods_of_another_statefulset():
    other = {"metadata": {"name": "db-rack2-0"}, "spec": {"containers": []}, "status": {}}
    assert [p["name"] for p in live(sts(), [pod(0), other])["pods"]] == ["db-0"]


STORAGE_PATH = "spec.volumeClaimTemplates[datadir].spec.resources.requests.storage"


@pytest.mark.parametrize("have, want", [("1Gi", "1024Mi"), ("2Gi", "2147483648"), ("1G", "1e9"), ("10Gi", "10Gi")])
def test_equal_storage_in_other_words_plans_nothing(have, want):
    result = plan(live(sts(storage=have)), desired(storage=want), {})
    assert result == {"changed": False, "steps": [], "planned": [], "refusals": []}


def test_larger_storage_is_refused_with_the_expansion_procedure():
    result = plan(live(sts(storage="10G")), desired(storage="10Gi"), {})
    assert actions(result) == [] and len(result["refusals"]) == 1, result
    message = result["refusals"][0]
    for part in (STORAGE_PATH, "'10G' (10000000000 bytes) live", "'10Gi' (10737418240 bytes) in the inventory",
                 "allowVolumeExpansion", "immutable", "kubectl patch pvc", "--cascade=orphan"):
        assert part in message, (part, message)


def test_smaller_storage_is_refused_because_claims_cannot_shrink():
    result = plan(live(sts(storage="10Gi")), desired(storage="10G"), {})
    assert actions(result) == [] and len(result["refusals"]) == 1, result
    message = result["refusals"][0]
    assert STORAGE_PATH in message and "cannot shrink" in message and "'10Gi' (10737418240 bytes)" in message
    assert "allowVolumeExpansion" not in message


@pytest.mark.parametrize("have, want, bad", [("2Gi", "2 GB", "2 GB"), ("2Gi", "2gb", "2gb"), ("", "2Gi", "")])
def test_a_storage_that_is_not_a_quantity_is_refused_naming_it(have, want, bad):
    result = plan(live(sts(storage=have)), desired(storage=want), {})
    assert actions(result) == [] and len(result["refusals"]) == 1, result
    assert STORAGE_PATH in result["refusals"][0] and repr(bad) in result["refusals"][0]
