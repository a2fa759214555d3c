# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' glue: one fail_json per DokError, client errors mapped, execute() wired to module_utils."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

from ansible_collections.dok.databases.plugins.module_utils import common
from ansible_collections.dok.databases.plugins.module_utils.errors import (
    ClusterError, NotApplicableError, PreconditionError,
)
from ansible_collections.dok.databases.plugins.modules import db_decommission, db_node_status, db_replace_node, local_pv
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils"))
from kube_fake import FakeKube, namespace, statefulset  # noqa: E402  pylint: disable=wrong-import-position


class Exit(Exception):
    pass


class Module(object):
    """Stands in for AnsibleK8SModule: records what the module would report."""

    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.result = None

    def warn(self, msg):
        self.warnings.append(msg)

    def exit_json(self, **kwargs):
        self.result = kwargs
        raise Exit()

    def fail_json(self, **kwargs):
        self.result = dict(kwargs, failed=True)
        raise Exit()


def run(execute, module, kube=None, error=None):
    def connect(_module):
        if error:
            raise error
        return kube
    with pytest.raises(Exit):
        common.run_module(module, execute, connect_api=connect)
    return module.result


def test_dok_error_becomes_one_fail_json_with_details():
    def execute(module, kube):
        raise ClusterError("StatefulSet x was not found.", namespace="db")
    result = run(execute, Module({}), FakeKube())
    assert result == {"msg": "StatefulSet x was not found.", "namespace": "db", "failed": True}


def test_client_configuration_error_says_where_to_look():
    result = run(lambda m, k: {}, Module({}), error=CoreException("Invalid kube-config file"))
    assert result["failed"] and "Invalid kube-config file" in result["msg"] and "kubeconfig" in result["msg"]


def local_pv_params(**kw):
    base = {"volumes": [{"node": "n1", "path": "/data/a", "capacity": "1Gi", "name": None}], "name_prefix": "t",
            "storage_class": "local-storage", "create_storage_class": False, "reclaim_policy": "Retain",
            "access_modes": ["ReadWriteOnce"], "volume_mode": "Filesystem", "labels": {}, "state": "present",
            "force": False}
    base.update(kw)
    return base


def test_local_pv_check_mode_through_the_module():
    kube = FakeKube([{"kind": "Node", "metadata": {"name": "n1"}}])
    result = run(local_pv.execute, Module(local_pv_params(), check_mode=True), kube)
    assert result["changed"] is True and result["actions"][0].startswith("create PersistentVolume t-n1-")
    assert kube.changes() == []
    json.dumps(result)


def test_local_pv_bad_input_fails_before_any_api_call():
    kube = FakeKube()
    result = run(local_pv.execute, Module(local_pv_params(volumes=[
        {"node": "n1", "path": "relative", "capacity": "1Gi", "name": None}])), kube)
    assert result["failed"] and "is not absolute" in result["msg"]
    assert kube.calls == []


def target_params(**kw):
    base = {"engine": "mariadb", "namespace": "db", "statefulset": "db", "label_selector": None, "pod": None,
            "container": None, "binary": None, "insecure": False, "certs_dir": None, "db_host": "localhost",
            "port": None, "login_user": None, "login_password": None, "login_password_env": None,
            "replication_factor": 3, "poll_interval": 5, "exec_timeout": 60, "replicas": 0, "node_ids": None,
            "pods": None, "force": False, "stall_timeout": 600, "wait_timeout": 60, "pvc_policy": "retain",
            "scale_down": True, "wait_for": "none", "expected_nodes": None}
    base.update(kw)
    return base


@pytest.mark.parametrize("engine", ["mariadb", "mysql"])
def test_decommission_on_mariadb_is_not_applicable_and_touches_nothing(engine):
    kube = FakeKube([namespace("db"), statefulset("db", replicas=1)])
    with pytest.raises(NotApplicableError) as err:
        db_decommission.execute(Module(target_params(engine=engine)), kube)
    assert "does not apply to engine %s" % engine in err.value.msg and "Nothing was changed" in err.value.msg
    assert kube.calls == []


def test_node_status_refuses_a_foreign_statefulset():
    kube = FakeKube([namespace("db"), statefulset("db", ours=False)])
    with pytest.raises(ClusterError) as err:
        db_node_status.execute(Module(target_params()), kube)
    assert "not managed by dok.databases" in err.value.msg


def replace_params(**kw):
    return target_params(**dict({"lost_pod": "db-1", "lost_node": None, "confirm": True, "min_down": 0,
                                 "wait_timeout": 60}, **kw))


def test_replace_node_refuses_cassandra_by_name_and_touches_nothing():
    kube = FakeKube([namespace("db"), statefulset("db")])
    with pytest.raises(NotApplicableError) as err:
        db_replace_node.execute(Module(replace_params(engine="cassandra")), kube)
    assert "replace_address_first_boot" in err.value.msg and "Nothing was done" in err.value.msg
    assert kube.calls == []


def test_replace_node_refuses_a_password_option_before_any_call():
    kube = FakeKube([namespace("db"), statefulset("db")])
    with pytest.raises(PreconditionError):
        db_replace_node.execute(Module(replace_params(engine="cockroachdb", login_password="x")), kube)
    assert kube.calls == []


def test_replace_node_refuses_a_foreign_statefulset():
    kube = FakeKube([namespace("db"), statefulset("db", ours=False)])
    with pytest.raises(ClusterError) as err:
        db_replace_node.execute(Module(replace_params(engine="cockroachdb")), kube)
    assert "not managed by dok.databases" in err.value.msg
    assert kube.changes() == []


def test_replace_node_on_a_node_without_data_of_the_cluster_changes_nothing():
    kube = FakeKube([namespace("db"), statefulset("db")])
    result = db_replace_node.execute(Module(replace_params(engine="cockroachdb", lost_pod=None, lost_node="n9")), kube)
    assert result["changed"] is False and result["pods"] == [] and "nothing to replace" in result["msg"]
    assert kube.changes() == []


# KubeApi's own requests are tested in tests/unit/plugins/module_utils/test_common.py.


# Recorded on the offline cluster (v1.34.4): ApiException.reason of an exec into a pod that does not exist.
HANDSHAKE_404 = (
    "Handshake status 404 Not Found -+-+- {'audit-id': '04623775-5c5b-4eb0-b862-56124b868d11', 'cache-control': "
    "'no-cache, private', 'content-type': 'application/json', 'date': 'Sun, 29 Nov 2026 18:32:59 GMT', "
    "'content-length': '178'} -+-+- {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
    "\"Failure\",\"message\":\"pods \\\"nopod\\\" not found\",\"reason\":\"NotFound\",\"details\":"
    "{\"name\":\"nopod\",\"kind\":\"pods\"},\"code\":404}\n")


@pytest.mark.parametrize("reason, expected", [
    (HANDSHAKE_404, 'pods "nopod" not found'),
    ("plain text", "plain text"),
])
def test_handshake_message(reason, expected):
    assert common.handshake_message(reason) == expected


@pytest.mark.parametrize("failing", [False, True])
def test_run_module_reports_warnings_through_warn_never_as_a_result_key(failing):
    """ansible-core 2.19 deprecates `warnings` passed to exit_json/fail_json (removed in 2.23): a decommission's
    warnings reach the user through module.warn, once each, and the result no longer carries the key."""
    def execute(_module, _kube):
        if failing:
            raise PreconditionError("refused", warnings=["first", "second"], nodes=[])
        return {"changed": False, "warnings": ["first", "second"], "nodes": []}
    module = Module({})
    result = run(execute, module, kube=object())
    assert "warnings" not in result
    assert module.warnings == ["first", "second"]
    assert result.get("failed", False) is failing
    assert result["nodes"] == []
