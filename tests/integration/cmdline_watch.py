#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch every process's command line for secrets while an integration target runs.

    cmdline_watch.py --secrets FILE --stop FILE --report FILE [--proc /proc] [--interval 0.05]

The secrets come from a file (one per line), never from this program's own arguments. On the project's cluster every
container is a process of this host, so /proc shows the pods' processes too (the database, its clients, preStop
hooks, probes' commands). The program samples /proc/*/cmdline every --interval seconds until the stop file exists,
then writes a JSON report {scans, processes, hits} and exits 0; the target asserts on the report. It ends without
a report when the secrets file is removed (a target that ended early). A hit names the
pid, the program and the command line with each secret replaced by <secret>. A process shorter than the interval can
be missed: the report's scan and process counts say how closely the run was watched.
"""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import time


def read_secrets(path):
    with open(path, "rb") as stream:
        secrets = [line.strip() for line in stream.read().splitlines() if line.strip()]
    if not secrets:
        raise SystemExit("cmdline_watch: %s holds no secret; nothing to watch for" % path)
    if any(len(s) < 6 for s in secrets):
        raise SystemExit("cmdline_watch: a secret shorter than 6 characters would match by chance; refusing")
    return secrets


def scan(proc, secrets, own_pid, seen, hits):
    for name in os.listdir(proc):
        if not name.isdigit() or int(name) == own_pid:
            continue
        try:
            with open(os.path.join(proc, name, "cmdline"), "rb") as stream:
                raw = stream.read()
        except (IOError, OSError):
            continue  # the process ended between listing and reading
        if not raw:
            continue
        seen.add((name, raw))
        if any(secret in raw for secret in secrets):
            text = raw
            for secret in secrets:
                text = text.replace(secret, b"<secret>")
            argv = [part.decode("utf-8", "replace") for part in text.split(b"\0") if part]
            key = (name, tuple(argv))
            if key not in {(h["pid"], tuple(h["argv"])) for h in hits}:
                hits.append({"pid": name, "program": argv[0] if argv else "", "argv": argv})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--proc", default="/proc")
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--max-seconds", type=float, default=3600)
    args = parser.parse_args(argv)
    secrets = read_secrets(args.secrets)
    own_pid, seen, hits, scans = os.getpid(), set(), [], 0
    deadline = time.time() + args.max_seconds
    while True:
        scan(args.proc, secrets, own_pid, seen, hits)
        scans += 1
        if os.path.exists(args.stop) or time.time() > deadline:
            break
        if not os.path.exists(args.secrets):
            return 0  # the target removed the watcher's files (it ended early): no one reads a report
        time.sleep(args.interval)
    report = {"scans": scans, "processes": len(seen), "hits": hits, "stopped": os.path.exists(args.stop)}
    tmp = args.report + ".tmp"
    with open(tmp, "w") as stream:
        json.dump(report, stream)
    os.rename(tmp, args.report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
