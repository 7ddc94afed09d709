"""Output held back until a transaction set's SE proves it sound: in memory, then on disk.

The filtered 837, the decisions and the 277CA's claim records of a set wait for its SE.
Appending to a list costs a few tens of nanoseconds per claim where
``SpooledTemporaryFile.write`` (interpreted Python, with its rollover check) cost about a
microsecond; past ``limit`` bytes everything moves to a temporary file, so memory stays bounded
by the limit whatever the size of the set.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Final

COPY_BLOCK: Final = 1 << 20


class Spool:
    """Bytes written in order, read back once (``blocks``, ``copy_to``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0  # bytes written so far
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._chunks.append(data)
        if self.size > self.limit:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            self._file.writelines(self._chunks)
            self._chunks = []

    def blocks(self) -> Iterator[bytes]:
        """What was written, in order, in blocks of about COPY_BLOCK bytes (not aligned to
        anything: a caller that needs whole lines or segments cuts them itself)."""
        if self._file is not None:
            self._file.seek(0)
            while block := self._file.read(COPY_BLOCK):
                yield block
            return
        # joined in blocks: a write per chunk costs a call each, one join all the memory again
        held: list[bytes] = []
        size = 0
        for chunk in self._chunks:
            held.append(chunk)
            size += len(chunk)
            if size >= COPY_BLOCK:
                yield b"".join(held)
                held, size = [], 0
        if held:
            yield b"".join(held)

    def copy_to(self, out: IO[bytes]) -> int:
        """Write everything to ``out``; returns the byte count."""
        for block in self.blocks():
            out.write(block)
        return self.size

    def close(self) -> None:
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None


class RecordSpool:
    """Records (byte strings) written in order and read back one by one: what a writer must hold
    until a set ends, whatever its content. Up to ``limit`` bytes they are kept as they came (read
    back without a copy); past it they go to a temporary file, each behind a 4-byte length,
    written in batches of about ``limit`` bytes (a write per record cost more than the record)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0  # bytes appended so far
        self.count = 0
        self._records: list[bytes] = []  # not yet on disk
        self._held = 0  # their bytes
        self._file: IO[bytes] | None = None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def append(self, record: bytes) -> None:
        self.count += 1
        self.size += len(record)
        self._records.append(record)
        self._held += len(record)
        if self._held > self.limit:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        framed: list[bytes] = []
        for record in self._records:
            framed.append(len(record).to_bytes(4, "big"))
            framed.append(record)
        self._file.write(b"".join(framed))
        self._records, self._held = [], 0

    def records(self) -> Iterator[bytes]:
        if self._file is None:
            yield from self._records
            return
        self._spill()
        self._file.seek(0)
        buf = b""
        while block := self._file.read(COPY_BLOCK):
            buf += block
            pos = 0
            while pos + 4 <= len(buf):
                end = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
                if end > len(buf):
                    break
                yield buf[pos + 4 : end]
                pos = end
            buf = buf[pos:]

    def close(self) -> None:
        self._records, self._held = [], 0
        if self._file is not None:
            self._file.close()
            self._file = None
