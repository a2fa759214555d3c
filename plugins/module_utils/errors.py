# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One error hierarchy for the collection; modules turn any DokError into a single fail_json(msg=...)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class DokError(Exception):
    """Base class. The message must say what was checked, what was found and what to do next."""

    def __init__(self, msg, **details):
        super(DokError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ParseError(DokError):
    """A database CLI printed something the adapter cannot read (quote the output in msg)."""


class CommandError(DokError):
    """A command run in a pod failed (non-zero rc, TLS/auth error, timeout)."""


class PreconditionError(DokError):
    """A safety rule refused the operation; nothing was changed."""


class NotApplicableError(DokError):
    """The operation does not exist for this engine (e.g. decommission on MariaDB)."""


class ClusterError(DokError):
    """Kubernetes-side problem: object missing, not ours, API unreachable, RBAC denied."""


class AccessDenied(ClusterError):
    """Kubernetes refused the identity (401 Unauthorized, 403 Forbidden): no wait gives it the permission."""


class WaitTimeout(DokError):
    """A wait or poll ran out of time; details carry what was last seen."""
