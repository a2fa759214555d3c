# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MariaDB/MySQL, single node: ``<admin> ping``, then version, read-only flag and a write probe.

Both run in one exec (one round trip through the API server per pod and poll): a ``sh -c`` script that prints each
command's exit code and output as a marked section, which ``split_status`` takes apart again.
The write probe uses a TEMPORARY table, so it proves InnoDB accepts writes and leaves nothing behind.
Each engine runs its own client names (ENGINE_FACTS): the official MySQL image has no mariadb-admin/mariadb.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dok.databases.plugins.module_utils.engines.base import (
    CommandResult, EngineAdapter, empty_node, hint_for, ordinal_of, quote_output,
)
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, NotApplicableError, ParseError

ALIVE = "is alive"
PROBE_SQL = ("SELECT VERSION(), @@read_only; "
             "CREATE TEMPORARY TABLE mysql.dok_probe (id INT PRIMARY KEY) ENGINE=InnoDB; "
             "INSERT INTO mysql.dok_probe VALUES (1); "
             "SELECT COUNT(*) FROM mysql.dok_probe; "
             "DROP TEMPORARY TABLE mysql.dok_probe")

MARK = "@@dok-status"
# $1 admin, $2 client, $3 probe SQL, the rest the login options both take. The probe runs only after a ping that
# answered, as it did when they were two execs. stdout gets "MARK <step> <rc>" before each step's output, stderr a
# "MARK <step>" line around each step's errors (after a newline, since their last line may have none).
STATUS_SCRIPT = (
    'admin="$1"; client="$2"; sql="$3"; shift 3; '
    'pw="${{{env}}}"; if [ -z "$pw" ] && [ -n "${{{env}_FILE}}" ]; then pw="$(cat "${{{env}_FILE}}")"; fi; '
    'export MYSQL_PWD="$pw"; '
    'echo "{mark} ping" >&2; out="$("$admin" "$@" ping)"; rc=$?; printf "{mark} ping %s\\n%s\\n" "$rc" "$out"; '
    'case "$rc:$out" in 0:*"{alive}"*) printf "\\n{mark} probe\\n" >&2; '
    'out="$("$client" "$@" -N -B -e "$sql")"; rc=$?; printf "{mark} probe %s\\n%s\\n" "$rc" "$out";; esac; '
    'printf "\\n{mark} end\\n" >&2; echo "{mark} end"')
STDOUT_HEADER = re.compile(r"^%s (ping|probe) (\d+)$" % MARK)
STDERR_HEADER = re.compile(r"(?:^|\n)%s (ping|probe|end)\n" % MARK)

# What differs between the engines, and only that: everything else is the same protocol and SQL.
ENGINE_FACTS = {
    "mariadb": {"admin": "mariadb-admin", "client": "mariadb", "container": "mariadb",
                "password_env": "MARIADB_ROOT_PASSWORD", "server": "MariaDB"},
    "mysql": {"admin": "mysqladmin", "client": "mysql", "container": "mysql",
              "password_env": "MYSQL_ROOT_PASSWORD", "server": "MySQL"},
}


def client_for(admin):
    """The SQL client next to an admin binary: mariadb-admin -> mariadb, mysqladmin -> mysql."""
    head, slash, base = (admin or "").rpartition("/")
    if base.endswith("-admin"):
        base = base[:-len("-admin")]
    elif base.endswith("admin"):
        base = base[:-len("admin")]
    return head + slash + (base or "mariadb")


def parse_probe(text, client="mariadb"):
    """(version, read_only, write_ok) from the probe's -N -B output; write_ok is None when it did not get that far."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines or "\t" not in lines[0]:
        raise ParseError("The MariaDB/MySQL probe printed no 'version<TAB>read_only' line: %s. Check that the client "
                         "(%s) is MariaDB's or MySQL's and the login options." % (quote_output(text), client),
                         output=text)
    version, dummy, read_only = lines[0].partition("\t")
    write_ok = None
    if len(lines) > 1:
        write_ok = lines[1].strip() == "1"
    return version.strip(), read_only.strip() not in ("0", "OFF"), write_ok


def split_status(result, pod):
    """{'ping': CommandResult, 'probe': CommandResult or None} from one run of STATUS_SCRIPT.

    No mark at all with a failed exec means the script never ran (no shell, container gone): that failure is the
    ping's. Anything else that does not follow the script's layout is an error, never a guess.
    """
    lines = (result.stdout or "").split("\n")
    if not any(line.startswith(MARK) for line in lines):
        if result.rc != 0:
            return {"ping": result, "probe": None}
        raise _garbled(result, pod, "no '%s' section at all" % MARK)
    order, steps = [], {}
    for line in lines:
        header = STDOUT_HEADER.match(line)
        if header:
            order.append(header.group(1))
            steps[header.group(1)] = (int(header.group(2)), [])
        elif line == MARK + " end":
            order.append("end")
        elif line.startswith(MARK):
            raise _garbled(result, pod, "an unknown mark %r" % line)
        elif order and order[-1] in steps:
            steps[order[-1]][1].append(line)
        elif line:
            raise _garbled(result, pod, "%r outside the sections" % line)
    if order not in (["ping", "end"], ["ping", "probe", "end"]):
        raise _garbled(result, pod, "the sections %s where ping, then probe if the ping answered, then end were "
                                    "expected" % order)
    if result.rc != 0:
        raise _garbled(result, pod, "all its sections and still exit code %s" % result.rc)
    text = result.stderr or ""
    marks = list(STDERR_HEADER.finditer(text))
    if [m.group(1) for m in marks] != order or marks[0].start() != 0 or text[marks[-1].end():]:
        raise _garbled(result, pod, "error output whose marks %s do not match the sections %s" % (
            [m.group(1) for m in marks], order))
    split = {"ping": None, "probe": None}
    for mark, after in zip(marks, marks[1:]):
        rc, out = steps[mark.group(1)]
        split[mark.group(1)] = CommandResult(rc, "\n".join(out), text[mark.end():after.start()])
    return split


def _garbled(result, pod, found):
    return ParseError(
        "The MariaDB/MySQL status script in pod %s printed %s (exit code %s, output %s). Its output is read only "
        "when it has the layout the script prints; check that the container's sh is a POSIX shell and nothing "
        "else writes to its output." % (pod, found, result.rc, quote_output(result.stdout, result.stderr)),
        output=result.stdout)


class MariaDBAdapter(EngineAdapter):
    name = "mariadb"
    engine = "mariadb"
    facts = ENGINE_FACTS["mariadb"]
    default_container = facts["container"]
    default_binary = facts["admin"]
    default_port = 3306
    supports_decommission = False

    @property
    def client(self):
        """The engine's SQL client, or the one next to a binary the caller named."""
        return client_for(self.params["binary"]) if self.params.get("binary") else self.facts["client"]

    def client_args(self):
        params = self.params
        args = ["--user=%s" % (params.get("login_user") or "root")]
        if params.get("host") and params["host"] != "localhost":
            args.append("--host=%s" % params["host"])
            args.append("--port=%s" % (params.get("port") or self.default_port))
        elif params.get("port"):
            args.append("--port=%s" % params["port"])
        return args

    def with_password(self, argv):
        """Run argv with MYSQL_PWD set inside the pod from the variable (or its _FILE twin, as the image allows)."""
        env = self.env_var(self.params.get("login_password_env") or self.facts["password_env"])
        script = ('pw="${%s}"; if [ -z "$pw" ] && [ -n "${%s_FILE}" ]; then pw="$(cat "${%s_FILE}")"; fi; '
                  'MYSQL_PWD="$pw" exec "$@"' % (env, env, env))
        return ["sh", "-c", script, "sh"] + list(argv)

    def ping_argv(self):
        return self.with_password([self.binary] + self.client_args() + ["ping"])

    def probe_argv(self):
        return self.with_password([self.client] + self.client_args() + ["-N", "-B", "-e", PROBE_SQL])

    def status_argv(self):
        """Ping and probe in one exec; the password is read inside the pod, as in ping_argv and probe_argv."""
        env = self.env_var(self.params.get("login_password_env") or self.facts["password_env"])
        script = STATUS_SCRIPT.format(env=env, mark=MARK, alive=ALIVE)
        return ["sh", "-c", script, "sh", self.binary, self.client, PROBE_SQL] + self.client_args()

    def status(self, run, pod, pods=None):
        ordinal = next((p.get("ordinal") for p in pods or [] if p.get("name") == pod), ordinal_of(pod))
        address = "%s:%s" % (self.params.get("host") or "localhost", self.params.get("port") or self.default_port)
        node = empty_node(id=pod, address=address, pod=pod, ordinal=ordinal, is_decommissioning=False, replicas=None)
        argv = self.status_argv()
        timeout = self.exec_timeout
        # Two commands share the exec, each allowed exec_timeout as when they ran apart.
        steps = split_status(run(pod, argv, timeout=2 * timeout if timeout else timeout), pod)
        ping = steps["ping"]
        if ping.rc != 0 or ALIVE not in (ping.stdout or ""):
            # mariadb-admin/mysqladmin ping exits 0 on "Access denied": the server runs, the credentials are wrong.
            self._raise_unless_down(ping, argv, pod, "%s ping" % self.binary)
            node.update(is_live=False, is_available=False, state="down",
                        error=quote_output(ping.stderr, ping.stdout))
            return [node]
        probe = steps["probe"]
        if probe is None:
            raise _garbled(ping, pod, "a ping that answered but no probe section")
        if probe.rc != 0:
            what = "the %s read/write probe (%s)" % (self.facts["server"], self.client)
            self._raise_unless_down(probe, argv, pod, what)
        version, read_only, write_ok = (parse_probe(probe.stdout, self.client) if probe.stdout.strip()
                                        else (None, None, None))
        available = bool(write_ok) and probe.rc == 0 and not read_only
        node.update(is_live=True, is_available=available, version=version, read_only=read_only,
                    state="live" if available else ("read_only" if read_only else "not_writable"))
        if not available:
            node["error"] = quote_output(probe.stderr, probe.stdout) if probe.rc else "the server is read-only"
        return [node]

    def _raise_unless_down(self, result, argv, pod, what):
        """A server that does not answer is a status; wrong credentials or a missing binary are errors."""
        text = "%s\n%s" % (result.stderr, result.stdout)
        hint = hint_for(text) or ""
        if hint.startswith("the database process is not accepting"):
            return
        if not text.strip() and result.rc == 0:
            raise ParseError("%s printed nothing in pod %s. Check the binary option." % (what, pod))
        raise CommandError(
            "%s failed in pod %s with exit code %s: %s. %s." % (
                what, pod, result.rc, quote_output(result.stderr, result.stdout),
                (hint[0].upper() + hint[1:]) if hint else "Check the command and the server log"),
            rc=result.rc, stdout=result.stdout, stderr=result.stderr, command=list(argv))

    def summarize(self, nodes, expected_nodes=None, replication_factor=None):
        live = [n for n in nodes if n.get("is_live")]
        reasons = []
        for node in nodes:
            if not node.get("is_live"):
                reasons.append("%s in pod %s does not answer: %s." % (
                    self.facts["server"], node["pod"], node.get("error")))
            elif not node.get("is_available"):
                reasons.append("%s in pod %s answers but does not accept writes (read_only=%s): %s." % (
                    self.facts["server"], node["pod"], node.get("read_only"), node.get("error")))
        if expected_nodes is not None and len(live) != expected_nodes:
            reasons.append("%d servers answer where %d are expected." % (len(live), expected_nodes))
        return {
            "nodes": len(nodes), "live": len(live), "dead": len(nodes) - len(live), "decommissioning": 0,
            "ranges_underreplicated": None, "ranges_unavailable": None,
            "healthy": not reasons, "reasons": reasons,
        }

    def decommission_groups(self, targets):
        raise NotApplicableError(
            "MariaDB/MySQL here is a single server: there is no node to decommission. Its availability comes from "
            "Kubernetes rescheduling the pod; to remove it, use the teardown role.")


class MySQLAdapter(MariaDBAdapter):
    """The MariaDB adapter (same protocol and SQL, so same ``name``) with MySQL's client names, container and
    password variable."""
    engine = "mysql"
    facts = ENGINE_FACTS["mysql"]
    default_container = facts["container"]
    default_binary = facts["admin"]
