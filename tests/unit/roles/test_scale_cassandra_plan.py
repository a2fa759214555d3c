# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cassandra scale-up plan of the scale role (vars/main.yml `_scale_cassandra_plan`): which pods are added one at a
time, which nodes owe a `nodetool cleanup`, and what the StatefulSet's annotation records for a rerun."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shlex

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
VARS = os.path.join(ROOT, "roles", "scale", "vars", "main.yml")

init_plugin_loader()


def role_vars():
    with open(VARS) as handle:
        return yaml.safe_load(handle)


def plan(current, wanted, recorded="", name="cassandra"):
    variables = role_vars()
    variables.update({"scale_name": name, "scale_replicas": wanted, "__scale_current": current,
                      "__scale_cleanup_recorded": recorded})
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(variables["_scale_cassandra_plan"]))


def pods(*ordinals, name="cassandra"):
    return ["%s-%d" % (name, o) for o in ordinals]


@pytest.mark.parametrize("current, wanted, add, cleanup", [
    # one new node: every node that was in the ring before gave it ranges
    (3, 4, pods(3), pods(0, 1, 2)),
    # two new nodes, one after the other: the first new one also gave ranges to the second
    (3, 5, pods(3, 4), pods(0, 1, 2, 3)),
    (1, 2, pods(1), pods(0)),
    # from zero pods nobody held data before the first node
    (0, 1, pods(0), []),
    # nothing added and nothing recorded: nothing owed
    (4, 4, [], []),
    (4, 3, [], []),
])
def test_adds_one_pod_at_a_time_and_cleans_up_the_nodes_that_gave_ranges(current, wanted, add, cleanup):
    result = plan(current, wanted)
    assert result["add"] == add
    assert result["cleanup"] == cleanup
    assert result["error"] == ""
    assert json.loads(result["annotation"] or "[]") == cleanup


def test_a_rerun_after_the_pods_were_added_still_owes_the_recorded_cleanup():
    result = plan(4, 4, json.dumps(pods(0, 1, 2)))
    assert result["add"] == []
    assert result["cleanup"] == pods(0, 1, 2)
    assert json.loads(result["annotation"]) == pods(0, 1, 2)


def test_a_rerun_after_some_cleanups_owes_only_the_rest():
    assert plan(4, 4, json.dumps(pods(2)))["cleanup"] == pods(2)


def test_an_interrupted_scale_up_resumes_with_the_pods_not_yet_added():
    # 3 -> 5 was interrupted after spec.replicas went to 4
    result = plan(4, 5, json.dumps(pods(0, 1, 2, 3)))
    assert result["add"] == pods(4)
    assert result["cleanup"] == pods(0, 1, 2, 3)


def test_a_new_scale_up_adds_its_nodes_to_what_an_earlier_one_still_owes():
    assert plan(4, 5, json.dumps(pods(1)))["cleanup"] == pods(0, 1, 2, 3)


def test_nodes_removed_by_a_scale_down_owe_nothing():
    result = plan(4, 2, json.dumps(pods(0, 1, 2, 3)))
    assert result["cleanup"] == pods(0, 1)
    assert json.loads(result["annotation"]) == pods(0, 1)


def test_the_order_is_by_ordinal_not_by_name():
    assert plan(11, 12)["cleanup"] == pods(*range(11))


def test_an_empty_record_is_nothing_owed():
    assert plan(3, 3, "[]") == {"add": [], "cleanup": [], "annotation": "", "error": ""}


@pytest.mark.parametrize("recorded", [
    "cassandra-0",
    "[cassandra-0]",
    '["other-0"]',
    '["cassandra-x"]',
    '{"cassandra-0": 1}',
    '["cassandra-0", 1]',
])
def test_an_unreadable_record_is_an_error_that_names_it(recorded):
    result = plan(3, 4, recorded)
    assert "dok.databases/cassandra-cleanup-pending" in result["error"]
    assert recorded in result["error"]
    assert "cassandra-<ordinal>" in result["error"]


@settings(max_examples=60, deadline=None)
@given(current=st.integers(0, 9), wanted=st.integers(1, 9),
       recorded=st.sets(st.integers(0, 9), max_size=6))
def test_cleanup_never_names_a_pod_beyond_the_wanted_size_and_never_the_last_new_one(current, wanted, recorded):
    result = plan(current, wanted, json.dumps(pods(*sorted(recorded))))
    ordinals = [int(p.rsplit("-", 1)[1]) for p in result["cleanup"]]
    assert ordinals == sorted(set(ordinals))
    assert all(o < wanted for o in ordinals)
    if wanted > current:
        assert wanted - 1 not in ordinals
        assert set(range(wanted - 1)) <= set(ordinals)
        assert result["add"] == pods(*range(current, wanted))
    else:
        assert result["add"] == []
        assert set(ordinals) == set(o for o in recorded if o < wanted)
    assert json.loads(result["annotation"] or "[]") == result["cleanup"]


def cleanup_command(**overrides):
    variables = role_vars()
    variables.update({"scale_binary": "", "scale_login_user": "", "scale_login_password_env": ""}, **overrides)
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(variables["_scale_nodetool_cleanup"]))


def test_cleanup_runs_nodetool_without_a_shell_by_default():
    assert shlex.split(cleanup_command()) == ["nodetool", "cleanup"]
    assert shlex.split(cleanup_command(scale_binary="/opt/cassandra/bin/nodetool", scale_login_user="jmx")) == [
        "/opt/cassandra/bin/nodetool", "-u", "jmx", "cleanup"]


def test_cleanup_reads_a_jmx_password_from_the_pod_environment_not_from_the_command():
    argv = shlex.split(cleanup_command(scale_login_user="jmx user", scale_login_password_env="JMX_PASSWORD"))
    assert argv[:2] == ["sh", "-c"]
    assert len(argv) == 3
    assert shlex.split(argv[2]) == ["exec", "nodetool", "-u", "jmx user", "-pw", "$JMX_PASSWORD", "cleanup"]
