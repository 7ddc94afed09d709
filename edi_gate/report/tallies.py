"""Replay's tallies for people: which lines, providers and dollars the rejections touch.

Fed one decision record at a time (a line of ``--decisions``), additive so replay's units are
counted apart and merged, and small: counters keyed by rule, code and NPI, never claims.

Why these counts:
- A procedure code is counted for the lines a finding names, not for every line of a rejected
  claim (an office visit billed beside a refused MRI is not what the rule is about).
- ``claims_by_rule`` counts claims with at least one finding of a rule; ``findings_by_rule``
  counts findings (one per line named, so a claim may have several). Both are reported, each
  under its own name, because they answer different questions (how many claims bounce, how
  much work a biller has to fix).
- Dollars at stake: CLM02 of every rejected claim, plus SV102 of every line removed from an
  accepted claim (line scope). A charge that is not a plain amount is left out and counted.
- Not evaluated: a decision whose ``"ruleset"`` is null was judged by no ruleset (no record
  field at all means it was evaluated).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

TOP = 20
MAX_CHARGE = Decimal(10) ** 11  # CLM02 and SV102 are money: anything this big is not an amount
UNKNOWN = "unknown"


def charge(text: object) -> Decimal | None:
    """A CLM02/SV102 amount, or None when the text is not a plain, plausible amount."""
    if not isinstance(text, str) or not text or len(text) > 20:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= MAX_CHARGE:
        return None
    return value


def dollars(value: Decimal) -> float:
    """A JSON number for an amount, to the cent."""
    return float(round(value, 2))


def named_lines(record: dict[str, Any]) -> set[int]:
    """LX01 numbers of the lines the claim's findings name (claim-level findings name none)."""
    return {f["line"] for f in record["findings"] if f.get("line") is not None}


def not_evaluated(record: dict[str, Any]) -> bool:
    """True when no ruleset judged the claim (``"ruleset": null``; an absent field: evaluated)."""
    return "ruleset" in record and record["ruleset"] is None


@dataclass
class ReportTallies:
    """Findings, dollars and providers of one ruleset's decisions (see the module docstring)."""

    findings_by_rule: Counter[str] = field(default_factory=Counter)
    not_evaluated: int = 0
    rejected_dollars: Decimal = Decimal(0)  # CLM02 of rejected claims
    removed_line_dollars: Decimal = Decimal(0)  # SV102 of lines removed from accepted claims
    dollars_by_rule: Counter[str] = field(default_factory=Counter)
    unparsed_charges: int = 0
    provider_claims: Counter[str] = field(default_factory=Counter)  # rendering NPI: claims
    provider_lines: Counter[str] = field(default_factory=Counter)  # rendering NPI: named lines
    month_dollars: Counter[str] = field(default_factory=Counter)

    def add(self, record: dict[str, Any]) -> None:
        if record.get("ruleset", "") is None:  # not_evaluated(record), inline: once per claim
            self.not_evaluated += 1
        findings = record["findings"]
        if not findings:  # most claims: nothing rejected, nothing at stake
            return
        for finding in findings:
            self.findings_by_rule[finding["rule"]] += 1
        rejected = record["decision"] == "rejected"
        rules = {f["rule"] for f in findings}
        month = (record.get("service_date") or "")[:7] or UNKNOWN
        if rejected:
            amount = self._amount(record.get("charge"))
            self.rejected_dollars += amount
            self.month_dollars[month] += amount  # type: ignore[assignment]
            for rule in rules:
                self.dollars_by_rule[rule] += amount  # type: ignore[assignment]
        named = named_lines(record)
        lines = record["lines"]
        for npi in {ln["rendering_npi"] or UNKNOWN for ln in lines if ln["line"] in named}:
            self.provider_claims[npi] += 1
        for line in lines:
            if line["line"] in named:
                self.provider_lines[line["rendering_npi"] or UNKNOWN] += 1
            if not rejected and line["decision"] == "rejected":
                amount = self._amount(line.get("charge"))
                self.removed_line_dollars += amount
                self.month_dollars[month] += amount  # type: ignore[assignment]
                for rule in {f["rule"] for f in findings if f["line"] == line["line"]}:
                    self.dollars_by_rule[rule] += amount  # type: ignore[assignment]

    def _amount(self, text: object) -> Decimal:
        value = charge(text)
        if value is None:
            self.unparsed_charges += 1
            return Decimal(0)
        return value

    def merge(self, other: ReportTallies) -> None:
        self.findings_by_rule.update(other.findings_by_rule)
        self.not_evaluated += other.not_evaluated
        self.rejected_dollars += other.rejected_dollars
        self.removed_line_dollars += other.removed_line_dollars
        self.dollars_by_rule.update(other.dollars_by_rule)
        self.unparsed_charges += other.unparsed_charges
        self.provider_claims.update(other.provider_claims)
        self.provider_lines.update(other.provider_lines)
        self.month_dollars.update(other.month_dollars)

    def as_dict(self) -> dict[str, Any]:
        top = sorted(self.provider_claims.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        return {
            "findings_by_rule": dict(sorted(self.findings_by_rule.items())),
            "not_evaluated_claims": self.not_evaluated,  # by reason: the stats' not_evaluated
            "dollars_at_stake": {
                "rejected_claims": dollars(self.rejected_dollars),
                "removed_lines": dollars(self.removed_line_dollars),
                "total": dollars(self.rejected_dollars + self.removed_line_dollars),
                "by_rule": {
                    rule: dollars(Decimal(value))
                    for rule, value in sorted(self.dollars_by_rule.items())
                },
                "by_month": {
                    month: dollars(Decimal(value))
                    for month, value in sorted(self.month_dollars.items())
                },
                "unparsed_charges": self.unparsed_charges,
            },
            "top_providers": [
                {"rendering_npi": npi, "claims": n, "lines": self.provider_lines[npi]}
                for npi, n in top
            ],
        }


def _bucket() -> dict[str, Any]:
    return {"claims": 0, "dollars": Decimal(0)}


@dataclass
class CompareTallies:
    """What changes from ruleset A to B: claims and dollars newly rejected or released, by rule.

    Fed each pair of records whose decision differs. Claim level: a claim accepted by A and
    rejected by B is newly rejected (its CLM02 at stake), the reverse released. Line level (both
    accept the claim): lines B removes that A kept are newly rejected (their SV102), and back.
    By rule: the rules B adds (newly rejected) or no longer raises (released) on the claim.
    """

    newly_rejected: dict[str, Any] = field(default_factory=_bucket)
    released: dict[str, Any] = field(default_factory=_bucket)
    lines_newly_rejected: dict[str, Any] = field(default_factory=_bucket)
    lines_released: dict[str, Any] = field(default_factory=_bucket)
    newly_rejected_by_rule: dict[str, dict[str, Any]] = field(default_factory=dict)
    released_by_rule: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        rules_a = {f["rule"] for f in a["findings"]}
        rules_b = {f["rule"] for f in b["findings"]}
        if a["decision"] != b["decision"]:
            amount = charge(a.get("charge")) or Decimal(0)
            if b["decision"] == "rejected":
                _count(self.newly_rejected, 1, amount)
                for rule in rules_b - rules_a:
                    _count(self.newly_rejected_by_rule.setdefault(rule, _bucket()), 1, amount)
            else:
                _count(self.released, 1, amount)
                for rule in rules_a - rules_b:
                    _count(self.released_by_rule.setdefault(rule, _bucket()), 1, amount)
            return
        if a["decision"] == "rejected":
            return
        for line_a, line_b in zip(a["lines"], b["lines"], strict=False):
            if line_a["decision"] == line_b["decision"]:
                continue
            amount = charge(line_a.get("charge")) or Decimal(0)
            bucket = (
                self.lines_newly_rejected
                if line_b["decision"] == "rejected"
                else self.lines_released
            )
            _count(bucket, 1, amount)

    def merge(self, other: CompareTallies) -> None:
        for name in ("newly_rejected", "released", "lines_newly_rejected", "lines_released"):
            mine, theirs = getattr(self, name), getattr(other, name)
            _count(mine, theirs["claims"], theirs["dollars"])
        for mine_by, theirs_by in (
            (self.newly_rejected_by_rule, other.newly_rejected_by_rule),
            (self.released_by_rule, other.released_by_rule),
        ):
            for rule, bucket in theirs_by.items():
                _count(mine_by.setdefault(rule, _bucket()), bucket["claims"], bucket["dollars"])

    def as_dict(self) -> dict[str, Any]:
        def out(bucket: dict[str, Any], key: str = "claims") -> dict[str, Any]:
            return {key: bucket["claims"], "dollars": dollars(bucket["dollars"])}

        def by_rule(table: dict[str, dict[str, Any]]) -> dict[str, Any]:
            return {rule: out(table[rule]) for rule in sorted(table)}

        return {
            "newly_rejected": {
                **out(self.newly_rejected),
                "by_rule": by_rule(self.newly_rejected_by_rule),
            },
            "released": {**out(self.released), "by_rule": by_rule(self.released_by_rule)},
            "lines_newly_rejected": out(self.lines_newly_rejected, "lines"),
            "lines_released": out(self.lines_released, "lines"),
        }


def _count(bucket: dict[str, Any], claims: int, amount: Decimal) -> None:
    bucket["claims"] += claims
    bucket["dollars"] += amount
