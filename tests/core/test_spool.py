"""Spool: a transaction set's output held until its SE, in memory up to a limit, then on disk.

Whatever the limit, what comes out is exactly what went in, in order: the filtered 837 and the
decisions of a set are copied from it once the set proves sound.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_gate.decisions.writer import DecisionSpool
from edi_gate.spool import COPY_BLOCK, Spool

pieces = st.lists(st.binary(max_size=300), max_size=60)


@given(pieces, st.integers(min_value=0, max_value=4000))
def test_copy_to_returns_everything_in_order(chunks: list[bytes], limit: int) -> None:
    spool = Spool(limit)
    for chunk in chunks:
        spool.write(chunk)
    out = io.BytesIO()
    assert spool.copy_to(out) == sum(map(len, chunks))
    assert out.getvalue() == b"".join(chunks)
    assert spool.on_disk == (sum(map(len, chunks)) > limit)
    spool.close()


def test_spills_to_disk_past_the_limit_and_keeps_nothing_in_memory() -> None:
    spool = Spool(1000)
    spool.write(b"a" * 600)
    assert not spool.on_disk
    spool.write(b"b" * 600)
    assert spool.on_disk
    assert spool._chunks == []  # what was held moved to the file
    spool.write(b"c" * 10)
    assert b"".join(spool.blocks()) == b"a" * 600 + b"b" * 600 + b"c" * 10
    spool.close()
    assert not spool.on_disk


def test_memory_blocks_are_joined_to_about_copy_block() -> None:
    """One write per chunk would cost a call per claim: blocks join chunks up to COPY_BLOCK."""
    spool = Spool(1 << 30)
    chunk = b"x" * 1000
    for _ in range(3 * COPY_BLOCK // 1000):
        spool.write(chunk)
    sizes = [len(block) for block in spool.blocks()]
    assert len(sizes) in (3, 4)
    assert all(size >= COPY_BLOCK for size in sizes[:-1])
    assert sum(sizes) == spool.size


@pytest.mark.parametrize("limit", [1 << 30, 50])
def test_decision_lines_come_back_whole(limit: int) -> None:
    """A decisions sink may read whole lines: every text handed on ends at a line end, in memory
    and after the spool went to disk (where blocks cut lines anywhere)."""
    spool = DecisionSpool(limit)
    records = [{"claim": f"C{i}", "note": "y" * (i % 37)} for i in range(200)]
    for record in records:
        spool.add(json.dumps(record))
    texts = list(spool.lines())
    assert all(text.endswith("\n") for text in texts)
    assert [json.loads(line) for line in "".join(texts).splitlines()] == records
    assert list(spool.records()) == records
    spool.close()


@pytest.mark.parametrize("limit", [64 << 20, 100])
def test_records_come_back_whole_from_memory_or_disk(limit):
    from edi_gate.spool import RecordSpool

    records = [b"", b"x" * 5000, bytes(range(256)) * 9, b"\x1e\x1f~\n"] * 300
    spool = RecordSpool(limit, bytes, bytes)
    for record in records:
        spool.append(record, len(record))
    assert spool.on_disk == (limit == 100) and spool.count == len(records)
    assert list(spool.records()) == records
    spool.close()
