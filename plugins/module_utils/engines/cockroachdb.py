# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CockroachDB: ``cockroach node status --all --format=csv`` and ``cockroach node decommission``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dok.databases.plugins.module_utils.engines.base import (
    EngineAdapter, check_result, empty_node, ordinal_of, parse_bool, parse_int, quote_output,
)
from ansible_collections.dok.databases.plugins.module_utils.engines.tables import read_table
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, ParseError

DONE_MESSAGE = "No more data reported on target nodes"
STATUS_REQUIRED = ("id", "address", "is_live")
DECOMMISSION_REQUIRED = ("id", "is_live", "replicas", "is_decommissioning")
POD_HOST = re.compile(r"^(?P<pod>[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d+)\.")
LOCALITY_DC = ("region", "datacenter", "dc")
LOCALITY_RACK = ("rack", "zone", "az")


def split_host(address):
    """Host part of ``host:port``, ``[v6]:port`` or a bare host."""
    address = (address or "").strip()
    if address.startswith("["):
        return address[1:address.find("]")] if "]" in address else address[1:]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def locality_parts(locality):
    parts = {}
    for item in (locality or "").split(","):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    dc = next((parts[k] for k in LOCALITY_DC if k in parts), None)
    rack = next((parts[k] for k in LOCALITY_RACK if k in parts), None)
    return dc, rack


def map_pod(address, pods):
    """(pod name, ordinal) of the pod behind a node address: `<sts>-<n>.<svc>...` or the pod IP."""
    host = split_host(address)
    if not host or host.upper() == "NULL":
        return None, None
    match = POD_HOST.match(host)
    names = dict((p["name"], p) for p in pods or [])
    if match:
        name = match.group("pod")
        if not names or name in names:
            return name, ordinal_of(name)
    for pod in pods or []:
        if pod.get("ip") and pod["ip"] == host:
            return pod["name"], pod.get("ordinal", ordinal_of(pod["name"]))
    return None, None


def value(row, name):
    raw = row.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    return None if raw in ("", "NULL") else raw


# Where the db_cluster role mounts the certificates (the CockroachDB Helm chart's and operator's path).
DEFAULT_CERTS_DIR = "/cockroach/cockroach-certs"


class CockroachDBAdapter(EngineAdapter):
    name = "cockroachdb"
    default_container = "cockroachdb"
    default_binary = "cockroach"
    default_port = 26257
    supports_decommission = True
    decommissions_dead_nodes = True
    has_membership = True

    def connection_args(self):
        params = self.params
        host = params.get("host") or "localhost"
        port = params.get("port") or self.default_port
        args = ["--host=%s:%s" % (host, port)]
        if params.get("insecure"):
            args.append("--insecure")
        else:
            args.append("--certs-dir=%s" % (params.get("certs_dir") or DEFAULT_CERTS_DIR))
        if params.get("login_user"):
            args.append("--user=%s" % params["login_user"])
        return args

    def status_argv(self):
        return [self.binary, "node", "status", "--all", "--format=csv"] + self.connection_args()

    def decommission_argv(self, node_ids):
        return ([self.binary, "node", "decommission"] + [str(i) for i in node_ids] + ["--wait=none", "--format=csv"]
                + self.connection_args())

    def status(self, run, pod, pods=None):
        argv = self.status_argv()
        result = self.run_checked(run, pod, argv, "%s node status" % self.binary)
        return self.parse_status(result.stdout, pods)

    def parse_status(self, text, pods=None):
        headers, rows, dummy = read_table(text, STATUS_REQUIRED, "%s node status" % self.binary)
        nodes = [self.node_from_row(row, pods) for row in rows]
        for node in nodes:
            if node["id"] is None:
                raise ParseError("A row of %s node status has no numeric node id: %s." % (
                    self.binary, quote_output(text)), output=text)
        return nodes

    def membership_of(self, row, replicas):
        """The membership column, or for a CLI without one (KaiwuDB) derived from is_decommissioning and the
        replicas left: decommissioned only once none is left, never from liveness (a decommissioning node that
        went down still holds data)."""
        membership = value(row, "membership")
        if membership or self.has_membership:
            return membership
        decommissioning = parse_bool(value(row, "is_decommissioning"))
        if decommissioning is None:
            return None
        if not decommissioning:
            return "active"
        return "decommissioned" if replicas == 0 else "decommissioning"

    def node_from_row(self, row, pods=None):
        address = value(row, "address")
        pod, ordinal = map_pod(address, pods)
        is_live = parse_bool(value(row, "is_live"))
        replicas = parse_int(value(row, "gossiped_replicas"))
        if replicas is None:
            replicas = parse_int(value(row, "ranges"))
        membership = self.membership_of(row, replicas)
        decommissioning = parse_bool(value(row, "is_decommissioning"))
        if decommissioning is None and membership:
            decommissioning = membership != "active"
        draining = parse_bool(value(row, "is_draining"))
        dc, rack = locality_parts(value(row, "locality"))
        if membership in ("decommissioning", "decommissioned"):
            state = membership
        elif not is_live:
            state = "dead"
        elif draining:
            state = "draining"
        else:
            state = "live"
        node = empty_node(
            id=parse_int(value(row, "id")), address=address, pod=pod, ordinal=ordinal, is_live=is_live,
            is_available=parse_bool(value(row, "is_available")), state=state, replicas=replicas,
            is_decommissioning=decommissioning, membership=membership, is_draining=draining,
            version=value(row, "build"), datacenter=dc, rack=rack, load=parse_int(value(row, "live_bytes")))
        node["ranges_underreplicated"] = parse_int(value(row, "ranges_underreplicated"))
        node["ranges_unavailable"] = parse_int(value(row, "ranges_unavailable"))
        if "start_mode" in row:
            node["start_mode"] = value(row, "start_mode")
        return node

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        members = [n for n in nodes if n.get("membership") != "decommissioned"]
        live = [n for n in members if n.get("is_live")]
        dead = [n for n in members if not n.get("is_live")]
        leaving = [n for n in members if n.get("is_decommissioning")]
        unavailable_nodes = [n for n in live if n.get("is_available") is False]
        under = sum(n.get("ranges_underreplicated") or 0 for n in members)
        unavailable = sum(n.get("ranges_unavailable") or 0 for n in members)
        reasons = []
        if dead:
            reasons.append("%d of %d nodes are not live: %s." % (len(dead), len(members), describe(dead)))
        if unavailable_nodes:
            reasons.append("%d live nodes are not available (no quorum for their liveness range): %s." % (
                len(unavailable_nodes), describe(unavailable_nodes)))
        if leaving:
            reasons.append("%d nodes are decommissioning: %s." % (len(leaving), describe(leaving)))
        if unavailable:
            reasons.append("%d ranges are unavailable." % unavailable)
        if under:
            reasons.append("%d ranges are under-replicated." % under)
        if expected_nodes is not None and len(live) != expected_nodes:
            reasons.append("%d nodes are live where %d are expected." % (len(live), expected_nodes))
        if replication_factor and len(live) < replication_factor:
            reasons.append("Only %d live nodes for a replication factor of %d." % (len(live), replication_factor))
        return {
            "nodes": len(members), "live": len(live), "dead": len(dead), "decommissioning": len(leaving),
            "ranges_underreplicated": under, "ranges_unavailable": unavailable,
            "healthy": not reasons, "reasons": reasons,
        }

    # Decommission hooks (see decommission.py)

    def decommission_groups(self, targets):
        """CockroachDB moves the replicas of all leaving nodes at once (its documented practice)."""
        return [list(targets)] if targets else []

    def parse_decommission(self, text):
        """Per node id: is_live, replicas, is_decommissioning, membership, is_draining; and whether it is done."""
        dummy, rows, notes = read_table(text, DECOMMISSION_REQUIRED, "%s node decommission" % self.binary, last=True)
        progress = {}
        for row in rows:
            node_id = parse_int(value(row, "id"))
            if node_id is None:
                raise ParseError("A row of %s node decommission has no numeric node id: %s." % (
                    self.binary, quote_output(text)), output=text)
            is_live = parse_bool(value(row, "is_live"))
            progress[node_id] = {
                "is_live": is_live,
                "replicas": parse_int(value(row, "replicas")),
                "is_decommissioning": parse_bool(value(row, "is_decommissioning")),
                "membership": self.membership_of(row, None) if self.has_membership else (
                    "decommissioning" if parse_bool(value(row, "is_decommissioning")) else "active"),
                "is_draining": parse_bool(value(row, "is_draining")),
            }
        done = any(DONE_MESSAGE in note for note in notes) or DONE_MESSAGE in (text or "")
        return {"nodes": progress, "done": done}

    def _decommission(self, run, pod, node_ids):
        argv = self.decommission_argv(node_ids)
        result = run(pod, argv, timeout=self.exec_timeout)
        check_result(result, argv, pod, "%s node decommission %s" % (self.binary, " ".join(map(str, node_ids))))
        text = result.stdout if DECOMMISSION_REQUIRED[0] in (result.stdout or "") else "%s\n%s" % (
            result.stdout, result.stderr)
        return self.parse_decommission(text)

    def start_decommission(self, run, control_pod, group):
        """Mark the group's nodes decommissioning (``--wait=none`` returns at once)."""
        return self.decommission_progress(run, control_pod, group)

    def decommission_progress(self, run, control_pod, group, pods=None):
        """Re-issue ``node decommission --wait=none``: idempotent, reports replicas, completes at zero."""
        ids = [t["node_id"] for t in group]
        parsed = self._decommission(run, control_pod, ids)
        per_target = {}
        for target in group:
            entry = parsed["nodes"].get(target["node_id"])
            if entry is None:
                raise CommandError(
                    "%s node decommission did not report node %s (pod %s). Check that the node id belongs to this "
                    "cluster (%s node status --decommission)." % (
                        self.binary, target["node_id"], target["pod"], self.binary), final=True)
            per_target[target["pod"]] = {"state": entry["membership"], "replicas": entry["replicas"]}
        done = all(v["replicas"] == 0 for v in per_target.values()) and (
            parsed["done"] or all(v["state"] == "decommissioned" for v in per_target.values()))
        return {"targets": per_target, "done": done}

    def finalize_decommission(self, run, control_pod, group, pods=None):
        """Re-issue the decommission until it confirms: no replicas left and membership ``decommissioned``.

        KaiwuDB has no membership column: there no replicas left and is_decommissioning true is the end state.
        The CLI itself marks the nodes decommissioned once their replicas reach zero, so a second call suffices.
        """
        pending = {}
        for dummy in range(2):
            parsed = self._decommission(run, control_pod, [t["node_id"] for t in group])
            pending = {}
            for target in group:
                entry = parsed["nodes"].get(target["node_id"]) or {}
                finished = entry.get("replicas") == 0 and (
                    entry.get("membership") == "decommissioned" if self.has_membership
                    else entry.get("is_decommissioning") and parsed["done"])
                if not finished:
                    pending[target["pod"]] = entry
            if not pending:
                return {"targets": dict((t["pod"], {"state": "decommissioned", "replicas": 0}) for t in group),
                        "done": True}
        raise CommandError(
            "Decommission of %s is not complete: %s. Nothing was scaled down; run again to resume." % (
                ", ".join(sorted(pending)),
                "; ".join("%s: %s replicas, membership %s" % (pod, e.get("replicas"), e.get("membership"))
                          for pod, e in sorted(pending.items()))))


def describe(nodes):
    return ", ".join("%s%s" % (n.get("id"), " (%s)" % n["pod"] if n.get("pod") else "") for n in nodes)
