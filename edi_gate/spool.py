"""Output held back until a transaction set's SE proves it sound: in memory, then on disk.

The filtered 837, the decisions and the 277CA's claim records of a set wait for its SE.
Appending to a list costs a few tens of nanoseconds per claim where
``SpooledTemporaryFile.write`` (interpreted Python, with its rollover check) cost about a
microsecond; past ``limit`` bytes everything moves to a temporary file, so memory stays bounded
by the limit whatever the size of the set.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Final, Generic, TypeVar

COPY_BLOCK: Final = 1 << 20
T = TypeVar("T")


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


class RecordSpool(Generic[T]):
    """Records written in order and read back once, in order: what a writer must hold until a
    set ends, whatever its content.

    Up to ``limit`` bytes (each record's size as the caller estimates it, objects included) the
    records are kept as they came and read back as they are: no encoding, no copy. Past it, the
    held records are packed (``pack``: a record to bytes, ``unpack`` back) into one batch, each
    behind a 4-byte length, and written to a temporary file with one write; a write or an
    encoding per record cost more than the record. Memory stays bounded by ``limit``.
    """

    def __init__(
        self,
        limit: int,
        pack: Callable[[T], bytes],
        unpack: Callable[[bytes], T],
    ) -> None:
        self.limit = limit
        self.count = 0
        self._pack = pack
        self._unpack = unpack
        self._held: list[T] = []  # not yet on disk
        self._held_bytes = 0  # their estimated size
        self._file: IO[bytes] | None = None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def append(self, record: T, size: int) -> None:
        """Hold ``record``, of about ``size`` bytes in memory."""
        self.count += 1
        self._held.append(record)
        self._held_bytes += size
        if self._held_bytes > self.limit:
            self._spill()

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        pack = self._pack
        framed: list[bytes] = []
        for record in self._held:
            data = pack(record)
            framed.append(len(data).to_bytes(4, "big"))
            framed.append(data)
        self._file.write(b"".join(framed))
        self._held, self._held_bytes = [], 0

    def records(self) -> Iterator[T]:
        """Every record appended, in order (once: the spool is closed after)."""
        if self._file is None:
            yield from self._held
            return
        self._spill()
        unpack = self._unpack
        for data in _frames(self._file):
            yield unpack(data)

    def close(self) -> None:
        self._held, self._held_bytes = [], 0
        if self._file is not None:
            self._file.close()
            self._file = None


def _frames(file: IO[bytes]) -> Iterator[bytes]:
    """The length-framed records of ``file``, from its start."""
    file.seek(0)
    buf = b""
    while block := file.read(COPY_BLOCK):
        buf += block
        pos = 0
        while pos + 4 <= len(buf):
            end = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
            if end > len(buf):
                break
            yield buf[pos + 4 : end]
            pos = end
        buf = buf[pos:]
