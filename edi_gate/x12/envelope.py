"""The interchange and group envelopes around transaction sets: opened, counted, checked, closed.

An envelope error (a segment where the envelope has no place for it) makes the input unreadable:
it raises X12Error with the TA1 note that answers it. A trailer that merely disagrees with its
header (a count, a control number) is an `EnvelopeIssue` on the closing event: every set inside
was checked against its own SE, so no claim is lost to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

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
        problems = trailer_problems(GE_TRAILER, ge, group.element(6), self.transactions)
        self.groups += 1
        self.group = None
        issues = [EnvelopeIssue(code, message, ge.ordinal) for code, message in problems]
        return GroupEnd(ge, self.transactions, issues)

    def _close_interchange(self, interchange: InterchangeStart, iea: Segment) -> InterchangeEnd:
        if self.group is not None:
            raise self.error("IEA before the group's GE", iea, INTERCHANGE_INVALID_CONTENT)
        problems = trailer_problems(IEA_TRAILER, iea, interchange.isa.element(13), self.groups)
        self.interchange = None
        issues = [EnvelopeIssue(code, message, iea.ordinal) for code, message in problems]
        return InterchangeEnd(iea, self.groups, issues)


@dataclass(frozen=True)
class Trailer:
    """What a trailer checks against its header: its control number (element 2) equal to the
    header's, its count (element 1) equal to what was counted; and the codes that report each."""

    tag: str
    header_control: str  # the header's element holding the control number
    counted: str  # what element 1 counts
    holder: str  # the envelope that holds them
    control_code: str
    count_code: str


SE_TRAILER: Final = Trailer(
    "SE",
    "ST02",
    "segments",
    "the transaction set",
    SET_CONTROL_NUMBERS_DIFFER,
    SET_SEGMENT_COUNT_WRONG,
)
GE_TRAILER: Final = Trailer(
    "GE",
    "GS06",
    "transaction sets",
    "the group",
    GROUP_CONTROL_NUMBERS_DIFFER,
    GROUP_SET_COUNT_WRONG,
)
IEA_TRAILER: Final = Trailer(
    "IEA",
    "ISA13",
    "functional groups",
    "the interchange",
    INTERCHANGE_CONTROL_NUMBERS_DIFFER,
    INTERCHANGE_GROUP_COUNT_WRONG,
)


def trailer_problems(
    spec: Trailer, trailer: Segment, control: str, count: int
) -> list[tuple[str, str]]:
    """(code, message) for each check the trailer fails, the control number's first."""
    problems: list[tuple[str, str]] = []
    if trailer.element(2) != control:
        message = (
            f"{spec.tag}02 {shown_control(trailer.element(2))} does not match "
            f"{spec.header_control} {shown_control(control)}"
        )
        problems.append((spec.control_code, message))
    if trailer.element(1) != str(count):
        message = (
            f"{spec.tag}01 says {shown_count(trailer.element(1))} {spec.counted}, "
            f"{spec.holder} has {count}"
        )
        problems.append((spec.count_code, message))
    return problems


def set_trailer_issues(st: Segment, se: Segment, count: int, issues: list[SyntaxIssue]) -> None:
    """SE against its ST; ``count``: the set's segments, ST to SE."""
    for code, message in trailer_problems(SE_TRAILER, se, st.element(2), count):
        issues.append(
            SyntaxIssue(
                message,
                segment_id="SE",
                position=count,
                ordinal=se.ordinal,
                segment_code=None,
                set_code=code,
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
