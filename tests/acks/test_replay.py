"""build_277_from_decisions: re-read an 837, apply a decisions file, write the 277CA."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from edi_gate.acks.rebuild import build_277_from_decisions
from edi_gate.acks.state import ControlNumbers
from edi_gate.decisions.record import decision_from_record
from edi_gate.errors import ConfigError
from tests.helpers import FIXTURES

from .factory import NOW, segments

Oracle = Callable[..., list[str]]

MINIMAL = FIXTURES / "two-claims.837"  # the same bytes as ../shared/reference/837p_minimal.x12


def record(claim: str, decision: str, findings: list[dict] | None = None) -> dict:
    return {
        "claim": claim,
        "decision": decision,
        "interchange": "000000201",
        "group": "201",
        "transaction": "0001",
        "charge": "150",
        "lines": [{"line": 1, "decision": decision}],
        "findings": findings or [],
    }


PRIVILEGE = {
    "rule": "IMG-PRIV",
    "line": 1,
    "message": "CPT 76942 not permitted for taxonomy 207Q00000X",
    "category": "A7",
    "status": "145",
    "entity": "82",
}


def test_replay_matches_the_decisions(tmp_path: Path, oracle: Oracle) -> None:
    decisions = tmp_path / "decisions.jsonl"
    # Out of order on purpose: the reader keeps records aside until their claim comes.
    rows = [record("PCN0002", "rejected", [PRIVILEGE]), record("PCN0001", "accepted")]
    decisions.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    out = io.BytesIO()
    count = build_277_from_decisions(
        MINIMAL, decisions, out, control=ControlNumbers(start=101), now=NOW
    )
    assert count == 2
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    assert ["TRN", "2", "837BATCH0001"] in segs
    assert ["TRN", "2", "PCN0001"] in segs and ["TRN", "2", "PCN0002"] in segs
    assert [
        "NM1",
        "41",
        "2",
        "EXAMPLE BILLING SERVICE",
        "",
        "",
        "",
        "",
        "46",
        "SUBMITTER01",
    ] in segs
    assert ["SVC", "HC:76942", "200", "", "", "", "", "1"] in segs
    assert ["REF", "FJ", "LINE0002-1"] in segs
    assert ["QTY", "90", "1"] in segs and ["AMT", "YY", "200"] in segs


def test_missing_decision_is_a_config_error(tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(json.dumps(record("PCN0001", "accepted")) + "\n")
    with pytest.raises(ConfigError, match="PCN0002"):
        build_277_from_decisions(
            MINIMAL, decisions, io.BytesIO(), control=ControlNumbers(), now=NOW
        )


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(json.dumps(record("OTHER", "accepted")) + "\n{broken\n")
    with pytest.raises(ConfigError) as caught:
        build_277_from_decisions(
            MINIMAL, decisions, io.BytesIO(), control=ControlNumbers(), now=NOW
        )
    assert caught.value.line == 2


def test_decision_from_record_line_scope() -> None:
    rec = record("P", "accepted")
    rec["lines"] = [{"line": 1, "decision": "accepted"}, {"line": 2, "decision": "rejected"}]
    decision = decision_from_record(rec)
    assert decision.accepted and decision.rejected_lines == frozenset({2})
    rejected = decision_from_record(record("P", "rejected", [PRIVILEGE]))
    assert not rejected.accepted and rejected.findings[0].entity == "82"
    assert rejected.findings[0].line == 1
