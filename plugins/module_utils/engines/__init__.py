# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine adapters by name: ``get_engine(name, params)``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import CassandraAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import CockroachDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.kaiwudb import KaiwuDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.engines.mariadb import MariaDBAdapter, MySQLAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError

ADAPTERS = {
    "cockroachdb": CockroachDBAdapter,
    "kaiwudb": KaiwuDBAdapter,
    "cassandra": CassandraAdapter,
    "mariadb": MariaDBAdapter,
    "mysql": MySQLAdapter,
}
ENGINES = ["cockroachdb", "kaiwudb", "cassandra", "mariadb", "mysql"]


def get_engine(name, params=None):
    """The adapter for `name`, configured with the module params (mysql: MariaDB adapter, MySQL client names)."""
    try:
        return ADAPTERS[name](params)
    except KeyError:
        raise PreconditionError("Unknown engine %r; choose one of %s." % (name, ", ".join(ENGINES)))
