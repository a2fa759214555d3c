# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities read exactly: a table of the API server's forms, then properties over generated
quantities (re-expressed in another suffix they compare equal, the order is the byte counts', garbage never parses)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.dok.databases.plugins.module_utils.quantity import (
    BINARY, DECIMAL, QuantityError, compare_quantities, describe, parse_quantity,
)


@pytest.mark.parametrize("text, value", [
    ("1Gi", 2 ** 30), ("1024Mi", 2 ** 30), ("10G", 10 ** 10), ("10Gi", 10 * 2 ** 30), ("1e3", 1000),
    ("1E3", 1000), ("1E", 10 ** 18), ("500m", Fraction(1, 2)), ("1.5Gi", 3 * 2 ** 29), (".5Ki", 512),
    ("2.", 2), ("0", 0), ("+1k", 1000), ("-1k", -1000), ("1e-3", Fraction(1, 1000)), ("12e+2", 1200),
    ("1073741824", 2 ** 30), (1073741824, 2 ** 30), ("0.1", Fraction(1, 10)),
])
def test_the_api_servers_forms_parse_exactly(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", [
    "", " 1Gi", "1Gi ", "1GB", "1gi", "1KI", "1K", "Gi", ".", "1..2", "1e", "1e3Gi", "1Gie3", "1,5Gi", "ten",
    "1_000", "0x10", "1e999", "--1", "1 Gi", None, 1.5, True, [], "١٢",
])
def test_anything_else_is_refused_naming_the_field_and_value(text):
    with pytest.raises(QuantityError) as err:
        parse_quantity(text, "dok_storage_size")
    assert "dok_storage_size" in err.value.msg and repr(text) in err.value.msg


def test_describe_tells_decimal_from_binary():
    assert describe("10G") == "'10G' (10000000000 bytes)" and describe("10Gi") == "'10Gi' (10737418240 bytes)"
    assert describe("500m", unit="cores") == "'500m' (1/2 cores)"


def test_compare_reads_quantities_not_text():
    assert compare_quantities("1Gi", "1024Mi") == 0
    assert compare_quantities("10G", "10Gi") == 1 and compare_quantities("10Gi", "10G") == -1


suffixes = st.sampled_from(sorted(BINARY) + sorted(DECIMAL))
multipliers = dict(BINARY, **DECIMAL)


@st.composite
def quantities(draw):
    """A quantity as text with its exact value."""
    suffix = draw(suffixes)
    whole = draw(st.integers(min_value=0, max_value=10 ** 6))
    places = draw(st.integers(min_value=0, max_value=3))
    frac = draw(st.integers(min_value=0, max_value=10 ** places - 1)) if places else 0
    text = str(whole) + ("." + str(frac).zfill(places) if places else "") + suffix
    return text, (whole + Fraction(frac, 10 ** places)) * multipliers[suffix]


def reexpress(value, suffix):
    """The same value written with another suffix, or None when that suffix cannot say it exactly in decimals."""
    number = value / multipliers[suffix]
    denominator = number.denominator
    places = 0
    while denominator % 10 == 0 or denominator % 2 == 0 or denominator % 5 == 0:
        for factor in (10, 2, 5):
            if denominator % factor == 0:
                denominator //= factor
                break
        places += 1
    if denominator != 1:
        return None
    scaled = number * 10 ** places
    assert scaled.denominator == 1
    digits = str(scaled.numerator).zfill(places + 1)
    return (digits[:-places] + "." + digits[-places:] if places else digits) + suffix


@given(quantities(), suffixes)
def test_a_quantity_and_its_reexpression_compare_equal(quantity, suffix):
    text, value = quantity
    other = reexpress(value, suffix)
    if other is not None:
        assert parse_quantity(other) == parse_quantity(text) == value
        assert compare_quantities(text, other) == 0


@given(quantities(), st.integers(min_value=-3, max_value=12))
def test_an_exponent_says_the_same_as_a_suffix(quantity, exponent):
    text, value = quantity
    mantissa = value / Fraction(10) ** exponent
    written = reexpress(mantissa, "")
    if written is not None:
        assert parse_quantity("%se%d" % (written, exponent)) == value


@given(quantities(), quantities())
def test_the_order_is_the_byte_counts(left, right):
    assert compare_quantities(left[0], right[0]) == (right[1] > left[1]) - (right[1] < left[1])


QUANTITY_CHARACTERS = set("0123456789+-.eEKMGTPim")
foreign = st.characters(blacklist_categories=("Cs",)).filter(lambda c: c not in QUANTITY_CHARACTERS)


@given(st.text(max_size=8), foreign, st.text(max_size=8))
def test_garbage_never_parses(before, junk, after):
    with pytest.raises(QuantityError):
        parse_quantity(before + junk + after)


@given(quantities(), st.sampled_from(["B", "b", "i", "Gi", "m", "e", " ", "+"]))
def test_a_quantity_with_more_after_its_suffix_never_parses(quantity, tail):
    text = quantity[0]
    if text[-1:].isdigit() and tail in ("m", "Gi") or tail == "i" and text[-1:] in "kMGTPE":
        return
    with pytest.raises(QuantityError):
        parse_quantity(text + tail)
