# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No task of any role can put a Secret's data into its result or the log.

Every kubernetes.core task that can read or return a Secret (its kind is Secret, or is templated and so may be) must
either be no_log or hide the Secret's data with hidden_fields (data and stringData, or the whole object), and every
register of such a task then holds no secret either.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES = ("kubernetes.core.k8s_info", "kubernetes.core.k8s")
BLOCK_KEYS = ("block", "rescue", "always")


def tasks_of(items):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in BLOCK_KEYS:
            yield from tasks_of(task.get(key))


# Tasks whose kind is a template that cannot be Secret, each with the reason (reviewed; a new one fails the test).
NOT_SECRET = {
    ("roles/db_cluster/tasks/converge.yml", "Read the live workloads of the cluster"): "StatefulSet or Deployment",
    ("roles/db_cluster/tasks/converge.yml", "Dry-run the apply of the existing workloads to see what else it would "
                                            "change"): "the held workloads: StatefulSets or a Deployment",
    ("roles/db_cluster/tasks/init.yml", "Apply the one-time initialization Job unless it exists"): "the init Job",
    ("roles/db_cluster/tasks/wait.yml", "Wait until every workload has all replicas updated and ready"):
        "StatefulSet or Deployment",
    ("roles/rolling_upgrade/tasks/prepare.yml", "Change the image of the database container only"):
        "StatefulSet or Deployment",
    ("roles/backup/tasks/schedule.yml", "Apply the CronJob"): "the CronJob rendered from job.yml.j2",
    ("roles/sql_shell/tasks/pod.yml", "Create the client pod"): "the Pod rendered from pod.yml.j2",
}


def template_kind(path, text):
    """The kind of the template a definition renders (lookup('ansible.builtin.template', 'x.j2')), if any."""
    marker = "lookup('ansible.builtin.template', "
    if marker not in text:
        return None
    name = text.split(marker, 1)[1].split(")", 1)[0].split("'")[-2]
    role = os.path.dirname(os.path.dirname(path))
    with open(os.path.join(role, "templates", os.path.basename(name))) as stream:
        for line in stream:
            if line.startswith("kind: "):
                return line.split()[1]
    return None


def kinds_of(path, task, args):
    """The kinds a task can address, as far as its text says: literal kinds, loop items, rendered templates; None
    stands for a kind that cannot be read from the task."""
    kinds = []
    loop_var = "{{%s}}" % ((task.get("loop_control") or {}).get("loop_var") or "item")
    for value in (args.get("kind"), (args.get("definition") if isinstance(args.get("definition"), (str, dict)) else None)):
        if isinstance(value, dict):
            value = value.get("kind")
        if not isinstance(value, str):
            continue
        if "{{" not in value:
            kinds.append(value)
        elif value.replace(" ", "") == loop_var and isinstance(task.get("loop"), list):
            kinds.extend(task["loop"])
        elif value.replace(" ", "") == loop_var and "rejectattr('kind', 'equalto', 'Secret')" in str(task.get("loop")):
            kinds.append("not Secret")
        elif re.match(r"^\{\{ *[A-Za-z_][\w.]* *\| *rejectattr\('kind', 'equalto', 'Secret'\) *\| *list *\}\}$", value.strip()):
            # the whole list of objects in one call, its Secrets filtered out last
            kinds.append("not Secret")
        elif template_kind(path, value):
            kinds.append(template_kind(path, value))
        else:
            kinds.append(None)
    return kinds


def secret_capable(path, task, args):
    kinds = kinds_of(path, task, args)
    if None in kinds and (os.path.relpath(path, ROOT), task.get("name")) in NOT_SECRET:
        kinds = [k for k in kinds if k is not None]
    return "Secret" in kinds or None in kinds


def hides_data(task, args):
    if task.get("no_log") in (True, "true"):
        return True
    hidden = args.get("hidden_fields")
    if isinstance(hidden, str):
        return "hidden_fields" in hidden or "data" in hidden
    return isinstance(hidden, list) and "data" in hidden and "stringData" in hidden


def secret_tasks():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))):
        with open(path) as stream:
            for task in tasks_of(yaml.safe_load(stream)):
                for module in MODULES:
                    args = task.get(module)
                    if isinstance(args, dict) and secret_capable(path, task, args):
                        reads = module.endswith("_info") or args.get("state") in (None, "present", "patched")
                        if reads:
                            found.append((os.path.relpath(path, ROOT), task.get("name"), task, args))
    return found


def test_the_scan_finds_the_secret_reads():
    names = [t[1] for t in secret_tasks()]
    assert len(names) >= 3, names


def test_every_reviewed_exception_still_exists():
    seen = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))):
        with open(path) as stream:
            seen.update((os.path.relpath(path, ROOT), t.get("name")) for t in tasks_of(yaml.safe_load(stream)))
    assert sorted(set(NOT_SECRET) - seen) == []


@pytest.mark.parametrize("path, name, task, args", secret_tasks(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_task_that_can_return_a_secret_hides_its_data(path, name, task, args):
    assert hides_data(task, args), "%s: %r can return a Secret's data; add no_log: true or hidden_fields" % (path, name)


# community.crypto modules that return a private key (or take one as an argument, which the log would show).
KEY_MODULES = ("community.crypto.openssl_privatekey_pipe", "community.crypto.openssl_csr_pipe",
               "community.crypto.x509_certificate_pipe")


def key_tasks():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))):
        with open(path) as stream:
            for task in tasks_of(yaml.safe_load(stream)):
                if any(module in task for module in KEY_MODULES) or "privatekey" in str(task.get("ansible.builtin.set_fact")):
                    found.append((os.path.relpath(path, ROOT), task.get("name"), task))
    return found


def test_the_scan_finds_the_key_tasks():
    assert len(key_tasks()) >= 6


@pytest.mark.parametrize("path, name, task", key_tasks(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_task_that_handles_a_private_key_is_no_log(path, name, task):
    assert task.get("no_log") in (True, "true"), "%s: %r handles a private key; add no_log: true" % (path, name)


@pytest.mark.parametrize("definition, kinds", [
    ("{{ __db_cluster_objects | rejectattr('kind', 'equalto', 'Secret') | list }}", ["not Secret"]),
    ("{{ __db_cluster_objects | list }}", [None]),
    ("{{ __db_cluster_objects | rejectattr('kind', 'equalto', 'Secret') | list + extra }}", [None]),
    ("{{ __db_cluster_objects | rejectattr('kind', 'equalto', 'ConfigMap') | list }}", [None]),
])
def test_a_list_in_one_call_is_secret_free_only_when_its_secrets_are_filtered_out(definition, kinds):
    assert kinds_of("roles/x/tasks/y.yml", {"name": "t"}, {"definition": definition}) == kinds


@pytest.mark.parametrize("task, kind, kinds", [
    ({"loop": ["StatefulSet", "Secret"]}, "{{ item }}", ["StatefulSet", "Secret"]),
    ({"loop": ["StatefulSet", "Secret"], "loop_control": {"loop_var": "__kind"}}, "{{ __kind }}", ["StatefulSet", "Secret"]),
    ({"loop": ["StatefulSet", "Secret"], "loop_control": {"loop_var": "__kind"}}, "{{ item }}", [None]),
    ({"loop": ["StatefulSet"], "loop_control": {"label": "x"}}, "{{ item }}", ["StatefulSet"]),
])
def test_a_looped_kind_is_read_from_the_loop_under_its_loop_var(task, kind, kinds):
    assert kinds_of("roles/x/tasks/y.yml", dict(task, name="t"), {"kind": kind}) == kinds
