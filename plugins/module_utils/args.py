# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the modules; documented once in plugins/doc_fragments/db_target.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

ENGINES = ("cockroachdb", "kaiwudb", "cassandra", "mariadb", "mysql")

TARGET_ARG_SPEC = {
    "engine": {"type": "str", "required": True, "choices": list(ENGINES)},
    "namespace": {"type": "str", "default": "default"},
    "statefulset": {"type": "str", "aliases": ["name"]},
    "label_selector": {"type": "str"},
    "pod": {"type": "str"},
    "container": {"type": "str"},
    "binary": {"type": "str"},
    "insecure": {"type": "bool", "default": False},
    "certs_dir": {"type": "str"},
    "db_host": {"type": "str", "default": "localhost"},
    "port": {"type": "int"},
    "login_user": {"type": "str"},
    "login_password": {"type": "str", "no_log": True},
    "login_password_env": {"type": "str", "no_log": False},
    "replication_factor": {"type": "int", "default": 3},
    "poll_interval": {"type": "int", "default": 5},
    "exec_timeout": {"type": "int", "default": 60},
}

TARGET_REQUIRED_ONE_OF = [("statefulset", "label_selector", "pod")]

NODE_STATUS_ARG_SPEC = {
    "wait_for": {"type": "str", "default": "none", "choices": ["none", "healthy", "all_live", "count"]},
    "expected_nodes": {"type": "int"},
    "wait_timeout": {"type": "int", "default": 300},
}

DECOMMISSION_ARG_SPEC = {
    "replicas": {"type": "int"},
    "node_ids": {"type": "list", "elements": "str"},
    "pods": {"type": "list", "elements": "str"},
    "force": {"type": "bool", "default": False},
    "stall_timeout": {"type": "int", "default": 600},
    "wait_timeout": {"type": "int", "default": 3600},
    "pvc_policy": {"type": "str", "default": "retain", "choices": ["retain", "delete"]},
    "scale_down": {"type": "bool", "default": True},
    "assume_gone": {"type": "list", "elements": "str", "default": []},
}

REPLACE_ARG_SPEC = {
    "lost_pod": {"type": "str"},
    "lost_node": {"type": "str"},
    "confirm": {"type": "bool", "default": False},
    "min_down": {"type": "int", "default": 120},
    "wait_timeout": {"type": "int", "default": 900},
}

RANGES = (
    ("port", 1, 65535), ("replication_factor", 1, None), ("poll_interval", 1, None), ("exec_timeout", 1, None),
    ("expected_nodes", 1, None), ("wait_timeout", 1, None), ("stall_timeout", 1, None), ("replicas", 0, None),
    ("min_down", 0, None),
)

LOCAL_PV_VOLUME_SPEC = {
    "node": {"type": "str", "required": True},
    "path": {"type": "str", "required": True},
    "capacity": {"type": "str", "required": True},
    "name": {"type": "str"},
}

LOCAL_PV_ARG_SPEC = {
    "volumes": {"type": "list", "elements": "dict", "default": [], "options": LOCAL_PV_VOLUME_SPEC},
    "name_prefix": {"type": "str", "required": True},
    "storage_class": {"type": "str", "default": "local-storage"},
    "create_storage_class": {"type": "bool", "default": True},
    "reclaim_policy": {"type": "str", "default": "Retain", "choices": ["Retain", "Delete", "Recycle"]},
    "access_modes": {
        "type": "list", "elements": "str", "default": ["ReadWriteOnce"],
        "choices": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"],
    },
    "volume_mode": {"type": "str", "default": "Filesystem", "choices": ["Filesystem", "Block"]},
    "labels": {"type": "dict", "default": {}},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "force": {"type": "bool", "default": False},
    "reclaim_released": {"type": "bool", "default": False},
}


def with_auth(*specs):
    """kubernetes.core's auth options plus ours; ours must not shadow theirs."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    for extra in specs:
        clash = set(spec) & set(extra)
        if clash:
            raise ValueError("options %s are already kubernetes.core auth options" % sorted(clash))
        spec.update(copy.deepcopy(extra))
    return spec


def engine_params(params):
    """Module params as the engine adapters read them: the database address under ``host``.

    The module option is ``db_host`` because ``host`` is kubernetes.core's API server option.
    """
    if params.get("login_password"):
        raise PreconditionError(
            "login_password was given, but a password is never passed to a command in the pod: command lines are "
            "visible to every process there. Nothing was done. Put the password in a Secret, expose it to the "
            "database container as an environment variable, and name that variable with login_password_env.")
    check_ranges(params)
    result = dict(params)
    result["host"] = params.get("db_host")
    return result


def check_ranges(params):
    """Refuse a whole-number option outside its range before anything runs."""
    for name, lowest, highest in RANGES:
        value = params.get(name)
        if value is None:
            continue
        if highest is not None and not lowest <= value <= highest:
            raise PreconditionError("%s must be between %d and %d, got %s. Nothing was done." % (
                name, lowest, highest, value))
        if value < lowest:
            raise PreconditionError("%s must be at least %d, got %s. Nothing was done." % (name, lowest, value))


def node_status_argspec():
    return with_auth(TARGET_ARG_SPEC, NODE_STATUS_ARG_SPEC)


def decommission_argspec():
    return with_auth(TARGET_ARG_SPEC, DECOMMISSION_ARG_SPEC)


def replace_argspec():
    return with_auth(TARGET_ARG_SPEC, REPLACE_ARG_SPEC)


def local_pv_argspec():
    return with_auth(LOCAL_PV_ARG_SPEC)
