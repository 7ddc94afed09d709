"""The filter run: one input stream through the reader, the rules and every writer.

Each claim is decided as soon as it is read. Its outcome is final only when its transaction set's
SE proves the set sound, so decisions and the filtered output of one set are spooled until then;
a set with syntax errors has every claim rejected with a finding that names the error.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.pipeline.accounting import NO_RULESET, no_ruleset_finding, passthrough_reason
from edi_gate.pipeline.interchanges import (
    Envelopes,
    InterchangeIssues,
    InterchangeLog,
    RefusedInterchange,
)
from edi_gate.pipeline.sinks import Sink, SyntaxAckWriter, TextOut, output_sinks
from edi_gate.pipeline.verdicts import decide_claim, syntax_findings
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.x12.errors import X12Error
from edi_gate.x12.loops import (
    EventReader,
    HierarchyLevel,
    InterchangeEnd,
    InterchangeStart,
    Limits,
    Passthrough,
    TransactionEnd,
    TransactionStart,
)
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import Segment, SegmentReader

__all__ = ["FilterRun", "RuleEngine", "Summary", "decide_claim"]


class RuleEngine(Protocol):
    """What the filter needs of a rule engine. An engine may also have ``ruleset_id(claim)``:
    the id of the ruleset that judges the claim, or None when none is in force (the claim is then
    "not evaluated", see :mod:`edi_gate.pipeline.accounting`)."""

    def evaluate(self, claim: Claim) -> list[Finding]: ...


class ClaimChecker(Protocol):
    """The duplicate-claim check (edi_gate.state.record.DuplicateClaims)."""

    def finding(self, claim: Claim) -> Finding | None: ...
    def accepted(self, claim: Claim) -> None: ...
    def end_set(self, sound: bool) -> None: ...


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


@dataclass
class FilterRun:
    """Configuration of one filter run; ``run`` streams ``source`` through it.

    Its outputs are ``sinks`` (edi_gate.pipeline.sinks); without them, the sinks that
    ``output_sinks`` assembles from ``out``, ``decisions``, ``acks``, ``ack999`` and
    ``on_claim``."""

    engine: RuleEngine
    scope: str = "claim"
    out: BinaryIO | None = None
    decisions: TextOut | None = None
    acks: Ack277Writer | None = None
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
    sinks: list[Sink] | None = None

    def output_sinks(self) -> list[Sink]:
        if self.sinks is not None:
            return self.sinks
        return output_sinks(
            self.engine,
            out=self.out,
            acks=self.acks,
            ack999=self.ack999,
            decisions=self.decisions,
            on_claim=self.on_claim,
        )

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
        sinks = self.output_sinks()
        reading = _Reading(self, summary, sinks, name)
        events: Iterable[object] = EventReader(segments, name, limits=limits)
        if self.admit is not None:
            events = self._admitted(events, summary)
        for event in events:
            if isinstance(event, Claim):
                reading.claim(event)
            elif isinstance(event, HierarchyLevel):
                for sink in sinks:
                    sink.level(event)
            elif isinstance(event, Passthrough):
                reading.passthrough(event)
            elif isinstance(event, TransactionStart):
                reading.transaction_start(event)
            elif isinstance(event, TransactionEnd):
                reading.transaction_end(event)
            else:
                reading.envelopes.event(event)
        for sink in sinks:
            sink.finish(segments.trailing)
        summary.duplicate_interchanges += reading.envelopes.duplicates
        summary.bytes_in = segments.bytes_read
        summary.bytes_out = sum([sink.bytes_out() for sink in sinks])
        summary.seconds = time.perf_counter() - started
        return summary

    def decide(self, claim: Claim, scope: str) -> Decision:
        """The decision for one claim, with the duplicate-claim check when there is one: a
        duplicate is rejected (with whatever the rules say too); an accepted claim is
        remembered once its set proves sound."""
        checker = self.duplicate_claims
        if checker is None:
            return decide_claim(claim, self.engine.evaluate(claim), scope)
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


class _Reading:
    """The state of one pass over the input: where it is (interchange, group, set), the open
    set's tally, and what every claim of the open interchange is condemned to (if anything)."""

    def __init__(self, run: FilterRun, summary: Summary, sinks: list[Sink], name: str) -> None:
        self.run = run
        self.summary = summary
        self.sinks = sinks
        self.scope = run.scope
        # The id of the ruleset judging a claim (engines without the method: not known).
        self.ruleset_of: Callable[[Claim], str | None] | None = getattr(
            run.engine, "ruleset_id", None
        )
        self.require_ruleset = run.require_ruleset and self.ruleset_of is not None
        self.envelopes = Envelopes(
            sinks, name, run.interchanges, run.interchange_issues, run.rejected_interchanges
        )
        self.tally = _Tally()
        self.start: TransactionStart | None = None
        self.passing: str | None = None  # why the open set passes through unjudged

    def claim(self, claim: Claim) -> None:
        ruleset = self.ruleset_of(claim) if self.ruleset_of is not None else None
        rejection = self.envelopes.rejection
        if rejection is not None:
            decision = Decision(False, rejection)
        elif ruleset is None and self.require_ruleset:
            start_day = claim.service_dates[0]
            finding = no_ruleset_finding(start_day.isoformat() if start_day else "")
            decision = Decision(False, [finding])
        else:
            decision = self.run.decide(claim, self.scope)
        for sink in self.sinks:
            sink.claim(claim, decision, ruleset)
        self.tally.add(decision, ruleset)

    def passthrough(self, event: Passthrough) -> None:
        for sink in self.sinks:
            sink.passthrough(event)
        if self.passing is not None and event.segment.tag == b"CLM":
            self.summary.not_evaluated[self.passing] += 1

    def transaction_start(self, event: TransactionStart) -> None:
        self.start = event
        self.tally = _Tally()
        self.summary.transactions += 1
        for sink in self.sinks:
            sink.transaction_start(event)
        if not event.claims:
            st01, st03 = event.st.element(1), event.st.element(3)
            self.passing = passthrough_reason(st01, event.envelope.version, st03)
            self.summary.passed_through[self.passing] += 1

    def transaction_end(self, event: TransactionEnd) -> None:
        start = self.start
        assert start is not None
        sound = not event.issues
        override = None if sound or not start.claims else syntax_findings(event.issues)
        for sink in self.sinks:
            sink.transaction_end(start, event, override)
        if start.claims:
            if self.run.duplicate_claims is not None:
                self.run.duplicate_claims.end_set(sound)
            self.tally.merge_into(self.summary, sound)
        self.start = None
        self.passing = None
