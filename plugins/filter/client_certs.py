# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/client_certs: client pods mount only the CA and one user's client certificate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import client_certs


def client_cert_sources(pod_spec, container_name, mount_path, user="root"):
    try:
        return client_certs.sources(pod_spec, container_name, mount_path, user)
    except client_certs.ClientCertsError as exc:
        raise AnsibleFilterError("The client certificate could not be found in the database pod: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"client_cert_sources": client_cert_sources}
