# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MariaDB/MySQL, single node: ``<admin> ping``, then version, read-only flag and a write probe.

The write probe uses a TEMPORARY table, so it proves InnoDB accepts writes and leaves nothing behind.
Each engine runs its own client names (ENGINE_FACTS): the official MySQL image has no mariadb-admin/mariadb.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dok.databases.plugins.module_utils.engines.base import (
    EngineAdapter, empty_node, hint_for, ordinal_of, quote_output,
)
from ansible_collections.dok.databases.plugins.module_utils.errors import CommandError, NotApplicableError, ParseError

ALIVE = "is alive"
PROBE_SQL = ("SELECT VERSION(), @@read_only; "
             "CREATE TEMPORARY TABLE mysql.dok_probe (id INT PRIMARY KEY) ENGINE=InnoDB; "
             "INSERT INTO mysql.dok_probe VALUES (1); "
             "SELECT COUNT(*) FROM mysql.dok_probe; "
             "DROP TEMPORARY TABLE mysql.dok_probe")

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

    def status(self, run, pod, pods=None):
        ordinal = next((p.get("ordinal") for p in pods or [] if p.get("name") == pod), ordinal_of(pod))
        address = "%s:%s" % (self.params.get("host") or "localhost", self.params.get("port") or self.default_port)
        node = empty_node(id=pod, address=address, pod=pod, ordinal=ordinal, is_decommissioning=False, replicas=None)
        argv = self.ping_argv()
        ping = run(pod, argv, timeout=self.exec_timeout)
        if ping.rc != 0 or ALIVE not in (ping.stdout or ""):
            # mariadb-admin/mysqladmin ping exits 0 on "Access denied": the server runs, the credentials are wrong.
            self._raise_unless_down(ping, argv, pod, "%s ping" % self.binary)
            node.update(is_live=False, is_available=False, state="down",
                        error=quote_output(ping.stderr, ping.stdout))
            return [node]
        argv = self.probe_argv()
        probe = run(pod, argv, timeout=self.exec_timeout)
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
