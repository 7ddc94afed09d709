"""The oracle every hostile input is judged by.

``check(data)`` runs the whole filter pipeline in memory (filtered 837, decisions, 277CA, 999) and
returns normally only when edi-gate behaved: it either refused the input with ``X12Error`` or
processed it with every claim accounted for. Anything else (another exception, a lost or
duplicated claim, an accepted claim changed on the way, an unreadable output) raises
``OracleFailure`` or the original exception, which is what the fuzzers look for.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edi_gate.pipeline.filter import FilterRun, Summary
from edi_gate.pipeline.sinks import output_sinks
from edi_gate.rules.findings import Finding
from edi_gate.x12.errors import X12Error
from edi_gate.x12.loops import EventReader, GroupEnd, InterchangeEnd, TransactionEnd, is_837p
from edi_gate.x12.loops import TransactionStart as _TransactionStart
from edi_gate.x12.tokenizer import SegmentReader

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class OracleFailure(AssertionError):
    """edi-gate processed an input but broke an invariant."""


class HashEngine:
    """A deterministic rule-engine double: rejects about a third of the claims, and in line scope
    some single lines, chosen by a hash of CLM01 so that mutations move the choice around."""

    def evaluate(self, claim) -> list[Finding]:
        digest = hashlib.blake2s(claim.claim_id.encode("latin-1", "replace")).digest()
        if digest[0] % 3 == 0:
            return [Finding("FUZZ001", None, "rejected by the fuzz engine", "A7", "21", "85")]
        if digest[0] % 3 == 1 and claim.lines:
            number = claim.lines[digest[1] % len(claim.lines)].number
            reason = "line rejected by the fuzz engine"
            return [Finding("FUZZ002", number, reason, "A7", "21", "82")]
        return []


class AcceptAll:
    def evaluate(self, claim) -> list[Finding]:
        return []


_REAL_ENGINE: object | None = None
_REAL_TRIED = False


def real_engine():
    """The real rule engine with its default rulesets, or None while it cannot load."""
    global _REAL_ENGINE, _REAL_TRIED
    if not _REAL_TRIED:
        _REAL_TRIED = True
        try:
            from edi_gate.rules.engine import Engine

            _REAL_ENGINE = Engine.load(None, None)
        except Exception:  # noqa: BLE001 - not written yet, or no default ruleset installed
            _REAL_ENGINE = None
    return _REAL_ENGINE


@dataclass
class Outcome:
    """What one pipeline run produced."""

    error: X12Error | None = None
    summary: Summary | None = None
    output: bytes = b""
    decisions: list[dict] = field(default_factory=list)
    ack277: bytes = b""
    ack999: bytes = b""
    raw_claims: dict[int, bytes] = field(default_factory=dict)  # claim ordinal -> its raw bytes


def _ack_writers(ca_out, ack_out):
    try:
        from edi_gate.acks.ack999 import Ack999Writer
        from edi_gate.acks.ca277 import Ack277Writer
        from edi_gate.acks.state import ControlNumbers
    except ImportError:  # pragma: no cover - acknowledgments not written yet
        return None, None
    control = ControlNumbers()
    return (
        Ack277Writer(ca_out, control=control, now=NOW),
        Ack999Writer(ack_out, control=control, now=NOW),
    )


def run_pipeline(
    data: bytes, engine=None, *, scope: str = "claim", chunk_size: int = 1 << 16
) -> Outcome:
    """Run the filter over ``data`` with every output in memory; X12Error is caught and returned."""
    engine = engine or HashEngine()
    out, decisions, ca_out, ack_out = io.BytesIO(), io.StringIO(), io.BytesIO(), io.BytesIO()
    ca277, ack999 = _ack_writers(ca_out, ack_out)
    raw: dict[int, bytes] = {}

    def keep(claim, _decision) -> None:
        raw[claim.ordinal] = b"".join(seg.raw + seg.delimiters.segment for seg in claim.segments)

    sinks = output_sinks(
        engine, out=out, decisions=decisions, acks=ca277, ack999=ack999, on_claim=keep
    )
    run = FilterRun(engine, scope=scope, sinks=sinks, chunk_size=chunk_size)
    try:
        summary = run.run(io.BytesIO(data), "fuzz.837")
    except X12Error as error:
        _ta1(error)  # what run_filter_file answers an unreadable interchange with
        return Outcome(error=error)
    for isa, issues in getattr(run, "interchange_issues", ()):
        for issue in issues:
            _ta1(isa, note=issue.code)
    records = [json.loads(line) for line in decisions.getvalue().splitlines()]
    return Outcome(
        None, summary, out.getvalue(), records, ca_out.getvalue(), ack_out.getvalue(), raw
    )


def _ta1(subject, note: str | None = None) -> None:
    """Write the TA1 edi-gate would write; it must not fail, and must be plain X12 when written."""
    try:
        from edi_gate.acks.state import ControlNumbers
        from edi_gate.acks.ta1 import write_ta1
    except ImportError:  # pragma: no cover
        return
    out = io.BytesIO()
    if write_ta1(out, subject, control=ControlNumbers(), now=NOW, note=note):
        text = out.getvalue().decode("ascii")
        if "TA1*" not in text or not text.startswith("ISA*"):
            _fail(f"TA1 written is not a TA1 interchange: {text[:120]!r}")


def clm_segments(data: bytes) -> list[bytes]:
    """Raw CLM segments inside 837P transaction sets, found by the tokenizer alone (no loops)."""
    found, in_837, version = [], False, ""
    for seg in SegmentReader(io.BytesIO(data), "count"):
        if seg.tag == b"GS":
            version = seg.element(8)
        elif seg.tag == b"ST":
            in_837 = is_837p(version, seg.element(1), seg.element(3))
        elif seg.tag == b"SE":
            in_837 = False
        elif seg.tag == b"CLM" and in_837:
            found.append(seg.raw + seg.delimiters.segment)
    return found


def _fail(message: str) -> None:
    raise OracleFailure(message)


def ack277_claims(data: bytes) -> list[str]:
    """TRN02 of every 2000D (HL*..*PT) of a 277CA written by edi-gate (standard delimiters)."""
    ids, in_claim = [], False
    for text in data.decode("ascii").split("~"):
        elements = text.strip().split("*")
        if elements[0] == "HL":
            in_claim = len(elements) > 3 and elements[3] == "PT"
        elif elements[0] == "TRN" and in_claim:
            ids.append(elements[2] if len(elements) > 2 else "")
            in_claim = False
    return ids


def check_conservation(outcome: Outcome, data: bytes, *, scope: str = "claim") -> None:
    """Claims in = accepted + rejected, the output holds exactly the accepted claims byte for byte,
    the output is itself readable sound X12, and the 277CA acknowledges exactly the decisions."""
    summary, records = outcome.summary, outcome.decisions
    assert summary is not None
    if not summary.claims == len(records) == summary.accepted + summary.rejected:
        _fail(f"summary {summary.as_dict()} disagrees with {len(records)} decisions")
    positions = [r["position"] for r in records]
    if len(set(positions)) != len(positions):
        _fail("a claim was decided twice")
    clm_in = clm_segments(data)
    # Claims found by edi-gate and CLM segments in 837 sets found by the tokenizer alone agree
    # (a CLM the reader does not treat as a claim must reject its set, not slip through).
    accepted = [r for r in records if r["decision"] == "accepted"]
    if len(clm_in) != summary.claims and not _only_in_rejected_sets(outcome, data):
        _fail(f"input has {len(clm_in)} CLM segments in 837 sets, edi-gate read {summary.claims}")
    # The filtered 837: exactly the accepted claims, in order, byte for byte (claim scope).
    if outcome.output:
        clm_out = clm_segments(outcome.output)
        if len(clm_out) != len(accepted):
            _fail(f"output holds {len(clm_out)} CLM, {len(accepted)} claims were accepted")
        reread = run_pipeline(outcome.output, AcceptAll())
        if reread.error is not None:
            _fail(f"filtered output is unreadable: {reread.error}")
        assert reread.summary is not None
        if reread.summary.rejected_transactions:
            bad = next(r for r in reread.decisions if r["decision"] == "rejected")
            _fail(f"filtered output has syntax errors: {bad['findings'][0]['message']}")
        if [r["claim"] for r in reread.decisions] != [r["claim"] for r in accepted]:
            _fail("filtered output's claims differ from the accepted claims")
        if scope == "claim":
            expected = [outcome.raw_claims[r["position"]] for r in accepted]
            got = [reread.raw_claims[r["position"]] for r in reread.decisions]
            for want, have in zip(expected, got, strict=True):
                if want != have:
                    _fail(f"accepted claim changed on output: {want[:80]!r} -> {have[:80]!r}")
        _check_envelopes(outcome.output, data)
    elif accepted:
        _fail(f"{len(accepted)} claims accepted but no filtered output written")
    if outcome.ack277 or records:
        from edi_gate.acks.ca277_values import reference

        acked = ack277_claims(outcome.ack277) if outcome.ack277 else []
        want = [reference(r["claim"]) or "UNKNOWN" for r in records]
        if sorted(acked) != sorted(want):
            _fail(f"277CA acknowledges {len(acked)} claims, decisions hold {len(want)}")


def _only_in_rejected_sets(outcome: Outcome, data: bytes) -> bool:
    """True when every CLM the reader did not assemble sits in a set that was rejected whole."""
    return False


def _envelope_issue_codes(data: bytes) -> set[str]:
    codes = set()
    for event in EventReader(SegmentReader(io.BytesIO(data), "x"), "x"):
        if isinstance(event, GroupEnd | InterchangeEnd):
            codes.update(issue.code for issue in event.issues)
        elif isinstance(event, TransactionEnd):
            # every issue: the output fixes some (SE02 = ST02), which must not surface others
            codes.update("set:" + issue.message for issue in event.issues)
    return codes


def _check_envelopes(output: bytes, data: bytes) -> None:
    """The writer recounts GE01/IEA01 and SE01: the output adds no envelope error of its own."""
    new = _envelope_issue_codes(output) - _envelope_issue_codes(data)
    if new:
        _fail(f"filtered output has envelope errors the input did not: {sorted(new)}")


def check(data: bytes, engine=None, *, scope: str = "claim", chunk_size: int = 1 << 16) -> Outcome:
    """The fuzz property: X12Error, or a processed run with conservation holding."""
    outcome = run_pipeline(data, engine, scope=scope, chunk_size=chunk_size)
    if outcome.error is not None:
        message = str(outcome.error)
        if not message or "Traceback" in message:
            _fail(f"unhelpful X12Error: {message!r}")
        return outcome
    check_conservation(outcome, data, scope=scope)
    return outcome


__all__ = [
    "AcceptAll",
    "HashEngine",
    "OracleFailure",
    "Outcome",
    "_TransactionStart",
    "check",
    "check_conservation",
    "clm_segments",
    "real_engine",
    "run_pipeline",
]
