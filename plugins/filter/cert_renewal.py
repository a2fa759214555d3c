# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/cert_renewal: which of a cluster's own certificates db_cluster issues again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import cert_renewal


def cert_renewals(certs, now, renew_days=30, rotate=False, node_sans=(), ca=None):
    try:
        return cert_renewal.plan(certs, now, renew_days, rotate, node_sans, ca)
    except cert_renewal.CertRenewalError as exc:
        raise AnsibleFilterError("The cluster's certificates could not be judged, so none is issued again and "
                                 "nothing was changed: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cert_renewals": cert_renewals}
