"""Every intentionally broken file of the corpus gets an error naming the segment and the problem.

Through the real CLI: either exit 65 with a one-line message naming the segment (and no filtered
837, 277CA or decisions written: only a TA1 may answer an interchange whose ISA was readable), or
exit 0 with every claim of the damaged set rejected by an X12-SYNTAX finding naming the segment.
Never a traceback. Files edi-gate does not judge (4010, 999, non-837P sets) pass through with exit
0; their trailer errors are logged (envelope.issue) and reported in the 999/TA1.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import CORPUS
from tests.reliability.support import assert_no_traceback, run_cli

# Project-owned equivalents: tests/reliability/test_broken_inputs.py.
pytestmark = pytest.mark.interop

# file -> (exit status, text the stderr message or the first syntax finding must contain)
BROKEN = {
    # ISA02 is 9 characters: the ISA is not 106 bytes.
    "imsweb-x12-parser/x12_bad_first_line.txt": (
        65,
        "segment 1 (ISA): ISA02 has 9 characters, expected 10",
    ),
    # No ISA at all (starts at GS).
    "imsweb-x12-parser/x12_no_isa_line.txt": (
        65,
        "segment 1: expected an ISA interchange header, found a GS segment",
    ),
    # '*IC', 'Nd4', 'NM31' segment ids: the set is rejected naming the first one.
    "imsweb-x12-parser/x12_bad_segment_identifier.txt": (
        0,
        "segment 4 of the transaction set (unreadable id): unrecognized segment id (not 2-3 "
        "letters or digits)",
    ),
    # N3/N4 swapped. edi-gate does not check segment order inside a name loop; the set is
    # rejected for the repeated HL01 this file (like x12_valid.txt) also has.
    "imsweb-x12-parser/x12_segments_out_of_order.txt": (
        0,
        "segment 25 of the transaction set (HL): HL01 '2' is missing or repeated",
    ),
    # Required loops (2010AA ...) missing: not checked as such; the SE01 count exposes the cut.
    "imsweb-x12-parser/x12_loop_errors3_missing_loops.txt": (
        0,
        "(SE): SE01 says '25' segments, the transaction set has 19",
    ),
    # UTF-16LE with NUL bytes.
    "oopfactory-x12/UnicodeExample.txt": (
        65,
        "input looks UTF-16 encoded (NUL bytes); X12 must be an 8-bit encoding",
    ),
    # Garbled ISA (ISA12 '343434').
    "oopfactory-x12/FromLatitude81uk.txt": (
        65,
        "segment 1 (ISA): ISA12 has 6 characters, expected 5",
    ),
    # Free text before the ISA.
    "stupidedi/X222/1.edi": (65, "segment 1: expected an ISA interchange header"),
    # No IEA, SE count 0.
    "pyx12/fail_no_IEA.txt": (65, "(IEA): file ends before the interchange's IEA trailer"),
    # 4010 837I with wrong SE/GE/IEA counts: passed through, the trailer errors logged.
    "pyx12/trailer_errors.txt": (0, "IEA01 says '5' functional groups, the interchange has 1"),
    # 4010 837P with bad element values: not a 5010 837P, passed through unjudged.
    "pyx12/bad_elements.txt": (0, None),
    # An invalid 999: not a claim file, passed through unjudged.
    "staedi/invalid999.edi": (0, None),
    # TA1 acknowledgments are not claim files: passed through, never answered (issue 13 item 4).
    "staedi/x12_interchange_ack.txt": (0, None),
    "oopfactory-x12/TechnicalAcknowledgment_SampleFromJeffN825.txt": (0, None),
    # Variable-length (unpadded) ISA.
    "uhin-x12-parser-library/TA1.edi": (
        65,
        "segment 1 (ISA): ISA has 20 elements within its 106 characters, expected 16",
    ),
}


def test_the_table_covers_every_file_provenance_calls_broken():
    from tests.helpers import provenance

    broken = {
        row["local_path"]
        for row in provenance()
        if "intentionally" in row["notes"]
        or "malformed" in row["notes"]
        or "TA1" in row["transaction_type"]
    }
    assert broken <= set(BROKEN), sorted(broken - set(BROKEN))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_gets_a_clear_error(name, tmp_path):
    status, text = BROKEN[name]
    run = run_cli(CORPUS / name, tmp_path / "out")
    assert_no_traceback(run)
    assert run.status == status, run.stderr
    if status == 65:
        message = [line for line in run.stderr.splitlines() if line.startswith("edi-gate: ")]
        assert len(message) == 1 and text in message[0], run.stderr
        # Nothing but a TA1 in the 999 file; no temporary files left behind.
        assert set(run.written()) <= {"acks.999"}
        if run.written():
            assert b"TA1*" in run.path("acks.999").read_bytes()
        return
    records = [json.loads(line) for line in run.path("decisions.jsonl").read_text().splitlines()]
    rejected_sets = {
        r["transaction"]
        for r in records
        if r["findings"] and r["findings"][0]["rule"] == "X12-SYNTAX"
    }
    for record in records:
        if record["transaction"] in rejected_sets:
            assert record["decision"] == "rejected"
            assert record["findings"][0]["rule"] == "X12-SYNTAX"
            assert text in record["findings"][0]["message"]
    if text is None:
        assert not records
        # nothing judged, nothing acknowledged: no 999 and no TA1 answers these files
        ack = run.path("acks.999")
        assert not ack.exists() or not ack.read_bytes(), ack.read_bytes()[:200]
    elif records:
        assert rejected_sets, "the damaged set must be rejected"
        assert b"CLM*" not in run.path("out.837").read_bytes()
    else:
        assert text in run.stderr  # a passed-through file's trailer error, logged
