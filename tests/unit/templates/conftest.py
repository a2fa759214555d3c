# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixtures the template tests share."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

try:
    import kubernetes_validate
except ImportError:
    kubernetes_validate = None


@pytest.fixture(name="validator")
def fixture_validator():
    """kubernetes-validate for the schema tests only; it is pinned in requirements-dev.txt, so missing is a failure."""
    if kubernetes_validate is None:
        pytest.fail("the Kubernetes schema tests need kubernetes-validate, which requirements-dev.txt pins: "
                    "run `make setup` (or pip install -r requirements-dev.txt) and run the tests again")
    return kubernetes_validate
