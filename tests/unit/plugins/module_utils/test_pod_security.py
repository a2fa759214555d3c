"""The Pod Security Standards check: hand-picked cases from the standard, then properties over generated pod specs.

A generated spec starts from one that passes `restricted` and gets a random set of changes, each known (from the
standard's text) to be allowed, forbidden only by `restricted`, or forbidden by `baseline` too. The property: the
check finds a violation at a level exactly when a change forbidden at that level was made.
"""
import copy

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.dok.databases.plugins.module_utils import pod_security as ps


def restricted_pod():
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 999, "fsGroup": 999,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "db", "image": "x",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        "ports": [{"containerPort": 3306}]}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}},
                    {"name": "certs", "secret": {"secretName": "c"}}],
    }


def container(spec, index=0):
    return spec["containers"][index]


def ctx(spec, index=0):
    return container(spec, index).setdefault("securityContext", {})


def add_init_container(spec):
    spec["initContainers"] = [copy.deepcopy(container(spec))]
    spec["initContainers"][0]["name"] = "init"


def init_escalates(spec):
    add_init_container(spec)
    spec["initContainers"][0]["securityContext"].pop("allowPrivilegeEscalation", None)


def no_seccomp_anywhere(spec):
    spec["securityContext"].pop("seccompProfile")
    for each in spec["containers"] + spec.get("initContainers", []):
        each.get("securityContext", {}).pop("seccompProfile", None)


# (name, change, level that first forbids it: None = allowed everywhere)
CHANGES = [
    ("read-only root", lambda s: ctx(s).update(readOnlyRootFilesystem=True), None),
    ("net bind service", lambda s: ctx(s)["capabilities"].update(add=["NET_BIND_SERVICE"]), None),
    ("container seccomp localhost", lambda s: ctx(s).update(seccompProfile={"type": "Localhost",
                                                                            "localhostProfile": "p.json"}), None),
    ("emptyDir", lambda s: s["volumes"].append({"name": "tmp", "emptyDir": {}}), None),
    ("projected", lambda s: s["volumes"].append({"name": "tok", "projected": {"sources": []}}), None),
    ("safe sysctl", lambda s: s["securityContext"].update(sysctls=[{"name": "net.ipv4.tcp_syncookies",
                                                                    "value": "1"}]), None),
    ("a second good container", lambda s: s["containers"].append(dict(copy.deepcopy(container(s)), name="side")),
     None),
    ("good init container", add_init_container, None),
    ("runAsUser 1000 on the container", lambda s: ctx(s).update(runAsUser=1000), None),
    ("escalation allowed", lambda s: ctx(s).update(allowPrivilegeEscalation=True), "restricted"),
    ("escalation unset", lambda s: ctx(s).pop("allowPrivilegeEscalation", None), "restricted"),
    ("init container escalation unset", init_escalates, "restricted"),
    ("no drop ALL", lambda s: ctx(s)["capabilities"].update(drop=["NET_RAW"]), "restricted"),
    ("add CHOWN", lambda s: ctx(s)["capabilities"].update(add=["CHOWN"]), "restricted"),
    ("pod runAsNonRoot unset", lambda s: s["securityContext"].pop("runAsNonRoot", None), "restricted"),
    ("container runAsNonRoot false", lambda s: ctx(s).update(runAsNonRoot=False), "restricted"),
    ("runAsUser 0", lambda s: ctx(s).update(runAsUser=0), "restricted"),
    ("no seccomp profile anywhere", no_seccomp_anywhere, "restricted"),
    ("hostPath-free but nfs", lambda s: s["volumes"].append({"name": "n", "nfs": {"server": "a", "path": "/"}}),
     "restricted"),
    ("hostNetwork", lambda s: s.update(hostNetwork=True), "baseline"),
    ("hostPID", lambda s: s.update(hostPID=True), "baseline"),
    ("privileged", lambda s: ctx(s).update(privileged=True), "baseline"),
    ("add SYS_ADMIN", lambda s: ctx(s)["capabilities"].update(add=["SYS_ADMIN"]), "baseline"),
    ("hostPath", lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/var"}}), "baseline"),
    ("hostPort", lambda s: container(s)["ports"][0].update(hostPort=3306), "baseline"),
    ("seccomp Unconfined", lambda s: ctx(s).update(seccompProfile={"type": "Unconfined"}), "baseline"),
    ("unsafe sysctl", lambda s: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
     "baseline"),
    ("procMount Unmasked", lambda s: ctx(s).update(procMount="Unmasked"), "baseline"),
    ("selinux user", lambda s: ctx(s).update(seLinuxOptions={"user": "system_u"}), "baseline"),
]
RANK = {None: 3, "restricted": 2, "baseline": 1}


def test_the_restricted_pod_passes_every_level():
    for level in ps.LEVELS:
        assert ps.violations(restricted_pod(), level) == []


@pytest.mark.parametrize("name,change,level", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_change_alone(name, change, level):
    spec = restricted_pod()
    change(spec)
    found = {lvl: ps.violations(spec, lvl) for lvl in ps.LEVELS}
    assert found["privileged"] == []
    assert bool(found["restricted"]) == (level is not None), (name, found)
    assert bool(found["baseline"]) == (level == "baseline"), (name, found)


@settings(max_examples=400, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=len(CHANGES) - 1), max_size=6))
def test_a_level_finds_a_violation_exactly_when_a_change_it_forbids_was_made(picked):
    spec = restricted_pod()
    for index in sorted(picked):
        CHANGES[index][1](spec)
    levels = [CHANGES[i][2] for i in picked]
    assert bool(ps.violations(spec, "restricted")) == any(lvl is not None for lvl in levels)
    assert bool(ps.violations(spec, "baseline")) == ("baseline" in levels)
    assert ps.violations(spec, "privileged") == []


def test_messages_name_the_container_and_the_field():
    spec = restricted_pod()
    ctx(spec).pop("allowPrivilegeEscalation")
    ctx(spec)["capabilities"] = {}
    assert ps.violations(spec) == ["container db must set securityContext.allowPrivilegeEscalation=false",
                                   "container db must drop the capability ALL"]


def test_pod_specs_of_workloads_jobs_and_cronjobs():
    pod = restricted_pod()
    objects = [
        {"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": {"spec": pod}}},
        {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}},
        {"kind": "CronJob", "metadata": {"name": "c"},
         "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}},
        {"kind": "Service", "metadata": {"name": "svc"}, "spec": {"ports": []}},
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": dict(pod, hostNetwork=True)},
    ]
    found = ps.object_violations(objects)
    assert [f.split(":")[0] for f in found] == ["Job/j"] * 4 + ["Pod/p"]
    assert "Pod/p: hostNetwork must not be true" in found
    assert ps.object_violations(objects, "baseline") == ["Pod/p: hostNetwork must not be true"]


@pytest.mark.parametrize("bad", [
    "not a spec", {"containers": "db"}, {"securityContext": []}, {"containers": [{"securityContext": "x"}]},
    {"volumes": [["hostPath"]]},
])
def test_input_that_is_not_a_pod_spec_is_refused(bad):
    with pytest.raises(ps.PodSecurityError):
        ps.violations(bad)


def test_an_unknown_level_is_refused():
    with pytest.raises(ps.PodSecurityError, match="unknown Pod Security level 'strict'"):
        ps.violations(restricted_pod(), "strict")
