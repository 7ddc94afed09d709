"""The end-of-run table printed on a terminal instead of a summary log event.

Why: a person at a terminal wants "what happened" at a glance, not a Python dict in a log line.
JSON logs (pipelines, the default when stderr is not a terminal) keep their summary event as is;
this table is for the console. Counts are named for what they count: ``claims`` is the number of
claims with at least one finding of the rule, ``findings`` the number of findings (a claim may
have several findings of one rule, one per line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edi_gate.rules.findings import SYNTAX_RULE

SYNTAX_SUMMARY = "Transaction set rejected for X12 syntax errors"
SUMMARY_WIDTH = 64


@dataclass
class RuleCount:
    """One row of the by-rule table; None where a count is not known for this kind of run."""

    rule: str
    claims: int | None
    findings: int | None
    summary: str = ""


@dataclass
class RunTotals:
    """Everything the table shows; built from whichever summary a command has."""

    title: str
    claims: int
    accepted: int
    rejected: int
    not_evaluated: int = 0
    lines_removed: int = 0
    seconds: float | None = None
    bytes_in: int | None = None
    rules: list[RuleCount] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # extra (label, value) rows


def rule_summaries(engine: object) -> dict[str, str]:
    """Rule id -> summary over every ruleset of an engine (a later ruleset's wording wins)."""
    summaries = {SYNTAX_RULE: SYNTAX_SUMMARY}
    for ruleset in getattr(engine, "rulesets", ()):
        for rule in ruleset.rules:
            summaries[rule.id] = rule.summary
    return summaries


def rule_rows(
    claims_by_rule: Mapping[str, int] | None,
    findings_by_rule: Mapping[str, int] | None,
    summaries: Mapping[str, str],
) -> list[RuleCount]:
    """Rows ordered by claims (else findings), most first, then by rule id."""
    rules = set(claims_by_rule or {}) | set(findings_by_rule or {})
    rows = [
        RuleCount(
            rule,
            None if claims_by_rule is None else claims_by_rule.get(rule, 0),
            None if findings_by_rule is None else findings_by_rule.get(rule, 0),
            summaries.get(rule, ""),
        )
        for rule in rules
    ]
    rows.sort(key=lambda r: (-(r.claims if r.claims is not None else r.findings or 0), r.rule))
    return rows


def from_filter_summary(
    summary: object, summaries: Mapping[str, str], title: str, not_evaluated: int | None = None
) -> RunTotals:
    """Totals of one filter/check run (``edi_gate.pipeline.filter.Summary``)."""
    claims_by_rule = getattr(summary, "claims_by_rule", None)
    if not_evaluated is None:
        counts = getattr(summary, "not_evaluated", 0) or 0  # by reason (filter.Summary)
        not_evaluated = sum(counts.values()) if isinstance(counts, Mapping) else int(counts)
    return RunTotals(
        title=title,
        claims=summary.claims,  # type: ignore[attr-defined]
        accepted=summary.accepted,  # type: ignore[attr-defined]
        rejected=summary.rejected,  # type: ignore[attr-defined]
        not_evaluated=not_evaluated,
        lines_removed=summary.lines_removed,  # type: ignore[attr-defined]
        seconds=summary.seconds,  # type: ignore[attr-defined]
        bytes_in=summary.bytes_in,  # type: ignore[attr-defined]
        rules=rule_rows(claims_by_rule, summary.by_rule, summaries),  # type: ignore[attr-defined]
    )


def combine(title: str, parts: Iterable[RunTotals]) -> RunTotals:
    """The totals of several runs (``check`` over several inputs, ``watch --once``)."""
    total = RunTotals(title, 0, 0, 0, seconds=0.0, bytes_in=0)
    claims: dict[str, int] = {}
    findings: dict[str, int] = {}
    summaries: dict[str, str] = {}
    for part in parts:
        total.claims += part.claims
        total.accepted += part.accepted
        total.rejected += part.rejected
        total.not_evaluated += part.not_evaluated
        total.lines_removed += part.lines_removed
        total.seconds = (total.seconds or 0.0) + (part.seconds or 0.0)
        total.bytes_in = (total.bytes_in or 0) + (part.bytes_in or 0)
        for row in part.rules:
            claims[row.rule] = claims.get(row.rule, 0) + (row.claims or 0)
            findings[row.rule] = findings.get(row.rule, 0) + (row.findings or 0)
            summaries.setdefault(row.rule, row.summary)
    total.rules = rule_rows(claims, findings, summaries)
    return total


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else ""


def _shorten(text: str, width: int = SUMMARY_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _throughput(totals: RunTotals) -> str:
    seconds = totals.seconds or 0.0
    if seconds <= 0:
        return ""
    rate = f"{totals.claims / seconds:,.0f} claims/s"
    if totals.bytes_in:
        rate += f", {totals.bytes_in / seconds / 1e6:,.1f} MB/s"
    return rate


def render(totals: RunTotals) -> str:
    """The table, one string ending in a newline."""
    rows: list[tuple[str, str, str]] = [
        ("claims in", f"{totals.claims:,}", ""),
        ("accepted", f"{totals.accepted:,}", _percent(totals.accepted, totals.claims)),
        ("rejected", f"{totals.rejected:,}", _percent(totals.rejected, totals.claims)),
        (
            "not evaluated",
            f"{totals.not_evaluated:,}",
            _percent(totals.not_evaluated, totals.claims) if totals.not_evaluated else "",
        ),
        ("lines removed", f"{totals.lines_removed:,}", "(line scope)" * bool(totals.lines_removed)),
    ]
    rows += [(label, value, "") for label, value in totals.notes]
    if totals.seconds is not None:
        rows.append(("time", f"{totals.seconds:,.2f} s", _throughput(totals)))
    lines = [totals.title]
    lines += [f"  {label:<17} {value:>11}  {extra}".rstrip() for label, value, extra in rows]
    if totals.rules:
        show_claims = any(r.claims is not None for r in totals.rules)
        show_findings = any(r.findings is not None for r in totals.rules)
        head = f"  {'rule':<11}"
        head += f" {'claims':>8}" if show_claims else ""
        head += f" {'findings':>8}" if show_findings else ""
        lines += ["", head + "  summary"]
        for row in totals.rules:
            text = f"  {row.rule:<11}"
            if show_claims:
                text += f" {'' if row.claims is None else f'{row.claims:,}':>8}"
            if show_findings:
                text += f" {'' if row.findings is None else f'{row.findings:,}':>8}"
            lines.append(f"{text}  {_shorten(row.summary)}".rstrip())
        lines.append(
            "  (claims: claims with a finding of the rule; findings: one per claim or line named)"
            if show_claims and show_findings
            else ""
        )
        if not lines[-1]:
            lines.pop()
    return "\n".join(lines) + "\n"
