"""The filtered 837: accepted claims byte for byte, hierarchy and counts repaired, pyx12-valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    CORPUS,
    FIXTURES,
    RejectClaims,
    assert_conservation,
    pyx12_verdict,
    run_filter,
)

DEMO = (FIXTURES / "demo.837").read_bytes()
ALL_DEMO = [f"DEMO-00{i}" for i in range(1, 9)]


def segments(data: bytes) -> list[list[str]]:
    return [seg.strip().split("*") for seg in data.decode().split("~") if seg.strip()]


def hl_rows(data: bytes) -> list[list[str]]:
    return [seg[1:] for seg in segments(data) if seg[0] == "HL"]


def check_hierarchy(data: bytes) -> None:
    """HL01 runs 1..n, parents precede children, HL04 says whether children follow."""
    rows = hl_rows(data)
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    levels = {r[0]: r[2] for r in rows}
    for index, row in enumerate(rows):
        hl_id, parent, level = row[0], row[1], row[2]
        expected_parent_level = {"20": None, "22": "20", "23": "22"}[level]
        assert (levels.get(parent) if parent else None) == expected_parent_level
        children = [r for r in rows[index + 1 :] if r[1] == hl_id]
        if len(row) > 3:
            assert row[3] == ("1" if children else "0")


def check_counts(data: bytes) -> None:
    segs = segments(data)
    start = None
    for index, seg in enumerate(segs):
        if seg[0] == "ST":
            start = index
        elif seg[0] == "SE":
            assert int(seg[1]) == index - start + 1


@pytest.mark.parametrize(
    "rejected",
    [
        {"DEMO-001"},  # first
        {"DEMO-004", "DEMO-005"},  # middle, with a 2000C patient loop
        {"DEMO-008"},  # last, a 2000C patient loop
        {"DEMO-001", "DEMO-005", "DEMO-008"},
    ],
)
def test_rejected_claims_leave_a_valid_renumbered_837(rejected, tmp_path: Path):
    result = run_filter(DEMO, RejectClaims(rejected))
    assert_conservation(result, DEMO)
    kept = [c for c in ALL_DEMO if c not in rejected]
    assert [r["claim"] for r in result.decisions if r["decision"] == "accepted"] == kept
    check_hierarchy(result.output)
    check_counts(result.output)
    path = tmp_path / "filtered.837"
    path.write_bytes(result.output)
    accepted, report = pyx12_verdict(path)
    assert accepted, report


def test_accepted_claims_are_byte_identical_to_their_input():
    result = run_filter(DEMO, RejectClaims({"DEMO-002"}))
    body = DEMO.split(b"CLM*DEMO-003")[1].split(b"HL*")[0]
    assert b"CLM*DEMO-003" + body in result.output


def test_nothing_left_drops_the_whole_interchange():
    result = run_filter(DEMO, RejectClaims(set(ALL_DEMO)))
    assert result.output == b""
    assert result.summary.rejected == 8


@pytest.mark.interop
def test_a_transaction_left_empty_is_dropped_and_counts_follow():
    data = (CORPUS / "oopfactory-x12/Example1_2_And_3_Combined.txt").read_bytes()
    first = run_filter(data, RejectClaims())
    ids = [r["claim"] for r in first.decisions]
    by_txn = {}
    for record in first.decisions:
        by_txn.setdefault(record["transaction"], []).append(record["claim"])
    (txn, claims), *_ = by_txn.items()
    result = run_filter(data, RejectClaims(set(claims)))
    assert_conservation(result, data)
    segs = segments(result.output.removeprefix(b"\xef\xbb\xbf"))
    sts = [s for s in segs if s[0] == "ST"]
    assert len(sts) == len(by_txn) - 1 and all(s[2] != txn for s in sts)
    ge = next(s for s in segs if s[0] == "GE")
    assert ge[1] == str(len(sts))
    assert len(ids) == len(result.decisions)


def test_line_scope_removes_lines_renumbers_and_resums(tmp_path: Path):
    result = run_filter(DEMO, RejectClaims(lines={"DEMO-006": {1}}), scope="line")
    assert_conservation(result, DEMO)
    record = next(r for r in result.decisions if r["claim"] == "DEMO-006")
    assert record["decision"] == "accepted"
    assert [ln["decision"] for ln in record["lines"]] == ["rejected", "accepted"]
    text = result.output.decode()
    claim = text.split("CLM*DEMO-006*")[1].split("HL*")[0]
    assert claim.startswith("200*")  # CLM02 = the remaining SV102
    assert "SV1*HC:76003" not in claim and "LX*1~\nSV1*HC:20610*200" in claim
    path = tmp_path / "lines.837"
    path.write_bytes(result.output)
    accepted, report = pyx12_verdict(path)
    assert accepted, report


def test_line_scope_rejects_the_claim_when_no_line_is_left():
    result = run_filter(DEMO, RejectClaims(lines={"DEMO-006": {1, 2}}), scope="line")
    record = next(r for r in result.decisions if r["claim"] == "DEMO-006")
    assert record["decision"] == "rejected"
    assert b"CLM*DEMO-006" not in result.output


def test_claim_scope_rejects_the_claim_for_a_line_finding():
    result = run_filter(DEMO, RejectClaims(lines={"DEMO-006": {1}}))
    assert next(r for r in result.decisions if r["claim"] == "DEMO-006")["decision"] == "rejected"


def test_a_set_of_claimless_levels_is_spooled_and_passes_as_it_came():
    """HL levels before a set's first claim wait for its SE; 800k of them held 726 MB. They go to
    a spool (on disk past CLAIMLESS_SPOOL_BYTES) and a set that never has a claim passes whole."""
    import io

    from edi_gate.pipeline.filter import FilterRun
    from edi_gate.x12 import writer

    head = DEMO[: DEMO.index(b"ST*837")]
    header = DEMO[DEMO.index(b"ST*837") : DEMO.index(b"HL*2*1*22")]
    levels = b"".join(
        b"HL*%d*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*DOE*JANE****MI*M%08d~\n" % (n, n)
        for n in range(2, 20_002)
    )
    body = header + levels
    count = body.count(b"~") + 1
    data = head + body + b"SE*%d*0001~\nGE*1*101~\nIEA*1*000000101~\n" % count
    from edi_gate.x12.loops import (
        EventReader,
        GroupStart,
        HierarchyLevel,
        InterchangeStart,
        TransactionEnd,
        TransactionStart,
    )
    from edi_gate.x12.tokenizer import SegmentReader

    out = io.BytesIO()
    filtered = writer.FilteredWriter(out)
    on_disk = False
    for event in EventReader(SegmentReader(io.BytesIO(data), "levels.837"), "levels.837"):
        if isinstance(event, InterchangeStart):
            filtered.interchange_start(event)
        elif isinstance(event, GroupStart):
            filtered.group_start(event)
        elif isinstance(event, TransactionStart):
            filtered.transaction_start(event)
        elif isinstance(event, HierarchyLevel):
            filtered.level(event)
        elif isinstance(event, TransactionEnd):
            on_disk = filtered._claimless is not None and filtered._claimless.on_disk
            assert not event.issues
            filtered.transaction_end(event, True)
    assert len(levels) > writer.CLAIMLESS_SPOOL_BYTES and on_disk
    whole = io.BytesIO()
    FilterRun(RejectClaims(set()), out=whole).run(io.BytesIO(data), "levels.837")
    assert whole.getvalue() == data


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("150.00", "150"),
        ("150.50", "150.5"),
        ("-12.50", "-12.5"),
        ("1E+2", "100"),
        ("0.000", "0"),
        ("-0.00", "0"),  # X12 R: the minus sign marks a negative value; zero has none
        ("-0", "0"),
        ("0.01", "0.01"),
    ],
)
def test_one_amount_formatter_for_every_output(value: str, text: str) -> None:
    """The filtered 837's re-summed CLM02 and the acknowledgments' amounts share one formatter
    (they disagreed on -0.00: the writer said '-0')."""
    from decimal import Decimal

    from edi_gate.acks.x12out import amount
    from edi_gate.x12.writer import format_amount

    assert format_amount(Decimal(value)) == text
    assert amount(Decimal(value)) == amount(value) == text
