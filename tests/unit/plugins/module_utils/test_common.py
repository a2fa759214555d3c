# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubeApi speaks REST to fixed paths for the kinds it knows: no API discovery, one request per call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from kubernetes.dynamic.exceptions import ForbiddenError, NotFoundError

from ansible_collections.dok.databases.plugins.module_utils import common
from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError


class Response(object):
    def __init__(self, data):
        self.data = json.dumps(data).encode("utf-8")


class ApiErr(Exception):
    def __init__(self, status, message):
        super(ApiErr, self).__init__(message)
        self.status = status
        self.reason = message
        self.body = json.dumps({"message": message})
        self.headers = {}


class Configuration(object):
    host = "https://api.example:6443"


class ApiClient(object):
    """kubernetes.client.ApiClient's param_serialize, enough to build the exec URL."""

    configuration = Configuration()

    def __init__(self):
        self.serialized = []

    def param_serialize(self, method, resource_path, query_params=None, header_params=None, auth_settings=None):
        self.serialized.append((method, resource_path, query_params, auth_settings))
        from urllib.parse import urlencode
        return (method, self.configuration.host + resource_path + "?" + urlencode(query_params),
                {"authorization": "Bearer t"}, None, [])


class DynamicClient(object):
    """The dynamic client's request(); touching discovery (resources) fails the test."""

    def __init__(self, failure=None, answer=None):
        self.failure = failure
        self.answer = answer
        self.requests = []
        self.client = ApiClient()

    @property
    def resources(self):
        raise AssertionError("API discovery was used")

    def request(self, method, path, body=None, **params):
        self.requests.append((method, path, body, params))
        if self.failure:
            raise self.failure
        return Response(self.answer if self.answer is not None else {"metadata": {"name": path.rsplit("/", 1)[-1]}})


class K8SClient(object):
    def __init__(self, dynamic, dry_run=False):
        self.client = dynamic
        self.dry_run = dry_run

    def resource(self, kind, api_version):
        raise AssertionError("API discovery was used")


def api(failure=None, answer=None, dry_run=False):
    dynamic = DynamicClient(failure, answer)
    return common.KubeApi(K8SClient(dynamic, dry_run)), dynamic


@pytest.mark.parametrize("kind, name, namespace, path", [
    ("Pod", "db-0", "ns", "/api/v1/namespaces/ns/pods/db-0"),
    ("Secret", "db", "ns", "/api/v1/namespaces/ns/secrets/db"),
    ("PersistentVolumeClaim", "data-db-0", "ns", "/api/v1/namespaces/ns/persistentvolumeclaims/data-db-0"),
    ("StatefulSet", "db", "ns", "/apis/apps/v1/namespaces/ns/statefulsets/db"),
    ("Namespace", "ns", None, "/api/v1/namespaces/ns"),
    ("Node", "dok-node-0", None, "/api/v1/nodes/dok-node-0"),
    ("PersistentVolume", "pv-1", None, "/api/v1/persistentvolumes/pv-1"),
    ("StorageClass", "local", None, "/apis/storage.k8s.io/v1/storageclasses/local"),
    # A cluster-scoped kind ignores a namespace, as the dynamic client did.
    ("PersistentVolume", "pv-1", "ns", "/api/v1/persistentvolumes/pv-1"),
])
def test_get_is_one_request_to_the_kinds_path(kind, name, namespace, path):
    kube, dynamic = api()
    assert kube.get(kind, name, namespace) == {"metadata": {"name": name}}
    assert [(r[0], r[1]) for r in dynamic.requests] == [("GET", path)]
    assert dynamic.requests[0][3]["serialize"] is False


def test_list_passes_the_selector_and_returns_items():
    kube, dynamic = api(answer={"items": [{"metadata": {"name": "db-0"}}]})
    assert kube.list("Pod", "ns", "app=db") == [{"metadata": {"name": "db-0"}}]
    method, path, body, params = dynamic.requests[0]
    assert (method, path, params["label_selector"]) == ("GET", "/api/v1/namespaces/ns/pods", "app=db")


def test_list_of_a_namespaced_kind_without_namespace_is_cluster_wide():
    kube, dynamic = api(answer={"items": []})
    assert kube.list("Pod") == []
    assert dynamic.requests[0][1] == "/api/v1/pods"
    assert "label_selector" not in dynamic.requests[0][3]


def test_create_posts_to_the_collection():
    kube, dynamic = api(answer={"metadata": {"name": "pv-1"}})
    body = {"metadata": {"name": "pv-1"}}
    assert kube.create("PersistentVolume", body)["metadata"]["name"] == "pv-1"
    assert dynamic.requests[0][:3] == ("POST", "/api/v1/persistentvolumes", body)


def test_patch_is_a_merge_patch():
    kube, dynamic = api()
    kube.patch("StatefulSet", "db", {"spec": {"replicas": 2}}, "ns")
    method, path, body, params = dynamic.requests[0]
    assert (method, path, body) == ("PATCH", "/apis/apps/v1/namespaces/ns/statefulsets/db", {"spec": {"replicas": 2}})
    assert params["content_type"] == "application/merge-patch+json"
    assert "dry_run" not in params


def test_server_side_dry_run_is_kept_on_writes_only():
    kube, dynamic = api(dry_run=True)
    kube.patch("Pod", "db-0", {}, "ns")
    kube.delete("Pod", "db-0", "ns")
    kube.get("Pod", "db-0", "ns")
    assert [r[3].get("dry_run") for r in dynamic.requests] == ["All", "All", None]


def test_missing_object_is_none_and_delete_of_a_missing_one_is_false():
    kube, dummy = api(failure=NotFoundError(ApiErr(404, "not found")))
    assert kube.get("Pod", "x", "ns") is None
    assert kube.delete("Pod", "x", "ns") is False
    kube, dynamic = api()
    assert kube.delete("Pod", "x", "ns") is True
    assert dynamic.requests[0][:2] == ("DELETE", "/api/v1/namespaces/ns/pods/x")


def test_forbidden_names_the_verb_and_resource():
    kube, dummy = api(failure=ForbiddenError(ApiErr(403, 'statefulsets.apps "db" is forbidden')))
    with pytest.raises(ClusterError) as err:
        kube.patch("StatefulSet", "db", {}, "ns")
    assert "403 Forbidden" in err.value.msg and "'patch' verb on statefulsets" in err.value.msg


def test_unreachable_server():
    kube, dummy = api(failure=OSError("Connection refused"))
    with pytest.raises(ClusterError) as err:
        kube.list("Node")
    assert "Could not reach the Kubernetes API server" in err.value.msg


def test_unknown_kind_is_refused_before_any_request():
    kube, dynamic = api()
    with pytest.raises(ClusterError) as err:
        kube.get("Deployment", "x", "ns")
    assert "Deployment" in err.value.msg and dynamic.requests == []


def test_exec_url_carries_every_argument_and_the_credentials(monkeypatch):
    opened = []

    def websocket_call(configuration, method, url, **kwargs):
        opened.append((configuration, method, url, kwargs))
        return "stream"

    monkeypatch.setattr(common, "websocket_call", websocket_call)
    kube, dynamic = api()
    argv = ["sh", "-c", "echo a && echo b", "sh"]
    assert kube.open_exec("ns", "db-0", "mariadb", argv) == "stream"
    method, path, query, auth = dynamic.client.serialized[0]
    assert (method, path, auth) == ("GET", "/api/v1/namespaces/ns/pods/db-0/exec", ["BearerToken"])
    assert [v for k, v in query if k == "command"] == argv
    assert dict((k, v) for k, v in query if k != "command") == {
        "container": "mariadb", "stdout": "true", "stderr": "true", "stdin": "false", "tty": "false"}
    configuration, method, url, kwargs = opened[0]
    assert configuration is ApiClient.configuration and url.startswith("https://api.example:6443/api/v1/")
    assert kwargs["headers"]["authorization"] == "Bearer t" and kwargs["_preload_content"] is False
    assert dynamic.requests == []


def test_exec_handshake_forbidden_names_pods_exec(monkeypatch):
    from kubernetes.client.rest import ApiException

    def websocket_call(configuration, method, url, **kwargs):
        raise ApiException(status=0, reason="Handshake status 403 Forbidden -+-+- {} -+-+- {\"message\": \"no\"}")

    monkeypatch.setattr(common, "websocket_call", websocket_call)
    kube, dummy = api()
    with pytest.raises(ClusterError) as err:
        kube.open_exec("ns", "db-0", "mariadb", ["true"])
    assert "403 Forbidden" in err.value.msg and "pods/exec" in err.value.msg


def test_the_module_path_does_not_import_the_generated_api_classes():
    """The generated CoreV1Api and its models are most of the import time of a module run; nothing needs them."""
    code = ("import sys\n"
            "from ansible_collections.dok.databases.plugins.modules import db_node_status\n"
            "from ansible_collections.dok.databases.plugins.module_utils import common, statefulset\n"
            "print(sorted(m for m in sys.modules if m.startswith('kubernetes.client.api.')"
            " or m.startswith('kubernetes.client.models.')))\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"
