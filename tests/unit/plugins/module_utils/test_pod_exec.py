# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError, CommandError
from ansible_collections.dok.databases.plugins.module_utils.pod_exec import (
    collect, exec_in_pod, parse_status, pick_pod,
)

from kube_fake import FakeKube, FakeStream, pod

# Error-channel documents recorded on the offline cluster (Kubernetes v1.34.4, containerd) by reading channel 3 of
# connect_get_namespaced_pod_exec for `sh -c 'exit 0'`, `sh -c 'exit 3'` and `no-such-binary x` in a
# dok.test/mariadb:10.11 container.
STATUS_SUCCESS = '{"metadata":{},"status":"Success"}'
STATUS_EXIT_3 = ('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command '
                 'terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode",'
                 '"message":"3"}]}}')
STATUS_NOT_FOUND = (
    '{"metadata":{},"status":"Failure","message":"Internal error occurred: Internal error occurred: error executing '
    'command in container: failed to exec in container: failed to start exec \\"06b0eeeb5987ef98999913db8eb855427b49'
    'd747906249455caa7c0a8d2f87ca\\": OCI runtime exec failed: exec failed: unable to start container process: exec: '
    '\\"no-such-binary\\": executable file not found in $PATH: unknown","reason":"InternalError","details":{"causes":'
    '[{"message":"Internal error occurred: error executing command in container: failed to exec in container: failed '
    'to start exec \\"06b0eeeb5987ef98999913db8eb855427b49d747906249455caa7c0a8d2f87ca\\": OCI runtime exec failed: '
    'exec failed: unable to start container process: exec: \\"no-such-binary\\": executable file not found in $PATH: '
    'unknown"}]},"code":500}')


@pytest.mark.parametrize("raw, rc, failure", [
    (STATUS_SUCCESS, 0, None),
    (STATUS_EXIT_3, 3, None),
    ("", None, None),
])
def test_parse_status(raw, rc, failure):
    assert parse_status(raw) == (rc, failure)


def test_parse_status_exec_failure_keeps_the_message():
    rc, failure = parse_status(STATUS_NOT_FOUND)
    assert rc is None
    assert "executable file not found" in failure


def clock():
    state = {"t": 0.0}

    def now():
        state["t"] += 1.0
        return state["t"]
    return now


def test_collect_gathers_output_and_rc():
    resp = FakeStream(stdout="out\n", stderr="err\n", status=STATUS_EXIT_3)
    result = collect(resp, 10, clock(), ["sh", "-c", "exit 3"], "here")
    assert result == (3, "out\n", "err\n")
    assert resp.closed


def test_collect_times_out_and_closes():
    resp = FakeStream(stdout="partial", rounds=None)
    with pytest.raises(CommandError) as err:
        collect(resp, 5, clock(), ["nodetool", "status"], "container cassandra of pod c-0")
    assert "did not finish within 5 seconds" in err.value.msg
    assert "partial" in err.value.msg
    assert resp.closed


def test_collect_missing_binary_names_the_option():
    with pytest.raises(CommandError) as err:
        collect(FakeStream(status=STATUS_NOT_FOUND), 5, clock(), ["no-such-binary", "x"], "somewhere")
    assert "executable file not found" in err.value.msg
    assert "binary" in err.value.msg


def test_collect_stream_closed_without_status():
    with pytest.raises(CommandError) as err:
        collect(FakeStream(stdout="x", status=""), 5, clock(), ["true"], "somewhere")
    assert "without an exit status" in err.value.msg


def fake(*pods, **kwargs):
    return FakeKube(pods, exec_handler=kwargs.get("handler") or (lambda p, c, a: FakeStream("ok", "", STATUS_SUCCESS)))


def test_exec_in_pod_runs_in_the_named_container():
    seen = []
    kube = fake(pod("db-0"), handler=lambda p, c, a: seen.append((p, c, a)) or FakeStream("v\n", "", STATUS_SUCCESS))
    assert exec_in_pod(kube, "db", "db-0", "mariadb", ["mariadb-admin", "ping"], timeout=5) == (0, "v\n", "")
    assert seen == [("db-0", "mariadb", ["mariadb-admin", "ping"])]


@pytest.mark.parametrize("pods, name, container, expected", [
    ((), "db-0", "mariadb", "Pod db-0 was not found in namespace db"),
    ((pod("db-0", ready=False),), "db-0", "mariadb", "is not Ready"),
    ((pod("db-0", deleting=True),), "db-0", "mariadb", "being deleted"),
    ((pod("db-0", containers=("sidecar", "mariadb")),), "db-0", "mysql",
     "has no container named mysql (it has: sidecar, mariadb)"),
])
def test_exec_in_pod_refuses_unusable_pods(pods, name, container, expected):
    kube = fake(*pods)
    with pytest.raises(ClusterError) as err:
        exec_in_pod(kube, "db", name, container, ["true"])
    assert expected in err.value.msg
    assert not [c for c in kube.calls if c[1] == "pods/exec"]


def test_exec_forbidden_says_which_permission():
    kube = fake(pod("db-0"))
    kube.forbidden.add(("create", "pods/exec"))
    with pytest.raises(ClusterError) as err:
        exec_in_pod(kube, "db", "db-0", "mariadb", ["true"])
    assert "403 Forbidden" in err.value.msg
    assert "pods/exec" in err.value.msg


def rec(name, ordinal, ready=True, deleting=False):
    return {"name": name, "ordinal": ordinal, "ready": ready, "deleting": deleting, "phase": "Running"}


PODS = [rec("c-2", 2), rec("c-0", 0, ready=False), rec("c-1", 1), rec("c-3", 3, deleting=True)]


@pytest.mark.parametrize("chosen, exclude, expected", [
    (None, (), "c-1"),
    (None, ("c-1",), "c-2"),
    ("c-2", (), "c-2"),
])
def test_pick_pod(chosen, exclude, expected):
    assert pick_pod(PODS, chosen, exclude) == expected


@pytest.mark.parametrize("chosen, exclude, expected", [
    ("c-0", (), "Pod c-0 of the target is not Ready"),
    ("c-9", (), "Pod c-9 is not one of the pods"),
    (None, ("c-1", "c-2"), "No Ready pod of the target"),
])
def test_pick_pod_errors(chosen, exclude, expected):
    with pytest.raises(ClusterError) as err:
        pick_pod(PODS, chosen, exclude)
    assert expected in err.value.msg
