"""A claim assembled from its segments: the 2300 loop, its service lines and their providers.

Which loop a segment belongs to comes from grammar.CLAIM_GRAMMAR (one dict lookup per segment
the grammar reads); what the reader does there is the row's action, carried out here. Problems
are SyntaxIssues on the open set (edi_gate.x12.open_set), never raised.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from edi_gate.x12.elements import date_value, decimal_value, provider_of
from edi_gate.x12.errors import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_DATE,
    ELEMENT_MISSING,
    SEGMENT_LOOP_OVER_MAXIMUM,
)
from edi_gate.x12.grammar import (
    CLAIM_PRIOR_AUTHORIZATION,
    CLAIM_RENDERING,
    CLAIM_RENDERING_TAXONOMY,
    CLAIM_START,
    CLAIM_TRACE,
    LINE_CONTROL,
    LINE_PRIOR_AUTHORIZATION,
    LINE_RENDERING,
    LINE_RENDERING_TAXONOMY,
    LINE_SERVICE,
    LINE_SERVICE_DATE,
    LOOP_2310B,
    LOOP_2420A,
    NO_ACTION,
    OPEN_LINE,
)
from edi_gate.x12.model import Claim, ServiceLine
from edi_gate.x12.open_set import Open837Set
from edi_gate.x12.tokenizer import Segment

MAX_LX_DIGITS: Final = 6  # LX01 is N0 1-6


def open_claim(open_set: Open837Set, segment: Segment, ordinal: int) -> Claim:
    """A CLM: a claim under the HL levels in scope, its loop 2300."""
    place = segment.components(5)
    claim_id = segment.element(1)
    claim = Claim(
        envelope=open_set.envelope,
        ordinal=ordinal,
        claim_id=claim_id,
        charge=decimal_value(segment.element(2)),
        place_of_service=place[0],
        frequency=place[2] if len(place) > 2 else "",
        prior_authorization="",
        clearinghouse_trace="",
        billing=open_set.billing,
        rendering=None,
        subscriber=open_set.subscriber,
        patient=open_set.patient,
        payer=open_set.payer,
        hl_billing=open_set.hl_billing,
        hl_subscriber=open_set.hl_subscriber,
        hl_patient=open_set.hl_patient,
        segments=[segment],
    )
    open_set.loop = CLAIM_START
    open_set.line = None
    if not claim_id:
        message = "CLM01 patient control number is missing"
        open_set.issue(segment, message, element=1, element_code=ELEMENT_MISSING)
    if claim.charge < 0:
        message = "CLM02 is not a number"
        open_set.issue(segment, message, element=2, element_code=ELEMENT_INVALID_CHARACTER)
    return claim


def read_claim_segment(open_set: Open837Set, claim: Claim, segment: Segment) -> None:
    """Move to the loop the grammar says the segment opens, and carry out its action."""
    rule = open_set.loop.rules.get(segment.tag)
    if rule is None:
        return
    if rule.qualifiers:
        # The qualifier is the first element; a bare 'REF~' has none.
        elements = segment.elements
        step = rule.transition(elements[1] if len(elements) > 1 else b"")
    else:
        step = rule.otherwise
    if step is None:
        return
    open_set.loop = step.loop
    action = step.action
    if action != NO_ACTION:
        _act(open_set, claim, segment, action)


def _act(open_set: Open837Set, claim: Claim, segment: Segment, action: int) -> None:
    """One grammar action; line actions only occur in line loops, where a line is open."""
    if action == OPEN_LINE:
        open_set.line = _open_line(open_set, claim, segment)
    elif action == CLAIM_RENDERING:
        claim.rendering = provider_of(LOOP_2310B, segment)
    elif action == CLAIM_RENDERING_TAXONOMY:
        if claim.rendering is not None:
            claim.rendering.taxonomy = segment.element(3)
    elif action == CLAIM_PRIOR_AUTHORIZATION:
        claim.prior_authorization = segment.element(2)
    elif action == CLAIM_TRACE:
        claim.clearinghouse_trace = segment.element(2)
    else:
        line = open_set.line
        assert line is not None  # the grammar has line actions in line loops only
        if action == LINE_SERVICE:
            _read_sv1(open_set, line, segment)
        elif action == LINE_SERVICE_DATE:
            _read_service_date(open_set, line, segment)
        elif action == LINE_CONTROL:
            line.line_control = segment.element(2)
        elif action == LINE_PRIOR_AUTHORIZATION:
            line.prior_authorization = segment.element(2)
        elif action == LINE_RENDERING:
            line.rendering = provider_of(LOOP_2420A, segment)
        elif action == LINE_RENDERING_TAXONOMY:
            line.rendering.taxonomy = segment.element(3)


def _open_line(open_set: Open837Set, claim: Claim, segment: Segment) -> ServiceLine:
    max_lines = open_set.limits.max_claim_lines
    if len(claim.lines) == max_lines:
        open_set.issue(
            segment,
            f"claim {claim.ordinal} of the file has more than {max_lines} "
            "service lines (loop 2400 repeats at most 50 times)",
            SEGMENT_LOOP_OVER_MAXIMUM,
        )
    if claim.lines:
        claim.lines[-1].end_segment = len(claim.segments) - 1
    raw = segment.element(1)
    # int() of a longer LX01 may raise (a 70,000-digit LX01).
    numbered = raw.isdigit() and len(raw) <= MAX_LX_DIGITS
    if not numbered:
        message = "LX01 is not a line number"
        open_set.issue(segment, message, element=1, element_code=ELEMENT_INVALID_CHARACTER)
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


def _read_sv1(open_set: Open837Set, line: ServiceLine, segment: Segment) -> None:
    procedure = segment.components(1)
    line.qualifier = procedure[0]
    line.procedure = procedure[1] if len(procedure) > 1 else ""
    line.modifiers = tuple([m for m in procedure[2:6] if m])
    if not line.procedure:
        message = "SV101-2 procedure code is missing"
        open_set.issue(segment, message, element=1, element_code=ELEMENT_MISSING)
    line.charge = decimal_value(segment.element(2))
    line.unit_basis = segment.element(3)
    line.units = decimal_value(segment.element(4))
    if line.charge < 0 or line.units < 0:
        message = "SV102 charge or SV104 units is not a number"
        open_set.issue(segment, message, element=2, element_code=ELEMENT_INVALID_CHARACTER)
    place = segment.element(5)
    if place:
        line.place_of_service = place
    pointers = segment.element(7)
    if pointers:
        line.diagnosis_pointers = tuple(
            pointers.split(segment.delimiters.component.decode("latin-1"))
        )


def _read_service_date(open_set: Open837Set, line: ServiceLine, segment: Segment) -> None:
    qualifier, value = segment.element(2), segment.element(3)
    if qualifier == "D8":
        line.service_date = line.service_date_end = date_value(value)
    elif qualifier == "RD8" and "-" in value:
        start, _, end = value.partition("-")
        line.service_date, line.service_date_end = date_value(start), date_value(end)
    if line.service_date is None:
        open_set.issue(
            segment,
            f"DTP03 service date is not a valid {'RD8' if qualifier == 'RD8' else 'D8'} date",
            element=3,
            element_code=ELEMENT_INVALID_DATE,
        )


def finish_claim(claim: Claim) -> Claim:
    """Close the claim's last line: it runs to the claim's last segment."""
    if claim.lines:
        claim.lines[-1].end_segment = len(claim.segments)
    return claim
