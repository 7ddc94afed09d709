"""What a 277CA holds of its 837 transaction set until the set's SE: the claims' records and the
billing providers' totals, in memory up to a byte budget, then on disk (edi_gate.spool).

The 2200B/2200C totals precede the claims in a 277CA, so nothing of a set can be written before
its last claim; a set of a million claims must still fit in constant memory. A claim's record is
packed to bytes only when the budget is passed: fields joined by US (0x1f), each went through
``clean`` (no control characters) or is a number or a date, and its 2000D text last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from edi_gate.acks.ca277_claim import ClaimAck
from edi_gate.acks.ca277_values import ymd
from edi_gate.memo import Memo
from edi_gate.spool import RecordSpool
from edi_gate.x12.model import Envelope

# In memory up to these many bytes of a set's records (objects included), then on disk.
CLAIM_SPOOL_BYTES: Final = 4 << 20
PROVIDER_SPOOL_BYTES: Final = 256 << 10
# What a held ClaimAck costs besides its text: the object, its patient tuple and strings, its
# amounts and dates (measured with tracemalloc on the compiled build: about 400-550 bytes).
CLAIM_OVERHEAD: Final = 640
PROVIDER_OVERHEAD: Final = 768

_US: Final = "\x1f"
_US_BYTE: Final = b"\x1f"
_CLAIM_FIELDS: Final = 11  # before the text


@dataclass(slots=True)
class Totals:
    """Counts and amounts over claims: what a 2200B/2200C's QTY, AMT and STC04 say."""

    claims: int = 0
    accepted: int = 0
    accepted_amount: Decimal = Decimal(0)
    rejected_amount: Decimal = Decimal(0)

    def add(self, claim: ClaimAck) -> None:
        self.claims += 1
        self.accepted += claim.accepted
        self.accepted_amount += claim.accepted_amount
        self.rejected_amount += claim.rejected_amount

    @property
    def charge(self) -> Decimal:
        """The claims' total charge (what is not accepted of a claim's charge is rejected)."""
        return self.accepted_amount + self.rejected_amount

    def all_rejected(self) -> Totals:
        """The totals once a set-level rejection has rejected every claim."""
        return Totals(self.claims, 0, Decimal(0), self.charge)


@dataclass(slots=True)
class ProviderAck:
    """A 2000C billing provider of the 277CA, with the totals of its claims."""

    entity_type: str
    name: str
    first_name: str
    qualifier: str
    id: str
    trace: str
    totals: Totals = field(default_factory=Totals)


def _pack_provider(provider: ProviderAck) -> bytes:
    t = provider.totals
    fields = (
        provider.entity_type,
        provider.name,
        provider.first_name,
        provider.qualifier,
        provider.id,
        provider.trace,
        str(t.claims),
        str(t.accepted),
        str(t.accepted_amount),
        str(t.rejected_amount),
    )
    return _US.join(fields).encode("ascii")


def _unpack_provider(record: bytes) -> ProviderAck:
    f = record.decode("ascii").split(_US)
    totals = Totals(int(f[6]), int(f[7]), Decimal(f[8]), Decimal(f[9]))
    return ProviderAck(f[0], f[1], f[2], f[3], f[4], f[5], totals)


def _pack_claim(claim: ClaimAck) -> bytes:
    """What the 2000D is written from (its text) and what a set-level rejection rewrites it
    from (the amounts are in the providers' totals; the charge as submitted)."""
    fields = (
        str(claim.segments),
        claim.claim_id,
        claim.submitted_charge,
        "1" if claim.accepted else "",
        *claim.patient,
        claim.clearinghouse_trace,
        ymd(claim.start),
        ymd(claim.end) if claim.end is not None else "",
        claim.text,
    )
    return _US.join(fields).encode("ascii")


def _parse_day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


_DAYS: Final = Memo(_parse_day)  # service dates repeat from claim to claim
_ZERO: Final = Decimal(0)


def _unpack_claim(record: bytes) -> ClaimAck:
    """A claim's record as read back, for its 2000D text or a set-level rejection's rewrite
    (which reads STC04 as submitted, ``charge_text``). Its amounts are zero: they were counted
    in the totals when it was added, and nothing reads them again."""
    f = record.decode("ascii").split(_US, _CLAIM_FIELDS)
    return ClaimAck(
        claim_id=f[1],
        charge=_ZERO,
        charge_text=f[2],
        accepted=f[3] == "1",
        accepted_amount=_ZERO,
        rejected_amount=_ZERO,
        patient=(f[4], f[5], f[6], f[7]),
        clearinghouse_trace=f[8],
        start=_DAYS.get(f[9]),
        end=_DAYS.get(f[10]) if f[10] else None,
        text=f[11],
        segments=int(f[0]),
    )


def _claim_spool() -> RecordSpool[ClaimAck]:
    return RecordSpool(CLAIM_SPOOL_BYTES, _pack_claim, _unpack_claim)


def _provider_spool() -> RecordSpool[ProviderAck]:
    return RecordSpool(PROVIDER_SPOOL_BYTES, _pack_provider, _unpack_provider)


@dataclass(slots=True)
class PendingSet:
    """The records of one 837 transaction set, held until its SE for the 277CA answering it.

    The claims of each billing provider are contiguous in an 837 (they follow its HL), so a
    provider is closed when the next one starts and each is held once, with its totals, in
    ``providers``; its claims go to ``claims`` in order."""

    envelope: Envelope
    key: tuple[str, str] | None = None  # the open provider's
    provider: ProviderAck | None = None
    providers: RecordSpool[ProviderAck] = field(default_factory=_provider_spool)
    claims: RecordSpool[ClaimAck] = field(default_factory=_claim_spool)
    totals: Totals = field(default_factory=Totals)

    def add(self, claim: ClaimAck) -> None:
        """Hold one claim of the open provider."""
        assert self.provider is not None
        self.provider.totals.add(claim)
        self.totals.add(claim)
        self.claims.append(claim, len(claim.text) + CLAIM_OVERHEAD)

    def close_provider(self) -> None:
        """Hold the open provider (its claims are held already) once its last claim is added."""
        if self.provider is not None:
            self.providers.append(self.provider, PROVIDER_OVERHEAD)
        self.provider = self.key = None

    def close(self) -> None:
        self.providers.close()
        self.claims.close()
