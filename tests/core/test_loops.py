"""837P assembly: every claim with its context, lines mapped to the provider who rendered them."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_gate.x12.grammar import HL_BILLING, HL_PATIENT, HL_SUBSCRIBER, LOOP_2420A
from edi_gate.x12.hl import NOT_A_NUMBER, HlIds
from edi_gate.x12.loops import (
    EventReader,
    TransactionEnd,
    TransactionStart,
    is_r_number,
)
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import SegmentReader
from tests.helpers import CORPUS, FIXTURES


def read(data: bytes) -> list:
    return list(EventReader(SegmentReader(io.BytesIO(data), "t.837"), "t.837"))


def claims(data: bytes) -> list[Claim]:
    return [event for event in read(data) if isinstance(event, Claim)]


def demo() -> dict[str, Claim]:
    return {claim.claim_id: claim for claim in claims((FIXTURES / "demo.837").read_bytes())}


def test_claim_context_from_every_loop():
    claim = demo()["DEMO-003"]
    env = claim.envelope
    assert (env.interchange_control, env.group_control, env.transaction_control) == (
        "000000101",
        "101",
        "0001",
    )
    assert env.sender_id == "DEMOSUB01" and env.receiver_id == "DEMOPAYER"
    assert env.submitter.id == "DEMOSUB01" and env.receiver.name == "DEMO HEALTH PLAN"
    assert env.bht_reference == "DEMO0001"
    assert claim.billing.npi == "1234567893" and claim.billing.taxonomy == "261QR0200X"
    assert claim.rendering is not None and claim.rendering.taxonomy == "207RC0000X"
    assert claim.prior_authorization == "PA0000003"
    assert claim.charge == Decimal(350) and claim.place_of_service == "11"
    assert claim.subscriber.id == "M0000003" and claim.patient is claim.subscriber
    (line,) = claim.lines
    assert (line.procedure, line.modifiers, line.units) == ("93306", ("TC",), Decimal(1))
    assert line.service_date == date(2025, 3, 10) and line.line_control == "DEMO-003-1"


def test_rendering_provider_precedence_2420a_then_2310b_then_billing():
    claim = demo()["DEMO-008"]
    first, second = claim.lines
    assert (first.rendering.loop, first.rendering.taxonomy) == ("2310B", "207X00000X")
    assert (second.rendering.loop, second.rendering.taxonomy) == ("2420A", "213E00000X")
    assert claim.hl_patient and claim.patient.name == "PATIENT8"


@pytest.mark.interop
def test_billing_provider_renders_when_no_2310b_or_2420a():
    data = (CORPUS / "stupidedi/X222A1/commercial-health-insurance.edi").read_bytes()
    (claim,) = claims(data)
    assert claim.rendering is None
    assert all(line.rendering is claim.billing for line in claim.lines)
    assert claim.billing.loop == "2000A"


@pytest.mark.interop
def test_2420a_line_providers_in_the_corpus():
    data = (CORPUS / "imsweb-x12-parser/x12_complex.txt").read_bytes()
    loops = {line.rendering.loop for claim in claims(data) for line in claim.lines}
    assert "2420A" in loops


def test_line_place_of_service_overrides_the_claim():
    data = (
        (FIXTURES / "demo.837")
        .read_bytes()
        .replace(b"SV1*HC:70553*900*UN*1***1", b"SV1*HC:70553*900*UN*1*22**1")
    )
    claim = {c.claim_id: c for c in claims(data)}["DEMO-002"]
    assert claim.place_of_service == "11" and claim.lines[0].place_of_service == "22"


def test_date_ranges_are_read():
    data = (
        (FIXTURES / "demo.837")
        .read_bytes()
        .replace(
            b"DTP*472*D8*20250310~\nREF*6R*DEMO-001-1",
            b"DTP*472*RD8*20250310-20250312~\nREF*6R*DEMO-001-1",
        )
    )
    claim = {c.claim_id: c for c in claims(data)}["DEMO-001"]
    assert claim.lines[0].service_date == date(2025, 3, 10)
    assert claim.lines[0].service_date_end == date(2025, 3, 12)


def test_line_segments_are_delimited_for_line_scope():
    claim = demo()["DEMO-006"]
    first, second = claim.lines
    assert claim.segments[first.first_segment].tag == b"LX"
    assert first.end_segment == second.first_segment
    assert second.end_segment == len(claim.segments)


@pytest.mark.interop
def test_other_transaction_types_are_not_assembled():
    data = (CORPUS / "stupidedi/X223A2/two-claims-for-the-same-provider.edi").read_bytes()
    events = read(data)
    starts = [e for e in events if isinstance(e, TransactionStart)]
    assert starts and not starts[0].claims
    assert not any(isinstance(e, Claim) for e in events)


@pytest.mark.interop
def test_corrupt_segment_ids_are_syntax_issues_of_their_set():
    data = (CORPUS / "imsweb-x12-parser/x12_bad_segment_identifier.txt").read_bytes()
    (end,) = [e for e in read(data) if isinstance(e, TransactionEnd)]
    messages = " | ".join(str(issue) for issue in end.issues)
    assert "unrecognized segment id" in messages
    assert {issue.segment_code for issue in end.issues} >= {"1"}


@pytest.mark.interop
def test_wrong_se_count_is_reported_with_both_numbers():
    data = (CORPUS / "imsweb-x12-parser/x12_ambiguous_loop.txt").read_bytes()
    (end,) = [e for e in read(data) if isinstance(e, TransactionEnd)]
    assert [str(i) for i in end.issues] == [
        "segment 33 of the transaction set (SE): "
        "SE01 says '25' segments, the transaction set has 33"
    ]
    assert end.issues[0].set_code == "4"


# The grammar of an X12 R value (sign, digits, one point), as a regex: the reference _is_r_number
# replaces on the hot path.
R_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
NUMBERISH = st.text(alphabet="0123456789.-+eE \u00b2\u00bd", max_size=8)
LATIN1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=8)


@given(st.one_of(NUMBERISH, LATIN1))
def test_r_number_check_agrees_with_its_regex(raw: str) -> None:
    """_is_r_number replaces the regex on the hot path (a call per CLM02, SV102, SV104); on
    element text (decoded latin-1) both accept exactly the same strings."""
    assert is_r_number(raw) == bool(R_NUMBER.fullmatch(raw))


def test_service_dates_span_every_line() -> None:
    """Claim.service_dates: the earliest start and the latest end over the lines, whichever line
    they are on; a line without a date takes no part."""
    from edi_gate.x12.model import Provider, ServiceLine

    def line(number: int, start: date | None, end: date | None) -> ServiceLine:
        return ServiceLine(number, "HC", "70450", (), Decimal(1), "UN", Decimal(1), "11", (),
                           start, end, "", "", Provider("2000A"), 0, 0)  # fmt: skip

    claim = demo()["DEMO-006"]
    claim.lines = [
        line(1, date(2025, 3, 12), date(2025, 3, 12)),
        line(2, date(2025, 3, 9), date(2025, 3, 10)),
        line(3, None, None),
        line(4, date(2025, 3, 11), date(2025, 3, 20)),
    ]
    claim._service_dates = None
    assert claim.service_dates == (date(2025, 3, 9), date(2025, 3, 20))
    claim.lines, claim._service_dates = [line(1, None, None)], None
    assert claim.service_dates == (None, None)


def demo_with(old: bytes, new: bytes) -> dict[str, Claim]:
    data = (FIXTURES / "demo.837").read_bytes()
    assert old in data
    return {claim.claim_id: claim for claim in claims(data.replace(old, new, 1))}


def test_a_line_keeps_its_loops_after_an_out_of_place_sbr():
    """X222A1 has 2320 before 2400; an SBR after a line (grammar.LOOP_2320_IN_LINE) leaves the
    reader in the line: an NM1*82 after it is still the line's rendering provider, not 2330's."""
    claim = demo_with(
        b"REF*6R*DEMO-003-1~",
        b"REF*6R*DEMO-003-1~\nSBR*S*18*******CI~\nNM1*82*1*LINE*DOC****XX*1111111112~\n"
        b"PRV*PE*PXC*2085R0202X~\nREF*G1*LINEPA~",
    )["DEMO-003"]
    (line,) = claim.lines
    assert (line.rendering.loop, line.rendering.npi) == (LOOP_2420A, "1111111112")
    assert line.rendering.taxonomy == "2085R0202X"
    assert line.prior_authorization == ""  # REF*G1 belongs to 2400 only, not to 2420A
    assert claim.rendering is not None and claim.rendering.npi == "1654321094"


def test_claim_level_nm1_after_sbr_is_another_payers_not_the_rendering_provider():
    claim = demo_with(
        b"HI*ABK:M25561~\nNM1*82*1*CARDIO*DOC****XX*1654321094~",
        b"HI*ABK:M25561~\nSBR*S*18*******CI~\nNM1*82*1*CARDIO*DOC****XX*1654321094~",
    )["DEMO-003"]
    assert claim.rendering is None
    assert claim.lines[0].rendering is claim.billing


def test_claim_ref_qualifiers_are_read_only_in_2300():
    claim = demo_with(b"REF*G1*PA0000003~", b"REF*D9*TRACE3~")["DEMO-003"]
    assert (claim.prior_authorization, claim.clearinghouse_trace) == ("", "TRACE3")
    claim = demo_with(b"PRV*PE*PXC*207RC0000X~", b"PRV*PE*PXC*207RC0000X~\nREF*G1*LATE~")[
        "DEMO-003"
    ]
    assert claim.prior_authorization == "PA0000003"  # a REF in 2310B is the provider's


def test_hl_ids_are_parsed_once_and_agree_with_the_one_call_forms():
    ids = HlIds(100)
    for hl_id, level in (("1", HL_BILLING), ("2", HL_SUBSCRIBER), ("A7", HL_PATIENT), ("9", "99")):
        number = ids.number(hl_id)
        assert ids.level_of(hl_id, number) is None
        assert ids.add_at(hl_id, number, level)
        assert ids.level(hl_id) == (level if level != "99" else "?")
    assert ids.number("A7") == ids.number("007") == ids.number("101") == NOT_A_NUMBER
    assert (ids.number("2"), len(ids.numbered)) == (2, 10)
    assert ids.level("5") is None and ids.level("007") is None


def test_a_parent_hl_is_looked_up_by_its_own_id_each_time():
    ids = HlIds(100)
    assert ids.parent_level("1") is None
    assert ids.add("1", HL_BILLING) and ids.add("X", HL_SUBSCRIBER)
    assert ids.parent_level("1") == HL_BILLING  # remembered after the first lookup of "1"
    assert ids.parent_level("X") == HL_SUBSCRIBER and ids.parent_level("2") is None
