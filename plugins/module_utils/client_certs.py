# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client certificate of a CockroachDB/KaiwuDB user, found in a database pod's certificate volume.

A client pod (the SQL shell, the failover probe) needs `ca.crt` and `client.<user>.crt/.key` from the Secrets the
database container mounts at its certificates directory, and nothing else from them: the node key stays out of
client pods. The answer is the list of projected-volume sources that give exactly those files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,62}$")


class ClientCertsError(ValueError):
    pass


def cert_keys(user):
    if not isinstance(user, str) or not _USER.match(user):
        raise ClientCertsError("user must be a SQL user name (lower-case letters, digits, '_', '.', '-'), not %r"
                               % (user,))
    return ["ca.crt", "client.%s.crt" % user, "client.%s.key" % user]


def _secret_sources(volume):
    if not isinstance(volume, dict):
        raise ClientCertsError("a volume must be a mapping, not %r" % type(volume).__name__)
    if "projected" in volume:
        sources = (volume.get("projected") or {}).get("sources") or []
        if not isinstance(sources, list):
            raise ClientCertsError("volume %s: projected.sources must be a list" % volume.get("name"))
        return [s["secret"] for s in sources if isinstance(s, dict) and isinstance(s.get("secret"), dict)]
    if isinstance(volume.get("secret"), dict):
        secret = volume["secret"]
        return [{"name": secret.get("secretName"), "items": secret.get("items") or []}]
    return []


def sources(pod_spec, container_name, mount_path, user="root"):
    """Projected sources with the CA and the user's client certificate from the volume `container_name` mounts at
    `mount_path`; [] when no mounted Secret holds any of those files."""
    if not isinstance(pod_spec, dict) or not isinstance(pod_spec.get("containers"), list):
        raise ClientCertsError("expected a pod spec with a list of containers")
    keys = cert_keys(user)
    containers = [c for c in pod_spec["containers"] if isinstance(c, dict)]
    named = [c for c in containers if c.get("name") == container_name] or containers[:1]
    if not named:
        return []
    mounts = [m.get("name") for m in named[0].get("volumeMounts") or [] if m.get("mountPath") == mount_path]
    if not mounts:
        return []
    volumes = [v for v in pod_spec.get("volumes") or [] if isinstance(v, dict) and v.get("name") == mounts[0]]
    out = []
    for secret in _secret_sources(volumes[0]) if volumes else []:
        listed = secret.get("items") or []
        items = []
        for key in keys:
            match = [i for i in listed if isinstance(i, dict) and i.get("key") == key]
            if match:
                items.append({"key": key, "path": match[0].get("path") or key})
            elif not listed:
                # a Secret projected whole gives every key under its own name; an absent key fails the pod, so
                # only the files a client needs are named (optional: the Secret may hold only some of them)
                items.append({"key": key, "path": key})
        if items:
            source = {"name": secret.get("name"), "items": items}
            if not listed:
                source["optional"] = True
            out.append({"secret": source})
    return out


def missing(found, user="root"):
    """The client files `found` (sources()) does not provide."""
    paths = set(i["path"] for s in found for i in s["secret"]["items"])
    return [k for k in cert_keys(user) if k not in paths]
