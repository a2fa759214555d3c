# -*- coding: utf-8 -*-
# Copyright: dok.databases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the result tables the SQL-family CLIs print (CockroachDB, KaiwuDB): csv, tsv or the aligned table.

Columns are always found by header name. ``read_table`` returns ``(headers, rows, notes)``: rows are dicts
keyed by header, notes are the non-table lines after the table (e.g. the closing message of a decommission).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import re

from ansible_collections.dok.databases.plugins.module_utils.engines.base import quote_output
from ansible_collections.dok.databases.plugins.module_utils.errors import ParseError

SEPARATOR = re.compile(r"^[\s+|-]*-[\s+|-]*$")
ROW_COUNT = re.compile(r"^\(\d+ rows?\)$")


def _split_aligned(line):
    cells = [c.strip() for c in line.split("|")]
    if line.rstrip().endswith("|"):
        cells = cells[:-1]
    if line.lstrip().startswith("|"):
        cells = cells[1:]
    return cells


def _split(line, style):
    if style == "aligned":
        return _split_aligned(line)
    if style == "tsv":
        return [c.strip() for c in line.split("\t")]
    return [c.strip() for c in next(csv.reader([line]))]


def _style(line):
    if "|" in line:
        return "aligned"
    if "\t" in line:
        return "tsv"
    return "csv"


def read_table(text, required, what, last=False):
    """Find the table whose header holds every name in `required` and read it; with `last`, the last such table
    (a waiting command prints one table per progress report, the final state last).

    Raise ParseError quoting the output when no such header exists or a row does not fit the header.
    """
    lines = (text or "").splitlines()
    found = None
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        style = _style(line)
        headers = _split(line, style)
        if all(name in headers for name in required):
            found = (index, headers, style)
            if not last:
                break
    if found:
        index, headers, style = found
        return _read_rows(lines, index, headers, style, what, text)
    raise ParseError(
        "Could not find the %s table in the output (looked for a header with the columns %s): %s. The CLI printed "
        "something else; check the binary option (the database's own CLI), its version, and the error above."
        % (what, ", ".join(required), quote_output(text)), output=text)


def _read_rows(lines, index, headers, style, what, text):
    rows, notes = [], []
    position = index + 1
    while position < len(lines):
        line = lines[position]
        position += 1
        stripped = line.strip()
        if style == "aligned" and SEPARATOR.match(line):
            continue
        if not stripped or ROW_COUNT.match(stripped):
            break
        cells = _split(line, style)
        if len(cells) != len(headers):
            raise ParseError(
                "A row of the %s table has %d values where the header has %d columns (%s): %r. Full output: %s. "
                "Check that the CLI version matches the server." % (
                    what, len(cells), len(headers), ", ".join(headers), line, quote_output(text)), output=text)
        rows.append(dict(zip(headers, cells)))
    notes = [line.strip() for line in lines[position:] if line.strip() and not ROW_COUNT.match(line.strip())]
    return headers, rows, notes
