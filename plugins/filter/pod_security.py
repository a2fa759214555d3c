# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/pod_security: the roles check the pods they render before applying them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import pod_security


def pod_security_violations(objects, level="restricted"):
    try:
        return pod_security.object_violations(objects, level)
    except pod_security.PodSecurityError as exc:
        raise AnsibleFilterError("The rendered objects could not be checked against the Pod Security Standard, so "
                                 "nothing is assumed: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"pod_security_violations": pod_security_violations}
