#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_replace_node
short_description: Replace a database pod whose node and local volume are lost
version_added: 0.2.0
author:
  - dok.databases maintainers (@dok-databases)
description:
  - For a pod of a StatefulSet on local storage whose Kubernetes node is down, confirms the loss, removes the lost
    member the database's way, releases the old claim and PersistentVolume and lets the StatefulSet recreate the pod
    on a prepared volume of another node, then waits until the pod is Ready and the database healthy.
  - The loss is confirmed by Kubernetes (the node NotReady for at least O(min_down) seconds, or gone, and the pod
    not Ready) and, for CockroachDB and KaiwuDB, by the database (the member is not live, every other member is).
    A node that comes back before the member is removed stops the run with nothing removed.
  - "Steps, in order: C(confirm) (recorded in an annotation C(replace.dok.databases/<pod>) on the StatefulSet),
    C(remove_member) (CockroachDB/KaiwuDB: C(node decommission) of the dead node, which needs no data from it),
    C(delete_claims), C(delete_pod) (at once, its node being down), C(delete_volumes) (the Released PVs of the dead
    node; their directories stay on its disk), C(wait_rejoin), C(wait_healthy), C(finish)."
  - Every step is decided from what is observed, so a run interrupted anywhere resumes where it stopped when run
    again and never repeats a step.
  - Before anything is done, a volume the new claim can bind must exist on another Ready node (an Available local
    PV of the same storage class and at least the same capacity, not on a node running another pod of the
    StatefulSet), or the storage class must provision volumes itself.
  - MariaDB and MySQL run one server; their data died with the node. The pod comes back with an empty data
    directory; restore the latest backup afterwards (the C(replace_node) role does).
  - Cassandra is refused for now; its replacement (C(replace_address_first_boot)) is not implemented.
  - Check mode returns the plan and changes nothing. Without O(confirm) a run fails with the plan and changes
    nothing.
extends_documentation_fragment:
  - dok.databases.kube_module
  - ansible.builtin.action_common_attributes
  - dok.databases.db_target
  - kubernetes.core.k8s_auth_options
options:
  lost_pod:
    description:
      - Pod to replace. One of O(lost_pod) or O(lost_node) is required.
    type: str
  lost_node:
    description:
      - Kubernetes node that is lost; the pod of the StatefulSet whose volume is on it is replaced.
      - When several pods of the StatefulSet have data there the module refuses; replace them one by one with
        O(lost_pod).
    type: str
  confirm:
    description:
      - Run the plan. Without it the module fails with the plan and changes nothing.
    type: bool
    default: false
  min_down:
    description:
      - Seconds the node must have been NotReady before anything is removed; the module waits for the rest and
        checks again. 0 or more.
    type: int
    default: 120
  wait_timeout:
    description:
      - Seconds to wait, after O(min_down), for the old volumes to be released, the pod to rejoin and the database to
        be healthy. At least 1.
    type: int
    default: 900
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - The identity used needs C(get)/C(list) on pods, nodes, persistentvolumes, persistentvolumeclaims,
    storageclasses and statefulsets, C(patch) on statefulsets, C(delete) on pods, persistentvolumeclaims and
    persistentvolumes, and C(get)/C(create) on C(pods/exec).
"""

EXAMPLES = r"""
- name: Show what replacing the pod on the lost node would do
  dok.databases.db_replace_node:
    engine: cockroachdb
    namespace: crdb
    statefulset: cockroachdb
    lost_node: node-3
    insecure: true
  check_mode: true
  register: plan

- name: Replace it
  dok.databases.db_replace_node:
    engine: cockroachdb
    namespace: crdb
    statefulset: cockroachdb
    lost_pod: cockroachdb-1
    insecure: true
    confirm: true
"""

RETURN = r"""
pod:
  description: The pod replaced (or planned).
  returned: when a pod was found
  type: str
  sample: cockroachdb-1
plan:
  description: Steps left to run when the module started, in order.
  returned: always
  type: list
  elements: str
  sample: [confirm, remove_member, delete_claims, delete_pod, delete_volumes, wait_rejoin, wait_healthy, finish]
steps_done:
  description: Steps this run performed, with the time they ended, their duration in seconds and what they did.
  returned: always
  type: list
  elements: dict
  sample:
    - {step: remove_member, at: "2026-12-06T19:00:02Z", seconds: 1.4,
       detail: "decommissioned member 2 (was pod cockroachdb-1 at cockroachdb-1.cockroachdb.crdb:26257)"}
facts:
  description: What the decision rests on (dead node, since when, volumes, member).
  returned: when a pod was found
  type: dict
  sample: {node: node-3, node_ready: false, node_not_ready_since: "2026-12-06T18:58:00Z", volumes: [pv-a],
           member: {id: 2, address: "cockroachdb-1.cockroachdb.crdb:26257"}}
node:
  description: Node the pod runs on after the replacement.
  returned: when the replacement finished
  type: str
volumes:
  description: Volumes bound to the pod's claims after the replacement.
  returned: when the replacement finished
  type: list
  elements: str
seconds:
  description: Duration of the run.
  returned: when the replacement finished
  type: float
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.dok.databases.plugins.module_utils.args import engine_params, replace_argspec
from ansible_collections.dok.databases.plugins.module_utils.common import run_module
from ansible_collections.dok.databases.plugins.module_utils.engines import get_engine
from ansible_collections.dok.databases.plugins.module_utils.errors import NotApplicableError
from ansible_collections.dok.databases.plugins.module_utils.replace import replace_node
from ansible_collections.dok.databases.plugins.module_utils.statefulset import target_ops


def execute(module, kube):
    params = engine_params(module.params)
    engine = params["engine"]
    if engine == "cassandra":
        raise NotApplicableError(
            "Replacing a lost Cassandra node is not supported by db_replace_node yet (it needs the new pod to start "
            "with -Dcassandra.replace_address_first_boot). Nothing was done. Until then: nodetool removenode <host "
            "id> from a live node, then delete the pod's claim and pod so that it bootstraps on a new volume.")
    adapter = get_engine(engine, params)
    ops = target_ops(kube, dict(params, pod=None), adapter.default_container, require_statefulset=True)
    params["pod_name"] = params.get("lost_pod")
    params["node"] = params.get("lost_node")
    return replace_node(kube, ops, adapter, engine, params, module.check_mode)


def main():
    module = AnsibleK8SModule(
        argument_spec=replace_argspec(),
        required_one_of=[("lost_pod", "lost_node")],
        mutually_exclusive=[("lost_pod", "lost_node")],
        required_by={"lost_pod": "statefulset", "lost_node": "statefulset"},
        supports_check_mode=True,
        check_pyyaml=False,
    )
    run_module(module, execute)


if __name__ == "__main__":
    main()
