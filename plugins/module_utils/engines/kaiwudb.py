# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KaiwuDB: the CockroachDB-derived CLI (``kwbase``; ``bini`` in older builds).

Its ``node status`` adds ``start_mode`` and has no ``membership`` column; ``node decommission`` prints
``id, is_live, replicas, is_decommissioning, is_draining``. Membership is derived from is_decommissioning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import CockroachDBAdapter, value


class KaiwuDBAdapter(CockroachDBAdapter):
    """KaiwuDB (kwbase, or bini in older builds): CockroachDB's CLI with ``start_mode`` and no ``membership``."""

    name = "kaiwudb"
    default_container = "kaiwudb"
    default_binary = "kwbase"
    has_membership = False

    def node_from_row(self, row, pods=None):
        node = super(KaiwuDBAdapter, self).node_from_row(row, pods)
        if "status" in row:
            node["status"] = value(row, "status")
        return node
