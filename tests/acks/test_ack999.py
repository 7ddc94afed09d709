"""999 writer: AK1/AK2/IK3/IK4/IK5/AK9, envelopes, pyx12's X231A1 map as the oracle."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from edi_gate.acks.ack999 import Ack999Writer
from edi_gate.acks.state import ControlNumbers
from edi_gate.x12.errors import SyntaxIssue
from tests.helpers import CORPUS

from .factory import NOW, check_envelopes, envelope, segments, tagged

Oracle = Callable[..., list[str]]


def issue(
    segment: str = "NM1",
    position: int = 17,
    code: str | None = "8",
    element: int | None = None,
    element_code: str | None = None,
    set_code: str = "5",
) -> SyntaxIssue:
    return SyntaxIssue(
        "test issue",
        segment_id=segment,
        position=position,
        ordinal=position + 3,
        segment_code=code,
        element_position=element,
        element_code=element_code,
        set_code=set_code,
    )


def test_accepted_and_rejected_sets(oracle: Oracle) -> None:
    out = io.BytesIO()
    writer = Ack999Writer(out, control=ControlNumbers(start=5), now=NOW)
    writer.begin_group(envelope(gs06="28"))
    assert writer.transaction("837", "0001", "005010X222A1", []) is True
    rejected = [
        issue("CLM", 22, "8", 2, "7"),
        issue("CLM", 22, "8", 5, "1"),
        issue("NM31", 30, "1"),
        issue("SE", 40, None, set_code="4"),
    ]
    assert writer.transaction("837", "0002", "005010X222A1", rejected) is False
    assert writer.end_group() == "P"
    writer.close()
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    check_envelopes(segs)
    body = [s for s in segs if s[0] not in ("ISA", "GS", "GE", "IEA")]
    assert body == [
        ["ST", "999", "0005", "005010X231A1"],
        ["AK1", "HC", "28", "005010X222A1"],
        ["AK2", "837", "0001", "005010X222A1"],
        ["IK5", "A"],
        ["AK2", "837", "0002", "005010X222A1"],
        ["IK3", "CLM", "22", "", "8"],
        ["IK4", "2", "", "7"],
        ["IK4", "5", "", "1"],
        ["IK3", "NM3", "30", "", "1"],
        ["IK5", "R", "5", "4"],
        ["AK9", "P", "2", "2", "1"],
        ["SE", "12", "0005"],
    ]
    gs = tagged(segs, "GS")[0]
    assert gs[1] == "FA" and gs[8] == "005010X231A1"
    assert (gs[2], gs[3]) == ("PAYERID", "SUBMITTERID")


def test_all_rejected_with_group_issues_and_declared_count(oracle: Oracle) -> None:
    out = io.BytesIO()
    with Ack999Writer(out, control=ControlNumbers(), now=NOW) as writer:
        writer.begin_group(envelope())
        writer.transaction("837", "0001", "005010X222A1", [issue("SE", 9, None, set_code="3")])
        assert writer.end_group(["5", "bogus"], declared=3) == "R"
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    assert ["IK5", "R", "3"] in segs
    assert ["AK9", "R", "3", "1", "0", "5"] in segs


def test_odd_issue_values_are_made_valid(oracle: Oracle) -> None:
    out = io.BytesIO()
    with Ack999Writer(out, control=ControlNumbers(), now=NOW) as writer:
        writer.begin_group(envelope(gs06="000101"))
        writer.transaction(
            "837",
            "12",
            "005010X222A1",
            [issue("*IC", 0, "Z9", 250, "Q", set_code="99"), issue("", 3, "3")],
        )
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    # GS06 is echoed as received (a valid N0, leading zeros and all: issue 13 item 5); an ST02
    # shorter than AN 4 cannot be echoed and is padded.
    assert ["AK1", "HC", "000101", "005010X222A1"] in segs
    assert ["AK2", "837", "0012", "005010X222A1"] in segs
    assert ["IK3", "IC", "1", "", "8"] in segs and ["IK4", "99", "", "7"] in segs
    assert ["IK3", "UNK", "3", "", "3"] in segs
    assert ["IK5", "R", "5"] in segs


def test_several_groups_and_interchanges(oracle: Oracle) -> None:
    out = io.BytesIO()
    with Ack999Writer(out, control=ControlNumbers(), now=NOW) as writer:
        for isa13, gs06 in [("000000001", "1"), ("000000001", "2"), ("000000002", "1")]:
            writer.begin_group(envelope(isa13=isa13, gs06=gs06))
            writer.transaction("837", "0001", "005010X222A1", [])
            writer.transaction("837", "0002", "005010X222A1", [issue()])
            writer.end_group()
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    check_envelopes(segs)
    assert len(tagged(segs, "ISA")) == 2
    assert [g[1] for g in tagged(segs, "GE")] == ["2", "1"]
    assert [a[2] for a in tagged(segs, "AK1")] == ["1", "2", "1"]
    assert writer.groups == 3 and writer.rejected_sets == 3


@pytest.mark.interop
def test_same_shape_as_corpus_rejection() -> None:
    """imsweb's eMedNY 999 rejecting one 837: same segments as ours for the same issue."""
    sample = (CORPUS / "imsweb-x12-parser/x12_999_rejected.txt").read_text()
    theirs = [s.split("*")[0] for s in sample.replace("\n", "").split("~") if s]
    out = io.BytesIO()
    with Ack999Writer(out, control=ControlNumbers(), now=NOW) as writer:
        writer.begin_group(envelope(gs06="28"))
        writer.transaction("837", "0028", "005010X223A2", [issue("NM", 17, "1")])
    ours = [s[0] for s in segments(out.getvalue())]
    assert ours == theirs
