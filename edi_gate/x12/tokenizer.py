"""Streaming X12 tokenizer: bytes in, segments out.

Reads the input in chunks and splits it on the segment terminator that each ISA declares, so memory
stays flat whatever the file size and several interchanges with different delimiters may follow each
other. A segment keeps its raw bytes (including whitespace that preceded it) so writers can re-emit
it byte for byte; everything else is parsed lazily, because most segments of an 837 are never looked
at element by element.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from edi_gate.vocabulary import ISA_FIELDS_LENGTH, ISA_LENGTH
from edi_gate.x12.errors import X12Error, shown_id, shown_name

BOM: Final = b"\xef\xbb\xbf"
WHITESPACE: Final = b" \t\r\n"
DEFAULT_CHUNK_SIZE: Final = 1 << 20
DEFAULT_MAX_SEGMENT_BYTES: Final = 1 << 20
# Blanks (whitespace, empty segments) kept before a segment so normal files round-trip byte for
# byte; a longer run is dropped as it is read (see SegmentReader).
KEPT_BLANK: Final = 256
FLOOD: Final = b" " * (KEPT_BLANK + 1)
# "ISA" then ISA01..ISA16: the fixed widths X12 gives the interchange header; with the 16 element
# separators they make its ISA_FIELDS_LENGTH characters before the terminator.
ISA_WIDTHS: Final = (3, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators one ISA declares."""

    element: bytes
    component: bytes
    segment: bytes
    repetition: bytes | None = None


class Segment:
    """One segment: its raw bytes, its text without surrounding whitespace, and its tag."""

    __slots__ = ("raw", "text", "tag", "ordinal", "delimiters", "_elements")

    def __init__(
        self, raw: bytes, text: bytes, tag: bytes, ordinal: int, delimiters: Delimiters
    ) -> None:
        self.raw = raw
        self.text = text
        self.tag = tag
        self.ordinal = ordinal
        self.delimiters = delimiters
        self._elements: list[bytes] | None = None

    @property
    def elements(self) -> list[bytes]:
        """All elements, the tag first: ``elements[1]`` is the segment's 01 element."""
        if self._elements is None:
            self._elements = self.text.split(self.delimiters.element)
        return self._elements

    def element(self, position: int) -> str:
        """Element ``position`` (1-based) as text, or '' when absent."""
        elements = self._elements
        if elements is None:
            elements = self._elements = self.text.split(self.delimiters.element)
        return elements[position].decode("latin-1") if position < len(elements) else ""

    def components(self, position: int) -> list[str]:
        """Element ``position`` split into its components."""
        value = self.elements[position] if position < len(self.elements) else b""
        return value.decode("latin-1").split(self.delimiters.component.decode("latin-1"))

    def rewrite(self, elements: list[bytes]) -> bytes:
        """Raw bytes of this segment with new elements, keeping its surrounding whitespace."""
        start = self.raw.find(self.text)
        prefix, suffix = self.raw[:start], self.raw[start + len(self.text) :]
        return prefix + self.delimiters.element.join(elements) + suffix

    def __repr__(self) -> str:
        return f"Segment({self.ordinal}, {self.text[:60]!r})"


def parse_isa(header: bytes, *, source: str, ordinal: int) -> Delimiters:
    """Delimiters from an ISA and its terminator (ISA_LENGTH bytes), or an error naming a field."""
    parsed = _isa_delimiters(header)
    if isinstance(parsed, Delimiters):
        return parsed
    # the header goes with the error: what a TA1 can still echo (ISA13, ISA09, ISA10)
    isa = header[:ISA_FIELDS_LENGTH]
    raise X12Error(parsed, source=source, ordinal=ordinal, segment_id="ISA", isa=isa)


def _isa_delimiters(header: bytes) -> Delimiters | str:
    """The delimiters a fixed-width ISA declares, or what is wrong with it (naming the field)."""
    if len(header) < ISA_LENGTH:
        return "file ends inside the ISA header"
    element = header[3:4]
    if element.isalnum() or element in WHITESPACE:
        return f"ISA element separator {element!r} is not a delimiter"
    fields = header[:ISA_FIELDS_LENGTH].split(element)
    if len(fields) != len(ISA_WIDTHS):
        return (
            f"ISA has {len(fields) - 1} elements within its {ISA_LENGTH} characters, expected 16 "
            "(fields are fixed-width and must be padded)"
        )
    for index, (field, width) in enumerate(zip(fields, ISA_WIDTHS, strict=True)):
        if len(field) != width:
            return (
                f"ISA{index:02d} has {len(field)} characters, expected {width} "
                "(ISA fields are fixed-width)"
            )
    component = fields[16]
    terminator = header[ISA_FIELDS_LENGTH:ISA_LENGTH]
    if terminator.isalnum() or terminator in (element, component, b" "):
        return f"ISA segment terminator {terminator!r} is not a delimiter"
    inside = header.find(terminator, 0, ISA_FIELDS_LENGTH)
    if inside >= 0:
        # A field holding the terminator (ISA13 '~00000101') reads here, where the ISA is
        # fixed-width, but not wherever it is echoed: the IEA02 of the filtered output, a TA1.
        position = header.count(element, 0, inside)
        return f"ISA{position:02d} contains the segment terminator {terminator!r}"
    if component.isalnum() or component == element:
        return f"ISA16 component separator {component!r} is not a delimiter"
    repetition = fields[11]
    if repetition.isalnum() or repetition in (element, component, terminator, b" "):
        # 4010 puts the standards id 'U' here: no repetition separator
        return Delimiters(element, component, terminator, None)
    return Delimiters(element, component, terminator, repetition)


def _looks_utf16(head: bytes) -> bool:
    """A byte-order mark, or every other byte NUL (ASCII text in UTF-16): not just any NUL."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if len(head) < 4:
        return False
    return head[1::2].count(0) == len(head[1::2]) or head[0::2].count(0) == len(head[0::2])


def _describe_garbage(data: bytes) -> str:
    """What a file that should start with an ISA starts with, described, never quoted: a few bytes
    of a CSV or a letter are a patient's name as often as not."""
    head16 = data[:16]
    if _looks_utf16(head16):
        return "input looks UTF-16 encoded (NUL bytes); X12 must be an 8-bit encoding"
    if b"\x00" in head16:
        return "input is binary data (NUL bytes), not an X12 interchange"
    cut = next((i for i in range(min(len(data), 4)) if not data[i : i + 1].isalnum()), 0)
    head = data[:cut].decode("latin-1")
    if cut and shown_id(head) == head:
        return f"expected an ISA interchange header, found a {head} segment"
    if data[:64].isascii():
        return "expected an ISA interchange header, found text that is not X12"
    return "expected an ISA interchange header, found binary data that is not X12"


class SegmentReader:
    """Iterate the segments of a stream, interchange after interchange.

    ``trailing`` holds whitespace that followed the last segment, so a writer can end its output
    the same way the input ended.

    Whitespace and empty segments cost nothing: a run of them up to KEPT_BLANK bytes stays in the
    raw bytes of the segment it precedes (line ends, record padding: normal files round-trip byte
    for byte); a longer run is dropped as it is read, never held, never copied to an output.
    """

    def __init__(
        self,
        stream: BinaryIO,
        source: str = "<stdin>",
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_segment_bytes: int = DEFAULT_MAX_SEGMENT_BYTES,
    ) -> None:
        self.stream = stream
        self.source = shown_name(source)
        self.chunk_size = chunk_size
        self.max_segment_bytes = max_segment_bytes
        self.bytes_read = 0
        self.trailing = b""
        self.delimiters: Delimiters | None = None
        self._eof = False

    def _read(self) -> bytes:
        if self._eof:
            return b""
        chunk = self.stream.read(self.chunk_size)
        if not chunk:
            self._eof = True
            return b""
        self.bytes_read += len(chunk)
        return chunk

    def _skip_blank(self, buf: bytes, kept: bytes) -> tuple[bytes, bytes]:
        """Read past whitespace: (``kept`` and the whitespace, or b"" for a run longer than
        KEPT_BLANK; the data that follows)."""
        dropped = False
        while True:
            stripped = buf.lstrip(WHITESPACE)
            if not dropped and len(stripped) < len(buf):
                kept = _keep(kept, buf[: len(buf) - len(stripped)])
                dropped = not kept
            if stripped or self._eof:
                return kept, stripped
            buf = self._read()

    def __iter__(self) -> Iterator[Segment]:
        buf = self._start()
        ordinal = 0
        pending = b""  # blank bytes kept for the next segment's raw bytes (at most KEPT_BLANK)
        while True:
            # Between interchanges: whitespace, then an ISA or the end of the file.
            pending, buf = self._skip_blank(buf, pending)
            if not buf:
                self._end(ordinal, pending)
                return
            ordinal += 1
            buf, segment = self._read_isa(buf, pending, ordinal)
            yield segment
            delimiters = segment.delimiters
            terminator = delimiters.segment
            element = delimiters.element
            strip_both = terminator in WHITESPACE
            pending = b""
            flood = False  # inside a run of blanks too long to keep: dropped as it goes
            after_iea = False  # the interchange is closed: an ISA (same terminator) may follow
            closed = False
            while not closed:
                pieces = _collapse_blank_runs(buf, terminator).split(terminator)
                tail = pieces.pop()
                for index, piece in enumerate(pieces):
                    text = _text(piece, strip_both)
                    if not text:  # an empty segment
                        if not flood:
                            pending = _keep(pending, piece + terminator)
                            flood = not pending
                        continue
                    if len(piece) - len(text) > KEPT_BLANK:
                        piece = text  # a long whitespace run before the segment: not copied
                    if after_iea:
                        if not _whole_isa(piece, text):
                            # Something else, or an ISA with another terminator: read afresh.
                            buf = terminator.join([piece, *pieces[index + 1 :], tail])
                            closed = True
                            break
                        # The next interchange, split by the same terminator already: go on
                        # (re-joining the rest of the chunk for each would be quadratic).
                        ordinal += 1
                        segment = self._isa_segment(pending + piece, text + terminator, ordinal)
                        delimiters = segment.delimiters
                        element = delimiters.element
                        yield segment
                        pending, flood, after_iea = b"", False, False
                        continue
                    if pending or flood:
                        # after a long run, the segment's own leading blanks are part of it
                        piece = piece.lstrip(WHITESPACE) if flood else pending + piece
                        pending, flood = b"", False
                    tag = _tag(text, element)
                    ordinal += 1
                    yield Segment(piece, text, tag, ordinal, delimiters)
                    if tag == b"IEA":
                        after_iea = True
                if closed:
                    break
                chunk = self._read()
                if not chunk:
                    if after_iea:
                        buf = tail  # the end of the file, or something else after the IEA
                        break
                    buf = self._last_segment(tail, terminator, ordinal)
                    continue
                if flood or len(tail) - len(tail.lstrip(WHITESPACE)) > KEPT_BLANK:
                    # A run of blanks across chunks: dropped as it goes, never accumulated.
                    tail, chunk = _drop_blank(tail, chunk)
                    pending, flood = b"", True
                buf = self._grow(tail, chunk, terminator, ordinal)

    # Helpers of __iter__ for what happens once per file, interchange or chunk; per segment it
    # calls only _text and _tag (plain functions: direct C calls once compiled).

    def _start(self) -> bytes:
        """The first chunk, without its UTF-8 byte-order mark."""
        buf = self._read()
        while len(buf) < len(BOM) and not self._eof:
            buf += self._read()
        return buf[len(BOM) :] if buf.startswith(BOM) else buf

    def _end(self, ordinal: int, pending: bytes) -> None:
        """The end of the file between interchanges: refused if there were none."""
        if ordinal == 0:
            raise X12Error("file is empty: no ISA interchange header", source=self.source)
        self.trailing = pending

    def _read_isa(self, buf: bytes, pending: bytes, ordinal: int) -> tuple[bytes, Segment]:
        """The ISA that ``buf`` must start with, and what follows its terminator."""
        while len(buf) < ISA_LENGTH and not self._eof:
            buf += self._read()
        if not buf.startswith(b"ISA"):
            what = "after IEA: " if ordinal > 1 else ""
            raise X12Error(what + _describe_garbage(buf), source=self.source, ordinal=ordinal)
        raw = pending + buf[:ISA_FIELDS_LENGTH]
        return buf[ISA_LENGTH:], self._isa_segment(raw, buf[:ISA_LENGTH], ordinal)

    def _isa_segment(self, raw: bytes, header: bytes, ordinal: int) -> Segment:
        """The ISA segment whose ``header`` (ISA_LENGTH bytes) declares the delimiters to come."""
        delimiters = parse_isa(header, source=self.source, ordinal=ordinal)
        self.delimiters = delimiters
        return Segment(raw, header[:ISA_FIELDS_LENGTH], b"ISA", ordinal, delimiters)

    def _last_segment(self, tail: bytes, terminator: bytes, ordinal: int) -> bytes:
        """At the end of the file inside an interchange: its last segment may lack a terminator
        (common with newline terminators), but there must be one."""
        if tail.strip(WHITESPACE):
            return tail + terminator
        raise X12Error(
            "file ends before the interchange's IEA trailer",
            source=self.source,
            ordinal=ordinal + 1,
            segment_id="IEA",
            ta1_note="023",
        )

    def _grow(self, tail: bytes, chunk: bytes, terminator: bytes, ordinal: int) -> bytes:
        """An unfinished segment and the next chunk, while the segment is within its budget."""
        if len(tail) > self.max_segment_bytes:
            raise X12Error(
                f"segment longer than {self.max_segment_bytes} bytes without a "
                f"terminator {terminator!r}",
                source=self.source,
                ordinal=ordinal + 1,
            )
        return tail + chunk


def _text(piece: bytes, strip_both: bool) -> bytes:
    """A segment's text: without leading whitespace (nor trailing, if the terminator is one)."""
    if strip_both:
        return piece.strip(WHITESPACE)
    if piece and piece[0] > 32:  # no leading blank, the usual case: what lstrip would return
        return piece  # (compiled, indexing is C; a bytes method is a Python call per segment)
    return piece.lstrip(WHITESPACE)


def _tag(text: bytes, element: bytes) -> bytes:
    """The segment id: ``text`` up to its first ``element`` separator, all of it if none. Ids of
    2 and 3 characters are found by indexing (C once compiled: half the tokenizer's time went to
    ``bytes.find``, a Python method call per segment); anything else by find."""
    separator = element[0]
    if len(text) > 3 and text[0] != separator and text[1] != separator:
        if text[2] == separator:
            return text[:2]
        if text[3] == separator:
            return text[:3]
    cut = text.find(element)
    return text if cut < 0 else text[:cut]


def _whole_isa(piece: bytes, text: bytes) -> bool:
    """An ISA read whole by splitting on the current terminator: the next interchange declares
    the same one (a different terminator would have left its ISA cut short or run on)."""
    return text.startswith(b"ISA") and len(text) == ISA_FIELDS_LENGTH and piece.endswith(text)


def _collapse_blank_runs(buf: bytes, terminator: bytes) -> bytes:
    """A chunk of mostly empty segments with its long runs collapsed (by re, in C) before it is
    split (a MB of '~' is a million pieces), each into one blank piece too long to keep."""
    if buf.count(terminator) > len(buf) >> 3:
        return _blank_runs(terminator).sub(terminator + FLOOD + terminator, buf)
    return buf


def _drop_blank(tail: bytes, chunk: bytes) -> tuple[bytes, bytes]:
    """The unfinished segment and the next chunk without a blank run they continue."""
    tail = tail.lstrip(WHITESPACE)
    return tail, chunk if tail else chunk.lstrip(WHITESPACE)


_BLANK_RUNS: Final[dict[bytes, re.Pattern[bytes]]] = {}


def _blank_runs(terminator: bytes) -> re.Pattern[bytes]:
    """A terminator followed by more than KEPT_BLANK bytes of whitespace and terminators."""
    pattern = _BLANK_RUNS.get(terminator)
    if pattern is None:
        blanks = re.escape(WHITESPACE + terminator)
        pattern = re.compile(re.escape(terminator) + b"[" + blanks + b"]{%d,}" % KEPT_BLANK)
        _BLANK_RUNS[terminator] = pattern  # one per terminator byte: 256 at most
    return pattern


def _keep(kept: bytes, more: bytes) -> bytes:
    """``kept + more`` while that is a short run of blanks; a longer run is dropped whole."""
    return kept + more if len(kept) + len(more) <= KEPT_BLANK else b""
