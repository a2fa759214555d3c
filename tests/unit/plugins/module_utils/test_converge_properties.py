# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""converge.plan over generated live and desired states: it never plans an older image without the downgrade option,
never fewer replicas without the confirmation, nothing when they are equal, and never a change beside a refusal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.converge import (
    DOWNGRADE, SCALE_DOWN, VersionError, compare_versions, parse_version, plan,
)

NAME = "db"
numbers = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=3)
tags = st.one_of(
    numbers.map(lambda n: ".".join(str(i) for i in n)),
    numbers.map(lambda n: "v" + ".".join(str(i) for i in n)),
    st.sampled_from(["latest", "lts", "11.8-rc1", "", "11.8-noble", "11.8-jammy"]),
)
images = tags.map(lambda t: "dok.test/db:" + t if t else "dok.test/db")
options = st.fixed_dictionaries({"allow_downgrade": st.booleans(), "engine_allows_downgrade": st.booleans(),
                                 "confirm_scale_down": st.booleans()})


@st.composite
def live_states(draw):
    replicas = draw(st.integers(min_value=1, max_value=6))
    image = draw(images)
    partition = draw(st.integers(min_value=0, max_value=replicas))
    pods = []
    for ordinal in range(draw(st.integers(min_value=0, max_value=replicas + 1))):
        behind = ordinal < partition and draw(st.booleans())
        pods.append({"name": "%s-%d" % (NAME, ordinal), "ordinal": ordinal, "ready": draw(st.booleans()),
                     "image": draw(images) if behind else image, "revision": "r1" if behind else "r2"})
    return {"exists": True, "managed": True, "kind": "StatefulSet", "name": NAME,
            "image": image, "replicas": replicas, "partition": partition, "current_revision": "r1",
            "update_revision": "r2", "template_hash": draw(st.sampled_from(["h1", "h2"])),
            "claims": {"datadir": {"storage": "2Gi", "storage_class": "local"}}, "pods": pods,
            "decommissioning": draw(st.sampled_from([[], ["%s-%d" % (NAME, replicas - 1)]]))}


@st.composite
def desired_states(draw):
    return {"kind": "StatefulSet", "name": NAME, "image": draw(images),
            "replicas": draw(st.integers(min_value=1, max_value=6)),
            "template_hash": draw(st.sampled_from(["h1", "h2"])),
            "claims": {"datadir": {"storage": draw(st.sampled_from(["2Gi", "4Gi"])), "storage_class": "local"}}}


def older(live_image, new_image):
    try:
        return compare_versions(live_image, new_image) < 0
    except VersionError:
        return None


@settings(max_examples=400, deadline=None)
@given(live_states(), desired_states(), options)
def test_never_an_older_image_without_the_downgrade_option(live, desired, opts):
    result = plan(live, desired, opts)
    for step in result["steps"]:
        if step.get("image") and step["image"] != live["image"]:
            direction = older(live["image"], step["image"])
            assert direction is not None, "an image that cannot be ordered was planned: %r" % step
            if direction:
                assert step["action"] == DOWNGRADE and opts["allow_downgrade"] and opts["engine_allows_downgrade"]


@settings(max_examples=400, deadline=None)
@given(live_states(), desired_states(), options)
def test_never_fewer_replicas_without_the_confirmation(live, desired, opts):
    result = plan(live, desired, opts)
    removing = [s for s in result["steps"] if s["action"] == SCALE_DOWN]
    if removing:
        assert opts["confirm_scale_down"] and desired["replicas"] < live["replicas"]
        assert removing[0]["pods"] == ["%s-%d" % (NAME, o) for o in range(live["replicas"] - 1, desired["replicas"] - 1, -1)]
    for step in result["steps"]:
        assert step.get("replicas", live["replicas"]) >= live["replicas"] or step["action"] == SCALE_DOWN


@settings(max_examples=400, deadline=None)
@given(live_states(), desired_states(), options)
def test_a_refusal_plans_no_change(live, desired, opts):
    result = plan(live, desired, opts)
    if result["refusals"]:
        assert result["steps"] == [] and result["changed"] is False
    assert result["changed"] == bool(result["steps"])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=6), images, st.sampled_from(["h1", "h2"]), options)
def test_equal_live_and_desired_change_nothing(replicas, image, fingerprint, opts):
    pods = [{"name": "%s-%d" % (NAME, o), "ordinal": o, "ready": True, "image": image, "revision": "r2"}
            for o in range(replicas)]
    live = {"exists": True, "managed": True, "kind": "StatefulSet", "name": NAME, "image": image,
            "replicas": replicas, "partition": 0, "update_revision": "r2", "template_hash": fingerprint,
            "claims": {"datadir": {"storage": "2Gi", "storage_class": "local"}}, "pods": pods, "decommissioning": []}
    desired = {"kind": "StatefulSet", "image": image, "replicas": replicas, "template_hash": fingerprint,
               "claims": {"datadir": {"storage": "2Gi", "storage_class": "local"}}}
    assert plan(live, desired, opts) == {"changed": False, "steps": [], "planned": [], "refusals": []}


@settings(max_examples=300, deadline=None)
@given(images, images)
def test_version_order_is_antisymmetric_and_refuses_rather_than_guess(a, b):
    try:
        forward = compare_versions(a, b)
    except VersionError:
        try:
            parse_version(a), parse_version(b)
        except VersionError:
            return
        assert parse_version(a)[0] == parse_version(b)[0] and parse_version(a)[1] != parse_version(b)[1]
        return
    assert compare_versions(b, a) == -forward


storage_forms = st.sampled_from([
    (2 ** 31, ["2Gi", "2048Mi", "2097152Ki", "2147483648", "2.147483648G", "2147483648e0"]),
    (2 * 10 ** 9, ["2G", "2000M", "2e9", "2000000k", "2000000000", "0.002T"]),
    (4 * 2 ** 30, ["4Gi", "4096Mi", "0.00390625Ti"]),
    (10 ** 9, ["1G", "1e9", "1000M"]),
])


@settings(max_examples=300, deadline=None)
@given(storage_forms, storage_forms, st.data())
def test_storage_refusals_follow_the_byte_counts_not_the_text(have, want, data):
    have_text, want_text = data.draw(st.sampled_from(have[1])), data.draw(st.sampled_from(want[1]))
    claims = {"datadir": {"storage": have_text, "storage_class": "local"}}
    live = {"exists": True, "managed": True, "kind": "StatefulSet", "name": NAME, "image": "dok.test/db:1.0",
            "replicas": 1, "partition": 0, "update_revision": "r2", "template_hash": "h1", "claims": claims,
            "pods": [{"name": NAME + "-0", "ordinal": 0, "ready": True, "image": "dok.test/db:1.0", "revision": "r2"}],
            "decommissioning": []}
    desired = {"kind": "StatefulSet", "image": "dok.test/db:1.0", "replicas": 1, "template_hash": "h1",
               "claims": {"datadir": {"storage": want_text, "storage_class": "local"}}}
    refusals = plan(live, desired, {})["refusals"]
    if want[0] == have[0]:
        assert refusals == []
    elif want[0] > have[0]:
        assert len(refusals) == 1 and "allowVolumeExpansion" in refusals[0]
    else:
        assert len(refusals) == 1 and "cannot shrink" in refusals[0]
