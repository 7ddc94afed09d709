"""The filter over every real 837P in the public corpus: every claim accounted for exactly once."""

from __future__ import annotations

import pytest

from edi_gate.rules.findings import SYNTAX_RULE
from tests.helpers import CORPUS, RejectClaims, assert_conservation, corpus_files, run_filter

# Project-owned equivalents of these checks: tests/core/test_edge_cases.py.
pytestmark = pytest.mark.interop

P5010 = corpus_files(
    lambda row: row["transaction_type"] == "837P" and row["version_GS08"].startswith("005010X222")
)
UNREADABLE = {
    "stupidedi/X222/1.edi",
    "oopfactory-x12/UnicodeExample.txt",
    "imsweb-x12-parser/x12_bad_first_line.txt",
    "imsweb-x12-parser/x12_no_isa_line.txt",
}
OTHERS = corpus_files(
    lambda row: (
        not row["transaction_type"].startswith("837P")
        or not row["version_GS08"].startswith("005010X222")
    )
)


def readable(paths):
    return [p for p in paths if str(p.relative_to(CORPUS)) not in UNREADABLE]


def normalized(data: bytes) -> bytes:
    """The input as edi-gate re-emits it: no BOM, a terminator after the last segment."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    terminator = data[105:106]
    stripped = data.rstrip(b" \r\n")
    if not data.endswith(terminator) and not stripped.endswith(terminator):
        return stripped + terminator + data[len(stripped) :]
    return data


def test_the_corpus_holds_what_the_tests_need():
    names = {str(p.relative_to(CORPUS)) for p in P5010}
    assert "imsweb-x12-parser/x12_many_claims.txt" in names
    assert "imsweb-x12-parser/x12_multiple_transactions.txt" in names
    assert "oopfactory-x12/ST1309-XX.txt" in names
    assert len(P5010) >= 20


@pytest.mark.parametrize("path", readable(P5010), ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_claim_gets_one_decision_and_sound_sets_pass_unchanged(path):
    data = path.read_bytes()
    result = run_filter(data, RejectClaims())
    assert_conservation(result, data)
    if result.summary.rejected_transactions == 0:
        assert result.summary.rejected == 0
        assert result.output == normalized(data)
    else:
        # A damaged set: each of its claims rejected, naming the syntax error, none passed on.
        for record in result.decisions:
            if record["decision"] == "rejected":
                assert record["findings"][0]["rule"] == SYNTAX_RULE
                assert "transaction set rejected" in record["findings"][0]["message"]


def test_large_corpus_files_are_fully_accounted_for():
    for name, claims in [
        ("imsweb-x12-parser/x12_many_claims.txt", 820),
        ("imsweb-x12-parser/x12_multiple_transactions.txt", 624),
    ]:
        data = (CORPUS / name).read_bytes()
        result = run_filter(data, RejectClaims())
        assert result.summary.claims == len(result.decisions) == claims


def test_imsweb_files_with_wrong_se_counts_are_rejected_not_passed():
    data = (CORPUS / "imsweb-x12-parser/x12_valid.txt").read_bytes()
    result = run_filter(data, RejectClaims())
    assert result.summary.rejected == 2 and result.output == b""
    messages = [f["message"] for r in result.decisions for f in r["findings"]]
    assert "HL01 '2' is missing or repeated" in messages[0]
    assert messages[2].endswith("(and 1 more syntax errors)")


@pytest.mark.parametrize("path", readable(OTHERS), ids=lambda p: str(p.relative_to(CORPUS)))
def test_other_transaction_types_and_4010_pass_through_untouched(path):
    from edi_gate.errors import X12Error

    data = path.read_bytes()
    try:
        result = run_filter(data, RejectClaims())
    except X12Error as error:  # TA1-only files and garbled envelopes are refused, never a traceback
        assert str(error).startswith("input.837: segment ")
        return
    if result.summary.claims == 0 and b"GE*1*" in data:
        body = normalized(data)
        start = body.index(b"ST")
        end = body.index(b"GE", start)
        assert body[start:end] in result.output
