# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Measures: the backup and restore roles (MariaDB, logical) vs a plain copy of the same data directory with tar through kubectl exec.
"""backup and restore vs tar of the data directory.

One MariaDB 11.8 (db_cluster, local PV) holds --rows rows of random text. Ours: the backup role (a Job from the
database's image dumps every database into a claim of the same storage class, gzip-compressed) and the restore role
(into a second cluster), each one ``ansible-playbook`` run, wall time; "[dump only]" and "[load only]" are the
Job's own times from the role's report. Baseline: ``kubectl exec <pod> -- tar -cf - -C /var/lib/mysql .`` to a file on
this host, and the same bytes extracted with ``kubectl exec -i`` into a directory of the second cluster's pod. The
throughput (extra ``mb_per_s``) is the data directory's size (``du -sb``) over each side's time, so both are measured
against the same bytes; the dump's own size is reported next to it.
"""

from __future__ import absolute_import, division, print_function

import os
import time

from benchlib import BenchError, kubectl, log, measure_and_clean, parser, pv_dir, run, run_main, start_mariadb_pair, \
    wait_ready_pod

__metaclass__ = type

PREFIX = "dok-bench-bk-"
IMAGE = "dok.test/mariadb:11.8"


def deploy(play, node, namespace, name, password, extra_volumes=()):
    paths = [pv_dir(node, namespace)] + [pv_dir(node, namespace + "-" + v) for v in extra_volumes]
    play.run([
        {"name": "Create the PV directories", "loop": paths,
         "ansible.builtin.file": {"path": "{{ item }}", "state": "directory", "mode": "0755"}},
        {"name": "Register the local PVs", "dok.databases.local_pv": {
            "name_prefix": namespace, "storage_class": namespace,
            "volumes": [{"node": node, "path": p, "capacity": "20Gi"} for p in paths]}},
        {"name": "Deploy MariaDB", "ansible.builtin.include_role": {"name": "dok.databases.db_cluster"},
         "vars": {"db_cluster_engine": "mariadb", "db_cluster_name": name, "db_cluster_namespace": namespace,
                  "db_cluster_image": IMAGE, "db_cluster_storage_class": namespace,
                  "db_cluster_storage_size": "10Gi", "db_cluster_mariadb_root_password": password}},
    ])
    wait_ready_pod(namespace, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=database" % name)
    return "%s-0" % name


def sql(namespace, pod, statement, timeout=900):
    return kubectl("exec", "-n", namespace, pod, "-c", "mariadb", "--", "sh", "-c",
                   'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot -N -B -e "$0"', statement, timeout=timeout)[0]


def datadir_bytes(namespace, pod):
    out = kubectl("exec", "-n", namespace, pod, "-c", "mariadb", "--", "du", "-sb", "/var/lib/mysql")[0]
    return int(out.split()[0])


def role_run(play, role, role_vars, report):
    started = time.time()
    result = play.run([
        {"name": "Run the role", "ansible.builtin.include_role": {"name": "dok.databases." + role}, "vars": role_vars},
        {"name": "Read the report", "ansible.builtin.debug": {"var": report}},
    ])
    return time.time() - started, result["tasks"][-1]["result"][report]


def add_samples(res, what, job_part, label, mib, took, job_s, base_s):
    """One rep: the role's wall time and its Job's own time, each next to tar; throughput of the data directory."""
    res.add("%s, %s" % (what, label), "ours", took)
    res.add("%s, %s" % (what, label), "baseline", base_s)
    res.add("%s [%s only], %s" % (what, job_part, label), "ours", job_s)
    res.add("%s [%s only], %s" % (what, job_part, label), "baseline", base_s)
    row = res.row("%s, %s" % (what, label))
    row["extra"].setdefault("mb_per_s", {"ours": [], "baseline": []})
    row["extra"]["mb_per_s"]["ours"].append(round(mib / took, 2))
    row["extra"]["mb_per_s"]["baseline"].append(round(mib / base_s, 2))
    return row


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--node", default="dok-node-1", help="node of the local PVs")
    p.add_argument("--rows", type=int, default=200000, help="rows of about 520 bytes each")
    args = p.parse_args()
    res, play, password = start_mariadb_pair("backup", args, PREFIX, "MariaDB on local PVs")
    src_ns, dst_ns = PREFIX + "src", PREFIX + "dst"
    tarball = os.path.join(play.workdir, "datadir.tar")

    def measure():
        src = deploy(play, args.node, src_ns, "bk", password, extra_volumes=["store"])
        dst = deploy(play, args.node, dst_ns, "bkr", password)
        log("writing %d rows" % args.rows)
        sql(src_ns, src, "CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY, v VARCHAR(600)) ENGINE=InnoDB; "
                         "INSERT INTO b.t SELECT seq, TO_BASE64(RANDOM_BYTES(384)) FROM b.seq_1_to_%d" % args.rows)
        size = datadir_bytes(src_ns, src)
        mib = size / 1048576.0
        label = "%d rows, data directory %.0f MiB" % (args.rows, mib)
        for rep in range(args.n):
            log("backup: rep %d/%d" % (rep + 1, args.n))
            took, report = role_run(play, "backup", {
                "backup_cluster": "bk", "backup_namespace": src_ns, "backup_pvc_storage_class": src_ns,
                "backup_pvc_size": "20Gi", "backup_name": "bk-%d" % rep}, "backup_report")
            dump_s = report["backup"]["duration_ms"] / 1000.0
            start = time.time()
            # The server keeps writing its files: GNU tar says so and exits 1, which is what a copy of a live data
            # directory is (not a consistent backup); only a worse status is a failure.
            run(["sh", "-c", 'kubectl exec -n "$0" "$1" -c mariadb -- sh -c "tar --warning=no-file-changed -cf - '
                 '-C /var/lib/mysql .; rc=\\$?; [ \\$rc -le 1 ]" > "$2"', src_ns, src, tarball], timeout=1800)
            tar_s = time.time() - start
            row = add_samples(res, "backup", "dump", label, mib, took, dump_s, tar_s)
            row["extra"]["dump_mib"] = round(report["backup"]["size_bytes"] / 1048576.0, 1)
            row["extra"]["tar_mib"] = round(os.path.getsize(tarball) / 1048576.0, 1)

            log("restore: rep %d/%d" % (rep + 1, args.n))
            took, report = role_run(play, "restore", {
                "restore_cluster": "bkr", "restore_namespace": dst_ns, "restore_source_cluster": "bk",
                "restore_source_namespace": src_ns, "restore_pvc_name": "bk-backups", "restore_pvc_namespace": src_ns,
                "restore_backup_name": "bk-%d" % rep, "restore_confirm": True}, "restore_report")
            load_s = report["duration_ms"] / 1000.0
            kubectl("exec", "-n", dst_ns, dst, "-c", "mariadb", "--", "sh", "-c",
                    "rm -rf /var/lib/mysql/dok-bench-copy && mkdir /var/lib/mysql/dok-bench-copy")
            start = time.time()
            run(["sh", "-c", 'kubectl exec -i -n "$0" "$1" -c mariadb -- tar -xf - -C /var/lib/mysql/dok-bench-copy < "$2"',
                 dst_ns, dst, tarball], timeout=1800)
            untar_s = time.time() - start
            kubectl("exec", "-n", dst_ns, dst, "-c", "mariadb", "--", "rm", "-rf", "/var/lib/mysql/dok-bench-copy")
            count = sql(dst_ns, dst, "SELECT COUNT(*) FROM b.t").strip()
            if count != str(args.rows):
                raise BenchError("the restore gave back %s rows of %d" % (count, args.rows))
            add_samples(res, "restore", "load", label, mib, took, load_s, untar_s)
        res.notes.append("ours = one ansible-playbook run of the role (wall); [dump only]/[load only] = the storage "
                         "Job's own time from the role's report; baseline = tar of the data directory through "
                         "kubectl exec to this host, and back into a directory of the second cluster's pod")
        res.notes.append("the logical dump is smaller than the data directory (no indexes, no free pages, gzip) but "
                         "costs SQL work; a restore rebuilds the tables and indexes, tar only copies files")

    measure_and_clean(res, args, PREFIX, measure)


if __name__ == "__main__":
    run_main(main)
