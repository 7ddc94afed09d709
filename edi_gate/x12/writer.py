"""Write the filtered 837: accepted claims byte for byte, envelopes and hierarchy repaired.

The writer streams. Envelope and hierarchy headers are held back until the first claim under them
is accepted, so a billing provider, subscriber, transaction, group or interchange left with no
claims disappears. A transaction set's output is spooled until its SE proves the set sound, which
bounds memory by one transaction set (and spills to disk beyond a few megabytes).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO, Final

from edi_gate.spool import Spool
from edi_gate.x12.loops import (
    HL_BILLING,
    HL_PATIENT,
    HL_SUBSCRIBER,
    GroupEnd,
    GroupStart,
    HierarchyLevel,
    InterchangeAcknowledgment,
    InterchangeEnd,
    InterchangeStart,
    TransactionEnd,
    TransactionStart,
)
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import Segment

SPOOL_BYTES: Final = 2 << 20
CLAIMLESS_SPOOL_BYTES: Final = 1 << 20
LEVEL_ORDER: Final = (HL_BILLING, HL_SUBSCRIBER, HL_PATIENT)


def format_amount(amount: Decimal) -> str:
    """An X12 R-type amount: no exponent, no trailing zeros after the point ('150.00' -> '150'),
    and zero unsigned ('-0.00' -> '0': the minus sign marks a negative value, and zero is none).
    The one formatter of amounts: the filtered 837's CLM02 and every acknowledgment's."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-", "-0"):
        return "0"
    return text


def _encode(value: str) -> bytes:
    return value.encode("latin-1")


def rewrite(segment: Segment, changes: dict[int, str]) -> bytes:
    """The segment's raw bytes with some elements replaced; unchanged bytes when nothing differs."""
    elements = list(segment.elements)
    changed = False
    for position, value in changes.items():
        new = _encode(value)
        while len(elements) <= position:
            elements.append(b"")
        if elements[position] != new:
            elements[position] = new
            changed = True
    return segment.rewrite(elements) if changed else segment.raw


class _SetSpool(Spool):
    """One transaction set's output, and how many segments it holds (for SE01)."""

    def __init__(self, limit: int = SPOOL_BYTES) -> None:
        super().__init__(limit)
        self.segments = 0

    def add(self, data: bytes, segments: int) -> None:
        self.write(data)
        self.segments += segments


class FilteredWriter:
    """Receives the reader's events and the decisions, writes the filtered 837 to ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.bytes_written = 0
        self._pending_isa: Segment | None = None
        self._pending_gs: Segment | None = None
        self._isa_written = False
        self._gs_written = False
        self._groups_written = 0
        self._transactions_written = 0
        self._txn: TransactionStart | None = None
        self._txn_written = False  # ST and header put in the spool
        self._txn_had_claims = False
        self._passthrough = False
        self._spool: _SetSpool | None = None
        self._levels: dict[str, HierarchyLevel] = {}
        # HL blocks seen before the set's first claim: written out if the set never has one.
        self._claimless: _SetSpool | None = None
        self._new_ids: dict[str, str] = {}  # level code -> new HL01 of the emitted pending block
        self._next_hl = 0

    # -- envelopes -----------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        self.out.write(data)
        self.bytes_written += len(data)

    def interchange_start(self, event: InterchangeStart) -> None:
        self._pending_isa = event.isa
        self._isa_written = False
        self._groups_written = 0

    def group_start(self, event: GroupStart) -> None:
        self._pending_gs = event.gs
        self._gs_written = False
        self._transactions_written = 0

    def _open_envelopes(self) -> None:
        if not self._isa_written:
            assert self._pending_isa is not None
            isa = self._pending_isa
            self._emit(isa.raw + isa.delimiters.segment)
            self._isa_written = True
        if not self._gs_written:
            assert self._pending_gs is not None
            gs = self._pending_gs
            self._emit(gs.raw + gs.delimiters.segment)
            self._gs_written = True

    def interchange_acknowledgment(self, event: InterchangeAcknowledgment) -> None:
        """A TA1 passes on in its interchange, byte for byte (the ISA first, no GS)."""
        if not self._isa_written:
            assert self._pending_isa is not None
            isa = self._pending_isa
            self._emit(isa.raw + isa.delimiters.segment)
            self._isa_written = True
        self._emit(event.segment.raw + event.segment.delimiters.segment)

    # Trailers carry what edi-gate wrote: the count of what was forwarded and the header's control
    # number, even when the input's trailer disagreed with its header (the 999/TA1 say so).

    def group_end(self, event: GroupEnd) -> None:
        if self._gs_written:
            ge = event.ge
            assert self._pending_gs is not None
            changes = {1: str(self._transactions_written), 2: self._pending_gs.element(6)}
            self._emit(rewrite(ge, changes) + ge.delimiters.segment)
            self._groups_written += 1
        self._pending_gs = None

    def interchange_end(self, event: InterchangeEnd) -> None:
        if self._isa_written:
            iea = event.iea
            assert self._pending_isa is not None
            changes = {1: str(self._groups_written), 2: self._pending_isa.element(13)}
            self._emit(rewrite(iea, changes) + iea.delimiters.segment)
        self._pending_isa = None

    # -- transaction sets ----------------------------------------------------------------

    def transaction_start(self, event: TransactionStart) -> None:
        self._txn = event
        self._spool = _SetSpool()
        self._txn_written = False
        self._txn_had_claims = False
        self._passthrough = not event.claims
        self._levels = {}
        self._drop_claimless()
        self._new_ids = {}
        self._next_hl = 0
        if self._passthrough:
            self._write_segments([event.st])

    def passthrough(self, segment: Segment) -> None:
        self._write_segments([segment])

    def level(self, event: HierarchyLevel) -> None:
        """Hold an HL block until a claim under it is accepted; a new level closes deeper ones."""
        depth = LEVEL_ORDER.index(event.level) if event.level in LEVEL_ORDER else 0
        for code in LEVEL_ORDER[depth:]:
            self._levels.pop(code, None)
            self._new_ids.pop(code, None)
        self._levels[event.level] = event
        if not self._txn_had_claims:
            self._hold_claimless(event)

    def _hold_claimless(self, event: HierarchyLevel) -> None:
        """Spool a level met before the set's first claim (in memory, then on disk): a set of
        a million claimless HLs must not be held in memory until its SE."""
        if self._claimless is None:
            self._claimless = _SetSpool(CLAIMLESS_SPOOL_BYTES)
        parts = [seg.raw for seg in event.segments]
        terminator = event.segments[0].delimiters.segment
        self._claimless.add(terminator.join(parts) + terminator, len(parts))

    def _drop_claimless(self) -> None:
        if self._claimless is not None:
            self._claimless.close()
            self._claimless = None

    def _write_segments(self, segments: Iterable[Segment]) -> None:
        assert self._spool is not None
        parts = [seg.raw for seg in segments]
        if parts:
            terminator = self._txn.st.delimiters.segment if self._txn else b"~"
            self._spool.add(terminator.join(parts) + terminator, len(parts))

    def _open_transaction(self) -> None:
        if not self._txn_written:
            assert self._txn is not None
            self._write_segments([self._txn.st, *self._txn.header])
            self._txn_written = True

    def _open_levels(self, claim: Claim) -> None:
        chain = [(HL_BILLING, claim.hl_billing), (HL_SUBSCRIBER, claim.hl_subscriber)]
        if claim.hl_patient:
            chain.append((HL_PATIENT, claim.hl_patient))
        parent_new = ""
        for code, hl_id in chain:
            block = self._levels.get(code)
            if block is None or block.hl_id != hl_id:
                continue  # the claim's chain is malformed; the reader reported it
            if code in self._new_ids:
                parent_new = self._new_ids[code]
                continue
            self._next_hl += 1
            new_id = str(self._next_hl)
            has_children = code == HL_BILLING or (code == HL_SUBSCRIBER and bool(claim.hl_patient))
            hl = block.segments[0]
            changes = {1: new_id, 2: parent_new}
            if len(hl.elements) > 4 or code != HL_PATIENT:
                changes[4] = "1" if has_children else "0"
            assert self._spool is not None
            terminator = hl.delimiters.segment
            parts = [rewrite(hl, changes), *(seg.raw for seg in block.segments[1:])]
            self._spool.add(terminator.join(parts) + terminator, len(parts))
            self._new_ids[code] = new_id
            parent_new = new_id

    def claim(
        self, claim: Claim, accepted: bool, rejected_lines: frozenset[int] = frozenset()
    ) -> None:
        if not self._txn_had_claims:
            self._txn_had_claims = True
            self._drop_claimless()
        if not accepted:
            return
        self._open_transaction()
        self._open_levels(claim)
        segments = claim.segments
        terminator = segments[0].delimiters.segment
        if rejected_lines:
            parts = self._line_scoped(claim, rejected_lines)
        else:
            parts = [seg.raw for seg in segments]
        assert self._spool is not None
        self._spool.add(terminator.join(parts) + terminator, len(parts))

    @staticmethod
    def _line_scoped(claim: Claim, rejected_lines: frozenset[int]) -> list[bytes]:
        """Claim segments without the rejected lines: LX renumbered, CLM02 re-summed."""
        segments = claim.segments
        kept = [ln for ln in claim.lines if ln.number not in rejected_lines]
        first_line = claim.lines[0].first_segment if claim.lines else len(segments)
        total = sum((ln.charge for ln in kept), Decimal(0))
        parts = [rewrite(segments[0], {2: format_amount(total)})]
        parts.extend(seg.raw for seg in segments[1:first_line])
        for number, line in enumerate(kept, start=1):
            lx = segments[line.first_segment]
            parts.append(rewrite(lx, {1: str(number)}))
            parts.extend(seg.raw for seg in segments[line.first_segment + 1 : line.end_segment])
        return parts

    def transaction_end(self, event: TransactionEnd, sound: bool) -> int:
        """Close the set: commit its spool when sound and not emptied. Returns claims kept."""
        spool, txn = self._spool, self._txn
        assert spool is not None and txn is not None
        st02 = txn.st.element(2)
        if self._passthrough:  # other transaction types go on byte for byte, SE02 = ST02
            se = event.se
            spool.add(rewrite(se, {2: st02}) + se.delimiters.segment, 1)
            return self._commit(spool)
        keep = sound and (self._txn_written or not self._txn_had_claims)
        if keep and not self._txn_had_claims:
            # A set that never held claims has nothing to filter: it passes as it came.
            self._open_transaction()
            if self._claimless is not None:
                for block in self._claimless.blocks():
                    spool.add(block, 0)
                spool.segments += self._claimless.segments
                self._drop_claimless()
        if keep:
            se = event.se
            changes = {1: str(spool.segments + 1), 2: st02}
            spool.add(rewrite(se, changes) + se.delimiters.segment, 1)
            return self._commit(spool)
        spool.close()
        self._drop_claimless()
        self._spool = None
        self._txn = None
        return 0

    def _commit(self, spool: _SetSpool) -> int:
        self._open_envelopes()
        self.bytes_written += spool.copy_to(self.out)
        self._transactions_written += 1
        spool.close()
        self._spool = None
        self._txn = None
        return 1
