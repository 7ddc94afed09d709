"""277CA (005010X214) claim acknowledgment writer: one 277CA transaction per 837P transaction.

Streaming: the 2200B/2200C totals must precede the claims, so ``add`` writes each claim's 2000D
loop (and the fields a set-level rejection rewrites it from) to a spool, in memory and then on
disk, and keeps only running totals; ``end_transaction`` writes the totals, then replays the
spool. Memory is bounded whatever the size of the set. See the README section on
acknowledgments for conventions and status codes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO, Final

from edi_gate.acks.codes import (
    CLAIM_ENTITIES,
    DEFAULT_REJECT_CATEGORY,
    FALLBACK_STATUS,
    REJECT_CATEGORIES,
    SVC_QUALIFIERS,
    valid_category,
    valid_status,
)
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.x12out import (
    EnvelopeFramer,
    SegmentOut,
    amount,
    clean,
    code,
    d8,
    echo,
    hhmm,
    segment_text,
)
from edi_gate.errors import ConfigError
from edi_gate.memo import Memo
from edi_gate.rules.findings import Decision, Finding
from edi_gate.spool import RecordSpool
from edi_gate.x12.model import Claim, Envelope, Party, ServiceLine

VERSION: Final = "005010X214"
PAYER_QUALIFIERS: Final = ("46", "FI", "PI", "XV")
MESSAGE_MAX: Final = 264  # STC12
# STC01 pairs (category, status) this writer uses besides the findings' own.
RECEIPT: Final = ("A1", "19")  # 2200B / 2200C: entity acknowledges receipt of claim/encounter
ACCEPTED: Final = ("A2", "20")  # 2200D: accepted for processing
MAX_LINE_STATUSES: Final = 3  # 2220D has one STC: STC01, STC10, STC11
_STC_GAP: Final = ("",) * 7  # STC05..STC11, empty in a 2200D STC that carries a message (STC12)
_LINE_STC_GAP: Final = ("",) * 6  # STC04..STC09 of a 2220D STC
# 2220D STC02 (status effective date) is left empty: the X214 TR3 as payers implement it (NGS
# Medicare sends `STC*A7:584**U`; stupidedi's X214 grammar marks it Not Used) against pyx12's map,
# which requires it. The named exception tests.pyx12_oracle.TR3_EXCEPTIONS tolerates exactly
# that pyx12 error; README "Acknowledgments" cites the evidence.
LINE_STC02: Final = ""


def _strftime_ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


_YMD: Final = Memo(_strftime_ymd)


def _ymd(day: date) -> str:
    """``day.strftime('%Y%m%d')``, memoised (strftime is costly and dates repeat)."""
    return _YMD.get(day)


# Copied for each claim: with OpenSSL 3, hashlib.sha256() looks the algorithm up by name on every
# call, which costs more than hashing the few bytes of a claim key.
_SHA256: Final = hashlib.sha256()


def payer_claim_control_number(
    sender_id: str,
    claim_id: str,
    charge: Decimal,
    start: date | None,
    end: date | None,
    charge_text: str | None = None,
) -> str:
    """REF*1K value: stable for the same claim (interchange sender, CLM01, CLM02, service dates).

    The first 64 bits of SHA-256 over those fields, modulo 10**15. ``charge_text`` is
    ``amount(charge)`` when the caller has it already."""
    charge_text = amount(charge) if charge_text is None else charge_text
    key = f"{sender_id.strip()}|{claim_id}|{charge_text}|{_ymd(start) if start else ''}|" + (
        _ymd(end) if end else ""
    )
    hasher = _SHA256.copy()
    hasher.update(key.encode("utf-8"))
    first64 = int.from_bytes(hasher.digest()[:8], "big")
    return "EG" + str(first64 % 10**15).zfill(15)


# The per-claim records write their __init__ out (init=False): see edi_gate.x12.model.


@dataclass(init=False)
class _Status:
    category: str
    status: str
    entity: str
    message: str

    def __init__(self, category: str, status: str, entity: str = "", message: str = "") -> None:
        self.category = category
        self.status = status
        self.entity = entity
        self.message = message

    def composite(self, *, entity: bool = True) -> tuple[str, ...]:
        return (self.category, self.status, self.entity if entity else "")


@dataclass(slots=True)
class _LineAck:
    qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    start: date | None
    end: date | None
    line_control: str
    statuses: list[_Status]


@dataclass(init=False)
class _ClaimAck:
    """What the 277CA keeps of one claim until its transaction's SE: the totals' inputs, the
    fields a set-level rejection rewrites the claim from, and its 2000D already written out."""

    claim_id: str
    charge: Decimal
    charge_text: str  # STC04 as written: the charge of the claim as forwarded (or as submitted)
    accepted: bool
    accepted_amount: Decimal
    rejected_amount: Decimal
    patient: tuple[str, str, str, str]  # last, first, NM108, NM109
    clearinghouse_trace: str
    start: date
    end: date | None
    text: str  # the 2000D loop after its HL (and its 2220D lines), see _claim_text
    segments: int  # in text

    def __init__(
        self,
        claim_id: str,
        charge: Decimal,
        charge_text: str,
        accepted: bool,
        accepted_amount: Decimal,
        rejected_amount: Decimal,
        patient: tuple[str, str, str, str],
        clearinghouse_trace: str,
        start: date,
        end: date | None,
        text: str,
        segments: int,
    ) -> None:
        self.claim_id = claim_id
        self.charge = charge
        self.charge_text = charge_text
        self.accepted = accepted
        self.accepted_amount = accepted_amount
        self.rejected_amount = rejected_amount
        self.patient = patient
        self.clearinghouse_trace = clearinghouse_trace
        self.start = start
        self.end = end
        self.text = text
        self.segments = segments


@dataclass(slots=True)
class _Totals:
    """Counts and amounts over claims: what a 2200B/2200C's QTY, AMT and STC04 say."""

    claims: int = 0
    accepted: int = 0
    accepted_amount: Decimal = Decimal(0)
    rejected_amount: Decimal = Decimal(0)

    def add(self, claim: _ClaimAck) -> None:
        self.claims += 1
        self.accepted += claim.accepted
        self.accepted_amount += claim.accepted_amount
        self.rejected_amount += claim.rejected_amount

    @property
    def charge(self) -> Decimal:
        """The claims' total charge (what is not accepted of a claim's charge is rejected)."""
        return self.accepted_amount + self.rejected_amount

    def all_rejected(self) -> _Totals:
        """The totals once a set-level rejection has rejected every claim."""
        return _Totals(self.claims, 0, Decimal(0), self.charge)


@dataclass(slots=True)
class _ProviderAck:
    entity_type: str
    name: str
    first_name: str
    qualifier: str
    id: str
    trace: str
    totals: _Totals = field(default_factory=_Totals)


# In memory up to these many bytes of a set's records, then on disk (edi_gate.spool).
CLAIM_SPOOL_BYTES: Final = 1 << 20
PROVIDER_SPOOL_BYTES: Final = 256 << 10


@dataclass(slots=True)
class _Transaction:
    """One 277CA being assembled: the claims of each billing provider are contiguous in an 837
    (they follow its HL), so a provider is closed when the next one starts and each is
    written once, with its totals, to ``providers``; its claims go to ``claims`` in order."""

    envelope: Envelope
    key: tuple[str, str] | None = None  # the open provider's
    provider: _ProviderAck | None = None
    providers: RecordSpool = field(default_factory=lambda: RecordSpool(PROVIDER_SPOOL_BYTES))
    claims: RecordSpool = field(default_factory=lambda: RecordSpool(CLAIM_SPOOL_BYTES))
    totals: _Totals = field(default_factory=_Totals)

    def close(self) -> None:
        self.providers.close()
        self.claims.close()


def reject_status(finding: Finding) -> _Status:
    """The 2200D STC for one finding, with codes pyx12 accepts."""
    category = finding.category.strip().upper()
    if category not in REJECT_CATEGORIES or not valid_category(category):
        category = DEFAULT_REJECT_CATEGORY
    status = finding.status.strip()
    prefix = f"{finding.rule}" + (f" LINE {finding.line}" if finding.line is not None else "")
    if not valid_status(status):
        prefix += f" STATUS {status or 'NONE'}"
        status = FALLBACK_STATUS
    entity = finding.entity.strip().upper()
    if entity not in CLAIM_ENTITIES:
        entity = ""
    message = clean(f"{prefix} - {finding.message}", MESSAGE_MAX, upper=True)
    return _Status(category, status, entity, message)


_EMPTY = Finding(rule="REJECTED", line=None, message="claim rejected")


def _status_for_empty() -> _Status:
    return reject_status(_EMPTY)


def _patient(claim: Claim) -> tuple[str, str, str, str]:
    patient, subscriber = claim.patient, claim.subscriber
    last = clean(patient.name, 60) or clean(subscriber.name, 60) or "UNKNOWN"
    first = clean(patient.first_name, 35) if patient.name else clean(subscriber.first_name, 35)
    for party in (patient, subscriber):
        ident = clean(party.id, 80)
        if len(ident) >= 2:
            qualifier = party.id_qualifier if party.id_qualifier in ("MI", "II") else "MI"
            return last, first, qualifier, ident
    return last, first, "MI", clean(claim.claim_id, 80).ljust(2, "0")


def _dtp(start: date | None, end: date | None) -> tuple[str, str]:
    assert start is not None
    if end is None or end == start:
        return "D8", _ymd(start)
    return "RD8", f"{_ymd(start)}-{_ymd(end)}"


def _claim_stc(status: _Status, today: str, action: str, charge: str) -> str:
    """A 2200D STC: ``segment_text`` written out for the fields that are never empty (date,
    action code, amount; category and status of a valid status), since every claim has one."""
    if not (status.category and status.status and today and action and charge):
        return segment_text(
            "STC", (status.composite(), today, action, charge, *_STC_GAP, status.message)
        )
    code = f"{status.category}:{status.status}"
    if status.entity:
        code = f"{code}:{status.entity}"
    if status.message:
        return f"STC*{code}*{today}*{action}*{charge}********{status.message}~\n"
    return f"STC*{code}*{today}*{action}*{charge}~\n"


def _claim_text(
    claim: _ClaimAck, today: str, statuses: list[_Status], icn: str, lines: list[_LineAck]
) -> tuple[str, int]:
    """The 2000D loop of one claim after its HL (and its 2220D lines), as written, and how many
    segments that is.

    Segments whose last element is never empty are formatted directly (no trailing element
    to drop): the patient id is padded to 2 characters and the claim id defaults to UNKNOWN
    in ``_claim_ack``, REFs are written only when set. The rest go through segment_text.
    """
    last, first, qualifier, ident = claim.patient
    texts = [
        f"NM1*QC*1*{last}*{first}****{qualifier}*{ident}~\n",
        f"TRN*2*{claim.claim_id}~\n",
    ]
    action = "WQ" if claim.accepted else "U"
    charge = claim.charge_text
    for status in statuses:
        texts.append(_claim_stc(status, today, action, charge))
    if icn:
        texts.append(f"REF*1K*{icn}~\n")
    if claim.clearinghouse_trace:
        texts.append(f"REF*D9*{claim.clearinghouse_trace}~\n")
    qualifier, period = _dtp(claim.start, claim.end)
    texts.append(f"DTP*472*{qualifier}*{period}~\n")
    for line in lines:
        texts.extend(_line_texts(line, claim.start, claim.end))
    return "".join(texts), len(texts)


def _line_texts(line: _LineAck, claim_start: date, claim_end: date | None) -> list[str]:
    """The 2220D loop(s) of one line: SVC, STC (STC02 empty, STC03 U), REF*FJ, DTP*472.

    REF*FJ and DTP*472 are always sent (stupidedi's X214 grammar requires both, NGS sends both):
    REF*FJ carries the 837's REF*6R, else the line's LX number; DTP*472 the line's date, else
    the claim's. A line with more than three findings repeats the loop (pyx12 allows one STC).
    """
    texts = []
    start, end = (line.start, line.end) if line.start is not None else (claim_start, claim_end)
    for chunk in range(0, len(line.statuses), MAX_LINE_STATUSES):
        chunk_statuses = line.statuses[chunk : chunk + MAX_LINE_STATUSES]
        texts.append(
            segment_text(
                "SVC",
                (
                    (line.qualifier, line.procedure, *line.modifiers[:4]),
                    amount(line.charge),
                    "",
                    "",
                    "",
                    "",
                    amount(line.units),
                ),
            )
        )
        extra = [s.composite(entity=False) for s in chunk_statuses[1:]]
        first = chunk_statuses[0].composite()
        texts.append(segment_text("STC", (first, LINE_STC02, "U", *_LINE_STC_GAP, *extra)))
        texts.append(f"REF*FJ*{line.line_control}~\n")
        texts.append(segment_text("DTP", ("472", *_dtp(start, end))))
    return texts


def reference(value: str) -> str:
    """A reference the 277CA returns to the submitter exactly as submitted when it is valid
    (AN 1-50): CLM01 in 2200D TRN02 and REF*D9 (RFI 1926), BHT03 in 2200B TRN02 (RFI 1991),
    REF*6R in 2220D REF*FJ; else cleaned ('' when nothing is left)."""
    return echo(value, 1, 50)


def _modifier(value: str) -> str:
    """SVC01-3..6 (AN 2-2): the modifier cleaned, or '' (dropped) when that leaves no two
    characters ('2:' from another component separator is no modifier)."""
    text = clean(value, 2)
    return text if len(text) == 2 else ""


def _line_ack(line: ServiceLine, statuses: list[_Status]) -> _LineAck:
    """What the 2220D repeats of an 837 line, each value through the gate: SVC01-1 from its
    code list (an unknown qualifier becomes HC: it may carry another component separator, and
    must not change what the procedure code reads as), the rest cleaned of delimiters."""
    return _LineAck(
        qualifier=code(line.qualifier, SVC_QUALIFIERS, "HC"),
        procedure=clean(line.procedure, 48) or "UNKNOWN",
        modifiers=tuple(m for m in map(_modifier, line.modifiers) if m),
        charge=line.charge,
        units=line.units,
        start=line.service_date,
        end=line.service_date_end,
        line_control=reference(line.line_control) or str(line.number),
        statuses=statuses,
    )


def _statuses_by_line(findings: list[Finding], statuses: list[_Status]) -> dict[int, list[_Status]]:
    by_line: dict[int, list[_Status]] = {}
    for finding, status in zip(findings, statuses, strict=True):
        if finding.line is not None:
            by_line.setdefault(finding.line, []).append(status)
    return by_line


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
        self._txn: _Transaction | None = None
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
        self._txn = _Transaction(envelope)

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
        provider = txn.provider
        if provider is None or key != txn.key:
            _close_provider(txn)
            party = billing.party
            npi = clean(billing.npi, 80)
            qualifier, ident = ("XX", npi) if npi else (party.id_qualifier, clean(party.id, 80))
            if qualifier not in ("FI", "SV", "XX"):
                qualifier = "XX"
            entity_type = "1" if party.first_name else "2"
            provider = _ProviderAck(
                entity_type=entity_type,
                name=clean(party.name, 60) or "UNKNOWN",
                first_name=clean(party.first_name, 35) if entity_type == "1" else "",
                qualifier=qualifier,
                id=ident.ljust(2, "0"),
                trace=clean(f"{txn.envelope.transaction_control}-{claim.hl_billing}", 50) or "1",
            )
            txn.provider, txn.key = provider, key
        ack = self._claim_ack(claim, decision)
        provider.totals.add(ack)
        txn.totals.add(ack)
        _spool_claim(txn.claims, ack)

    def _claim_ack(self, claim: Claim, decision: Decision) -> _ClaimAck:
        start, end = claim.service_dates
        if start is None:
            start = end = _bht_date(claim.envelope) or self.now.date()
        charge = claim.charge
        charge_text = amount(charge)
        lines: list[_LineAck] = []
        if decision.accepted:
            accepted_amount = charge
            notes = [f"{f.rule} - {f.message}" for f in decision.findings]
            if decision.rejected_lines:
                # --scope line: STC04 and REF*1K are those of the claim as forwarded (CLM02
                # re-summed), and each removed line gets its 2220D with the reasons.
                kept = [ln.charge for ln in claim.lines if ln.number not in decision.rejected_lines]
                accepted_amount = sum(kept, Decimal(0))
                charge_text = amount(accepted_amount)
                removed = ",".join(str(n) for n in sorted(decision.rejected_lines))
                label = "LINES" if len(decision.rejected_lines) > 1 else "LINE"
                notes.insert(0, f"{label} {removed} REMOVED")
                line_findings = [f for f in decision.findings if f.line is not None]
                by_line = _statuses_by_line(
                    line_findings, [reject_status(f) for f in line_findings]
                )
                lines = [
                    _line_ack(ln, by_line.get(ln.number) or [_status_for_empty()])
                    for ln in claim.lines
                    if ln.number in decision.rejected_lines
                ]
            message = clean("; ".join(notes), MESSAGE_MAX, upper=True) if notes else ""
            statuses = [_Status(ACCEPTED[0], ACCEPTED[1], "PR", message)]
            icn = payer_claim_control_number(
                claim.envelope.sender_id, claim.claim_id, accepted_amount, start, end, charge_text
            )
        else:
            accepted_amount = Decimal(0)
            findings = decision.findings or [_EMPTY]
            statuses = [reject_status(f) for f in findings]
            icn = ""
            by_line = _statuses_by_line(findings, statuses)
            lines = [
                _line_ack(ln, by_line[ln.number]) for ln in claim.lines if ln.number in by_line
            ]
        ack = _ClaimAck(
            claim_id=reference(claim.claim_id) or "UNKNOWN",
            charge=charge,
            charge_text=charge_text,
            accepted=decision.accepted,
            accepted_amount=accepted_amount,
            rejected_amount=charge - accepted_amount,
            patient=_patient(claim),
            clearinghouse_trace=reference(claim.clearinghouse_trace),
            start=start,
            end=end,
            text="",
            segments=0,
        )
        ack.text, ack.segments = _claim_text(ack, self.today, statuses, icn, lines)
        return ack

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
            _close_provider(txn)
            statuses = None
            if override is not None:
                statuses = [reject_status(f) for f in override] or [_status_for_empty()]
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
        self, out: SegmentOut, st02: str, txn: _Transaction, override: list[_Status] | None
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
        for record in txn.providers.records():
            provider = _unpack_provider(record)
            hl += 1
            parent = hl
            out("HL", str(hl), "2", "19", "1")
            out(
                "NM1",
                "85",
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
            ptotals = provider.totals if override is None else provider.totals.all_rejected()
            out("STC", (*RECEIPT, "PR"), "", "WQ", amount(ptotals.charge))
            self._totals(out, ptotals, ("QA", "QC"))
            hl = self._replay_claims(out, claims, ptotals.claims, hl, parent, override)
            self.claims += ptotals.claims
            self.rejected += ptotals.claims - ptotals.accepted

    def _replay_claims(
        self,
        out: SegmentOut,
        records: Iterator[bytes],
        count: int,
        hl: int,
        parent: int,
        override: list[_Status] | None,
    ) -> int:
        """Write ``count`` spooled claims' 2000D loops under their provider (in batches of about
        REPLAY_BATCH bytes); returns the last HL number."""
        parts: list[bytes] = []
        size = segments = 0
        for _ in range(count):
            hl += 1
            header, text = next(records), next(records)
            parts.append(f"HL*{hl}*{parent}*PT~\n".encode("ascii"))
            if override is None:
                segments += 1 + int(header[: header.index(b"\x1f")])
            else:
                claim = _unpack_claim(header, text)
                claim.accepted = False
                claim.accepted_amount, claim.rejected_amount = Decimal(0), claim.charge
                rewritten, count_ = _claim_text(claim, self.today, override, "", [])
                text = rewritten.encode("ascii")
                segments += 1 + count_
            parts.append(text)
            size += len(text)
            if size > REPLAY_BATCH:
                out.stream.write(b"".join(parts))
                parts, size = [], 0
        out.stream.write(b"".join(parts))
        out.count += segments
        return hl

    @staticmethod
    def _totals(out: SegmentOut, totals: _Totals, qualifiers: tuple[str, str]) -> None:
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


# -- storage of a set's records until its SE (a spool, edi_gate.spool) ---------------------------
# A claim's fields are joined by US (0x1f): each went through ``clean`` (no control characters)
# or is a number or a date.

_US: Final = "\x1f"
REPLAY_BATCH: Final = 256 << 10


def _close_provider(txn: _Transaction) -> None:
    """Spool the open provider (its claims are spooled already) once its last claim is added."""
    provider = txn.provider
    if provider is None:
        return
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
    txn.providers.append(_US.join(fields).encode("ascii"))
    txn.provider = txn.key = None


def _unpack_provider(record: bytes) -> _ProviderAck:
    f = record.decode("ascii").split(_US)
    totals = _Totals(int(f[6]), int(f[7]), Decimal(f[8]), Decimal(f[9]))
    return _ProviderAck(f[0], f[1], f[2], f[3], f[4], f[5], totals)


def _spool_claim(spool: RecordSpool, claim: _ClaimAck) -> None:
    """Two records per claim: what a set-level rejection rewrites it from (the amounts are in
    the providers' totals; the charge as submitted, CLM02's value, which STC04 then carries even
    for a claim --scope line had cut), then its 2000D text."""
    submitted = amount(claim.charge) if claim.accepted and claim.rejected_amount else None
    fields = (
        str(claim.segments),
        claim.claim_id,
        claim.charge_text if submitted is None else submitted,
        "1" if claim.accepted else "",
        *claim.patient,
        claim.clearinghouse_trace,
        _ymd(claim.start),
        _ymd(claim.end) if claim.end is not None else "",
    )
    spool.append(_US.join(fields).encode("ascii"))
    spool.append(claim.text.encode("ascii"))


def _day(ymd: str) -> date:
    return date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))


def _unpack_claim(header: bytes, text: bytes) -> _ClaimAck:
    f = header.decode("ascii").split(_US)
    charge = Decimal(f[2])
    accepted = f[3] == "1"
    return _ClaimAck(
        claim_id=f[1],
        charge=charge,
        charge_text=f[2],
        accepted=accepted,
        accepted_amount=charge if accepted else Decimal(0),
        rejected_amount=Decimal(0) if accepted else charge,
        patient=(f[4], f[5], f[6], f[7]),
        clearinghouse_trace=f[8],
        start=_day(f[9]),
        end=_day(f[10]) if f[10] else None,
        text=text.decode("ascii"),
        segments=int(f[0]),
    )


# -- replay: rebuild a 277CA from an 837 and its decisions ---------------------------------------


def decision_from_record(record: dict[str, object]) -> Decision:
    """A Decision from one ``--decisions`` JSON object."""
    accepted = record.get("decision") == "accepted"
    findings = []
    raw_findings = record.get("findings") or []
    assert isinstance(raw_findings, list)
    for raw in raw_findings:
        assert isinstance(raw, dict)
        findings.append(
            Finding(
                rule=str(raw.get("rule", "")),
                line=raw.get("line"),
                message=str(raw.get("message", "")),
                category=str(raw.get("category") or "A7"),
                status=str(raw.get("status") or "21"),
                entity=str(raw.get("entity") or ""),
            )
        )
    rejected_lines: frozenset[int] = frozenset()
    raw_lines = record.get("lines") or []
    if accepted and isinstance(raw_lines, list):
        rejected_lines = frozenset(
            int(ln["line"])
            for ln in raw_lines
            if isinstance(ln, dict) and ln.get("decision") == "rejected"
        )
    return Decision(accepted, findings, rejected_lines)


class _DecisionFile:
    """Decision records read in step with the 837's claims (same order when written by a run);
    records met out of order are kept aside until their claim comes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._line = 0
        self._aside: dict[tuple[str, str, str, str], list[dict[str, object]]] = {}

    @staticmethod
    def key(record: dict[str, object]) -> tuple[str, str, str, str]:
        return tuple(  # type: ignore[return-value]
            str(record.get(k, "")) for k in ("interchange", "group", "transaction", "claim")
        )

    def find(self, claim: Claim) -> dict[str, object] | None:
        env = claim.envelope
        wanted = (
            env.interchange_control,
            env.group_control,
            env.transaction_control,
            claim.claim_id,
        )
        waiting = self._aside.get(wanted)
        if waiting:
            return waiting.pop(0)
        for raw in self._handle:
            self._line += 1
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(f"not JSON: {exc}", path=self.path, line=self._line) from exc
            if not isinstance(record, dict):
                raise ConfigError("not a JSON object", path=self.path, line=self._line)
            if self.key(record) == wanted:
                return record
            self._aside.setdefault(self.key(record), []).append(record)
        return None

    def close(self) -> None:
        self._handle.close()


def build_277_from_decisions(
    input_837: str | os.PathLike[str],
    decisions_jsonl: str | os.PathLike[str],
    out: BinaryIO,
    *,
    control: ControlNumbers,
    now: datetime,
    payer: Party | None = None,
) -> int:
    """Rebuild the 277CA of a past run: re-read the 837, apply the recorded decisions.

    Returns the number of claims acknowledged. A claim of the 837 without a decision record is a
    ``ConfigError`` (the decisions file does not belong to this 837, or is incomplete).
    """
    from edi_gate.x12.errors import shown_control, shown_name
    from edi_gate.x12.loops import EventReader, TransactionEnd, TransactionStart
    from edi_gate.x12.tokenizer import SegmentReader

    source = os.fspath(input_837)
    decisions = _DecisionFile(os.fspath(decisions_jsonl))
    writer = Ack277Writer(out, control=control, now=now, payer=payer)
    try:
        with open(source, "rb") as stream:
            for event in EventReader(SegmentReader(stream, source), source):
                if isinstance(event, TransactionStart) and event.claims:
                    writer.begin_transaction(event.envelope)
                elif isinstance(event, Claim):
                    record = decisions.find(event)
                    if record is None:
                        raise ConfigError(
                            f"no decision for claim {event.claim_id!r} (interchange "
                            f"{shown_control(event.envelope.interchange_control)}, transaction "
                            f"{shown_control(event.envelope.transaction_control)}) of "
                            f"{shown_name(source)}",
                            path=decisions.path,
                        )
                    writer.add(event, decision_from_record(record))
                elif isinstance(event, TransactionEnd):
                    writer.end_transaction()
        writer.close()
    finally:
        decisions.close()
    return writer.claims
