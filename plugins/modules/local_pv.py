#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: local_pv
short_description: Manage local PersistentVolumes pinned to nodes
version_added: 0.1.0
author:
  - dok.databases maintainers (@dok-databases)
description:
  - Creates, updates and deletes C(local) PersistentVolumes, one per directory on a node, each pinned to its node with
    a C(kubernetes.io/hostname) node affinity, and optionally the StorageClass they use
    (provisioner C(kubernetes.io/no-provisioner), C(volumeBindingMode=WaitForFirstConsumer)).
  - PV names are deterministic. Unless a volume sets O(volumes[].name), the name is
    C(<name_prefix>-<node>-<hash>), where C(<node>) is the node name reduced to lowercase letters, digits and C(-)
    and C(<hash>) the first 10 hex digits of the SHA-256 of the path. The same input always gives the same names, and
    a rerun with the same input changes nothing.
  - Labels, capacity, access modes, reclaim policy and (while unbound) the storage class of an existing PV are
    updated in place. A difference in C(local.path), node affinity, volume mode, or the storage class of a bound PV
    cannot be changed by Kubernetes and is reported as an error naming the field and the PV.
  - The directories themselves are not created here; the P(dok.databases.local_storage#role) role prepares them.
  - Check mode reports what would change without calling the API to change it; diff mode returns the managed fields
    before and after.
extends_documentation_fragment:
  - dok.databases.kube_module
  - ansible.builtin.action_common_attributes
  - kubernetes.core.k8s_auth_options
options:
  volumes:
    description:
      - The local volumes. With O(state=absent) and no O(volumes), every PV created with this O(name_prefix) is
        removed.
    type: list
    elements: dict
    default: []
    suboptions:
      node:
        description: Name of the node that has the directory (its C(kubernetes.io/hostname) label).
        type: str
        required: true
      path:
        description: Absolute, normalized path of the directory (or block device) on the node.
        type: str
        required: true
      capacity:
        description: Capacity to advertise, a Kubernetes quantity such as C(10Gi).
        type: str
        required: true
      name:
        description: PV name to use instead of the generated one.
        type: str
  name_prefix:
    description:
      - Prefix of the generated PV names; also stored in the C(dok.databases/local-pv-prefix) label so that
        O(state=absent) can find the PVs again.
    type: str
    required: true
  storage_class:
    description: StorageClass name the PVs carry (C(spec.storageClassName)).
    type: str
    default: local-storage
  create_storage_class:
    description:
      - Create the StorageClass when it is missing, and delete it with O(state=absent) when it was created by this
        collection and no other PV uses it.
      - An existing StorageClass is used as it is when its provisioner, binding mode and reclaim policy fit.
    type: bool
    default: true
  reclaim_policy:
    description: C(persistentVolumeReclaimPolicy) of the PVs. C(Retain) keeps a released PV for manual reuse.
    type: str
    default: Retain
    choices: [Retain, Delete, Recycle]
  access_modes:
    description: Access modes of the PVs.
    type: list
    elements: str
    default: [ReadWriteOnce]
    choices: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod]
  volume_mode:
    description: C(Filesystem) for a directory, C(Block) for a raw device.
    type: str
    default: Filesystem
    choices: [Filesystem, Block]
  labels:
    description:
      - Extra labels on the PVs and the StorageClass. C(app.kubernetes.io/managed-by=dok.databases) and
        C(dok.databases/local-pv-prefix) are always added.
    type: dict
    default: {}
  state:
    description: C(present) creates or updates the PVs, C(absent) deletes them.
    type: str
    default: present
    choices: [present, absent]
  force:
    description:
      - With O(state=absent), also delete PVs that are bound to a claim. The data on the node is not touched.
    type: bool
    default: false
  reclaim_released:
    description:
      - A PV whose claim was deleted is C(Released) and Kubernetes binds it to no new claim while its C(claimRef)
        still points at that deleted claim (by its uid). By default such PVs are only reported (RV(released) and
        a warning).
      - With C(true), the PV is pre-bound to its former claim. C(spec.claimRef) keeps that claim's namespace and
        name (and kind and apiVersion); only its C(uid) and C(resourceVersion) are removed. The PV becomes
        C(Available) for one claim only. A new claim with the same namespace and name (for example the one a
        recreated StatefulSet pod makes) binds it and gets the data left in the directory; a claim with any other
        name, such as another ordinal of the StatefulSet or another cluster using the same StorageClass, does not.
        RV(reclaimed) names the PVs and their claims.
      - To start empty instead, delete the PV (O(state=absent)), clear the directory and create the PV again.
      - A C(Released) PV whose C(claimRef) lacks the namespace or name cannot be pre-bound; the module then fails
        naming the PV and changes nothing.
      - The C(claimRef) of a Bound PV, or of a PV already pre-bound to a claim, is never changed.
    type: bool
    default: false
attributes:
  diff_mode:
    support: full
notes:
  - Only PVs carrying C(app.kubernetes.io/managed-by=dok.databases) are changed or deleted, and of those only PVs
    without a C(dok.databases/local-pv-prefix) label or with this O(name_prefix) in it.
  - Every node named must exist; when the identity may not read Nodes, the check is skipped with a warning.
"""

EXAMPLES = r"""
- name: Register one local PV per node for the CockroachDB cluster
  dok.databases.local_pv:
    name_prefix: crdb
    storage_class: local-storage
    volumes:
      - {node: worker-1, path: /mnt/disks/crdb, capacity: 100Gi}
      - {node: worker-2, path: /mnt/disks/crdb, capacity: 100Gi}
      - {node: worker-3, path: /mnt/disks/crdb, capacity: 100Gi}

- name: Give the Released PVs of a torn-down cluster, with their data, back to the same claims of its recreated pods
  dok.databases.local_pv:
    name_prefix: crdb
    reclaim_released: true
    volumes:
      - {node: worker-1, path: /mnt/disks/crdb, capacity: 100Gi}
      - {node: worker-2, path: /mnt/disks/crdb, capacity: 100Gi}
      - {node: worker-3, path: /mnt/disks/crdb, capacity: 100Gi}

- name: Remove them again, even if still bound
  dok.databases.local_pv:
    name_prefix: crdb
    state: absent
    force: true
"""

RETURN = r"""
pvs:
  description: Names of the PVs requested (O(state=present)) or found for deletion (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [crdb-worker-1-5d41402abc]
released:
  description:
    - PVs left C(Released) by a deleted claim and not pre-bound in this run (O(reclaim_released=false), or the
      C(claimRef) does not name the claim). No claim binds them; each still holds its data.
  returned: always
  type: list
  elements: str
  sample: [crdb-worker-1-5d41402abc]
reclaimed:
  description:
    - C(Released) PVs pre-bound to their former claim in this run (in check mode, that would be), with that claim.
      Only a claim of that namespace and name binds the PV and gets the data in its directory.
  returned: always
  type: list
  elements: dict
  contains:
    pv:
      description: PV name.
      type: str
      sample: crdb-worker-1-5d41402abc
    claim:
      description: C(namespace/name) of the only claim that can bind the PV.
      type: str
      sample: crdb/datadir-crdb-0
  sample: [{pv: crdb-worker-1-5d41402abc, claim: crdb/datadir-crdb-0}]
storage_class:
  description: StorageClass name used.
  returned: always
  type: str
  sample: local-storage
actions:
  description: What was done, or in check mode what would be done.
  returned: always
  type: list
  elements: str
  sample: [create StorageClass local-storage, create PersistentVolume crdb-worker-1-5d41402abc]
diff:
  description:
    - Managed fields of every object before and after, keyed by PV name (C(storageclass/<name>) for the class).
    - C(claimRef) is the PV's claim reference as stored; when a Released PV is pre-bound, it loses C(uid) and
      C(resourceVersion) and keeps the namespace and name.
  returned: always
  type: dict
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.dok.databases.plugins.module_utils.args import local_pv_argspec
from ansible_collections.dok.databases.plugins.module_utils.common import run_module
from ansible_collections.dok.databases.plugins.module_utils.local_volumes import ensure


def execute(module, kube):
    return ensure(kube, module.params, module.check_mode, module.warn)


def main():
    module = AnsibleK8SModule(argument_spec=local_pv_argspec(), supports_check_mode=True, check_pyyaml=False)
    run_module(module, execute)


if __name__ == "__main__":
    main()
