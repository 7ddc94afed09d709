"""The decisions record: one JSON object per claim (``--decisions``, replay's decisions.jsonl).

Its schema is written here once, as types, and every module that reads or rewrites a record
goes through the functions below instead of raw keys: the 277CA rebuild (``edi-gate ack``),
the reject-all rewrite of a set that fails its SE, replay's compare, the Parquet projection and
the ``check`` table. ``decision_record`` builds a record the plain way; the filter writes the
same text field by field (edi_gate.decisions.writer), and a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict

from edi_gate.directory.lookup import Resolution
from edi_gate.rules.findings import Decision, Finding
from edi_gate.x12.model import Claim, ServiceLine


class FindingRecord(TypedDict):
    rule: str
    line: int | None  # LX01 of the line the finding is about; None: the claim
    message: str
    category: str  # 277CA STC01-1
    status: str  # STC01-2
    entity: str  # STC01-3


class LineRecord(TypedDict):
    line: int  # LX01
    procedure: str
    modifiers: list[str]
    units: int | float
    charge: str  # SV102 as read, for replay's dollars at stake
    place_of_service: str
    rendering_npi: str
    rendering_loop: str  # the loop the rendering provider came from (2420A, 2310B, 2010AA)
    taxonomy: str  # the first of ``taxonomies``, "" when none
    taxonomies: list[str]
    taxonomy_source: str  # where the rules found them ("2420A PRV", "roster", ...)
    decision: str  # "accepted" | "rejected"


class DecisionRecord(TypedDict):
    claim: str  # CLM01
    decision: str  # "accepted" | "rejected"
    ruleset: str | None  # the ruleset that judged the claim; None: none was in force
    interchange: str  # ISA13
    group: str  # GS06
    transaction: str  # ST02
    source: str  # the input's name
    position: int  # the claim's ordinal in its input
    charge: str  # CLM02 as read
    billing_npi: str
    service_date: str | None  # ISO date
    service_date_end: str | None
    lines: list[LineRecord]
    findings: list[FindingRecord]


ACCEPTED, REJECTED = "accepted", "rejected"
# Fields a record read from outside falls back to when a finding lacks them (edi-gate ack).
DEFAULT_CATEGORY, DEFAULT_STATUS = "A7", "21"


def number(value: Decimal) -> int | float:
    """A JSON number for a unit count: an int when it is whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def finding_record(finding: Finding) -> FindingRecord:
    return finding.as_dict()  # type: ignore[return-value]  # the same keys, in order


def line_taxonomy(line: ServiceLine, found: Resolution | None) -> tuple[tuple[str, ...], str]:
    """A line's taxonomies and where they came from: as the rules resolved them, else the
    line's own loop's PRV (engines that resolve none)."""
    if found is not None:
        return tuple(found.codes), found.source
    rendering = line.rendering
    if rendering.taxonomy:
        return (rendering.taxonomy.upper(),), rendering.loop + " PRV"
    return (), ""


def line_rejected(decision: Decision, line: int) -> bool:
    return not decision.accepted or line in decision.rejected_lines


def decision_record(
    claim: Claim,
    decision: Decision,
    ruleset: str | None = None,
    taxonomies: Sequence[Resolution] | None = None,
) -> DecisionRecord:
    """The record of one decided claim, built the plain way (no patient names or member ids)."""
    start, end = claim.service_dates
    env = claim.envelope
    lines = []
    for index, line in enumerate(claim.lines):
        codes, source = line_taxonomy(line, taxonomies[index] if taxonomies is not None else None)
        lines.append(
            LineRecord(
                line=line.number,
                procedure=line.procedure,
                modifiers=list(line.modifiers),
                units=number(line.units),
                charge=str(line.charge),
                place_of_service=line.place_of_service,
                rendering_npi=line.rendering.npi,
                rendering_loop=line.rendering.loop,
                taxonomy=codes[0] if codes else "",
                taxonomies=list(codes),
                taxonomy_source=source,
                decision=REJECTED if line_rejected(decision, line.number) else ACCEPTED,
            )
        )
    return DecisionRecord(
        claim=claim.claim_id,
        decision=decision.label,
        ruleset=ruleset,
        interchange=env.interchange_control,
        group=env.group_control,
        transaction=env.transaction_control,
        source=env.source,
        position=claim.ordinal,
        charge=claim.segments[0].element(2),
        billing_npi=claim.billing.npi,
        service_date=start.isoformat() if start else None,
        service_date_end=end.isoformat() if end else None,
        lines=lines,
        findings=[finding_record(f) for f in decision.findings],
    )


# -- transforms ----------------------------------------------------------------------------------


def with_decision(record: DecisionRecord, decision: Decision) -> DecisionRecord:
    """The record of the same claim under another decision: the reject-all rewrite of a set
    that failed its SE, replay's ruleset B from ruleset A's record."""
    other = DecisionRecord(**record)  # type: ignore[typeddict-item]
    other["decision"] = decision.label
    other["findings"] = [finding_record(f) for f in decision.findings]
    other["lines"] = [
        _line_with(line, REJECTED if line_rejected(decision, line["line"]) else ACCEPTED)
        for line in record["lines"]
    ]
    return other


def _line_with(line: LineRecord, decision: str) -> LineRecord:
    other = LineRecord(**line)  # type: ignore[typeddict-item]
    other["decision"] = decision
    return other


def rejected_whole(record: DecisionRecord, findings: list[Finding]) -> DecisionRecord:
    """The record once its transaction set failed its syntax checks: rejected with ``findings``."""
    return with_decision(record, Decision(False, findings))


def rejected_lines(record: DecisionRecord) -> list[int]:
    return [line["line"] for line in record["lines"] if line["decision"] == REJECTED]


def rules(record: DecisionRecord) -> list[str]:
    """The rules with a finding on the claim, sorted, once each."""
    return sorted({f["rule"] for f in record["findings"]})


def is_syntax_rejection(record: DecisionRecord, syntax_rule: str) -> bool:
    return any(f["rule"] == syntax_rule for f in record["findings"])


def change(a: DecisionRecord, b: DecisionRecord) -> dict[str, Any] | None:
    """Replay's compare: what differs between two rulesets' records of one claim (the decision
    or the lines removed), as a changes.jsonl object; None when nothing does."""
    lines_a, lines_b = rejected_lines(a), rejected_lines(b)
    if a["decision"] == b["decision"] and lines_a == lines_b:
        return None
    rules_a, rules_b = rules(a), rules(b)
    return {
        "source": a["source"],
        "position": a["position"],
        "claim": a["claim"],
        "service_date": a["service_date"],
        "a": a["decision"],
        "b": b["decision"],
        "rejected_lines_a": lines_a,
        "rejected_lines_b": lines_b,
        "rules_added": [r for r in rules_b if r not in rules_a],
        "rules_removed": [r for r in rules_a if r not in rules_b],
        "findings_a": a["findings"],
        "findings_b": b["findings"],
    }


def record_key(record: dict[str, Any]) -> tuple[str, str, str, str]:
    """(interchange, group, transaction, claim) of a record read from outside (any may lack)."""
    return (
        str(record.get("interchange", "")),
        str(record.get("group", "")),
        str(record.get("transaction", "")),
        str(record.get("claim", "")),
    )


def claim_key(claim: Claim) -> tuple[str, str, str, str]:
    """The ``record_key`` of ``claim``'s record."""
    env = claim.envelope
    return env.interchange_control, env.group_control, env.transaction_control, claim.claim_id


def decision_from_record(record: dict[str, Any]) -> Decision:
    """A Decision from one record read from a decisions file (``edi-gate ack``)."""
    accepted = record.get("decision") == ACCEPTED
    findings = []
    raw_findings = record.get("findings") or []
    assert isinstance(raw_findings, list)
    for raw in raw_findings:
        assert isinstance(raw, dict)
        findings.append(
            Finding(
                rule=str(raw.get("rule", "")),
                line=raw.get("line"),
                message=str(raw.get("message", "")),
                category=str(raw.get("category") or DEFAULT_CATEGORY),
                status=str(raw.get("status") or DEFAULT_STATUS),
                entity=str(raw.get("entity") or ""),
            )
        )
    removed: frozenset[int] = frozenset()
    raw_lines = record.get("lines") or []
    if accepted and isinstance(raw_lines, list):
        removed = frozenset(
            int(ln["line"])
            for ln in raw_lines
            if isinstance(ln, dict) and ln.get("decision") == REJECTED
        )
    return Decision(accepted, findings, removed)


def parquet_row(record: DecisionRecord, text: str) -> tuple[Any, ...]:
    """Replay on Spark: the columns of the decisions table (edi_gate.pipeline.spark's schema),
    ``text`` the record's JSON line as written."""
    return (
        record["source"],
        int(record["position"]),
        record["claim"],
        record["decision"],
        record["interchange"],
        record["group"],
        record["transaction"],
        record["service_date"],
        record["billing_npi"],
        rules(record),
        text,
    )


def table_lines(record: DecisionRecord) -> list[str]:
    """``edi-gate check``'s table: the claim, its decision and lines, then one row a finding.
    A line removed from an accepted claim (``--scope line``) is marked ``[removed]``."""
    accepted = record["decision"] == ACCEPTED
    codes = ", ".join(
        f"{ln['line']}:{ln['procedure']}"
        + "".join(f"-{m}" for m in ln["modifiers"])
        + (" [removed]" if accepted and ln["decision"] == REJECTED else "")
        for ln in record["lines"]
    )
    rows = [f"{record['claim']:<20} {record['decision']:<9} {codes}"]
    for finding in record["findings"]:
        where = f"line {finding['line']}" if finding["line"] is not None else "claim"
        rows.append(f"    {finding['rule']:<10} {where:<8} {finding['message']}")
    return rows
