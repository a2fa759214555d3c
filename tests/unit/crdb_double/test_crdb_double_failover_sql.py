# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQL the failover_test role sends to CockroachDB: a composite primary key and COUNT(*)/SUM() aggregates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import io
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

_spec = importlib.util.spec_from_file_location(
    "crdb_double", os.path.join(ROOT, "tests", "images", "crdb-double", "crdb_double.py"))
cd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cd)

NOW = 1_700_000_000.0

# The statements of roles/failover_test (vars/main.yml, tasks/write_rows.yml, verify_rows.yml, report.yml) after
# YAML folding, for failover_test_database=dok_failover, failover_test_table=probe_rows.
SETUP = ("CREATE DATABASE IF NOT EXISTS dok_failover; CREATE TABLE IF NOT EXISTS dok_failover.probe_rows "
         "(run VARCHAR(64) NOT NULL, id INT NOT NULL, v VARCHAR(64), PRIMARY KEY (run, id));")


def insert(run, ids):
    return "INSERT INTO dok_failover.probe_rows (run, id, v) VALUES " + ", ".join(
        "('%s', %d, 'row-%d')" % (run, i, i) for i in ids) + ";"


def count_sum(run):
    return "SELECT COUNT(*), SUM(id) FROM dok_failover.probe_rows WHERE run = '%s';" % run


def sql_cli(state, text, fmt="tsv"):
    """Run `cockroach sql -e <text> --format=<fmt>` against `state` through the double's client code."""
    out = io.StringIO()

    def transport(payload):
        results = []
        for stmt in payload["statements"]:
            try:
                results.append(cd.execute_sql(state, stmt, payload.get("database") or "defaultdb", NOW, 1))
            except cd.DoubleError as e:
                results.append({"error": e.msg, "extra": e.extra})
                break
        return {"results": results}

    opts, _args = cd.parse_args(["sql", "--host=localhost:26257", "--user=root", "--insecure", "--format=" + fmt,
                                 "-e", text])
    cd.Cli("cockroach", {"flavour": "cockroach", "version": "v23.1.11"}, opts, transport=transport, out=out).sql()
    return out.getvalue()


def state():
    st = cd.new_state()
    st["databases"]["defaultdb"] = 1
    return st


def test_the_role_setup_creates_a_table_keyed_by_run_and_id():
    st = state()
    assert sql_cli(st, SETUP) == "CREATE DATABASE\nCREATE TABLE\n"
    assert sql_cli(st, SETUP) == "CREATE DATABASE\nCREATE TABLE\n"
    table = st["tables"]["dok_failover.probe_rows"]
    assert [c[0] for c in table["columns"]] == ["run", "id", "v"]
    assert table["pk_columns"] == [0, 1]


def test_rows_of_two_runs_with_the_same_ids_are_distinct_and_a_repeated_key_is_refused():
    st = state()
    sql_cli(st, SETUP)
    assert sql_cli(st, insert("r1", range(1, 201))) == "INSERT 0 200\n"
    assert sql_cli(st, insert("r2", range(1, 4))) == "INSERT 0 3\n"
    assert sql_cli(st, "SELECT count(*) FROM dok_failover.probe_rows") == "count\n203\n"
    with pytest.raises(cd.DoubleError) as e:
        sql_cli(st, insert("r2", [3]))
    assert e.value.msg == 'duplicate key value violates unique constraint "probe_rows_pkey"'
    assert e.value.extra == ["SQLSTATE: 23505", "DETAIL: Key (run, id)=('r2', 3) already exists."]
    res = cd.execute_sql(st, "SELECT id, v FROM dok_failover.probe_rows WHERE run = 'r2'", "defaultdb", NOW, 1)
    assert res["rows"] == [["1", "row-1"], ["2", "row-2"], ["3", "row-3"]]


def test_count_and_sum_of_a_run_match_what_the_role_verifies():
    st = state()
    sql_cli(st, SETUP)
    sql_cli(st, insert("r1", range(1, 201)))
    sql_cli(st, insert("r1", range(201, 301)))
    out = sql_cli(st, count_sum("r1"))
    assert out == "count\tsum\n300\t45150\n"
    # The role's check (tasks/verify_rows.yml) on that output.
    assert re.search(r"(^|\D)300\D+45150(\D|$)", out)


def test_aggregates_over_no_rows_count_zero_and_sum_null():
    st = state()
    sql_cli(st, SETUP)
    assert sql_cli(st, count_sum("none")) == "count\tsum\n0\tNULL\n"
    sql_cli(st, insert("r1", [1, 2]))
    assert sql_cli(st, "DELETE FROM dok_failover.probe_rows WHERE run = 'r1';") == "DELETE 2\n"
    assert sql_cli(st, count_sum("r1")) == "count\tsum\n0\tNULL\n"


def test_sum_of_a_text_column_fails_like_the_real_sql():
    st = state()
    sql_cli(st, SETUP)
    with pytest.raises(cd.DoubleError, match=r"unknown signature: sum\(string\)"):
        sql_cli(st, "SELECT SUM(v) FROM dok_failover.probe_rows")
    with pytest.raises(cd.DoubleError, match='column "nope" does not exist'):
        sql_cli(st, "SELECT COUNT(*), SUM(nope) FROM dok_failover.probe_rows")


def test_single_column_keys_are_unchanged():
    st = state()
    cd.execute_sql(st, "CREATE TABLE kv (k INT PRIMARY KEY, v STRING)", "defaultdb", NOW, 1)
    assert st["tables"]["defaultdb.kv"]["pk"] == 0
    cd.execute_sql(st, "UPSERT INTO kv (k, v) VALUES (1, 'a'), (1, 'b')", "defaultdb", NOW, 1)
    assert cd.execute_sql(st, "SELECT v FROM kv", "defaultdb", NOW, 1)["rows"] == [["b"]]
