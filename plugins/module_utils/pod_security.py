# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes Pod Security Standards (baseline, restricted; policy version latest) as a pure check of a pod spec.

The collection renders every pod it runs and checks it here before anything is applied, so that a namespace that
enforces a level refuses nothing after the role changed the cluster: a violation is reported by field, in the words
of the standard. The checks follow the published standard field by field; a field this module does not know is not
a violation (admission decides on the fields it lists, and so does this module).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LEVELS = ("privileged", "baseline", "restricted")

# baseline: capabilities a container may add
BASELINE_CAPABILITIES = frozenset(("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                                   "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))
SAFE_SYSCTLS = frozenset(("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                          "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                          "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                          "net.ipv4.tcp_keepalive_probes"))
SELINUX_TYPES = frozenset(("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"))
# restricted: the only volume types allowed
RESTRICTED_VOLUMES = frozenset(("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                                "projected", "secret"))
VOLUME_SOURCE_FIELDS = frozenset(("name",))


class PodSecurityError(ValueError):
    """The input is not a pod spec or the level is unknown: nothing is assumed."""


def _mapping(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PodSecurityError("%s must be a mapping, not %s" % (where, type(value).__name__))
    return value


def _list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise PodSecurityError("%s must be a list, not %s" % (where, type(value).__name__))
    return value


def _containers(spec):
    out = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(_list(spec.get(field), field)):
            container = _mapping(container, "%s[%d]" % (field, index))
            out.append(("%s %s" % (field[:-1] if field != "containers" else "container",
                                   container.get("name") or index), container))
    return out


def _baseline(spec):
    problems = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            problems.append("%s must not be true" % field)
    pod_ctx = _mapping(spec.get("securityContext"), "securityContext")
    for index, volume in enumerate(_list(spec.get("volumes"), "volumes")):
        volume = _mapping(volume, "volumes[%d]" % index)
        if "hostPath" in volume:
            problems.append("volume %s must not be a hostPath" % volume.get("name", index))
    seccomp = _mapping(pod_ctx.get("seccompProfile"), "securityContext.seccompProfile")
    if seccomp.get("type") == "Unconfined":
        problems.append("securityContext.seccompProfile.type must not be Unconfined")
    selinux = _mapping(pod_ctx.get("seLinuxOptions"), "securityContext.seLinuxOptions")
    problems.extend(_selinux(selinux, "securityContext"))
    for index, sysctl in enumerate(_list(pod_ctx.get("sysctls"), "securityContext.sysctls")):
        name = _mapping(sysctl, "securityContext.sysctls[%d]" % index).get("name")
        if name not in SAFE_SYSCTLS:
            problems.append("sysctl %s is not one of the safe sysctls" % name)
    for profile in (_mapping(pod_ctx.get("appArmorProfile"), "securityContext.appArmorProfile"),):
        if profile.get("type") == "Unconfined":
            problems.append("securityContext.appArmorProfile.type must not be Unconfined")
    for who, container in _containers(spec):
        ctx = _mapping(container.get("securityContext"), "%s securityContext" % who)
        if ctx.get("privileged") is True:
            problems.append("%s must not be privileged" % who)
        caps = _mapping(ctx.get("capabilities"), "%s capabilities" % who)
        added = [c for c in _list(caps.get("add"), "%s capabilities.add" % who) if c not in BASELINE_CAPABILITIES]
        if added:
            problems.append("%s must not add the capabilities %s" % (who, ", ".join(str(c) for c in added)))
        for index, port in enumerate(_list(container.get("ports"), "%s ports" % who)):
            if _mapping(port, "%s ports[%d]" % (who, index)).get("hostPort") not in (None, 0):
                problems.append("%s must not use a hostPort" % who)
        if _mapping(ctx.get("seccompProfile"), "%s seccompProfile" % who).get("type") == "Unconfined":
            problems.append("%s seccompProfile.type must not be Unconfined" % who)
        if _mapping(ctx.get("appArmorProfile"), "%s appArmorProfile" % who).get("type") == "Unconfined":
            problems.append("%s appArmorProfile.type must not be Unconfined" % who)
        problems.extend(_selinux(_mapping(ctx.get("seLinuxOptions"), "%s seLinuxOptions" % who), who))
        if ctx.get("procMount") not in (None, "Default"):
            problems.append("%s procMount must be Default" % who)
    return problems


def _selinux(options, who):
    problems = []
    if options.get("type", "") not in SELINUX_TYPES:
        problems.append("%s seLinuxOptions.type %s is not allowed" % (who, options.get("type")))
    for field in ("user", "role"):
        if options.get(field):
            problems.append("%s seLinuxOptions.%s must not be set" % (who, field))
    return problems


def _restricted(spec):
    problems = []
    pod_ctx = _mapping(spec.get("securityContext"), "securityContext")
    for index, volume in enumerate(_list(spec.get("volumes"), "volumes")):
        volume = _mapping(volume, "volumes[%d]" % index)
        kinds = [k for k in volume if k not in VOLUME_SOURCE_FIELDS]
        bad = [k for k in kinds if k not in RESTRICTED_VOLUMES]
        if bad:
            problems.append("volume %s must not be of type %s" % (volume.get("name", index), ", ".join(bad)))
    pod_non_root = pod_ctx.get("runAsNonRoot")
    pod_seccomp = _mapping(pod_ctx.get("seccompProfile"), "securityContext.seccompProfile").get("type")
    if pod_ctx.get("runAsUser") == 0:
        problems.append("securityContext.runAsUser must not be 0")
    if pod_non_root is False:
        problems.append("securityContext.runAsNonRoot must not be false")
    for who, container in _containers(spec):
        ctx = _mapping(container.get("securityContext"), "%s securityContext" % who)
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append("%s must set securityContext.allowPrivilegeEscalation=false" % who)
        non_root = ctx.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            problems.append("%s must run as non-root (securityContext.runAsNonRoot=true on the pod or the container)"
                            % who)
        if ctx.get("runAsUser") == 0:
            problems.append("%s securityContext.runAsUser must not be 0" % who)
        seccomp = _mapping(ctx.get("seccompProfile"), "%s seccompProfile" % who).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append("%s must set seccompProfile.type to RuntimeDefault or Localhost (on the pod or the "
                            "container)" % who)
        caps = _mapping(ctx.get("capabilities"), "%s capabilities" % who)
        if "ALL" not in _list(caps.get("drop"), "%s capabilities.drop" % who):
            problems.append("%s must drop the capability ALL" % who)
        added = [c for c in _list(caps.get("add"), "%s capabilities.add" % who) if c != "NET_BIND_SERVICE"]
        if added:
            problems.append("%s may add only NET_BIND_SERVICE, not %s" % (who, ", ".join(str(c) for c in added)))
    return problems


def violations(spec, level="restricted"):
    """What in pod spec `spec` the Pod Security Standard `level` forbids, as sentences; empty when it passes."""
    if level not in LEVELS:
        raise PodSecurityError("unknown Pod Security level %r (known: %s)" % (level, ", ".join(LEVELS)))
    spec = _mapping(spec, "the pod spec")
    if level == "privileged":
        return []
    problems = _baseline(spec)
    if level == "restricted":
        problems.extend(p for p in _restricted(spec) if p not in problems)
    return problems


def pod_specs(objects):
    """(kind/name, pod spec) of every object that runs pods: Pod, and the pod template of the workload kinds."""
    out = []
    for obj in objects or []:
        obj = _mapping(obj, "an object")
        kind = obj.get("kind")
        name = "%s/%s" % (kind, _mapping(obj.get("metadata"), "metadata").get("name"))
        spec = _mapping(obj.get("spec"), "%s spec" % name)
        if kind == "Pod":
            out.append((name, spec))
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            out.append((name, _mapping(_mapping(spec.get("template"), "%s template" % name).get("spec"),
                                       "%s template spec" % name)))
        elif kind == "CronJob":
            job = _mapping(_mapping(spec.get("jobTemplate"), "%s jobTemplate" % name).get("spec"), name)
            out.append((name, _mapping(_mapping(job.get("template"), name).get("spec"), name)))
    return out


def object_violations(objects, level="restricted"):
    """['<kind>/<name>: <violation>', ...] over every pod-running object of a manifest list."""
    return ["%s: %s" % (name, problem) for name, spec in pod_specs(objects) for problem in violations(spec, level)]
