"""A filter run's outputs as sinks: each told of the input's events in order, each writing its own.

The filter (edi_gate.pipeline.filter) reads and decides; what it writes is a list of sinks, one
per output: the filtered 837, the 277CA, the 999, the decisions. A sink overrides the events its
output needs and inherits a no-op for the rest, so adding an output is one class and one line in
``output_sinks``, never another ``if writer is not None`` in the filter's loop.

Compiled (hot path): ``Sink`` is a native class, so a call on a sink of the list is a vtable
call, no dearer than the ``if`` it replaces. Every output is assembled by ``output_sinks``: the
CLI's ``run_filter_file``, the fuzz oracle and the tests all run the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO, Final, Protocol

from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.decisions.writer import DecisionSpool, decision_json
from edi_gate.directory.lookup import Resolution
from edi_gate.rules.findings import Decision, Finding
from edi_gate.x12 import loops as events
from edi_gate.x12.errors import SyntaxIssue
from edi_gate.x12.model import Claim, Envelope
from edi_gate.x12.writer import FilteredWriter

CLAIM_GROUP: Final = "HC"  # GS01 of a health care claim (837) group: the only groups acknowledged


class Sink:
    """One output of a filter run. Every event is a no-op here; an output overrides its own.

    ``override`` at a transaction's end: None when the set is sound (each claim keeps its
    decision), else the findings that reject every claim of it (syntax errors)."""

    def interchange_start(self, event: events.InterchangeStart) -> None:
        """An ISA was read (an ISA the duplicate check refused never comes)."""

    def interchange_acknowledgment(self, event: events.InterchangeAcknowledgment) -> None:
        """A TA1 inside an interchange: an acknowledgment, never answered."""

    def interchange_end(self, event: events.InterchangeEnd) -> None:
        """An IEA was read; ``event.issues``: how it disagreed with its ISA."""

    def group_start(self, event: events.GroupStart) -> None:
        """A GS was read."""

    def group_end(self, event: events.GroupEnd) -> None:
        """A GE was read; ``event.issues``: how it disagreed with its GS or its sets."""

    def transaction_start(self, event: events.TransactionStart) -> None:
        """An ST was read; ``event.claims``: the set is an 837P whose claims are decided."""

    def level(self, event: events.HierarchyLevel) -> None:
        """An HL of the 837P hierarchy (billing provider, subscriber, patient) with its loop."""

    def passthrough(self, event: events.Passthrough) -> None:
        """A segment of a set whose claims are not decided (another transaction type)."""

    def claim(self, claim: Claim, decision: Decision, ruleset: str | None) -> None:
        """A claim and its decision (final only if its set proves sound at its SE)."""

    def transaction_end(
        self,
        start: events.TransactionStart,
        end: events.TransactionEnd,
        override: list[Finding] | None,
    ) -> None:
        """An SE was read: the set is sound (``override`` None) or all its claims rejected."""

    def finish(self, trailing: bytes) -> None:
        """The input ended (``trailing``: what followed its last segment); flush and close."""

    def bytes_out(self) -> int:
        """Bytes of the filtered 837 written (the run's summary counts only those)."""
        return 0


class FilteredSink(Sink):
    """The filtered 837: what passed, still valid X12 (edi_gate.x12.writer)."""

    def __init__(self, out: BinaryIO) -> None:
        self.writer = FilteredWriter(out)

    def interchange_start(self, event: events.InterchangeStart) -> None:
        self.writer.interchange_start(event)

    def interchange_acknowledgment(self, event: events.InterchangeAcknowledgment) -> None:
        self.writer.interchange_acknowledgment(event)

    def interchange_end(self, event: events.InterchangeEnd) -> None:
        self.writer.interchange_end(event)

    def group_start(self, event: events.GroupStart) -> None:
        self.writer.group_start(event)

    def group_end(self, event: events.GroupEnd) -> None:
        self.writer.group_end(event)

    def transaction_start(self, event: events.TransactionStart) -> None:
        self.writer.transaction_start(event)

    def level(self, event: events.HierarchyLevel) -> None:
        self.writer.level(event)

    def passthrough(self, event: events.Passthrough) -> None:
        self.writer.passthrough(event.segment)

    def claim(self, claim: Claim, decision: Decision, ruleset: str | None) -> None:
        self.writer.claim(claim, decision.accepted, decision.rejected_lines)

    def transaction_end(
        self,
        start: events.TransactionStart,
        end: events.TransactionEnd,
        override: list[Finding] | None,
    ) -> None:
        self.writer.transaction_end(end, not end.issues)

    def finish(self, trailing: bytes) -> None:
        writer = self.writer
        if writer.bytes_written and trailing:
            writer.out.write(trailing)
            writer.bytes_written += len(trailing)

    def bytes_out(self) -> int:
        return self.writer.bytes_written


class ClaimAckSink(Sink):
    """The 277CA: one transaction per 837 set that holds claims (edi_gate.acks.ca277)."""

    def __init__(self, writer: Ack277Writer) -> None:
        self.writer = writer

    def transaction_start(self, event: events.TransactionStart) -> None:
        if event.claims:
            self.writer.begin_transaction(event.envelope)

    def claim(self, claim: Claim, decision: Decision, ruleset: str | None) -> None:
        self.writer.add(claim, decision)

    def transaction_end(
        self,
        start: events.TransactionStart,
        end: events.TransactionEnd,
        override: list[Finding] | None,
    ) -> None:
        if start.claims:
            self.writer.end_transaction(override)

    def finish(self, trailing: bytes) -> None:
        self.writer.close()


class SyntaxAckWriter(Protocol):
    """What the 999 sink needs of a 999 writer (edi_gate.acks.ack999, interpreted). Must match
    the writer's real signatures, return types included: compiled calls check them."""

    def begin_group(self, envelope: Envelope, *, functional_id: str = "HC") -> None: ...
    def transaction(
        self, st_id: str, control: str, version: str, issues: Sequence[SyntaxIssue]
    ) -> bool: ...
    def end_group(
        self, group_issues: Iterable[str] = (), *, declared: int | None = None
    ) -> str: ...
    def close(self) -> None: ...


class SyntaxAckSink(Sink):
    """The 999: an AK2 for each claim set of an 837 (GS01 HC) group, opened at its first such set.
    835, 270, 277 and 997/999 groups get none (never acknowledge an acknowledgment), and sets of
    other transaction types pass through, not edi-gate's to accept or reject."""

    def __init__(self, writer: SyntaxAckWriter) -> None:
        self.writer = writer
        self.functional_id = ""
        self.acknowledged = False  # the open group is a claim group
        self.open = False  # its 999 group is begun

    def group_start(self, event: events.GroupStart) -> None:
        self.functional_id = event.gs.element(1)
        self.acknowledged, self.open = self.functional_id == CLAIM_GROUP, False

    def transaction_end(
        self,
        start: events.TransactionStart,
        end: events.TransactionEnd,
        override: list[Finding] | None,
    ) -> None:
        if not (start.claims and self.acknowledged):
            return
        if not self.open:
            self.writer.begin_group(start.envelope, functional_id=self.functional_id)
            self.open = True
        st = start.st
        version = st.element(3) or start.envelope.version
        self.writer.transaction(st.element(1), st.element(2), version, end.issues)

    def group_end(self, event: events.GroupEnd) -> None:
        if self.open:
            # AK902 is GE01 as declared when it is a number (N0 1-6), else the sets counted
            ge01 = event.ge.element(1)
            declared = event.transaction_count
            if ge01.isascii() and ge01.isdigit() and len(ge01) <= 6:
                declared = int(ge01)
            self.writer.end_group([issue.code for issue in event.issues], declared=declared)
        self.acknowledged = self.open = False

    def finish(self, trailing: bytes) -> None:
        self.writer.close()


class TextOut(Protocol):
    """Where --decisions JSON lines go: a text file, or replay's and check's own collectors."""

    def write(self, text: str, /) -> object: ...


class DecisionsSink(Sink):
    """The decisions: one JSON line per claim (edi_gate.decisions), a set's held until its SE,
    then written as decided or, when the set failed its syntax checks, rewritten as rejected."""

    def __init__(
        self, out: TextOut, line_taxonomies: Callable[[Claim], list[Resolution]] | None
    ) -> None:
        self.out = out
        self.line_taxonomies = line_taxonomies
        self.spool: DecisionSpool | None = None

    def transaction_start(self, event: events.TransactionStart) -> None:
        if event.claims:
            self.spool = DecisionSpool()

    def claim(self, claim: Claim, decision: Decision, ruleset: str | None) -> None:
        if self.spool is None:
            return
        taxonomies = self.line_taxonomies(claim) if self.line_taxonomies is not None else None
        self.spool.add(decision_json(claim, decision, ruleset, taxonomies))

    def transaction_end(
        self,
        start: events.TransactionStart,
        end: events.TransactionEnd,
        override: list[Finding] | None,
    ) -> None:
        spool, self.spool = self.spool, None
        if spool is None or not start.claims:
            return
        lines = spool.lines() if override is None else spool.rejected_lines(override)
        for text in lines:
            self.out.write(text)
        spool.close()


class ClaimCallback(Sink):
    """A caller's function told of every claim and its decision (tests, the fuzz oracle)."""

    def __init__(self, on_claim: Callable[[Claim, Decision], None]) -> None:
        self.on_claim = on_claim

    def claim(self, claim: Claim, decision: Decision, ruleset: str | None) -> None:
        self.on_claim(claim, decision)


def output_sinks(
    engine: object,
    *,
    out: BinaryIO | None = None,
    acks: Ack277Writer | None = None,
    ack999: SyntaxAckWriter | None = None,
    decisions: TextOut | None = None,
    on_claim: Callable[[Claim, Decision], None] | None = None,
) -> list[Sink]:
    """The sinks of a run, in the order they hear each event: the one place outputs are put
    together. ``engine``: the run's rule engine; the decisions show each line's taxonomies as
    it resolved them when it can say (``line_taxonomies``)."""
    sinks: list[Sink] = []
    if out is not None:
        sinks.append(FilteredSink(out))
    # The 999 before the 277CA: at a set's end both may open an interchange, and the control
    # numbers they share are drawn in this order.
    if ack999 is not None:
        sinks.append(SyntaxAckSink(ack999))
    if acks is not None:
        sinks.append(ClaimAckSink(acks))
    if decisions is not None:
        sinks.append(DecisionsSink(decisions, getattr(engine, "line_taxonomies", None)))
    if on_claim is not None:
        sinks.append(ClaimCallback(on_claim))
    return sinks
