"""Structural edge cases the project writes itself (``tests/data/x12.py``), end to end in-process.

What the interop tests check on the public corpus (delimiters of every kind, several ISA/GS/ST,
BOM and indentation, newline terminators, CRLF, an unterminated last segment, repeated HL ids, SE
count errors, free text before the ISA, 4010 and non-837P sets, 999/277CA inputs), checked here
on inputs the repository owns, so that ``make test`` needs nothing outside it.
"""

from __future__ import annotations

import io

import pytest

from edi_gate.rules.findings import SYNTAX_RULE
from edi_gate.x12.errors import X12Error
from edi_gate.x12.loops import EventReader, TransactionEnd, TransactionStart
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import SegmentReader
from tests.data import x12
from tests.data.x12 import CASES, SOUND
from tests.helpers import RejectClaims, assert_conservation, run_filter


def segments(data: bytes, chunk_size: int = 1 << 20) -> list:
    return list(SegmentReader(io.BytesIO(data), "test.edi", chunk_size=chunk_size))


def events(data: bytes) -> list:
    return list(EventReader(SegmentReader(io.BytesIO(data), "t.837"), "t.837"))


# -- the tokenizer ---------------------------------------------------------------------------------


def test_unusual_delimiters_come_from_the_isa():
    segs = segments(x12.demo_file(x12.ODD_DELIMITERS))
    delimiters = segs[0].delimiters
    assert (delimiters.element, delimiters.component, delimiters.segment) == (b"~", b"^", b"_")
    assert delimiters.repetition == b"!"
    clm = next(seg for seg in segs if seg.tag == b"CLM")
    assert clm.components(5)[:2] == ["11", "B"]
    assert segs[-1].tag == b"IEA"


def test_newline_terminator_with_indentation():
    segs = segments(x12.demo_file(x12.NEWLINE_TERMINATED))
    assert segs[0].delimiters.segment == b"\n"
    assert segs[0].delimiters.component == b">"
    assert [seg.tag for seg in segs[:3]] == [b"ISA", b"GS", b"ST"]
    assert all(seg.text == seg.text.strip() for seg in segs)
    assert segs[-1].tag == b"IEA" and len(segs) == 164


def test_bom_crlf_and_indentation_are_tolerated():
    data = x12.demo_file(x12.BOM_CRLF)
    assert data.startswith(b"\xef\xbb\xbf") and b"~\r\n    GS*" in data
    segs = segments(data)
    assert segs[0].tag == b"ISA" and segs[0].delimiters.component == b">"
    assert segs[0].delimiters.repetition == b"|"
    assert sum(seg.tag == b"CLM" for seg in segs) == 8
    assert all(seg.text == seg.text.strip() for seg in segs)


def test_interchanges_with_different_delimiters_follow_each_other():
    segs = segments(x12.several_interchanges())
    isas = [seg for seg in segs if seg.tag == b"ISA"]
    assert [isa.delimiters.element for isa in isas] == [b"*", b"~"]
    assert sum(seg.tag == b"IEA" for seg in segs) == 2
    assert sum(seg.tag == b"CLM" for seg in segs) == 10


@pytest.mark.parametrize("layout", [x12.BOM_CRLF, x12.NEWLINE_TERMINATED, x12.ODD_DELIMITERS])
def test_raw_bytes_round_trip(layout):
    data = x12.demo_file(layout)
    reader = SegmentReader(io.BytesIO(data), "x")
    rebuilt = b"".join(seg.raw + seg.delimiters.segment for seg in reader) + reader.trailing
    assert rebuilt == data.removeprefix(b"\xef\xbb\xbf")


@pytest.mark.parametrize("chunk_size", [1, 7, 106, 4096])
@pytest.mark.parametrize("name", ["odd-delimiters", "newline-terminated", "bom-crlf-indented"])
def test_chunk_boundaries_do_not_change_segments(name, chunk_size):
    data = CASES[name].build()
    assert [s.text for s in segments(data, chunk_size)] == [s.text for s in segments(data)]


def test_an_unterminated_last_segment_is_read():
    data = x12.unterminated()
    assert not data.endswith((b"~", b"\n"))
    assert segments(data)[-1].text == b"IEA*1*000000101"


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.error])
def test_unreadable_files_name_the_problem(name):
    with pytest.raises(X12Error) as caught:
        segments(CASES[name].build())
    message = str(caught.value)
    assert CASES[name].error in message
    assert message.startswith("test.edi: segment ")
    assert "\n" not in message


# -- the loop reader -------------------------------------------------------------------------------


def test_billing_provider_renders_when_no_2310b_or_2420a():
    segs = [s for s in x12.two_claims() if not s.startswith(("NM1*82*", "PRV*PE*"))]
    segs = [f"SE*{int(s.split('*')[1]) - 4}*0001" if s.startswith("SE*") else s for s in segs]
    found = [e for e in events(x12.render(segs)) if isinstance(e, Claim)]
    assert [c.claim_id for c in found] == ["PCN0001", "PCN0002"]
    for claim in found:
        assert claim.rendering is None and claim.billing.loop == "2000A"
        assert all(line.rendering is claim.billing for line in claim.lines)
    (end,) = [e for e in events(x12.render(segs)) if isinstance(e, TransactionEnd)]
    assert not end.issues


@pytest.mark.parametrize("name", ["837i", "837d", "999", "277ca"])
def test_other_transaction_types_are_not_assembled(name):
    found = events(CASES[name].build())
    starts = [e for e in found if isinstance(e, TransactionStart)]
    assert starts and not starts[0].claims
    assert not any(isinstance(e, Claim) for e in found)


def test_corrupt_segment_ids_are_syntax_issues_of_their_set():
    (end,) = [e for e in events(x12.bad_segment_id()) if isinstance(e, TransactionEnd)]
    expected = "unrecognized segment id (not 2-3 letters or digits)"
    assert any(expected in str(issue) for issue in end.issues)
    assert {issue.segment_code for issue in end.issues} >= {"1"}


def test_wrong_se_count_is_reported_with_both_numbers():
    (end,) = [e for e in events(x12.wrong_se_count(25)) if isinstance(e, TransactionEnd)]
    assert [str(i) for i in end.issues] == [
        "segment 42 of the transaction set (SE): "
        "SE01 says '25' segments, the transaction set has 42"
    ]
    assert end.issues[0].set_code == "4"


# -- the filter ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOUND)
def test_sound_files_pass_unchanged_with_every_claim_accounted_for(name):
    case = CASES[name]
    data = case.build()
    result = run_filter(data, RejectClaims())
    assert result.summary.claims == len(result.decisions) == case.claims
    assert result.summary.rejected == 0 and result.summary.rejected_transactions == 0
    # Copied as read: without the BOM, and with a terminator after an unterminated last segment.
    expected = data.removeprefix(b"\xef\xbb\xbf")
    if name == "unterminated-last-segment":
        expected += b"~"
    assert result.output == expected
    if name != "several-interchanges":  # count_clm reads the first interchange's delimiters
        assert_conservation(result, data, byte_identical=True)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.syntax])
def test_damaged_sets_are_rejected_whole_naming_the_error(name):
    case = CASES[name]
    data = case.build()
    result = run_filter(data, RejectClaims())
    assert_conservation(result, data)
    assert result.summary.claims == case.claims == result.summary.rejected
    assert result.summary.rejected_transactions == 1 and result.output == b""
    for record in result.decisions:
        (finding, *_) = record["findings"]
        assert finding["rule"] == SYNTAX_RULE
        assert finding["message"].startswith("transaction set rejected: segment ")
        assert case.syntax in finding["message"]


def test_several_syntax_errors_are_counted_in_the_message():
    """Four errors in one set: the first three are findings, the third says one more exists."""
    damage = {"HL*3*1*22*0": "HL*2*1*22*0", "N3*1 ELM ST": "N#3*1 ELM ST", "SE*42*": "SE*25*"}
    segs = x12.two_claims()
    for old, new in damage.items():
        segs = [s.replace(old, new) for s in segs]
    segs = [s.replace("N3*2 OAK ST", "N#3*2 OAK ST") for s in segs]
    result = run_filter(x12.render(segs), RejectClaims())
    assert result.summary.rejected == 2
    for record in result.decisions:
        messages = [f["message"] for f in record["findings"]]
        assert len(messages) == 3
        assert "unrecognized segment id (not 2-3 letters or digits)" in messages[0]
        assert "HL01 '2' is missing or repeated" in messages[1]
        assert messages[2].endswith("(and 1 more syntax errors)")


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.passthrough])
def test_other_transaction_types_and_4010_pass_through_untouched(name):
    data = CASES[name].build()
    result = run_filter(data, RejectClaims())
    assert result.summary.claims == 0 and result.decisions == []
    assert result.output == data


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.error])
def test_unreadable_files_are_refused_by_the_filter(name):
    with pytest.raises(X12Error) as caught:
        run_filter(CASES[name].build(), RejectClaims())
    assert CASES[name].error.split(": ", 1)[-1] in str(caught.value)


def test_a_transaction_left_empty_is_dropped_and_counts_follow():
    data = x12.several_sets()
    first = run_filter(data, RejectClaims())
    by_set: dict[str, list[str]] = {}
    for record in first.decisions:
        by_set.setdefault(record["transaction"], []).append(record["claim"])
    assert list(by_set) == ["0001", "0002"]
    result = run_filter(data, RejectClaims(set(by_set["0001"])))
    assert_conservation(result, data)
    sts = [s for s in segments(result.output) if s.tag == b"ST"]
    assert [s.element(2) for s in sts] == ["0002"]
    (ge,) = [s for s in segments(result.output) if s.tag == b"GE"]
    assert ge.element(1) == "1"
