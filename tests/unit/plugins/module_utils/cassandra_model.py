"""A Cassandra ring and its StatefulSet as plain data, answering the real adapter's commands with nodetool's own
output format, so the decommission state machine can be driven through generated cluster states.

The model keeps the truth the module cannot see (which member belongs to which ordinal, whether it really left),
so a test can check every scale-down and claim deletion against it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.engines.base import CommandResult
from ansible_collections.dok.databases.plugins.module_utils.errors import ClusterError

HEADER = ("Datacenter: dc1\n===============\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n"
          "--  Address       Load        Tokens  Owns (effective)  Host ID                               Rack\n")
MODES = {"N": "NORMAL", "L": "LEAVING", "J": "JOINING", "M": "MOVING"}
DF = ("Filesystem     1024-blocks      Used Available Capacity Mounted on\n"
      "/dev/vda        263174212  12000000 240000000       5% /var/lib/cassandra\n")


def host_id(number):
    return "%08x-0000-4000-8000-%012x" % (number, number)


class Member(object):
    """A ring member: what nodetool shows (address, status, state) and the truth (ordinal, left)."""

    def __init__(self, number, address, status="U", state="N", ordinal=None, load_kib=512):
        self.id = host_id(number)
        self.address, self.status, self.state = address, status, state
        self.ordinal, self.load_kib, self.left = ordinal, load_kib, False

    def row(self):
        return "%s%s  %-12s  %.2f KiB  16      25.0%%             %s  rack1" % (
            self.status, self.state, self.address, self.load_kib, self.id)


class CassandraModel(object):
    """Pods of StatefulSet `cassandra`, their claims, and the ring; ``ops`` for decommission.py."""

    sts = "cassandra"

    def __init__(self, replicas):
        self._replicas = replicas
        self.pods_by_ordinal = {}
        self.members = []
        self.claims_by_name = {}
        self.log = []
        self.clock = 0.0
        self.decommissions = {}
        self.refuse_decommission = None

    # building the state

    def add_pod(self, ordinal, ip, phase="Running", ready=True):
        self.pods_by_ordinal[ordinal] = {
            "name": "%s-%d" % (self.sts, ordinal), "ordinal": ordinal, "ready": ready and phase == "Running",
            "node": "dok-node-%d" % (ordinal % 3), "ip": ip, "phase": phase, "deleting": False}

    def add_member(self, member):
        self.members.append(member)
        return member

    def add_claim(self, ordinal, annotations=None):
        self.claims_by_name["datadir-%s-%d" % (self.sts, ordinal)] = dict(annotations or {})

    def member_of(self, ordinal):
        for member in self.members:
            if member.ordinal == ordinal and not member.left:
                return member
        return None

    def truly_left(self, ordinal):
        """No member of this ordinal is in the ring any more."""
        return self.member_of(ordinal) is None

    # ops contract of decommission.py

    def pods(self):
        return [dict(p) for o, p in sorted(self.pods_by_ordinal.items())]

    def namespace_pods(self):
        return self.pods()

    def replicas(self):
        return self._replicas

    def scale(self, replicas):
        self.log.append(("scale", replicas, dict((o, self.truly_left(o)) for o in range(replicas, self._replicas))))
        for ordinal in [o for o in self.pods_by_ordinal if o >= replicas]:
            del self.pods_by_ordinal[ordinal]
        self._replicas = replicas

    def wait_pods_gone(self, names, timeout):
        self.log.append(("wait_pods_gone", tuple(names)))

    def claims(self):
        return sorted(({"name": n, "ordinal": int(n.rsplit("-", 1)[1]), "annotations": dict(a)}
                       for n, a in self.claims_by_name.items()), key=lambda c: (c["ordinal"], c["name"]))

    def annotate_pvc(self, name, annotations):
        self.log.append(("annotate_pvc", name, dict(annotations)))
        self.claims_by_name[name].update(annotations)

    def delete_pvc(self, name):
        ordinal = int(name.rsplit("-", 1)[1])
        self.log.append(("delete_pvc", name, self.truly_left(ordinal), dict(self.claims_by_name[name])))
        del self.claims_by_name[name]

    def now(self):
        return self.clock

    def sleep(self, seconds):
        self.clock += seconds
        for member in list(self.decommissions.values()):
            if not member.left:
                member.left = True

    def mutations(self):
        return [e for e in self.log if e[0] in ("scale", "delete_pvc", "annotate_pvc")]

    # the pods' commands

    def _pod_member(self, pod):
        ordinal = pod["ordinal"]
        for member in self.members:
            if member.ordinal == ordinal and (pod.get("ip") == member.address or member.status == "U"):
                return member
        return None

    def run(self, pod_name, argv, timeout=None):
        self.log.append(("run", pod_name, tuple(argv)))
        pod = next((p for p in self.pods_by_ordinal.values() if p["name"] == pod_name), None)
        if pod is None or pod["phase"] != "Running":
            raise ClusterError("Pod %s is not running, so no command can run in it." % pod_name)
        command = argv[-1]
        if argv[0] == "df":
            return CommandResult(0, DF, "")
        if argv[:1] == ["cat"]:
            return CommandResult(0, self.decommission_log(pod), "")
        if "decommission" in argv:
            return self.start_decommission(pod)
        member = self._pod_member(pod)
        if command == "status":
            if not pod["ready"]:
                return CommandResult(1, "", "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException")
            return CommandResult(0, HEADER + "".join(m.row() + "\n" for m in self.members if not m.left), "")
        if command == "netstats":
            if member is None and pod["ordinal"] in self.decommissions:
                return CommandResult(0, "Mode: DECOMMISSIONED\nNot sending any streams.\n", "")
            if member is None:
                return CommandResult(1, "", "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException")
            return CommandResult(0, "Mode: %s\nNot sending any streams.\n" % MODES.get(member.state, "NORMAL"), "")
        if command == "info":
            if member is None:
                return CommandResult(1, "", "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException")
            return CommandResult(0, "ID                     : %s\nGossip active          : true\nLoad                   : "
                                    "%.2f KiB\n" % (member.id, member.load_kib), "")
        raise AssertionError("unexpected command %r in %s" % (argv, pod_name))

    def start_decommission(self, pod):
        member = self._pod_member(pod)
        if self.refuse_decommission is not None or member is None or member.status != "U":
            self.decommissions.setdefault(-1 - pod["ordinal"], None)
            self.refused = pod["ordinal"]
            return CommandResult(0, "", "")
        member.state = "L"
        self.decommissions[pod["ordinal"]] = member
        return CommandResult(0, "", "")

    def decommission_log(self, pod):
        if getattr(self, "refused", None) == pod["ordinal"]:
            return "%s\ndok-exit-status: 2\n" % (self.refuse_decommission or "Not enough live nodes")
        if pod["ordinal"] in self.decommissions and self.decommissions[pod["ordinal"]].left:
            return "dok-exit-status: 0\n"
        return ""
