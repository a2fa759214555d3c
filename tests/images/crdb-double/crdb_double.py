# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""crdb-double: a TEST DOUBLE of the `cockroach` / `kwbase` command line. It is NOT CockroachDB or KaiwuDB.

It implements only what dok.databases drives on a cluster: `start` (a node that gossips its state with its peers
over the pod network, serves 26257 and HTTP /health on 8080), `init`, `node status|ls|decommission|recommission|
drain`, `sql -e` for a handful of statements, and `version`. The output of `node status`, `node decommission`,
`init`, `node drain` and the SQL command tags follows recorded output of real CockroachDB and KaiwuDB versions
(see README.md next to this file); no replication, no storage engine, no real SQL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import faulthandler
import json
import math
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOUBLE_NAME = "crdb-double"
BUILD_FILE = "/etc/crdb-double/build"

FLAVOURS = {
    # cockroachdb/cockroach pkg/cli/node.go (v22.1 .. v23.1 column sets)
    "cockroach": {
        "product": "CockroachDB",
        "status_base": ["id", "address", "sql_address", "build", "started_at", "updated_at", "locality",
                        "is_available", "is_live"],
        "status_decommission": ["gossiped_replicas", "is_decommissioning", "membership", "is_draining"],
        "decommission": ["id", "is_live", "replicas", "is_decommissioning", "membership", "is_draining"],
        "decommission_align": "rcrccc",
        "membership": True,
        "default_store": "cockroach-data",
    },
    # KWDB/KWDB kwbase/pkg/cli/node.go
    "kwbase": {
        "product": "KaiwuDB",
        "status_base": ["id", "address", "sql_address", "build", "started_at", "updated_at", "locality",
                        "start_mode", "is_available", "is_live"],
        "status_decommission": ["gossiped_replicas", "is_decommissioning", "is_draining"],
        "decommission": ["id", "is_live", "replicas", "is_decommissioning", "is_draining"],
        "decommission_align": "rcrcc",
        "membership": False,
        "default_store": "kwbase-data",
    },
}
STATUS_RANGES = ["replicas_leaders", "replicas_leaseholders", "ranges", "ranges_unavailable", "ranges_underreplicated"]
STATUS_STATS = ["live_bytes", "key_bytes", "value_bytes", "intent_bytes", "system_bytes"]
NUMERIC_COLUMNS = set(["id", "replicas", "gossiped_replicas"] + STATUS_RANGES + STATUS_STATS)

DECOMMISSION_DONE = ("\nNo more data reported on target nodes. "
                     "Please verify cluster health before removing the nodes.\n")

VALUE_FLAGS = set("""host port certs-dir url format database d e execute user u join advertise-host advertise-addr
advertise-port listen-addr http-addr http-port http-host store s cache max-sql-memory locality cluster-name pid-file
wait attrs log-dir log brpc-addr timeout drain-wait sql-addr advertise-sql-addr checks max-disk-temp-storage temp-dir
external-io-dir max-offset locality-advertise-addr listening-url-file""".split())


class DoubleError(Exception):
    """An error printed as the real CLI prints it: `ERROR: <msg>` (+ optional extra lines)."""

    def __init__(self, msg, extra=None):
        super(DoubleError, self).__init__(msg)
        self.msg = msg
        self.extra = extra or []


CERTS_HELP = ("cannot load certificates.\nCheck your certificate settings, set --certs-dir, or use --insecure for "
              "insecure clusters.\n\n")


def certs_dir(opts):
    """None for an insecure call (`--insecure`, or a `--url` with sslmode=disable), else the certificates directory."""
    if opts.get("insecure", "false") not in ("false", "0"):
        return None
    if re.search(r"[?&]sslmode=disable(&|$)", opts.get("url") or ""):
        return None
    return opts.get("certs-dir") or os.path.join(os.path.expanduser("~"), ".cockroach-certs")


def cert_common_name(path):
    """The subject CN of a PEM certificate (None when the interpreter cannot decode it)."""
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return None
    for rdn in decode(path).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


def load_tls(opts, role, user="root"):
    """TLS contexts of a node (`role` "node": node.crt/node.key) or of a client (client.<user>.crt/.key), both
    with ca.crt, or None when insecure. Refuses, as the real CLI does, a missing directory or file, a file that is
    not a PEM certificate or key, a key that does not match its certificate and a certificate for another name;
    whether a certificate was signed by the CA is checked by the peer in every TLS handshake."""
    certs = certs_dir(opts)
    if certs is None:
        return None
    if not os.path.isdir(certs):
        raise DoubleError(CERTS_HELP + "problem using security settings: no certificates found; does certs dir exist?"
                          " (%s)" % certs)
    name = "node" if role == "node" else "client.%s" % user
    ca, crt, key = (os.path.join(certs, f) for f in ("ca.crt", name + ".crt", name + ".key"))
    missing = [os.path.basename(f) for f in (ca, crt, key) if not os.path.isfile(f)]
    if missing:
        raise DoubleError(CERTS_HELP + "problem using security settings: %s not found in %s"
                          % (", ".join(missing), certs))
    try:
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(crt, key)
        server.load_verify_locations(ca)
        server.verify_mode = ssl.CERT_REQUIRED
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.load_cert_chain(crt, key)
        client.load_verify_locations(ca)
        http = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        http.load_cert_chain(crt, key)
        common_name = cert_common_name(crt)
    except (ssl.SSLError, ValueError) as e:
        raise DoubleError(CERTS_HELP + "problem with the certificates in %s: %s" % (certs, e))
    wanted = "node" if role == "node" else user
    if common_name is not None and common_name != wanted:
        raise DoubleError(CERTS_HELP + "%s.crt has CommonName %r; it must be %r" % (name, common_name, wanted))
    return {"server": server, "client": client, "http": http, "dir": certs}


def tls_server(base, context):
    """`base` (a socketserver class) whose accepted sockets are TLS when `context` is set; the handshake runs in
    the request's thread, so a slow or plain-text client cannot block the accept loop."""

    class Server(base):
        def get_request(self):
            sock, addr = base.get_request(self)
            if context is not None:
                sock.settimeout(10)
                sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            return sock, addr

    return Server


def tls_handshake(request):
    """Completes a server-side handshake; returns the peer's CN ('' without a client certificate), None on failure."""
    if not isinstance(request, ssl.SSLSocket):
        return ""
    try:
        request.do_handshake()
    except (OSError, ValueError):
        return None
    for rdn in (request.getpeercert() or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


def config():
    return {
        "liveness_timeout": float(os.environ.get("CRDB_DOUBLE_LIVENESS_TIMEOUT", "20")),
        "decommission_rate": float(os.environ.get("CRDB_DOUBLE_DECOMMISSION_RATE", "10")),
        "replicas": int(os.environ.get("CRDB_DOUBLE_REPLICAS", "30")),
        "gossip_interval": float(os.environ.get("CRDB_DOUBLE_GOSSIP_INTERVAL", "2")),
    }


def build_info(program):
    info = {"flavour": "kwbase" if program in ("kwbase", "bini") else "cockroach", "version": "v0.0.0-double"}
    try:
        with open(BUILD_FILE) as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep:
                    info[key] = value
    except OSError:
        pass
    info["flavour"] = os.environ.get("CRDB_DOUBLE_FLAVOUR", info["flavour"])
    info["version"] = os.environ.get("CRDB_DOUBLE_VERSION", info["version"])
    return info


def major_version(build):
    m = re.match(r"v?(\d+)\.(\d+)", build or "")
    return "%s.%s" % (m.group(1), m.group(2)) if m else None


def version_key(v):
    return tuple(int(x) for x in re.findall(r"\d+", v or "0"))


# ---------------------------------------------------------------------------------------------------------------
# Output formats (pure)

def fmt_ts(epoch):
    """TIMESTAMP as the cockroach CLI prints it: microseconds with trailing zeros dropped (Go's .999999)."""
    if epoch is None:
        return None
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%d %H:%M:%S")
    if dt.microsecond:
        text += ("." + "%06d" % dt.microsecond).rstrip("0")
    return text


def _quote_field(field, comma):
    if field == "":
        return field
    if field == "\\." or comma in field or '"' in field or "\r" in field or "\n" in field or field[0] in " \t":
        return '"' + field.replace('"', '""') + '"'
    return field


def _cells(rows):
    return [["NULL" if v is None else str(v) for v in row] for row in rows]


def render(headers, rows, fmt, align=None):
    """Render a result set like the cockroach CLI's csv, tsv and table formats."""
    cells = _cells(rows)
    if fmt in ("csv", "tsv"):
        comma = "," if fmt == "csv" else "\t"
        lines = [comma.join(_quote_field(h, comma) for h in headers)]
        lines += [comma.join(_quote_field(c, comma) for c in row) for row in cells]
        return "\n".join(lines) + "\n"
    if fmt != "table":
        raise DoubleError('invalid argument "%s" for "--format" flag' % fmt)
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    align = align or "l" * len(headers)

    def pad(text, width, how):
        space = width - len(text)
        if how == "r":
            return " " * space + text
        if how == "c":
            return " " * (space // 2) + text + " " * (space - space // 2)
        return text + " " * space

    def line(values, aligns):
        return (" " + "|".join(" " + pad(v, widths[i], aligns[i]) + " " for i, v in enumerate(values)) + " ").rstrip()

    out = [line(headers, "c" * len(headers)), "-" + "+".join("-" * (w + 2) for w in widths) + "-"]
    out += [line(row, align) for row in cells]
    out.append("(%d row%s)" % (len(cells), "" if len(cells) == 1 else "s"))
    return "\n".join(out) + "\n"


def type_align(headers):
    return "".join("r" if h in NUMERIC_COLUMNS else "l" for h in headers)


# ---------------------------------------------------------------------------------------------------------------
# Cluster state: every node holds a full copy, merged by gossip (last writer wins per register).

def new_state():
    return {"cluster_id": None, "next_id": 1, "nodes": {}, "settings": {}, "databases": {}, "tables": {},
            "rows": {}}


def _newer(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return b if (b.get("ts", 0), json.dumps(b, sort_keys=True)) > (a.get("ts", 0), json.dumps(a, sort_keys=True)) else a


def merge_state(mine, other):
    """Merge `other` into `mine` in place; returns True when `mine` changed."""
    before = json.dumps(mine, sort_keys=True)
    if other.get("cluster_id") and not mine.get("cluster_id"):
        mine["cluster_id"] = other["cluster_id"]
    if other.get("cluster_id") and other["cluster_id"] != mine.get("cluster_id"):
        return False
    mine["next_id"] = max(mine.get("next_id", 1), other.get("next_id", 1))
    for nid, rec in other.get("nodes", {}).items():
        cur = mine["nodes"].setdefault(nid, {})
        for key in ("desc", "membership", "draining", "replicas"):
            merged = _newer(cur.get(key), rec.get(key))
            if merged is not None:
                cur[key] = merged
        cur["hb"] = max(cur.get("hb", 0), rec.get("hb", 0))
        if rec.get("join") and not cur.get("join"):
            cur["join"] = rec["join"]
    for name, reg in other.get("settings", {}).items():
        mine["settings"][name] = _newer(mine["settings"].get(name), reg)
    for name, ts in other.get("databases", {}).items():
        mine["databases"][name] = min(ts, mine["databases"].get(name, ts))
    for name, table in other.get("tables", {}).items():
        if name not in mine["tables"] or table["ts"] < mine["tables"][name]["ts"]:
            mine["tables"][name] = table
    for name, rows in other.get("rows", {}).items():
        target = mine["rows"].setdefault(name, {})
        for key, reg in rows.items():
            target[key] = _newer(target.get(key), reg)
    return json.dumps(mine, sort_keys=True) != before


def reg_value(rec, key, default=None):
    reg = rec.get(key)
    return default if reg is None else reg.get("v", default)


def setting(state, name, default=""):
    reg = state["settings"].get(name)
    return default if reg is None else reg["v"]


def node_view(state, nid, now, cfg):
    """What the cluster knows about one node: liveness, membership, replicas."""
    rec = state["nodes"][str(nid)]
    alive = now - rec.get("hb", 0) < cfg["liveness_timeout"]
    membership = reg_value(rec, "membership", "active")
    if membership == "decommissioned":
        replicas = 0
    elif membership == "decommissioning":
        replicas = int(math.ceil(reg_value(rec, "replicas", cfg["replicas"])))
    else:
        replicas = cfg["replicas"]
    return {
        "id": int(nid), "desc": rec.get("desc", {}).get("v", {}), "updated_at": rec.get("hb"),
        "alive": alive, "is_live": alive and membership != "decommissioned", "membership": membership,
        "draining": bool(reg_value(rec, "draining", False)), "replicas": replicas,
    }


def cluster_views(state, now, cfg):
    return [node_view(state, nid, now, cfg) for nid in sorted(state["nodes"], key=int)]


def status_rows(state, now, cfg, flavour, show_ranges=False, show_stats=False, show_decommission=False,
                node_id=None):
    """Headers and rows of `node status`, following the recorded real output (see README.md)."""
    spec = FLAVOURS[flavour]
    headers = list(spec["status_base"])
    if show_ranges:
        headers += STATUS_RANGES
    if show_stats:
        headers += STATUS_STATS
    if show_decommission:
        headers += spec["status_decommission"]
    views = cluster_views(state, now, cfg)
    dead_active = len([v for v in views if v["membership"] == "active" and not v["alive"]])
    rows = []
    for v in views:
        if node_id is not None and v["id"] != node_id:
            continue
        if not show_decommission and node_id is None and v["membership"] != "active" and not v["alive"]:
            continue
        gone = not v["alive"] and v["membership"] == "decommissioned"
        d = v["desc"]
        base = {
            "id": v["id"], "address": d.get("address"), "sql_address": d.get("sql_address", d.get("address")),
            "build": d.get("build"), "started_at": fmt_ts(d.get("started_at")), "updated_at": fmt_ts(v["updated_at"]),
            "locality": d.get("locality", ""), "start_mode": d.get("start_mode", "start"),
            "is_available": str(v["is_live"]).lower(), "is_live": str(v["is_live"]).lower(),
        }
        if gone:
            for key in ("address", "sql_address", "build", "started_at", "locality", "start_mode"):
                base[key] = None
        replicas = v["replicas"]
        under = replicas if (v["alive"] and dead_active > 0) else 0
        unavailable = replicas if (v["alive"] and dead_active >= 2) else 0
        base.update({
            "replicas_leaders": replicas // 3, "replicas_leaseholders": replicas // 3, "ranges": replicas,
            "ranges_unavailable": unavailable, "ranges_underreplicated": under,
            "live_bytes": replicas * 4096, "key_bytes": replicas * 512, "value_bytes": replicas * 3584,
            "intent_bytes": 0, "system_bytes": replicas * 256,
            "gossiped_replicas": replicas if v["alive"] and v["membership"] != "decommissioned" else 0,
            "is_decommissioning": str(v["membership"] != "active").lower(),
            "membership": v["membership"],
            "is_draining": str(v["draining"] or (v["membership"] == "decommissioned" and v["alive"])).lower(),
        })
        if gone:
            for key in STATUS_RANGES + STATUS_STATS + ["gossiped_replicas"]:
                base[key] = None
            base["is_draining"] = "false"
        rows.append([base[h] for h in headers])
    if node_id is not None and not rows:
        raise DoubleError("node %d doesn't exist" % node_id)
    return headers, rows


def decommission_rows(statuses, flavour):
    spec = FLAVOURS[flavour]
    rows = []
    for s in statuses:
        values = {"id": s["id"], "is_live": str(s["is_live"]).lower(), "replicas": s["replicas"],
                  "is_decommissioning": str(s["membership"] != "active").lower(), "membership": s["membership"],
                  "is_draining": str(s["draining"]).lower()}
        rows.append([values[h] for h in spec["decommission"]])
    return spec["decommission"], rows


# ---------------------------------------------------------------------------------------------------------------
# The tiny SQL subset the roles run.

class Sql(object):
    IDENT = r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?"

    @staticmethod
    def split(text):
        out, cur, quote = [], [], False
        for ch in text:
            if ch == "'":
                quote = not quote
            if ch == ";" and not quote:
                out.append("".join(cur).strip())
                cur = []
            else:
                cur.append(ch)
        out.append("".join(cur).strip())
        return [s for s in out if s]

    @staticmethod
    def split_top(text, sep=","):
        out, cur, depth, quote = [], [], 0, False
        for ch in text:
            if ch == "'":
                quote = not quote
            elif not quote and ch == "(":
                depth += 1
            elif not quote and ch == ")":
                depth -= 1
            if ch == sep and depth == 0 and not quote:
                out.append("".join(cur).strip())
                cur = []
            else:
                cur.append(ch)
        if "".join(cur).strip():
            out.append("".join(cur).strip())
        return out

    @staticmethod
    def literal(text):
        text = text.strip()
        if text.upper() == "NULL":
            return None
        if text.startswith("'") and text.endswith("'") and len(text) >= 2:
            return text[1:-1].replace("''", "'")
        if text.lower() in ("true", "false"):
            return text.lower()
        if re.match(r"^-?\d+(\.\d+)?$", text):
            return text
        raise DoubleError('at or near "%s": syntax error' % text.split()[0].lower(), ["SQLSTATE: 42601"])


def qualify(name, database):
    return name if "." in name else "%s.%s" % (database, name)


def coerce(value, coltype):
    if value is None:
        return None
    t = coltype.upper()
    if t.startswith("INT") or t in ("SERIAL", "BIGINT", "SMALLINT"):
        try:
            return str(int(value))
        except ValueError:
            raise DoubleError('could not parse "%s" as type int' % value, ["SQLSTATE: 22P02"])
    return str(value)


def execute_sql(state, statement, database, now, writer):
    """Run one statement against `state`. Returns {"tag": str} or {"columns", "types", "rows"}."""
    s = re.sub(r"\s+", " ", statement.strip().rstrip(";")).strip()
    up = s.upper()
    m = re.match(r"^SET CLUSTER SETTING ([\w.]+) ?(?:=|TO) ?(.+)$", s, re.I)
    if m:
        name, raw = m.group(1).lower(), m.group(2).strip()
        value = "" if raw.upper() == "DEFAULT" else Sql.literal(raw)
        state["settings"][name] = {"v": "" if value is None else value, "ts": now, "w": writer}
        return {"tag": "SET CLUSTER SETTING"}
    m = re.match(r"^RESET CLUSTER SETTING ([\w.]+)$", s, re.I)
    if m:
        state["settings"][m.group(1).lower()] = {"v": "", "ts": now, "w": writer}
        return {"tag": "SET CLUSTER SETTING"}
    m = re.match(r"^SHOW CLUSTER SETTING ([\w.]+)$", s, re.I)
    if m:
        name = m.group(1).lower()
        if name == "version":
            value = setting(state, "version")
        else:
            value = setting(state, name)
        return {"columns": [name], "types": ["STRING"], "rows": [[value]]}
    m = re.match(r"^CREATE DATABASE (IF NOT EXISTS )?(\w+)$", s, re.I)
    if m:
        name = m.group(2).lower()
        if name in state["databases"] and not m.group(1):
            raise DoubleError('database "%s" already exists' % name, ["SQLSTATE: 42P04"])
        state["databases"].setdefault(name, now)
        return {"tag": "CREATE DATABASE"}
    m = re.match(r"^CREATE TABLE (IF NOT EXISTS )?(%s) ?\((.*)\)$" % Sql.IDENT, s, re.I)
    if m:
        name = qualify(m.group(2).lower(), database)
        db = name.split(".")[0]
        if db not in state["databases"]:
            raise DoubleError('database "%s" does not exist' % db, ["SQLSTATE: 3D000"])
        if name in state["tables"]:
            if m.group(1):
                return {"tag": "CREATE TABLE"}
            raise DoubleError('relation "%s" already exists' % name.split(".")[1], ["SQLSTATE: 42P07"])
        columns, pk = [], []
        for part in Sql.split_top(m.group(3)):
            pm = re.match(r"^PRIMARY KEY ?\((\w+(?: ?, ?\w+)*)\)$", part, re.I)
            if pm:
                pk = [c.strip().lower() for c in pm.group(1).split(",")]
                continue
            words = part.split()
            columns.append([words[0].lower(), words[1].upper() if len(words) > 1 else "STRING"])
            if "PRIMARY KEY" in part.upper():
                pk = [words[0].lower()]
        names = [c[0] for c in columns]
        for col in pk:
            if col not in names:
                raise DoubleError('column "%s" does not exist' % col, ["SQLSTATE: 42703"])
        state["tables"][name] = {"columns": columns, "pk": names.index(pk[0]) if pk else None,
                                 "pk_columns": [names.index(c) for c in pk], "ts": now}
        return {"tag": "CREATE TABLE"}
    returning = None
    rm = re.match(r"^(.*?) RETURNING (.+)$", s, re.I)
    if rm and re.match(r"^(INSERT|UPSERT) ", s, re.I):
        s, returning = rm.group(1), rm.group(2).strip()
    m = re.match(r"^(INSERT|UPSERT) INTO (%s) ?(?:\(([^)]*)\))? ?VALUES ?(.+?)( ON CONFLICT.*DO NOTHING)?$" % Sql.IDENT,
                 s, re.I)
    if m:
        name = qualify(m.group(2).lower(), database)
        table = lookup_table(state, name)
        colnames = [c[0] for c in table["columns"]]
        target = [c.strip().lower() for c in m.group(3).split(",")] if m.group(3) else colnames
        rows = state["rows"].setdefault(name, {})
        count, written = 0, []
        for tup in Sql.split_top(m.group(4)):
            if not (tup.startswith("(") and tup.endswith(")")):
                raise DoubleError('at or near "%s": syntax error' % tup[:20], ["SQLSTATE: 42601"])
            values = [Sql.literal(v) for v in Sql.split_top(tup[1:-1])]
            row = [None] * len(colnames)
            for col, val in zip(target, values):
                idx = colnames.index(col)
                row[idx] = coerce(val, table["columns"][idx][1])
            key = row_key(table, row)
            if key in rows and rows[key].get("v") is not None and m.group(1).upper() == "INSERT":
                if m.group(5):
                    continue
                raise DoubleError('duplicate key value violates unique constraint "%s_pkey"' % name.split(".")[1],
                                  ["SQLSTATE: 23505", key_detail(table, row)])
            rows[key] = {"v": row, "ts": now, "w": writer}
            written.append(row)
            count += 1
        if returning:
            return returning_result(returning, colnames, written)
        return {"tag": "INSERT 0 %d" % count}
    m = re.match(r"^DELETE FROM (%s)(?: WHERE (\w+) ?= ?(.+))?$" % Sql.IDENT, s, re.I)
    if m:
        name = qualify(m.group(1).lower(), database)
        table = lookup_table(state, name)
        count = 0
        for key, reg in state["rows"].get(name, {}).items():
            if reg.get("v") is not None and row_matches(table, reg["v"], m.group(2), m.group(3)):
                state["rows"][name][key] = {"v": None, "ts": now, "w": writer}
                count += 1
        return {"tag": "DELETE %d" % count}
    m = re.match(r"^SELECT (.+?) FROM (%s)(?: WHERE (\w+) ?= ?(.+?))?(?: ORDER BY (\w+)( ASC| DESC)?)?(?: LIMIT (\d+))?$"
                 % Sql.IDENT, s, re.I)
    if m:
        name = qualify(m.group(2).lower(), database)
        table = lookup_table(state, name)
        colnames = [c[0] for c in table["columns"]]
        rows = [reg["v"] for reg in state["rows"].get(name, {}).values() if reg.get("v") is not None]
        rows = [r for r in rows if row_matches(table, r, m.group(3), m.group(4))]
        if m.group(5):
            idx = colnames.index(m.group(5).lower())
            numeric = table["columns"][idx][1].startswith("INT")
            rows.sort(key=lambda r: (r[idx] is None, int(r[idx]) if numeric and r[idx] is not None else r[idx]),
                      reverse=bool(m.group(6) and m.group(6).strip().upper() == "DESC"))
        elif table["pk"] is not None:
            pk = pk_columns(table)
            numeric = [table["columns"][i][1].startswith("INT") for i in pk]
            rows.sort(key=lambda r: [int(r[i]) if num else r[i] for i, num in zip(pk, numeric)])
        if m.group(7):
            rows = rows[:int(m.group(7))]
        select = m.group(1).strip()
        exprs = Sql.split_top(select)
        if all(re.match(r"^(count|sum)\(", e, re.I) for e in exprs):
            return aggregate_result(table, exprs, rows)
        if select == "*":
            picked = list(range(len(colnames)))
        else:
            picked = []
            for c in select.split(","):
                c = c.strip().lower()
                if c not in colnames:
                    raise DoubleError('column "%s" does not exist' % c, ["SQLSTATE: 42703"])
                picked.append(colnames.index(c))
        return {"columns": [colnames[i] for i in picked], "types": [table["columns"][i][1] for i in picked],
                "rows": [[r[i] for i in picked] for r in rows]}
    m = re.match(r"^SELECT (-?\d+)$", s, re.I)
    if m:
        return {"columns": ["?column?"], "types": ["INT8"], "rows": [[m.group(1)]]}
    if up in ("BEGIN", "COMMIT"):
        return {"tag": up}
    raise DoubleError("%s: statement not implemented by this test double: %s" % (DOUBLE_NAME, s),
                      ["SQLSTATE: 0A000"])


def returning_result(expr, colnames, rows):
    """RETURNING <col> or concat('<literal>', <col>): the forms the roles use to tell a write from a no-op."""
    m = re.match(r"^concat\('((?:[^']|'')*)', ?(\w+)\)$", expr, re.I)
    if m and m.group(2).lower() in colnames:
        idx = colnames.index(m.group(2).lower())
        return {"columns": ["concat"], "types": ["STRING"],
                "rows": [[m.group(1).replace("''", "'") + str(r[idx])] for r in rows]}
    if expr.lower() in colnames:
        idx = colnames.index(expr.lower())
        return {"columns": [expr.lower()], "types": ["STRING"], "rows": [[r[idx]] for r in rows]}
    raise DoubleError("%s: RETURNING %s is not implemented by this test double" % (DOUBLE_NAME, expr),
                      ["SQLSTATE: 0A000"])


def pk_columns(table):
    """Indexes of the primary key columns (tables stored before composite keys only have "pk")."""
    if table.get("pk_columns"):
        return table["pk_columns"]
    return [] if table["pk"] is None else [table["pk"]]


def row_key(table, row):
    pk = pk_columns(table)
    if not pk:
        return uuid.uuid4().hex
    if len(pk) == 1:
        return json.dumps(row[pk[0]])
    return json.dumps([row[i] for i in pk])


def key_detail(table, row):
    pk = pk_columns(table)
    if len(pk) == 1:
        return "DETAIL: Key (%s)=(%s) already exists." % (table["columns"][pk[0]][0], row[pk[0]])
    values = [row[i] if table["columns"][i][1].startswith("INT") else "'%s'" % row[i] for i in pk]
    names = ", ".join(table["columns"][i][0] for i in pk)
    return "DETAIL: Key (%s)=(%s) already exists." % (names, ", ".join(values))


def aggregate_result(table, exprs, rows):
    """count(*), count(col) and sum(<int col>) over the selected rows: one row, sum NULL when nothing is summed."""
    colnames = [c[0] for c in table["columns"]]
    columns, types, values = [], [], []
    for expr in exprs:
        m = re.match(r"^(count|sum) ?\( ?(\*|\w+) ?\)$", expr, re.I)
        if not m or (m.group(1).lower() == "sum" and m.group(2) == "*"):
            raise DoubleError("%s: %s is not implemented by this test double" % (DOUBLE_NAME, expr),
                              ["SQLSTATE: 0A000"])
        fn, arg = m.group(1).lower(), m.group(2).lower()
        if arg != "*" and arg not in colnames:
            raise DoubleError('column "%s" does not exist' % arg, ["SQLSTATE: 42703"])
        if fn == "count":
            idx = None if arg == "*" else colnames.index(arg)
            values.append(str(len([r for r in rows if idx is None or r[idx] is not None])))
            types.append("INT8")
        else:
            idx = colnames.index(arg)
            if not table["columns"][idx][1].startswith("INT"):
                raise DoubleError("unknown signature: sum(string)", ["SQLSTATE: 42883"])
            present = [int(r[idx]) for r in rows if r[idx] is not None]
            values.append(str(sum(present)) if present else None)
            types.append("DECIMAL")
        columns.append(fn)
    return {"columns": columns, "types": types, "rows": [values]}


def lookup_table(state, name):
    if name not in state["tables"]:
        raise DoubleError('relation "%s" does not exist' % name.split(".", 1)[1], ["SQLSTATE: 42P01"])
    return state["tables"][name]


def row_matches(table, row, col, raw):
    if not col:
        return True
    colnames = [c[0] for c in table["columns"]]
    col = col.lower()
    if col not in colnames:
        raise DoubleError('column "%s" does not exist' % col, ["SQLSTATE: 42703"])
    idx = colnames.index(col)
    return row[idx] == coerce(Sql.literal(raw), table["columns"][idx][1])


# ---------------------------------------------------------------------------------------------------------------
# The node process

class Node(object):
    def __init__(self, opts, info, cfg, start_mode="start"):
        self.info, self.cfg, self.start_mode = info, cfg, start_mode
        self.flavour = info["flavour"]
        self.lock = threading.RLock()
        self.store = store_path(opts.get("store"), FLAVOURS[self.flavour]["default_store"])
        os.makedirs(self.store, exist_ok=True)
        self.listen_host, self.port = split_hostport(opts.get("listen-addr", ""), int(opts.get("port", 26257)))
        http = opts.get("http-addr") or "%s:%s" % (opts.get("http-host", ""), opts.get("http-port", "8080"))
        self.http_host, self.http_port = split_hostport(http, 8080)
        adv_host = opts.get("advertise-host") or opts.get("advertise-addr") or socket.getfqdn()
        adv_host, adv_port = split_hostport(adv_host, int(opts.get("advertise-port", self.port)))
        self.address = "%s:%d" % (adv_host, adv_port)
        self.join = [a for a in (opts.get("join") or "").split(",") if a.strip()]
        self.locality = opts.get("locality", "")
        self.tls = load_tls(opts, "node")
        self.tls_client = self.tls["client"] if self.tls else None
        self.state_file = os.path.join(self.store, "crdb-double-state.json")
        self.id_file = os.path.join(self.store, "crdb-double-node.json")
        self.state = new_state()
        self.node_id = None
        self.cluster_id = None
        self.join_token = str(uuid.uuid4())
        self.clock = time.time
        self.started_at = time.time()
        self.stopping = False
        self.last_saved = None
        if os.path.exists(self.state_file):
            with open(self.state_file) as f:
                self.state = json.load(f)
        if os.path.exists(self.id_file):
            with open(self.id_file) as f:
                ident = json.load(f)
            self.node_id, self.cluster_id = ident["node_id"], ident["cluster_id"]

    # -- helpers
    def log(self, msg):
        sys.stderr.write("%s %s: %s\n" % (fmt_ts(self.clock()), DOUBLE_NAME, msg))
        sys.stderr.flush()

    def save(self):
        # The gossip loop and request threads (sql, init) both save. The whole write happens under the state lock:
        # two writers sharing the .tmp file would interleave their JSON or os.replace a .tmp the other one already
        # moved away (FileNotFoundError, which killed the loop), and a snapshot taken outside the write could let an
        # older state overwrite a newer one. One reentrant lock only, so the SIGTERM handler (main thread, maybe
        # inside save() or holding the lock already) cannot deadlock.
        with self.lock:
            text = json.dumps(self.state, sort_keys=True)
            if text == self.last_saved:
                return
            tmp = self.state_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, self.state_file)
            self.last_saved = text

    def save_identity(self):
        with self.lock:
            tmp = self.id_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"node_id": self.node_id, "cluster_id": self.cluster_id}, f)
            os.replace(tmp, self.id_file)

    def register_self(self, now):
        nid = str(self.node_id)
        rec = self.state["nodes"].setdefault(nid, {})
        rec["desc"] = {"v": {"address": self.address, "sql_address": self.address, "build": self.info["version"],
                             "started_at": self.started_at, "locality": self.locality,
                             "start_mode": self.start_mode}, "ts": now}
        rec["draining"] = {"v": False, "ts": now}
        rec["hb"] = now

    def is_self(self, addr):
        host, port = split_hostport(addr, self.port)
        my_host, my_port = split_hostport(self.address, self.port)
        return port == my_port and (host == my_host or my_host.startswith(host + "."))

    def peers(self):
        with self.lock:
            addrs = [reg_value(r, "desc", {}).get("address") for r in self.state["nodes"].values()]
        out = []
        # the --join entries are only needed until the advertised addresses of the other nodes are known
        for a in [a for a in addrs if a] or self.join:
            if not self.is_self(a) and a not in out:
                out.append(a)
        return out

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.state))

    def membership(self, nid):
        rec = self.state["nodes"].get(str(nid), {})
        return reg_value(rec, "membership", "active")

    def ready(self):
        with self.lock:
            if self.node_id is None:
                return False
            rec = self.state["nodes"].get(str(self.node_id), {})
            return not reg_value(rec, "draining", False) and self.membership(self.node_id) != "decommissioned" \
                and not self.stopping

    # -- background
    def gossip_with(self, addr):
        payload = {"op": "gossip", "state": self.snapshot()}
        try:
            reply = call(addr, payload, timeout=1.5, port=self.port, tls=self.tls_client)
        except (OSError, ValueError):
            return
        if "state" in reply:
            with self.lock:
                if self.cluster_id and reply["state"].get("cluster_id") not in (None, self.cluster_id):
                    return
                merge_state(self.state, reply["state"])

    def gossip_all(self):
        threads = [threading.Thread(target=self.gossip_with, args=(a,), daemon=True) for a in self.peers()]
        for t in threads:
            t.start()
        deadline = time.time() + 2.0
        for t in threads:
            t.join(max(0.0, deadline - time.time()))

    def try_join(self):
        for addr in self.join:
            if self.is_self(addr):
                continue
            try:
                reply = call(addr, {"op": "join", "address": self.address, "token": self.join_token}, timeout=10,
                             port=self.port, tls=self.tls_client)
            except (OSError, ValueError):
                continue
            if reply.get("node_id"):
                with self.lock:
                    merge_state(self.state, reply["state"])
                    self.node_id, self.cluster_id = reply["node_id"], reply["state"]["cluster_id"]
                    self.register_self(self.clock())
                self.save_identity()
                self.log("joined cluster %s as node n%d" % (self.cluster_id, self.node_id))
                return True
        return False

    def leader(self, now):
        views = [v for v in cluster_views(self.state, now, self.cfg) if v["is_live"]]
        return min(v["id"] for v in views) if views else None

    def refuse_if_removed(self):
        """A node decommissioned before this process started must not come back (CockroachDB refuses it too)."""
        with self.lock:
            reg = self.state["nodes"].get(str(self.node_id), {}).get("membership") or {}
        if reg.get("v") == "decommissioned" and reg.get("ts", 0) < self.started_at:
            self.log("node n%d was permanently removed from the cluster; it is not allowed to rejoin the cluster"
                     % self.node_id)
            os._exit(1)

    def maintain(self, now, dt):
        """Work the lowest live node does for the cluster: move replicas off, finalize upgrades."""
        if self.leader(now) != self.node_id:
            return
        rate = float(setting(self.state, "crdb_double.decommission_rate", "") or self.cfg["decommission_rate"])
        for nid, rec in self.state["nodes"].items():
            if reg_value(rec, "membership") == "decommissioning":
                left = reg_value(rec, "replicas", self.cfg["replicas"])
                if left > 0:
                    rec["replicas"] = {"v": max(0.0, left - rate * dt), "ts": now}
        if setting(self.state, "cluster.preserve_downgrade_option"):
            return
        # As the real auto-upgrade: a node that left and is no longer live (liveness status DECOMMISSIONED) does
        # not count; a member that is not live blocks it.
        views = [v for v in cluster_views(self.state, now, self.cfg)
                 if v["membership"] == "active" or (v["alive"] and v["membership"] != "decommissioned")]
        if any(not v["alive"] for v in views):
            return
        majors = [major_version(v["desc"].get("build")) for v in views]
        if majors and None not in majors:
            low = min(majors, key=version_key)
            if version_key(low) > version_key(setting(self.state, "version", "0")):
                self.state["settings"]["version"] = {"v": low, "ts": now, "w": self.node_id}
                self.log("cluster version finalized to %s" % low)

    def loop(self):
        last = self.clock()
        while not self.stopping:
            now = self.clock()
            if self.node_id is None:
                self.try_join()
            else:
                self.refuse_if_removed()
                with self.lock:
                    self.state["nodes"].setdefault(str(self.node_id), {})["hb"] = now
                    self.maintain(now, now - last)
                self.gossip_all()
                self.save()
            last = now
            time.sleep(self.cfg["gossip_interval"])

    # -- requests
    def handle(self, req):
        op = req.get("op")
        if op == "gossip":
            with self.lock:
                if req["state"].get("cluster_id") and self.cluster_id and req["state"]["cluster_id"] != self.cluster_id:
                    return {"error": "cluster id mismatch"}
                merge_state(self.state, req["state"])
            return {"state": self.snapshot()}
        if op == "init":
            return self.op_init()
        if op == "join":
            return self.op_join(req)
        if self.node_id is None:
            return {"error": "node is not part of an initialized cluster yet (%s: waiting for `init`)" % DOUBLE_NAME}
        if op == "state":
            return {"state": self.snapshot(), "now": self.clock(), "cfg": self.cfg, "node_id": self.node_id,
                    "flavour": self.flavour}
        if op == "decommission":
            return self.op_decommission(req)
        if op == "drain":
            return self.op_drain(req)
        if op == "sql":
            return self.op_sql(req)
        return {"error": "unknown request %r" % op}

    def op_init(self):
        with self.lock:
            if self.node_id is not None or self.state.get("cluster_id"):
                return {"error": "cluster has already been initialized"}
        for addr in self.join:
            if self.is_self(addr):
                continue
            try:
                reply = call(addr, {"op": "state"}, timeout=1, port=self.port, tls=self.tls_client)
            except (OSError, ValueError):
                continue
            if "state" in reply:
                return {"error": "cluster has already been initialized"}
        with self.lock:
            now = self.clock()
            self.cluster_id = str(uuid.uuid4())
            self.node_id = 1
            self.state["cluster_id"] = self.cluster_id
            self.state["next_id"] = 2
            self.state["settings"]["version"] = {"v": major_version(self.info["version"]) or "0.0", "ts": now, "w": 1}
            self.state["databases"]["defaultdb"] = now
            self.register_self(now)
        self.save_identity()
        self.save()
        self.log("cluster %s initialized; this is node n1" % self.cluster_id)
        return {"ok": True}

    def op_join(self, req):
        with self.lock:
            if self.node_id is None:
                return {"error": "not initialized"}
            leader = self.leader(self.clock())
            addr = reg_value(self.state["nodes"].get(str(leader), {}), "desc", {}).get("address")
        if leader is not None and leader != self.node_id and addr:
            try:
                return call(addr, req, timeout=10, port=self.port, tls=self.tls_client)
            except (OSError, ValueError):
                pass
        with self.lock:
            # A joining node retries with the same token when a reply is slow or lost: it gets the id it was
            # already given, so the retry cannot leave a second, never-started node behind as a dead one.
            token = req.get("token")
            given = [n for n, rec in self.state["nodes"].items() if token and rec.get("join") == token]
            if given:
                return {"node_id": int(given[0]), "state": self.snapshot()}
            nid = max([self.state.get("next_id", 1)] + [int(n) + 1 for n in self.state["nodes"]])
            self.state["next_id"] = nid + 1
            self.state["nodes"][str(nid)] = {"hb": self.clock()}
            if token:
                self.state["nodes"][str(nid)]["join"] = token
        return {"node_id": nid, "state": self.snapshot()}

    def op_decommission(self, req):
        target = req["target"]
        now = self.clock()
        with self.lock:
            for nid in req["ids"]:
                if str(nid) not in self.state["nodes"]:
                    return {"error": "node does not exist"}
            warnings = []
            for nid in req["ids"]:
                rec = self.state["nodes"][str(nid)]
                current = reg_value(rec, "membership", "active")
                if target == "decommissioning":
                    if current != "active" and req.get("first"):
                        warnings.append("warning: node %d is already decommissioning or decommissioned" % nid)
                    if current == "active":
                        alive = now - rec.get("hb", 0) < self.cfg["liveness_timeout"]
                        rec["membership"] = {"v": "decommissioning", "ts": now}
                        # a dead node reports no replicas: the cluster already re-replicated its ranges
                        rec["replicas"] = {"v": float(self.cfg["replicas"]) if alive else 0.0, "ts": now}
                elif target == "decommissioned":
                    rec["membership"] = {"v": "decommissioned", "ts": now}
                    if now - rec.get("hb", 0) < self.cfg["liveness_timeout"]:
                        rec["draining"] = {"v": True, "ts": now}
                elif target == "active":
                    if current == "decommissioned":
                        return {"error": "can only recommission a decommissioning node; n%d found to be "
                                         "decommissioned" % nid}
                    if current != "active":
                        rec["membership"] = {"v": "active", "ts": now}
                        rec["replicas"] = {"v": float(self.cfg["replicas"]), "ts": now}
            statuses = []
            for nid in req["ids"]:
                v = node_view(self.state, nid, now, self.cfg)
                statuses.append({"id": nid, "is_live": v["is_live"], "replicas": v["replicas"],
                                 "membership": v["membership"], "draining": v["draining"]})
        self.gossip_all()
        return {"statuses": statuses, "warnings": warnings}

    def op_drain(self, req):
        nid = req.get("id") or self.node_id
        now = self.clock()
        with self.lock:
            if str(nid) not in self.state["nodes"]:
                return {"error": "node does not exist"}
            rec = self.state["nodes"][str(nid)]
            rec["draining"] = {"v": True, "ts": now}
            leases = node_view(self.state, nid, now, self.cfg)["replicas"] // 3
        self.gossip_all()
        return {"remaining": leases}

    def op_sql(self, req):
        results = []
        with self.lock:
            now = self.clock()
            for stmt in req["statements"]:
                try:
                    results.append(execute_sql(self.state, stmt, req.get("database") or "defaultdb", now,
                                               self.node_id))
                except DoubleError as e:
                    results.append({"error": e.msg, "extra": e.extra})
                    break
        if any("tag" in r and r["tag"].split()[0] in ("INSERT", "DELETE", "CREATE", "SET") for r in results):
            self.gossip_all()
            self.save()
        return {"results": results}

    # -- servers
    def serve(self):
        node = self

        class TcpHandler(socketserver.StreamRequestHandler):
            def setup(self):
                self.peer = tls_handshake(self.request)
                socketserver.StreamRequestHandler.setup(self)

            def handle(self):
                if self.peer is None:
                    return
                try:
                    line = self.rfile.readline()
                    req = json.loads(line.decode("utf-8"))
                    if node.tls and req.get("op") in ("gossip", "join") and self.peer != "node":
                        reply = {"error": "only nodes may %s; the client certificate is for %r"
                                          % (req.get("op"), self.peer)}
                    else:
                        reply = node.handle(req)
                except Exception as e:  # the request loop must survive any bad request
                    reply = {"error": "%s: internal error: %s" % (DOUBLE_NAME, e)}
                self.wfile.write((json.dumps(reply) + "\n").encode("utf-8"))

        class HttpHandler(BaseHTTPRequestHandler):
            def setup(self):
                self.peer = tls_handshake(self.request)
                BaseHTTPRequestHandler.setup(self)

            def handle(self):
                if self.peer is not None:
                    BaseHTTPRequestHandler.handle(self)

            def do_GET(self):
                path, _sep, query = self.path.partition("?")
                if path != "/health":
                    self.send_response(404)
                    self.end_headers()
                    return
                if "ready=1" in query or "ready=true" in query:
                    ok = node.ready()
                else:
                    ok = not node.stopping
                body = json.dumps({"nodeId": node.node_id or 0, "double": DOUBLE_NAME,
                                   "ready": ok}).encode("utf-8")
                self.send_response(200 if ok else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.daemon_threads = True
        tcp = tls_server(socketserver.ThreadingTCPServer, self.tls and self.tls["server"])(
            (self.listen_host, self.port), TcpHandler)
        ThreadingHTTPServer.daemon_threads = True
        http_server = tls_server(ThreadingHTTPServer, self.tls and self.tls["http"])
        http = http_server((self.http_host, self.http_port), HttpHandler)
        threading.Thread(target=tcp.serve_forever, daemon=True).start()
        threading.Thread(target=http.serve_forever, daemon=True).start()
        self.log("TEST DOUBLE emulating %s %s (not a database): node %s, %s, listening on %s:%d, http %s:%d, join %s"
                 % (FLAVOURS[self.flavour]["product"], self.info["version"],
                    "n%d" % self.node_id if self.node_id else "(not yet joined)",
                    "secure (certificates in %s)" % self.tls["dir"] if self.tls else "INSECURE", self.listen_host or "*",
                    self.port, self.http_host or "*", self.http_port, ",".join(self.join) or "-"))
        if self.node_id is not None:
            self.refuse_if_removed()
            with self.lock:
                self.register_self(self.clock())

    def stop(self, *_):
        self.stopping = True
        self.log("received signal; draining and shutting down")
        try:
            self.save()
        finally:
            os._exit(0)


def store_path(spec, default):
    if not spec:
        return os.path.abspath(default)
    for part in spec.split(","):
        if part.startswith("path="):
            return part[5:]
    if "=" in spec.split(",")[0]:
        return os.path.abspath(default)
    return spec.split(",")[0]


def split_hostport(text, default_port):
    text = (text or "").strip()
    if text.startswith("["):
        host, _sep, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:] else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port) if port else default_port
    return text, default_port


def call(addr, payload, timeout=5.0, port=26257, tls=None):
    host, p = split_hostport(addr, port)
    with socket.create_connection((host or "localhost", p), timeout=timeout) as raw:
        raw.settimeout(timeout)
        sock = tls.wrap_socket(raw, server_hostname=host or "localhost") if tls is not None else raw
        try:
            sock.sendall((json.dumps(payload) + "\n").encode("utf-8"))
            chunks = []
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        finally:
            sock.close()
    return json.loads(b"".join(chunks).decode("utf-8"))


# ---------------------------------------------------------------------------------------------------------------
# Command line

def parse_args(argv):
    opts, positional, multi = {}, [], {"e": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            positional += argv[i + 1:]
            break
        if arg.startswith("-") and len(arg) > 1 and not re.match(r"^-\d", arg):
            name, eq, value = arg.lstrip("-").partition("=")
            if not eq and name in VALUE_FLAGS and i + 1 < len(argv):
                value = argv[i + 1]
                i += 1
            elif not eq:
                value = "true"
            if name in ("e", "execute"):
                multi["e"].append(value)
            else:
                opts[name] = value
        else:
            positional.append(arg)
        i += 1
    opts["_statements"] = multi["e"]
    return opts, positional


def target_address(opts):
    if opts.get("url"):
        m = re.match(r"^\w+://(?:[^@/]*@)?([^/?]+)", opts["url"])
        if m:
            return m.group(1)
    host = opts.get("host") or os.environ.get("COCKROACH_HOST") or "localhost"
    port = opts.get("port") or os.environ.get("COCKROACH_PORT") or "26257"
    h, p = split_hostport(host, int(port))
    return "%s:%d" % (h, p)


def url_user(opts):
    m = re.match(r"^\w+://([^@:/]+)[^@/]*@", opts.get("url") or "")
    return m.group(1) if m else None


def dial_error(addr, exc):
    """The client's message when the server cannot be reached, with Go's wording of the cause."""
    host, port = split_hostport(addr, 26257)
    if isinstance(exc, socket.gaierror):
        cause = "dial tcp: lookup %s: no such host" % host
    elif isinstance(exc, ConnectionRefusedError):
        cause = "dial tcp %s:%d: connect: connection refused" % (host, port)
    elif isinstance(exc, socket.timeout):
        cause = "dial tcp %s:%d: i/o timeout" % (host, port)
    else:
        cause = "dial tcp %s:%d: %s" % (host, port, exc.strerror or exc)
    return DoubleError("cannot dial server.\nIs the server running?\nIf the server is running, check --host "
                       "client-side and --advertise server-side.\n\n" + cause)


def default_format():
    return "table" if sys.stdout.isatty() else "tsv"


class Cli(object):
    """Client side of the double. `transport(op_payload) -> reply` is replaceable for tests."""

    def __init__(self, program, info, opts, transport=None, out=None, err=None, sleep=time.sleep):
        self.program, self.info, self.opts = program, info, opts
        self.flavour = info["flavour"]
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.sleep = sleep
        self.addr = target_address(opts)
        self.transport = transport or self._tcp
        self.tls = None
        if transport is None:
            self.tls = load_tls(opts, "client", opts.get("user") or opts.get("u") or url_user(opts) or "root")

    def _tcp(self, payload):
        try:
            return call(self.addr, payload, timeout=15, tls=self.tls and self.tls["client"])
        except ssl.SSLError as e:
            raise DoubleError("cannot establish a TLS connection to %s: %s" % (self.addr, e))
        except OSError as e:
            raise dial_error(self.addr, e)
        except ValueError:
            if self.tls is None:
                raise DoubleError("node is running secure mode, SSL connection required")
            raise DoubleError("%s: the server at %s closed the connection (was the client certificate refused?)"
                              % (DOUBLE_NAME, self.addr))

    def request(self, payload):
        reply = self.transport(payload)
        if "error" in reply:
            raise DoubleError(reply["error"], reply.get("extra"))
        return reply

    def fmt(self):
        return self.opts.get("format") or default_format()

    def node_status(self, args):
        reply = self.request({"op": "state"})
        show_all = self.opts.get("all") == "true"
        node_id = int(args[0]) if args else None
        headers, rows = status_rows(reply["state"], reply["now"], reply["cfg"], self.flavour,
                                    show_ranges=show_all or self.opts.get("ranges") == "true",
                                    show_stats=show_all or self.opts.get("stats") == "true",
                                    show_decommission=show_all or self.opts.get("decommission") == "true",
                                    node_id=node_id)
        self.out.write(render(headers, rows, self.fmt(), type_align(headers)))

    def node_ls(self):
        reply = self.request({"op": "state"})
        headers, rows = status_rows(reply["state"], reply["now"], reply["cfg"], self.flavour)
        self.out.write(render(["id"], [[r[0]] for r in rows], self.fmt(), "r"))

    def decommission(self, args, wait):
        if not args:
            raise DoubleError("no node ID specified")
        ids = [int(a) for a in args]
        spec = FLAVOURS[self.flavour]
        prev, first, delay = None, True, 0.05
        while True:
            reply = self.request({"op": "decommission", "ids": ids, "target": "decommissioning", "first": first})
            for w in reply.get("warnings", []):
                self.err.write(w + "\n")
            first = False
            statuses = reply["statuses"]
            if statuses != prev:
                self.err.write("\n")
                headers, rows = decommission_rows(statuses, self.flavour)
                self.out.write(render(headers, rows, self.fmt(), spec["decommission_align"]))
                prev = statuses
            else:
                self.err.write(".")
            any_active = any(s["membership"] == "active" for s in statuses)
            replicas = sum(s["replicas"] for s in statuses)
            if not any_active and replicas == 0:
                if spec["membership"]:
                    self.request({"op": "decommission", "ids": ids, "target": "decommissioned"})
                self.out.write(DECOMMISSION_DONE)
                return
            if wait == "none":
                return
            self.sleep(delay)
            delay = min(delay * 2, 1.0)

    def recommission(self, args):
        if not args:
            raise DoubleError("no node ID specified; use --self to target the node specified with --host")
        reply = self.request({"op": "decommission", "ids": [int(a) for a in args], "target": "active"})
        headers, rows = decommission_rows(reply["statuses"], self.flavour)
        self.out.write(render(headers, rows, self.fmt(), FLAVOURS[self.flavour]["decommission_align"]))

    def drain(self, args):
        if not args and self.opts.get("self") != "true":
            self.err.write("warning: draining a node without node ID or passing --self explicitly is deprecated.\n")
        reply = self.request({"op": "drain", "id": int(args[0]) if args else None})
        if reply["remaining"]:
            self.err.write("node is draining... remaining: %d\n" % reply["remaining"])
        self.err.write("node is draining... remaining: 0 (complete)\n")
        self.out.write("ok\n")

    def sql(self):
        statements = []
        for e in self.opts["_statements"]:
            statements += Sql.split(e)
        if not self.opts["_statements"] and not sys.stdin.isatty():
            statements = Sql.split(sys.stdin.read())
        if not statements:
            raise DoubleError("%s: interactive SQL shell is not implemented by this test double; use -e" % DOUBLE_NAME)
        reply = self.request({"op": "sql", "statements": statements,
                              "database": self.opts.get("database") or self.opts.get("d")})
        for res in reply["results"]:
            if "error" in res:
                raise DoubleError(res["error"], res.get("extra"))
            if "tag" in res:
                self.out.write(res["tag"] + "\n")
            else:
                align = "".join("r" if t.startswith(("INT", "DECIMAL", "FLOAT")) else "l" for t in res["types"])
                self.out.write(render(res["columns"], res["rows"], self.fmt(), align))

    def init(self):
        deadline = time.time() + float(self.opts.get("timeout", "30").rstrip("s") or 30)
        while True:
            try:
                self.request({"op": "init"})
                break
            except DoubleError as e:
                if not e.msg.startswith("cannot dial server") or time.time() > deadline:
                    raise
                self.sleep(1)
        self.out.write("Cluster successfully initialized\n")

    def version(self):
        if self.opts.get("build-tag") == "true":
            self.out.write(self.info["version"] + "\n")
            return
        self.out.write("Build Tag:        %s\n" % self.info["version"])
        self.out.write("Build Type:       TEST DOUBLE (%s, emulates the %s command line for orchestration tests; "
                       "it is not %s)\n" % (DOUBLE_NAME, self.program, FLAVOURS[self.flavour]["product"]))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    program = "cockroach"
    if len(argv) >= 2 and argv[0] == "--program":
        program = argv[1]
        argv = argv[2:]
    info = build_info(program)
    opts, args = parse_args(argv)
    command = args[0] if args else ""
    if opts.get("version") == "true" or command == "version":
        Cli(program, info, opts, transport=dict).version()
        return 0
    if command in ("start", "start-single-node", "start-single-replica"):
        try:
            node = Node(opts, info, config(), start_mode=command)
        except DoubleError as e:
            sys.stderr.write("ERROR: %s\nFailed running \"%s\"\n" % (e.msg, command))
            return 1
        faulthandler.register(signal.SIGUSR1)
        signal.signal(signal.SIGTERM, node.stop)
        signal.signal(signal.SIGINT, node.stop)
        node.serve()
        if command != "start" and node.node_id is None:
            node.op_init()
        node.loop()
        return 0
    name = " ".join(args[:2]) if command == "node" else command
    try:
        cli = Cli(program, info, opts)
        if command == "init":
            cli.init()
        elif command == "sql":
            cli.sql()
        elif command == "node" and len(args) > 1 and args[1] == "status":
            cli.node_status(args[2:])
        elif command == "node" and len(args) > 1 and args[1] == "ls":
            cli.node_ls()
        elif command == "node" and len(args) > 1 and args[1] == "decommission":
            cli.decommission(args[2:], opts.get("wait", "all"))
        elif command == "node" and len(args) > 1 and args[1] == "recommission":
            cli.recommission(args[2:])
        elif command == "node" and len(args) > 1 and args[1] == "drain":
            cli.drain(args[2:])
        else:
            raise DoubleError("%s: command %r is not implemented by this test double" % (DOUBLE_NAME, " ".join(args)))
    except DoubleError as e:
        sys.stdout.flush()
        sys.stderr.write("ERROR: %s\n" % e.msg)
        for line in e.extra:
            sys.stderr.write(line + "\n")
        sys.stderr.write('Failed running "%s"\n' % name)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
