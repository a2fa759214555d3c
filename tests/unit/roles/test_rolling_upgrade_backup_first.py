# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rolling_upgrade_backup_first: which upgrades take a backup first, evaluated from the role's own vars."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))

init_plugin_loader()


def backup_first(engine, old, new, option="auto"):
    loader = DataLoader()
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(loader.load_from_file(os.path.join(ROOT, "roles", "rolling_upgrade", name),
                                               trusted_as_template=True) or {})
    variables.update({"rolling_upgrade_engine": engine, "__rolling_upgrade_old_image": old,
                      "rolling_upgrade_image": new, "rolling_upgrade_backup_first": option})
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template("{{ _rolling_upgrade_backup_first | bool }}"))


@pytest.mark.parametrize("engine, old, new, option, expected", [
    ("mariadb", "dok.test/mariadb:10.11", "dok.test/mariadb:11.8", "auto", True),
    ("mariadb", "mariadb:11.4.2", "mariadb:11.8.3", "auto", True),
    ("mariadb", "mariadb:11.8.2", "mariadb:11.8.3", "auto", False),
    ("mariadb", "mariadb:11.8", "mariadb:latest", "auto", True),
    ("mariadb", "mariadb:11.8", "mariadb@sha256:" + "a" * 64, "auto", True),
    ("mysql", "mysql:8.0.36", "mysql:8.4.0", "auto", True),
    ("mariadb", "mariadb:11.8.2", "mariadb:11.8.3", True, True),
    ("mariadb", "mariadb:11.8.2", "mariadb:11.8.3", "true", True),
    ("mariadb", "dok.test/mariadb:10.11", "dok.test/mariadb:11.8", False, False),
    ("cockroachdb", "cockroachdb/cockroach:v23.1.11", "cockroachdb/cockroach:v23.2.4", "auto", False),
    ("cassandra", "cassandra:4.1.5", "cassandra:5.0.9", True, False),
])
def test_which_upgrades_take_a_backup_first(engine, old, new, option, expected):
    assert backup_first(engine, old, new, option) is expected
