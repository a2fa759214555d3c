"""Cassandra adapter on recorded nodetool output (and every file recorded from Cassandra 5.0 in live/)."""
import os

import pytest

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.cassandra import (
    CassandraAdapter, parse_df, parse_info, parse_mode, parse_ring, parse_sent_bytes, parse_size, to_bytes,
)
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, ParseError

from engine_fixtures import fixture_names, load

CASS = CassandraAdapter({})
STATUS = fixture_names("cassandra", "status")
LIVE = fixture_names("cassandra", folder="live")


@pytest.mark.parametrize("name,expected", [
    ("status_seed003_k8s_dc1_3nodes.txt", [("DC1-K8Demo", "10.4.2.4", 66826, 63.7, "Rack1-K8Demo", True)] * 1),
    ("status_3x_ds201_single.txt", [("datacenter1", "172.17.0.2", 314132, 100.0, "rack1", True)]),
    ("status_dn_axway.txt", [("datacenter1", "10.142.58.95", 7612662, 100.0, "rack1", False)]),
    ("status_dn_datastax_removenode.txt", [("DC1", "192.168.2.101", 115528, 31.7, "RAC1", True)]),
])
def test_first_ring_row(name, expected):
    node = CASS.parse_status(load("cassandra", name))[0]
    assert [(node["datacenter"], node["address"], node["load"], node["owns"], node["rack"], node["is_live"])] == expected


@pytest.mark.parametrize("name,nodes,down", [
    ("status_seed003_k8s_dc1_3nodes.txt", 3, 0),
    ("status_seed003_datacenter1_2nodes.txt", 2, 0),
    ("status_seed003_datacenter1_4nodes.txt", 4, 0),
    ("status_3x_ds201_single.txt", 1, 0),
    ("status_dn_axway.txt", 3, 1),
    ("status_dn_datastax_removenode.txt", 3, 1),
])
def test_ring_counts(name, nodes, down):
    parsed = CASS.parse_status(load("cassandra", name))
    summary = CASS.summarize(parsed)
    assert (summary["nodes"], summary["dead"], summary["live"]) == (nodes, down, nodes - down)
    assert summary["healthy"] is (down == 0)
    assert all(n["id"] and len(n["id"]) == 36 for n in parsed)


def test_down_node_reason_and_replication_factor_per_datacenter():
    nodes = CASS.parse_status(load("cassandra", "status_dn_axway.txt"))
    summary = CASS.summarize(nodes, expected_nodes=3, replication_factor=3)
    assert summary["reasons"] == [
        "1 of 3 nodes are down: 10.142.58.95.",
        "2 nodes are up where 3 are expected.",
        "Datacenter datacenter1 has 2 nodes up for a replication factor of 3.",
    ]


def test_pods_mapped_by_ip():
    pods = [{"name": "cassandra-%d" % i, "ordinal": i, "ip": ip} for i, ip in enumerate(["10.4.0.4", "10.4.1.4"])]
    nodes = CASS.parse_status(load("cassandra", "status_seed003_k8s_dc1_3nodes.txt"), pods)
    assert [(n["address"], n["pod"], n["ordinal"]) for n in nodes] == [
        ("10.4.2.4", None, None), ("10.4.0.4", "cassandra-0", 0), ("10.4.1.4", "cassandra-1", 1)]


@pytest.mark.parametrize("name", STATUS + [n for n in LIVE if "status" in os.path.basename(n)])
def test_every_recorded_status_parses(name):
    nodes = CASS.parse_status(load("cassandra", name))
    assert nodes and all(n["address"] and n["state"] in ("normal", "leaving", "joining", "moving") for n in nodes)
    assert all(n["load"] is None or n["load"] >= 0 for n in nodes)


@pytest.mark.parametrize("name", [n for n in LIVE if "netstats" in os.path.basename(n)])
def test_every_recorded_netstats_has_a_mode(name):
    assert parse_mode(load("cassandra", name)) in (
        "NORMAL", "LEAVING", "DECOMMISSIONED", "JOINING", "DRAINED", "DRAINING", "MOVING", "STARTING")


@pytest.mark.parametrize("name", [n for n in LIVE if os.path.basename(n).startswith("info")])
def test_every_recorded_info_has_a_load(name):
    assert parse_info(load("cassandra", name))["load_bytes"] is not None


def test_netstats_mode():
    assert parse_mode(load("cassandra", "netstats_normal_datastax_2.2.txt")) == "NORMAL"
    assert parse_sent_bytes(load("cassandra", "netstats_normal_datastax_2.2.txt")) == 0


def test_info():
    info = parse_info(load("cassandra", "info_3x_ds201.txt"))
    assert info["ID"] == "ed19c671-f413-4108-b9f2-1bb62ce8975c"
    assert info["load_bytes"] == 314132 and info["Data Center"] == "datacenter1"


def test_df_available_by_header_name():
    assert parse_df(load("cassandra", "df_pk_dokc_host.txt")) == int(
        load("cassandra", "df_pk_dokc_host.txt").splitlines()[1].split()[3]) * 1024


@pytest.mark.parametrize("number,unit,expected", [
    ("65.26", "KiB", 66826), ("7.26", "MB", 7612662), ("0", "bytes", 0), ("1", "GiB", 1024 ** 3),
    ("?", None, None), ("N/A", None, None), ("1", "parsecs", None), ("x", "KiB", None),
])
def test_to_bytes(number, unit, expected):
    assert to_bytes(number, unit) == expected


def test_parse_size():
    assert (parse_size("306.77 KiB"), parse_size(""), parse_size(None)) == (314132, None, None)


@pytest.mark.parametrize("text,needle", [
    ("", "printed no ring"),
    ("Datacenter: dc1\n==========\n", "printed no ring"),
    ("Datacenter: dc1\n--  Address  Load  Tokens  Owns  Host ID  Rack\nUN  10.0.0.1\n", "does not fit its header"),
])
def test_ring_parse_errors(text, needle):
    with pytest.raises(ParseError) as err:
        parse_ring(text)
    assert needle in err.value.msg


@pytest.mark.parametrize("func,text", [(parse_mode, "Read Repair Statistics:\n"), (parse_info, "garbage"),
                                       (parse_df, "Filesystem Size Used Avail\n/dev/x 1G 1G 0\n")])
def test_other_parse_errors(func, text):
    with pytest.raises(ParseError):
        func(text)


@pytest.mark.parametrize("params,expected", [
    ({}, ["nodetool", "status"]),
    ({"host": "cassandra-1.cassandra", "port": 7199, "login_user": "jmx"},
     ["nodetool", "-h", "cassandra-1.cassandra", "-p", "7199", "-u", "jmx", "status"]),
])
def test_status_argv(params, expected):
    calls = []

    def run(pod, argv, timeout=None):
        calls.append(argv)
        return CommandResult(0, load("cassandra", "status_3x_ds201_single.txt"), "")
    CassandraAdapter(params).status(run, "cassandra-0")
    assert calls == [expected]


def test_password_read_from_env_inside_the_pod():
    argv = CassandraAdapter({"login_user": "jmx", "login_password_env": "JMX_PASSWORD", "login_password": "pw"}
                            ).nodetool("status")
    assert argv[:2] == ["sh", "-c"] and '-pw "$JMX_PASSWORD"' in argv[2] and "pw" not in argv[4:]
    assert argv[4:] == ["nodetool", "-u", "jmx", "status"]


def test_status_failure_raises_with_hint():
    text = load("cassandra", "error_nodetool_status_connection_refused.txt")
    with pytest.raises(CommandError) as err:
        CASS.status(lambda pod, argv, timeout=None: CommandResult(1, "", text), "cassandra-0")
    assert "not accepting connections" in err.value.msg and "cassandra-0" in err.value.msg


@pytest.mark.parametrize("name,nodes,down,states", [
    ("live/status_5.0.9_3nodes_all_un.txt", 3, 0, {"normal"}),
    ("live/status_5.0.9_one_dn.txt", 3, 1, {"normal"}),
    ("live/status_5.0.9_joining.txt", 2, 0, {"normal", "joining"}),
])
def test_cassandra_5_ring_recorded_on_the_cluster(name, nodes, down, states):
    parsed = CASS.parse_status(load("cassandra", name))
    summary = CASS.summarize(parsed, expected_nodes=3, replication_factor=3)
    assert (summary["nodes"], summary["dead"]) == (nodes, down)
    assert set(n["state"] for n in parsed) == states
    assert summary["healthy"] is (name.endswith("all_un.txt"))
    assert all(n["datacenter"] == "dc1" and n["rack"] == "rack1" for n in parsed)


def test_cassandra_5_joining_mode_recorded_on_the_cluster():
    assert parse_mode(load("cassandra", "live/netstats_5.0.9_joining.txt")) == "JOINING"


def test_status_on_the_cql_port_says_nodetool_needs_jmx():
    text = load("cassandra", "live/error_nodetool_cql_port_5.0.9.txt").split("\n", 1)[1]
    adapter = CassandraAdapter({"port": 9042})
    with pytest.raises(CommandError) as err:
        adapter.status(lambda pod, argv, timeout=None: CommandResult(1, "", text), "cassandra-0")
    assert "-p 9042" in " ".join(err.value.details["command"])
    assert "JMX" in err.value.msg and "7199" in err.value.msg and "9042" in err.value.msg


def test_status_refused_on_the_jmx_port_keeps_the_generic_hint():
    text = load("cassandra", "error_nodetool_status_connection_refused.txt")
    with pytest.raises(CommandError) as err:
        CASS.status(lambda pod, argv, timeout=None: CommandResult(1, "", text), "cassandra-0")
    assert "JMX" not in err.value.msg


def unknown_state_ring(first, second):
    ring = load("cassandra", "status_seed003_k8s_dc1_3nodes.txt").splitlines()
    rows = [i for i, line in enumerate(ring) if line.startswith("UN ")]
    ring[rows[1]] = first + ring[rows[1]][2:]
    ring[rows[2]] = second + ring[rows[2]][2:]
    return "\n".join(ring) + "\n"


@pytest.mark.parametrize("first,second,codes", [("?N", "?N", "?N"), ("UX", "DN", "UX"), ("U?", "?L", "?L, U?")])
def test_rows_of_an_undocumented_state_are_kept_as_nodes_of_unknown_state(first, second, codes):
    nodes = CASS.parse_status(unknown_state_ring(first, second))
    assert len(nodes) == 3 and [n["status_code"] for n in nodes] == ["UN", first, second]
    summary = CASS.summarize(nodes, expected_nodes=3, replication_factor=3)
    assert summary["healthy"] is False and summary["nodes"] == 3 and summary["live"] < 3
    assert any(codes in reason for reason in summary["reasons"])
    unknown = [n for n in nodes if n["status_code"] == "?N"]
    assert all(n["is_live"] is None and n["membership"] != "decommissioned" for n in unknown)


def test_a_line_inside_the_ring_that_is_no_node_row_is_refused():
    text = load("cassandra", "status_seed003_k8s_dc1_3nodes.txt").replace(
        "UN 10.4.0.4", "WARN: 10.4.0.4 unreachable\nUN 10.4.0.4")
    with pytest.raises(ParseError) as err:
        parse_ring(text)
    assert "WARN: 10.4.0.4 unreachable" in err.value.msg


def test_login_failure_gets_the_authentication_hint():
    stderr = ("nodetool: Failed to connect to '127.0.0.1:7199' - FailedLoginException: 'Invalid username or "
              "password'.\n")

    def run(pod, argv, timeout=None):
        return CommandResult(1, "", stderr)
    with pytest.raises(CommandError) as err:
        CASS.status(run, "cassandra-0")
    assert "Authentication failed" in err.value.msg and "not accepting connections" not in err.value.msg
    plain = "nodetool: Failed to connect to '127.0.0.1:7199' - FailedLoginException: 'Authentication timed out'.\n"
    with pytest.raises(CommandError) as err:
        CASS.status(lambda pod, argv, timeout=None: CommandResult(1, "", plain), "cassandra-0")
    assert "Authentication failed" in err.value.msg
