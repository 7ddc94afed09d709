"""TA1: echo of the bad interchange's ISA13/ISA09/ISA10, note codes, no ISA -> no TA1."""

from __future__ import annotations

import io
from collections.abc import Callable

from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.ta1 import write_ta1
from edi_gate.x12.errors import X12Error
from edi_gate.x12.tokenizer import Delimiters, Segment
from tests.pyx12_oracle import TA1_ONLY_ERRORS

from .factory import NOW, segments

Oracle = Callable[..., list[str]]
GOOD_ISA = (
    "ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*PAYERID        "
    "*261120*1315*^*00501*000000905*1*T*:"
)
UNPADDED_ISA = "ISA*00* *00* *30*560891234 *30*566012345*030813*1505*U*00401*7*1*P*:"


def ta1(subject: object, **kwargs: object) -> tuple[bool, bytes]:
    out = io.BytesIO()
    kwargs.setdefault("control", ControlNumbers(start=12))
    written = write_ta1(out, subject, now=NOW, **kwargs)  # type: ignore[arg-type]
    return written, out.getvalue()


def test_rejection_echoes_the_interchange(oracle: Oracle) -> None:
    error = X12Error("IEA missing", source="x.837", ta1_note="023")
    written, data = ta1(GOOD_ISA, error=error)
    assert written
    segs = segments(data)
    assert [s[0] for s in segs] == ["ISA", "TA1", "IEA"]
    isa = segs[0]
    assert (isa[6].strip(), isa[8].strip(), isa[13], isa[15]) == (
        "PAYERID",
        "SUBMITTERID",
        "000000012",
        "T",
    )
    assert len("*".join(isa)) == 105
    assert segs[1] == ["TA1", "000000905", "261120", "1315", "R", "023"]
    assert segs[2] == ["IEA", "0", "000000012"]
    assert oracle(data, ignore=TA1_ONLY_ERRORS) == []


def test_note_codes_and_ack_codes() -> None:
    plain = X12Error("bad", source="x")
    assert segments(ta1(GOOD_ISA, error=plain)[1])[1][4:] == ["R", "022"]
    assert segments(ta1(GOOD_ISA, note="001")[1])[1][4:] == ["E", "001"]
    assert segments(ta1(GOOD_ISA)[1])[1][4:] == ["A", "000"]
    assert segments(ta1(GOOD_ISA, note="nonsense")[1])[1][4:] == ["E", "022"]
    assert segments(ta1(GOOD_ISA, error=plain, ack_code="E")[1])[1][4:] == ["E", "022"]


def test_unpadded_isa_and_segment_input(oracle: Oracle) -> None:
    written, data = ta1(UNPADDED_ISA.encode(), error=X12Error("ISA not fixed", source="x"))
    assert written
    segs = segments(data)
    assert segs[1] == ["TA1", "000000007", "030813", "1505", "R", "022"]
    assert segs[0][6].strip() == "566012345" and segs[0][8].strip() == "560891234"
    assert oracle(data, ignore=TA1_ONLY_ERRORS) == []
    delimiters = Delimiters(b"*", b":", b"~", b"^")
    seg = Segment(GOOD_ISA.encode(), GOOD_ISA.encode(), b"ISA", 1, delimiters)
    assert ta1(seg)[0]


def test_bad_date_time_fall_back_to_now(oracle: Oracle) -> None:
    isa = GOOD_ISA.replace("261120*1315", "261399*9999")
    segs = segments(ta1(isa, note="014")[1])
    assert segs[1][2:4] == ["261124", "0930"]


def test_no_isa_means_no_ta1() -> None:
    assert ta1(None) == (False, b"")
    assert ta1(b"GS*HC*A*B*20260101*1200*1*X*005010X222A1") == (False, b"")
    assert ta1("ISA*00*bad") == (False, b"")
    assert ta1(GOOD_ISA.replace("000000905", "ABCDEFGHI")) == (False, b"")


def test_error_as_subject_with_isa_from_keyword_or_attribute() -> None:
    error = X12Error("IEA02 does not match", source="x", ta1_note="001")
    assert ta1(error) == (False, b"")  # no ISA to echo
    written, data = ta1(error, isa=GOOD_ISA)
    assert written and segments(data)[1][4:] == ["R", "001"]
    error.isa = GOOD_ISA.encode()  # type: ignore[attr-defined]
    written, data = ta1(error)
    assert written and segments(data)[1][1] == "000000905"


def test_copied_isa_values_pass_the_gate(oracle: Oracle) -> None:
    """Issue 13 item 6: an ISA09 '2401 1' (strptime reads it as a date) is not a date; an ISA13
    of digits str.isdigit() accepts but ASCII does not ('²', latin-1 0xB2) cannot be echoed: no
    TA1, no crash; qualifiers outside the code list and non-ASCII ids are replaced."""
    segs = segments(ta1(GOOD_ISA.replace("261120*1315", "2401 1*13:5"), note="014")[1])
    assert segs[1][2:4] == ["261124", "0930"]
    assert ta1(GOOD_ISA.replace("000000905", "00000090²").encode("latin-1")) == (False, b"")
    odd = GOOD_ISA.replace("*ZZ*SUBMITTERID    ", "*Z~*SUBMITT\xe9R~D    ")
    written, data = ta1(odd.encode("latin-1"), note="001")
    assert written and data.isascii()
    isa = segments(data)[0]
    assert isa[7:9] == ["ZZ", "SUBMITT R D    "]
    assert oracle(data, ignore=TA1_ONLY_ERRORS) == []
