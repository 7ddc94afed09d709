"""277CA (005010X214) claim acknowledgment writer: one 277CA transaction per 837P transaction.

Streaming: the 2200B/2200C totals must precede the claims, so ``add`` writes each claim's 2000D
loop as soon as it is decided (edi_gate.acks.ca277_claim) and holds it (edi_gate.acks.ca277_spool,
in memory and then on disk) with running totals; ``end_transaction`` writes the totals, then the
held claims. Memory is bounded whatever the size of the set. See the README section on
acknowledgments for conventions and status codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO, Final

from edi_gate.acks.ca277_claim import (
    RECEIPT,
    ClaimAck,
    Status,
    claim_ack,
    reject_statuses,
)
from edi_gate.acks.ca277_spool import PendingSet, ProviderAck, Totals
from edi_gate.acks.ca277_values import reference
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.x12out import EnvelopeFramer, SegmentOut, amount, clean, d8, hhmm
from edi_gate.rules.findings import Decision, Finding
from edi_gate.vocabulary import ENTITY_BILLING_PROVIDER
from edi_gate.x12.model import Claim, Envelope, Party

VERSION: Final = "005010X214"
PAYER_QUALIFIERS: Final = ("46", "FI", "PI", "XV")
REPLAY_BATCH: Final = 256 << 10  # bytes of held 2000D loops written at a time


def _bht_date(envelope: Envelope) -> date | None:
    try:
        return datetime.strptime(envelope.bht_date, "%Y%m%d").date()
    except ValueError:
        return None


class Ack277Writer:
    """Writes 277CA acknowledgments for the claims of 837P transactions, as they stream by."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        control: ControlNumbers,
        now: datetime,
        payer: Party | None = None,
    ) -> None:
        self.out = SegmentOut(stream)
        self.now = now
        self.today = d8(now)
        self.payer = payer
        self.framer = EnvelopeFramer(
            self.out, control=control, now=now, functional_id="HN", version=VERSION
        )
        self._txn: PendingSet | None = None
        self.transactions = 0  # 277CA transaction sets written
        self.claims = 0  # claims acknowledged
        self.rejected = 0

    def __enter__(self) -> Ack277Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_transaction(self, envelope: Envelope) -> None:
        """Start the 277CA answering one 837 transaction set (ends any open one first)."""
        if self._txn is not None:
            self.end_transaction()
        self._txn = PendingSet(envelope)

    def add(self, claim: Claim, decision: Decision) -> None:
        """Record the outcome for one claim of the open transaction (opened from the claim if none).

        Only the few fields the 277CA needs are kept, never the Claim or its segments.
        """
        if self._txn is None:
            self.begin_transaction(claim.envelope)
        txn = self._txn
        assert txn is not None
        billing = claim.billing
        key = (claim.hl_billing, billing.npi or billing.party.id)
        if txn.provider is None or key != txn.key:
            txn.close_provider()
            txn.provider, txn.key = _provider_ack(claim, txn.envelope), key
        undated = claim.service_dates[0]  # the claim's date, or the one a claim without any gets
        if undated is None:
            undated = _bht_date(claim.envelope) or self.now.date()
        txn.add(claim_ack(claim, decision, self.today, undated))

    def end_transaction(self, override: list[Finding] | None = None) -> str | None:
        """Write the 277CA of the open transaction; returns its ST02, None when it had no claims.

        ``override``: findings that reject every claim of the transaction instead of its own
        decision (a transaction set with syntax errors, reported in the 999 too).
        """
        txn, self._txn = self._txn, None
        if txn is None:
            return None
        try:
            if not txn.totals.claims:
                return None
            txn.close_provider()
            statuses = None if override is None else reject_statuses(override)
            self.framer.open_for(txn.envelope)
            st02 = self.framer.transaction(
                "277", lambda out, st02: self._body(out, st02, txn, statuses)
            )
        finally:
            txn.close()
        self.transactions += 1
        return st02

    def close(self) -> None:
        """Finish any open transaction and write the open GE/IEA trailers."""
        self.end_transaction()
        self.framer.close()

    # -- writing ---------------------------------------------------------------------------------

    def _payer(self, envelope: Envelope) -> tuple[str, str, str]:
        party = self.payer or envelope.receiver
        name = clean(party.name, 60) or clean(envelope.receiver_id, 60) or "PAYER"
        ident = clean(party.id, 80) or clean(envelope.receiver_id, 80)
        qualifier = party.id_qualifier if party.id_qualifier in PAYER_QUALIFIERS else "46"
        return name, qualifier, ident.ljust(2, "0")

    def _body(
        self, out: SegmentOut, st02: str, txn: PendingSet, override: list[Status] | None
    ) -> None:
        env = txn.envelope
        today, now = d8(self.now), self.now
        bht03 = f"277CA{self.framer.isa13:09d}{st02}"
        out("BHT", "0085", "08", bht03, today, hhmm(now), "TH")
        # 2000A information source
        out("HL", "1", "", "20", "1")
        name, qualifier, ident = self._payer(env)
        out("NM1", "PR", "2", name, "", "", "", "", qualifier, ident)
        out("TRN", "1", bht03)
        out("DTP", "050", "D8", today)
        out("DTP", "009", "D8", today)
        # 2000B information receiver: the 837 submitter
        out("HL", "2", "1", "21", "1")
        sub = env.submitter
        sub_type = "1" if sub.first_name else "2"
        out(
            "NM1",
            "41",
            sub_type,
            clean(sub.name, 60) or clean(env.sender_id, 60) or "SUBMITTER",
            clean(sub.first_name, 35) if sub_type == "1" else "",
            "",
            "",
            "",
            "46",
            (clean(sub.id, 80) or clean(env.sender_id, 80)).ljust(2, "0"),
        )
        out("TRN", "2", reference(env.bht_reference) or reference(env.transaction_control) or "0")
        totals = txn.totals if override is None else txn.totals.all_rejected()
        out("STC", (*RECEIPT, "PR"), today, "WQ", amount(totals.charge))
        self._totals(out, totals, ("90", "AA"))
        hl = 2
        claims = txn.claims.records()
        for provider in txn.providers.records():
            hl += 1
            ptotals = provider.totals if override is None else provider.totals.all_rejected()
            self._provider(out, provider, hl, ptotals)
            hl = self._held_claims(out, claims, ptotals.claims, hl, override)
            self.claims += ptotals.claims
            self.rejected += ptotals.claims - ptotals.accepted

    def _provider(self, out: SegmentOut, provider: ProviderAck, hl: int, totals: Totals) -> None:
        """The 2000C loop of one billing provider, up to its claims."""
        out("HL", str(hl), "2", "19", "1")
        out(
            "NM1",
            ENTITY_BILLING_PROVIDER,
            provider.entity_type,
            provider.name,
            provider.first_name,
            "",
            "",
            "",
            provider.qualifier,
            provider.id,
        )
        out("TRN", "1", provider.trace)
        out("STC", (*RECEIPT, "PR"), "", "WQ", amount(totals.charge))
        self._totals(out, totals, ("QA", "QC"))

    def _held_claims(
        self,
        out: SegmentOut,
        claims: Iterator[ClaimAck],
        count: int,
        hl: int,
        override: list[Status] | None,
    ) -> int:
        """Write the next ``count`` held claims' 2000D loops under their provider (HL ``hl``),
        in batches of about REPLAY_BATCH bytes; returns the last HL number."""
        parent = hl
        parts: list[str] = []
        size = segments = 0
        for _ in range(count):
            claim = next(claims)
            if override is not None:
                claim.rejected_whole(self.today, override)
            hl += 1
            parts.append(f"HL*{hl}*{parent}*PT~\n")
            parts.append(claim.text)
            segments += 1 + claim.segments
            size += len(claim.text)
            if size > REPLAY_BATCH:
                out.stream.write("".join(parts).encode("ascii"))
                parts, size = [], 0
        out.stream.write("".join(parts).encode("ascii"))
        out.count += segments
        return hl

    @staticmethod
    def _totals(out: SegmentOut, totals: Totals, qualifiers: tuple[str, str]) -> None:
        accepted = totals.accepted
        rejected = totals.claims - accepted
        if accepted:
            out("QTY", qualifiers[0], str(accepted))
        if rejected:
            out("QTY", qualifiers[1], str(rejected))
        if accepted:
            out("AMT", "YU", amount(totals.accepted_amount))
        if rejected or totals.rejected_amount:
            out("AMT", "YY", amount(totals.rejected_amount))


def _provider_ack(claim: Claim, envelope: Envelope) -> ProviderAck:
    """The 2000C of the claim's billing provider (2010AA), each value through the gate."""
    billing = claim.billing
    party = billing.party
    npi = clean(billing.npi, 80)
    qualifier, ident = ("XX", npi) if npi else (party.id_qualifier, clean(party.id, 80))
    if qualifier not in ("FI", "SV", "XX"):
        qualifier = "XX"
    entity_type = "1" if party.first_name else "2"
    return ProviderAck(
        entity_type=entity_type,
        name=clean(party.name, 60) or "UNKNOWN",
        first_name=clean(party.first_name, 35) if entity_type == "1" else "",
        qualifier=qualifier,
        id=ident.ljust(2, "0"),
        trace=clean(f"{envelope.transaction_control}-{claim.hl_billing}", 50) or "1",
    )
