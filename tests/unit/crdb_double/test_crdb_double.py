# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CockroachDB/KaiwuDB CLI test double must print what the real CLIs print (fixtures name their source)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import importlib.util
import io
import os
from datetime import datetime, timezone

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "cockroachdb")

_spec = importlib.util.spec_from_file_location(
    "crdb_double", os.path.join(ROOT, "tests", "images", "crdb-double", "crdb_double.py"))
cd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cd)

NOW = 1_700_000_000.0


def fixture(name):
    """Recorded output: cockroachdb/<name> (sources in SOURCES.yml) or cockroachdb/double/<name> (source in its
    '# ' header lines, stripped here)."""
    with open(os.path.join(FIXTURES, name)) as f:
        lines = f.read().splitlines(True)
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "".join(lines)


def csv_table(text):
    rows = list(csv.reader(io.StringIO(text.split("\n\n")[0])))
    return rows[0], [[None if v == "NULL" else v for v in r] for r in rows[1:]]


def ascii_table(text):
    lines = [line for line in text.splitlines() if line and not line.startswith("(")]
    header = [c.strip() for c in lines[0].split("|")]
    rows = [[c.strip() for c in line.split("|")] for line in lines[2:] if "|" in line]
    return header, rows


def epoch(ts):
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in ts else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(ts, fmt).replace(tzinfo=timezone.utc).timestamp()


def cfg(**over):
    c = {"liveness_timeout": 6.0, "decommission_rate": 10.0, "replicas": 30, "gossip_interval": 1.0}
    c.update(over)
    return c


def state_with(nodes, **extra):
    """nodes: {id: dict(alive, membership, replicas, draining, address, build, started_at, hb)}"""
    st = cd.new_state()
    st["cluster_id"] = "c1"
    for nid, n in nodes.items():
        hb = n.get("hb", NOW - (1 if n.get("alive", True) else 60))
        rec = {"hb": hb,
               "desc": {"v": {"address": n.get("address", "db-%d:26257" % nid), "build": n.get("build", "v23.1.11"),
                              "started_at": n.get("started_at", NOW - 100), "locality": ""}, "ts": 1},
               "membership": {"v": n.get("membership", "active"), "ts": 1},
               "draining": {"v": n.get("draining", False), "ts": 1}}
        if "replicas" in n:
            rec["replicas"] = {"v": float(n["replicas"]), "ts": 1}
        st["nodes"][str(nid)] = rec
    st.update(extra)
    return st


class FakeServer:
    """Routes CLI requests to the request handler of an in-process node (no sockets)."""

    def __init__(self, tmp_path, state, config=None, flavour="cockroach"):
        info = {"flavour": flavour, "version": "v23.1.11"}
        self.node = cd.Node({"insecure": "true", "store": str(tmp_path / "store")}, info, config or cfg())
        self.node.state = state
        self.node.node_id = 1
        self.node.cluster_id = state.get("cluster_id")
        self.node.gossip_all = lambda: None
        self.node.clock = lambda: NOW

    def __call__(self, payload):
        return self.node.handle(payload)


def run_cli(server, flavour, opts, method, *args):
    out, err = io.StringIO(), io.StringIO()
    base = {"_statements": []}
    base.update(opts)
    cli = cd.Cli("cockroach", {"flavour": flavour, "version": "v23.1.11"}, base, transport=server, out=out, err=err,
                 sleep=lambda s: None)
    getattr(cli, method)(*args)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["node_status_all_v22.1.22_decommissioned.csv", "node_status_all_v22.1.22_dead_nodes.csv",
                                  "node_decommission_v22.1.22_progress.csv"])
def test_csv_rendering_reproduces_recorded_output(name):
    text = fixture(name)
    headers, rows = csv_table(text)
    assert cd.render(headers, rows, "csv") == text


@pytest.mark.parametrize("name,align", [
    ("double/table_node_status_decommission_v23.1.txt", None),
    ("node_decommission_v22.2_progress.txt", "rcrccc"),
    ("double/table_node_recommission_v23.1.txt", "rcrccc"),
])
def test_table_rendering_reproduces_recorded_output(name, align):
    text = fixture(name)
    headers, rows = ascii_table(text)
    assert cd.render(headers, rows, "table", align or cd.type_align(headers)) == text


def test_timestamps_drop_trailing_zeros_like_the_recordings():
    seen = []
    for name in ("node_status_all_v22.1.22_decommissioned.csv", "node_status_all_v22.1.22_dead_nodes.csv"):
        headers, rows = csv_table(fixture(name))
        for row in rows:
            for col in ("started_at", "updated_at"):
                ts = row[headers.index(col)]
                if ts is not None:
                    seen.append(ts)
                    assert cd.fmt_ts(epoch(ts)) == ts
    assert "2025-05-30 21:10:30.00501" in seen and "2026-03-17 00:49:12.67174" in seen
    assert cd.fmt_ts(epoch("2022-09-01 02:11:55")) == "2022-09-01 02:11:55"


def test_status_headers_match_the_recorded_cockroach_header():
    headers, _rows = csv_table(fixture("node_status_all_v22.1.22_decommissioned.csv"))
    got, _rows = cd.status_rows(state_with({1: {}}), NOW, cfg(), "cockroach", True, True, True)
    assert got == headers
    table_headers, _rows = ascii_table(fixture("double/table_node_status_decommission_v23.1.txt"))
    got, _rows = cd.status_rows(state_with({1: {}}), NOW, cfg(), "cockroach", show_decommission=True)
    assert got == table_headers


def test_kwbase_headers_follow_the_kwdb_sources():
    # KWDB/KWDB kwbase/pkg/cli/node.go: baseNodeColumnHeaders (+ start_mode), decommission columns without membership
    got, _rows = cd.status_rows(state_with({1: {}}), NOW, cfg(), "kwbase", show_decommission=True)
    assert got == ["id", "address", "sql_address", "build", "started_at", "updated_at", "locality", "start_mode",
                   "is_available", "is_live", "gossiped_replicas", "is_decommissioning", "is_draining"]
    assert cd.FLAVOURS["kwbase"]["decommission"] == ["id", "is_live", "replicas", "is_decommissioning", "is_draining"]


def test_decommissioned_and_gone_nodes_have_the_recorded_null_pattern():
    headers, rows = csv_table(fixture("node_status_all_v22.1.22_decommissioned.csv"))
    recorded = {r[0]: r for r in rows}
    st = state_with({1: {}, 2: {}, 3: {"alive": False, "membership": "decommissioned"},
                     4: {"alive": False, "membership": "decommissioned"}, 6: {}})
    _headers, got = cd.status_rows(st, NOW, cfg(), "cockroach", True, True, True)
    by_id = {str(r[0]): r for r in got}
    assert sorted(by_id) == sorted(recorded)
    for nid in recorded:
        for i, col in enumerate(headers):
            assert (recorded[nid][i] is None) == (by_id[nid][i] is None), (nid, col)
            if col in ("is_available", "is_live", "is_decommissioning", "membership", "is_draining", "locality"):
                assert recorded[nid][i] == by_id[nid][i], (nid, col)


def test_a_dead_node_keeps_its_address_and_reports_no_gossiped_replicas():
    headers, rows = csv_table(fixture("node_status_all_v22.1.22_dead_nodes.csv"))
    node8 = dict(zip(headers, [r for r in rows if r[0] == "8"][0]))
    st = state_with({1: {}, 2: {}, 3: {"alive": False}})
    _headers, got = cd.status_rows(st, NOW, cfg(), "cockroach", True, True, True)
    dead = dict(zip(headers, got[2]))
    for col in ("is_available", "is_live", "gossiped_replicas", "is_decommissioning", "membership", "is_draining"):
        assert str(dead[col]) == node8[col], col
    assert dead["address"] == "db-3:26257"
    live = dict(zip(headers, got[0]))
    assert live["ranges_underreplicated"] > 0 and live["ranges_unavailable"] == 0


def test_plain_status_hides_decommissioned_nodes_that_are_gone():
    st = state_with({1: {}, 2: {"alive": False, "membership": "decommissioned"}})
    _headers, rows = cd.status_rows(st, NOW, cfg(), "cockroach")
    assert [r[0] for r in rows] == [1]
    with pytest.raises(cd.DoubleError, match="node 7 doesn't exist"):
        cd.status_rows(st, NOW, cfg(), "cockroach", node_id=7)


def test_decommission_rerun_on_a_finished_node_prints_the_recorded_output(tmp_path):
    st = state_with({1: {}, 6: {"alive": False, "membership": "decommissioned"}})
    out, err = run_cli(FakeServer(tmp_path, st), "cockroach", {"format": "csv"}, "decommission", ["6"], "none")
    assert out == fixture("node_decommission_v22.1.22_done.csv")
    assert "warning: node 6 is already decommissioning or decommissioned" in err


def test_decommission_in_progress_prints_the_recorded_csv(tmp_path):
    st = state_with({1: {}, 6: {"membership": "decommissioning", "replicas": 24}})
    out, _err = run_cli(FakeServer(tmp_path, st), "cockroach", {"format": "csv"}, "decommission", ["6"], "none")
    assert out == fixture("node_decommission_v22.1.22_progress.csv")


def test_decommission_tables_match_the_recorded_progress_and_confirmation(tmp_path):
    st = state_with({1: {}, 4: {"membership": "decommissioning", "replicas": 39, "draining": True},
                     5: {"membership": "decommissioning", "replicas": 34, "draining": True}})
    server = FakeServer(tmp_path, st)
    out, _err = run_cli(server, "cockroach", {"format": "table"}, "decommission", ["4", "5"], "none")
    assert out == fixture("node_decommission_v22.2_progress.txt")
    for nid in ("4", "5"):
        st["nodes"][nid]["replicas"] = {"v": 0.0, "ts": 2}
    out, _err = run_cli(server, "cockroach", {"format": "table"}, "decommission", ["4", "5"], "none")
    assert out == fixture("node_decommission_v22.2_done.txt")
    assert cd.node_view(st, 4, NOW, cfg())["membership"] == "decommissioned"


def test_decommissioning_a_dead_node_finishes_at_once_like_the_recording(tmp_path):
    st = state_with({1: {"alive": False, "draining": True}, 2: {}, 3: {}, 4: {}})
    out, _err = run_cli(FakeServer(tmp_path, st), "cockroach", {"format": "table"}, "decommission", ["1"], "none")
    assert out == fixture("node_decommission_v22.2_dead_node.txt")


def test_wait_all_polls_until_the_replicas_are_gone(tmp_path):
    st = state_with({1: {}, 2: {}, 3: {}, 4: {}})
    server = FakeServer(tmp_path, st, cfg(replicas=20))
    polls = []

    def move(_seconds):
        polls.append(1)
        server.node.maintain(NOW, 1.0)

    server.node.leader = lambda now: 1
    out, err = io.StringIO(), io.StringIO()
    cli = cd.Cli("cockroach", {"flavour": "cockroach", "version": "v23.1.11"}, {"_statements": [], "format": "csv"},
                 transport=server, out=out, err=err, sleep=move)
    cli.decommission(["4"], "all")
    assert out.getvalue().endswith(cd.DECOMMISSION_DONE)
    assert len(polls) == 2
    assert "4,true,20,true,decommissioning,false" in out.getvalue()
    assert "4,true,10,true,decommissioning,false" in out.getvalue()


def test_recommission_matches_the_recording_and_refuses_a_decommissioned_node(tmp_path):
    st = state_with({1: {"alive": False, "membership": "decommissioning", "replicas": 73, "draining": True},
                     2: {"membership": "decommissioned", "alive": False}, 3: {}})
    server = FakeServer(tmp_path, st, cfg(replicas=73))
    out, _err = run_cli(server, "cockroach", {"format": "table"}, "recommission", ["1"])
    assert out == fixture("double/table_node_recommission_v23.1.txt")
    with pytest.raises(cd.DoubleError, match="can only recommission a decommissioning node; n2 found to be "
                                             "decommissioned"):
        run_cli(server, "cockroach", {"format": "table"}, "recommission", ["2"])


def test_kwbase_decommission_ends_without_a_decommissioned_state(tmp_path):
    st = state_with({1: {}, 4: {"membership": "decommissioning", "replicas": 0}})
    out, _err = run_cli(FakeServer(tmp_path, st, flavour="kwbase"), "kwbase", {"format": "csv"}, "decommission",
                        ["4"], "none")
    assert out == "id,is_live,replicas,is_decommissioning,is_draining\n4,true,0,true,false\n" + cd.DECOMMISSION_DONE
    assert st["nodes"]["4"]["membership"]["v"] == "decommissioning"


def test_drain_prints_the_recorded_progress_and_makes_the_node_unready(tmp_path):
    st = state_with({1: {}, 2: {}})
    server = FakeServer(tmp_path, st, cfg(replicas=150))
    out, err = run_cli(server, "cockroach", {}, "drain", ["1"])
    assert err + out == fixture("double/node_drain_v23.1.txt")
    assert server.node.ready() is False


def test_init_once_then_the_recorded_error(tmp_path):
    node = cd.Node({"insecure": "true", "store": str(tmp_path / "s")}, {"flavour": "cockroach", "version": "v23.2.4"}, cfg())
    out, _err = run_cli(node.handle, "cockroach", {}, "init")
    assert out == "Cluster successfully initialized\n"
    assert node.node_id == 1 and cd.setting(node.state, "version") == "23.2"
    with pytest.raises(cd.DoubleError) as e:
        run_cli(node.handle, "cockroach", {}, "init")
    assert "ERROR: %s\n" % e.value.msg == fixture("double/init_already_initialized.txt")


def test_join_hands_out_distinct_ids_and_a_restart_keeps_its_id(tmp_path):
    seed = cd.Node({"insecure": "true", "store": str(tmp_path / "a")}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    seed.op_init()
    ids = [seed.handle({"op": "join", "address": "db-%d:26257" % i})["node_id"] for i in (1, 2, 3)]
    assert ids == [2, 3, 4]
    seed.save()
    again = cd.Node({"insecure": "true", "store": str(tmp_path / "a")}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    assert again.node_id == 1 and again.state["next_id"] == 5


def test_a_retried_join_gets_the_id_it_was_given_not_a_new_one(tmp_path):
    seed = cd.Node({"insecure": "true", "store": str(tmp_path / "a")}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    seed.op_init()
    first = seed.handle({"op": "join", "address": "db-1:26257", "token": "t-1"})
    retry = seed.handle({"op": "join", "address": "db-1:26257", "token": "t-1"})
    other = seed.handle({"op": "join", "address": "db-2:26257", "token": "t-2"})
    assert (first["node_id"], retry["node_id"], other["node_id"]) == (2, 2, 3)
    assert sorted(seed.state["nodes"], key=int) == ["1", "2", "3"]
    peer = cd.Node({"insecure": "true", "store": str(tmp_path / "b")}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    cd.merge_state(peer.state, seed.snapshot())
    assert peer.state["nodes"]["3"]["join"] == "t-2"


def test_a_node_decommissioned_before_it_started_refuses_to_rejoin(tmp_path, monkeypatch):
    node = cd.Node({"insecure": "true", "store": str(tmp_path / "a")}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    node.op_init()
    node.state["nodes"]["1"]["membership"] = {"v": "decommissioned", "ts": node.started_at - 10}

    def boom(code):
        raise SystemExit(code)

    monkeypatch.setattr(cd.os, "_exit", boom)
    with pytest.raises(SystemExit):
        node.refuse_if_removed()
    node.state["nodes"]["1"]["membership"] = {"v": "decommissioned", "ts": node.started_at + 10}
    node.refuse_if_removed()


def test_gossip_merge_is_last_writer_wins_and_converges():
    a = state_with({1: {}, 2: {}})
    b = state_with({1: {}, 2: {}})
    b["nodes"]["2"]["membership"] = {"v": "decommissioning", "ts": 5}
    b["settings"]["cluster.preserve_downgrade_option"] = {"v": "23.1", "ts": 5}
    a["rows"]["d.t"] = {"1": {"v": ["1", "x"], "ts": 3}}
    b["rows"]["d.t"] = {"1": {"v": ["1", "y"], "ts": 4}}
    assert cd.merge_state(a, b) is True
    assert cd.merge_state(b, a) is False
    assert a == b
    assert a["nodes"]["2"]["membership"]["v"] == "decommissioning" and a["rows"]["d.t"]["1"]["v"] == ["1", "y"]
    assert cd.merge_state(a, b) is False
    other = state_with({1: {}}, cluster_id="other")
    assert cd.merge_state(a, other) is False


def test_leader_moves_replicas_off_and_finalizes_only_without_preserve_downgrade(tmp_path):
    st = state_with({1: {"build": "v23.2.4"}, 2: {"build": "v23.2.4"}, 3: {"build": "v23.1.11"},
                     4: {"build": "v23.2.4", "membership": "decommissioning", "replicas": 100}})
    st["settings"]["version"] = {"v": "23.1", "ts": 1}
    st["settings"]["cluster.preserve_downgrade_option"] = {"v": "23.1", "ts": 1}
    node = FakeServer(tmp_path, st, cfg(decommission_rate=10)).node
    node.maintain(NOW, 1.0)
    assert cd.node_view(st, 4, NOW, cfg())["replicas"] == 90
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.1"
    st["nodes"]["3"]["desc"]["v"]["build"] = "v23.2.4"
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.1"
    cd.execute_sql(st, "RESET CLUSTER SETTING cluster.preserve_downgrade_option", "defaultdb", NOW, 1)
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.2"
    assert cd.node_view(st, 4, NOW, cfg())["replicas"] == 60
    cd.execute_sql(st, "SET CLUSTER SETTING crdb_double.decommission_rate = 0", "defaultdb", NOW, 1)
    node.maintain(NOW, 5.0)
    assert cd.node_view(st, 4, NOW, cfg())["replicas"] == 60
    node.leader = lambda now: 2
    cd.execute_sql(st, "SET CLUSTER SETTING crdb_double.decommission_rate = 10", "defaultdb", NOW, 1)
    node.maintain(NOW, 1.0)
    assert cd.node_view(st, 4, NOW, cfg())["replicas"] == 60


@pytest.mark.parametrize("flavour", ["cockroach", "kwbase"])
def test_finalizing_skips_removed_nodes_and_waits_for_dead_active_ones(tmp_path, flavour):
    """As the real auto-upgrade: a node that left (decommissioning or decommissioned, and no longer live: liveness
    status DECOMMISSIONED) no longer counts, whatever it ran; a live decommissioning node does; a dead node that is
    still a member blocks the finalization (KaiwuDB has no decommissioned state, so its removed nodes stay
    decommissioning for ever)."""
    st = state_with({1: {"build": "v23.2.4"}, 2: {"build": "v23.2.4"}, 3: {"build": "v23.2.4"},
                     4: {"build": "v23.1.11", "membership": "decommissioning", "replicas": 0, "alive": False}})
    st["settings"]["version"] = {"v": "23.1", "ts": 1}
    node = FakeServer(tmp_path, st, cfg(), flavour).node
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.2"
    st["settings"]["version"] = {"v": "23.1", "ts": 2}
    st["nodes"]["4"]["hb"] = NOW - 1
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.1"
    st["nodes"]["4"]["membership"] = {"v": "decommissioned", "ts": 3}
    st["nodes"]["3"]["hb"] = NOW - 60
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.1"
    st["nodes"]["3"]["hb"] = NOW - 1
    node.maintain(NOW, 1.0)
    assert cd.setting(st, "version") == "23.2"


def test_sql_subset_and_errors():
    st = cd.new_state()
    st["databases"]["defaultdb"] = 1

    def run(sql, db="defaultdb"):
        return cd.execute_sql(st, sql, db, NOW, 1)

    assert run("CREATE DATABASE IF NOT EXISTS smoke") == {"tag": "CREATE DATABASE"}
    assert run("CREATE TABLE IF NOT EXISTS smoke.kv (k INT PRIMARY KEY, v STRING)") == {"tag": "CREATE TABLE"}
    assert run("CREATE TABLE IF NOT EXISTS smoke.kv (k INT PRIMARY KEY, v STRING)") == {"tag": "CREATE TABLE"}
    assert run("UPSERT INTO smoke.kv (k, v) VALUES (2, 'b'), (1, 'it''s')") == {"tag": "INSERT 0 2"}
    assert run("UPSERT INTO smoke.kv (k, v) VALUES (2, 'B')") == {"tag": "INSERT 0 1"}
    res = run("SELECT k, v FROM smoke.kv ORDER BY k")
    assert res["rows"] == [["1", "it's"], ["2", "B"]]
    assert cd.render(res["columns"], res["rows"], "csv") == "k,v\n1,it's\n2,B\n"
    assert run("SELECT count(*) FROM smoke.kv")["rows"] == [["2"]]
    assert run("SELECT v FROM smoke.kv WHERE k = 1")["rows"] == [["it's"]]
    with pytest.raises(cd.DoubleError) as e:
        run("INSERT INTO smoke.kv VALUES (1, 'x')")
    assert e.value.msg == 'duplicate key value violates unique constraint "kv_pkey"'
    assert run("INSERT INTO smoke.kv VALUES (1, 'x') ON CONFLICT (k) DO NOTHING") == {"tag": "INSERT 0 0"}
    with pytest.raises(cd.DoubleError, match='relation "nope" does not exist'):
        run("SELECT * FROM smoke.nope")
    assert run("SET CLUSTER SETTING cluster.preserve_downgrade_option = '23.1'") == {"tag": "SET CLUSTER SETTING"}
    res = run("SHOW CLUSTER SETTING cluster.preserve_downgrade_option")
    assert cd.render(res["columns"], res["rows"], "csv") == "cluster.preserve_downgrade_option\n23.1\n"
    assert run("DELETE FROM smoke.kv WHERE k = 2") == {"tag": "DELETE 1"}
    assert run("CREATE TABLE dok (id STRING PRIMARY KEY, v STRING)") == {"tag": "CREATE TABLE"}
    insert = "INSERT INTO dok VALUES ('a1', 'x') ON CONFLICT DO NOTHING RETURNING concat('inserted=', id)"
    res = run(insert)
    assert cd.render(res["columns"], res["rows"], "csv") == "concat\ninserted=a1\n"
    assert run(insert)["rows"] == []
    with pytest.raises(cd.DoubleError, match="not implemented by this test double"):
        run("ALTER TABLE smoke.kv ADD COLUMN z INT")


def test_main_reports_errors_like_the_real_cli(capsys, monkeypatch):
    rc = cd.main(["--program", "cockroach", "node", "status", "--insecure", "--host=127.0.0.1:1"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("ERROR: cannot dial server.") and err.endswith(
        "\n\ndial tcp 127.0.0.1:1: connect: connection refused\nFailed running \"node status\"\n")

    def no_such_host(*args, **kwargs):
        raise cd.socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(cd.socket, "create_connection", no_such_host)
    assert cd.main(["--program", "cockroach", "sql", "--url", "postgresql://u@gcp-us-east4.crdb.io:26257/db?sslmode=disable",
                    "-e", "SELECT 1"]) == 1
    assert capsys.readouterr().err == fixture("error_cannot_dial_no_such_host.txt")


def test_version_is_labelled_as_a_test_double(capsys, monkeypatch):
    monkeypatch.setenv("CRDB_DOUBLE_VERSION", "v23.2.4")
    assert cd.main(["--program", "cockroach", "version"]) == 0
    out = capsys.readouterr().out
    assert "Build Tag:        v23.2.4\n" in out and "TEST DOUBLE" in out and "not CockroachDB" in out
    assert cd.main(["--program", "kwbase", "version", "--build-tag"]) == 0
    assert capsys.readouterr().out == "v23.2.4\n"


def test_argument_parsing_accepts_the_statefulset_command_line():
    opts, args = cd.parse_args(["start", "--logtostderr", "--insecure", "--advertise-host", "db-0.db.ns",
                                "--http-addr", "0.0.0.0", "--join", "db-0.db:26257,db-1.db:26257", "--cache", ".25",
                                "--max-sql-memory=.25", "-e", "SELECT 1", "--execute=SELECT 2"])
    assert args == ["start"]
    assert opts["advertise-host"] == "db-0.db.ns" and opts["cache"] == ".25" and opts["insecure"] == "true"
    assert opts["_statements"] == ["SELECT 1", "SELECT 2"]
    assert cd.target_address({"url": "postgresql://root@db-public:26257/defaultdb?sslmode=disable"}) == \
        "db-public:26257"
    assert cd.store_path("path=/cockroach/cockroach-data,size=1GiB", "x") == "/cockroach/cockroach-data"


def test_peers_skip_the_node_itself_and_prefer_advertised_addresses(tmp_path):
    node = cd.Node({"insecure": "true", "store": str(tmp_path / "s"), "advertise-addr": "db-2.db.ns.svc.cluster.local:26257",
                    "join": "db-0.db,db-1.db,db-2.db"}, {"flavour": "cockroach", "version": "v23.1.11"}, cfg())
    assert node.peers() == ["db-0.db", "db-1.db"]
    node.state = state_with({1: {"address": "db-0.db.ns.svc.cluster.local:26257"},
                             3: {"address": "db-2.db.ns.svc.cluster.local:26257"}})
    assert node.peers() == ["db-0.db.ns.svc.cluster.local:26257"]
