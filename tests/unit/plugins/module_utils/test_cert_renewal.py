"""Which of a cluster's own certificates db_cluster issues again: examples, refusals and properties over generated
certificate states."""
import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.dok.databases.plugins.module_utils.cert_renewal import (
    DAY, CertRenewalError, parse_time, plan,
)

NOW = "20261207120000Z"
NOW_S = parse_time(NOW)
CA_SUBJECT = {"commonName": "db.ns CA (dok.databases)", "organizationName": "Cockroach"}
SANS = ["DNS:localhost", "IP:127.0.0.1", "IP:::1", "DNS:db-public", "DNS:*.db"]


def asn1(seconds):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(seconds))


def leaf(days_left, sans=None, issuer=None):
    return {"not_after": asn1(NOW_S + int(days_left * DAY)), "subject_alt_name": list(SANS if sans is None else sans),
            "issuer": dict(CA_SUBJECT if issuer is None else issuer)}


def ca(days_left=3000):
    return {"not_after": asn1(NOW_S + days_left * DAY), "subject": dict(CA_SUBJECT)}


def test_parse_time_is_utc():
    assert parse_time("19700101000000Z") == 0
    assert parse_time("20270116110648Z") - parse_time("20270115110648Z") == DAY


@pytest.mark.parametrize("value", ["2027-01-16T11:06:48Z", "20270116110648", "20271316110648Z", "20270230000000Z",
                                   20270116110648, None, "", "20270116110648Z\n"])
def test_parse_time_refuses_what_it_cannot_read(value):
    with pytest.raises(CertRenewalError):
        parse_time(value)


def test_fresh_certificates_are_kept():
    result = plan({"node": leaf(1800), "client": leaf(1800)}, NOW, 30, False, SANS, ca())
    assert result["renew"] == {} and result["warnings"] == []
    assert result["expires"] == {"node": "2031-11-11", "client": "2031-11-11"}


def test_missing_secrets_are_issued():
    result = plan({"node": None, "client": leaf(1800)}, NOW, 30, False, SANS, ca())
    assert result["renew"] == {"node": ["its Secret is missing"]}


def test_rotation_issues_both_leaves_and_never_the_ca():
    result = plan({"node": leaf(1800), "client": leaf(1800)}, NOW, 30, True, SANS, ca())
    assert list(result["renew"]) == ["node", "client"]
    assert result["renew"]["node"] == ["rotation asked for (db_cluster_cert_rotate)"]


def test_expiring_and_expired():
    result = plan({"node": leaf(12.5), "client": leaf(-1)}, NOW, 30, False, SANS, ca())
    assert result["renew"]["node"] == ["expires on 2026-12-20, in 12 days (db_cluster_cert_renew_days: 30)"]
    assert result["renew"]["client"] == ["expired on 2026-12-06"]


def test_renew_days_zero_renews_only_once_expired():
    assert plan({"node": leaf(0.5), "client": leaf(1)}, NOW, 0, False, SANS, ca())["renew"] == {}
    assert list(plan({"node": leaf(-0.01), "client": leaf(1)}, NOW, 0, False, SANS, ca())["renew"]) == ["node"]


def test_node_certificate_lacking_a_name_is_issued_again_the_client_is_not_judged_by_names():
    result = plan({"node": leaf(1800, SANS[:-1]), "client": leaf(1800, [])}, NOW, 30, False, SANS, ca())
    assert result["renew"] == {"node": ["lacks names the cluster answers to: DNS:*.db"]}


def test_a_server_certificate_is_judged_by_its_names_like_a_node_certificate():
    result = plan({"server": leaf(1800, SANS[1:])}, NOW, 30, False, SANS, ca())
    assert result["renew"] == {"server": ["lacks names the cluster answers to: DNS:localhost"]}
    assert plan({"server": leaf(1800)}, NOW, 30, False, SANS, ca())["renew"] == {}
    assert plan({"server": None}, NOW, 30, False, SANS, None)["renew"] == {"server": ["its Secret is missing"]}


def test_leaf_of_another_ca_is_issued_again():
    other = {"commonName": "someone else", "organizationName": "Cockroach"}
    result = plan({"node": leaf(1800, issuer=other), "client": leaf(1800)}, NOW, 30, False, SANS, ca())
    assert result["renew"]["node"] == [
        "issued by commonName=someone else, organizationName=Cockroach, not by the cluster's CA "
        "(commonName=db.ns CA (dok.databases), organizationName=Cockroach)"]


def test_expiring_ca_is_a_warning_not_a_renewal():
    result = plan({"node": leaf(1800), "client": leaf(1800)}, NOW, 30, False, SANS, ca(20))
    assert result["renew"] == {}
    assert result["warnings"][0].startswith("The CA expires on 2026-12-27, in 20 days.")
    expired = plan({"node": leaf(1800), "client": leaf(1800)}, NOW, 30, False, SANS, ca(-2))
    assert expired["warnings"][0].startswith("The CA expired on 2026-12-05.")


@pytest.mark.parametrize("certs,kwargs,message", [
    ({"node": {"subject_alt_name": SANS}, "client": None}, {}, "node certificate's not_after"),
    ({"node": leaf(10), "client": None, "ca": None}, {}, "certs must map some of node, client, server"),
    ({}, {}, "certs must map some of"),
    ({"node": "PEM", "client": None}, {}, "not a mapping"),
    ({"node": dict(leaf(10), subject_alt_name="DNS:x"), "client": None}, {}, "not a list of names"),
    ({"node": leaf(10), "client": None}, {"renew_days": -1}, "db_cluster_cert_renew_days is -1"),
    ({"node": leaf(10), "client": None}, {"renew_days": "soon"}, "not a whole number"),
    ({"node": leaf(10), "client": None}, {"rotate": "maybe"}, "db_cluster_cert_rotate is 'maybe'"),
    ({"node": leaf(10), "client": None}, {"ca": {"subject": CA_SUBJECT}}, "CA certificate's not_after"),
    ({"node": leaf(10), "client": None}, {"ca": {"subject": "CN=x", "not_after": NOW}}, "CA certificate's subject"),
    ({"node": dict(leaf(10), issuer=None), "client": None}, {"ca": ca()}, "node certificate's issuer"),
    ({"node": leaf(10), "client": None}, {"node_sans": "DNS:localhost"}, "node_sans"),
])
def test_unreadable_input_is_refused(certs, kwargs, message):
    args = {"renew_days": 30, "rotate": False, "node_sans": SANS, "ca": None}
    args.update(kwargs)
    with pytest.raises(CertRenewalError) as err:
        plan(certs, NOW, **args)
    assert message in str(err.value)


_states = st.fixed_dictionaries({
    "node": st.one_of(st.none(), st.fixed_dictionaries({
        "days": st.floats(min_value=-400, max_value=4000, allow_nan=False),
        "sans": st.lists(st.sampled_from(SANS + ["DNS:old-name"]), unique=True),
        "foreign": st.booleans()})),
    "client": st.one_of(st.none(), st.fixed_dictionaries({
        "days": st.floats(min_value=-400, max_value=4000, allow_nan=False),
        "sans": st.just([]), "foreign": st.booleans()})),
})


@settings(max_examples=300, deadline=None)
@given(state=_states, renew_days=st.integers(min_value=0, max_value=4000), rotate=st.booleans(),
       ca_days=st.integers(min_value=-100, max_value=4000))
def test_a_leaf_is_issued_again_exactly_when_a_rule_says_so(state, renew_days, rotate, ca_days):
    other = {"commonName": "other CA"}
    certs = {kind: None if s is None else leaf(s["days"], s["sans"], other if s["foreign"] else CA_SUBJECT)
             for kind, s in state.items()}
    result = plan(certs, NOW, renew_days, rotate, SANS, ca(ca_days))
    for kind, s in state.items():
        if s is None:
            expected = True
        else:
            # the certificate's time has whole seconds, as a real one does
            left = parse_time(certs[kind]["not_after"]) - NOW_S
            lacking = kind == "node" and not set(SANS) <= set(s["sans"])
            expected = rotate or left <= renew_days * DAY or lacking or s["foreign"]
        assert (kind in result["renew"]) == expected, (kind, s, result)
        if expected:
            assert result["renew"][kind], "every renewal names a reason"
    assert set(result["renew"]) <= {"node", "client"}, "the CA is never issued again"
    assert bool(result["warnings"]) == (ca_days * DAY <= renew_days * DAY)
