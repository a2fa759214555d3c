"""Safety of the decommission state machine as properties over generated Cassandra cluster states.

Whatever the ring and the pods look like (pods missing, Pending, moved to a new address; members down, leaving,
joining or of a status nodetool does not document; claims retained by earlier runs), no pod is scaled away and no
claim deleted unless the database confirmed that its member left, or the user named the pod in assume_gone (and then
its claim is kept). An ordinal to remove without a pod is refused unless assume_gone names it. Two strategies build
the rare shapes on purpose (pods named in assume_gone under pvc_policy delete; ordinals without a pod), and the
known bad shapes are pinned as examples, so a regression on either fails every run.
"""
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.decommission import (
    DELETE_PENDING, MEMBER_LEFT, run_decommission,
)
from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import CassandraAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import DokError, PreconditionError

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


def parameters(target, policy="delete", assume=(), force=False, replication_factor=1):
    return {"replicas": target, "pvc_policy": policy, "force": force, "replication_factor": replication_factor,
            "assume_gone": list(assume), "stall_timeout": 30, "wait_timeout": 300, "poll_interval": 5}


@st.composite
def assumed_gone_states(draw):
    """A healthy ring whose top ordinals lost their pods (absent, Pending, or running at a new address while the
    ring still shows the old one), each named in assume_gone, under pvc_policy delete: their claims must stay."""
    replicas = draw(st.integers(min_value=2, max_value=6))
    lost = draw(st.integers(min_value=1, max_value=min(2, replicas - 1)))
    ordinals = [(o, "running", "UN") for o in range(replicas - lost)]
    for ordinal in range(replicas - lost, replicas):
        ordinals.append((ordinal, draw(st.sampled_from(("absent", "pending", "moved"))),
                         draw(st.sampled_from(("DN", "?N", "DL", "left")))))
    named = ["cassandra-%d" % o for o in range(replicas - lost, replicas)]
    retained = draw(st.lists(st.tuples(st.integers(min_value=replicas, max_value=replicas + 2),
                                       st.sampled_from(("none", "left", "pending"))), max_size=2))
    params = parameters(replicas - lost, "delete", named, draw(st.booleans()))
    return ordinals, [], retained, params, False


@st.composite
def missing_pod_states(draw):
    """Replicas mode with an ordinal to remove that has no pod and is not named in assume_gone: always refused."""
    replicas = draw(st.integers(min_value=2, max_value=6))
    target = draw(st.integers(min_value=1, max_value=replicas - 1))
    missing = draw(st.lists(st.integers(min_value=target, max_value=replicas - 1), min_size=1, unique=True))
    ordinals = []
    for ordinal in range(replicas):
        pod = "absent" if ordinal in missing else draw(st.sampled_from(("running", "running", "moved", "pending")))
        ordinals.append((ordinal, pod, draw(st.sampled_from(("UN", "UN", "DN", "left", "UL")))))
    others = [o for o in range(target, replicas) if o not in missing]
    assume = draw(st.lists(st.sampled_from(["cassandra-%d" % o for o in others]), unique=True)) if others else []
    params = parameters(target, draw(st.sampled_from(("retain", "delete"))), assume, draw(st.booleans()),
                        draw(st.integers(min_value=1, max_value=3)))
    return ordinals, [], [], params, draw(st.booleans())


def check_run(state):
    """Run the decommission over a generated state and check every safety invariant against the model's truth."""
    ordinals, foreign, retained, params, check_mode = state
    model = build(ordinals, foreign, retained)
    claims_before = dict((n, dict(a)) for n, a in model.claims_by_name.items())
    pods_before = set(p["name"] for p in model.pods())
    spec_replicas = model.replicas()
    assume = set(params["assume_gone"])
    unaccounted = [o for o in range(params["replicas"], spec_replicas)
                   if "cassandra-%d" % o not in pods_before and "cassandra-%d" % o not in assume]
    refused = None
    try:
        run_decommission(model, CassandraAdapter({}), params, check_mode=check_mode)
    except DokError as exc:
        refused = exc
    if unaccounted:
        assert refused is not None, (
            "ordinals %s have no pod and are not named in assume_gone, but the run was not refused" % unaccounted)
        assert not isinstance(refused, PreconditionError) or any(
            "cassandra-%d" % o in refused.msg for o in unaccounted), refused.msg
        assert model.mutations() == [] and model.decommissions == {}
        return model, refused
    if check_mode:
        assert model.mutations() == [] and model.decommissions == {}
        return model, refused
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
            assert "cassandra-%d" % ordinal not in assume, "claim %s of an assumed-gone pod deleted" % name
            assert left, "claim %s deleted while its member is in the ring" % name
            was_target = ordinal < len(ordinals) and ordinal >= params["replicas"]
            assert was_target or claims_before[name].get(DELETE_PENDING) == "true", (
                "claim %s was neither this run's target's nor marked by an interrupted run" % name)
    for name in assume:
        claim = "datadir-%s" % name
        assert claim not in claims_before or claim in model.claims_by_name, (
            "claim %s of a pod named in assume_gone is gone" % claim)
    scaled = [e for e in model.log if e[0] == "scale"]
    deleted = [e for e in model.log if e[0] == "delete_pvc"]
    assert not deleted or scaled or all(claims_before[e[1]].get(DELETE_PENDING) == "true" for e in deleted)
    assert pods_before >= set(p["name"] for p in model.pods())
    return model, refused


HEALTHY = [(0, "running", "UN"), (1, "running", "UN"), (2, "running", "UN")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_states())
@example((HEALTHY + [(3, "absent", "UN")], [], [], parameters(3), False))
@example((HEALTHY + [(3, "pending", "DN")], [], [], parameters(3, assume=["cassandra-3"]), False))
def test_no_scale_down_and_no_claim_deletion_without_a_confirmed_departure(state):
    check_run(state)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assumed_gone_states())
@example((HEALTHY + [(3, "pending", "DN")], [], [], parameters(3, assume=["cassandra-3"]), False))
@example((HEALTHY + [(3, "absent", "?N")], [], [], parameters(3, assume=["cassandra-3"]), False))
@example((HEALTHY + [(3, "moved", "DN"), (4, "absent", "DL")], [], [],
          parameters(3, assume=["cassandra-3", "cassandra-4"]), False))
@example((HEALTHY + [(3, "absent", "left")], [], [], parameters(3, assume=["cassandra-3"]), False))
def test_the_claims_of_pods_named_in_assume_gone_are_kept_under_pvc_policy_delete(state):
    model, refused = check_run(state)
    named = state[3]["assume_gone"]
    assert all("datadir-%s" % name in model.claims_by_name for name in named)
    if refused is None:
        assert [e for e in model.log if e[0] == "scale"], "the assumed-gone pods were not scaled away"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(missing_pod_states())
@example((HEALTHY + [(3, "absent", "UN")], [], [], parameters(3), False))
@example((HEALTHY + [(3, "absent", "left")], [], [], parameters(3), False))
@example((HEALTHY + [(3, "running", "UN"), (4, "absent", "UN")], [], [], parameters(3), False))
@example((HEALTHY + [(3, "absent", "UN"), (4, "running", "UN")], [], [], parameters(3, "retain"), False))
def test_replicas_mode_refuses_an_ordinal_without_a_pod_unless_named_in_assume_gone(state):
    model, refused = check_run(state)
    assert refused is not None and model.mutations() == []


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
