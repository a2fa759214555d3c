# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What every module of this collection shares: it talks to the Kubernetes API from the controller with the
    # Python client and supports check mode fully. Each module states its own diff_mode support.
    DOCUMENTATION = r"""
attributes:
  platform:
    support: full
    platforms: posix
  check_mode:
    support: full
requirements:
  - kubernetes >= 24.2.0
"""
