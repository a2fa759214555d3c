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

from collections import namedtuple

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
