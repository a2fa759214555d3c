#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_decommission
short_description: Remove nodes from a database cluster on Kubernetes safely, then scale its StatefulSet down
version_added: 0.1.0
author:
  - dok.databases maintainers (@dok-databases)
description:
  - Removes database nodes the way the engine requires before their pods go away (C(cockroach node decommission),
    C(nodetool decommission) ...), then lowers C(spec.replicas) of the StatefulSet.
  - By default the nodes removed are those of the highest ordinals, down to O(replicas), since a StatefulSet can only
    shrink from the top.
  - Before anything changes it checks that all other nodes are live, that the cluster keeps at least
    O(replication_factor) nodes and that the others can take the data. While the data moves it polls the progress
    and fails when nothing moved for O(stall_timeout) seconds, saying what it saw.
  - A pod counts as gone only when the database says so positively, matched by node id or host ID, never
    inferred from a missing row or a changed address. A pod that the database cannot account for (it moved to a new
    address while its member is down at the old one, it is Pending or missing, a status row has an unknown state)
    is a refusal that names what was seen.
  - In O(replicas) mode every ordinal from O(replicas) up to C(spec.replicas) must have a pod whose database node
    is known, or be named in O(assume_gone).
  - Idempotent. Nodes already removed and scaled away give C(changed=false); a run interrupted half-way resumes.
  - Check mode returns the plan and changes nothing; diff mode shows the replica count, the states of the leaving
    nodes and the claims of the removed ordinals, before and after.
  - MariaDB and MySQL are single-node here; they have nothing to decommission and the module says so.
extends_documentation_fragment:
  - dok.databases.kube_module
  - ansible.builtin.action_common_attributes
  - dok.databases.db_target
  - kubernetes.core.k8s_auth_options
options:
  replicas:
    description:
      - Number of nodes to keep. The pods with ordinals from O(replicas) upwards are decommissioned.
      - Exactly one of O(replicas), O(node_ids) or O(pods) is needed.
    type: int
  node_ids:
    description:
      - Database node ids to remove (CockroachDB node ids, Cassandra host ids).
    type: list
    elements: str
  pods:
    description:
      - Pods whose nodes are removed. Pods must be the highest ordinals when O(scale_down=true).
    type: list
    elements: str
  force:
    description:
      - Go past the pre-checks that can be overridden (fewer nodes than the replication factor would remain, too
        little free space on the others, under-replicated ranges). It never lets a node that is down elsewhere,
        or a pod whose database node cannot be identified, pass, and never passes C(--force) to C(nodetool).
    type: bool
    default: false
  assume_gone:
    description:
      - Pods (by name) whose member you know already left the database, although the database cannot confirm it;
        the pod is missing, or its node appears in no row of the status output that can be tied to it.
      - Only these pods may be scaled away without a confirmed departure. The plan lists them as C(assume_gone),
        and their claims are always kept, whatever O(pvc_policy) says.
      - Refused for a pod whose node the database still lists.
    type: list
    elements: str
    default: []
  stall_timeout:
    description:
      - Fail when the data movement shows no progress for this many seconds. At least 1 and at least
        O(poll_interval).
    type: int
    default: 600
  wait_timeout:
    description:
      - Seconds the whole decommission may take. At least 1.
    type: int
    default: 3600
  pvc_policy:
    description:
      - C(retain) keeps the volume claims of the removed pods; C(delete) deletes them after the pods are gone.
      - Only the claims of this run's pods whose member the database confirmed gone are deleted (and claims that an
        interrupted run of the same decommission marked for deletion). Claims of other ordinals, such as claims
        kept on purpose by an earlier run, are listed as kept and never deleted.
      - Before a pod goes away, each of its claims is annotated with C(dok.databases/member-left) (and
        C(dok.databases/node-id)), so later runs and scale-ups know that it holds the data of a member that left.
      - A kept claim holds the data of a node that left the cluster. CockroachDB cannot bring such a node back, so a
        later scale-up must not silently reuse it.
    type: str
    default: retain
    choices: [retain, delete]
  scale_down:
    description:
      - Lower C(spec.replicas) of the StatefulSet once the nodes are decommissioned.
    type: bool
    default: true
attributes:
  diff_mode:
    support: full
notes:
  - The identity used needs C(get)/C(list)/C(patch) on statefulsets, C(get)/C(list) on pods, C(get)/C(list)/C(patch)
    on persistentvolumeclaims (C(delete) with O(pvc_policy=delete)) and C(get) and C(create) on C(pods/exec).
"""

EXAMPLES = r"""
- name: Shrink the CockroachDB cluster from 5 to 4 nodes
  dok.databases.db_decommission:
    engine: cockroachdb
    namespace: crdb
    statefulset: cockroachdb
    certs_dir: /cockroach/cockroach-certs
    replicas: 4

- name: Scale away a CockroachDB pod whose node was lost before it could be decommissioned (claim kept)
  dok.databases.db_decommission:
    engine: cockroachdb
    namespace: crdb
    statefulset: cockroachdb
    certs_dir: /cockroach/cockroach-certs
    replicas: 3
    assume_gone: [cockroachdb-3]

- name: Show what removing the top Cassandra node would do
  dok.databases.db_decommission:
    engine: cassandra
    namespace: cass
    statefulset: cassandra
    replicas: 3
    pvc_policy: delete
  check_mode: true
  register: cassandra_plan
"""

RETURN = r"""
plan:
  description: The steps in order, as planned before any change.
  returned: always
  type: list
  elements: dict
targets:
  description: >-
    The nodes removed (or to remove), each with its pod, ordinal, node id, C(state) (C(active), C(decommissioning),
    C(decommissioned), C(gone) or C(assumed_gone)) and C(evidence), how the database's answer was tied to the pod.
  returned: always
  type: list
  elements: dict
progress:
  description: Progress samples taken while the data moved (time, node, remaining replicas or state).
  returned: success
  type: list
  elements: dict
replicas:
  description: C(spec.replicas) of the StatefulSet before, and after (C(null) when O(scale_down=false)).
  returned: always
  type: dict
  sample: {before: 4, after: 3}
pod:
  description: Pod the database commands ran in (never one of the leaving pods, except where the engine requires it).
  returned: success
  type: str
capacity:
  description: The free-space check of the nodes that stay, where the engine has one (C(checked), C(reasons)).
  returned: when nodes were to be removed
  type: dict
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.dok.databases.plugins.module_utils.args import (
    TARGET_REQUIRED_ONE_OF, decommission_argspec, engine_params,
)
from ansible_collections.dok.databases.plugins.module_utils.common import run_module
from ansible_collections.dok.databases.plugins.module_utils.decommission import run_decommission
from ansible_collections.dok.databases.plugins.module_utils.engines import get_engine
from ansible_collections.dok.databases.plugins.module_utils.errors import NotApplicableError
from ansible_collections.dok.databases.plugins.module_utils.statefulset import target_ops


def execute(module, kube):
    params = module.params
    adapter = get_engine(params["engine"], engine_params(params))
    if not adapter.supports_decommission:
        raise NotApplicableError(
            "Decommission does not apply to engine %s: it runs a single database node, so there is no node to "
            "remove from a cluster. Nothing was changed. To remove the database use the teardown role; to move it, "
            "let Kubernetes reschedule the pod (with a local PV it is pinned to its node)." % params["engine"])
    ops = target_ops(kube, params, adapter.default_container, require_statefulset=True)
    result = run_decommission(ops, adapter, params, module.check_mode)
    if not module._diff:
        result.pop("diff")
    return result


def main():
    module = AnsibleK8SModule(
        argument_spec=decommission_argspec(),
        required_one_of=TARGET_REQUIRED_ONE_OF + [("replicas", "node_ids", "pods")],
        mutually_exclusive=[("replicas", "node_ids", "pods")],
        supports_check_mode=True,
        check_pyyaml=False,
    )
    run_module(module, execute)


if __name__ == "__main__":
    main()
