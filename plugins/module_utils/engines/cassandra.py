# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apache Cassandra: ``nodetool status`` (ring per datacenter), ``netstats`` (Mode), ``info``, decommission."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dok.databases.plugins.module_utils.engines.base import (
    EngineAdapter, empty_node, ordinal_of, quote_output,
)
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import POD_HOST
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, DokError, ParseError

UNITS = {
    "bytes": 1, "b": 1,
    "kb": 1024, "kib": 1024,
    "mb": 1024 ** 2, "mib": 1024 ** 2,
    "gb": 1024 ** 3, "gib": 1024 ** 3,
    "tb": 1024 ** 4, "tib": 1024 ** 4,
    "pb": 1024 ** 5, "pib": 1024 ** 5,
}
UNKNOWN = ("?", "n/a")
STATUS_CODE = re.compile(r"^([A-Z?])([A-Z?])\s+(\S.*)$")
DATACENTER = re.compile(r"^Datacenter:\s*(.*?)\s*$")
MODE = re.compile(r"^Mode:\s*(\S+)", re.MULTILINE)
CONNECT_FAILED = re.compile(r"Failed to connect to '[^']*:(\d+)'")
CQL_PORT = 9042
ALREADY_SENT = re.compile(r"Already sent \d+ files?, (\d+(?:\.\d+)?)\s*([A-Za-z]+)? total")
HEADER_COLUMNS = (
    ("address", re.compile(r"\bAddress\b")),
    ("load", re.compile(r"\bLoad\b")),
    ("tokens", re.compile(r"\bTokens?\b")),
    ("owns", re.compile(r"\bOwns\b")),
    ("host_id", re.compile(r"\bHost ID\b")),
    ("rack", re.compile(r"\bRack\b")),
)
STATES = {"N": "normal", "L": "leaving", "J": "joining", "M": "moving"}
MEMBERSHIP = {"N": "active", "L": "decommissioning", "J": "joining", "M": "active"}
LOG_FILE = "/tmp/dok-decommission.log"
EXIT_MARK = "dok-exit-status:"
EXIT_STATUS = re.compile(r"^%s (\d+)\s*$" % EXIT_MARK, re.MULTILINE)
LIVENESS = {"U": True, "D": False}
DISK_HEADROOM = 2


def to_bytes(number, unit):
    """Bytes of a nodetool size (``65.26`` ``KiB``); None for ``?``/``N/A``."""
    if number is None or number.lower() in UNKNOWN:
        return None
    factor = UNITS.get((unit or "bytes").lower())
    if factor is None:
        return None
    try:
        return int(round(float(number) * factor))
    except ValueError:
        return None


def parse_size(text):
    parts = (text or "").split()
    if not parts:
        return None
    return to_bytes(parts[0], parts[1] if len(parts) > 1 else None)


def header_columns(line):
    found = [(m.start(), key) for key, pattern in HEADER_COLUMNS for m in [pattern.search(line)] if m]
    return [key for dummy, key in sorted(found)]


def take_row(rest, columns):
    """Values of one ring row by the header's column names; sizes may be two words (``65.26 KiB``)."""
    words = rest.split()
    values = {}
    for index, column in enumerate(columns):
        if column == "rack" and index == len(columns) - 1:
            values["rack"] = " ".join(words) if words else None
            words = []
            break
        if not words:
            return None
        word = words.pop(0)
        if column == "load":
            if word.lower() not in UNKNOWN and words and words[0].lower() in UNITS:
                values["load"] = to_bytes(word, words.pop(0))
            else:
                values["load"] = to_bytes(word, None)
        else:
            values[column] = word
    if words:
        return None
    return values


def parse_owns(text):
    if not text or text == "?":
        return None
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


def parse_ring(text):
    """Rows of ``nodetool status``: dicts with datacenter, status, state, address, load, tokens, owns, host_id, rack."""
    rows, datacenter, columns = [], None, None
    for line in (text or "").splitlines():
        stripped = line.strip()
        match = DATACENTER.match(stripped)
        if match:
            datacenter, columns = match.group(1), None
            continue
        if stripped.startswith("--") and "Address" in stripped:
            columns = header_columns(stripped)
            continue
        if columns is None:
            continue
        if not stripped:
            columns = None
            continue
        match = STATUS_CODE.match(stripped)
        if not match:
            raise ParseError(
                "A line inside nodetool status's ring is not a node row (two status letters, then the columns %s): "
                "%r. Full output: %s. Check that nodetool is Cassandra's and matches the server version." % (
                    ", ".join(columns), stripped, quote_output(text)), output=text)
        values = take_row(match.group(3), columns)
        if values is None or "address" not in values:
            raise ParseError(
                "A nodetool status row does not fit its header (%s): %r. Full output: %s. Check that nodetool "
                "is Cassandra's and matches the server version." % (", ".join(columns), stripped, quote_output(text)),
                output=text)
        values.update(datacenter=datacenter, status=match.group(1), state=match.group(2))
        rows.append(values)
    if not rows:
        raise ParseError(
            "nodetool status printed no ring (no 'Datacenter:' block with a '-- Address ...' header and UN/DN rows): "
            "%s. Check that Cassandra is running in that container and that nodetool reaches its JMX port."
            % quote_output(text), output=text)
    return rows


def parse_mode(text):
    """The operation mode from ``nodetool netstats`` (NORMAL, LEAVING, DECOMMISSIONED, JOINING, DRAINED...)."""
    match = MODE.search(text or "")
    if not match:
        raise ParseError("nodetool netstats printed no 'Mode:' line: %s. Check that nodetool reaches this node's "
                         "JMX port." % quote_output(text), output=text)
    return match.group(1).upper()


def parse_sent_bytes(text):
    """Bytes already streamed out, summed over the sessions netstats lists (0 when it sends nothing)."""
    return sum(to_bytes(number, unit or "bytes") or 0 for number, unit in ALREADY_SENT.findall(text or ""))


def parse_info(text):
    """``nodetool info`` as a dict keyed by its labels, with ``Load`` also in bytes as ``load_bytes``."""
    info = {}
    for line in (text or "").splitlines():
        key, sep, rest = line.partition(":")
        if sep and key.strip():
            info[key.strip()] = rest.strip()
    if "ID" not in info and "Load" not in info:
        raise ParseError("nodetool info printed neither 'ID' nor 'Load': %s. Check that nodetool reaches this "
                         "node's JMX port." % quote_output(text), output=text)
    info["load_bytes"] = parse_size(info.get("Load"))
    return info


def parse_df(text):
    """Available bytes from ``df -Pk <dir>`` (POSIX format, 1024-byte blocks), selected by the header name."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) >= 2:
        header = lines[0].split()
        if "Available" in header and "1024-blocks" in header:
            fields = lines[-1].split()
            index = header.index("Available")
            if len(fields) > index and fields[index].isdigit():
                return int(fields[index]) * 1024
    raise ParseError("df -Pk printed no 'Available' column in 1024-byte blocks: %s. The container needs a POSIX "
                     "df." % quote_output(text), output=text)


def pod_for(address, pods):
    for pod in pods or []:
        if pod.get("ip") and pod["ip"] == address:
            return pod["name"], pod.get("ordinal", ordinal_of(pod["name"]))
    match = POD_HOST.match(address or "")
    if match:
        return match.group("pod"), ordinal_of(match.group("pod"))
    return None, None


class CassandraAdapter(EngineAdapter):
    name = "cassandra"
    default_container = "cassandra"
    default_binary = "nodetool"
    default_port = 7199
    supports_decommission = True
    lists_left_members = False
    data_dir = "/var/lib/cassandra"

    def nodetool(self, *command):
        params = self.params
        argv = [self.binary]
        if params.get("host") and params["host"] != "localhost":
            argv += ["-h", params["host"]]
        if params.get("port"):
            argv += ["-p", str(params["port"])]
        if params.get("login_user"):
            argv += ["-u", params["login_user"]]
        argv += list(command)
        if params.get("login_password_env"):
            return self.with_password_flag(argv, params["login_password_env"], "-pw")
        return argv

    def status(self, run, pod, pods=None):
        argv = self.nodetool("status")
        try:
            result = self.run_checked(run, pod, argv, "nodetool status")
        except CommandError as exc:
            match = CONNECT_FAILED.search("%s\n%s" % (exc.details.get("stderr") or "", exc.details.get("stdout") or ""))
            if match and int(match.group(1)) == CQL_PORT:
                raise CommandError(
                    "%s nodetool talks to Cassandra's JMX port (%d by default), not to the CQL port %d: leave the "
                    "port option unset or set it to the JMX port." % (exc.msg, self.default_port, CQL_PORT),
                    **exc.details)
            raise
        return self.parse_status(result.stdout, pods)

    def parse_status(self, text, pods=None):
        """Nodes of the ring. A status or state letter nodetool did not document (``?N``) gives a node of unknown
        liveness or state, which makes the cluster unhealthy and never reads as a node that left."""
        nodes = []
        for row in parse_ring(text):
            pod, ordinal = pod_for(row["address"], pods)
            live = LIVENESS.get(row["status"])
            state = STATES.get(row["state"], "unknown")
            node = empty_node(
                id=row.get("host_id"), address=row["address"], pod=pod, ordinal=ordinal, is_live=live,
                is_available=live, state=state, replicas=None,
                is_decommissioning=row["state"] == "L", membership=MEMBERSHIP.get(row["state"]),
                datacenter=row.get("datacenter"), rack=row.get("rack"), load=row.get("load"))
            node["status_code"] = row["status"] + row["state"]
            node["owns"] = parse_owns(row.get("owns"))
            node["tokens"] = row.get("tokens")
            nodes.append(node)
        return nodes

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        live = [n for n in nodes if n.get("is_live") is True]
        dead = [n for n in nodes if n.get("is_live") is False]
        unknown = [n for n in nodes if n.get("is_live") is None or n.get("state") == "unknown"]
        leaving = [n for n in nodes if n.get("state") == "leaving"]
        moving = [n for n in nodes if n.get("state") in ("joining", "moving")]
        reasons = []
        if dead:
            reasons.append("%d of %d nodes are down: %s." % (len(dead), len(nodes), describe(dead)))
        if unknown:
            reasons.append("%d of %d nodes have a status nodetool does not document (%s): %s." % (
                len(unknown), len(nodes), ", ".join(sorted(set(n["status_code"] for n in unknown))),
                describe(unknown)))
        if leaving:
            reasons.append("%d nodes are leaving the ring (decommission): %s." % (len(leaving), describe(leaving)))
        if moving:
            reasons.append("%d nodes are joining or moving: %s." % (len(moving), ", ".join(
                "%s %s" % (n["address"], n["state"]) for n in moving)))
        if expected_nodes is not None and len(live) != expected_nodes:
            reasons.append("%d nodes are up where %d are expected." % (len(live), expected_nodes))
        if replication_factor:
            for dc in sorted(set(n.get("datacenter") or "" for n in nodes)):
                up = len([n for n in live if (n.get("datacenter") or "") == dc])
                if up < replication_factor:
                    reasons.append("Datacenter %s has %d nodes up for a replication factor of %d." % (
                        dc or "(unnamed)", up, replication_factor))
        return {
            "nodes": len(nodes), "live": len(live), "dead": len(nodes) - len(live), "decommissioning": len(leaving),
            "ranges_underreplicated": None, "ranges_unavailable": None,
            "healthy": not reasons, "reasons": reasons,
        }

    # Decommission hooks (see decommission.py)

    def decommission_groups(self, targets):
        """One node at a time: each decommission streams that node's ranges to the others."""
        return [[target] for target in targets]

    def extra_prechecks(self, nodes, targets, replication_factor):
        leaving = set(t["node_id"] for t in targets)
        reasons = []
        for dc in sorted(set(n.get("datacenter") or "" for n in nodes if n["id"] in leaving)):
            staying = [n for n in nodes if (n.get("datacenter") or "") == dc and n["id"] not in leaving]
            if replication_factor and len(staying) < replication_factor:
                reasons.append("datacenter %s would keep %d nodes, fewer than the replication factor %d" % (
                    dc or "(unnamed)", len(staying), replication_factor))
        return reasons

    def identify(self, run, pod):
        """The host ID and mode the node in `pod` reports (``nodetool info``, ``netstats``); None when it cannot
        be asked (not running, JMX not up)."""
        try:
            info = run(pod["name"], self.nodetool("info"), timeout=self.exec_timeout)
            if info.rc != 0:
                return None
            host_id = parse_info(info.stdout).get("ID")
        except DokError:
            return None
        mode, dummy = self._mode(run, pod["name"])
        return {"id": host_id, "mode": mode, "left": mode == "DECOMMISSIONED"}

    def start_decommission(self, run, control_pod, group, pods=None):
        """Start ``nodetool decommission`` detached in the leaving pod, so polling can watch it from outside; its
        exit status is written at the end of the log, so a refusal is seen at the next poll."""
        target = group[0]
        inner = self.nodetool("decommission")
        script = 'nohup sh -c \'"$@"; echo "%s $?"\' sh "$@" > %s 2>&1 < /dev/null &' % (EXIT_MARK, LOG_FILE)
        argv = ["sh", "-c", script, "sh"] + inner
        self.run_checked(run, target["pod"], argv, "nodetool decommission (detached)")
        return {"targets": {target["pod"]: {"state": "decommissioning", "replicas": None}}, "done": False}

    def _mode(self, run, pod):
        """Mode and bytes streamed of the leaving node; (None, 0) when it cannot be asked any more.

        A node that finished leaving stops its CQL listener, so its pod turns NotReady and exec may be refused:
        the ring seen from the control pod then tells the state.
        """
        try:
            result = run(pod, self.nodetool("netstats"), timeout=self.exec_timeout)
        except DokError:
            return None, 0
        if result.rc != 0:
            return None, 0
        return parse_mode(result.stdout), parse_sent_bytes(result.stdout)

    def decommission_progress(self, run, control_pod, group, pods=None):
        target = group[0]
        mode, sent = self._mode(run, target["pod"])
        ring = dict((n["id"], n) for n in self.status(run, control_pod, pods))
        node = ring.get(target["node_id"])
        if node is None:
            state = "decommissioned"
        elif mode in ("LEAVING", "DECOMMISSIONED") or node.get("state") == "leaving":
            state = "decommissioning"
        else:
            state = "active"
            self._raise_if_failed(run, target, mode)
        return {"targets": {target["pod"]: {"state": state, "replicas": None, "streamed_bytes": sent,
                                            "mode": mode, "ring_state": (node or {}).get("status_code")}},
                "done": state == "decommissioned"}

    def _raise_if_failed(self, run, target, mode):
        """The detached decommission ended (its exit status is in the log) or logged an error while the node is
        still a normal ring member: the database refused, and waiting longer changes nothing."""
        try:
            result = run(target["pod"], ["cat", LOG_FILE], timeout=self.exec_timeout)
        except DokError:
            return
        log = result.stdout if result.rc == 0 else ""
        ended = EXIT_STATUS.findall(log)
        words = log.replace(EXIT_MARK, "").lower()
        if ended or (log.strip() and ("error" in words or "exception" in words)):
            text = EXIT_STATUS.sub("", log).strip()
            raise CommandError(
                "nodetool decommission in pod %s %s while the node stays in the ring (mode %s): %s. Nothing was "
                "scaled down. Fix the cause (often another node down, or a keyspace whose replication factor "
                "exceeds the nodes that would remain), then run again." % (
                    target["pod"], "ended with exit status %s" % ended[-1] if ended else "stopped with an error",
                    mode, quote_output(text)), log=log, final=True)

    def finalize_decommission(self, run, control_pod, group, pods=None):
        progress = self.decommission_progress(run, control_pod, group, pods)
        target = group[0]
        if not progress["done"]:
            entry = progress["targets"][target["pod"]]
            raise CommandError(
                "Node %s (pod %s) has not left the ring: netstats mode %s, ring state %s. Nothing was scaled down; "
                "run again to resume." % (target["node_id"], target["pod"], entry["mode"], entry["ring_state"]))
        return progress

    def capacity_check(self, run, nodes, targets, remaining_pods):
        """Can the nodes that stay take the leaving nodes' data? Load from the ring, free space from df."""
        by_id = dict((n["id"], n) for n in nodes)
        loads = [by_id.get(t["node_id"], {}).get("load") for t in targets]
        if any(load is None for load in loads):
            return {"checked": False, "reasons": [
                "the load of a leaving node is unknown in nodetool status ('?'), so the free space on the others "
                "cannot be compared with it"]}
        leaving = sum(loads)
        share = leaving / float(max(len(remaining_pods), 1))
        free, reasons = {}, []
        for pod in remaining_pods:
            argv = ["df", "-Pk", self.data_dir]
            free[pod] = parse_df(self.run_checked(run, pod, argv, "df -Pk %s" % self.data_dir).stdout)
            if free[pod] < share * DISK_HEADROOM:
                reasons.append("pod %s has %d bytes free in %s, less than %d x its share (%d bytes) of the %d bytes "
                               "the leaving nodes hold" % (pod, free[pod], self.data_dir, DISK_HEADROOM, share, leaving))
        return {"checked": True, "leaving_bytes": leaving, "free_bytes": free, "reasons": reasons}


def describe(nodes):
    return ", ".join("%s%s" % (n.get("address"), " (%s)" % n["pod"] if n.get("pod") else "") for n in nodes)
