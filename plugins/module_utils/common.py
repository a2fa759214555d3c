# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between our modules and kubernetes.core: one client, one error path.

``KubeApi`` is the only object the rest of module_utils uses to reach the API server. It wraps the
``K8SClient`` that kubernetes.core's ``get_api_client`` builds, returns plain dicts, and turns API
errors into ``ClusterError`` messages. Unit tests replace it with a plain fake offering the same methods.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from urllib.parse import quote

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.dok.databases.plugins.module_utils.errors import AccessDenied, ClusterError, DokError
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic.exceptions import NotFoundError
    # The websocket call itself, not kubernetes.stream.stream: that one needs a generated API class, and importing
    # CoreV1Api (with the models it names) costs more than the rest of a module run.
    from kubernetes.stream.ws_client import websocket_call
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "dok.databases"

# Fixed REST paths of the kinds the modules use: (group/version prefix, resource, namespaced). Asking discovery for
# these would cost requests (or a cache file read) on every module run and tell nothing new.
KINDS = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Node": ("/api/v1", "nodes", False),
    "Pod": ("/api/v1", "pods", True),
    "PersistentVolume": ("/api/v1", "persistentvolumes", False),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims", True),
    "Secret": ("/api/v1", "secrets", True),
    "StatefulSet": ("/apis/apps/v1", "statefulsets", True),
    "StorageClass": ("/apis/storage.k8s.io/v1", "storageclasses", False),
}


def api_path(kind, name=None, namespace=None):
    """REST path of one object, or of the collection when name is None."""
    if kind not in KINDS:
        raise ClusterError("Kind %s is not one this collection reads or writes (%s)." % (kind, ", ".join(sorted(KINDS))))
    prefix, resource, namespaced = KINDS[kind]
    parts = [prefix]
    if namespaced and namespace:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(resource)
    if name:
        parts.append(quote(name, safe=""))
    return "/".join(parts)


def is_ours(obj):
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


def _api_message(exc):
    body = getattr(exc, "body", None)
    if body:
        try:
            return json.loads(to_text(body)).get("message") or to_text(body)
        except (ValueError, AttributeError):
            return to_text(body)
    reason = getattr(exc, "reason", None)
    if reason:
        return handshake_message(to_text(reason))
    return to_text(exc)


def handshake_message(reason):
    """The Status message out of a websocket handshake failure ('Handshake status 404 ... -+-+- {json}')."""
    parts = (reason or "").split("-+-+-")
    try:
        return json.loads(parts[-1].strip()).get("message") or reason
    except (ValueError, AttributeError):
        return reason


def _describe(verb, kind, name, namespace):
    where = " in namespace %s" % namespace if namespace else ""
    return "%s %s%s%s" % (verb, kind, " %s" % name if name else "s", where)


def api_error(exc, verb, kind, name=None, namespace=None):
    """A ClusterError that says what was attempted and what the API server answered."""
    status = getattr(exc, "status", None)
    what = _describe(verb, kind, name, namespace)
    if status == 403:
        resource = kind if "/" in kind else kind.lower() + ("es" if kind.endswith("s") else "s")
        # A websocket exec is authorized as 'get' on pods/exec, and as 'create' too on newer API servers.
        verbs = "'get' and 'create' verbs" if resource == "pods/exec" else "'%s' verb" % verb
        return AccessDenied(
            "Kubernetes refused to %s (403 Forbidden): %s. Grant the identity used by this task the %s "
            "on %s (Role/ClusterRole), or run with credentials that have it." % (
                what, _api_message(exc), verbs, resource))
    if status == 401:
        return AccessDenied(
            "Kubernetes rejected the credentials while trying to %s (401 Unauthorized): %s. Check kubeconfig, "
            "context or api_key." % (what, _api_message(exc)))
    if status is None:
        return ClusterError(
            "Could not reach the Kubernetes API server to %s: %s. Check that the cluster is up and that "
            "kubeconfig/context/host point to it." % (what, to_text(exc)))
    return ClusterError("Kubernetes API error %s while trying to %s: %s" % (status, what, _api_message(exc)))


_RAISE = object()


class KubeApi(object):
    """Plain-dict access to the API server over kubernetes.core's client, one request per call."""

    def __init__(self, k8s_client):
        self._client = k8s_client

    def _request(self, method, verb, kind, name, namespace, body=None, missing=_RAISE, **params):
        """The decoded JSON answer; `missing` is returned when the object does not exist (404)."""
        path = api_path(kind, name, namespace)
        if method != "GET" and getattr(self._client, "dry_run", False):
            params["dry_run"] = "All"

        def _do():
            try:
                resp = self._client.client.request(method, path, body=body, serialize=False, **params)
            except NotFoundError:
                if missing is _RAISE:
                    raise
                return missing
            return json.loads(to_text(resp.data)) if resp.data else {}
        return self._call(verb, kind, name, namespace, _do)

    def _call(self, verb, kind, name, namespace, func):
        try:
            return func()
        except DokError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise api_error(exc, verb, kind, name, namespace)

    def get(self, kind, name, namespace=None):
        """The object as a dict, or None when it does not exist."""
        return self._request("GET", "get", kind, name, namespace, missing=None)

    def list(self, kind, namespace=None, label_selector=None):
        params = {"label_selector": label_selector} if label_selector else {}
        return self._request("GET", "list", kind, None, namespace, **params).get("items") or []

    def create(self, kind, body, namespace=None):
        return self._request("POST", "create", kind, None, namespace, body=body)

    def patch(self, kind, name, patch, namespace=None):
        """JSON merge patch (RFC 7386): None values remove keys."""
        return self._request("PATCH", "patch", kind, name, namespace, body=patch,
                             content_type="application/merge-patch+json")

    def delete(self, kind, name, namespace=None, grace_period=None, uid=None):
        """Delete; returns False when the object was already gone. grace_period=0 deletes a pod whose node is
        down at once; uid makes the delete apply only to that instance of the object (409 otherwise)."""
        body = None
        if grace_period is not None or uid:
            body = {"apiVersion": "v1", "kind": "DeleteOptions"}
            if grace_period is not None:
                body["gracePeriodSeconds"] = int(grace_period)
            if uid:
                body["preconditions"] = {"uid": uid}
        return self._request("DELETE", "delete", kind, name, namespace, body=body, missing=False) is not False

    def open_exec(self, namespace, pod, container, argv):
        """A websocket client streaming argv's stdout/stderr; its channel 3 carries the exit status."""
        api_client = self._client.client.client
        query = [("command", arg) for arg in argv] + [
            ("container", container), ("stderr", "true"), ("stdin", "false"), ("stdout", "true"), ("tty", "false")]
        path = "/api/v1/namespaces/%s/pods/%s/exec" % (quote(namespace, safe=""), quote(pod, safe=""))
        try:
            # param_serialize adds what the client adds to every request: credentials, impersonation headers.
            dummy, url, headers, dummy, dummy = api_client.param_serialize(
                "GET", path, query_params=query, header_params={}, auth_settings=["BearerToken"])
            return websocket_call(api_client.configuration, "GET", url, headers=headers, _preload_content=False)
        except ApiException as exc:
            # The websocket handshake reports HTTP failures as status 0 with the status line in the reason.
            reason = to_text(exc.reason)
            if exc.status == 0 and " 403 " in " %s " % reason:
                exc.status = 403
            if exc.status in (401, 403):
                raise api_error(exc, "create", "pods/exec", pod, namespace)
            raise ClusterError("Could not start %s in container %s of pod %s (namespace %s): %s" % (
                " ".join(argv), container, pod, namespace, handshake_message(reason) or _api_message(exc)))

    @staticmethod
    def now():
        return time.monotonic()

    @staticmethod
    def sleep(seconds):
        time.sleep(seconds)


def connect(module):
    return KubeApi(get_api_client(module=module))


def run_module(module, execute, connect_api=connect):
    """Build the client from kubernetes.core's auth options, run ``execute(module, kube)``, report.

    ``execute`` returns the result dict; any DokError becomes one fail_json carrying its message.
    """
    try:
        kube = connect_api(module)
        result = execute(module, kube)
    except DokError as exc:
        module.fail_json(msg=exc.msg, **_warned(module, _jsonable(exc.details)))
    except CoreException as exc:
        module.fail_json(msg="Could not connect to Kubernetes: %s. Check kubeconfig, context, host or the "
                             "K8S_AUTH_* environment variables." % to_text(exc))
    module.exit_json(**_warned(module, result))


def _warned(module, result):
    """The result without its ``warnings``, each handed to ``module.warn`` (ansible-core 2.19 deprecates passing
    them to exit_json/fail_json)."""
    result = dict(result)
    for text in result.pop("warnings", None) or []:
        module.warn(to_text(text))
    return result


def _jsonable(details):
    return dict((k, v) for k, v in (details or {}).items() if k not in ("msg", "changed", "failed"))
