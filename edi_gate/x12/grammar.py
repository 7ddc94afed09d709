"""The part of 005010X222A1 (the 837P TR3) that edi-gate reads, written as data.

Why data: the reader used to be a hand-written state machine whose loops were string literals
spread over several modules; here each loop id is named once, the hierarchy is a table of HL
levels, and a claim's sub-loops are a table of (loop, segment, qualifier) -> next loop and reader
action, the way stupidedi writes its grammars. ``EventReader`` (edi_gate.x12.loops) is a small
driver over these tables; ``tests/core/test_grammar.py`` checks they are well defined and that the
known segment ids are pyx12's map's.

Only what edi-gate reads is here: the HL tree (2000A > 2000B > 2000C), the name loops whose NM1s
name a claim's parties, and the claim loops (2300 and below) that decide which provider rendered a
line. Everything else in a claim is carried through unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from edi_gate.vocabulary import ENTITY_BILLING_PROVIDER, ENTITY_RENDERING_PROVIDER

# -- Loop ids (X222A1) ---------------------------------------------------------------------------
LOOP_1000A: Final = "1000A"  # submitter name
LOOP_1000B: Final = "1000B"  # receiver name
LOOP_2000A: Final = "2000A"  # billing provider hierarchical level
LOOP_2010AA: Final = "2010AA"  # billing provider name
LOOP_2000B: Final = "2000B"  # subscriber hierarchical level
LOOP_2010BA: Final = "2010BA"  # subscriber name
LOOP_2010BB: Final = "2010BB"  # payer name
LOOP_2000C: Final = "2000C"  # patient hierarchical level
LOOP_2010CA: Final = "2010CA"  # patient name
LOOP_2300: Final = "2300"  # claim information
LOOP_2310: Final = "2310"  # a claim-level provider other than the rendering one (2310A, C-F)
LOOP_2310B: Final = "2310B"  # rendering provider name (claim level)
LOOP_2320: Final = "2320"  # other subscriber information
LOOP_2330: Final = "2330"  # other payer / other subscriber names (2330A-G)
LOOP_2400: Final = "2400"  # service line
LOOP_2410: Final = "2410"  # drug identification
LOOP_2420: Final = "2420"  # a line-level provider other than the rendering one (2420B-H)
LOOP_2420A: Final = "2420A"  # rendering provider name (line level)
LOOP_2430: Final = "2430"  # line adjudication information
# An SBR after a service line: out of place in X222A1 (2320 precedes 2400). The reader has always
# kept reading the line's loops after it (a later NM1*82 is still the line's rendering provider),
# so it is a state of its own, a 2320 inside a line.
LOOP_2320_IN_LINE: Final = "2320 (after 2400)"

# -- The hierarchy: HL03 level codes ------------------------------------------------------------
HL_BILLING: Final = "20"
HL_SUBSCRIBER: Final = "22"
HL_PATIENT: Final = "23"


@dataclass(frozen=True)
class HlLevel:
    """One level of the 837P hierarchy: its HL03 code, its loop, the level its parent must be
    ("" for the root, which has no parent) and a name for messages."""

    code: str
    loop: str
    parent: str
    name: str


HL_LEVELS: Final = (
    HlLevel(HL_BILLING, LOOP_2000A, "", "billing provider"),
    HlLevel(HL_SUBSCRIBER, LOOP_2000B, HL_BILLING, "subscriber"),
    HlLevel(HL_PATIENT, LOOP_2000C, HL_SUBSCRIBER, "patient"),
)


def hl_level(code: str) -> HlLevel | None:
    """The level of an HL03, None when the grammar has none. The tables here are scanned, not
    hashed: they are short, and every HL and NM1 asks with a value fresh from the input, whose
    hash would cost more than the comparisons."""
    for level in HL_LEVELS:
        if level.code == code:
            return level
    return None


def name_loop(names: tuple[tuple[bytes, str], ...], entity: bytes) -> str | None:
    """The name loop an NM101 opens, None for an entity the table does not read."""
    for code, loop in names:
        if code == entity:
            return loop
    return None


# -- Name loops: NM101 entity code -> loop, in the set header and in the HL levels ----------------
HEADER_NAMES: Final = ((b"41", LOOP_1000A), (b"40", LOOP_1000B))
LEVEL_NAMES: Final = (
    (ENTITY_BILLING_PROVIDER.encode(), LOOP_2010AA),
    (b"IL", LOOP_2010BA),
    (b"PR", LOOP_2010BB),
    (b"QC", LOOP_2010CA),
)

# -- A claim's sub-loops -------------------------------------------------------------------------
# Reader actions, what a segment means to the claim being assembled (edi_gate.x12.claims).
NO_ACTION: Final = 0
OPEN_LINE: Final = 1  # LX: a new service line
CLAIM_RENDERING: Final = 2  # NM1*82 in 2300: the claim's rendering provider
CLAIM_RENDERING_TAXONOMY: Final = 3  # its PRV
CLAIM_PRIOR_AUTHORIZATION: Final = 4  # REF*G1
CLAIM_TRACE: Final = 5  # REF*D9, the clearinghouse trace number
LINE_SERVICE: Final = 6  # SV1
LINE_SERVICE_DATE: Final = 7  # DTP*472
LINE_CONTROL: Final = 8  # REF*6R
LINE_PRIOR_AUTHORIZATION: Final = 9  # REF*G1 of the line
LINE_RENDERING: Final = 10  # NM1*82 in 2400: the line's rendering provider
LINE_RENDERING_TAXONOMY: Final = 11  # its PRV

CLAIM_LOOPS: Final = (LOOP_2300, LOOP_2310, LOOP_2310B, LOOP_2320, LOOP_2330)
LINE_LOOPS: Final = (LOOP_2400, LOOP_2410, LOOP_2420, LOOP_2420A, LOOP_2430, LOOP_2320_IN_LINE)
ANY: Final = b""  # a row for any first element (qualifier) not given its own row
STAY: Final = ""  # the segment does not change the loop
RENDERING: Final = ENTITY_RENDERING_PROVIDER.encode()

# (loops the row applies in, segment id, qualifier (its first element), next loop, action).
# A segment with no row in the current loop changes nothing.
CLAIM_GRAMMAR: Final[tuple[tuple[tuple[str, ...], bytes, bytes, str, int], ...]] = (
    (CLAIM_LOOPS + LINE_LOOPS, b"LX", ANY, LOOP_2400, OPEN_LINE),
    ((LOOP_2300, LOOP_2310), b"NM1", RENDERING, LOOP_2310B, CLAIM_RENDERING),
    ((LOOP_2300, LOOP_2310, LOOP_2310B), b"NM1", ANY, LOOP_2310, NO_ACTION),
    ((LOOP_2320, LOOP_2330), b"NM1", ANY, LOOP_2330, NO_ACTION),
    (LINE_LOOPS, b"NM1", RENDERING, LOOP_2420A, LINE_RENDERING),
    (LINE_LOOPS, b"NM1", ANY, LOOP_2420, NO_ACTION),
    ((LOOP_2310B,), b"PRV", ANY, STAY, CLAIM_RENDERING_TAXONOMY),
    ((LOOP_2420A,), b"PRV", ANY, STAY, LINE_RENDERING_TAXONOMY),
    (CLAIM_LOOPS, b"SBR", ANY, LOOP_2320, NO_ACTION),
    (LINE_LOOPS, b"SBR", ANY, LOOP_2320_IN_LINE, NO_ACTION),
    ((LOOP_2300,), b"REF", b"G1", STAY, CLAIM_PRIOR_AUTHORIZATION),
    ((LOOP_2300,), b"REF", b"D9", STAY, CLAIM_TRACE),
    ((LOOP_2400,), b"SV1", ANY, STAY, LINE_SERVICE),
    ((LOOP_2400,), b"DTP", b"472", STAY, LINE_SERVICE_DATE),
    ((LOOP_2400,), b"REF", b"6R", STAY, LINE_CONTROL),
    ((LOOP_2400,), b"REF", b"G1", STAY, LINE_PRIOR_AUTHORIZATION),
    (LINE_LOOPS, b"LIN", ANY, LOOP_2410, NO_ACTION),
    (LINE_LOOPS, b"CTP", ANY, LOOP_2410, NO_ACTION),
    (LINE_LOOPS, b"SVD", ANY, LOOP_2430, NO_ACTION),
)

# Segment ids the 005010X222A1 guide allows inside an 837P transaction set (pyx12's map;
# tests/core/test_grammar.py derives them from it).
KNOWN_837P_TAGS: Final = frozenset(
    b"AMT BHT CAS CLM CN1 CR1 CR2 CR3 CRC CTP CUR DMG DTP FRM HCP HI HL K3 LIN LQ LX MEA MOA "
    b"N3 N4 NM1 NTE OI PAT PER PRV PS1 PWK QTY REF SBR SV1 SV5 SVD".split()
)
# Segments that end a claim or its transaction set, and the claim segments the grammar reads.
STRUCTURAL_TAGS: Final = frozenset((b"HL", b"CLM", b"SE", b"ST", b"GS", b"GE", b"ISA", b"IEA"))
CLAIM_READ_TAGS: Final = frozenset(row[1] for row in CLAIM_GRAMMAR)


class Transition:
    """Where a segment takes the claim: the next loop and what the reader does with it."""

    __slots__ = ("loop", "action")

    def __init__(self, loop: ClaimLoop, action: int) -> None:
        self.loop = loop
        self.action = action


class SegmentRule:
    """A segment's transitions in one loop: by its qualifier, else ``otherwise`` (None: the
    segment changes nothing). The qualifiers are a short list compared in turn: one or two per
    segment, where hashing each segment's first element would cost more than comparing."""

    __slots__ = ("qualifiers", "qualified", "otherwise")

    def __init__(self) -> None:
        self.qualifiers: list[bytes] = []
        self.qualified: list[Transition] = []  # the transition for each of ``qualifiers``
        self.otherwise: Transition | None = None

    def transition(self, qualifier: bytes) -> Transition | None:
        qualifiers = self.qualifiers
        for index in range(len(qualifiers)):
            if qualifiers[index] == qualifier:
                return self.qualified[index]
        return self.otherwise


class ClaimLoop:
    """The loop of the claim being read (its current sub-loop), with its rules by segment id."""

    __slots__ = ("id", "in_line", "rules")

    def __init__(self, id: str, in_line: bool) -> None:
        self.id = id
        self.in_line = in_line  # below a service line (2400): a line is open
        self.rules: dict[bytes, SegmentRule] = {}

    def __repr__(self) -> str:
        return f"ClaimLoop({self.id!r})"


def _claim_loops() -> dict[str, ClaimLoop]:
    """CLAIM_GRAMMAR compiled to one ClaimLoop per loop (a dict lookup per segment read)."""
    loops = {loop: ClaimLoop(loop, False) for loop in CLAIM_LOOPS}
    loops.update({loop: ClaimLoop(loop, True) for loop in LINE_LOOPS})
    for sources, tag, qualifier, target, action in CLAIM_GRAMMAR:
        for source in sources:
            loop = loops[source]
            rule = loop.rules.setdefault(tag, SegmentRule())
            step = Transition(loops[target] if target else loop, action)
            if qualifier:
                rule.qualifiers.append(qualifier)
                rule.qualified.append(step)
            else:
                rule.otherwise = step
    return loops


CLAIM_LOOP: Final = _claim_loops()
CLAIM_START: Final = CLAIM_LOOP[LOOP_2300]  # a CLM opens 2300


GUIDE_837P: Final = "005010X222"  # GS08 / ST03 of the 837P guide and its addenda (A1, A2 ...)


def is_837p(version: str, st_id: str, st03: str = "") -> bool:
    """True for 5010 professional claim transaction sets (X222, X222A1, X222A2 ...): ST01 837
    and either GS08 (``version``) or ST03 names 005010X222. A set under GS08 005010X221A1 (the
    835 guide) with ST03 005010X222A1 is an 837P sent under the wrong group version."""
    return st_id == "837" and (version.startswith(GUIDE_837P) or st03.startswith(GUIDE_837P))
