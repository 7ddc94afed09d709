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


def _date(value: str, field: str, path: str, line: int) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{field} {value!r} is not a date YYYY-MM-DD", path=path, line=line
        ) from None


def parse_roster(text: str, path: str = "<roster>") -> Roster:
    """Parse roster CSV text; raises ConfigError naming the file and line of the first problem."""
    lines = text.splitlines()
    numbered = [
        (i, ln) for i, ln in enumerate(lines, 1) if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not numbered:
        return Roster([], path)
    header_line, header_text = numbered[0]
    header = tuple(h.strip().lower() for h in next(csv.reader([header_text])))
    if header != HEADER:
        raise ConfigError(
            f"header must be {','.join(HEADER)}, found {','.join(header)}",
            path=path,
            line=header_line,
        )
    rows: list[RosterRow] = []
    for lineno, text_line in numbered[1:]:
        cells = next(csv.reader([text_line]))
        if len(cells) != len(HEADER):
            raise ConfigError(
                f"expected {len(HEADER)} columns, found {len(cells)}", path=path, line=lineno
            )
        npi, taxonomy, credential, eff, exp = (c.strip() for c in cells)
        if not npi_is_valid(npi):
            raise ConfigError(
                f"NPI {npi!r} is not 10 digits with a valid check digit (Luhn, prefix 80840)",
                path=path,
                line=lineno,
            )
        taxonomy = taxonomy.upper()
        if taxonomy and not TAXONOMY_RE.match(taxonomy):
            raise ConfigError(
                f"taxonomy {taxonomy!r} is not a NUCC code (10 characters ending in X)",
                path=path,
                line=lineno,
            )
        credential = credential.upper()
        if credential and not CREDENTIAL_RE.match(credential):
            raise ConfigError(f"credential {credential!r} is malformed", path=path, line=lineno)
        if not taxonomy and not credential:
            raise ConfigError("row has neither a taxonomy nor a credential", path=path, line=lineno)
        start = _date(eff, "effective", path, lineno)
        end = _date(exp, "expires", path, lineno)
        if start and end and end < start:
            raise ConfigError(
                f"expires {end.isoformat()} is before effective {start.isoformat()}",
                path=path,
                line=lineno,
            )
        rows.append(RosterRow(npi, taxonomy, credential, start, end, lineno))
    return Roster(rows, path)


def load_roster(path: Path) -> Roster:
    """Read and parse a roster file."""
    return parse_roster(read_config_text(path, "roster", "utf-8-sig"), str(path))
