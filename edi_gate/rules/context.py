"""Per-claim indexes built once so every rule answers with dict and set lookups."""

from __future__ import annotations

from datetime import date
from types import EllipsisType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edi_gate.rules.roster import Roster
    from edi_gate.rules.ruleset import Certification, Ruleset
    from edi_gate.x12.model import Claim, Provider, ServiceLine


class ClaimContext:
    """A claim with its lines grouped by date of service and provider facts resolved lazily.

    Built for every claim the engine evaluates, so construction only stores references: the
    by-date indexes are made on first use, by the few rules that compare lines of one date.
    """

    __slots__ = (
        "claim",
        "ruleset",
        "roster",
        "office_pos",
        "dos",
        "_by_date",
        "_codes_by_date",
        "_tax",
        "memo",
    )

    def __init__(
        self,
        claim: Claim,
        ruleset: Ruleset,
        roster: Roster | None,
        office_pos: frozenset[str],
        dos: date | None | EllipsisType = ...,
    ) -> None:
        """``dos``: the claim's date of service (earliest line date) when the caller has it."""
        self.claim = claim
        self.ruleset = ruleset
        self.roster = roster
        self.office_pos = office_pos
        self.dos: date | None = claim.service_dates[0] if dos is ... else dos
        self._by_date: dict[date | None, list[ServiceLine]] | None = None
        self._codes_by_date: dict[date | None, set[str]] = {}
        self._tax: dict[int, tuple[str, str]] = {}
        self.memo: dict[object, object] = {}  # per-claim results shared by a family's rules

    @property
    def by_date(self) -> dict[date | None, list[ServiceLine]]:
        """Lines by date of service (a line without a date takes the claim's), in claim order."""
        if self._by_date is None:
            self._index()
        return self._by_date  # type: ignore[return-value]

    @property
    def codes_by_date(self) -> dict[date | None, set[str]]:
        """Procedure codes by date of service."""
        if self._by_date is None:
            self._index()
        return self._codes_by_date

    def _index(self) -> None:
        by_date: dict[date | None, list[ServiceLine]] = {}
        codes: dict[date | None, set[str]] = {}
        dos = self.dos
        for line in self.claim.lines:
            d = line.service_date or dos
            by_date.setdefault(d, []).append(line)
            codes.setdefault(d, set()).add(line.procedure)
        self._by_date, self._codes_by_date = by_date, codes

    # -- dates and neighbours -------------------------------------------------------------
    def line_date(self, line: ServiceLine) -> date | None:
        return line.service_date or self.dos

    def same_day_codes(self, line: ServiceLine) -> set[str]:
        """Codes billed on the claim on this line's date of service (this line's own included)."""
        return self.codes_by_date.get(line.service_date or self.dos, set())

    def same_day_lines(self, line: ServiceLine) -> list[ServiceLine]:
        return self.by_date.get(line.service_date or self.dos, [])

    def is_office(self, line: ServiceLine) -> bool:
        return line.place_of_service in self.office_pos

    # -- providers ------------------------------------------------------------------------
    def entity(self, line: ServiceLine) -> str:
        """82 when a rendering loop supplied the line's provider, 85 when it is the billing one."""
        return "85" if line.rendering.loop == "2000A" else "82"

    def taxonomy(self, line: ServiceLine) -> tuple[str, str]:
        """(taxonomy, where it came from) for the line's rendering provider, '' when unknown.

        Order: the PRV of the loop that supplied the rendering provider; the roster for that NPI
        on the date of service; the PRV of a higher loop of the chain (2310B, then 2000A) that
        names the same NPI. A higher loop naming another NPI describes someone else and is not used.
        """
        hit = self._tax.get(line.number)
        if hit is None:
            hit = self._resolve(line)
            self._tax[line.number] = hit
        return hit

    def _resolve(self, line: ServiceLine) -> tuple[str, str]:
        prov = line.rendering
        if prov.taxonomy:
            return prov.taxonomy.upper(), f"PRV in {prov.loop}"
        if self.roster is not None and prov.npi:
            tax = self.roster.taxonomy(prov.npi, self.line_date(line))
            if tax:
                return tax, "roster"
        chain: list[Provider] = []
        if prov.loop == "2420A" and self.claim.rendering is not None:
            chain.append(self.claim.rendering)
        if prov.loop != "2000A":
            chain.append(self.claim.billing)
        for other in chain:
            if other.taxonomy and other.npi and other.npi == prov.npi:
                return other.taxonomy.upper(), f"PRV in {other.loop}"
        return "", ""

    def billing_taxonomy(self, line: ServiceLine) -> str:
        billing = self.claim.billing
        if billing.taxonomy:
            return billing.taxonomy.upper()
        if self.roster is not None and billing.npi:
            return self.roster.taxonomy(billing.npi, self.line_date(line))
        return ""

    def is_outpatient(self, line: ServiceLine) -> bool:
        """An outpatient place of service (the office list included): the seed's high-tech
        imaging program ("nonemergency; outpatient"), wider than office privileging."""
        pos = line.place_of_service
        return pos in self.office_pos or pos in self.ruleset.outpatient_pos

    def certified(self, cert: Certification, npi: str, line: ServiceLine) -> str:
        """The credential of ``cert`` that privileges the line, '' when none.

        The rendering NPI's own credential in force on the date; or the billing NPI's when the
        credential accredits a practice (AIUM, IAC: "an accredited facility"), for the lines it
        bills. A credential marked initial-only (ASBS) counts only in its first period: "must be
        re-privileged (at the expiration of the ASBS certification) with an AIUM accreditation".
        """
        if self.roster is None:
            return ""
        on = self.line_date(line)
        billing = self.claim.billing.npi
        for cred in cert.credentials:
            holders = (npi, billing) if cred in cert.practice_credentials else (npi,)
            for holder in holders:
                if not holder or not self.roster.has_credential(holder, cred, on):
                    continue
                if cred in cert.initial_only and not self._first_period(holder, cred, on):
                    continue
                return cred
        return ""

    def _first_period(self, npi: str, credential: str, on: date | None) -> bool:
        assert self.roster is not None
        periods = self.roster.credential_periods(npi, credential)
        if not periods:
            return False
        start, end = periods[0]
        if on is None:
            return start is None and end is None
        return (start is None or start <= on) and (end is None or on <= end)

    def has_credential(self, npi: str, credentials: tuple[str, ...], line: ServiceLine) -> str:
        """The first of ``credentials`` the NPI holds on the line's date, '' when none."""
        if self.roster is None or not npi:
            return ""
        on = self.line_date(line)
        for cred in credentials:
            if self.roster.has_credential(npi, cred, on):
                return cred
        return ""
