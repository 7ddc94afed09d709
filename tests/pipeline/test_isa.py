"""The cheap interchange scan that routes files by sender and splits big files for replay."""

from __future__ import annotations

from pathlib import Path

from edi_gate.pipeline.isa import byte_ranges, interchange_offsets, scan_interchanges
from tests.pipeline.support import demo_variant


def test_offsets_of_concatenated_interchanges_with_line_breaks():
    one = demo_variant("A")
    two = demo_variant("B", sender="OTHER02")
    data = one + b"\r\n" + two + b"\n" + one
    offsets = interchange_offsets(data)
    assert offsets == [0, len(one) + 2, len(one) + 2 + len(two) + 1]
    assert all(data[o : o + 3] == b"ISA" for o in offsets)


def test_isa_inside_an_element_is_not_a_boundary():
    data = demo_variant("A").replace(b"NM1*IL*1*PATIENT1", b"NM1*IL*1*ISA*PATIENT1", 1)
    assert interchange_offsets(data) == [0]


def test_no_isa_no_offsets():
    assert interchange_offsets(b"garbage\n") == []
    assert interchange_offsets(b"\xef\xbb\xbf\r\nISA" + demo_variant("A")[3:]) == [5]


def test_senders_and_ranges(tmp_path: Path):
    one, two = demo_variant("A"), demo_variant("B", sender="OTHER02")
    path = tmp_path / "x.837"
    path.write_bytes(one + two + one)
    assert [i.sender for i in scan_interchanges(path)] == ["DEMOSUB01", "OTHER02", "DEMOSUB01"]
    assert list(byte_ranges(path, 1 << 20)) == [(0, path.stat().st_size)]
    ranges = list(byte_ranges(path, 1))
    assert ranges == [
        (0, len(one)),
        (len(one), len(one) + len(two)),
        (len(one) + len(two), path.stat().st_size),
    ]
    assert list(byte_ranges(path, len(one) + 1)) == [
        (0, len(one) + len(two)),
        (len(one) + len(two), path.stat().st_size),
    ]
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert scan_interchanges(empty) == []
