"""Limits: oversized input is an input error, never unbounded memory or time.

Defaults (``edi_gate.x12.loops.Limits``): a segment (hence an element) at most 1 MiB, a claim, HL
level or set header at most 20,000 segments (X12Error: the run fails, exit 65), a claim at most 50
service lines (the X222A1 repeat of loop 2400) and a set at most 100,000 HLs (SyntaxIssue: the set
is rejected), at most 1,000 syntax issues kept per set. HL depth is bounded by the hierarchy rules.
"""

from __future__ import annotations

import io
import re
import time
import tracemalloc

import pytest

from edi_gate.x12.errors import X12Error
from edi_gate.x12.loops import EventReader, Limits, TransactionEnd
from edi_gate.x12.tokenizer import SegmentReader
from fuzz.oracle import check, run_pipeline
from tests.helpers import FIXTURES

DEMO = (FIXTURES / "demo.837").read_bytes()
ISA = DEMO[: DEMO.index(b"~") + 1]
LINE = b"LX*1~\nSV1*HC:70553:26*420*UN*1***1~\nDTP*472*D8*20250310~\nREF*6R*DEMO-001-1~\n"


def fix_se(data: bytes) -> bytes:
    """Recount SE01 of a single-set file."""
    body = data[data.index(b"ST*837") : data.index(b"\nSE*") + 1]
    count = body.count(b"~") + 1
    return re.sub(rb"\nSE\*\d+\*", b"\nSE*%d*" % count, data)


def with_lines(n: int) -> bytes:
    lines = b"".join(LINE.replace(b"LX*1~", b"LX*%d~" % i) for i in range(1, n + 1))
    return fix_se(DEMO.replace(LINE, lines, 1))


class Endless(io.RawIOBase):
    """A stream that never ends and never holds a segment terminator."""

    def __init__(self, head: bytes, filler: bytes) -> None:
        self.head, self.filler, self.served = head, filler, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = 1 << 16 if n is None or n < 0 else n
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
        else:
            out = (self.filler * (n // len(self.filler) + 1))[:n]
        self.served += len(out)
        return out


@pytest.mark.parametrize("filler", [b"A", b"*"], ids=["letters", "elements"])
def test_a_file_that_never_ends_a_segment_is_refused_with_bounded_memory(filler):
    stream = Endless(ISA + b"GS*HC*X*Y*20250310*0900*1*X*005010X222A1~ST*837*1~", filler)
    tracemalloc.start()
    try:
        with pytest.raises(X12Error, match="segment longer than 1048576 bytes without a termin"):
            for _ in SegmentReader(stream, "endless"):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.served < 4 << 20
    assert peak < 16 << 20


@pytest.mark.parametrize(
    "filler", [b" ", b"~", b"~\r\n", b" \t\n"], ids=["spaces", "empty", "crlf", "mixed"]
)
def test_runs_of_blanks_cost_nothing_and_are_not_copied(filler):
    """Whitespace and empty segments, 4 MiB of them inside an interchange and after its IEA:
    dropped as read, never accumulated (that was quadratic, and copied to the output), so the
    filtered 837 is the one the same file without them gives."""
    run = filler * ((4 << 20) // len(filler))
    cut = DEMO.index(b"GS*")
    plain = DEMO[: cut - 1] + DEMO[cut:].rstrip()  # without the line end before GS
    data = DEMO[: cut - 1] + run + DEMO[cut:].rstrip() + run
    started = time.perf_counter()
    for _ in SegmentReader(io.BytesIO(data), "blanks"):
        pass
    assert time.perf_counter() - started < 10  # ~0.3 s; was quadratic (memory: tests/bench)
    outcome = run_pipeline(data)
    assert outcome.error is None, outcome.error
    assert outcome.output == run_pipeline(plain).output


def test_blanks_after_the_last_interchange_are_dropped_beyond_a_short_run():
    for trailer, kept in ((b"\n", b"\n"), (b"\r\n  ", b"\r\n  "), (b" " * 300, b"")):
        reader = SegmentReader(io.BytesIO(DEMO.rstrip() + trailer), "x", chunk_size=64)
        list(reader)
        assert reader.trailing == kept


def test_giant_element_beyond_a_configured_segment_bound():
    data = DEMO.replace(b"N3*1 TEST ST~", b"N3*" + b"X" * 5000 + b"~", 1)
    with pytest.raises(X12Error, match=r"segment \d+: segment longer than 1000 bytes"):
        for _ in SegmentReader(io.BytesIO(data), "giant", chunk_size=512, max_segment_bytes=1000):
            pass
    # Within the default bound the set is processed (the element is just data).
    check(data)


def test_fifty_lines_pass_fifty_one_reject_the_set():
    assert check(with_lines(50)).summary.rejected_transactions == 0
    outcome = check(with_lines(51))
    assert outcome.summary.rejected_transactions == 1
    messages = {r["findings"][0]["message"] for r in outcome.decisions}
    assert any("(LX): claim 1 of the file has more than 50 service lines" in m for m in messages)


def test_a_claim_beyond_the_segment_bound_is_an_input_error():
    data = fix_se(DEMO.replace(LINE, LINE + b"NTE*ADD*NOTE~\n" * 500, 1))
    limits = Limits(max_loop_segments=200)
    segments = SegmentReader(io.BytesIO(data), "long")
    with pytest.raises(X12Error, match=r"\(NTE\).*claim 1 of the file has more than 200 segments"):
        for _ in EventReader(segments, "long", limits=limits):
            pass
    check(data)  # the default bound (20,000) lets it through


def test_a_level_or_header_beyond_the_segment_bound_is_an_input_error():
    limits = Limits(max_loop_segments=50)
    level = DEMO.replace(b"N3*1 TEST ST~", b"N3*1 TEST ST~" + b"REF*SY*1~" * 60, 1)
    header = DEMO.replace(b"HL*1**20*1~", b"PER*IC*X~" * 60 + b"HL*1**20*1~", 1)
    for data, what in (
        (level, r"the HL level at segment \d+"),
        (header, "the transaction set header"),
    ):
        with pytest.raises(X12Error, match=f"{what} has more than 50 segments"):
            for _ in EventReader(SegmentReader(io.BytesIO(data), "x"), "x", limits=limits):
                pass


@pytest.mark.parametrize("where", ["claim", "level", "header"])
def test_every_held_loop_has_a_byte_budget(where):
    """Few segments of a megabyte each (200 NTEs of 1 MiB held 828 MB): the byte budget
    max_loop_bytes (2 MiB by default) stops them, whatever the segment count."""
    note = b"NTE*ADD*" + b"N" * 1000 + b"~\n"
    anchor = {"claim": b"CLM*DEMO-001", "level": b"HL*2*1*22*0~", "header": b"HL*1**20*1~"}[where]
    at = DEMO.index(anchor) + (
        0 if where == "header" else DEMO.index(b"~", DEMO.index(anchor)) + 2 - DEMO.index(anchor)
    )
    data = fix_se(DEMO[:at] + note * 20 + DEMO[at:])
    limits = Limits(max_loop_bytes=10_000)
    with pytest.raises(X12Error, match="holds more than 10000 bytes .limit max_loop_bytes."):
        for _ in EventReader(SegmentReader(io.BytesIO(data), "x"), "x", limits=limits):
            pass
    check(data)  # within the default budget


def test_hl_levels_before_the_first_claim_have_a_byte_budget():
    hls = b"".join(b"HL*%d*1*22*0~\nNM1*IL*1*X~\n" % (100 + n) for n in range(200))
    data = fix_se(DEMO.replace(b"HL*2*1*22*0~", hls + b"HL*2*1*22*0~", 1))
    limits = Limits(max_claimless_bytes=2000)
    with pytest.raises(X12Error, match="HL levels before its first claim"):
        for _ in EventReader(SegmentReader(io.BytesIO(data), "x"), "x", limits=limits):
            pass
    check(data)


def test_a_million_numbered_hls_cost_a_byte_each():
    from edi_gate.x12.loops import HlIds

    ids = HlIds(4_000_000)
    for n in range(1, 1_000_001):
        assert ids.add(str(n), "22" if n % 2 else "20")
    assert len(ids.numbered) == 1_000_001 and not ids.named
    assert ids.level("999999") == "22" and ids.level("1000001") is None
    assert ids.add("A1", "23") and ids.level("A1") == "23" and ids.level("01") is None


def test_deep_hl_chains_are_syntax_errors_not_recursion():
    chain = b"".join(b"HL*%d*%d*23*1~\n" % (100 + n, 99 + n if n else 2) for n in range(5000))
    data = fix_se(DEMO.replace(b"CLM*DEMO-001", chain + b"CLM*DEMO-001", 1))
    outcome = check(data)
    assert outcome.summary.rejected_transactions == 1
    message = outcome.decisions[0]["findings"][0]["message"]
    assert "(HL): patient HL's parent is not a subscriber HL" in message


def test_too_many_hls_and_too_many_issues_are_capped():
    hls = b"".join(b"HL*%d*1*22*0~\n" % (100 + n) for n in range(30))
    data = fix_se(DEMO.replace(b"HL*2*1*22*0~", hls + b"HL*2*1*22*0~", 1))
    limits = Limits(max_hl_per_set=10, max_issues_per_set=5)
    ends = [
        e
        for e in EventReader(SegmentReader(io.BytesIO(data), "x"), "x", limits=limits)
        if isinstance(e, TransactionEnd)
    ]
    assert "more than 10 HL segments in the set" in ends[0].issues[0].message
    junk = fix_se(DEMO.replace(b"HL*1**20*1~", b"HL*1**20*1~" + b"ZZ*1~" * 50, 1))
    ends = [
        e
        for e in EventReader(SegmentReader(io.BytesIO(junk), "x"), "x", limits=limits)
        if isinstance(e, TransactionEnd)
    ]
    assert len(ends[0].issues) == 5


@pytest.mark.parametrize(
    "old,new,text",
    [
        (b"SE*160*", b"SE*99999999999999999999999*", "SE01 says (not a number)"),
        (b"LX*1~", b"LX*999999999999999999999999999~", None),
        (b"CLM*DEMO-001*420*", b"CLM*DEMO-001*" + b"9" * 400 + b"*", "CLM02"),
        (b"SV1*HC:70553:26*420*UN*1*", b"SV1*HC:70553:26*420*UN*1E+999999999*", "SV104 units"),
    ],
    ids=["SE01", "LX01", "CLM02", "SV104"],
)
def test_huge_counts_and_numbers(old, new, text):
    outcome = check(DEMO.replace(old, new, 1))
    if text is not None:
        assert outcome.summary.rejected_transactions == 1
        assert text in outcome.decisions[0]["findings"][0]["message"]


def test_long_amounts_and_dates_are_never_memo_keys():
    """Amounts and dates are memoised by their text (edi_gate.memo, 4,096 entries): an element
    may be up to a segment long, so only texts of a number's or a date's length become keys,
    or a few thousand distinct long ones could hold gigabytes."""
    from edi_gate.x12 import loops

    long_number = b"1" * 50_000
    long_date = b"2" * 50_000
    data = DEMO.replace(b"SV1*HC:70553:26*420*", b"SV1*HC:70553:26*" + long_number + b"*", 1)
    data = data.replace(b"DTP*472*D8*20250310~", b"DTP*472*D8*" + long_date + b"~", 1)
    events = list(EventReader(SegmentReader(io.BytesIO(data), "x"), "x"))
    issues = [issue for e in events if isinstance(e, TransactionEnd) for issue in e.issues]
    assert any("SV102" in str(issue) for issue in issues)
    assert any("DTP03" in str(issue) for issue in issues)
    assert all(len(key) <= loops.MAX_NUMBER_LENGTH for key in loops._DECIMALS._values)
    assert all(len(key) == loops.DATE_LENGTH for key in loops._DATES._values)


def test_memos_keyed_by_input_text_are_bounded_in_bytes():
    """3,000 claims with 20 kB taxonomies held ~60 MB for the life of a watch process: every
    memo keyed by input text keeps only short keys (edi_gate.memo.TextMemo)."""
    from edi_gate.rules.engine import Engine

    engine = Engine.load()
    ruleset = engine.current
    long_taxonomy = "2085R0202X" + "Y" * 20_000
    for n in range(50):
        ruleset.grants_for(long_taxonomy + str(n))
        ruleset.family("imaging").__contains__("7" * 20_000 + str(n))
    assert all(len(k) <= 10 for k in ruleset._specialty_memo._values)
    assert all(len(k) < 100 for k in ruleset._grant_memo for k in k)
    for codes in ruleset.families.values():
        assert all(len(k) <= 5 for k in codes._seen._values)
    data = DEMO.replace(b"SV1*HC:70553:26*", b"SV1*HC:" + b"7" * 20_000 + b":26*", 1)
    from edi_gate.x12.model import Claim

    claims = [
        e for e in EventReader(SegmentReader(io.BytesIO(data), "x"), "x") if isinstance(e, Claim)
    ]
    for claim in claims:
        engine.evaluate(claim)
    assert any(len(ln.procedure) > 10_000 for ln in claims[0].lines)
    for plan in engine._plans.values():
        assert all(len(k) <= 8 for k in plan._office._values)
