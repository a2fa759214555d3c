# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/upgrade_state for the db_cluster role and playbooks/status.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import upgrade_state as us
from ansible_collections.dok.databases.plugins.module_utils.converge import split_image
from ansible_collections.dok.databases.plugins.module_utils.errors import ParseError


def upgrade_state_command(sql):
    """The shell command that prints both settings, for ``sh -c``; ``sql`` is the SQL client with its flags."""
    if not isinstance(sql, str) or not sql.strip():
        raise AnsibleFilterError("upgrade_state_command needs the SQL client command, got %r" % (sql,))
    return us.SCRIPT.format(sql=sql.strip())


def upgrade_state(read, builds=None, finalize=False, name=""):
    """The state from a registered k8s_exec result of upgrade_state_command; a failed or unreadable read is the
    state ``unknown`` with the reason, never a guess."""
    if not isinstance(read, dict):
        raise AnsibleFilterError("upgrade_state needs the registered result of the exec, got %r" % (read,))
    for build in builds or []:
        if not isinstance(build, str):
            raise AnsibleFilterError("upgrade_state: a build or image must be a string, got %r" % (build,))
    # an image reference gives its tag; a bare build (v23.2.4) has none and is read as it is
    tags = [split_image(build)[1] or build for build in builds or []]
    if read.get("skipped"):
        return us.unknown("no ready pod to ask", name)
    if read.get("rc", 1) != 0 or read.get("failed"):
        reason = (read.get("stderr") or read.get("msg") or read.get("stdout") or "no output").strip()
        return us.unknown("the exec failed (rc %s): %s" % (read.get("rc", "n/a"), reason[-300:]), name)
    try:
        return us.state(us.parse(read.get("stdout", "")), tags, bool(finalize), name)
    except ParseError as exc:
        return us.unknown(exc.msg, name)


class FilterModule(object):
    def filters(self):
        return {"upgrade_state": upgrade_state, "upgrade_state_command": upgrade_state_command}
