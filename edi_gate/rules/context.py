"""Per-claim indexes built once so every rule answers with dict and set lookups."""

from __future__ import annotations

from datetime import date
from types import EllipsisType
from typing import TYPE_CHECKING, Final

from edi_gate.directory.lookup import NOT_FOUND, Period, ProviderDirectory, Resolution
from edi_gate.rules.roster import Roster
from edi_gate.vocabulary import ENTITY_BILLING_PROVIDER, ENTITY_RENDERING_PROVIDER
from edi_gate.x12.grammar import LOOP_2000A, LOOP_2310B, LOOP_2420A

if TYPE_CHECKING:
    from edi_gate.rules.ruleset import Certification, Ruleset
    from edi_gate.x12.model import Claim, ServiceLine

# NUCC group taxonomies that name no specialty (193200000X multi-specialty group, 193400000X
# single specialty group): a billing PRV*BI with one of them says nothing about who rendered.
NO_SPECIALTY: Final = frozenset({"193200000X", "193400000X"})

# Where a line's taxonomy came from (the decisions' ``taxonomy_source``).
SOURCE_2420A: Final = "2420A PRV"
SOURCE_2310B: Final = "2310B PRV"
SOURCE_2000A: Final = "2000A PRV"


class ClaimContext:
    """A claim with its lines grouped by date of service and provider facts resolved lazily.

    Built for every claim the engine evaluates, so construction only stores references: the
    by-date indexes are made on first use, by the few rules that compare lines of one date.
    """

    __slots__ = (
        "claim",
        "ruleset",
        "directory",
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
        directory: ProviderDirectory | Roster | None,
        office_pos: frozenset[str],
        dos: date | None | EllipsisType = ...,
    ) -> None:
        """``dos``: the claim's date of service (earliest line date) when the caller has it.
        ``directory``: the provider directory (a bare roster is wrapped: tests, tools)."""
        self.claim = claim
        self.ruleset = ruleset
        self.directory: ProviderDirectory | None = (
            ProviderDirectory([directory]) if isinstance(directory, Roster) else directory
        )
        self.office_pos = office_pos
        self.dos: date | None = claim.service_dates[0] if dos is ... else dos
        self._by_date: dict[date | None, list[ServiceLine]] | None = None
        self._codes_by_date: dict[date | None, set[str]] = {}
        self._tax: dict[int, Resolution] = {}
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

    def is_office(self, line: ServiceLine) -> bool:
        return line.place_of_service in self.office_pos

    # -- providers ------------------------------------------------------------------------
    def entity(self, line: ServiceLine) -> str:
        """82 when a rendering loop supplied the line's provider, 85 when it is the billing one."""
        return (
            ENTITY_BILLING_PROVIDER
            if line.rendering.loop == LOOP_2000A
            else ENTITY_RENDERING_PROVIDER
        )

    def taxonomies(self, line: ServiceLine) -> Resolution:
        """Every taxonomy the line's rendering provider holds on its date, and where they came
        from (``codes`` empty when unknown). Resolved once per line, in the payer's order:

        1. the PRV of the loop that named the renderer (2420A, 2310B, or 2000A when the billing
           provider renders), or of the 2310B when it names the same NPI as the 2420A;
        2. the provider directory (roster, then NPPES) for the rendering NPI on the date: every
           taxonomy in force counts;
        3. the billing provider's PRV*BI, unless it names no specialty (group codes
           193200000X/193400000X): a group or imaging center billing for its provider.
        """
        hit = self._tax.get(line.number)
        if hit is None:
            hit = self._resolve(line)
            self._tax[line.number] = hit
        return hit

    def taxonomy(self, line: ServiceLine) -> tuple[str, str]:
        """(first taxonomy, its source) for the line, ('', '') when unknown: the primary or most
        recent one, for rules and messages that name a single specialty."""
        hit = self.taxonomies(line)
        return (hit.codes[0], hit.source) if hit.codes else ("", "")

    def _resolve(self, line: ServiceLine) -> Resolution:
        prov = line.rendering
        own = prov.taxonomy.upper()
        if own and own not in NO_SPECIALTY:
            return Resolution((own,), _PRV_SOURCES.get(prov.loop, prov.loop + " PRV"))
        claim_rendering = self.claim.rendering
        if (
            prov.loop == LOOP_2420A
            and claim_rendering is not None
            and claim_rendering.taxonomy
            and claim_rendering.npi == prov.npi
        ):
            return Resolution((claim_rendering.taxonomy.upper(),), SOURCE_2310B)
        directory = self.directory
        if directory is not None and prov.npi:
            hit = directory.taxonomies(prov.npi, self.line_date(line))
            if hit.codes:
                return hit
        billing = self.claim.billing.taxonomy.upper()
        if billing and billing not in NO_SPECIALTY:
            return Resolution((billing,), SOURCE_2000A)
        return NOT_FOUND

    def billing_taxonomy(self, line: ServiceLine) -> str:
        billing = self.claim.billing
        if billing.taxonomy:
            return billing.taxonomy.upper()
        if self.directory is not None and billing.npi:
            codes = self.directory.taxonomies(billing.npi, self.line_date(line)).codes
            return codes[0] if codes else ""
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
        if self.directory is None:
            return ""
        on = self.line_date(line)
        billing = self.claim.billing.npi
        for cred in cert.credentials:
            holders = (npi, billing) if cred in cert.practice_credentials else (npi,)
            for holder in holders:
                if not holder or not self.directory.has_credential(holder, cred, on):
                    continue
                if cred in cert.initial_only and not self._first_period(holder, cred, on):
                    continue
                return cred
        return ""

    def _first_period(self, npi: str, credential: str, on: date | None) -> bool:
        assert self.directory is not None
        periods = self.directory.credential_periods(npi, credential)
        if not periods:
            return False
        start, end = periods[0].start, periods[0].end
        if on is None:
            return start is None and end is None
        return (start is None or start <= on) and (end is None or on <= end)

    def has_credential(self, npi: str, credentials: tuple[str, ...], line: ServiceLine) -> str:
        """The first of ``credentials`` the NPI holds on the line's date, '' when none."""
        if self.directory is None or not npi:
            return ""
        on = self.line_date(line)
        for cred in credentials:
            if self.directory.has_credential(npi, cred.upper(), on):
                return cred
        return ""

    def deactivation(self, npi: str, line: ServiceLine) -> tuple[Period, str] | None:
        """(deactivation period, source) when the NPI was deactivated on the line's date."""
        if self.directory is None or not npi:
            return None
        return self.directory.deactivation(npi, self.line_date(line))


_PRV_SOURCES: Final = {LOOP_2420A: SOURCE_2420A, LOOP_2310B: SOURCE_2310B, LOOP_2000A: SOURCE_2000A}
