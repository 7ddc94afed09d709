"""From segments to envelope events and 837P claims, one claim in memory at a time.

`read_events` walks the segment stream once and yields what a writer or the rule engine needs:
envelope boundaries, hierarchical-level blocks (2000A/B/C with their name loops), assembled claims,
and segments of other transaction types to pass through untouched. Envelope errors above the
transaction set (ISA/IEA, GS/GE) raise `X12Error`; problems inside a transaction set are collected
as `SyntaxIssue`s on its `TransactionEnd`, so the caller can reject just that set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from edi_gate.memo import Memo
from edi_gate.x12.errors import (
    SyntaxIssue,
    X12Error,
    shown_control,
    shown_count,
    shown_id,
    shown_name,
)
from edi_gate.x12.model import Claim, Envelope, Party, Provider, ServiceLine
from edi_gate.x12.tokenizer import DEFAULT_MAX_SEGMENT_BYTES, Delimiters, Segment

# Segment ids the 005010X222A1 guide allows inside an 837P transaction set (from pyx12's map).
KNOWN_837P_TAGS: Final = frozenset(
    b"AMT BHT CAS CLM CN1 CR1 CR2 CR3 CRC CTP CUR DMG DTP FRM HCP HI HL K3 LIN LQ LX MEA MOA "
    b"N3 N4 NM1 NTE OI PAT PER PRV PS1 PWK QTY REF SBR SV1 SV5 SVD".split()
)
# Segments that end a claim or its transaction set, and the claim segments rules read.
STRUCTURAL_TAGS: Final = frozenset((b"HL", b"CLM", b"SE", b"ST", b"GS", b"GE", b"ISA", b"IEA"))
CLAIM_READ_TAGS: Final = frozenset(
    (b"LX", b"NM1", b"PRV", b"SBR", b"REF", b"SV1", b"DTP", b"LIN", b"SVD", b"CTP")
)
HL_BILLING: Final = "20"
HL_SUBSCRIBER: Final = "22"
HL_PATIENT: Final = "23"
MAX_LOOP_DEPTH: Final = 3  # 2000A > 2000B > 2000C is as deep as an 837P hierarchy goes


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on hostile input: beyond them the input is in error, never memory exhausted.

    What is held in memory is bounded in bytes as well as in segments. Sizes that bound memory
    raise X12Error (the run fails, exit 65); TR3 repeat counts reject the transaction set with a
    SyntaxIssue. The HL depth needs no limit: only 20 > 22 > 23 is accepted, any other parentage
    is a SyntaxIssue, so at most MAX_LOOP_DEPTH levels are ever held. Settable with ``--limits``
    or a partners file's ``[limits]`` table (edi_gate.limits).
    """

    max_segment_bytes: int = DEFAULT_MAX_SEGMENT_BYTES  # one segment (so one element); tokenizer
    max_loop_segments: int = 20_000  # segments held for one claim, HL level or set header
    max_loop_bytes: int = 2 << 20  # bytes held for one claim, HL level or set header
    max_claimless_bytes: int = 256 << 20  # HL levels before a set's first claim (spooled to disk)
    max_claim_lines: int = 50  # X222A1: loop 2400 repeats at most 50 times per claim
    max_hl_per_set: int = 4_000_000  # HLs per transaction set (one byte each for parent checks)
    max_issues_per_set: int = 1_000  # syntax issues kept per transaction set; later ones dropped


MAX_HL_ID_LENGTH: Final = 12  # HL01 is AN 1-12
MAX_NAMED_HL_IDS: Final = 10_000  # HL01s that are not small numbers, remembered by name
LEVEL_CODES: Final = ("", HL_BILLING, HL_SUBSCRIBER, HL_PATIENT, "?")


class HlIds:
    """The HL01s of one transaction set and their level codes, for the parent checks.

    HL01s are numbers counted from 1 in every file seen: those are remembered in a bytearray (one
    byte per id, the level's index in LEVEL_CODES), so a million-claim set costs about a megabyte
    where a dict cost a hundred. Other ids go to a dict capped at MAX_NAMED_HL_IDS.
    """

    __slots__ = ("numbered", "named", "count", "limit")

    def __init__(self, limit: int) -> None:
        self.numbered = bytearray()
        self.named: dict[str, int] = {}
        self.count = 0
        self.limit = limit

    def _index(self, hl_id: str) -> int:
        if hl_id.isdigit() and hl_id.isascii() and len(hl_id) <= 9 and hl_id[0] != "0":
            number = int(hl_id)
            if number <= self.limit:
                return number
        return -1

    def level(self, hl_id: str) -> str | None:
        """The level code of an earlier HL, None when there was none."""
        number = self._index(hl_id)
        if number >= 0:
            code = self.numbered[number] if number < len(self.numbered) else 0
        else:
            code = self.named.get(hl_id, 0)
        return LEVEL_CODES[code] if code else None

    def add(self, hl_id: str, level: str) -> bool:
        """Remember an HL; False when the set has more than the limits allow (then nothing is
        remembered: the set is rejected already)."""
        code = LEVEL_CODES.index(level) if level in LEVEL_CODES[1:4] else 4
        if self.count >= self.limit:
            return False
        number = self._index(hl_id)
        if number >= 0:
            if number >= len(self.numbered):
                self.numbered.extend(bytes(number + 1 - len(self.numbered)))
            self.numbered[number] = code
        elif len(self.named) < MAX_NAMED_HL_IDS:
            self.named[hl_id] = code
        else:
            return False
        self.count += 1
        return True


def is_837p(version: str, st_id: str, st03: str = "") -> bool:
    """True for 5010 professional claim transaction sets (X222, X222A1, X222A2 ...): ST01 837
    and either GS08 (``version``) or ST03 names 005010X222. A set under GS08 005010X221A1 (the
    835 guide) with ST03 005010X222A1 is an 837P sent under the wrong group version."""
    return st_id == "837" and (version.startswith("005010X222") or st03.startswith("005010X222"))


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


# An X12 R (decimal) value: an optional minus, digits with at most one point, no exponent, 18
# digits at most (plus sign and point). Anything else (NaN, Infinity, 1E+999999) reads as -1.
MAX_NUMBER_LENGTH: Final = 20


def _parse_decimal(raw: str) -> Decimal:
    """Called through _decimal, for texts of at most MAX_NUMBER_LENGTH characters."""
    if not raw:
        return Decimal(0)
    if not _is_r_number(raw):
        return Decimal(-1)
    try:
        return Decimal(raw)
    except InvalidOperation:
        return Decimal(-1)


# Charges and unit counts repeat from line to line (a fee schedule has few amounts); a Decimal
# is immutable, so lines may share one.
_DECIMALS: Final = Memo(_parse_decimal)


def _decimal(raw: str) -> Decimal:
    """An X12 R value; Decimal(-1), which no count or charge can be, when it is not a number."""
    if len(raw) > MAX_NUMBER_LENGTH:
        return Decimal(-1)  # and never a memo key: an element may be a megabyte long
    return _DECIMALS.get(raw)


def _is_r_number(raw: str) -> bool:
    r"""An optional minus, then ASCII digits with at most one point among or around them: the
    regex ``-?(?:\d+\.?\d*|\.\d+)`` without the regex engine (a call per amount and unit count;
    tests/core/test_loops.py checks the two agree)."""
    digits = raw[1:] if raw.startswith("-") else raw
    digits = digits.replace(".", "", 1)
    return digits.isascii() and digits.isdigit()


DATE_LENGTH: Final = 8  # CCYYMMDD


def _parse_date(raw: str) -> date | None:
    """Called through _date, for texts of DATE_LENGTH characters."""
    if not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


_DATES: Final = Memo(_parse_date)  # a file's lines share few dates of service


def _date(raw: str) -> date | None:
    """A CCYYMMDD date, None when it is not one."""
    if len(raw) != DATE_LENGTH:
        return None  # and never a memo key: an element may be a megabyte long
    return _DATES.get(raw)


def _provider(loop: str, segment: Segment) -> Provider:
    """A rendering provider from its NM1; the NPI only when NM108 says it is one (XX)."""
    party = _party(segment)
    return Provider(loop, party.id if party.id_qualifier == "XX" else "", "", party)


def _party(segment: Segment) -> Party:
    """NM101, NM103, NM104, NM108, NM109: only the elements a Party keeps are decoded."""
    elements = segment.elements
    count = len(elements)
    return Party(
        entity=elements[1].decode("latin-1") if count > 1 else "",
        name=elements[3].decode("latin-1") if count > 3 else "",
        first_name=elements[4].decode("latin-1") if count > 4 else "",
        id_qualifier=elements[8].decode("latin-1") if count > 8 else "",
        id=elements[9].decode("latin-1") if count > 9 else "",
    )


class _Transaction:
    """Mutable state while reading one 837P transaction set."""

    __slots__ = (
        "envelope",
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
    )

    def __init__(self, envelope: Envelope, hl_limit: int) -> None:
        self.envelope = envelope
        self.issues: list[SyntaxIssue] = []
        self.position = 1  # ST is segment 1 of the set
        self.billing = Provider("2000A")
        self.subscriber = Party()
        self.patient = Party()
        self.payer = Party()
        self.hl_ids = HlIds(hl_limit)
        self.hl_overflow = False  # more HLs than the limits: reported once
        self.claimless_bytes = 0  # bytes of HL levels before the set's first claim
        self.hl_billing = self.hl_subscriber = self.hl_patient = ""
        self.level = ""


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
        self._isa: Segment | None = None  # the open interchange, for a TA1
        self._st_position = 0  # position in the open transaction set, for error messages

    def _error(self, message: str, segment: Segment, note: str | None = None) -> X12Error:
        return X12Error(
            message,
            source=self.source,
            ordinal=segment.ordinal,
            segment_id=segment.tag,
            transaction_ordinal=self._st_position or None,
            ta1_note=note,
            isa=self._isa,
        )

    def __iter__(self) -> Iterator[Event]:
        interchange: InterchangeStart | None = None
        group: Segment | None = None
        groups = transactions = 0
        txn: _Transaction | None = None  # open 837P set
        st: Segment | None = None
        st_position = 0
        claim: Claim | None = None
        line_state: list = []  # [subloop, current line or None]
        pending_level: HierarchyLevel | None = None
        header: list[Segment] | None = None
        txn_start: TransactionStart | None = None
        envelope: Envelope | None = None

        known, structural, read_in_claim = KNOWN_837P_TAGS, STRUCTURAL_TAGS, CLAIM_READ_TAGS
        max_bytes = self._max_bytes
        held = 0  # bytes of the claim, HL level or set header being held
        for segment in self.segments:
            tag = segment.tag
            if claim is not None and tag not in structural:
                # The hot path: a segment inside a claim.
                st_position += 1
                claim.segments.append(segment)
                held += len(segment.raw)
                if len(claim.segments) > self._max_held or held > max_bytes:
                    raise self._too_long(f"claim {claim.ordinal} of the file", segment, held)
                assert txn is not None  # a claim is only opened inside an 837P set
                if tag in read_in_claim:
                    txn.position = st_position
                    self._read_claim_segment(txn, claim, segment, line_state)
                elif tag not in known:
                    txn.position = st_position
                    self._check_tag(txn, segment)
                continue
            if st is not None and tag != b"SE":
                st_position += 1
                if tag in (b"ST", b"GE", b"IEA", b"GS", b"ISA"):
                    self._st_position = st_position
                    raise self._error(
                        f"{shown_id(tag)} inside transaction set {shown_control(st.element(2))}: "
                        "SE missing",
                        segment,
                        "024",
                    )
                if txn is None:
                    yield Passthrough(segment)
                    continue
                txn.position = st_position
                if header is not None:
                    # A CLM or an envelope segment ends the header too: a CLM before the first HL
                    # becomes a claim (rejected with its set), a stray ST/GE/IEA... an X12Error,
                    # instead of slipping through undecided as header segments.
                    if tag not in STRUCTURAL_TAGS:
                        self._check_tag(txn, segment)
                        header.append(segment)
                        held += len(segment.raw)
                        if len(header) > self._max_held or held > max_bytes:
                            raise self._too_long("the transaction set header", segment, held)
                        self._read_header(txn, segment)
                        continue
                    assert txn_start is not None
                    txn_start.header = header
                    header = None
                    yield txn_start
                if tag == b"HL":
                    if claim is not None:
                        yield self._finish_claim(claim)
                        claim = None
                    if pending_level is not None:
                        yield pending_level
                    pending_level = self._open_level(txn, segment)
                    held = len(segment.raw)
                    if not self.claims_read_in_set(txn):
                        self._count_claimless(txn, held, segment)
                    continue
                if tag == b"CLM":
                    if pending_level is not None:
                        yield pending_level
                        pending_level = None
                    if claim is not None:
                        yield self._finish_claim(claim)
                    if not txn.hl_billing or not txn.hl_subscriber:
                        self._issue(
                            txn, segment, "CLM outside a billing provider / subscriber HL", "2"
                        )
                    self.claims_read += 1
                    claim = self._open_claim(txn, segment)
                    txn.claimless_bytes = -1  # the set has a claim: nothing more to count
                    held = len(segment.raw)
                    line_state = ["2300", None]
                    continue
                self._check_tag(txn, segment)
                if claim is not None:
                    claim.segments.append(segment)
                    held += len(segment.raw)
                    if len(claim.segments) > self._max_held or held > max_bytes:
                        raise self._too_long(f"claim {claim.ordinal} of the file", segment, held)
                    self._read_claim_segment(txn, claim, segment, line_state)
                elif pending_level is not None:
                    pending_level.segments.append(segment)
                    held += len(segment.raw)
                    if len(pending_level.segments) > self._max_held or held > max_bytes:
                        raise self._too_long(
                            f"the HL level at segment {pending_level.segments[0].ordinal}",
                            segment,
                            held,
                        )
                    if txn.claimless_bytes >= 0:
                        self._count_claimless(txn, len(segment.raw), segment)
                    self._read_level_segment(txn, segment)
                else:
                    self._issue(txn, segment, f"{shown_id(tag)} before the first HL", "2")
                continue

            if tag == b"SE":
                if st is None:
                    raise self._error("SE without ST", segment, "024")
                st_position += 1
                if txn is not None:
                    txn.position = st_position
                    if header is not None:
                        assert txn_start is not None
                        txn_start.header = header
                        header = None
                        yield txn_start
                    if claim is not None:
                        yield self._finish_claim(claim)
                        claim = None
                    if pending_level is not None:
                        yield pending_level
                        pending_level = None
                set_issues = txn.issues if txn is not None else []
                self._check_trailer(st, segment, st_position, set_issues)
                yield TransactionEnd(segment, st_position, set_issues)
                transactions += 1
                st = None
                txn = None
                continue

            if tag == b"ST":
                if group is None:
                    raise self._error("ST outside a functional group (GS missing)", segment, "024")
                assert envelope is not None
                st = segment
                st_position = 1
                st_id = segment.element(1)
                env = _copy_envelope(envelope)
                env.transaction_control = segment.element(2)
                claims = is_837p(env.version, st_id, segment.element(3))
                txn_start = TransactionStart(segment, claims, env)
                if claims:
                    txn = _Transaction(env, self.limits.max_hl_per_set)
                    header = []
                    held = len(segment.raw)
                    if segment.element(3) and not segment.element(3).startswith("005010X222"):
                        self._issue(txn, segment, "ST03 is not 005010X222", "8")
                else:
                    header = None
                    yield txn_start
                continue
            if tag == b"ISA":
                if interchange is not None:
                    raise self._error("ISA before the previous interchange's IEA", segment, "023")
                interchange = InterchangeStart(segment)
                self._isa = segment
                groups = 0
                yield interchange
                continue
            if interchange is None:
                raise self._error(f"{shown_id(tag)} outside an interchange", segment, "024")
            if tag == b"GS":
                if group is not None:
                    raise self._error("GS before the previous group's GE", segment, "024")
                group = segment
                transactions = 0
                envelope = _envelope(self.source, interchange.isa, segment)
                yield GroupStart(segment, envelope)
                continue
            if tag == b"GE":
                if group is None:
                    raise self._error("GE without GS", segment, "024")
                issues: list[EnvelopeIssue] = []
                if segment.element(2) != group.element(6):
                    message = (
                        f"GE02 {shown_control(segment.element(2))} does not match GS06 "
                        f"{shown_control(group.element(6))}"
                    )
                    issues.append(EnvelopeIssue("4", message, segment.ordinal))
                if segment.element(1) != str(transactions):
                    message = (
                        f"GE01 says {shown_count(segment.element(1))} transaction sets, the "
                        f"group has {transactions}"
                    )
                    issues.append(EnvelopeIssue("5", message, segment.ordinal))
                yield GroupEnd(segment, transactions, issues)
                groups += 1
                group = None
                continue
            if tag == b"IEA":
                if group is not None:
                    raise self._error("IEA before the group's GE", segment, "024")
                isa13 = interchange.isa.element(13)
                issues = []
                if segment.element(2) != isa13:
                    message = (
                        f"IEA02 {shown_control(segment.element(2))} does not match ISA13 "
                        f"{shown_control(isa13)}"
                    )
                    issues.append(EnvelopeIssue("001", message, segment.ordinal))
                if segment.element(1) != str(groups):
                    message = (
                        f"IEA01 says {shown_count(segment.element(1))} functional groups, the "
                        "interchange "
                        f"has {groups}"
                    )
                    issues.append(EnvelopeIssue("021", message, segment.ordinal))
                yield InterchangeEnd(segment, groups, issues)
                interchange = None
                self._isa = None
                continue
            if tag == b"TA1" and group is None:
                yield InterchangeAcknowledgment(segment)
                continue
            raise self._error(
                f"unexpected segment ({shown_id(tag)}) outside a transaction set", segment, "024"
            )

    # -- transaction set pieces ------------------------------------------------------------

    def _too_long(self, what: str, segment: Segment, held: int) -> X12Error:
        if held > self._max_bytes:
            return self._error(
                f"{what} holds more than {self._max_bytes} bytes (limit max_loop_bytes)", segment
            )
        return self._error(
            f"{what} has more than {self._max_held} segments (limit max_loop_segments)", segment
        )

    @staticmethod
    def claims_read_in_set(txn: _Transaction) -> bool:
        return txn.claimless_bytes < 0

    def _count_claimless(self, txn: _Transaction, size: int, segment: Segment) -> None:
        """HL levels before a set's first claim are held (spooled) until its SE: a budget."""
        txn.claimless_bytes += size
        if txn.claimless_bytes > self.limits.max_claimless_bytes:
            raise self._error(
                f"the transaction set holds more than {self.limits.max_claimless_bytes} bytes of "
                "HL levels before its first claim (limit max_claimless_bytes)",
                segment,
            )

    def _issue(
        self,
        txn: _Transaction,
        segment: Segment,
        message: str,
        code: str | None = "8",
        *,
        element: int | None = None,
        element_code: str | None = None,
        set_code: str = "5",
    ) -> None:
        if len(txn.issues) >= self.limits.max_issues_per_set:
            return  # the set is rejected already; a flood of errors must not fill memory
        txn.issues.append(
            SyntaxIssue(
                message,
                segment_id=tag_text(segment.tag),
                position=txn.position,
                ordinal=segment.ordinal,
                segment_code=code,
                element_position=element,
                element_code=element_code,
                set_code=set_code,
            )
        )

    def _check_tag(self, txn: _Transaction, segment: Segment) -> None:
        if segment.tag not in KNOWN_837P_TAGS:
            # Quote the id only when it is one: a segment without the declared separator is all
            # "id", and what follows an id may be patient data; messages reach logs.
            tag = shown_id(segment.tag)
            shown = repr(tag) if tag == tag_text(segment.tag) else "(not 2-3 letters or digits)"
            self._issue(txn, segment, f"unrecognized segment id {shown}", "1")

    def _check_trailer(
        self, st: Segment, se: Segment, count: int, issues: list[SyntaxIssue]
    ) -> None:
        if se.element(2) != st.element(2):
            issues.append(
                SyntaxIssue(
                    f"SE02 {shown_control(se.element(2))} does not match ST02 "
                    f"{shown_control(st.element(2))}",
                    segment_id="SE",
                    position=count,
                    ordinal=se.ordinal,
                    segment_code=None,
                    set_code="3",
                )
            )
        if se.element(1) != str(count):
            issues.append(
                SyntaxIssue(
                    f"SE01 says {shown_count(se.element(1))} segments, the transaction set has "
                    f"{count}",
                    segment_id="SE",
                    position=count,
                    ordinal=se.ordinal,
                    segment_code=None,
                    set_code="4",
                )
            )

    def _read_header(self, txn: _Transaction, segment: Segment) -> None:
        tag = segment.tag
        env = txn.envelope
        if tag == b"BHT":
            env.bht_reference = segment.element(3)
            env.bht_date = segment.element(4)
        elif tag == b"NM1":
            entity = segment.element(1)
            if entity == "41":
                env.submitter = _party(segment)
            elif entity == "40":
                env.receiver = _party(segment)

    def _open_level(self, txn: _Transaction, segment: Segment) -> HierarchyLevel:
        hl_id, parent, level = segment.element(1), segment.element(2), segment.element(3)
        hl_ids = txn.hl_ids
        if len(hl_id) > MAX_HL_ID_LENGTH:
            self._issue(txn, segment, "HL01 is longer than 12 characters", "8", element=1)
            hl_id = ""  # never remembered: an element may be a megabyte long
        elif not hl_id or hl_ids.level(hl_id) is not None:
            shown = shown_control(hl_id, MAX_HL_ID_LENGTH)
            self._issue(txn, segment, f"HL01 {shown} is missing or repeated", "8", element=1)
        parent_level = hl_ids.level(parent) if parent else None
        if parent and parent_level is None:
            shown = shown_control(parent, MAX_HL_ID_LENGTH)
            self._issue(txn, segment, f"HL02 parent {shown} is not an earlier HL", "8", element=2)
        if hl_id and not hl_ids.add(hl_id, level) and not txn.hl_overflow:
            txn.hl_overflow = True  # reported once: the set is rejected
            self._issue(
                txn,
                segment,
                f"more than {self.limits.max_hl_per_set} HL segments in the set (or more than "
                f"{MAX_NAMED_HL_IDS} HL01s that are not numbers)",
                "4",
            )
        txn.level = level
        if level == HL_BILLING:
            if parent:
                self._issue(txn, segment, "billing provider HL has a parent", "8", element=2)
            txn.billing = Provider("2000A")
            txn.hl_billing, txn.hl_subscriber, txn.hl_patient = hl_id, "", ""
        elif level == HL_SUBSCRIBER:
            if parent_level != HL_BILLING:
                self._issue(
                    txn,
                    segment,
                    "subscriber HL's parent is not a billing provider HL",
                    "8",
                    element=2,
                )
            txn.subscriber = txn.patient = Party()
            txn.payer = Party()
            txn.hl_subscriber, txn.hl_patient = hl_id, ""
        elif level == HL_PATIENT:
            if parent_level != HL_SUBSCRIBER:
                self._issue(
                    txn, segment, "patient HL's parent is not a subscriber HL", "8", element=2
                )
            txn.patient = Party()
            txn.hl_patient = hl_id
        else:
            self._issue(
                txn,
                segment,
                "HL03 level code is not 20, 22 or 23",
                "8",
                element=3,
                element_code="7",
            )
        return HierarchyLevel(hl_id, parent, level, [segment])

    def _read_level_segment(self, txn: _Transaction, segment: Segment) -> None:
        tag = segment.tag
        if tag == b"NM1":
            entity = segment.element(1)
            if entity == "85":
                party = _party(segment)
                txn.billing.party = party
                txn.billing.npi = party.id if party.id_qualifier == "XX" else ""
            elif entity == "IL":
                txn.subscriber = _party(segment)
                if not txn.hl_patient:
                    txn.patient = txn.subscriber
            elif entity == "PR":
                txn.payer = _party(segment)
            elif entity == "QC":
                txn.patient = _party(segment)
        elif tag == b"PRV" and txn.level == HL_BILLING:
            txn.billing.taxonomy = segment.element(3)

    def _open_claim(self, txn: _Transaction, segment: Segment) -> Claim:
        place = segment.components(5)
        claim_id = segment.element(1)
        claim = Claim(
            envelope=txn.envelope,
            ordinal=self.claims_read,
            claim_id=claim_id,
            charge=_decimal(segment.element(2)),
            place_of_service=place[0],
            frequency=place[2] if len(place) > 2 else "",
            prior_authorization="",
            clearinghouse_trace="",
            billing=txn.billing,
            rendering=None,
            subscriber=txn.subscriber,
            patient=txn.patient,
            payer=txn.payer,
            hl_billing=txn.hl_billing,
            hl_subscriber=txn.hl_subscriber,
            hl_patient=txn.hl_patient,
            segments=[segment],
        )
        if not claim_id:
            self._issue(
                txn,
                segment,
                "CLM01 patient control number is missing",
                "8",
                element=1,
                element_code="1",
            )
        if claim.charge < 0:
            self._issue(
                txn,
                segment,
                "CLM02 is not a number",
                "8",
                element=2,
                element_code="6",
            )
        return claim

    def _read_claim_segment(
        self, txn: _Transaction, claim: Claim, segment: Segment, state: list
    ) -> None:
        """Track which sub-loop of the claim a segment belongs to and read what rules need."""
        tag = segment.tag
        subloop, line = state
        elements = segment.elements
        first = elements[1] if len(elements) > 1 else b""  # a bare 'REF~' has no 01 element
        if line is not None and subloop == "2400":
            if tag == b"SV1":
                self._read_sv1(txn, claim, line, segment)
                return
            if tag == b"DTP":
                if first == b"472":
                    self._read_service_date(txn, line, segment)
                return
            if tag == b"REF":
                qualifier = first
                if qualifier == b"6R":
                    line.line_control = segment.element(2)
                elif qualifier == b"G1":
                    line.prior_authorization = segment.element(2)
                return
        if tag == b"LX":
            state[0], state[1] = "2400", self._open_line(txn, claim, segment)
        elif tag == b"NM1":
            is_82 = first == b"82"
            if line is None:
                if is_82 and subloop in ("2300", "2310"):
                    claim.rendering = _provider("2310B", segment)
                    state[0] = "2310B"
                else:
                    state[0] = "2330" if subloop in ("2320", "2330") else "2310"
            elif is_82:
                line.rendering = _provider("2420A", segment)
                state[0] = "2420A"
            else:
                state[0] = "2420"
        elif tag == b"PRV":
            if subloop == "2310B" and claim.rendering is not None:
                claim.rendering.taxonomy = segment.element(3)
            elif subloop == "2420A" and line is not None:
                line.rendering.taxonomy = segment.element(3)
        elif tag == b"SBR":
            state[0] = "2320"
        elif tag == b"REF":
            if line is None and subloop == "2300":
                qualifier = first
                if qualifier == b"G1":
                    claim.prior_authorization = segment.element(2)
                elif qualifier == b"D9":
                    claim.clearinghouse_trace = segment.element(2)
        elif line is not None and tag in (b"LIN", b"SVD", b"CTP"):
            state[0] = "2430" if tag == b"SVD" else "2410"

    def _open_line(self, txn: _Transaction, claim: Claim, segment: Segment) -> ServiceLine:
        if len(claim.lines) == self.limits.max_claim_lines:
            self._issue(
                txn,
                segment,
                f"claim {claim.ordinal} of the file has more than {self.limits.max_claim_lines} "
                "service lines (loop 2400 repeats at most 50 times)",
                "4",
            )
        if claim.lines:
            claim.lines[-1].end_segment = len(claim.segments) - 1
        raw = segment.element(1)
        # LX01 is N0 of at most 6 digits; int() of a longer one may raise (a 70,000-digit LX01).
        numbered = raw.isdigit() and len(raw) <= 6
        if not numbered:
            self._issue(txn, segment, "LX01 is not a line number", "8", element=1, element_code="6")
        line = ServiceLine(
            number=int(raw) if numbered else 0,
            qualifier="",
            procedure="",
            modifiers=(),
            charge=Decimal(0),
            unit_basis="",
            units=Decimal(0),
            place_of_service=claim.place_of_service,
            diagnosis_pointers=(),
            service_date=None,
            service_date_end=None,
            prior_authorization="",
            line_control="",
            rendering=claim.rendering or claim.billing,
            first_segment=len(claim.segments) - 1,
            end_segment=len(claim.segments),
        )
        claim.lines.append(line)
        return line

    def _read_sv1(
        self, txn: _Transaction, claim: Claim, line: ServiceLine, segment: Segment
    ) -> None:
        procedure = segment.components(1)
        line.qualifier = procedure[0]
        line.procedure = procedure[1] if len(procedure) > 1 else ""
        line.modifiers = tuple([m for m in procedure[2:6] if m])
        if not line.procedure:
            self._issue(
                txn, segment, "SV101-2 procedure code is missing", "8", element=1, element_code="1"
            )
        line.charge = _decimal(segment.element(2))
        line.unit_basis = segment.element(3)
        line.units = _decimal(segment.element(4))
        if line.charge < 0 or line.units < 0:
            self._issue(
                txn,
                segment,
                "SV102 charge or SV104 units is not a number",
                "8",
                element=2,
                element_code="6",
            )
        place = segment.element(5)
        if place:
            line.place_of_service = place
        pointers = segment.element(7)
        if pointers:
            line.diagnosis_pointers = tuple(
                pointers.split(segment.delimiters.component.decode("latin-1"))
            )

    def _read_service_date(self, txn: _Transaction, line: ServiceLine, segment: Segment) -> None:
        qualifier, value = segment.element(2), segment.element(3)
        if qualifier == "D8":
            line.service_date = line.service_date_end = _date(value)
        elif qualifier == "RD8" and "-" in value:
            start, _, end = value.partition("-")
            line.service_date, line.service_date_end = _date(start), _date(end)
        if line.service_date is None:
            self._issue(
                txn,
                segment,
                f"DTP03 service date is not a valid {'RD8' if qualifier == 'RD8' else 'D8'} date",
                "8",
                element=3,
                element_code="8",
            )

    @staticmethod
    def _finish_claim(claim: Claim) -> Claim:
        """Close the claim's last line: it runs to the claim's last segment."""
        if claim.lines:
            claim.lines[-1].end_segment = len(claim.segments)
        return claim


def tag_text(tag: bytes) -> str:
    return tag.decode("latin-1", "replace")


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
