"""The --decisions line is written field by field (edi_gate.decisions.writer.decision_json) for
speed: it must be exactly what json.dumps makes of the documented record, for every claim and any
text; the typed record (edi_gate.decisions.record.decision_record) is that record."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.generate import generate
from edi_gate.decisions.record import decision_record
from edi_gate.decisions.writer import _json_text, decision_json
from edi_gate.errors import X12Error
from edi_gate.rules.engine import Engine, decide
from edi_gate.x12.loops import EventReader
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import SegmentReader
from tests.data.x12 import CASES
from tests.helpers import CORPUS, provenance


def reference_record(
    claim: Claim, decision, ruleset: str | None = None, taxonomies=None
) -> dict[str, object]:
    """The decisions schema as the README documents it, built the plain way.

    Issue 17 added ``taxonomies`` and ``taxonomy_source`` to each line on purpose (and made
    ``taxonomy`` the first taxonomy the rules used, not only the line's own PRV): see
    test_lines_record_where_their_taxonomy_came_from.
    """

    def number(value: Decimal) -> int | float:
        return int(value) if value == value.to_integral_value() else float(value)

    start, end = claim.service_dates
    return {
        "claim": claim.claim_id,
        "decision": "accepted" if decision.accepted else "rejected",
        # which ruleset judged the claim; null: none was in force, no rule looked at it
        "ruleset": ruleset,
        "interchange": claim.envelope.interchange_control,
        "group": claim.envelope.group_control,
        "transaction": claim.envelope.transaction_control,
        "source": claim.envelope.source,
        "position": claim.ordinal,
        "charge": claim.segments[0].element(2),
        "billing_npi": claim.billing.npi,
        "service_date": start.isoformat() if start else None,
        "service_date_end": end.isoformat() if end else None,
        "lines": [
            {
                "line": line.number,
                "procedure": line.procedure,
                "modifiers": list(line.modifiers),
                "units": number(line.units),
                "charge": str(line.charge),  # SV102, for replay's dollars at stake
                "place_of_service": line.place_of_service,
                "rendering_npi": line.rendering.npi,
                "rendering_loop": line.rendering.loop,
                "taxonomy": taxonomies[i].codes[0] if taxonomies[i].codes else "",
                "taxonomies": list(taxonomies[i].codes),
                "taxonomy_source": taxonomies[i].source,
                "decision": (
                    "rejected"
                    if not decision.accepted or line.number in decision.rejected_lines
                    else "accepted"
                ),
            }
            for i, line in enumerate(claim.lines)
        ],
        "findings": [
            {
                "rule": f.rule,
                "line": f.line,
                "message": f.message,
                "category": f.category,
                "status": f.status,
                "entity": f.entity,
            }
            for f in decision.findings
        ],
    }


def claims_of(path: Path):
    """The claims read before any error (the corpus has unreadable files too)."""
    with open(path, "rb") as fh:
        try:
            for event in EventReader(SegmentReader(fh, str(path)), str(path)):
                if isinstance(event, Claim):
                    yield event
        except X12Error:
            return


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[list[Path], list[Path], Path]:
    """Generated claims plus the project's edge cases, the public corpus's 837Ps, a roster."""
    tmp = tmp_path_factory.mktemp("decisions")
    roster = tmp / "roster.csv"
    generate(tmp / "gen.837", 2_000, seed=5, roster=roster)
    edge = []
    for name, case in CASES.items():
        edge.append(tmp / f"{name}.x12")
        edge[-1].write_bytes(case.build())
    corpus = [
        CORPUS / row["local_path"]
        for row in provenance()
        if row["transaction_type"] == "837P" and row["version_GS08"].startswith("005010")
    ]
    return [tmp / "gen.837", *edge], [tmp / "gen.837", *corpus], roster


@pytest.mark.parametrize(
    ("scope", "corpus"),
    [
        ("claim", False),
        ("line", False),
        pytest.param("claim", True, marks=pytest.mark.interop),
        pytest.param("line", True, marks=pytest.mark.interop),
    ],
)
def test_every_claim_matches_json_dumps(inputs, scope: str, corpus: bool) -> None:
    own, public, roster = inputs
    paths = public if corpus else own
    engine = Engine.load(None, roster)
    seen = rejected = partial = 0
    rulesets: set[str | None] = set()
    sources: set[str] = set()
    for path in paths:
        for claim in claims_of(path):
            decision = decide(claim, engine.evaluate(claim), scope)
            ruleset = engine.ruleset_id(claim)
            rulesets.add(ruleset)
            taxonomies = engine.line_taxonomies(claim)
            expected = reference_record(claim, decision, ruleset, taxonomies)
            line = decision_json(claim, decision, ruleset, taxonomies)
            sources.update(t.source for t in taxonomies)
            assert line == json.dumps(expected, separators=(",", ":"))
            assert json.loads(line) == expected
            assert decision_record(claim, decision, ruleset, taxonomies) == expected
            seen += 1
            rejected += not decision.accepted
            partial += bool(decision.accepted and decision.rejected_lines)
    assert seen > 2_000 and rejected > 100
    assert rulesets - {None}, "claims judged by a ruleset (the corpus adds unjudged ones)"
    if scope == "line":
        assert partial > 10, "line scope should have claims with some lines removed"
    assert {"2420A PRV", "2310B PRV", "2000A PRV", "roster"} <= sources


def test_lines_record_where_their_taxonomy_came_from() -> None:
    """The on-purpose change of issue 17: every line says which taxonomies the rules used and
    where they came from; without an engine's resolutions a line shows its own PRV."""
    from edi_gate.directory.lookup import Resolution

    claim = next(iter(_generated_claims()))
    decision = decide(claim, [], "claim")
    plain = json.loads(decision_json(claim, decision))
    for line, record in zip(claim.lines, plain["lines"], strict=True):
        own = line.rendering.taxonomy
        assert record["taxonomy"] == own.upper()
        assert record["taxonomy_source"] == (f"{line.rendering.loop} PRV" if own else "")
    given = [Resolution(("207RC0000X", "207RE0101X"), "roster") for _ in claim.lines]
    resolved = json.loads(decision_json(claim, decision, None, given))
    for record in resolved["lines"]:
        assert record["taxonomy"] == "207RC0000X"
        assert record["taxonomies"] == ["207RC0000X", "207RE0101X"]
        assert record["taxonomy_source"] == "roster"


def _generated_claims():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "g.837", 5, seed=1)
        yield from claims_of(Path(tmp) / "g.837")


@given(st.text())
def test_any_text_escapes_like_json(text: str) -> None:
    assert _json_text(text) == json.dumps(text)


@pytest.mark.parametrize(
    "text", ["", "PCN-1", 'quote"d', "back\\slash", "tab\there", "\x7f", "caf\u00e9", "\U0001f600"]
)
def test_awkward_text_escapes_like_json(text: str) -> None:
    assert _json_text(text) == json.dumps(text)
    assert json.loads(_json_text(text)) == text


def test_the_ruleset_field_is_a_deliberate_change(inputs) -> None:
    """Issue 13 item 10 added "ruleset" (second after "decision") to every decision: the id of
    the ruleset that judged the claim, or null. Readers of the old schema see one more key."""
    paths, _, roster = inputs
    engine = Engine.load(None, roster)
    claim = next(claims_of(paths[0]))
    decision = decide(claim, engine.evaluate(claim), "claim")
    judged = json.loads(decision_json(claim, decision, "imaging-2024.05"))
    assert list(judged)[:3] == ["claim", "decision", "ruleset"]
    assert judged["ruleset"] == "imaging-2024.05"
    assert json.loads(decision_json(claim, decision))["ruleset"] is None
