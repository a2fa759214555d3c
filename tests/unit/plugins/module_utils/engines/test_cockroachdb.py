"""CockroachDB and KaiwuDB adapters on recorded `node status` / `node decommission` output."""
import pytest

from ansible_collections.dok.databases.plugins.module_utils.engines import ENGINES, get_engine
from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.engines.cockroachdb import (
    CockroachDBAdapter, locality_parts, map_pod, split_host,
)
from ansible_collections.dok.databases.plugins.module_utils.engines.kaiwudb import KaiwuDBAdapter
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, ParseError, PreconditionError

from engine_fixtures import fixture_names, load

CRDB = CockroachDBAdapter({"insecure": True})
KWDB = KaiwuDBAdapter({"insecure": True})


def pods_for(ips):
    return [{"name": "crdb-%d" % i, "ordinal": i, "ready": True, "ip": ip} for i, ip in enumerate(ips)]


@pytest.mark.parametrize("name,nodes,live,dead,decommissioned,under", [
    ("node_status_all_v22.1.22_single.csv", 1, 1, 0, 0, 0),
    ("node_status_all_v22.1.22_decommissioned.csv", 5, 3, 0, 2, 0),
    ("node_status_all_v22.1.22_dead_nodes.csv", 9, 5, 4, 0, 21),
    ("node_status_decommission_v22.2_decommissioned.txt", 5, 3, 0, 2, 0),
    ("node_status_decommission_v22.2_dead_node.txt", 4, 3, 1, 0, 0),
    ("node_status_v19.2_one_dead.txt", 3, 2, 1, 0, 0),
    ("node_status_v19.2_no_quorum.txt", 3, 1, 2, 0, 0),
])
def test_status_counts(name, nodes, live, dead, decommissioned, under):
    parsed = CRDB.parse_status(load("cockroachdb", name))
    assert len(parsed) == nodes
    assert len([n for n in parsed if n["membership"] == "decommissioned"]) == decommissioned
    summary = CRDB.summarize(parsed)
    assert (summary["live"], summary["dead"], summary["ranges_underreplicated"]) == (live, dead, under)
    assert summary["nodes"] == nodes - decommissioned
    assert summary["healthy"] is (dead == 0 and under == 0 and "no_quorum" not in name)


def test_status_fields_by_header_name():
    node = CRDB.parse_status(load("cockroachdb", "node_status_all_v22.1.22_single.csv"))[0]
    assert node == dict(node, id=5, address="[fd00:1122:3344:103::3]:32221", is_live=True, is_available=True,
                        state="live", replicas=210, is_decommissioning=False, membership="active",
                        is_draining=False, version="v22.1.22-29-g865aff1595", load=3958791538,
                        ranges_underreplicated=0, ranges_unavailable=0)


def test_status_columns_in_another_order_are_read_by_name():
    text = load("cockroachdb", "node_status_all_v22.1.22_single.csv").splitlines()
    header, row = text[0].split(","), text[1].split(",")
    order = list(reversed(range(len(header))))
    shuffled = "%s\n%s\n" % (",".join(header[i] for i in order), ",".join(row[i] for i in order))
    assert CRDB.parse_status(shuffled) == CRDB.parse_status("\n".join(text) + "\n")


def test_dead_nodes_with_null_columns():
    nodes = dict((n["id"], n) for n in CRDB.parse_status(load("cockroachdb", "node_status_all_v22.1.22_dead_nodes.csv")))
    assert nodes[1]["address"] is None and nodes[1]["is_live"] is False and nodes[1]["state"] == "dead"
    assert nodes[6]["ranges_underreplicated"] == 21
    assert nodes[8]["is_live"] is False and nodes[8]["replicas"] == 0
    summary = CRDB.summarize(list(nodes.values()), expected_nodes=9, replication_factor=3)
    assert "4 of 9 nodes are not live: 1, 6, 7, 8." in summary["reasons"]
    assert "21 ranges are under-replicated." in summary["reasons"]
    assert "5 nodes are live where 9 are expected." in summary["reasons"]


def test_live_but_unavailable_is_a_reason():
    summary = CRDB.summarize(CRDB.parse_status(load("cockroachdb", "node_status_v19.2_no_quorum.txt")))
    assert any("not available" in r for r in summary["reasons"])
    assert summary["healthy"] is False


def test_locality_gives_datacenter_and_rack():
    node = CRDB.parse_status(load("cockroachdb", "node_status_v19.2_one_dead.txt"))[1]
    assert (node["datacenter"], node["rack"]) == ("us-central", "2")


def test_pods_mapped_by_ip():
    pods = pods_for(["fd00:1122:3344:101::3", "fd00:1122:3344:102::3", "fd00:1122:3344:102::21"])
    nodes = CRDB.parse_status(load("cockroachdb", "node_status_all_v22.1.22_decommissioned.csv"), pods)
    assert [(n["id"], n["pod"], n["ordinal"]) for n in nodes] == [
        (1, "crdb-0", 0), (2, "crdb-1", 1), (3, None, None), (4, None, None), (6, "crdb-2", 2)]


@pytest.mark.parametrize("address,pods,expected", [
    ("bini-3.bini.default.svc.cluster.local:26257", None, ("bini-3", 3)),
    ("bini-3.bini.default.svc.cluster.local:26257", [{"name": "bini-3", "ordinal": 3}], ("bini-3", 3)),
    ("other-3.bini.default.svc.cluster.local:26257", [{"name": "bini-3", "ordinal": 3}], (None, None)),
    ("[fd00::1]:26257", [{"name": "x-0", "ordinal": 0, "ip": "fd00::1"}], ("x-0", 0)),
    ("10.0.0.7:26257", [{"name": "x-1", "ordinal": 1, "ip": "10.0.0.7"}], ("x-1", 1)),
    ("NULL", None, (None, None)),
    (None, None, (None, None)),
])
def test_map_pod(address, pods, expected):
    assert map_pod(address, pods) == expected


@pytest.mark.parametrize("address,host", [("a:1", "a"), ("[::1]:2", "::1"), ("::1", "::1"), ("a", "a")])
def test_split_host(address, host):
    assert split_host(address) == host


@pytest.mark.parametrize("locality,expected", [
    ("region=us-east,az=1", ("us-east", "1")), ("", (None, None)), ("dc=a,rack=r1", ("a", "r1")),
])
def test_locality_parts(locality, expected):
    assert locality_parts(locality) == expected


@pytest.mark.parametrize("name", fixture_names("cockroachdb", "node_status"))
def test_every_status_fixture_parses(name):
    nodes = CRDB.parse_status(load("cockroachdb", name))
    assert nodes and all(isinstance(n["id"], int) for n in nodes)


@pytest.mark.parametrize("name,replicas,membership,done", [
    ("node_decommission_v22.1.22_progress.csv", {6: 24}, {6: "decommissioning"}, False),
    ("node_decommission_v22.1.22_done.csv", {6: 0}, {6: "decommissioned"}, True),
    ("node_decommission_v22.2_progress.txt", {4: 39, 5: 34}, {4: "decommissioning", 5: "decommissioning"}, False),
    ("node_decommission_v22.2_done.txt", {4: 0, 5: 0}, {4: "decommissioning", 5: "decommissioning"}, True),
    ("node_decommission_v22.2_dead_node.txt", {1: 0}, {1: "decommissioning"}, True),
    ("node_decommission_v22.2_wait_all.txt", {4: 0, 5: 0}, {4: "decommissioning", 5: "decommissioning"}, True),
])
def test_decommission_table(name, replicas, membership, done):
    parsed = CRDB.parse_decommission(load("cockroachdb", name))
    assert dict((k, v["replicas"]) for k, v in parsed["nodes"].items()) == replicas
    assert dict((k, v["membership"]) for k, v in parsed["nodes"].items()) == membership
    assert parsed["done"] is done


@pytest.mark.parametrize("name,replicas,done", [
    ("node_decommission_bini_progress.txt", 28, False),
    ("node_decommission_bini_done.txt", 0, True),
])
def test_kaiwudb_decommission_table_without_membership(name, replicas, done):
    parsed = KWDB.parse_decommission(load("kaiwudb", name))
    assert parsed["nodes"][4]["replicas"] == replicas
    assert parsed["nodes"][4]["membership"] == "decommissioning"
    assert parsed["done"] is done


def test_kaiwudb_status_maps_statefulset_pods():
    nodes = KWDB.parse_status(load("kaiwudb", "node_status_bini_release2.0.txt"))
    assert [(n["id"], n["pod"], n["ordinal"], n["state"]) for n in nodes] == [
        (1, "bini-0", 0, "live"), (2, "bini-2", 2, "live"), (3, "bini-1", 1, "live"), (4, "bini-3", 3, "live")]
    assert KWDB.summarize(nodes, expected_nodes=4, replication_factor=3)["healthy"] is True


def test_kaiwudb_membership_derived_from_is_decommissioning():
    header = ("id,address,sql_address,build,started_at,updated_at,locality,start_mode,is_available,is_live,"
              "gossiped_replicas,is_decommissioning,is_draining")
    # Column order from kwbase/pkg/cli/node.go; values reuse the seed's bini-3 row.
    rows = ["4,bini-3.bini:26257,bini-3.bini:26257,ff04cdd,2021-02-05 02:01:14,2021-02-05 02:45:29,,%s,%s,%s,%s,%s,false"
            % (mode, live, live, replicas, decommissioning)
            for mode, live, replicas, decommissioning in [("start", "true", 28, "true"), ("start", "false", 0, "true"),
                                                          ("start", "true", 40, "false"), ("start", "false", 12, "true"),
                                                          ("start", "false", "", "true")]]
    nodes = [KWDB.parse_status("%s\n%s\n" % (header, row))[0] for row in rows]
    # Decommissioned only once no replica is left: a decommissioning node that merely went down is not gone.
    assert [n["membership"] for n in nodes] == ["decommissioning", "decommissioned", "active", "decommissioning",
                                                "decommissioning"]
    assert nodes[0]["start_mode"] == "start"


@pytest.mark.parametrize("text,needle", [
    ("", "Could not find the cockroach node status table"),
    ("ERROR: cannot dial server.\nIs the server running?\n", "ERROR: cannot dial server"),
    ("id,address\n1,a\n", "looked for a header with the columns id, address, is_live"),
    ("id,address,is_live\n1,a\n", "has 2 values where the header has 3 columns"),
    ("id,address,is_live\nx,a,true\n", "no numeric node id"),
])
def test_status_parse_errors_quote_output(text, needle):
    with pytest.raises(ParseError) as err:
        CRDB.parse_status(text)
    assert needle in err.value.msg


def fake_run(result, calls=None):
    def run(pod, argv, timeout=None):
        if calls is not None:
            calls.append((pod, list(argv), timeout))
        return result
    return run


def test_status_command_error_quotes_the_cli_and_says_what_to_check():
    stderr = load("cockroachdb", "error_cannot_dial_no_such_host.txt")
    with pytest.raises(CommandError) as err:
        CRDB.status(fake_run(CommandResult(1, "", stderr)), "crdb-0")
    assert "cockroach node status failed in pod crdb-0 with exit code 1" in err.value.msg
    assert "no such host" in err.value.msg and "not accepting connections" in err.value.msg
    assert err.value.details["command"][:3] == ["cockroach", "node", "status"]


@pytest.mark.parametrize("params,expected", [
    ({"insecure": True}, ["cockroach", "node", "status", "--all", "--format=csv", "--host=localhost:26257",
                          "--insecure"]),
    ({"certs_dir": "/cockroach/cockroach-certs", "host": "crdb-public", "port": 26258, "login_user": "root"},
     ["cockroach", "node", "status", "--all", "--format=csv", "--host=crdb-public:26258",
      "--certs-dir=/cockroach/cockroach-certs", "--user=root"]),
    ({"binary": "/cockroach/cockroach", "insecure": True, "certs_dir": "/ignored"},
     ["/cockroach/cockroach", "node", "status", "--all", "--format=csv", "--host=localhost:26257", "--insecure"]),
])
def test_status_argv(params, expected):
    calls = []
    text = load("cockroachdb", "node_status_all_v22.1.22_single.csv")
    CockroachDBAdapter(dict(params, exec_timeout=30)).status(fake_run(CommandResult(0, text, ""), calls), "crdb-0")
    assert calls == [("crdb-0", expected, 30)]


@pytest.mark.parametrize("binary", [None, "bini"])
def test_kaiwudb_binary_configurable(binary):
    calls = []
    text = load("kaiwudb", "node_status_bini_release2.0.txt")
    KaiwuDBAdapter({"binary": binary, "insecure": True}).status(fake_run(CommandResult(0, text, ""), calls), "bini-0")
    assert calls[0][1][0] == (binary or "kwbase")


def test_decommission_argv_and_progress():
    calls = []
    run = fake_run(CommandResult(0, load("cockroachdb", "node_decommission_v22.2_progress.txt"), ""), calls)
    group = [{"pod": "c-4", "node_id": 4}, {"pod": "c-3", "node_id": 5}]
    progress = CRDB.decommission_progress(run, "c-0", group)
    assert calls[0][1] == ["cockroach", "node", "decommission", "4", "5", "--wait=none", "--format=csv",
                           "--host=localhost:26257", "--insecure"]
    assert progress == {"targets": {"c-4": {"state": "decommissioning", "replicas": 39},
                                    "c-3": {"state": "decommissioning", "replicas": 34}}, "done": False}


def test_progress_read_from_stderr_when_stdout_is_empty():
    run = fake_run(CommandResult(0, "", load("cockroachdb", "node_decommission_v22.2_progress.txt")))
    progress = CRDB.decommission_progress(run, "c-0", [{"pod": "c-4", "node_id": 4}])
    assert progress["targets"]["c-4"]["replicas"] == 39


def test_progress_missing_node_is_an_error():
    run = fake_run(CommandResult(0, load("cockroachdb", "node_decommission_v22.2_progress.txt"), ""))
    with pytest.raises(CommandError) as err:
        CRDB.decommission_progress(run, "c-0", [{"pod": "c-9", "node_id": 9}])
    assert "did not report node 9" in err.value.msg and err.value.details["final"] is True


def sequence_run(texts, calls):
    def run(pod, argv, timeout=None):
        calls.append(list(argv))
        return CommandResult(0, texts[min(len(calls), len(texts)) - 1], "")
    return run


@pytest.mark.parametrize("adapter,engine,texts,calls_expected", [
    (CRDB, "cockroachdb", ["node_decommission_v22.1.22_done.csv"], 1),
    (CRDB, "cockroachdb", ["node_decommission_v22.2_dead_node.txt", "node_decommission_v22.1.22_done.csv"], 2),
    (KWDB, "kaiwudb", ["node_decommission_bini_done.txt"], 1),
])
def test_finalize_confirms(adapter, engine, texts, calls_expected):
    calls = []
    group = [{"pod": "p", "node_id": 6 if engine == "cockroachdb" and "v22.1" in texts[-1] else
              (1 if engine == "cockroachdb" else 4)}]
    if engine == "cockroachdb" and len(texts) == 2:
        texts = [load(engine, texts[0]).replace("   1 |", "   6 |"), load(engine, texts[1])]
    else:
        texts = [load(engine, t) for t in texts]
    assert adapter.finalize_decommission(sequence_run(texts, calls), "c-0", group)["done"] is True
    assert len(calls) == calls_expected


@pytest.mark.parametrize("adapter,engine,name,node_id", [
    (CRDB, "cockroachdb", "node_decommission_v22.1.22_progress.csv", 6),
    (CRDB, "cockroachdb", "node_decommission_v22.2_done.txt", 4),
    (KWDB, "kaiwudb", "node_decommission_bini_progress.txt", 4),
])
def test_finalize_refuses_unfinished(adapter, engine, name, node_id):
    calls = []
    with pytest.raises(CommandError) as err:
        adapter.finalize_decommission(sequence_run([load(engine, name)], calls), "c-0", [{"pod": "p", "node_id": node_id}])
    assert "is not complete" in err.value.msg and "Nothing was scaled down" in err.value.msg
    assert len(calls) == 2


def test_capacity_not_known_for_cockroachdb():
    assert CRDB.capacity_check(None, [], [], []) is None


def test_get_engine_names():
    assert ENGINES == ["cockroachdb", "kaiwudb", "cassandra", "mariadb", "mysql"]
    assert get_engine("mysql", {}).name == "mariadb"
    assert get_engine("kaiwudb", {}).default_binary == "kwbase"
    with pytest.raises(PreconditionError):
        get_engine("postgres", {})


@pytest.mark.parametrize("engine,container,binary,decommission", [
    ("cockroachdb", "cockroachdb", "cockroach", True), ("kaiwudb", "kaiwudb", "kwbase", True),
    ("cassandra", "cassandra", "nodetool", True), ("mariadb", "mariadb", "mariadb-admin", False),
])
def test_adapter_contract_attributes(engine, container, binary, decommission):
    adapter = get_engine(engine, {})
    assert (adapter.default_container, adapter.default_binary, adapter.supports_decommission) == (
        container, binary, decommission)
