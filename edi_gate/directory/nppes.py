"""Reading the NPPES data dissemination file (``npidata_pfile_YYYYMMDD-YYYYMMDD.csv``) as a stream.

The monthly file is ~9 GB: 330 quoted columns per NPI, of which the directory needs a few (CMS's
published column names): ``NPI``, ``Entity Type Code``, ``Healthcare Provider Taxonomy Code_1..15``
with ``Healthcare Provider Primary Taxonomy Switch_1..15`` (Y/N/X), ``NPI Deactivation Date`` and
``NPI Reactivation Date`` (MM/DD/YYYY). Columns are found by name, so the file's other columns
(names, addresses, licenses, other identifiers, ...) and their order do not matter.

A deactivated NPI is published with only its NPI and deactivation date; it keeps no taxonomy.
NPPES taxonomies carry no dates: they are what the registry lists today, so they count as in
force on any date (unless the NPI was deactivated then, which is its own finding).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TextIO

from edi_gate.errors import ConfigError
from edi_gate.rules.codeset import TAXONOMY_RE

SLOTS = 15
NPI_COLUMN = "NPI"
ENTITY_COLUMN = "Entity Type Code"
DEACTIVATION_COLUMN = "NPI Deactivation Date"
REACTIVATION_COLUMN = "NPI Reactivation Date"
TAXONOMY_COLUMN = "Healthcare Provider Taxonomy Code_{}"
SWITCH_COLUMN = "Healthcare Provider Primary Taxonomy Switch_{}"
REQUIRED = (NPI_COLUMN, ENTITY_COLUMN, DEACTIVATION_COLUMN, REACTIVATION_COLUMN)
NPI_RE = re.compile(r"^\d{10}$")
DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")

# The csv module refuses fields over 128 KiB by default; the file's longest field is far below
# that, so the default stays as a bound on hostile input.


@dataclass(frozen=True, slots=True)
class NppesRecord:
    """What the directory keeps of one NPI's row."""

    npi: str
    entity_type: str
    taxonomies: tuple[tuple[str, bool], ...]  # (code, primary switch)
    deactivated: date | None
    reactivated: date | None

    def inactive_until(self) -> date | None:
        """Last day of the deactivation: the day before a later reactivation, None if open."""
        if self.deactivated is None or self.reactivated is None:
            return None
        if self.reactivated <= self.deactivated:
            return None  # a reactivation from before this deactivation ended an earlier one
        return self.reactivated - timedelta(days=1)


class NppesFormatError(ConfigError):
    """The file is not an NPPES data dissemination file (its header lacks required columns)."""


def _date(text: str) -> date | None:
    m = DATE_RE.match(text)
    if m is None:
        return None
    try:
        return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None


def read_nppes(stream: TextIO, path: str) -> Iterator[NppesRecord | None]:
    """The file's rows as records, one at a time; None for a row that cannot be used (its NPI is
    not ten digits, a date is malformed), so the caller can count what it skipped.

    Raises NppesFormatError when the header lacks a required column.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise NppesFormatError("empty file: no NPPES header", path=path) from None
    except csv.Error as error:
        raise NppesFormatError(f"unreadable header: {error}", path=path) from None
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in REQUIRED if c not in index]
    if missing or TAXONOMY_COLUMN.format(1) not in index:
        names = ", ".join(missing or [TAXONOMY_COLUMN.format(1)])
        raise NppesFormatError(f"not an NPPES data file: no column {names}", path=path)
    npi_at, entity_at = index[NPI_COLUMN], index[ENTITY_COLUMN]
    deact_at, react_at = index[DEACTIVATION_COLUMN], index[REACTIVATION_COLUMN]
    slots = [
        (index[TAXONOMY_COLUMN.format(n)], index.get(SWITCH_COLUMN.format(n), -1))
        for n in range(1, SLOTS + 1)
        if TAXONOMY_COLUMN.format(n) in index
    ]
    width = max(index.values()) + 1
    for row in reader:
        yield _record(row, width, npi_at, entity_at, deact_at, react_at, slots)


def _record(
    row: list[str],
    width: int,
    npi_at: int,
    entity_at: int,
    deact_at: int,
    react_at: int,
    slots: list[tuple[int, int]],
) -> NppesRecord | None:
    if len(row) < width:
        return None
    npi = row[npi_at].strip()
    if not NPI_RE.match(npi):
        return None
    deact_text, react_text = row[deact_at].strip(), row[react_at].strip()
    deactivated, reactivated = _date(deact_text), _date(react_text)
    if (deact_text and deactivated is None) or (react_text and reactivated is None):
        return None
    taxonomies: list[tuple[str, bool]] = []
    for code_at, switch_at in slots:
        code = row[code_at].strip().upper()
        if code and TAXONOMY_RE.match(code) and all(code != t for t, _ in taxonomies):
            taxonomies.append((code, switch_at >= 0 and row[switch_at].strip().upper() == "Y"))
    return NppesRecord(npi, row[entity_at].strip(), tuple(taxonomies), deactivated, reactivated)
