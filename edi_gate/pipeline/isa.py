"""A cheap scan for interchange (ISA) boundaries, without parsing a single segment.

Why: the watcher must know who sent a file (ISA06) before choosing the partner's rules, and
replay splits one large file into independent pieces at interchange boundaries so several
processes can work on it. Both need only where each ISA starts, found in one pass of ``find``.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ISA_LENGTH = 106  # fixed-length header: the segment terminator is its last byte
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Interchange:
    """Where one interchange starts in a file, and what its ISA says about the sender."""

    offset: int
    sender_qualifier: str
    sender: str


def _first_isa(data: bytes | mmap.mmap) -> int | None:
    start = 0
    if data[:3] == _BOM:
        start = 3
    size = len(data)
    while start < size and data[start : start + 1] in (b" ", b"\t", b"\r", b"\n"):
        start += 1
    return start if data[start : start + 3] == b"ISA" else None


def interchange_offsets(data: bytes | mmap.mmap) -> list[int]:
    """Byte offsets of every ISA that starts a segment (empty when the data does not open with
    one). An "ISA" counts only right after the previous interchange's segment terminator (and
    optional line breaks), so the letters inside a name or a free-text element never split."""
    first = _first_isa(data)
    if first is None:
        return []
    offsets = [first]
    terminator = data[first + ISA_LENGTH - 1 : first + ISA_LENGTH]
    position = first + ISA_LENGTH
    while True:
        found = data.find(b"ISA", position)
        if found < 0:
            return offsets
        back = found - 1
        while back > first and data[back : back + 1] in (b" ", b"\t", b"\r", b"\n"):
            back -= 1
        if terminator and data[back : back + 1] == terminator:
            offsets.append(found)
            terminator = data[found + ISA_LENGTH - 1 : found + ISA_LENGTH] or terminator
            position = found + ISA_LENGTH
        else:
            position = found + 3


def _parse_header(data: bytes | mmap.mmap, offset: int) -> Interchange:
    header = bytes(data[offset : offset + ISA_LENGTH])
    separator = header[3:4] or b"*"
    fields = header.split(separator)
    qualifier = fields[5].decode("latin-1").strip() if len(fields) > 6 else ""
    sender = fields[6].decode("latin-1").strip() if len(fields) > 6 else ""
    return Interchange(offset, qualifier, sender)


def scan_interchanges(path: str | os.PathLike[str]) -> list[Interchange]:
    """Every interchange of a file with its sender, read through a memory map (no copy)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return []
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return [_parse_header(data, offset) for offset in interchange_offsets(data)]


def byte_ranges(path: str | os.PathLike[str], target_size: int) -> Iterator[tuple[int, int]]:
    """Split a file into (start, end) ranges of whole interchanges, each about ``target_size``
    bytes or more. A file without a readable ISA is one range, left for the parser to refuse."""
    size = Path(path).stat().st_size
    if size <= target_size:
        yield 0, size
        return
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        offsets = interchange_offsets(data)
    if len(offsets) <= 1:
        yield 0, size
        return
    start = 0  # the first range keeps anything before the first ISA (a BOM, blank lines)
    for offset in offsets[1:]:
        if offset - start >= target_size:
            yield start, offset
            start = offset
    yield start, size
