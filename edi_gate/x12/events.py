"""What the 837P reader yields: envelope boundaries, HL levels, claims and passed-through segments.

Plain data, in the order the input holds them; the writers and the rule engine consume them
(edi_gate.x12.loops makes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edi_gate.x12.errors import SyntaxIssue
from edi_gate.x12.model import Claim, Envelope
from edi_gate.x12.tokenizer import Delimiters, Segment


@dataclass(slots=True)
class InterchangeStart:
    isa: Segment

    @property
    def delimiters(self) -> Delimiters:
        return self.isa.delimiters


@dataclass(slots=True)
class EnvelopeIssue:
    """A trailer that disagrees with its header: reported (999 AK9, TA1), the claims unharmed.

    Every transaction set inside was checked against its own SE, so a wrong GE or IEA count or
    control number loses no claim; ``code`` is the AK9 syntax error code (element 716) for a
    group, or the TA1 note code (element I18) for an interchange.
    """

    code: str
    message: str
    ordinal: int


@dataclass(slots=True)
class InterchangeEnd:
    iea: Segment
    group_count: int
    issues: list[EnvelopeIssue] = field(default_factory=list)


@dataclass(slots=True)
class GroupStart:
    gs: Segment
    envelope: Envelope


@dataclass(slots=True)
class GroupEnd:
    ge: Segment
    transaction_count: int
    issues: list[EnvelopeIssue] = field(default_factory=list)


@dataclass(slots=True)
class TransactionStart:
    """ST and, for an 837P, the header (BHT, 1000A, 1000B) and the shared envelope."""

    st: Segment
    claims: bool  # True for an 837P whose claims are assembled; False: pass through
    envelope: Envelope
    header: list[Segment] = field(default_factory=list)


@dataclass(init=False)
class HierarchyLevel:
    """An HL and the segments of its level that precede its first claim or next HL (made for
    most claims: its __init__ is written out, see edi_gate.x12.model)."""

    hl_id: str
    parent_id: str
    level: str
    segments: list[Segment]

    def __init__(self, hl_id: str, parent_id: str, level: str, segments: list[Segment]) -> None:
        self.hl_id = hl_id
        self.parent_id = parent_id
        self.level = level
        self.segments = segments


@dataclass(slots=True)
class Passthrough:
    segment: Segment


@dataclass(slots=True)
class InterchangeAcknowledgment:
    """A TA1 between ISA and the first GS: an acknowledgment travelling in the stream, passed on
    (never answered: acknowledging acknowledgments makes gateways loop)."""

    segment: Segment


@dataclass(slots=True)
class TransactionEnd:
    se: Segment
    segment_count: int  # segments counted from ST to SE inclusive
    issues: list[SyntaxIssue]


Event = (
    InterchangeStart
    | InterchangeEnd
    | GroupStart
    | GroupEnd
    | TransactionStart
    | HierarchyLevel
    | Claim
    | Passthrough
    | InterchangeAcknowledgment
    | TransactionEnd
)
