"""The 277CA's 2000D is written with f-strings field by field for speed (ca277_claim.claim_text,
claim_stc): it must be exactly what the plain writer, ``segment_text`` over every element, makes
of the same claim, for every claim and any status (docs/compiled-build.md's twin tests)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.generate import generate
from edi_gate.acks.ca277_claim import (
    ClaimAck,
    LineAck,
    Status,
    claim_ack,
    claim_parts,
    claim_stc,
    claim_text,
    dtp_period,
    reject_statuses,
)
from edi_gate.acks.x12out import amount, segment_text
from edi_gate.rules.engine import Engine, decide
from edi_gate.rules.findings import Decision, Finding
from edi_gate.x12.loops import EventReader
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import SegmentReader

TODAY = "20261124"
UNDATED = date(2026, 11, 20)  # the service date of a claim that gives none


def plain_stc(status: Status, action: str, charge: str) -> str:
    gap = ("",) * 7  # STC05..STC11
    return segment_text("STC", (status.composite(), TODAY, action, charge, *gap, status.message))


def plain_lines(line: LineAck, start: date, end: date | None) -> list[str]:
    if line.start is not None:
        start, end = line.start, line.end
    svc01 = (line.qualifier, line.procedure, *line.modifiers[:4])
    texts = []
    for at in range(0, len(line.statuses), 3):
        chunk = line.statuses[at : at + 3]
        extra = [s.composite(entity=False) for s in chunk[1:]]
        texts += [
            segment_text("SVC", (svc01, amount(line.charge), "", "", "", "", amount(line.units))),
            segment_text("STC", (chunk[0].composite(), "", "U", *("",) * 6, *extra)),
            segment_text("REF", ("FJ", line.line_control)),
            segment_text("DTP", ("472", *dtp_period(start, end))),
        ]
    return texts


def plain_claim_text(
    claim: ClaimAck, statuses: list[Status], icn: str, lines: list[LineAck]
) -> tuple[str, int]:
    """The 2000D after its HL, every segment through segment_text: the slow reference."""
    last, first, qualifier, ident = claim.patient
    action = "WQ" if claim.accepted else "U"
    texts = [
        segment_text("NM1", ("QC", "1", last, first, "", "", "", qualifier, ident)),
        segment_text("TRN", ("2", claim.claim_id)),
        *(plain_stc(s, action, claim.charge_text) for s in statuses),
    ]
    if icn:
        texts.append(segment_text("REF", ("1K", icn)))
    if claim.clearinghouse_trace:
        texts.append(segment_text("REF", ("D9", claim.clearinghouse_trace)))
    texts.append(segment_text("DTP", ("472", *dtp_period(claim.start, claim.end))))
    for line in lines:
        texts += plain_lines(line, claim.start, claim.end)
    return "".join(texts), len(texts)


def _claims(tmp: Path, count: int, seed: int) -> list[Claim]:
    path = tmp / f"g{seed}.837"
    generate(path, count, seed=seed)
    with open(path, "rb") as fh:
        return [
            e for e in EventReader(SegmentReader(fh, str(path)), str(path)) if isinstance(e, Claim)
        ]


@pytest.fixture(scope="module")
def claims(tmp_path_factory) -> list[Claim]:
    tmp = tmp_path_factory.mktemp("twin")
    return _claims(tmp, 1500, 11) + _claims(tmp, 500, 12)


@pytest.mark.parametrize("scope", ["claim", "line"])
def test_every_generated_claim_matches_the_plain_writer(claims, scope) -> None:
    """Each claim's 2000D, accepted, rejected or cut in line scope, equals the plain writer's
    text of the same parts; claim_ack writes exactly that text."""
    engine = Engine.load()
    kinds = {"accepted": 0, "rejected": 0, "cut": 0}
    for item in claims:
        decision = decide(item, engine.evaluate(item), scope)
        ack, statuses, icn, lines = claim_parts(item, decision, UNDATED)
        fast = claim_text(ack, TODAY, statuses, icn, lines)
        assert fast == plain_claim_text(ack, statuses, icn, lines)
        written = claim_ack(item, decision, TODAY, UNDATED)
        assert (written.text, written.segments) == fast
        kind = "cut" if decision.accepted and decision.rejected_lines else decision.label
        kinds[kind] += 1
    assert kinds["accepted"] > 100 and kinds["rejected"] > 100
    if scope == "line":
        assert kinds["cut"] > 10


def test_a_rejected_whole_set_matches_the_plain_writer(claims) -> None:
    """The rewrite of a claim whose set failed its syntax checks takes the same fast path."""
    syntax = Finding("X12-SYNTAX", None, "transaction set rejected: SE01 wrong", "A3", "21", "41")
    statuses = reject_statuses([syntax])
    for item in claims[:300]:
        ack = claim_ack(item, Decision(True, []), TODAY, UNDATED)
        ack.rejected_whole(TODAY, statuses)
        assert not ack.accepted and "STC*A3:21:41*" in ack.text
        assert (ack.text, ack.segments) == plain_claim_text(ack, statuses, "", [])


codes = st.text(alphabet="A0123456789", max_size=3)
messages = st.text(alphabet="ABC 0-9:;,.", max_size=40).map(str.strip)


@given(
    category=codes,
    status=codes,
    entity=st.sampled_from(["", "PR", "41", "85", "82"]),
    message=messages,
    action=st.sampled_from(["WQ", "U", ""]),
    charge=st.sampled_from(["150", "0", "1234.5", ""]),
)
def test_any_status_line_matches_the_plain_writer(
    category, status, entity, message, action, charge
):
    """claim_stc's f-string and its fallback agree with segment_text for any STC, empty
    elements included (a trailing empty element is dropped, never written)."""
    item = Status(category, status, entity, message)
    assert claim_stc(item, TODAY, action, charge) == plain_stc(item, action, charge)
