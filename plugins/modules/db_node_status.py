#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_node_status
short_description: Report the nodes of a database cluster running on Kubernetes
version_added: 0.1.0
author:
  - dok.databases maintainers (@dok-databases)
description:
  - Runs the engine's status command (C(cockroach node status), C(nodetool status), C(mariadb-admin) or
    C(mysqladmin) ...) in a Ready pod of the database and returns one normalized record per node plus a cluster
    summary.
  - Can wait until the cluster is healthy, all nodes are live, or a given number of nodes is live, so that it can
    gate a rollout.
  - Read-only; never reports changed. Supports check mode.
extends_documentation_fragment:
  - dok.databases.kube_module
  - ansible.builtin.action_common_attributes
  - dok.databases.db_target
  - kubernetes.core.k8s_auth_options
options:
  wait_for:
    description:
      - C(none) reports the current state.
      - C(healthy) waits until the summary says healthy (every node live, no under-replicated or unavailable
        ranges, as far as the engine can tell).
      - C(all_live) waits until every node is live and at least O(expected_nodes) are.
      - C(count) waits until exactly O(expected_nodes) nodes are live.
    type: str
    default: none
    choices: [none, healthy, all_live, count]
  expected_nodes:
    description:
      - Number of nodes the cluster should have. Default is C(spec.replicas) of the StatefulSet, or the number of
        selected pods.
      - Required with O(wait_for=count). At least 1.
    type: int
  wait_timeout:
    description:
      - Seconds to wait for O(wait_for) before failing with the last summary seen. At least 1.
    type: int
    default: 300
attributes:
  diff_mode:
    support: none
notes:
  - The identity used needs C(get)/C(list) on pods and statefulsets and C(get) and C(create) on C(pods/exec) in the namespace.
"""

EXAMPLES = r"""
- name: Show the nodes of the CockroachDB cluster
  dok.databases.db_node_status:
    engine: cockroachdb
    namespace: crdb
    statefulset: cockroachdb
    certs_dir: /cockroach/cockroach-certs
  register: crdb_status

- name: Wait until the Cassandra ring has three live nodes
  dok.databases.db_node_status:
    engine: cassandra
    namespace: cass
    statefulset: cassandra
    wait_for: count
    expected_nodes: 3
    wait_timeout: 600

- name: Check a MariaDB pod answers, with the root password read inside the pod
  dok.databases.db_node_status:
    engine: mariadb
    namespace: wordpress
    statefulset: wordpress-db
    login_password_env: MARIADB_ROOT_PASSWORD
    wait_for: healthy
"""

RETURN = r"""
nodes:
  description: One normalized record per database node.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Node id in the database (CockroachDB node id, Cassandra host id).
      type: str
    address:
      description: Address the node advertises.
      type: str
    pod:
      description: Pod running the node, when it can be told.
      type: str
    ordinal:
      description: StatefulSet ordinal of that pod.
      type: int
    is_live:
      description: Whether the database considers the node live.
      type: bool
    is_available:
      description: Whether the node serves requests.
      type: bool
    state:
      description: Engine-specific state, for example C(UN) for Cassandra.
      type: str
    replicas:
      description: Ranges or replicas the node holds, when known.
      type: int
    is_decommissioning:
      description: Whether the node is being removed.
      type: bool
    membership:
      description: Membership as the engine reports it.
      type: str
    is_draining:
      description: Whether the node is draining.
      type: bool
    version:
      description: Database version of the node.
      type: str
    datacenter:
      description: Datacenter or region.
      type: str
    rack:
      description: Rack or zone.
      type: str
    load:
      description: Data size reported for the node.
      type: str
  sample:
    - {id: "1", address: "cockroachdb-0.cockroachdb.crdb.svc.cluster.local:26257", pod: cockroachdb-0, ordinal: 0,
       is_live: true, is_available: true, state: null, replicas: 35, is_decommissioning: false, membership: active,
       is_draining: false, version: v24.1.0, datacenter: null, rack: null, load: null}
summary:
  description: Cluster summary computed by the engine adapter.
  returned: success
  type: dict
  contains:
    nodes:
      description: Nodes listed.
      type: int
    live:
      description: Live nodes.
      type: int
    dead:
      description: Nodes not live.
      type: int
    decommissioning:
      description: Nodes being removed.
      type: int
    ranges_underreplicated:
      description: Under-replicated ranges, when the engine reports them.
      type: int
    ranges_unavailable:
      description: Unavailable ranges, when the engine reports them.
      type: int
    healthy:
      description: Whether the cluster is healthy.
      type: bool
    reasons:
      description: Why it is not healthy.
      type: list
      elements: str
pod:
  description: Pod the status command ran in.
  returned: success
  type: str
  sample: cockroachdb-0
command:
  description: The command (argv) that ran, or the list of commands when the engine needs several.
  returned: success
  type: list
  sample: [cockroach, node, status, --all, --format=csv, --certs-dir=/cockroach/cockroach-certs]
lost_volumes:
  description:
    - Pods that are not Ready and whose volume is pinned to a node that is NotReady or gone, with that node and
      since when; empty while every pod is Ready. Also added to the error message when the status cannot be read.
    - Such a pod is a candidate for M(dok.databases.db_replace_node) once the node is known to be lost.
  returned: success
  type: list
  elements: dict
  sample:
    - {pod: cockroachdb-1, claim: datadir-cockroachdb-1, volume: local-pv-node-1-4f2a, node: node-1,
       node_exists: true, not_ready_since: "2026-12-06T18:58:00Z",
       message: "pod cockroachdb-1 is bound to PV local-pv-node-1-4f2a on node node-1, which is NotReady since
                 2026-12-06T18:58:00Z; if the node is lost, replace the pod with playbooks/replace_node.yml"}
waited:
  description: Seconds spent waiting for O(wait_for).
  returned: success
  type: float
  sample: 12.3
polls:
  description: Number of status polls.
  returned: success
  type: int
  sample: 3
unmet_polls:
  description:
    - Why each poll before the last did not meet O(wait_for) (the database's reasons or the error), in order.
    - Empty when the first poll met it.
  returned: success
  type: list
  elements: str
  sample: ["poll 1: 2 of 3 nodes live; node 3 is not live"]
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.dok.databases.plugins.module_utils.args import (
    TARGET_REQUIRED_ONE_OF, node_status_argspec, engine_params,
)
from ansible_collections.dok.databases.plugins.module_utils.common import run_module
from ansible_collections.dok.databases.plugins.module_utils.engines import get_engine
from ansible_collections.dok.databases.plugins.module_utils.node_status import node_status
from ansible_collections.dok.databases.plugins.module_utils.statefulset import target_ops


def execute(module, kube):
    adapter = get_engine(module.params["engine"], engine_params(module.params))
    ops = target_ops(kube, module.params, adapter.default_container)
    return node_status(ops, adapter, module.params)


def main():
    module = AnsibleK8SModule(
        argument_spec=node_status_argspec(),
        required_one_of=TARGET_REQUIRED_ONE_OF,
        supports_check_mode=True,
        check_pyyaml=False,
    )
    run_module(module, execute)


if __name__ == "__main__":
    main()
