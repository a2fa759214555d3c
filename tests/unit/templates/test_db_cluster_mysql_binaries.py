# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""engine mysql runs MySQL's client names (mysqladmin, mysql) in every probe; engine mariadb keeps MariaDB's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.template import trust_as_template

from ansible_collections.dok.databases.plugins.module_utils.engines import get_engine

from .db_cluster_render import PASSWORD, load_tasks, one, pod_spec, render

# engine mysql on the MariaDB test image, as the db_cluster_mysql integration target deploys it.
MYSQL_ON_MARIADB_IMAGE = {"db_cluster_engine": "mysql", "db_cluster_image": "dok.test/mariadb:11.8",
                          "db_cluster_mariadb_root_password": PASSWORD}
MARIADB_ADMIN_PING = {"db_cluster_engine": "mariadb", "db_cluster_mariadb_root_password": PASSWORD,
                      "db_cluster_mariadb_probe": "admin_ping"}


def container_of(overrides):
    objects, dummy = render(overrides)
    return pod_spec(one(objects, "StatefulSet", "db1"))["containers"][0]


@pytest.mark.parametrize("overrides,admin,env", [
    (MYSQL_ON_MARIADB_IMAGE, "mysqladmin", "MYSQL"),
    (MARIADB_ADMIN_PING, "mariadb-admin", "MARIADB"),
])
def test_probes_run_the_engines_admin(overrides, admin, env):
    container = container_of(overrides)
    assert container["livenessProbe"]["exec"]["command"][:2] == [admin, "ping"]
    exec_readiness = container_of(dict(overrides, db_cluster_mariadb_readiness="exec"))
    assert exec_readiness["readinessProbe"]["exec"]["command"][:2] == [admin, "ping"]
    # The server stops on SIGTERM; no shutdown command, so no password on a command line either.
    assert "lifecycle" not in container
    assert [e["name"] for e in container["env"]][0] == "%s_ROOT_PASSWORD" % env


def test_mysql_on_the_mariadb_image_keeps_the_image_and_mysql_env():
    container = container_of(MYSQL_ON_MARIADB_IMAGE)
    assert container["image"] == "dok.test/mariadb:11.8" and container["name"] == "mysql"
    assert [e["name"] for e in container["env"]] == ["MYSQL_ROOT_PASSWORD"]


@pytest.mark.parametrize("overrides,client,prefix", [(MYSQL_ON_MARIADB_IMAGE, "mysql", "MYSQL"),
                                                     (MARIADB_ADMIN_PING, "mariadb", "MARIADB")])
def test_smoke_test_runs_the_engines_client(overrides, client, prefix):
    dummy, templar = render(overrides, [])
    command = templar.template(trust_as_template("{{ _db_cluster_smoke_commands[_db_cluster_family] }}"))
    assert command.startswith("/bin/sh -c 'MYSQL_PWD=\"$%s_ROOT_PASSWORD\" %s --user=root" % (prefix, client))


@pytest.mark.parametrize("overrides,admin,client", [
    (MYSQL_ON_MARIADB_IMAGE, "mysqladmin", "mysql"),
    (dict(MARIADB_ADMIN_PING, db_cluster_mariadb_probe="auto"), "mariadb-admin", "mariadb"),
])
def test_verify_step_makes_db_node_status_run_the_engines_binaries(overrides, admin, client):
    """The role's verify task leaves `binary` to the module: the adapter's engine facts pick it."""
    task = load_tasks("verify.yml")[0]
    dummy, templar = render(overrides, [])
    # Templated as one mapping so that omitted options drop out, as they do for the module.
    params = templar.template({key: value for key, value in task["dok.databases.db_node_status"].items()
                               if key in ("engine", "container", "binary", "login_password_env")})
    assert "binary" not in params
    adapter = get_engine(params["engine"], params)
    assert adapter.container == params["container"]
    assert adapter.ping_argv()[4] == admin and adapter.probe_argv()[4] == client
