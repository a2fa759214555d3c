# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.common import api_error
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    AccessDenied, ClusterError, CommandError, DokError, PreconditionError, WaitTimeout,
)
from ansible_collections.dok.databases.plugins.module_utils.node_status import condition_met, node_status


class Ops(object):
    """The slice of the ops interface node status uses, with a simulated clock."""

    def __init__(self, pods=3, replicas=3):
        self.records = [{"name": "db-%d" % i, "ordinal": i, "ready": True, "deleting": False, "phase": "Running"}
                        for i in range(pods)]
        self._replicas = replicas
        self.clock = 0.0
        self.ran = []

    def pods(self):
        return self.records

    def describe(self):
        return "StatefulSet db (namespace ns)"

    def expected_nodes(self):
        return self._replicas

    def run(self, pod, argv, timeout=None):
        self.ran.append((pod, argv))
        return CommandResult(0, "", "")

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds


class Adapter(object):
    """Plays back one summary per poll (an exception instance is raised instead)."""

    def __init__(self, summaries):
        self.summaries = list(summaries)
        self.expected = []

    def status(self, run, pod, pods=None):
        run(pod, ["dbctl", "status"])
        step = self.summaries.pop(0) if len(self.summaries) > 1 else self.summaries[0]
        if isinstance(step, Exception):
            raise step
        self.current = step
        return [{"id": str(i), "is_live": i < step["live"]} for i in range(step["nodes"])]

    def summarize(self, nodes, expected_nodes, replication_factor):
        self.expected.append(expected_nodes)
        return self.current


def summary(live, nodes=3, healthy=None, reasons=()):
    return {"nodes": nodes, "live": live, "dead": nodes - live, "decommissioning": 0,
            "ranges_underreplicated": 0, "ranges_unavailable": 0,
            "healthy": live == nodes if healthy is None else healthy, "reasons": list(reasons)}


def params(**kw):
    base = {"wait_for": "none", "expected_nodes": None, "wait_timeout": 60, "poll_interval": 5,
            "replication_factor": 3, "pod": None}
    base.update(kw)
    return base


@pytest.mark.parametrize("wait_for, summ, expected, met", [
    ("none", summary(0), 3, True),
    ("healthy", summary(3), 3, True),
    ("healthy", summary(3, healthy=False, reasons=["2 ranges under-replicated"]), 3, False),
    ("all_live", summary(3), 3, True),
    ("all_live", summary(2), 3, False),
    ("all_live", summary(2, nodes=2), 3, False),
    ("all_live", summary(2, nodes=2), None, True),
    ("count", summary(4, nodes=4), 4, True),
    ("count", summary(4, nodes=4), 3, False),
])
def test_condition_met(wait_for, summ, expected, met):
    assert condition_met(wait_for, summ, expected)[0] is met


def test_status_once_runs_on_lowest_ready_pod_and_reports_command():
    ops = Ops()
    ops.records[0]["ready"] = False
    result = node_status(ops, Adapter([summary(3)]), params())
    assert result["pod"] == "db-1"
    assert result["command"] == ["dbctl", "status"]
    assert result["changed"] is False and result["polls"] == 1 and result["waited"] == 0
    assert len(result["nodes"]) == 3


def test_expected_nodes_defaults_to_replicas():
    adapter = Adapter([summary(3)])
    node_status(Ops(replicas=5), adapter, params())
    assert adapter.expected == [5]
    node_status(Ops(replicas=5), adapter, params(expected_nodes=2))
    assert adapter.expected[-1] == 2


def test_wait_polls_until_healthy_and_tolerates_errors_meanwhile():
    steps = [summary(1), CommandError("connection refused"), summary(2), summary(3)]
    ops = Ops()
    result = node_status(ops, Adapter(steps), params(wait_for="healthy"))
    assert result["polls"] == 4 and result["waited"] == 15
    assert result["summary"]["healthy"] is True
    # Every poll that did not end the wait says why, so a caller can tell a needed poll from a wasted one.
    assert len(result["unmet_polls"]) == 3
    assert "connection refused" in result["unmet_polls"][1]
    assert result["unmet_polls"][0].startswith("poll 1: ")


def test_a_first_poll_that_meets_the_condition_lists_no_unmet_poll():
    result = node_status(Ops(), Adapter([summary(3)]), params(wait_for="healthy"))
    assert result["polls"] == 1 and result["unmet_polls"] == []


def test_wait_timeout_carries_last_summary_and_reasons():
    last = summary(2, reasons=["node 3 is not live"])
    with pytest.raises(WaitTimeout) as err:
        node_status(Ops(), Adapter([last]), params(wait_for="healthy", wait_timeout=20))
    assert "node 3 is not live" in err.value.msg and "(5 polls)" in err.value.msg
    assert err.value.details["summary"] == last
    assert err.value.details["reasons"] == ["node 3 is not live"]


def test_wait_timeout_after_errors_reports_the_error():
    with pytest.raises(WaitTimeout) as err:
        node_status(Ops(), Adapter([CommandError("TLS handshake failed")]),
                    params(wait_for="all_live", wait_timeout=10))
    assert "last error: TLS handshake failed" in err.value.msg


class Refused(Exception):
    def __init__(self, status):
        super(Refused, self).__init__(status)
        self.status, self.reason, self.body = status, "Forbidden", None


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_identity_ends_the_wait_at_once(status):
    """Waiting does not give an identity a permission: the first 401/403 is the answer, not a timeout later."""
    denied = api_error(Refused(status), "create", "pods/exec", "db-0", "ns")
    assert isinstance(denied, AccessDenied) and isinstance(denied, ClusterError)
    ops = Ops()
    with pytest.raises(AccessDenied) as err:
        node_status(ops, Adapter([summary(1), denied, summary(3)]), params(wait_for="healthy", wait_timeout=300))
    assert ops.clock == 5  # one poll interval after the first poll, then no more
    assert "pods/exec" in err.value.msg


@pytest.mark.parametrize("status", [404, 500, None])
def test_other_api_errors_are_waited_out(status):
    error = api_error(Refused(status), "get", "Pod", "db-0", "ns")
    assert not isinstance(error, AccessDenied)
    result = node_status(Ops(), Adapter([error, summary(3)]), params(wait_for="healthy"))
    assert result["polls"] == 2


def test_no_wait_raises_errors_directly():
    with pytest.raises(CommandError):
        node_status(Ops(), Adapter([CommandError("boom")]), params())


def test_count_needs_expected_nodes():
    with pytest.raises(PreconditionError):
        node_status(Ops(), Adapter([summary(3)]), params(wait_for="count"))


def test_a_status_met_stays_a_success_when_the_volume_report_cannot_be_read(monkeypatch):
    """A namespaced Role cannot list Nodes: the lost-volume report is then empty, never an error of the status."""
    from ansible_collections.dok.databases.plugins.module_utils import node_status as module

    def forbidden(ops, pods=None):
        raise DokError("Kubernetes refused to list Node (403 Forbidden)")

    monkeypatch.setattr(module, "lost_volumes", forbidden)
    result = node_status(Ops(), Adapter([summary(3)]), params(wait_for="healthy"))
    assert result["summary"]["healthy"] and result["lost_volumes"] == []
