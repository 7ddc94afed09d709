"""The provider roster: what the plan knows about an NPI beyond the claim.

Claims often carry no PRV taxonomy, and certifications (ISCD, AIUM, ASBS, IAC) never appear on a
claim at all, so both come from here. Rows are dated because privileges are not retroactive: a
credential counts only if it was in force on the date of service.

CSV header: ``npi,taxonomy,credential,effective,expires``; dates YYYY-MM-DD, empty = open-ended;
several rows per NPI; a row carries a taxonomy, a credential, or both. ``expires`` is the last day
the row is in force. Lines starting with ``#`` and blank lines are ignored.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from edi_gate.config_text import data_lines, parse_date
from edi_gate.directory.lookup import ROSTER, Listing, Period
from edi_gate.errors import ConfigError, read_config_text
from edi_gate.rules.codeset import TAXONOMY_RE

HEADER = ("npi", "taxonomy", "credential", "effective", "expires")
CREDENTIAL_RE = re.compile(r"^[A-Z][A-Z0-9_-]{1,19}$")
NPI_RE = re.compile(r"^\d{10}$")


def npi_is_valid(npi: str) -> bool:
    """Luhn check over the NPI with the 80840 health-industry prefix (CMS NPI check digit)."""
    if not NPI_RE.match(npi):
        return False
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class RosterRow:
    npi: str
    taxonomy: str
    credential: str
    effective: date | None
    expires: date | None
    line: int


class Roster:
    """The roster CSV held in memory: a provider-directory source (``edi_gate.directory``).

    Each NPI's rows become one ``Listing`` of the ``roster`` source, so the engine asks the CSV
    roster and the SQLite directory the same way. Every taxonomy in force on a date counts.
    """

    def __init__(self, rows: list[RosterRow] | None = None, path: str | None = None) -> None:
        self.path = path
        self.rows: list[RosterRow] = list(rows or [])
        by_npi: dict[str, list[RosterRow]] = {}
        for row in self.rows:
            by_npi.setdefault(row.npi, []).append(row)
        self._listings: dict[str, list[Listing]] = {
            npi: [listing_of(npi, rows_)] for npi, rows_ in by_npi.items()
        }

    def __len__(self) -> int:
        return len(self.rows)

    # -- the directory source interface --------------------------------------------------------
    def listings(self, npi: str) -> list[Listing]:
        return self._listings.get(npi, [])

    def changed(self) -> bool:
        return False  # read once, never re-imported behind the engine's back

    # -- direct questions (tests, lint) --------------------------------------------------------
    def taxonomies(self, npi: str, on_date: date | None) -> tuple[str, ...]:
        """Every taxonomy in force for ``npi`` on ``on_date``, most recent first."""
        found = self._listings.get(npi)
        return found[0].taxonomies_on(on_date) if found else ()

    def taxonomy(self, npi: str, on_date: date | None) -> str:
        """The most recent taxonomy in force for ``npi`` on ``on_date``, '' when none."""
        codes = self.taxonomies(npi, on_date)
        return codes[0] if codes else ""

    def has_credential(self, npi: str, credential: str, on_date: date | None) -> bool:
        """True when a row grants ``credential`` in force on the date (not retroactive)."""
        return credential.upper() in self.credentials(npi, on_date)

    def credentials(self, npi: str, on_date: date | None) -> frozenset[str]:
        found = self._listings.get(npi)
        if not found:
            return frozenset()
        return frozenset(p.code for p in found[0].credentials if p.in_force(on_date))


def listing_of(npi: str, rows: list[RosterRow]) -> Listing:
    """One NPI's roster rows as a directory listing."""
    taxonomies = [Period(r.taxonomy, r.effective, r.expires) for r in rows if r.taxonomy]
    credentials = [Period(r.credential, r.effective, r.expires) for r in rows if r.credential]
    return Listing(ROSTER, npi, taxonomies, credentials)


class RowProblem(ValueError):
    """What is wrong with one roster row; the caller adds the file and line."""


def _date(value: str, column: str) -> date | None:
    """A YYYY-MM-DD date cell, None when empty (open-ended)."""
    try:
        return parse_date(value.strip())
    except ValueError:
        raise RowProblem(f"{column} {value.strip()!r} is not a date YYYY-MM-DD") from None


def _coded(value: str, pattern: re.Pattern[str], problem: str) -> str:
    """An optional code cell upper-cased (taxonomies and credentials are compared so), empty or
    matching ``pattern``; ``problem`` names what it should be, with ``{value!r}``."""
    value = value.upper()
    if value and not pattern.match(value):
        raise RowProblem(problem.format(value=value))
    return value


def check_header(text_line: str) -> None:
    """The first data line must name the columns, in order: a reordered export would otherwise
    read credentials as taxonomies."""
    header = tuple(h.strip().lower() for h in next(csv.reader([text_line])))
    if header != HEADER:
        raise RowProblem(f"header must be {','.join(HEADER)}, found {','.join(header)}")


def parse_row(text_line: str, lineno: int) -> RosterRow:
    """One roster row, every cell checked: a valid NPI, a NUCC-shaped taxonomy and/or a
    credential, and a date range that does not run backwards."""
    cells = next(csv.reader([text_line]))
    if len(cells) != len(HEADER):
        raise RowProblem(f"expected {len(HEADER)} columns, found {len(cells)}")
    npi, taxonomy, credential, eff, exp = (c.strip() for c in cells)
    if not npi_is_valid(npi):
        raise RowProblem(
            f"NPI {npi!r} is not 10 digits with a valid check digit (Luhn, prefix 80840)"
        )
    taxonomy = _coded(
        taxonomy, TAXONOMY_RE, "taxonomy {value!r} is not a NUCC code (10 characters ending in X)"
    )
    credential = _coded(credential, CREDENTIAL_RE, "credential {value!r} is malformed")
    if not taxonomy and not credential:
        raise RowProblem("row has neither a taxonomy nor a credential")
    start, end = _date(eff, "effective"), _date(exp, "expires")
    if start and end and end < start:
        raise RowProblem(f"expires {end.isoformat()} is before effective {start.isoformat()}")
    return RosterRow(npi, taxonomy, credential, start, end, lineno)


def parse_roster(text: str, path: str = "<roster>") -> Roster:
    """Parse roster CSV text; raises ConfigError naming the file and line of the first problem."""
    lines = data_lines(text)
    lineno = 0
    try:
        first = next(lines, None)
        if first is None:
            return Roster([], path)
        lineno, header = first
        check_header(header)
        rows = []
        for lineno, text_line in lines:
            rows.append(parse_row(text_line, lineno))
    except RowProblem as problem:
        raise ConfigError(str(problem), path=path, line=lineno) from None
    return Roster(rows, path)


def load_roster(path: Path) -> Roster:
    """Read and parse a roster file."""
    return parse_roster(read_config_text(path, "roster", "utf-8-sig"), str(path))
