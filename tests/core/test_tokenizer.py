"""The streaming tokenizer: delimiters from each ISA, layouts real senders use, clear errors."""

from __future__ import annotations

import io
import itertools

import pytest

from edi_gate.pipeline.isa import interchange_complete
from edi_gate.vocabulary import ISA_FIELDS_LENGTH, ISA_LENGTH
from edi_gate.x12.errors import X12Error
from edi_gate.x12.tokenizer import ISA_WIDTHS, WHITESPACE, SegmentReader, _tag, _text
from tests.helpers import CORPUS, FIXTURES


def segments(data: bytes, chunk_size: int = 1 << 20) -> list:
    return list(SegmentReader(io.BytesIO(data), "test.edi", chunk_size=chunk_size))


def texts(data: bytes, chunk_size: int = 1 << 20) -> list[bytes]:
    return [seg.text for seg in segments(data, chunk_size)]


@pytest.mark.interop
def test_unusual_delimiters_come_from_the_isa():
    data = (CORPUS / "imsweb-x12-parser/x12_valid_different_separators.txt").read_bytes()
    segs = segments(data)
    delimiters = segs[0].delimiters
    assert (delimiters.element, delimiters.component, delimiters.segment) == (b"~", b"^", b"_")
    clm = next(seg for seg in segs if seg.tag == b"CLM")
    assert clm.components(5)[:2] == ["11", "B"]
    assert segs[-1].tag == b"IEA"


@pytest.mark.interop
def test_newline_terminator_with_indentation():
    data = (CORPUS / "staedi/sample837-original.edi").read_bytes()
    segs = segments(data)
    assert segs[0].delimiters.segment == b"\n"
    assert [seg.tag for seg in segs[:3]] == [b"ISA", b"GS", b"ST"]
    assert all(seg.text == seg.text.strip() for seg in segs)
    assert segs[-1].tag == b"IEA"


@pytest.mark.interop
def test_bom_and_crlf_are_tolerated():
    data = (CORPUS / "oopfactory-x12/MedicaidExample.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    segs = segments(data)
    assert segs[0].tag == b"ISA" and segs[0].delimiters.component == b">"
    assert segs[0].delimiters.repetition == b"|"
    assert sum(seg.tag == b"CLM" for seg in segs) == 5


@pytest.mark.interop
def test_interchanges_with_different_delimiters_follow_each_other():
    first = (CORPUS / "imsweb-x12-parser/x12_valid.txt").read_bytes()
    second = (CORPUS / "imsweb-x12-parser/x12_valid_different_separators.txt").read_bytes()
    segs = segments(first + b"\n" + second)
    isas = [seg for seg in segs if seg.tag == b"ISA"]
    assert [isa.delimiters.element for isa in isas] == [b"*", b"~"]
    assert sum(seg.tag == b"IEA" for seg in segs) == 2
    assert sum(seg.tag == b"CLM" for seg in segs) == 4


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 4096])
def test_chunk_boundaries_do_not_change_segments(chunk_size):
    data = (FIXTURES / "demo.837").read_bytes()
    assert texts(data, chunk_size) == texts(data)


@pytest.mark.interop
def test_raw_bytes_round_trip():
    data = (CORPUS / "oopfactory-x12/Example1_2_And_3_Combined.txt").read_bytes()
    reader = SegmentReader(io.BytesIO(data), "x")
    rebuilt = b"".join(seg.raw + seg.delimiters.segment for seg in reader) + reader.trailing
    assert rebuilt == data.removeprefix(b"\xef\xbb\xbf")


def test_ordinals_count_every_segment():
    segs = segments((FIXTURES / "demo.837").read_bytes())
    assert [seg.ordinal for seg in segs] == list(range(1, len(segs) + 1))


def test_last_segment_without_terminator_is_read():
    data = (FIXTURES / "demo.837").read_bytes().rstrip(b"~\n")
    assert segments(data)[-1].tag == b"IEA"


@pytest.mark.interop
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("imsweb-x12-parser/x12_no_isa_line.txt", "expected an ISA interchange header"),
        ("oopfactory-x12/UnicodeExample.txt", "UTF-16"),
        ("imsweb-x12-parser/x12_bad_first_line.txt", "ISA02 has 9 characters, expected 10"),
        ("pyx12/fail_no_IEA.txt", "before the interchange's IEA trailer"),
        ("stupidedi/X222/1.edi", "expected an ISA interchange header"),
    ],
)
def test_unreadable_files_name_the_problem(path, expected):
    with pytest.raises(X12Error) as caught:
        segments((CORPUS / path).read_bytes())
    message = str(caught.value)
    assert expected in message
    assert message.startswith("test.edi: segment ")


def test_empty_input_is_an_error():
    with pytest.raises(X12Error, match="empty"):
        segments(b"  \n")


def test_a_segment_that_never_ends_cannot_grow_the_buffer_unboundedly():
    head = (FIXTURES / "demo.837").read_bytes()[:200]
    data = head + b"NTE*ADD*" + b"A" * 5000
    reader = SegmentReader(io.BytesIO(data), "big.edi", chunk_size=256, max_segment_bytes=1024)
    with pytest.raises(X12Error, match="longer than 1024 bytes"):
        list(reader)


@pytest.mark.parametrize("seed", range(6))
def test_blank_runs_read_the_same_whatever_the_chunks(seed):
    """Runs of whitespace and empty segments around the kept length (KEPT_BLANK), inside and
    between interchanges: the same segments, raw bytes included, for any chunk size; a run up to
    KEPT_BLANK bytes is kept before its segment, a longer one dropped."""
    import random

    from edi_gate.x12.tokenizer import KEPT_BLANK

    rng = random.Random(seed)
    demo = (FIXTURES / "demo.837").read_bytes()
    data = demo + demo.replace(b"000000101", b"000000102")  # a second interchange follows
    pieces = data.split(b"~")
    out = []
    for piece in pieces[:-1]:
        blank = rng.choice([b"", b"\n", b" ", b"~", b"~\r\n", b" \t"])
        out.append(piece + b"~" + blank * rng.choice([0, 1, 3, 100, 300]))
    data = b"".join(out) + pieces[-1]
    reference = [(s.raw, s.text) for s in SegmentReader(io.BytesIO(data), "x")]
    assert all(len(raw) - len(text) <= KEPT_BLANK for raw, text in reference)
    for chunk_size in (1, 7, 300, 4096):
        reader = SegmentReader(io.BytesIO(data), "x", chunk_size=chunk_size)
        assert [(s.raw, s.text) for s in reader] == reference, chunk_size


# Found by the fuzzer: ISA13 '~00000101' holds the segment terminator. The fixed-width ISA still
# read, so the filter accepted the interchange and echoed ISA13 into its output's IEA02, where the
# '~' ends the IEA early and leaves '00000101~' behind it: an output no reader accepts.
TERMINATOR_IN_ISA13 = (
    b"ISA*00*          *00*          *ZZ*DEMOSUB01      *ZZ*DEMOPAYER      "
    b"*250310*0900*^*00501*~00000101*1*T*:~\n"
    b"GS*HC*DEMOSUB01*DEMOPAYER*20250310*0900*101*X*005010X222A1~\n"
    b"ST*837*0001*005010X222A1~\n"
    b"BHT*0019*00*DEMO0001*20250310*0900*CH~\n"
    b"SE*3*0001~\n"
    b"GE*1*101~\n"
    b"IEA*1*000000101~\n"
)


def _verdict(data: bytes, chunk_size: int) -> str:
    try:
        return repr([seg.raw for seg in segments(data, chunk_size)])
    except X12Error as error:
        return f"X12Error: {error}"


def test_a_segment_terminator_inside_the_isa_is_refused_whatever_the_chunk_size():
    data = TERMINATOR_IN_ISA13
    assert data[:106].count(b"*") == 16 and data[105:106] == b"~"  # a fixed-width ISA otherwise
    verdict = _verdict(data, 1 << 20)
    expected = "test.edi: segment 1 (ISA): ISA13 contains the segment terminator b'~'"
    assert verdict == f"X12Error: {expected}"
    for chunk_size in range(1, len(data) + 2):
        assert _verdict(data, chunk_size) == verdict, chunk_size


def test_one_isa_length_for_the_tokenizer_and_the_interchange_scan(tmp_path):
    """The widths the tokenizer checks, the length vocabulary names and the scan's separator
    positions describe one fixed-width header: a demo ISA is read by both, and a separator moved
    one field over is refused by both."""
    assert sum(ISA_WIDTHS) + len(ISA_WIDTHS) - 1 == ISA_FIELDS_LENGTH == ISA_LENGTH - 1
    demo = (FIXTURES / "demo.837").read_bytes()
    assert demo[ISA_FIELDS_LENGTH:ISA_LENGTH] == b"~" and demo[:ISA_LENGTH].count(b"*") == 16
    assert segments(demo)[0].text == demo[:ISA_FIELDS_LENGTH]
    (tmp_path / "demo.837").write_bytes(demo)
    assert interchange_complete(tmp_path / "demo.837") == "complete"
    shifted = demo[:4] + b"000*" + demo[8:]  # the ISA01/ISA02 separator one byte late
    assert len(shifted) == len(demo) and shifted[ISA_FIELDS_LENGTH:ISA_LENGTH] == b"~"
    (tmp_path / "shifted.837").write_bytes(shifted)
    assert interchange_complete(tmp_path / "shifted.837") == "not_x12"
    with pytest.raises(X12Error, match="ISA01 has 3 characters, expected 2"):
        segments(shifted)


def test_segment_ids_and_texts_are_what_split_and_strip_give():
    """The tokenizer's fast paths (ids of 2-3 characters by indexing, no strip call for a piece
    that starts with a letter) agree with the plain definitions on every short piece, separators
    and blanks anywhere."""
    for size in range(6):
        for letters in itertools.product(b"A3*:\n ", repeat=size):
            piece = bytes(letters)
            assert _tag(piece, b"*") == piece.split(b"*", 1)[0], piece
            assert _text(piece, False) == piece.lstrip(WHITESPACE), piece
            assert _text(piece, True) == piece.strip(WHITESPACE), piece
