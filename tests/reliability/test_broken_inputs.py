"""Every damaged or foreign input the project writes (tests/data/x12.py) through the real CLI.

The project-owned counterpart of test_broken_corpus.py (interop): exit 65 with one line naming
the segment and nothing but a TA1 written, or exit 0 with every claim of the damaged set rejected
by an X12-SYNTAX finding, or, for what edi-gate does not judge (4010, 837I/837D, 999, 277CA),
exit 0 with the file passed through untouched. Never a traceback.
"""

from __future__ import annotations

import json

import pytest

from tests.data.x12 import CASES
from tests.reliability.support import assert_no_traceback, run_cli

REFUSED = sorted(n for n, c in CASES.items() if c.error)
DAMAGED = sorted(n for n, c in CASES.items() if c.syntax)
FOREIGN = sorted(n for n, c in CASES.items() if c.passthrough)


@pytest.mark.parametrize("name", REFUSED)
def test_unreadable_input_exits_65_with_one_line(name, tmp_path):
    source = tmp_path / f"{name}.x12"
    source.write_bytes(CASES[name].build())
    run = run_cli(source, tmp_path / "out")
    assert_no_traceback(run)
    assert run.status == 65, run.stderr
    (message,) = [line for line in run.stderr.splitlines() if line.startswith("edi-gate: ")]
    assert f"{name}.x12: segment " in message and CASES[name].error in message
    assert set(run.written()) <= {"acks.999"}
    if run.written():
        assert b"TA1*" in run.path("acks.999").read_bytes()


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_set_is_rejected_claim_by_claim(name, tmp_path):
    source = tmp_path / f"{name}.x12"
    source.write_bytes(CASES[name].build())
    run = run_cli(source, tmp_path / "out")
    assert_no_traceback(run)
    assert run.status == 0, run.stderr
    records = [json.loads(line) for line in run.path("decisions.jsonl").read_text().splitlines()]
    assert len(records) == CASES[name].claims
    for record in records:
        assert record["decision"] == "rejected"
        assert record["findings"][0]["rule"] == "X12-SYNTAX"
        assert CASES[name].syntax in record["findings"][0]["message"]
    assert b"CLM*" not in run.path("out.837").read_bytes()
    assert b"IK5*R" in run.path("acks.999").read_bytes()


@pytest.mark.parametrize("name", FOREIGN)
def test_foreign_input_passes_through_untouched(name, tmp_path):
    source = tmp_path / f"{name}.x12"
    source.write_bytes(data := CASES[name].build())
    run = run_cli(source, tmp_path / "out")
    assert_no_traceback(run)
    assert run.status == 0, run.stderr
    assert run.path("decisions.jsonl").read_text() == ""
    assert run.path("out.837").read_bytes() == data
