# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract between engine adapters (pure, know only their database) and the Kubernetes layer.

An adapter never talks to Kubernetes. It receives `run`, a callable
``run(pod, argv, timeout=None) -> CommandResult`` that executes argv in the database container of `pod`,
and plain dicts describing pods (``{"name", "ordinal", "ready", "node", "ip"}``).

Normalized node record (every adapter fills what its database can tell, None otherwise):
    id, address, pod, ordinal, is_live, is_available, state, replicas, is_decommissioning,
    membership, is_draining, version, datacenter, rack, load
Cluster summary:
    nodes, live, dead, decommissioning, ranges_underreplicated, ranges_unavailable, healthy, reasons
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, NotApplicableError, PreconditionError

CommandResult = namedtuple("CommandResult", ["rc", "stdout", "stderr"])

NODE_FIELDS = (
    "id", "address", "pod", "ordinal", "is_live", "is_available", "state", "replicas",
    "is_decommissioning", "membership", "is_draining", "version", "datacenter", "rack", "load",
)
SUMMARY_FIELDS = (
    "nodes", "live", "dead", "decommissioning", "ranges_underreplicated", "ranges_unavailable",
    "healthy", "reasons",
)


def empty_node(**values):
    node = dict.fromkeys(NODE_FIELDS)
    node.update(values)
    return node


OUTPUT_QUOTE_CHARS = 600
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_output(*texts):
    """The output of a command, shortened, for an error message."""
    text = "\n".join(t for t in texts if t).strip()
    if not text:
        return "(no output)"
    if len(text) > OUTPUT_QUOTE_CHARS:
        text = text[:OUTPUT_QUOTE_CHARS] + " ... (%d more characters)" % (len(text) - OUTPUT_QUOTE_CHARS)
    return repr(text)


HINTS = (
    (("password authentication failed", "access denied", "authentication failed", "authenticationexception",
      "invalid username or password", "requires a password", "login failed", "failedloginexception",
      "authentication timed out", "and/or password are incorrect", "bad credentials"),
     "authentication failed: check login_user and the password (login_password_env names the variable inside "
     "the container that holds it)"),
    (("certificate", "x509", "tls error", "ssl error", "tls/ssl", "handshake"),
     "TLS failed: check certs_dir (client certificates inside the pod) or set insecure: true for an insecure cluster"),
    (("connection refused", "can't connect", "cannot connect", "connect to server at", "no route to host",
      "failed to connect", "unable to connect", "connectexception", "could not connect", "cannot dial server",
      "no such host"),
     "the database process is not accepting connections at the given host/port: check that it is running in "
     "that container (kubectl logs) and the host and port options"),
    (("executable file not found", "command not found", "no such file or directory", "not found in $path",
      ": not found"),
     "the command does not exist in that container: check the binary and container options"),
)


def hint_for(text):
    lowered = (text or "").lower()
    for needles, hint in HINTS:
        if any(needle in lowered for needle in needles):
            return hint
    return None


def check_result(result, argv, pod, what):
    """Raise CommandError for a failed command, quoting its output and saying what to check."""
    if result.rc == 0:
        return result
    output = quote_output(result.stderr, result.stdout)
    hint = hint_for("%s\n%s" % (result.stderr, result.stdout))
    raise CommandError(
        "%s failed in pod %s with exit code %s: %s. %s." % (
            what, pod, result.rc, output,
            (hint[0].upper() + hint[1:]) if hint else "Check the command and the database logs"),
        rc=result.rc, stdout=result.stdout, stderr=result.stderr, command=list(argv))


def parse_bool(value):
    lowered = (value or "").strip().lower()
    if lowered in ("true", "t", "yes", "1"):
        return True
    if lowered in ("false", "f", "no", "0"):
        return False
    return None


def parse_int(value):
    text = (value or "").strip()
    if not text or text.upper() == "NULL":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def ordinal_of(pod_name):
    """Ordinal of a StatefulSet pod name (`<sts>-<n>`), None for other names."""
    head, sep, tail = (pod_name or "").rpartition("-")
    return int(tail) if sep and head and tail.isdigit() else None


class EngineAdapter(object):
    """Common part of the adapters. Subclasses set the class attributes and implement the engine methods.

    ``run`` is ``run(pod_name, argv, timeout=None) -> CommandResult``; ``pods`` are the plain pod dicts
    (``name, ordinal, ready, node, ip, phase, deleting``). Secrets never appear in argv: a password is read
    inside the pod from the environment variable named by ``login_password_env``.

    Decommission hooks (decommission.py drives them; a target is ``{pod, ordinal, node_id, address, state,
    replicas, load, why}``): ``decommission_groups(targets)`` -> lists of targets removed together;
    ``start_decommission(run, control_pod, group)``; ``decommission_progress(run, control_pod, group, pods)`` ->
    ``{"targets": {pod: {"state", "replicas", ...}}, "done": bool}``; ``finalize_decommission(...)`` raises
    unless the group is fully decommissioned; ``capacity_check(run, nodes, targets, remaining_pods)`` -> None
    (cannot tell) or ``{"checked", "reasons", ...}``; ``extra_prechecks(nodes, targets, replication_factor)``
    -> refusal reasons; ``identify(run, pod)`` -> the node's own id for a pod the status did not match.
    ``lists_left_members``: departed members stay in the status (as decommissioned), so a pod with no member is
    unknown, never gone; ``decommissions_dead_nodes``: a down node can be decommissioned (its data is copied from
    the other replicas).
    """

    name = None
    default_container = None
    default_binary = None
    default_port = None
    supports_decommission = False
    lists_left_members = True
    decommissions_dead_nodes = False

    def __init__(self, params=None):
        self.params = dict(params or {})

    @property
    def binary(self):
        return self.params.get("binary") or self.default_binary

    @property
    def container(self):
        return self.params.get("container") or self.default_container

    @property
    def exec_timeout(self):
        return self.params.get("exec_timeout")

    def run_checked(self, run, pod, argv, what, timeout=None):
        result = run(pod, argv, timeout=timeout if timeout is not None else self.exec_timeout)
        return check_result(result, argv, pod, what)

    def status(self, run, pod, pods=None):
        raise NotImplementedError

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        raise NotImplementedError

    def decommission_groups(self, targets):
        raise NotApplicableError("%s has no decommission." % self.name)

    def extra_prechecks(self, nodes, targets, replication_factor):
        return []

    def capacity_check(self, run, nodes, targets, remaining_pods):
        return None

    def identify(self, run, pod):
        """What the database process inside a running pod says of itself: ``{"id", "left", "mode"}`` or None."""
        return None

    def env_var(self, name):
        """The name of an environment variable inside the pod, checked so it is safe in a shell word."""
        if not ENV_NAME.match(name or ""):
            raise PreconditionError(
                "login_password_env must be the name of an environment variable (letters, digits, underscore, "
                "not starting with a digit); got %r." % (name,))
        return name

    def with_password_flag(self, argv, env_var, password_flag):
        """argv run by ``sh -c`` with ``<password_flag> "$<env_var>"`` after the binary, read inside the pod."""
        script = 'bin="$1"; shift; exec "$bin" %s "$%s" "$@"' % (password_flag, self.env_var(env_var))
        return ["sh", "-c", script, "sh"] + list(argv)
