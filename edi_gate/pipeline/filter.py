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

from edi_gate.directory.lookup import Resolution
from edi_gate.logs import get_logger
from edi_gate.memo import Memo
from edi_gate.pipeline.accounting import NO_RULESET, no_ruleset_finding, passthrough_reason
from edi_gate.rules.engine import decide
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.spool import RecordSpool, Spool
from edi_gate.x12.errors import SyntaxIssue, X12Error
from edi_gate.x12.loops import (
    EnvelopeIssue,
    EventReader,
    GroupEnd,
    GroupStart,
    HierarchyLevel,
    InterchangeAcknowledgment,
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
    """What the filter needs of a rule engine. An engine may also have ``ruleset_id(claim)``:
    the id of the ruleset that judges the claim, or None when none is in force (the claim is then
    "not evaluated", see :mod:`edi_gate.pipeline.accounting`)."""

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

    def begin_group(self, envelope: Envelope, *, functional_id: str = "HC") -> None: ...
    def transaction(
        self, st_id: str, control: str, version: str, issues: Sequence[SyntaxIssue]
    ) -> bool: ...
    def end_group(
        self, group_issues: Iterable[str] = (), *, declared: int | None = None
    ) -> str: ...
    def close(self) -> None: ...


@dataclass(slots=True)
class RefusedInterchange:
    """An interchange the filter's ``admit`` refused (already seen): none of it is decided or
    written; it is answered with a TA1 (note 025) by the caller."""

    isa: Segment
    reason: str


class ClaimChecker(Protocol):
    """The duplicate-claim check (edi_gate.state.record.DuplicateClaims)."""

    def finding(self, claim: Claim) -> Finding | None: ...
    def accepted(self, claim: Claim) -> None: ...
    def end_set(self, sound: bool) -> None: ...


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
    by_rule: Counter[str] = field(default_factory=Counter)  # findings of each rule
    claims_by_rule: Counter[str] = field(default_factory=Counter)  # claims with a finding of it
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    # Claims no ruleset judged (accepted with nothing said), by reason; transaction sets passed
    # through unjudged (4010, 837I, non-837 ...), by reason. See edi_gate.pipeline.accounting.
    not_evaluated: Counter[str] = field(default_factory=Counter)
    passed_through: Counter[str] = field(default_factory=Counter)
    # Interchanges refused as already seen (TA1 025), and the claims inside them.
    duplicate_interchanges: int = 0
    duplicate_interchange_claims: int = 0

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
            "claims_by_rule": dict(sorted(self.claims_by_rule.items())),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
            "not_evaluated": dict(sorted(self.not_evaluated.items())),
            "passed_through": dict(sorted(self.passed_through.items())),
            "duplicate_interchanges": self.duplicate_interchanges,
            "duplicate_interchange_claims": self.duplicate_interchange_claims,
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


def decision_json(
    claim: Claim,
    decision: Decision,
    ruleset: str | None = None,
    taxonomies: list[Resolution] | None = None,
) -> str:
    """The --decisions JSON object for one claim, one line (no patient names or member ids).

    ``ruleset``: the id of the ruleset that judged the claim, None (``null``) when none was in
    force and no rule looked at it. ``taxonomies``: each line's taxonomies and their source as
    the rules resolved them (``Engine.line_taxonomies``); without them, a line shows its own
    loop's PRV.

    Written out field by field rather than through a dict and ``json.dumps``: this runs for
    every claim, and the keys are constants. The tests check it against ``json.dumps`` of the
    documented record.
    """
    env = claim.envelope
    start, end = claim.service_dates
    rejected_lines = decision.rejected_lines
    parts = [
        f'{{"claim":{_json_text(claim.claim_id)},"decision":"{decision.label}"'
        f',"ruleset":{_json_text(ruleset) if ruleset is not None else "null"}'
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
        if taxonomies is not None:
            found = taxonomies[index]
            codes, source = found.codes, found.source
        elif rendering.taxonomy:
            codes, source = (rendering.taxonomy.upper(),), rendering.loop + " PRV"
        else:
            codes, source = (), ""
        parts.append(
            f'{"," if index else ""}{{"line":{line.number}'
            f',"procedure":{_json_text(line.procedure)}'
            f',"modifiers":[{",".join([_json_text(m) for m in line.modifiers])}]'
            f',"units":{_UNITS.get(line.units)}'
            f',"charge":"{line.charge}"'
            f',"place_of_service":{_json_text(line.place_of_service)}'
            f',"rendering_npi":{_json_text(rendering.npi)}'
            f',"rendering_loop":{_json_text(rendering.loop)}'
            f',"taxonomy":{_json_text(codes[0] if codes else "")}'
            f',"taxonomies":[{",".join([_json_text(c) for c in codes])}]'
            f',"taxonomy_source":{_json_text(source)}'
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


COB_RULE: Final = "LINE-SCOPE-COB"
# 277CA triple: A7 rejected for invalid information, 400 "claim is out of balance".
COB_CATEGORY, COB_STATUS = "A7", "400"


def carries_cob(claim: Claim) -> bool:
    """True when the claim carries a prior payer's adjudication: 2320 AMT*D (payer paid), CAS
    adjustments (2320 or 2430), or a 2430 line adjudication (SVD). Such a claim balances
    (X12 interpretations 524, 1294: CLM02 = prior payer paid + adjustments), so a line cannot be
    cut from it without making it wrong."""
    for segment in claim.segments:
        tag = segment.tag
        if tag == b"SVD" or tag == b"CAS" or (tag == b"AMT" and segment.element(1) == "D"):
            return True
    return False


def whole_claim_for_cob(claim: Claim, decision: Decision) -> Decision:
    """--scope line on a claim with coordination-of-benefits data: the claim is rejected whole
    (with its line findings, each line's 2220D in the 277CA) instead of losing lines and leaving
    the prior payer's amounts unbalanced. Other decisions are returned as they are."""
    if not decision.accepted or not decision.rejected_lines or not carries_cob(claim):
        return decision
    lines = ",".join(str(n) for n in sorted(decision.rejected_lines))
    message = (
        f"claim carries coordination-of-benefits data (2320 AMT*D/CAS, 2430): removing line(s) "
        f"{lines} would leave CLM02 out of balance with the prior payer's amounts; rejected whole"
    )
    cob = Finding(COB_RULE, None, message, COB_CATEGORY, COB_STATUS)
    return Decision(False, [cob, *decision.findings], decision.rejected_lines)


def decide_claim(claim: Claim, findings: list[Finding], scope: str) -> Decision:
    """The decision for one claim: the engine's ``decide``, then the COB guard of line scope
    (one place, for the filter and for replay's --compare)."""
    decision = decide(claim, findings, scope)
    if decision.rejected_lines:
        decision = whole_claim_for_cob(claim, decision)
    return decision


def interchange_findings(reason: str) -> list[Finding]:
    """The finding for each claim of an interchange rejected whole (--reject interchange)."""
    message = f"interchange rejected: {reason}"[:264]
    return [Finding(SYNTAX_RULE, None, message, SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY)]


CLAIM_GROUP: Final = "HC"  # GS01 of a health care claim (837) group: the only groups acknowledged
ACK_GROUP: Final = "FA"  # GS01 of a 997/999 group: an acknowledgment, never answered
REFUSED_WITH_FILE_NOTE: Final = "022"  # TA105 for a sound interchange in a refused file


class InterchangeLog:
    """The interchanges read so far, so that a file refused as unreadable gets a TA1 for each
    interchange whose ISA was read (the partner hears about every one), and the one being read
    when the error came is named on the error. An interchange that carries only acknowledgments
    (a TA1, 997/999 groups) is never answered: acknowledging acknowledgments makes gateways loop.

    The ISAs of finished interchanges are spooled (on disk past a megabyte): a file may hold
    any number of interchanges, memory holds a constant.
    """

    def __init__(self) -> None:
        self._spool = Spool(1 << 20)
        self._open: Segment | None = None
        self._acks = self._other = False

    def start(self, isa: Segment) -> None:
        self._open = isa
        self._acks = self._other = False

    def group(self, functional_id: str) -> None:
        if functional_id == ACK_GROUP:
            self._acks = True
        else:
            self._other = True

    def acknowledgment(self) -> None:
        self._acks = True

    @property
    def answerable(self) -> bool:
        """The open interchange may be answered: it carries more than acknowledgments."""
        return self._other or not self._acks

    def end(self) -> None:
        if self._open is not None and self.answerable:
            text = self._open.text
            self._spool.write(len(text).to_bytes(4, "big") + text)
        self._open = None

    def refused(self, error: X12Error) -> None:
        """Name on ``error`` the interchange being read, when it may be answered (else none)."""
        error.isa = self._open if self._open is not None and self.answerable else None

    def finished(self) -> Iterator[bytes]:
        """The ISAs (raw text) of the finished interchanges that may be answered, in order."""
        buffer = b""
        for block in self._spool.blocks():
            buffer += block
            while len(buffer) >= 4:
                size = int.from_bytes(buffer[:4], "big")
                if len(buffer) < 4 + size:
                    break
                yield buffer[4 : 4 + size]
                buffer = buffer[4 + size :]

    def close(self) -> None:
        self._spool.close()


def prescan(
    source: BinaryIO, name: str, limits: Limits | None = None, log: InterchangeLog | None = None
) -> dict[int, str]:
    """Interchanges (numbered from 1) holding a transaction set with syntax errors, and why.

    A first pass for ``--reject interchange``: reading is cheap next to deciding and writing, and
    it lets the real pass reject a whole interchange without holding any of it back. ``log``
    records the interchanges read, for the TA1s when the file proves unreadable.
    """
    limits = limits or Limits()
    log = log if log is not None else InterchangeLog()
    segments = SegmentReader(source, name, max_segment_bytes=limits.max_segment_bytes)
    damaged: dict[int, str] = {}
    interchanges = 0
    st_control = ""
    try:
        for event in EventReader(segments, name, limits=limits):
            if isinstance(event, InterchangeStart):
                interchanges += 1
                log.start(event.isa)
            elif isinstance(event, GroupStart):
                log.group(event.gs.element(1))
            elif isinstance(event, InterchangeAcknowledgment):
                log.acknowledgment()
            elif isinstance(event, InterchangeEnd):
                log.end()
            elif isinstance(event, TransactionStart):
                st_control = event.st.element(2)
            elif isinstance(event, TransactionEnd) and event.issues and interchanges not in damaged:
                damaged[interchanges] = (
                    f"transaction set {st_control} has syntax errors: {event.issues[0]}"
                )
    except X12Error as error:
        log.refused(error)
        raise
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

    __slots__ = (
        "claims",
        "accepted",
        "lines_removed",
        "by_rule",
        "claims_by_rule",
        "not_evaluated",
    )

    def __init__(self) -> None:
        self.claims = self.accepted = self.lines_removed = self.not_evaluated = 0
        self.by_rule: Counter[str] = Counter()
        self.claims_by_rule: Counter[str] = Counter()

    def add(self, decision: Decision, ruleset: str | None) -> None:
        self.claims += 1
        if ruleset is None and decision.accepted:
            self.not_evaluated += 1
        if decision.accepted:
            self.accepted += 1
            self.lines_removed += len(decision.rejected_lines)
        findings = decision.findings
        if findings:
            for finding in findings:
                self.by_rule[finding.rule] += 1
            self.claims_by_rule.update({finding.rule for finding in findings})

    def merge_into(self, summary: Summary, sound: bool) -> None:
        summary.claims += self.claims
        if sound:
            summary.accepted += self.accepted
            summary.rejected += self.claims - self.accepted
            summary.lines_removed += self.lines_removed
            summary.by_rule.update(self.by_rule)
            summary.claims_by_rule.update(self.claims_by_rule)
            if self.not_evaluated:
                summary.not_evaluated[NO_RULESET] += self.not_evaluated
        else:
            summary.rejected += self.claims
            summary.rejected_transactions += 1
            if self.claims:
                summary.by_rule[SYNTAX_RULE] += self.claims
                summary.claims_by_rule[SYNTAX_RULE] += self.claims


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
    # The duplicate check (edi_gate.state): given an ISA, None to process the interchange, or
    # why it is refused. Refused interchanges are skipped whole and listed in ``refused``.
    admit: Callable[[Segment], str | None] | None = None
    refused: list[RefusedInterchange] = field(default_factory=list)
    # --require-ruleset: a claim no ruleset covers is rejected (NO-RULESET), not passed unjudged.
    require_ruleset: bool = False
    # --duplicate-claims reject: a claim accepted before (edi_gate.state) is rejected.
    duplicate_claims: ClaimChecker | None = None
    # The interchanges read, for a TA1 each when the file is refused (see InterchangeLog).
    interchanges: InterchangeLog = field(default_factory=InterchangeLog)

    def run(self, source: BinaryIO, name: str) -> Summary:
        try:
            return self._run(source, name)
        except X12Error as error:
            self.interchanges.refused(error)
            raise

    def _run(self, source: BinaryIO, name: str) -> Summary:
        started = time.perf_counter()
        summary = Summary(name)
        limits = self.limits or Limits()
        segments = SegmentReader(
            source, name, chunk_size=self.chunk_size, max_segment_bytes=limits.max_segment_bytes
        )
        writer = FilteredWriter(self.out) if self.out is not None else None
        evaluate, scope, acks, ack999 = self.engine.evaluate, self.scope, self.acks, self.ack999
        # each line's taxonomies and their source, for the decisions (engines that resolve them)
        line_taxonomies: Callable[[Claim], list[Resolution]] | None = getattr(
            self.engine, "line_taxonomies", None
        )
        spool: _DecisionSpool | None = None
        tally = _Tally()
        start: TransactionStart | None = None
        isa: Segment | None = None
        interchanges = 0
        condemned: list[Finding] | None = None  # findings for every claim of a rejected interchange
        seen = self.interchanges  # which interchanges may be answered (TA1s)
        functional_id, group_acknowledged, group_open = "", False, False
        log = get_logger()
        # The id of the ruleset judging a claim (engines without the method: not known).
        ruleset_of = getattr(self.engine, "ruleset_id", None)
        require_ruleset = self.require_ruleset and ruleset_of is not None
        ruleset: str | None = None
        passing: str | None = None  # why the current set passes through unjudged
        events: Iterable[object] = EventReader(segments, name, limits=limits)
        if self.admit is not None:
            events = self._admitted(events, summary)
        for event in events:
            if isinstance(event, Claim):
                if ruleset_of is not None:
                    ruleset = ruleset_of(event)
                if condemned is not None:
                    decision = Decision(False, condemned)
                elif ruleset is None and require_ruleset:
                    start_day = event.service_dates[0]
                    finding = no_ruleset_finding(start_day.isoformat() if start_day else "")
                    decision = Decision(False, [finding])
                elif self.duplicate_claims is None:
                    decision = decide_claim(event, evaluate(event), scope)
                else:
                    decision = self._decide_once(event, scope)
                if writer is not None:
                    writer.claim(event, decision.accepted, decision.rejected_lines)
                if acks is not None:
                    acks.add(event, decision)
                if spool is not None:
                    taxonomies = line_taxonomies(event) if line_taxonomies is not None else None
                    spool.add(decision_json(event, decision, ruleset, taxonomies))
                tally.add(decision, ruleset)
                if self.on_claim is not None:
                    self.on_claim(event, decision)
            elif isinstance(event, HierarchyLevel):
                if writer is not None:
                    writer.level(event)
            elif isinstance(event, Passthrough):
                if writer is not None:
                    writer.passthrough(event.segment)
                if passing is not None and event.segment.tag == b"CLM":
                    summary.not_evaluated[passing] += 1
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
                else:
                    st01, st03 = event.st.element(1), event.st.element(3)
                    passing = passthrough_reason(st01, event.envelope.version, st03)
                    summary.passed_through[passing] += 1
            elif isinstance(event, TransactionEnd):
                assert start is not None
                sound = not event.issues
                if writer is not None:
                    writer.transaction_end(event, sound)
                if ack999 is not None and start.claims and group_acknowledged:
                    # Only the sets edi-gate validated are acknowledged: other transaction types
                    # pass through, and are not edi-gate's to accept or reject.
                    if not group_open:
                        ack999.begin_group(start.envelope, functional_id=functional_id)
                        group_open = True
                    st = start.st
                    version = st.element(3) or start.envelope.version
                    ack999.transaction(st.element(1), st.element(2), version, event.issues)
                if start.claims:
                    if self.duplicate_claims is not None:
                        self.duplicate_claims.end_set(sound)
                    override = None if sound else syntax_findings(event.issues)
                    tally.merge_into(summary, sound)
                    if acks is not None:
                        acks.end_transaction(override)
                    if spool is not None:
                        self._flush_decisions(spool, override)
                        spool = None
                start = None
                passing = None
            elif isinstance(event, GroupStart):
                if writer is not None:
                    writer.group_start(event)
                functional_id = event.gs.element(1)
                seen.group(functional_id)
                # A 999 answers an 837 group, opened at its first set edi-gate validates: 835,
                # 270, 277 and 997/999 groups get none (never acknowledge an acknowledgment).
                group_acknowledged, group_open = functional_id == CLAIM_GROUP, False
            elif isinstance(event, GroupEnd):
                if writer is not None:
                    writer.group_end(event)
                if ack999 is not None and group_open:
                    # AK902 is GE01 as declared when it is a number (N0 1-6), else the sets counted
                    ge01 = event.ge.element(1)
                    declared = event.transaction_count
                    if ge01.isascii() and ge01.isdigit() and len(ge01) <= 6:
                        declared = int(ge01)
                    ack999.end_group([issue.code for issue in event.issues], declared=declared)
                group_acknowledged = group_open = False
                for issue in event.issues:
                    log.warning(
                        "envelope.issue", source=name, ordinal=issue.ordinal, issue=issue.message
                    )
            elif isinstance(event, InterchangeAcknowledgment):
                seen.acknowledgment()
                if writer is not None:
                    writer.interchange_acknowledgment(event)
            elif isinstance(event, InterchangeStart):
                isa = event.isa
                seen.start(isa)
                interchanges += 1
                reason = self.rejected_interchanges.get(interchanges)
                condemned = None if reason is None else interchange_findings(reason)
                if writer is not None:
                    writer.interchange_start(event)
            elif isinstance(event, InterchangeEnd):
                if writer is not None:
                    writer.interchange_end(event)
                if event.issues and isa is not None and seen.answerable:
                    self.interchange_issues.append((isa, event.issues))
                seen.end()
                for issue in event.issues:
                    log.warning(
                        "envelope.issue", source=name, ordinal=issue.ordinal, issue=issue.message
                    )
            elif isinstance(event, RefusedInterchange):
                interchanges += 1  # keeps the numbering of rejected_interchanges (prescan)
                summary.duplicate_interchanges += 1
                log.warning("interchange.duplicate", source=name, reason=event.reason)
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

    def _decide_once(self, claim: Claim, scope: str) -> Decision:
        """The decision with the duplicate-claim check: a duplicate is rejected (with whatever
        the rules say too); an accepted claim is remembered once its set proves sound."""
        checker = self.duplicate_claims
        assert checker is not None
        findings = self.engine.evaluate(claim)
        duplicate = checker.finding(claim)
        if duplicate is not None:
            findings = [duplicate, *findings]
        decision = decide_claim(claim, findings, scope)
        if decision.accepted:
            checker.accepted(claim)
        return decision

    def _admitted(self, events: Iterable[object], summary: Summary) -> Iterator[object]:
        """``events`` without the interchanges ``admit`` refuses: each becomes one
        RefusedInterchange event (its claims are counted, nothing else of it goes on)."""
        assert self.admit is not None
        admit = self.admit
        skipping = False
        for event in events:
            if skipping:
                if isinstance(event, Claim):
                    summary.duplicate_interchange_claims += 1
                elif isinstance(event, InterchangeEnd):
                    skipping = False
                continue
            if isinstance(event, InterchangeStart):
                reason = admit(event.isa)
                if reason is not None:
                    refused = RefusedInterchange(event.isa, reason)
                    self.refused.append(refused)
                    skipping = True
                    yield refused
                    continue
            yield event

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
