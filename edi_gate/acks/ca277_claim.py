"""One claim's part of a 277CA: its 2000D loop (NM1*QC, TRN, STC, REF, DTP) and 2220D lines.

What the 277CA says of a claim is decided here, from the claim and its decision, as soon as the
claim is read: the statuses, the payer claim control number, the lines a line-scope decision
removed. The text is written with f-strings field by field (compiled hot path, see
docs/compiled-build.md); ``tests/acks/test_ca277_twin.py`` checks it against ``segment_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from edi_gate.acks.ca277_values import payer_claim_control_number, reference, ymd
from edi_gate.acks.codes import (
    CLAIM_ENTITIES,
    DEFAULT_REJECT_CATEGORY,
    FALLBACK_STATUS,
    REJECT_CATEGORIES,
    SVC_QUALIFIERS,
    valid_category,
    valid_status,
)
from edi_gate.acks.x12out import amount, clean, code, segment_text
from edi_gate.rules.findings import Decision, Finding
from edi_gate.vocabulary import STC12_MAX_LENGTH
from edi_gate.x12.model import Claim, ServiceLine

# STC01 pairs (category, status) this writer uses besides the findings' own.
RECEIPT: Final = ("A1", "19")  # 2200B / 2200C: entity acknowledges receipt of claim/encounter
ACCEPTED: Final = ("A2", "20")  # 2200D: accepted for processing
MAX_LINE_STATUSES: Final = 3  # 2220D has one STC: STC01, STC10, STC11
_STC_GAP: Final = ("",) * 7  # STC05..STC11, empty in a 2200D STC that carries a message (STC12)
_LINE_STC_GAP: Final = ("",) * 6  # STC04..STC09 of a 2220D STC
# 2220D STC02 (status effective date) is left empty: the X214 TR3 as payers implement it (NGS
# Medicare sends `STC*A7:584**U`; stupidedi's X214 grammar marks it Not Used) against pyx12's map,
# which requires it. The named exception TR3_EXCEPTIONS of the pyx12 validation tolerates exactly
# that pyx12 error; README "Acknowledgments" cites the evidence.
LINE_STC02: Final = ""


# The per-claim records write their __init__ out (init=False): see docs/compiled-build.md.


@dataclass(init=False)
class Status:
    """One STC01 composite (category, status, entity) and the STC12 message beside it."""

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
class LineAck:
    """What a 2220D repeats of an 837 service line, each value through the gate."""

    qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    start: date | None
    end: date | None
    line_control: str
    statuses: list[Status]


@dataclass(init=False)
class ClaimAck:
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
    text: str  # the 2000D loop after its HL (and its 2220D lines), see claim_text
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

    @property
    def submitted_charge(self) -> str:
        """STC04 of the claim as submitted (CLM02), which a set-level rejection carries even
        for a claim --scope line had cut."""
        return amount(self.charge) if self.accepted and self.rejected_amount else self.charge_text

    def rejected_whole(self, today: str, statuses: list[Status]) -> None:
        """Rewrite the claim as rejected with ``statuses`` (its set failed its syntax checks)."""
        self.charge_text = self.submitted_charge
        self.accepted = False
        self.accepted_amount, self.rejected_amount = Decimal(0), self.charge
        self.text, self.segments = claim_text(self, today, statuses, "", [])


def reject_status(finding: Finding) -> Status:
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
    message = clean(f"{prefix} - {finding.message}", STC12_MAX_LENGTH, upper=True)
    return Status(category, status, entity, message)


_EMPTY: Final = Finding(rule="REJECTED", line=None, message="claim rejected")


def status_for_empty() -> Status:
    """The status of a rejection that named no finding."""
    return reject_status(_EMPTY)


def reject_statuses(findings: list[Finding]) -> list[Status]:
    """The 2200D STCs of a rejection (one for an empty list)."""
    return [reject_status(f) for f in findings] or [status_for_empty()]


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


def dtp_period(start: date | None, end: date | None) -> tuple[str, str]:
    """DTP02/DTP03 of a service date or period."""
    assert start is not None
    if end is None or end == start:
        return "D8", ymd(start)
    return "RD8", f"{ymd(start)}-{ymd(end)}"


def claim_stc(status: Status, today: str, action: str, charge: str) -> str:
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


def claim_text(
    claim: ClaimAck, today: str, statuses: list[Status], icn: str, lines: list[LineAck]
) -> tuple[str, int]:
    """The 2000D loop of one claim after its HL (and its 2220D lines), as written, and how many
    segments that is.

    Segments whose last element is never empty are formatted directly (no trailing element
    to drop): the patient id is padded to 2 characters and the claim id defaults to UNKNOWN
    in ``claim_ack``, REFs are written only when set. The rest go through segment_text.
    """
    last, first, qualifier, ident = claim.patient
    texts = [
        f"NM1*QC*1*{last}*{first}****{qualifier}*{ident}~\n",
        f"TRN*2*{claim.claim_id}~\n",
    ]
    action = "WQ" if claim.accepted else "U"
    charge = claim.charge_text
    for status in statuses:
        texts.append(claim_stc(status, today, action, charge))
    if icn:
        texts.append(f"REF*1K*{icn}~\n")
    if claim.clearinghouse_trace:
        texts.append(f"REF*D9*{claim.clearinghouse_trace}~\n")
    qualifier, period = dtp_period(claim.start, claim.end)
    texts.append(f"DTP*472*{qualifier}*{period}~\n")
    for line in lines:
        texts.extend(_line_texts(line, claim.start, claim.end))
    return "".join(texts), len(texts)


def _line_texts(line: LineAck, claim_start: date, claim_end: date | None) -> list[str]:
    """The 2220D loop(s) of one line: SVC, STC (STC02 empty, STC03 U), REF*FJ, DTP*472.

    REF*FJ and DTP*472 are always sent (stupidedi's X214 grammar requires both, NGS sends both):
    REF*FJ carries the 837's REF*6R, else the line's LX number; DTP*472 the line's date, else
    the claim's. A line with more than three findings repeats the loop (pyx12 allows one STC).
    """
    texts = []
    start, end = (line.start, line.end) if line.start is not None else (claim_start, claim_end)
    svc01 = (line.qualifier, line.procedure, *line.modifiers[:4])
    svc = segment_text("SVC", (svc01, amount(line.charge), "", "", "", "", amount(line.units)))
    for chunk in range(0, len(line.statuses), MAX_LINE_STATUSES):
        chunk_statuses = line.statuses[chunk : chunk + MAX_LINE_STATUSES]
        texts.append(svc)
        extra = [s.composite(entity=False) for s in chunk_statuses[1:]]
        first = chunk_statuses[0].composite()
        texts.append(segment_text("STC", (first, LINE_STC02, "U", *_LINE_STC_GAP, *extra)))
        texts.append(f"REF*FJ*{line.line_control}~\n")
        texts.append(segment_text("DTP", ("472", *dtp_period(start, end))))
    return texts


def _modifier(value: str) -> str:
    """SVC01-3..6 (AN 2-2): the modifier cleaned, or '' (dropped) when that leaves no two
    characters ('2:' from another component separator is no modifier)."""
    text = clean(value, 2)
    return text if len(text) == 2 else ""


def _line_ack(line: ServiceLine, statuses: list[Status]) -> LineAck:
    """What the 2220D repeats of an 837 line, each value through the gate: SVC01-1 from its
    code list (an unknown qualifier becomes HC: it may carry another component separator, and
    must not change what the procedure code reads as), the rest cleaned of delimiters."""
    return LineAck(
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


def _statuses_by_line(findings: list[Finding], statuses: list[Status]) -> dict[int, list[Status]]:
    by_line: dict[int, list[Status]] = {}
    for finding, status in zip(findings, statuses, strict=True):
        if finding.line is not None:
            by_line.setdefault(finding.line, []).append(status)
    return by_line


def _removed_lines(claim: Claim, decision: Decision) -> list[LineAck]:
    """--scope line: the 2220D of each line the decision removed, with its findings' reasons."""
    line_findings = [f for f in decision.findings if f.line is not None]
    by_line = _statuses_by_line(line_findings, [reject_status(f) for f in line_findings])
    return [
        _line_ack(ln, by_line.get(ln.number) or [status_for_empty()])
        for ln in claim.lines
        if ln.number in decision.rejected_lines
    ]


def claim_ack(claim: Claim, decision: Decision, today: str, undated: date) -> ClaimAck:
    """The 277CA's record of one decided claim, its 2000D text written. ``undated``: the service
    date of a claim that gives none (the 837's BHT date, else today)."""
    ack, statuses, icn, lines = claim_parts(claim, decision, undated)
    ack.text, ack.segments = claim_text(ack, today, statuses, icn, lines)
    return ack


def claim_parts(
    claim: Claim, decision: Decision, undated: date
) -> tuple[ClaimAck, list[Status], str, list[LineAck]]:
    """What a claim's 2000D says, before it is written: the record (text still empty), its
    2200D statuses, its payer claim control number ('' when rejected), its 2220D lines."""
    start, end = claim.service_dates
    if start is None:
        start = end = undated
    charge = claim.charge
    charge_text = amount(charge)
    lines: list[LineAck] = []
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
            lines = _removed_lines(claim, decision)
        message = clean("; ".join(notes), STC12_MAX_LENGTH, upper=True) if notes else ""
        statuses = [Status(ACCEPTED[0], ACCEPTED[1], "PR", message)]
        icn = payer_claim_control_number(
            claim.envelope.sender_id, claim.claim_id, accepted_amount, start, end, charge_text
        )
    else:
        accepted_amount = Decimal(0)
        findings = decision.findings or [_EMPTY]
        statuses = [reject_status(f) for f in findings]
        icn = ""
        by_line = _statuses_by_line(findings, statuses)
        lines = [_line_ack(ln, by_line[ln.number]) for ln in claim.lines if ln.number in by_line]
    ack = ClaimAck(
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
    return ack, statuses, icn, lines
