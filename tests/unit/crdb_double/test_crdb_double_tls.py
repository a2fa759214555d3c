# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLI double in secure mode, as the real CLI: nodes and clients refuse to run without valid certificates, every
connection is TLS with certificates from one CA, and a client of another CA or without TLS gets nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.util
import ipaddress
import os
import ssl
import subprocess
import sys
import urllib.request

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_crdb_double_nodes import Cluster, all_live, succeeded  # noqa: E402 pylint: disable=wrong-import-position

SPEC = importlib.util.spec_from_file_location(
    "crdb_double", os.path.join(HERE, "..", "..", "images", "crdb-double", "crdb_double.py"))
cd = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(cd)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data, mode=0o600):
    with open(str(path), "wb") as f:
        f.write(data)
    os.chmod(str(path), mode)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Ca:
    def __init__(self, cn="Test CA"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))

    def issue(self, cn, dns=(), ips=()):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                        x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return key, builder.sign(self.key, hashes.SHA256())

    def write_dir(self, path, name, key, cert):
        path.mkdir(exist_ok=True)
        _write(path / "ca.crt", self.cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(path / (name + ".crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(path / (name + ".key"), _key_pem(key))
        return str(path)


@pytest.fixture
def certs(tmp_path):
    ca = Ca()
    node_key, node_cert = ca.issue("node", dns=["localhost"], ips=["127.0.0.1"])
    root_key, root_cert = ca.issue("root")
    other = Ca("Another CA")
    other_key, other_cert = other.issue("root")
    return {
        "node": ca.write_dir(tmp_path / "node-certs", "node", node_key, node_cert),
        "client": ca.write_dir(tmp_path / "client-certs", "client.root", root_key, root_cert),
        "foreign": other.write_dir(tmp_path / "foreign-certs", "client.root", other_key, other_cert),
        "tmp": tmp_path,
    }


def _run_start(args, tmp_path):
    return subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "images", "crdb-double", "crdb_double.py"),
                           "start", "--store=%s" % (tmp_path / "store"), "--listen-addr=127.0.0.1:1",
                           "--http-addr=127.0.0.1:1"] + args,
                          capture_output=True, text=True, timeout=30, check=False,
                          env=dict(os.environ, CRDB_DOUBLE_VERSION="v23.1.11"))


def test_a_node_refuses_to_start_without_certificates_or_with_files_that_are_not_pem(certs):
    tmp = certs["tmp"]
    res = _run_start(["--certs-dir=%s" % (tmp / "nowhere")], tmp)
    assert res.returncode == 1 and "ERROR: cannot load certificates." in res.stderr
    assert "does certs dir exist?" in res.stderr and "use --insecure" in res.stderr

    # a client certificate directory has no node.crt/node.key
    res = _run_start(["--certs-dir=%s" % certs["client"]], tmp)
    assert res.returncode == 1 and "node.crt, node.key not found in" in res.stderr

    broken = tmp / "broken"
    broken.mkdir()
    for name in ("ca.crt", "node.crt", "node.key"):
        with open(os.path.join(certs["node"], name), "rb") as f:
            _write(broken / name, f.read())
    _write(broken / "node.crt", b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    res = _run_start(["--certs-dir=%s" % broken], tmp)
    assert res.returncode == 1 and "problem with the certificates in" in res.stderr

    # a node certificate whose key belongs to another certificate
    with open(os.path.join(certs["client"], "client.root.key"), "rb") as f:
        _write(broken / "node.key", f.read())
    with open(os.path.join(certs["node"], "node.crt"), "rb") as f:
        _write(broken / "node.crt", f.read())
    res = _run_start(["--certs-dir=%s" % broken], tmp)
    assert res.returncode == 1 and "problem with the certificates in" in res.stderr


def test_a_client_certificate_must_be_for_its_user(certs):
    with pytest.raises(cd.DoubleError) as err:
        cd.load_tls({"certs-dir": certs["node"]}, "client")
    assert "client.root.crt, client.root.key not found" in err.value.msg
    with pytest.raises(cd.DoubleError) as err:
        cd.load_tls({"certs-dir": certs["client"]}, "client", user="app")
    assert "client.app.crt" in err.value.msg
    assert cd.load_tls({"insecure": "true"}, "client") is None
    assert cd.load_tls({"url": "postgresql://root@h:26257/db?sslmode=disable"}, "client") is None


def test_a_secure_cluster_serves_clients_of_its_ca_only(certs):
    cluster = Cluster(certs["tmp"], node_security=["--certs-dir=%s" % certs["node"]],
                      client_security=["--certs-dir=%s" % certs["client"]])
    try:
        for i in range(3):
            cluster.start(i)
        assert succeeded(cluster.until("init", lambda: succeeded(cluster.cli(0, "init"))))
        cluster.until("three live nodes over TLS", lambda: all_live(cluster.status(1), 3))
        res = cluster.cli(2, "sql", "-e", "CREATE TABLE t (k INT PRIMARY KEY)", "-e", "INSERT INTO t VALUES (7)")
        assert res.returncode == 0, res.stderr

        # the double's rows reach the other nodes by gossip (over TLS too)
        def row_read_back():
            res = cluster.cli(1, "sql", "--format=csv", "-e", "SELECT k FROM t")
            return res if res.stdout == "k\n7\n" else None

        res = cluster.until("the row on another node", row_read_back)
        assert res.stdout == "k\n7\n"

        plain = cluster.cli(0, "node", "status", security=["--insecure"])
        assert plain.returncode == 1 and "node is running secure mode, SSL connection required" in plain.stderr
        foreign = cluster.cli(0, "node", "status", security=["--certs-dir=%s" % certs["foreign"]])
        assert foreign.returncode == 1 and "cannot establish a TLS connection" in foreign.stderr
        missing = cluster.cli(0, "node", "status", security=["--certs-dir=%s" % (certs["tmp"] / "none")])
        assert missing.returncode == 1 and "cannot load certificates" in missing.stderr

        # /health is HTTPS with the node certificate, verifiable against the CA
        context = ssl.create_default_context(cafile=os.path.join(certs["node"], "ca.crt"))
        url = "https://localhost:%d/health?ready=1" % cluster.http_ports[0]
        with urllib.request.urlopen(url, context=context, timeout=10) as resp:
            assert resp.status == 200
        with pytest.raises((OSError, ValueError)):
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % cluster.http_ports[0], timeout=5) as resp:
                resp.read()
    finally:
        cluster.stop()
