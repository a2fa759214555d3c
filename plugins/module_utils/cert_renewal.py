# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of a cluster's own leaf certificates (node, client, server) db_cluster issues again, and why.

The input is what community.crypto's ``x509_certificate_info`` filter reads from each certificate kept in the
cluster's Secrets (None for a Secret that is not there). A leaf is issued again from the kept CA when its Secret is
missing, when a rotation is asked for, when it expires within ``renew_days``, when the node certificate lacks a name
the cluster now answers to, or when it was not issued by the kept CA. The CA itself is never issued again here (its
pods and clients trust it): one that expires soon is a warning with the procedure. Input that cannot be read is a
refusal: nothing is guessed about a certificate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

# node and client: CockroachDB/KaiwuDB; server: MariaDB/MySQL. The certificates a server presents must name it.
LEAVES = ("node", "client", "server")
SERVER_LEAVES = ("node", "server")
_ASN1_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z\Z")
DAY = 86400


class CertRenewalError(ValueError):
    pass


def parse_time(value, what="a time"):
    """Seconds since the epoch of an ASN.1 GeneralizedTime in UTC (``20270116110648Z``, as x509_certificate_info
    gives not_after)."""
    match = _ASN1_TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise CertRenewalError("%s is %r, not a UTC time of the form YYYYMMDDHHMMSSZ" % (what, value))
    fields = tuple(int(g) for g in match.groups())
    try:
        parsed = time.strptime("%04d%02d%02d%02d%02d%02d" % fields, "%Y%m%d%H%M%S")
    except ValueError:
        raise CertRenewalError("%s is %r, which is not a date" % (what, value))
    return calendar.timegm(parsed)


def _day(seconds):
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _names(info, kind):
    names = info.get("subject_alt_name")
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CertRenewalError("the %s certificate's subject_alt_name is %r, not a list of names" % (kind, names))
    return names


def _subject(value, what):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CertRenewalError("%s is %r, not a mapping of name attributes" % (what, value))
    return ", ".join("%s=%s" % item for item in sorted(value.items()))


def _whole(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise CertRenewalError("%s is %r, not a whole number" % (name, value))
    if not low <= value <= high:
        raise CertRenewalError("%s is %s, not from %s to %s" % (name, value, low, high))
    return value


def _flag(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise CertRenewalError("%s is %r, not true or false" % (name, value))


def plan(certs, now, renew_days=30, rotate=False, node_sans=(), ca=None):
    """{'renew': {leaf: [reason, ...]} for each leaf to issue, in LEAVES order, 'expires': {leaf: day},
    'warnings': [text]}.

    ``certs``: {leaf: info or None} for the leaves of the engine (node and client, or server); ``now``: a UTC time as in parse_time; ``ca``: the
    kept CA's info, or None when the CA is new (every leaf is then missing too, the caller makes sure of that).
    """
    if not isinstance(certs, dict) or not certs or set(certs) - set(LEAVES):
        raise CertRenewalError("certs must map some of %s to certificate information, not %r"
                               % (", ".join(LEAVES), certs))
    now_s = parse_time(now, "now")
    renew_days = _whole(renew_days, "db_cluster_cert_renew_days", 0, 36500)
    rotate = _flag(rotate, "db_cluster_cert_rotate")
    if not isinstance(node_sans, (list, tuple)) or not all(isinstance(n, str) for n in node_sans):
        raise CertRenewalError("node_sans is %r, not a list of names" % (node_sans,))
    ca_subject = None
    warnings = []
    if ca is not None:
        if not isinstance(ca, dict):
            raise CertRenewalError("the CA certificate information is %r, not a mapping" % (ca,))
        ca_subject = _subject(ca.get("subject"), "the CA certificate's subject")
        ca_end = parse_time(ca.get("not_after"), "the CA certificate's not_after")
        if ca_end - now_s <= renew_days * DAY:
            warnings.append(
                "The CA %s on %s%s. The role renews node and client certificates, not the CA, whose renewal every "
                "node and client must trust first: see the certificate rotation procedure in the db_cluster "
                "documentation." % ("expired" if ca_end <= now_s else "expires", _day(ca_end),
                                    "" if ca_end <= now_s else ", in %d days" % ((ca_end - now_s) // DAY)))
    renew, expires = {}, {}
    for kind in [k for k in LEAVES if k in certs]:
        info = certs[kind]
        if info is None:
            renew[kind] = ["its Secret is missing"]
            continue
        if not isinstance(info, dict):
            raise CertRenewalError("the %s certificate information is %r, not a mapping" % (kind, info))
        end = parse_time(info.get("not_after"), "the %s certificate's not_after" % kind)
        expires[kind] = _day(end)
        reasons = []
        if rotate:
            reasons.append("rotation asked for (db_cluster_cert_rotate)")
        if end <= now_s:
            reasons.append("expired on %s" % _day(end))
        elif end - now_s <= renew_days * DAY:
            reasons.append("expires on %s, in %d days (db_cluster_cert_renew_days: %d)"
                           % (_day(end), (end - now_s) // DAY, renew_days))
        if kind in SERVER_LEAVES:
            lacking = [name for name in node_sans if name not in _names(info, kind)]
            if lacking:
                reasons.append("lacks names the cluster answers to: %s" % ", ".join(lacking))
        if ca_subject is not None:
            issuer = _subject(info.get("issuer"), "the %s certificate's issuer" % kind)
            if issuer != ca_subject:
                reasons.append("issued by %s, not by the cluster's CA (%s)" % (issuer, ca_subject))
        if reasons:
            renew[kind] = reasons
    return {"renew": dict((k, renew[k]) for k in LEAVES if k in renew), "expires": expires, "warnings": warnings}
