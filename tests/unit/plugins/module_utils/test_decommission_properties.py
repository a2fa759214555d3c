"""Safety of the decommission state machine as properties over generated Cassandra cluster states.

Whatever the ring and the pods look like (pods missing, Pending, moved to a new address; members down, leaving,
joining or of a status nodetool does not document; claims retained by earlier runs), no pod is scaled away and no
claim deleted unless the database confirmed that its member left, or the user named the pod in assume_gone (and then
its claim is kept).
"""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.decommission import (
    DELETE_PENDING, MEMBER_LEFT, run_decommission,
)
from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import CassandraAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import DokError

from cassandra_model import CassandraModel, Member

POD_SHAPES = ("running", "running", "running", "moved", "pending", "absent")
MEMBER_SHAPES = ("UN", "UN", "UN", "DN", "UL", "UJ", "?N", "U?", "left")


@st.composite
def cluster_states(draw):
    replicas = draw(st.integers(min_value=1, max_value=6))
    ordinals = []
    for ordinal in range(replicas):
        ordinals.append((ordinal, draw(st.sampled_from(POD_SHAPES)), draw(st.sampled_from(MEMBER_SHAPES))))
    foreign = draw(st.lists(st.sampled_from(("UN", "DN", "UL")), max_size=2))
    retained = draw(st.lists(st.tuples(st.integers(min_value=replicas, max_value=replicas + 3),
                                       st.sampled_from(("none", "left", "pending"))), max_size=3))
    target = draw(st.integers(min_value=0, max_value=replicas))
    params = {
        "replicas": target,
        "pvc_policy": draw(st.sampled_from(("retain", "delete"))),
        "force": draw(st.booleans()),
        "replication_factor": draw(st.integers(min_value=1, max_value=3)),
        "assume_gone": draw(st.lists(st.sampled_from(["cassandra-%d" % o for o in range(replicas)]), unique=True,
                                     max_size=2)),
        "stall_timeout": 30, "wait_timeout": 300, "poll_interval": 5,
    }
    return ordinals, foreign, retained, params, draw(st.booleans())


def build(ordinals, foreign, retained):
    model = CassandraModel(len(ordinals))
    number = 1
    for ordinal, pod_shape, member_shape in ordinals:
        old_ip = "10.0.0.%d" % (ordinal + 1)
        if pod_shape == "running":
            model.add_pod(ordinal, old_ip)
        elif pod_shape == "moved":
            model.add_pod(ordinal, "10.0.9.%d" % (ordinal + 1))
        elif pod_shape == "pending":
            model.add_pod(ordinal, None, phase="Pending", ready=False)
        member = model.add_member(Member(number, old_ip, member_shape[0], member_shape[1], ordinal=ordinal))
        member.left = member_shape == "left"
        number += 1
        model.add_claim(ordinal)
    for index, shape in enumerate(foreign):
        model.add_member(Member(100 + index, "10.0.5.%d" % index, shape[0], shape[1]))
    for ordinal, mark in retained:
        marks = {"none": {}, "left": {MEMBER_LEFT: "cassandra node x: decommissioned"},
                 "pending": {MEMBER_LEFT: "cassandra node x: decommissioned", DELETE_PENDING: "true"}}
        model.add_claim(ordinal, marks[mark])
    return model


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_states())
def test_no_scale_down_and_no_claim_deletion_without_a_confirmed_departure(state):
    ordinals, foreign, retained, params, check_mode = state
    model = build(ordinals, foreign, retained)
    claims_before = dict((n, dict(a)) for n, a in model.claims_by_name.items())
    pods_before = set(p["name"] for p in model.pods())
    assume = set(params["assume_gone"])
    try:
        run_decommission(model, CassandraAdapter({}), params, check_mode=check_mode)
    except DokError:
        pass
    if check_mode:
        assert model.mutations() == [] and model.decommissions == {}
        return
    for entry in model.log:
        if entry[0] == "scale":
            replicas, left_at_scale = entry[1], entry[2]
            for ordinal, left in left_at_scale.items():
                assert left or "cassandra-%d" % ordinal in assume, (
                    "ordinal %d scaled away while its member is in the ring" % ordinal)
        if entry[0] == "delete_pvc":
            name, left, annotations = entry[1], entry[2], entry[3]
            ordinal = int(name.rsplit("-", 1)[1])
            assert params["pvc_policy"] == "delete"
            assert left, "claim %s deleted while its member is in the ring" % name
            assert "cassandra-%d" % ordinal not in assume, "claim %s of an assumed-gone pod deleted" % name
            was_target = ordinal < len(ordinals) and ordinal >= params["replicas"]
            assert was_target or claims_before[name].get(DELETE_PENDING) == "true", (
                "claim %s was neither this run's target's nor marked by an interrupted run" % name)
    scaled = [e for e in model.log if e[0] == "scale"]
    deleted = [e for e in model.log if e[0] == "delete_pvc"]
    assert not deleted or scaled or all(claims_before[e[1]].get(DELETE_PENDING) == "true" for e in deleted)
    assert pods_before >= set(p["name"] for p in model.pods())


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=4, max_value=6), st.sampled_from(("retain", "delete")))
def test_a_healthy_ring_is_decommissioned_and_a_rerun_changes_nothing(replicas, policy):
    """The safety rules must not refuse the plain case: every member UN at its pod's address."""
    model = build([(o, "running", "UN") for o in range(replicas)], [], [])
    params = {"replicas": replicas - 1, "pvc_policy": policy, "replication_factor": 3,
              "stall_timeout": 30, "wait_timeout": 300, "poll_interval": 5}
    result = run_decommission(model, CassandraAdapter({}), params, check_mode=False)
    assert result["changed"] is True and model.truly_left(replicas - 1)
    assert ("datadir-cassandra-%d" % (replicas - 1) in model.claims_by_name) is (policy == "retain")
    rerun = run_decommission(model, CassandraAdapter({}), params, check_mode=False)
    assert rerun["changed"] is False
