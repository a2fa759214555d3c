# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities (``1Gi``, ``1024Mi``, ``10G``, ``1e3``, ``500m``) read exactly.

``parse_quantity`` returns a ``fractions.Fraction`` of the base unit (bytes for storage), so ``1Gi`` and ``1024Mi``
compare equal and ``10G`` and ``10Gi`` do not. The grammar is the API server's (``resource.Quantity``): a signed
decimal number, then a binary suffix (Ki .. Ei), a decimal suffix (m, k, M .. E) or a decimal exponent (e3, E-2).
Anything else is a QuantityError, never a guess.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from fractions import Fraction

from ansible_collections.dok.databases.plugins.module_utils.errors import PreconditionError

BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
DECIMAL = {"m": Fraction(1, 1000), "": 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12,
           "P": 10 ** 15, "E": 10 ** 18}
# Bounds the exponent so that a typo such as 1e999999999 is refused instead of computed for minutes.
MAX_EXPONENT = 64

_QUANTITY = re.compile(
    r"^(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE](?P<exp>[+-]?[0-9]+))?$")


class QuantityError(PreconditionError):
    """A value that is not a Kubernetes resource quantity."""


def parse_quantity(value, field="quantity"):
    """Return the exact value of a quantity as a Fraction; raise QuantityError naming ``field`` and the value."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise QuantityError(_refusal(field, value, "it is a %s, not text or an integer" % type(value).__name__))
    text = str(value)
    match = _QUANTITY.match(text)
    if not match or not (match.group("int") or match.group("frac")):
        raise QuantityError(_refusal(field, value, "it is not a number followed by a suffix"))
    digits = match.group("int") or "0"
    frac = match.group("frac") or ""
    number = Fraction(int(digits + frac), 10 ** len(frac))
    if match.group("exp") is not None:
        exponent = int(match.group("exp"))
        if abs(exponent) > MAX_EXPONENT:
            raise QuantityError(_refusal(field, value, "its exponent is beyond 10^%d" % MAX_EXPONENT))
        number *= Fraction(10) ** exponent
    else:
        suffix = match.group("suffix") or ""
        number *= BINARY.get(suffix) or DECIMAL[suffix]
    return -number if match.group("sign") == "-" else number


def compare_quantities(left, right, field="quantity"):
    """-1, 0 or 1 as ``right`` is smaller than, equal to or larger than ``left``."""
    have, want = parse_quantity(left, field), parse_quantity(right, field)
    return (want > have) - (want < have)


def describe(value, field="quantity", unit="bytes"):
    """``'10Gi' (10737418240 bytes)``: the value as written and its exact size, for messages."""
    number = parse_quantity(value, field)
    exact = str(number.numerator) if number.denominator == 1 else "%s/%s" % (number.numerator, number.denominator)
    return "%r (%s %s)" % (str(value), exact, unit)


def _refusal(field, value, why):
    return ("Checked %s as a Kubernetes resource quantity; found %r: %s. Write it as a number with a binary suffix "
            "(Ki, Mi, Gi, Ti, Pi, Ei), a decimal suffix (m, k, M, G, T, P, E) or an exponent (e.g. 10Gi, 500M, "
            "1e9); nothing was changed." % (field, value, why))
