"""The 837P transaction set being read: its header, its HL tree and the parties in scope.

The hierarchy follows grammar.HL_LEVELS (2000A > 2000B > 2000C): each HL is checked against the
level its parent must be, and opening a level resets the parties below it. Problems are collected
as SyntaxIssues (the 999 reports them and the set's claims are rejected), never raised.
"""

from __future__ import annotations

from typing import Final

from edi_gate.x12.bounds import Limits
from edi_gate.x12.elements import party_of
from edi_gate.x12.errors import (
    ELEMENT_INVALID_CODE,
    SEGMENT_HAS_ELEMENT_ERRORS,
    SEGMENT_LOOP_OVER_MAXIMUM,
    SEGMENT_UNRECOGNIZED,
    SET_SEGMENTS_IN_ERROR,
    SyntaxIssue,
    shown_control,
    shown_id,
)
from edi_gate.x12.events import HierarchyLevel
from edi_gate.x12.grammar import (
    CLAIM_START,
    HEADER_NAMES,
    HL_BILLING,
    HL_LEVELS,
    HL_SUBSCRIBER,
    KNOWN_837P_TAGS,
    LEVEL_NAMES,
    LOOP_1000A,
    LOOP_2000A,
    LOOP_2010AA,
    LOOP_2010BA,
    LOOP_2010BB,
    ClaimLoop,
    hl_level,
    name_loop,
)
from edi_gate.x12.hl import MAX_HL_ID_LENGTH, MAX_NAMED_HL_IDS, NOT_A_NUMBER, HlIds
from edi_gate.x12.model import Envelope, Party, Provider, ServiceLine
from edi_gate.x12.tokenizer import Segment

_CODES: Final = [level.code for level in HL_LEVELS]
UNKNOWN_LEVEL: Final = f"HL03 level code is not {', '.join(_CODES[:-1])} or {_CODES[-1]}"


class Open837Set:
    """Mutable state while reading one 837P transaction set: its issues, its HL tree, the
    parties of the HL levels in scope, and where in a claim the reader is (``loop``, ``line``)."""

    __slots__ = (
        "envelope",
        "limits",
        "issues",
        "position",
        "billing",
        "subscriber",
        "patient",
        "payer",
        "hl_ids",
        "hl_overflow",
        "claimless_bytes",
        "hl_billing",
        "hl_subscriber",
        "hl_patient",
        "level",
        "loop",
        "line",
    )

    def __init__(self, envelope: Envelope, limits: Limits) -> None:
        self.envelope = envelope
        self.limits = limits
        self.issues: list[SyntaxIssue] = []
        self.position = 1  # of the segment being read in the set; ST is segment 1
        self.billing = Provider(LOOP_2000A)
        self.subscriber = Party()
        self.patient = Party()
        self.payer = Party()
        self.hl_ids = HlIds(limits.max_hl_per_set)
        self.hl_overflow = False  # more HLs than the limits: reported once
        self.claimless_bytes = 0  # bytes of HL levels before the set's first claim; -1 after
        self.hl_billing = self.hl_subscriber = self.hl_patient = ""
        self.level = ""  # HL03 of the open level
        self.loop: ClaimLoop = CLAIM_START  # the open claim's current loop
        self.line: ServiceLine | None = None  # the open claim's current service line

    def issue(
        self,
        segment: Segment,
        message: str,
        code: str | None = SEGMENT_HAS_ELEMENT_ERRORS,
        *,
        element: int | None = None,
        element_code: str | None = None,
        set_code: str = SET_SEGMENTS_IN_ERROR,
    ) -> None:
        """A syntax error at the current position; codes as in SyntaxIssue."""
        if len(self.issues) >= self.limits.max_issues_per_set:
            return  # the set is rejected already; a flood of errors must not fill memory
        self.issues.append(
            SyntaxIssue(
                message,
                segment_id=_tag_text(segment.tag),
                position=self.position,
                ordinal=segment.ordinal,
                segment_code=code,
                element_position=element,
                element_code=element_code,
                set_code=set_code,
            )
        )

    def check_tag(self, segment: Segment) -> None:
        if segment.tag not in KNOWN_837P_TAGS:
            # Quote the id only when it is one: a segment without the declared separator is all
            # "id", and what follows an id may be patient data; messages reach logs.
            tag = shown_id(segment.tag)
            shown = repr(tag) if tag == _tag_text(segment.tag) else "(not 2-3 letters or digits)"
            self.issue(segment, f"unrecognized segment id {shown}", SEGMENT_UNRECOGNIZED)

    def read_header(self, segment: Segment) -> None:
        """BHT and the submitter and receiver names (1000A, 1000B)."""
        tag = segment.tag
        env = self.envelope
        if tag == b"BHT":
            env.bht_reference = segment.element(3)
            env.bht_date = segment.element(4)
        elif tag == b"NM1":
            loop = name_loop(HEADER_NAMES, _first(segment))
            if loop == LOOP_1000A:
                env.submitter = party_of(segment)
            elif loop is not None:
                env.receiver = party_of(segment)

    def open_level(self, segment: Segment) -> HierarchyLevel:
        """An HL: its ids checked and remembered, its level entered."""
        hl_id, parent, level = segment.element(1), segment.element(2), segment.element(3)
        hl_ids = self.hl_ids
        number = NOT_A_NUMBER
        if len(hl_id) > MAX_HL_ID_LENGTH:
            self.issue(segment, "HL01 is longer than 12 characters", element=1)
            hl_id = ""  # never remembered: an element may be a megabyte long
        else:
            number = hl_ids.number(hl_id)  # parsed once, for the lookup and the add
            if not hl_id or hl_ids.level_of(hl_id, number) is not None:
                shown = shown_control(hl_id, MAX_HL_ID_LENGTH)
                self.issue(segment, f"HL01 {shown} is missing or repeated", element=1)
        parent_level = hl_ids.parent_level(parent) if parent else None
        if parent and parent_level is None:
            shown = shown_control(parent, MAX_HL_ID_LENGTH)
            self.issue(segment, f"HL02 parent {shown} is not an earlier HL", element=2)
        if hl_id and not hl_ids.add_at(hl_id, number, level) and not self.hl_overflow:
            self.hl_overflow = True  # reported once: the set is rejected
            self.issue(
                segment,
                f"more than {self.limits.max_hl_per_set} HL segments in the set (or more than "
                f"{MAX_NAMED_HL_IDS} HL01s that are not numbers)",
                SEGMENT_LOOP_OVER_MAXIMUM,
            )
        self.level = level
        self._enter_level(segment, hl_id, parent, parent_level)
        return HierarchyLevel(hl_id, parent, level, [segment])

    def _enter_level(
        self, segment: Segment, hl_id: str, parent: str, parent_level: str | None
    ) -> None:
        """Check the HL's parent against HL_LEVELS and reset the parties from its level down."""
        spec = hl_level(self.level)
        if spec is None:
            self.issue(segment, UNKNOWN_LEVEL, element=3, element_code=ELEMENT_INVALID_CODE)
            return
        if not spec.parent:
            if parent:
                self.issue(segment, f"{spec.name} HL has a parent", element=2)
        elif parent_level != spec.parent:
            expected = hl_level(spec.parent)
            name = expected.name if expected is not None else spec.parent
            self.issue(segment, f"{spec.name} HL's parent is not a {name} HL", element=2)
        if spec.code == HL_BILLING:
            self.billing = Provider(LOOP_2000A)
            self.hl_billing, self.hl_subscriber, self.hl_patient = hl_id, "", ""
        elif spec.code == HL_SUBSCRIBER:
            self.subscriber = self.patient = Party()
            self.payer = Party()
            self.hl_subscriber, self.hl_patient = hl_id, ""
        else:
            self.patient = Party()
            self.hl_patient = hl_id

    def read_level_segment(self, segment: Segment) -> None:
        """The names of an HL level (2010AA/BA/BB/CA) and the billing provider's taxonomy."""
        tag = segment.tag
        if tag == b"NM1":
            loop = name_loop(LEVEL_NAMES, _first(segment))
            if loop is None:
                return
            party = party_of(segment)
            if loop == LOOP_2010AA:
                self.billing.party = party
                self.billing.npi = party.id if party.id_qualifier == "XX" else ""
            elif loop == LOOP_2010BA:
                self.subscriber = party
                if not self.hl_patient:
                    self.patient = party
            elif loop == LOOP_2010BB:
                self.payer = party
            else:
                self.patient = party
        elif tag == b"PRV" and self.level == HL_BILLING:
            self.billing.taxonomy = segment.element(3)


def _first(segment: Segment) -> bytes:
    """The first element, a qualifier or entity code; b"" for a bare 'NM1~'."""
    elements = segment.elements
    return elements[1] if len(elements) > 1 else b""


def _tag_text(tag: bytes) -> str:
    return tag.decode("latin-1", "replace")
