"""The filter run: one input stream through the reader, the rules and every writer.

Each claim is decided as soon as it is read. Its outcome is final only when its transaction set's
SE proves the set sound, so decisions and the filtered output of one set are spooled until then;
a set with syntax errors has every claim rejected with a finding that names the error.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO, Final, Protocol

from edi_gate.logs import get_logger
from edi_gate.memo import Memo
from edi_gate.rules.engine import decide
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.spool import RecordSpool, Spool
from edi_gate.x12.errors import SyntaxIssue
from edi_gate.x12.loops import (
    EnvelopeIssue,
    EventReader,
    GroupEnd,
    GroupStart,
    HierarchyLevel,
    InterchangeEnd,
    InterchangeStart,
    Limits,
    Passthrough,
    TransactionEnd,
    TransactionStart,
)
from edi_gate.x12.model import Claim, Envelope
from edi_gate.x12.tokenizer import Segment, SegmentReader
from edi_gate.x12.writer import FilteredWriter

# 277CA triple for a claim in a transaction set that failed syntax checks: A3 "returned as
# unprocessable", 21 "missing or invalid information", entity 41 the submitter who sent it.
SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY = "A3", "21", "41"


class RuleEngine(Protocol):
    def evaluate(self, claim: Claim) -> list[Finding]: ...


# The protocols below must match the writers' real signatures, return types included: the
# compiled filter (setup.py) checks values crossing them at run time.


class ClaimAckWriter(Protocol):
    """What the filter needs of a 277CA writer."""

    def begin_transaction(self, envelope: Envelope) -> None: ...
    def add(self, claim: Claim, decision: Decision) -> None: ...
    def end_transaction(self, override: list[Finding] | None = None) -> str | None: ...
    def close(self) -> None: ...


class SyntaxAckWriter(Protocol):
    """What the filter needs of a 999 writer."""

    def begin_group(self, envelope: Envelope) -> None: ...
    def transaction(
        self, st_id: str, control: str, version: str, issues: Sequence[SyntaxIssue]
    ) -> bool: ...
    def end_group(
        self, group_issues: Iterable[str] = (), *, declared: int | None = None
    ) -> str: ...
    def close(self) -> None: ...


class DecisionSink(Protocol):
    """Where --decisions JSON lines go: a text file, or replay's and check's own collectors."""

    def write(self, text: str, /) -> object: ...


@dataclass
class Summary:
    """What one run did, for the log's summary event and the CLI's report."""

    source: str
    claims: int = 0
    accepted: int = 0
    rejected: int = 0
    lines_removed: int = 0
    transactions: int = 0
    rejected_transactions: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "claims": self.claims,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "lines_removed": self.lines_removed,
            "transactions": self.transactions,
            "rejected_transactions": self.rejected_transactions,
            "by_rule": dict(sorted(self.by_rule.items())),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
        }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _json_text(text: str) -> str:
    """``json.dumps(text)``, without the encoder for the usual case (printable ASCII, nothing to
    escape)."""
    if text.isascii() and (
        text.isalnum() or (text.isprintable() and '"' not in text and "\\" not in text)
    ):
        return f'"{text}"'
    return json.dumps(text)


def _json_number(value: int | float | None) -> str:
    if value is None:
        return "null"
    return str(value) if type(value) is int else json.dumps(value)


def _units_json(units: Decimal) -> str:
    return _json_number(_number(units))


def _date_json(day: date) -> str:
    return '"' + day.isoformat() + '"'


# Memoised: unit counts and service dates repeat from claim to claim (edi_gate.memo).
_UNITS: Final = Memo(_units_json)
_ISO_DATES: Final = Memo(_date_json)


def decision_json(claim: Claim, decision: Decision) -> str:
    """The --decisions JSON object for one claim, one line (no patient names or member ids).

    Written out field by field rather than through a dict and ``json.dumps``: this runs for
    every claim, and the keys are constants. The tests check it against ``json.dumps`` of the
    documented record.
    """
    env = claim.envelope
    start, end = claim.service_dates
    rejected_lines = decision.rejected_lines
    parts = [
        f'{{"claim":{_json_text(claim.claim_id)},"decision":"{decision.label}"'
        f',"interchange":{_json_text(env.interchange_control)}'
        f',"group":{_json_text(env.group_control)}'
        f',"transaction":{_json_text(env.transaction_control)}'
        f',"source":{_json_text(env.source)},"position":{claim.ordinal}'
        f',"charge":{_json_text(claim.segments[0].element(2))}'
        f',"billing_npi":{_json_text(claim.billing.npi)}'
        f',"service_date":{_ISO_DATES.get(start) if start else "null"}'
        f',"service_date_end":{_ISO_DATES.get(end) if end else "null"},"lines":['
    ]
    for index, line in enumerate(claim.lines):
        rendering = line.rendering
        rejected = not decision.accepted or line.number in rejected_lines
        parts.append(
            f'{"," if index else ""}{{"line":{line.number}'
            f',"procedure":{_json_text(line.procedure)}'
            f',"modifiers":[{",".join([_json_text(m) for m in line.modifiers])}]'
            f',"units":{_UNITS.get(line.units)}'
            f',"place_of_service":{_json_text(line.place_of_service)}'
            f',"rendering_npi":{_json_text(rendering.npi)}'
            f',"rendering_loop":{_json_text(rendering.loop)}'
            f',"taxonomy":{_json_text(rendering.taxonomy)}'
            f',"decision":"{"rejected" if rejected else "accepted"}"}}'
        )
    parts.append('],"findings":[')
    for index, finding in enumerate(decision.findings):
        parts.append(
            f'{"," if index else ""}{{"rule":{_json_text(finding.rule)}'
            f',"line":{_json_number(finding.line)}'
            f',"message":{_json_text(finding.message)}'
            f',"category":{_json_text(finding.category)}'
            f',"status":{_json_text(finding.status)}'
            f',"entity":{_json_text(finding.entity)}}}'
        )
    parts.append("]}")
    return "".join(parts)


MAX_SYNTAX_FINDINGS: Final = 3


def syntax_findings(issues: list[SyntaxIssue]) -> list[Finding]:
    """Findings for the claims of a rejected set: its first few syntax errors, and how many more."""
    shown = issues[:MAX_SYNTAX_FINDINGS]
    findings = []
    for index, issue in enumerate(shown, start=1):
        message = f"transaction set rejected: {issue}"
        if index == len(shown) and len(issues) > len(shown):
            message += f" (and {len(issues) - len(shown)} more syntax errors)"
        findings.append(
            Finding(SYNTAX_RULE, None, message[:264], SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY)
        )
    return findings


def interchange_findings(reason: str) -> list[Finding]:
    """The finding for each claim of an interchange rejected whole (--reject interchange)."""
    message = f"interchange rejected: {reason}"[:264]
    return [Finding(SYNTAX_RULE, None, message, SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY)]


def prescan(source: BinaryIO, name: str, limits: Limits | None = None) -> dict[int, str]:
    """Interchanges (numbered from 1) holding a transaction set with syntax errors, and why.

    A first pass for ``--reject interchange``: reading is cheap next to deciding and writing, and
    it lets the real pass reject a whole interchange without holding any of it back.
    """
    limits = limits or Limits()
    segments = SegmentReader(source, name, max_segment_bytes=limits.max_segment_bytes)
    damaged: dict[int, str] = {}
    interchanges = 0
    st_control = ""
    for event in EventReader(segments, name, limits=limits):
        if isinstance(event, InterchangeStart):
            interchanges += 1
        elif isinstance(event, TransactionStart):
            st_control = event.st.element(2)
        elif isinstance(event, TransactionEnd) and event.issues and interchanges not in damaged:
            damaged[interchanges] = (
                f"transaction set {st_control} has syntax errors: {event.issues[0]}"
            )
    return damaged


DECISION_SPOOL_BYTES: Final = 2 << 20


class _DecisionSpool(Spool):
    """Decisions of one transaction set, held until its SE; spills to disk when large."""

    def __init__(self, limit: int = DECISION_SPOOL_BYTES) -> None:
        super().__init__(limit)

    def add(self, line: str) -> None:
        """One decision_json line (ASCII: JSON escapes everything else)."""
        self.write(line.encode("ascii") + b"\n")

    def lines(self) -> Iterator[str]:
        """The spooled lines, in blocks of whole lines (a sink may read whole lines)."""
        carry = b""
        for block in self.blocks():
            block = carry + block
            cut = block.rfind(b"\n") + 1
            carry = block[cut:]
            if cut:
                yield block[:cut].decode("ascii")
        if carry:
            yield carry.decode("ascii")

    def records(self) -> Iterator[dict]:
        for text in self.lines():
            for raw in text.splitlines():
                yield json.loads(raw)


class _Tally:
    """Counts for one transaction set, merged into the summary once its SE is checked."""

    __slots__ = ("claims", "accepted", "lines_removed", "by_rule")

    def __init__(self) -> None:
        self.claims = self.accepted = self.lines_removed = 0
        self.by_rule: Counter[str] = Counter()

    def add(self, decision: Decision) -> None:
        self.claims += 1
        if decision.accepted:
            self.accepted += 1
            self.lines_removed += len(decision.rejected_lines)
        for finding in decision.findings:
            self.by_rule[finding.rule] += 1

    def merge_into(self, summary: Summary, sound: bool) -> None:
        summary.claims += self.claims
        if sound:
            summary.accepted += self.accepted
            summary.rejected += self.claims - self.accepted
            summary.lines_removed += self.lines_removed
            summary.by_rule.update(self.by_rule)
        else:
            summary.rejected += self.claims
            summary.rejected_transactions += 1
            if self.claims:
                summary.by_rule[SYNTAX_RULE] += self.claims


class InterchangeIssues:
    """(ISA text, issues) of the interchanges whose IEA disagreed with their ISA, for the TA1s
    written after the run: spooled, as a hostile file may hold a million such interchanges."""

    def __init__(self) -> None:
        self._spool = RecordSpool(256 << 10)

    def append(self, item: tuple[Segment, list[EnvelopeIssue]]) -> None:
        isa, issues = item
        for issue in issues:
            self._spool.append(issue.code.encode("ascii") + b"\x1f" + isa.text)

    def __iter__(self) -> Iterator[tuple[bytes, list[EnvelopeIssue]]]:
        for record in self._spool.records():
            code, _, text = record.partition(b"\x1f")
            yield text, [EnvelopeIssue(code.decode("ascii"), "", 0)]

    def __len__(self) -> int:
        return self._spool.count


@dataclass
class FilterRun:
    """Configuration of one filter run; ``run`` streams ``source`` through it."""

    engine: RuleEngine
    scope: str = "claim"
    out: BinaryIO | None = None
    decisions: DecisionSink | None = None
    acks: ClaimAckWriter | None = None
    ack999: SyntaxAckWriter | None = None
    on_claim: Callable[[Claim, Decision], None] | None = None
    chunk_size: int = 1 << 20
    limits: Limits | None = None  # bounds on hostile input (default: Limits())
    # --reject interchange: interchanges (numbered from 1 in the input) whose every claim is
    # rejected because one of their transaction sets is damaged, with the reason (see prescan).
    rejected_interchanges: dict[int, str] = field(default_factory=dict)
    # Interchanges whose IEA disagreed with their ISA: (the ISA, the issues), for TA1s.
    interchange_issues: InterchangeIssues = field(default_factory=InterchangeIssues)

    def run(self, source: BinaryIO, name: str) -> Summary:
        started = time.perf_counter()
        summary = Summary(name)
        limits = self.limits or Limits()
        segments = SegmentReader(
            source, name, chunk_size=self.chunk_size, max_segment_bytes=limits.max_segment_bytes
        )
        writer = FilteredWriter(self.out) if self.out is not None else None
        evaluate, scope, acks, ack999 = self.engine.evaluate, self.scope, self.acks, self.ack999
        spool: _DecisionSpool | None = None
        tally = _Tally()
        start: TransactionStart | None = None
        isa: Segment | None = None
        interchanges = 0
        condemned: list[Finding] | None = None  # findings for every claim of a rejected interchange
        log = get_logger()
        for event in EventReader(segments, name, limits=limits):
            if isinstance(event, Claim):
                if condemned is None:
                    decision = decide(event, evaluate(event), scope)
                else:
                    decision = Decision(False, condemned)
                if writer is not None:
                    writer.claim(event, decision.accepted, decision.rejected_lines)
                if acks is not None:
                    acks.add(event, decision)
                if spool is not None:
                    spool.add(decision_json(event, decision))
                tally.add(decision)
                if self.on_claim is not None:
                    self.on_claim(event, decision)
            elif isinstance(event, HierarchyLevel):
                if writer is not None:
                    writer.level(event)
            elif isinstance(event, Passthrough):
                if writer is not None:
                    writer.passthrough(event.segment)
            elif isinstance(event, TransactionStart):
                start = event
                tally = _Tally()
                summary.transactions += 1
                if writer is not None:
                    writer.transaction_start(event)
                if event.claims:
                    spool = _DecisionSpool() if self.decisions is not None else None
                    if acks is not None:
                        acks.begin_transaction(event.envelope)
            elif isinstance(event, TransactionEnd):
                assert start is not None
                sound = not event.issues
                if writer is not None:
                    writer.transaction_end(event, sound)
                if ack999 is not None:
                    st = start.st
                    version = st.element(3) or start.envelope.version
                    # Other transaction types are not edi-gate's to judge: they pass, so say so.
                    issues = event.issues if start.claims else []
                    ack999.transaction(st.element(1), st.element(2), version, issues)
                if start.claims:
                    override = None if sound else syntax_findings(event.issues)
                    tally.merge_into(summary, sound)
                    if acks is not None:
                        acks.end_transaction(override)
                    if spool is not None:
                        self._flush_decisions(spool, override)
                        spool = None
                start = None
            elif isinstance(event, GroupStart):
                if writer is not None:
                    writer.group_start(event)
                if ack999 is not None:
                    ack999.begin_group(event.envelope)
            elif isinstance(event, GroupEnd):
                if writer is not None:
                    writer.group_end(event)
                if ack999 is not None:
                    ack999.end_group(
                        [issue.code for issue in event.issues], declared=event.transaction_count
                    )
                for issue in event.issues:
                    log.warning(
                        "envelope.issue", source=name, ordinal=issue.ordinal, issue=issue.message
                    )
            elif isinstance(event, InterchangeStart):
                isa = event.isa
                interchanges += 1
                reason = self.rejected_interchanges.get(interchanges)
                condemned = None if reason is None else interchange_findings(reason)
                if writer is not None:
                    writer.interchange_start(event)
            elif isinstance(event, InterchangeEnd):
                if writer is not None:
                    writer.interchange_end(event)
                if event.issues and isa is not None:
                    self.interchange_issues.append((isa, event.issues))
                for issue in event.issues:
                    log.warning(
                        "envelope.issue", source=name, ordinal=issue.ordinal, issue=issue.message
                    )
        if writer is not None and writer.bytes_written and segments.trailing:
            writer.out.write(segments.trailing)
            writer.bytes_written += len(segments.trailing)
        if acks is not None:
            acks.close()
        if ack999 is not None:
            ack999.close()
        summary.bytes_in = segments.bytes_read
        summary.bytes_out = writer.bytes_written if writer is not None else 0
        summary.seconds = time.perf_counter() - started
        return summary

    def _flush_decisions(self, spool: _DecisionSpool, override: list[Finding] | None) -> None:
        assert self.decisions is not None
        if override is None:
            for text in spool.lines():
                self.decisions.write(text)
        else:
            findings = [f.as_dict() for f in override]
            for record in spool.records():
                record["decision"] = "rejected"
                record["findings"] = findings
                for line in record["lines"]:
                    line["decision"] = "rejected"
                self.decisions.write(json.dumps(record, separators=(",", ":")) + "\n")
        spool.close()
