"""Minimized inputs that once crashed edi-gate or broke conservation, kept as regression tests.

Each file here came out of the fuzzer (``python -m fuzz.run``) or was reduced by hand from one of
its findings; the table says what edi-gate must do with it now. Every file also goes through the
full fuzz oracle (conservation, readable output, 277CA) with the fuzz engine and the real one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.oracle import check
from tests.helpers import default_engine

HERE = Path(__file__).parent

# file -> ("error", text the X12Error must contain) or ("rejected", text of the syntax finding)
# or ("processed", None): what edi-gate does with it.
EXPECTED = {
    # SV1*...*NaN: Decimal('NaN') < 0 raised decimal.InvalidOperation (loops._read_sv1).
    "nan_units_in_sv1.x12": ("error", "file ends before the interchange's IEA trailer"),
    "nan_units_complete.x12": ("rejected", "(SV1): SV102 charge or SV104 units is not a number"),
    # CLM02 1E+999999999: a Decimal whose int() or format() needs gigabytes.
    "huge_exponent_charge.x12": ("rejected", "(CLM): CLM02 is not a number"),  # not quoted
    # A bare 'REF~' / 'NM1~' inside a claim: IndexError on elements[1] (loops._read_claim_segment).
    "bare_ref_in_service_line.x12": ("error", "file ends before the interchange's IEA trailer"),
    "bare_nm1_in_claim.x12": ("error", "file ends before the interchange's IEA trailer"),
    "bare_segments_in_claim.x12": ("processed", None),
    # A CLM before the first HL was kept as a header segment: undecided, yet copied to the output.
    "clm_before_first_hl.x12": (
        "rejected",
        "(CLM): CLM outside a billing provider / subscriber HL",
    ),
    # LX*<5,000 digits>: int() refused it (ValueError, Python's 4,300-digit limit); the fuzzer
    # found it mutating a corpus file (test_fuzz's interop variant).
    "huge_lx01.x12": ("rejected", "(LX): LX01 is not a line number"),  # not quoted
    # A second ST inside an 837 header was swallowed as a header segment.
    "st_inside_837_header.x12": ("error", "ST inside transaction set"),
    # ISA13 '~00000101' holds the segment terminator: the fixed-width ISA read, and the output's
    # IEA02 (ISA13 echoed) ended at the '~', leaving '00000101~' after the IEA: unreadable output.
    "terminator_in_isa13.x12": ("error", "ISA13 contains the segment terminator b'~'"),
}


def test_every_regression_file_has_an_expectation():
    assert sorted(p.name for p in HERE.glob("*.x12")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("scope", ["claim", "line"])
def test_regression(name, scope):
    data = (HERE / name).read_bytes()
    kind, text = EXPECTED[name]
    for engine in (None, default_engine()):
        outcome = check(data, engine, scope=scope)
        if kind == "error":
            assert outcome.error is not None and text in str(outcome.error)
            continue
        assert outcome.error is None, outcome.error
        if kind == "rejected":
            assert outcome.summary.rejected_transactions == 1
            for record in outcome.decisions:
                assert record["decision"] == "rejected"
                assert text in record["findings"][0]["message"]
        else:
            assert outcome.summary.rejected_transactions == 0
