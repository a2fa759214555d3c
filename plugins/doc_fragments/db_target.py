# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  engine:
    description:
      - The database engine running in the target pods.
      - C(mysql) is an alias of C(mariadb) with the C(mysql) container and client names.
    type: str
    required: true
    choices: [cockroachdb, kaiwudb, cassandra, mariadb, mysql]
  namespace:
    description:
      - Namespace of the database workload.
    type: str
    default: default
  statefulset:
    description:
      - Name of the StatefulSet that runs the database (by convention the cluster name).
      - It must carry the label C(app.kubernetes.io/managed-by=dok.databases). To target a workload that was not
        deployed by this collection, also set O(label_selector) to a selector matching its pods.
      - One of O(statefulset), O(label_selector) or O(pod) is required.
    type: str
    aliases: [name]
  label_selector:
    description:
      - Label selector of the database pods, for example C(app=cockroachdb).
      - With O(statefulset), it restricts the pods and confirms that a workload without the dok.databases
        managed-by label may be used.
    type: str
  pod:
    description:
      - Name of the pod to run the database CLI in.
      - Default is the Ready pod with the lowest ordinal.
    type: str
  container:
    description:
      - Database container in the pods. Default is the engine's container name (C(cockroachdb), C(kaiwudb),
        C(cassandra), C(mariadb), C(mysql)).
    type: str
  binary:
    description:
      - Database CLI to run in the container. Default depends on the engine (C(cockroach), C(kwbase),
        C(nodetool), C(mariadb-admin) and C(mariadb) for MariaDB, C(mysqladmin) and C(mysql) for MySQL).
    type: str
  insecure:
    description:
      - Connect the database CLI without TLS (CockroachDB and KaiwuDB C(--insecure)), for a cluster started with
        C(--insecure). By default the CLI uses the certificates in O(certs_dir).
    type: bool
    default: false
  certs_dir:
    description:
      - Directory with the client certificates inside the pod (CockroachDB and KaiwuDB C(--certs-dir)).
      - Default C(/cockroach/cockroach-certs), where the P(dok.databases.db_cluster#role) role mounts them.
    type: str
  db_host:
    description:
      - Address the database CLI connects to, as seen from inside the pod.
      - Named C(db_host) because C(host) is the Kubernetes API server option.
    type: str
    default: localhost
  port:
    description:
      - Port the database CLI connects to (1 to 65535). Default is the engine's port.
    type: int
  login_user:
    description:
      - Database user for the CLI, where the engine uses one.
    type: str
  login_password:
    description:
      - Refused with an error when set. A password is never put on a command line inside the pod, where every
        process could read it; use O(login_password_env) instead.
      - Kept so that playbooks written for other database modules fail with that explanation instead of an
        unknown-option error.
    type: str
  login_password_env:
    description:
      - Name of an environment variable inside the container that holds the password.
      - MariaDB default is C(MARIADB_ROOT_PASSWORD), MySQL default is C(MYSQL_ROOT_PASSWORD).
    type: str
  replication_factor:
    description:
      - Replication factor the safety rules and the health summary assume. At least 1.
    type: int
    default: 3
  poll_interval:
    description:
      - Seconds between two polls while waiting. At least 1.
    type: int
    default: 5
  exec_timeout:
    description:
      - Seconds one database CLI command may run in the pod before it is abandoned and reported as failed. At
        least 1.
    type: int
    default: 60
"""
