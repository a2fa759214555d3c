# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client pods get the CA and one user's client certificate from the database pod's certificate volume, never a
node key, whatever shape that volume has."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils import client_certs

CERTS = "/cockroach/cockroach-certs"


def spec(volume, mount=CERTS, name="cockroachdb"):
    return {"containers": [{"name": name, "volumeMounts": [{"name": "certs", "mountPath": mount}]}],
            "volumes": [dict(volume, name="certs")]}


def test_the_role_s_projected_volume_gives_the_ca_and_the_root_client_certificate_only():
    volume = {"projected": {"sources": [
        {"secret": {"name": "db-node-certs", "items": [{"key": "ca.crt", "path": "ca.crt"},
                                                       {"key": "node.crt", "path": "node.crt"},
                                                       {"key": "node.key", "path": "node.key"}]}},
        {"secret": {"name": "db-root-certs", "items": [{"key": "client.root.crt", "path": "client.root.crt"},
                                                       {"key": "client.root.key", "path": "client.root.key"}]}}]}}
    found = client_certs.sources(spec(volume), "cockroachdb", CERTS)
    assert found == [
        {"secret": {"name": "db-node-certs", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"secret": {"name": "db-root-certs", "items": [{"key": "client.root.crt", "path": "client.root.crt"},
                                                       {"key": "client.root.key", "path": "client.root.key"}]}}]
    assert client_certs.missing(found) == []
    assert client_certs.missing(found, "app") == ["client.app.crt", "client.app.key"]


def test_a_whole_secret_volume_is_narrowed_to_the_client_files_and_optional():
    found = client_certs.sources(spec({"secret": {"secretName": "mine"}}), "cockroachdb", CERTS, "app")
    assert found == [{"secret": {"name": "mine", "optional": True, "items": [
        {"key": "ca.crt", "path": "ca.crt"}, {"key": "client.app.crt", "path": "client.app.crt"},
        {"key": "client.app.key", "path": "client.app.key"}]}}]


def test_no_mount_at_the_certificates_directory_gives_nothing():
    assert client_certs.sources(spec({"emptyDir": {}}, mount="/other"), "cockroachdb", CERTS) == []
    assert client_certs.sources({"containers": []}, "cockroachdb", CERTS) == []


@pytest.mark.parametrize("bad", [None, [], {"containers": "x"}, "spec"])
def test_what_is_not_a_pod_spec_is_refused(bad):
    with pytest.raises(client_certs.ClientCertsError):
        client_certs.sources(bad, "cockroachdb", CERTS)


@pytest.mark.parametrize("user", ["", "Root", "root; rm -rf /", "../node", None])
def test_a_user_that_is_not_a_sql_name_is_refused(user):
    with pytest.raises(client_certs.ClientCertsError):
        client_certs.sources(spec({"secret": {"secretName": "s"}}), "cockroachdb", CERTS, user)


KEYS = ["ca.crt", "node.crt", "node.key", "client.root.crt", "client.root.key", "client.app.crt", "client.app.key",
        "ca.key", "tls.crt"]
items = st.lists(st.sampled_from(KEYS), unique=True).map(
    lambda keys: [{"key": k, "path": k} for k in keys])
secret = st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "c"]), "items": items})
volumes = st.one_of(
    st.builds(lambda ss: {"projected": {"sources": [{"secret": s} for s in ss]}}, st.lists(secret, max_size=4)),
    st.builds(lambda s: {"secret": {"secretName": s["name"], "items": s["items"]}}, secret),
    st.just({"emptyDir": {}}))


@settings(max_examples=300, deadline=None)
@given(volumes, st.sampled_from(["root", "app"]))
def test_a_client_never_gets_a_node_or_ca_key_nor_another_user_s_certificate(volume, user):
    found = client_certs.sources(spec(volume), "cockroachdb", CERTS, user)
    wanted = set(client_certs.cert_keys(user))
    for source in found:
        assert source["secret"]["items"], source
        for item in source["secret"]["items"]:
            assert item["key"] in wanted and item["path"] in wanted
    # everything the volume offers of the client's files is found
    offered = set()
    secrets = [p["secret"] for p in volume.get("projected", {}).get("sources", [])]
    for s in secrets + ([volume["secret"]] if "secret" in volume else []):
        listed = s.get("items") or []
        offered |= set(i["key"] for i in listed) & wanted if listed else wanted
    assert set(client_certs.cert_keys(user)) - set(client_certs.missing(found, user)) == offered
