# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja access to module_utils/backup for the backup and restore roles: parsing and retention live there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.dok.databases.plugins.module_utils import backup


def backup_job_result(text):
    try:
        return backup.parse_job_log(text)
    except backup.BackupLogError as exc:
        raise AnsibleFilterError("The backup Job's output could not be read, so nothing is assumed about the "
                                 "backups: %s" % exc)


def backup_expired(entries, keep=0, max_age_days=0, now=None, protect=None):
    try:
        return backup.expired(entries, keep, max_age_days, now, tuple(protect or ()))
    except backup.BackupLogError as exc:
        raise AnsibleFilterError("Retention could not decide which backups expire, so none is deleted: %s" % exc)


def backup_latest(entries):
    try:
        return backup.latest(entries)
    except backup.BackupLogError as exc:
        raise AnsibleFilterError("The catalog could not be read: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"backup_job_result": backup_job_result, "backup_expired": backup_expired,
                "backup_latest": backup_latest}
