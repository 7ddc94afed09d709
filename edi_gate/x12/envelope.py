"""The interchange and group envelopes around transaction sets: opened, counted, checked, closed.

An envelope error (a segment where the envelope has no place for it) makes the input unreadable:
it raises X12Error with the TA1 note that answers it. A trailer that merely disagrees with its
header (a count, a control number) is an `EnvelopeIssue` on the closing event: every set inside
was checked against its own SE, so no claim is lost to it.
"""

from __future__ import annotations

from edi_gate.x12.errors import (
    GROUP_CONTROL_NUMBERS_DIFFER,
    GROUP_SET_COUNT_WRONG,
    INTERCHANGE_CONTROL_NUMBERS_DIFFER,
    INTERCHANGE_GROUP_COUNT_WRONG,
    INTERCHANGE_IMPROPER_END,
    INTERCHANGE_INVALID_CONTENT,
    SET_CONTROL_NUMBERS_DIFFER,
    SET_SEGMENT_COUNT_WRONG,
    SyntaxIssue,
    X12Error,
    shown_control,
    shown_count,
    shown_id,
)
from edi_gate.x12.events import (
    EnvelopeIssue,
    Event,
    GroupEnd,
    GroupStart,
    InterchangeAcknowledgment,
    InterchangeEnd,
    InterchangeStart,
)
from edi_gate.x12.model import Envelope
from edi_gate.x12.tokenizer import Segment


class EnvelopeTracker:
    """ISA/IEA and GS/GE: which interchange and group are open, and how many groups and sets
    each has held so far (for the IEA01 and GE01 checks)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.interchange: InterchangeStart | None = None
        self.group: Segment | None = None
        self.envelope: Envelope | None = None  # of the open group, copied into each set
        self.groups = 0  # closed in the open interchange
        self.transactions = 0  # closed in the open group

    @property
    def isa(self) -> Segment | None:
        """The open interchange's ISA, so a TA1 can answer it."""
        return self.interchange.isa if self.interchange is not None else None

    def error(
        self, message: str, segment: Segment, note: str | None = None, in_set: int = 0
    ) -> X12Error:
        """``in_set``: the segment's position in its transaction set, 0 outside one."""
        return X12Error(
            message,
            source=self.source,
            ordinal=segment.ordinal,
            segment_id=segment.tag,
            transaction_ordinal=in_set or None,
            ta1_note=note,
            isa=self.isa,
        )

    def open_set(self, st: Segment) -> Envelope:
        """An ST: the envelope its claims share (the group's, with ST02)."""
        if self.group is None or self.envelope is None:
            raise self.error(
                "ST outside a functional group (GS missing)", st, INTERCHANGE_INVALID_CONTENT
            )
        envelope = _copy_envelope(self.envelope)
        envelope.transaction_control = st.element(2)
        return envelope

    def close_set(self) -> None:
        self.transactions += 1

    def read(self, segment: Segment) -> Event:
        """A segment outside any transaction set: ISA, GS, GE, IEA or a TA1, else an error."""
        tag = segment.tag
        if tag == b"ISA":
            return self._open_interchange(segment)
        interchange = self.interchange
        if interchange is None:
            raise self.error(
                f"{shown_id(tag)} outside an interchange", segment, INTERCHANGE_INVALID_CONTENT
            )
        if tag == b"GS":
            return self._open_group(interchange, segment)
        if tag == b"GE":
            return self._close_group(segment)
        if tag == b"IEA":
            return self._close_interchange(interchange, segment)
        if tag == b"TA1" and self.group is None:
            return InterchangeAcknowledgment(segment)
        raise self.error(
            f"unexpected segment ({shown_id(tag)}) outside a transaction set",
            segment,
            INTERCHANGE_INVALID_CONTENT,
        )

    def _open_interchange(self, isa: Segment) -> InterchangeStart:
        if self.interchange is not None:
            raise self.error(
                "ISA before the previous interchange's IEA", isa, INTERCHANGE_IMPROPER_END
            )
        self.interchange = InterchangeStart(isa)
        self.groups = 0
        return self.interchange

    def _open_group(self, interchange: InterchangeStart, gs: Segment) -> GroupStart:
        if self.group is not None:
            raise self.error("GS before the previous group's GE", gs, INTERCHANGE_INVALID_CONTENT)
        self.group = gs
        self.transactions = 0
        self.envelope = _envelope(self.source, interchange.isa, gs)
        return GroupStart(gs, self.envelope)

    def _close_group(self, ge: Segment) -> GroupEnd:
        group = self.group
        if group is None:
            raise self.error("GE without GS", ge, INTERCHANGE_INVALID_CONTENT)
        issues: list[EnvelopeIssue] = []
        if ge.element(2) != group.element(6):
            message = (
                f"GE02 {shown_control(ge.element(2))} does not match GS06 "
                f"{shown_control(group.element(6))}"
            )
            issues.append(EnvelopeIssue(GROUP_CONTROL_NUMBERS_DIFFER, message, ge.ordinal))
        if ge.element(1) != str(self.transactions):
            message = (
                f"GE01 says {shown_count(ge.element(1))} transaction sets, the "
                f"group has {self.transactions}"
            )
            issues.append(EnvelopeIssue(GROUP_SET_COUNT_WRONG, message, ge.ordinal))
        self.groups += 1
        self.group = None
        return GroupEnd(ge, self.transactions, issues)

    def _close_interchange(self, interchange: InterchangeStart, iea: Segment) -> InterchangeEnd:
        if self.group is not None:
            raise self.error("IEA before the group's GE", iea, INTERCHANGE_INVALID_CONTENT)
        isa13 = interchange.isa.element(13)
        issues: list[EnvelopeIssue] = []
        if iea.element(2) != isa13:
            message = (
                f"IEA02 {shown_control(iea.element(2))} does not match ISA13 {shown_control(isa13)}"
            )
            issues.append(EnvelopeIssue(INTERCHANGE_CONTROL_NUMBERS_DIFFER, message, iea.ordinal))
        if iea.element(1) != str(self.groups):
            message = (
                f"IEA01 says {shown_count(iea.element(1))} functional groups, the "
                f"interchange has {self.groups}"
            )
            issues.append(EnvelopeIssue(INTERCHANGE_GROUP_COUNT_WRONG, message, iea.ordinal))
        self.interchange = None
        return InterchangeEnd(iea, self.groups, issues)


def set_trailer_issues(st: Segment, se: Segment, count: int, issues: list[SyntaxIssue]) -> None:
    """SE against its ST: the control number and the segment count (``count``, ST to SE)."""
    if se.element(2) != st.element(2):
        issues.append(
            SyntaxIssue(
                f"SE02 {shown_control(se.element(2))} does not match ST02 "
                f"{shown_control(st.element(2))}",
                segment_id="SE",
                position=count,
                ordinal=se.ordinal,
                segment_code=None,
                set_code=SET_CONTROL_NUMBERS_DIFFER,
            )
        )
    if se.element(1) != str(count):
        issues.append(
            SyntaxIssue(
                f"SE01 says {shown_count(se.element(1))} segments, the transaction set has {count}",
                segment_id="SE",
                position=count,
                ordinal=se.ordinal,
                segment_code=None,
                set_code=SET_SEGMENT_COUNT_WRONG,
            )
        )


def _envelope(source: str, isa: Segment, gs: Segment) -> Envelope:
    return Envelope(
        source=source,
        delimiters=isa.delimiters,
        interchange_control=isa.element(13),
        sender_qualifier=isa.element(5),
        sender_id=isa.element(6).strip(),
        receiver_qualifier=isa.element(7),
        receiver_id=isa.element(8).strip(),
        usage=isa.element(15),
        group_control=gs.element(6),
        application_sender=gs.element(2),
        application_receiver=gs.element(3),
        version=gs.element(8),
    )


def _copy_envelope(envelope: Envelope) -> Envelope:
    return Envelope(
        source=envelope.source,
        delimiters=envelope.delimiters,
        interchange_control=envelope.interchange_control,
        sender_qualifier=envelope.sender_qualifier,
        sender_id=envelope.sender_id,
        receiver_qualifier=envelope.receiver_qualifier,
        receiver_id=envelope.receiver_id,
        usage=envelope.usage,
        group_control=envelope.group_control,
        application_sender=envelope.application_sender,
        application_receiver=envelope.application_receiver,
        version=envelope.version,
    )
