"""From segments to envelope events and 837P claims, one claim in memory at a time.

`EventReader` walks the segment stream once and yields what a writer or the rule engine needs:
envelope boundaries, hierarchical-level blocks (2000A/B/C with their name loops), assembled claims,
and segments of other transaction types to pass through untouched. It is a small driver: the
envelopes are tracked by `EnvelopeTracker` (edi_gate.x12.envelope), the 837P structure is the
data in edi_gate.x12.grammar, an open set's HL tree lives in `Open837Set` (open_set) and a claim
is assembled by edi_gate.x12.claims. Envelope errors above the transaction set (ISA/IEA, GS/GE)
raise `X12Error`; problems inside a transaction set are collected as `SyntaxIssue`s on its
`TransactionEnd`, so the caller can reject just that set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from edi_gate.x12.bounds import Limits
from edi_gate.x12.claims import finish_claim, open_claim, read_claim_segment
from edi_gate.x12.elements import DATE_LENGTH, MAX_NUMBER_LENGTH, is_r_number
from edi_gate.x12.elements import DATES as _DATES  # noqa: F401  (tests read the memos here)
from edi_gate.x12.elements import DECIMALS as _DECIMALS  # noqa: F401
from edi_gate.x12.envelope import EnvelopeTracker, set_trailer_issues
from edi_gate.x12.errors import (
    INTERCHANGE_INVALID_CONTENT,
    SEGMENT_UNEXPECTED,
    X12Error,
    shown_control,
    shown_id,
    shown_name,
)
from edi_gate.x12.events import (
    EnvelopeIssue,
    Event,
    GroupEnd,
    GroupStart,
    HierarchyLevel,
    InterchangeAcknowledgment,
    InterchangeEnd,
    InterchangeStart,
    Passthrough,
    TransactionEnd,
    TransactionStart,
)
from edi_gate.x12.grammar import (
    CLAIM_READ_TAGS,
    GUIDE_837P,
    HL_BILLING,
    HL_PATIENT,
    HL_SUBSCRIBER,
    KNOWN_837P_TAGS,
    STRUCTURAL_TAGS,
    is_837p,
)
from edi_gate.x12.hl import HlIds
from edi_gate.x12.model import Claim
from edi_gate.x12.open_set import Open837Set
from edi_gate.x12.tokenizer import Segment

__all__ = [  # what the writers, the pipeline and the tests import from here
    "DATE_LENGTH",
    "HL_BILLING",
    "HL_PATIENT",
    "HL_SUBSCRIBER",
    "MAX_NUMBER_LENGTH",
    "EnvelopeIssue",
    "Event",
    "EventReader",
    "GroupEnd",
    "GroupStart",
    "HierarchyLevel",
    "HlIds",
    "InterchangeAcknowledgment",
    "InterchangeEnd",
    "InterchangeStart",
    "Limits",
    "Passthrough",
    "TransactionEnd",
    "TransactionStart",
    "is_837p",
    "is_r_number",
]

# Envelope segments: inside a transaction set, each means its SE is missing.
ENVELOPE_TAGS: Final = frozenset((b"ST", b"GE", b"IEA", b"GS", b"ISA"))


class EventReader:
    """Turn a segment stream into envelope events and claims, checking envelopes on the way."""

    def __init__(
        self, segments: Iterable[Segment], source: str, *, limits: Limits | None = None
    ) -> None:
        self.segments = segments
        self.source = shown_name(source)  # into decisions and errors: escaped once, here
        self.limits = limits = limits or Limits()
        self._max_held = limits.max_loop_segments
        self._max_bytes = limits.max_loop_bytes
        self.claims_read = 0
        self._envelopes = EnvelopeTracker(self.source)
        self._out: list[Event] = []  # events a segment produced, yielded in order
        self._st: Segment | None = None  # the open transaction set's ST
        self._position = 0  # of the segment being read in the open set (ST is 1)
        self._set: Open837Set | None = None  # the open set when it is an 837P
        self._start: TransactionStart | None = None  # held until the 837P set's header ends
        self._header: list[Segment] | None = None  # the 837P set's header, while it lasts
        self._level: HierarchyLevel | None = None  # the open HL level, until a CLM or an HL
        self._claim: Claim | None = None  # the open claim
        self._held = 0  # bytes of the claim, HL level or set header being held

    def __iter__(self) -> Iterator[Event]:
        out = self._out
        structural, read_in_claim, known = STRUCTURAL_TAGS, CLAIM_READ_TAGS, KNOWN_837P_TAGS
        max_held, max_bytes = self._max_held, self._max_bytes
        for segment in self.segments:
            tag = segment.tag
            claim = self._claim
            if claim is not None and tag not in structural:
                # The hot path: a segment inside a claim.
                position = self._position + 1
                self._position = position
                segments = claim.segments
                segments.append(segment)
                held = self._held + len(segment.raw)
                self._held = held
                if len(segments) > max_held or held > max_bytes:
                    raise self._too_long(f"claim {claim.ordinal} of the file", segment, held)
                if tag in read_in_claim:
                    open_set = self._set
                    assert open_set is not None  # a claim is only opened inside an 837P set
                    open_set.position = position
                    read_claim_segment(open_set, claim, segment)
                elif tag not in known:
                    open_set = self._set
                    assert open_set is not None
                    open_set.position = position
                    open_set.check_tag(segment)
                continue
            failure: X12Error | None = None
            try:
                self._read(segment)
            except X12Error as error:
                failure = error  # raised after the events before it, as they happened
            if out:
                for event in out:  # noqa: UP028 (mypyc compiles a for loop; yield from is generic)
                    yield event
                out.clear()
            if failure is not None:
                raise failure

    def _read(self, segment: Segment) -> None:
        """Any segment but one inside a claim; the events it ends go to ``_out``."""
        tag = segment.tag
        if self._st is not None and tag != b"SE":
            self._read_in_set(segment)
        elif tag == b"SE":
            self._close_set(segment)
        elif tag == b"ST":
            self._open_set(segment)
        else:
            self._out.append(self._envelopes.read(segment))

    def _open_set(self, st: Segment) -> None:
        envelope = self._envelopes.open_set(st)
        self._st = st
        self._position = 1
        st03 = st.element(3)
        claims = is_837p(envelope.version, st.element(1), st03)
        start = TransactionStart(st, claims, envelope)
        if not claims:
            self._header = None
            self._out.append(start)
            return
        open_set = Open837Set(envelope, self.limits)
        self._set, self._start, self._header = open_set, start, []
        self._held = len(st.raw)
        if st03 and not st03.startswith(GUIDE_837P):
            open_set.issue(st, f"ST03 is not {GUIDE_837P}")

    def _read_in_set(self, segment: Segment) -> None:
        self._position += 1
        tag = segment.tag
        if tag in ENVELOPE_TAGS:
            assert self._st is not None
            raise self._envelopes.error(
                f"{shown_id(tag)} inside transaction set {shown_control(self._st.element(2))}: "
                "SE missing",
                segment,
                INTERCHANGE_INVALID_CONTENT,
                self._position,
            )
        open_set = self._set
        if open_set is None:
            self._out.append(Passthrough(segment))
            return
        open_set.position = self._position
        if self._header is not None:
            # A CLM or an envelope segment ends the header too: a CLM before the first HL
            # becomes a claim (rejected with its set), a stray ST/GE/IEA... an X12Error,
            # instead of slipping through undecided as header segments.
            if tag not in STRUCTURAL_TAGS:
                self._hold_header(open_set, self._header, segment)
                return
            self._end_header()
        if tag == b"HL":
            self._open_level(open_set, segment)
        elif tag == b"CLM":
            self._open_claim(open_set, segment)
        else:
            self._hold_level(open_set, segment)

    def _hold_header(self, open_set: Open837Set, header: list[Segment], segment: Segment) -> None:
        open_set.check_tag(segment)
        header.append(segment)
        self._held += len(segment.raw)
        if len(header) > self._max_held or self._held > self._max_bytes:
            raise self._too_long("the transaction set header", segment, self._held)
        open_set.read_header(segment)

    def _end_header(self) -> None:
        start = self._start
        assert start is not None and self._header is not None
        start.header = self._header
        self._header = None
        self._out.append(start)

    def _open_level(self, open_set: Open837Set, segment: Segment) -> None:
        if self._claim is not None:
            self._out.append(finish_claim(self._claim))
            self._claim = None
        if self._level is not None:
            self._out.append(self._level)
        self._level = open_set.open_level(segment)
        self._held = len(segment.raw)
        if open_set.claimless_bytes >= 0:
            self._count_claimless(open_set, self._held, segment)

    def _open_claim(self, open_set: Open837Set, segment: Segment) -> None:
        if self._level is not None:
            self._out.append(self._level)
            self._level = None
        if self._claim is not None:
            self._out.append(finish_claim(self._claim))
        if not open_set.hl_billing or not open_set.hl_subscriber:
            message = "CLM outside a billing provider / subscriber HL"
            open_set.issue(segment, message, SEGMENT_UNEXPECTED)
        self.claims_read += 1
        self._claim = open_claim(open_set, segment, self.claims_read)
        open_set.claimless_bytes = -1  # the set has a claim: nothing more to count
        self._held = len(segment.raw)

    def _hold_level(self, open_set: Open837Set, segment: Segment) -> None:
        """A segment of an HL level (a claim's are read on the hot path in __iter__)."""
        open_set.check_tag(segment)
        level = self._level
        if level is None:
            message = f"{shown_id(segment.tag)} before the first HL"
            open_set.issue(segment, message, SEGMENT_UNEXPECTED)
            return
        level.segments.append(segment)
        self._held += len(segment.raw)
        if len(level.segments) > self._max_held or self._held > self._max_bytes:
            what = f"the HL level at segment {level.segments[0].ordinal}"
            raise self._too_long(what, segment, self._held)
        if open_set.claimless_bytes >= 0:
            self._count_claimless(open_set, len(segment.raw), segment)
        open_set.read_level_segment(segment)

    def _close_set(self, se: Segment) -> None:
        st = self._st
        if st is None:
            raise self._envelopes.error("SE without ST", se, INTERCHANGE_INVALID_CONTENT)
        self._position += 1
        open_set = self._set
        issues = []
        if open_set is not None:
            open_set.position = self._position
            if self._header is not None:
                self._end_header()
            if self._claim is not None:
                self._out.append(finish_claim(self._claim))
                self._claim = None
            if self._level is not None:
                self._out.append(self._level)
                self._level = None
            issues = open_set.issues
        set_trailer_issues(st, se, self._position, issues)
        self._out.append(TransactionEnd(se, self._position, issues))
        self._envelopes.close_set()
        self._st = None
        self._set = None

    def _too_long(self, what: str, segment: Segment, held: int) -> X12Error:
        if held > self._max_bytes:
            return self._envelopes.error(
                f"{what} holds more than {self._max_bytes} bytes (limit max_loop_bytes)", segment
            )
        return self._envelopes.error(
            f"{what} has more than {self._max_held} segments (limit max_loop_segments)", segment
        )

    def _count_claimless(self, open_set: Open837Set, size: int, segment: Segment) -> None:
        """HL levels before a set's first claim are held (spooled) until its SE: a budget."""
        open_set.claimless_bytes += size
        limit = self.limits.max_claimless_bytes
        if open_set.claimless_bytes > limit:
            raise self._envelopes.error(
                f"the transaction set holds more than {limit} bytes of "
                "HL levels before its first claim (limit max_claimless_bytes)",
                segment,
            )
