"""The decisions record's one owner (edi_gate.decisions.record): the plain builder, the reader's
helpers and the transforms every consumer uses (the reject-all rewrite, replay's compare, the
Parquet projection, the ``check`` table)."""

from __future__ import annotations

import json

import pytest

from bench.generate import generate
from edi_gate.decisions import record as rec
from edi_gate.decisions.writer import DecisionSpool, decision_json
from edi_gate.rules.engine import Engine, decide
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.x12.loops import EventReader
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import SegmentReader


@pytest.fixture(scope="module")
def decided(tmp_path_factory) -> list[tuple[Claim, Decision]]:
    path = tmp_path_factory.mktemp("records") / "g.837"
    generate(path, 400, seed=7)
    engine = Engine.load()
    with open(path, "rb") as fh:
        events = EventReader(SegmentReader(fh, str(path)), str(path))
        claims = [event for event in events if isinstance(event, Claim)]
    return [(claim, decide(claim, engine.evaluate(claim), "line")) for claim in claims]


def test_the_fast_writer_writes_the_plain_record(decided) -> None:
    """decision_json is json.dumps of decision_record, key order included."""
    for claim, decision in decided:
        expected = json.dumps(rec.decision_record(claim, decision, "rs"), separators=(",", ":"))
        assert decision_json(claim, decision, "rs") == expected


def test_a_record_read_back_gives_its_decision_and_key(decided) -> None:
    """What ``edi-gate ack`` reads (decision_from_record, record_key) is what was decided."""
    cut = 0
    for claim, decision in decided:
        read = json.loads(decision_json(claim, decision))
        back = rec.decision_from_record(read)
        assert back.accepted == decision.accepted
        assert back.findings == decision.findings
        expected_lines = decision.rejected_lines if decision.accepted else frozenset()
        assert back.rejected_lines == expected_lines
        assert rec.record_key(read) == rec.claim_key(claim)
        cut += bool(decision.accepted and decision.rejected_lines)
    assert cut > 5


def test_a_set_rejected_whole_rewrites_every_record(decided) -> None:
    """The reject-all rewrite: decision, every line and the findings say the set's errors, the
    rest of the record is as written."""
    spool = DecisionSpool(1 << 10)  # small: the rewrite reads the records back from disk
    for claim, decision in decided:
        spool.add(decision_json(claim, decision))
    syntax = [Finding(SYNTAX_RULE, None, "transaction set rejected: SE01", "A3", "21", "41")]
    rewritten = [json.loads(line) for line in spool.rejected_lines(syntax)]
    assert len(rewritten) == len(decided)
    for (claim, decision), record in zip(decided, rewritten, strict=True):
        original = json.loads(decision_json(claim, decision))
        assert record["decision"] == "rejected"
        assert record["findings"] == [f.as_dict() for f in syntax]
        assert {line["decision"] for line in record["lines"]} == {"rejected"}
        assert list(record) == list(original)
        assert {k: v for k, v in record.items() if k not in ("decision", "findings", "lines")} == {
            k: v for k, v in original.items() if k not in ("decision", "findings", "lines")
        }
    spool.close()


def test_compare_names_what_changed_between_two_decisions(decided) -> None:
    claim, decision = next((c, d) for c, d in decided if d.findings and not d.accepted)
    a = json.loads(decision_json(claim, decision))
    assert rec.change(a, rec.with_decision(a, decision)) is None
    b = rec.with_decision(a, Decision(True, []))
    change = rec.change(a, b)
    assert change is not None
    assert (change["a"], change["b"]) == ("rejected", "accepted")
    assert change["rejected_lines_a"] == [ln.number for ln in claim.lines]
    assert change["rejected_lines_b"] == []
    assert change["rules_removed"] == rec.rules(a) and change["rules_added"] == []


def test_parquet_row_is_the_spark_schema_order(decided) -> None:
    claim, decision = next((c, d) for c, d in decided if d.findings)
    text = decision_json(claim, decision)
    row = rec.parquet_row(json.loads(text), text)
    assert row[:2] == (claim.envelope.source, claim.ordinal)
    assert row[2:4] == (claim.claim_id, decision.label)
    assert row[9] == sorted({f.rule for f in decision.findings}) and row[10] == text


def test_the_check_table_marks_removed_lines(decided) -> None:
    claim, decision = next((c, d) for c, d in decided if d.accepted and d.rejected_lines)
    rows = rec.table_lines(json.loads(decision_json(claim, decision)))
    assert rows[0].startswith(f"{claim.claim_id:<20} accepted ")
    assert rows[0].count("[removed]") == len(decision.rejected_lines)
    assert len(rows) == 1 + len(decision.findings)
    line_finding = next(f for f in decision.findings if f.line is not None)
    assert any(f"line {line_finding.line}" in row for row in rows[1:])


def test_the_spark_projection_uses_the_record_module() -> None:
    """Replay on Spark projects each decisions line to its table's columns (no Spark needed)."""
    from edi_gate.pipeline.spark import decision_rows

    claim_text = json.dumps(
        {
            "source": "a.837",
            "position": 3,
            "claim": "C",
            "decision": "accepted",
            "interchange": "1",
            "group": "1",
            "transaction": "0001",
            "service_date": None,
            "billing_npi": "",
            "findings": [{"rule": "R2"}, {"rule": "R1"}, {"rule": "R2"}],
        }
    )
    rows = decision_rows(claim_text.encode() + b"\n")
    expected = ("a.837", 3, "C", "accepted", "1", "1", "0001", None, "", ["R1", "R2"], claim_text)
    assert rows == [expected]
