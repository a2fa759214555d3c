# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/converge for the db_cluster role: the plan is computed there, never in YAML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import converge, upgrade_state


def converge_plan(workload, pods, container, rendered, applied=None, options=None, decommissioning=None):
    try:
        live = converge.live_state(workload, pods, container, decommissioning)
        desired = converge.desired_state(rendered, applied, container)
        result = converge.plan(live, desired, options or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("converge_plan could not read the live workload or the desired state: %s" % exc)
    result["live"] = {k: v for k, v in live.items() if k != "pods"}
    result["text"] = converge.plan_text(result)
    result["template_changed"] = bool(live.get("exists") and desired["template_hash"]
                                      and desired["template_hash"] != live["template_hash"])
    result["drift"] = converge.drift(live, desired, result)
    return result


def converge_drift(plans, nodes=None, upgrade=None):
    """The drift of every workload's plan, then the members db_node_status lists against the StatefulSets, then an
    upgrade that waits to be finalized (the upgrade_state filter's result)."""
    try:
        items = [item for p in plans or [] for item in p.get("drift") or []]
        items += converge.member_drift([p.get("live") or {} for p in plans or []], nodes)
        return items + (upgrade_state.drift(upgrade, upgrade.get("name", "")) if upgrade else [])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise AnsibleFilterError("converge_drift could not read the plans or the member list: %s" % exc)


def pod_template_hash(template, container):
    return converge.template_hash(template, container)


class FilterModule(object):
    def filters(self):
        return {"converge_plan": converge_plan, "converge_drift": converge_drift,
                "pod_template_hash": pod_template_hash}
