#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write rows to a Cassandra cluster and read them back, for integration tests that move data.

Uses the DataStax ``cassandra-driver`` from PyPI. Every acknowledged write is appended to a ledger file (one id per
line), so that rows written by a background writer during an operation can all be verified afterwards.

  cassandra_load.py schema  --hosts IP[,IP] --keyspace KS --rf 3 [--dc dc1]
  cassandra_load.py write   --hosts ... --keyspace KS --ledger FILE --start N --count M
  cassandra_load.py stream  --hosts ... --keyspace KS --ledger FILE --start N --max-rows M --max-seconds S
                            --stop-file F [--interval 0.05]
  cassandra_load.py verify  --hosts ... --keyspace KS --ledger FILE [--ledger FILE ...]

Every command prints one JSON object. ``verify`` exits 1 when a row is missing or has the wrong value.
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import hashlib
import json
import os
import sys
import time

from cassandra import ConsistencyLevel, OperationTimedOut
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import DCAwareRoundRobinPolicy, RetryPolicy

TABLE = "rows"
RETRIES = 5
DDL_TIMEOUT = 60.0
DDL_ATTEMPTS = 4


def value_of(row_id):
    return hashlib.sha256(("row-%d" % row_id).encode()).hexdigest()[:24]


def connect(args, keyspace=None):
    profile = ExecutionProfile(
        load_balancing_policy=DCAwareRoundRobinPolicy(local_dc=args.dc),
        consistency_level=ConsistencyLevel.name_to_value[args.consistency],
        retry_policy=RetryPolicy(),
        request_timeout=args.timeout,
    )
    cluster = Cluster(args.hosts.split(","), port=args.port, connect_timeout=args.timeout,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    return cluster, cluster.connect(keyspace)


def execute_ddl(session, statement, timeout, attempts=DDL_ATTEMPTS):
    """Schema changes wait for every node to agree, which a busy small node can take longer than one request for;
    the statements say IF NOT EXISTS, so running one again is safe."""
    for attempt in range(1, attempts + 1):
        try:
            return session.execute(statement, timeout=max(timeout, DDL_TIMEOUT))
        except (OperationTimedOut, NoHostAvailable):
            if attempt == attempts:
                raise
            time.sleep(5)


def schema(args):
    cluster, session = connect(args)
    try:
        for statement in (
                "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'NetworkTopologyStrategy', '%s': %d}"
                % (args.keyspace, args.dc, args.rf),
                "CREATE TABLE IF NOT EXISTS %s.%s (id bigint PRIMARY KEY, value text, written_at timestamp)"
                % (args.keyspace, TABLE)):
            execute_ddl(session, statement, args.timeout)
        cluster.control_connection.wait_for_schema_agreement()
    finally:
        cluster.shutdown()
    return {"keyspace": args.keyspace, "table": TABLE, "replication_factor": args.rf, "datacenter": args.dc}


def run_concurrent(session, statement, parameters, concurrency):
    """(success, result or exception) for each parameter tuple, in order, with at most ``concurrency`` in flight.

    The driver's execute_concurrent is not used: when a request times out on the client and Cassandra then reports a
    write timeout for it too, it records two outcomes and fails sorting them (TypeError).
    """
    results, pending = [], collections.deque()

    def settle():
        future = pending.popleft()
        try:
            results.append((True, future.result()))
        except Exception as exc:  # the caller retries or reports every failed request
            results.append((False, exc))

    for params in parameters:
        if len(pending) >= concurrency:
            settle()
        pending.append(session.execute_async(statement, params))
    while pending:
        settle()
    return results


def write_one(session, insert, row_id, errors):
    """Write one row, retrying a few times; True only when Cassandra acknowledged it at the chosen consistency."""
    for attempt in range(RETRIES):
        try:
            session.execute(insert, (row_id, value_of(row_id)))
            return True
        except Exception as exc:  # any driver error is a failed attempt; the ledger only keeps acknowledged rows
            errors.append("%d (attempt %d): %s" % (row_id, attempt + 1, exc))
            time.sleep(0.5 * (attempt + 1))
    return False


def write_rows(args, ids, should_stop=None):
    cluster, session = connect(args, args.keyspace)
    insert = session.prepare("INSERT INTO %s (id, value, written_at) VALUES (?, ?, toTimestamp(now()))" % TABLE)
    written, failed, errors = 0, [], []
    started = time.time()
    try:
        with open(args.ledger, "a") as ledger:
            for row_id in ids:
                if should_stop is not None and should_stop(started):
                    break
                if write_one(session, insert, row_id, errors):
                    ledger.write("%d\n" % row_id)
                    ledger.flush()
                    written += 1
                else:
                    failed.append(row_id)
                if args.interval:
                    time.sleep(args.interval)
    finally:
        cluster.shutdown()
    return {"written": written, "failed": failed, "errors": errors[-20:], "error_count": len(errors),
            "seconds": round(time.time() - started, 1), "ledger": args.ledger}


def write(args):
    """Bulk write with a bounded number of requests in flight; rows that fail are retried one by one."""
    ids = list(range(args.start, args.start + args.count))
    cluster, session = connect(args, args.keyspace)
    insert = session.prepare("INSERT INTO %s (id, value, written_at) VALUES (?, ?, toTimestamp(now()))" % TABLE)
    started = time.time()
    written, failed, errors = 0, [], []
    try:
        results = run_concurrent(session, insert, [(i, value_of(i)) for i in ids], args.concurrency)
        with open(args.ledger, "a") as ledger:
            for row_id, (success, outcome) in zip(ids, results):
                if not success:
                    errors.append("%d: %s" % (row_id, outcome))
                    success = write_one(session, insert, row_id, errors)
                if success:
                    ledger.write("%d\n" % row_id)
                    written += 1
                else:
                    failed.append(row_id)
    finally:
        cluster.shutdown()
    return {"written": written, "failed": failed, "errors": errors[-20:], "error_count": len(errors),
            "seconds": round(time.time() - started, 1), "ledger": args.ledger}


def stream(args):
    """Write until the stop file appears, bounded by --max-rows and --max-seconds whatever happens."""
    def should_stop(started):
        return os.path.exists(args.stop_file) or time.time() - started > args.max_seconds
    return write_rows(args, range(args.start, args.start + args.max_rows), should_stop)


def verify(args):
    expected = set()
    for path in args.ledger:
        with open(path) as ledger:
            expected.update(int(line) for line in ledger if line.strip())
    cluster, session = connect(args, args.keyspace)
    select = session.prepare("SELECT value FROM %s WHERE id = ?" % TABLE)
    missing, wrong, errors = [], [], []
    ids = sorted(expected)
    try:
        results = run_concurrent(session, select, [(i,) for i in ids], args.concurrency)
        retry = []
        for row_id, (success, outcome) in zip(ids, results):
            if not success:
                errors.append("%d: %s" % (row_id, outcome))
                retry.append(row_id)
                continue
            row = outcome.one()
            if row is None:
                retry.append(row_id)
            elif row.value != value_of(row_id):
                wrong.append(row_id)
        for row_id in retry:
            for attempt in range(RETRIES):
                try:
                    row = session.execute(select, (row_id,)).one()
                    break
                except Exception as exc:  # retried like the writes; a read that keeps failing is reported
                    errors.append("%d: %s" % (row_id, exc))
                    time.sleep(0.5 * (attempt + 1))
            else:
                missing.append(row_id)
                continue
            if row is None:
                missing.append(row_id)
            elif row.value != value_of(row_id):
                wrong.append(row_id)
    finally:
        cluster.shutdown()
    return {"expected": len(expected), "read_back": len(expected) - len(missing) - len(wrong),
            "missing": missing[:50], "missing_count": len(missing), "wrong": wrong[:50],
            "wrong_count": len(wrong), "errors": errors[-20:], "consistency": args.consistency}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("schema", "write", "stream", "verify"))
    parser.add_argument("--hosts", required=True, help="comma-separated contact points (pod IPs)")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--dc", default="dc1")
    parser.add_argument("--keyspace", required=True)
    parser.add_argument("--rf", type=int, default=3)
    parser.add_argument("--consistency", default="QUORUM", choices=sorted(ConsistencyLevel.name_to_value))
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--ledger", action="append", default=[])
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--max-rows", type=int, default=100000)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--stop-file")
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if args.command in ("write", "stream"):
        if len(args.ledger) != 1:
            parser.error("%s needs exactly one --ledger file" % args.command)
        args.ledger = args.ledger[0]
    if args.command == "stream" and not args.stop_file:
        parser.error("stream needs --stop-file")
    if args.command == "verify" and not args.ledger:
        parser.error("verify needs at least one --ledger file")
    result = {"schema": schema, "write": write, "stream": stream, "verify": verify}[args.command](args)
    print(json.dumps(result, sort_keys=True))
    if args.command == "verify":
        return 0 if not result["missing_count"] and not result["wrong_count"] else 1
    if args.command in ("write", "stream"):
        return 0 if not result["failed"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
