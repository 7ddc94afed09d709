"""The summary tallies of one ruleset over an archive.

Why additive: units are decided apart (in other processes, or on Spark executors) and their
tallies merged in unit order, so every count here must merge by addition.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from edi_gate.pipeline.filter import Summary
from edi_gate.report.tallies import CompareTallies, ReportTallies, named_lines

TOP_REJECTED = 20
UNKNOWN = "unknown"


def _bucket() -> Counter[str]:
    return Counter()


def _table(buckets: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {
        key: {"claims": c["claims"], "rejected": c["rejected"]}
        for key, c in sorted(buckets.items())
    }


@dataclass
class Stats:
    """The summary tallies of one ruleset: additive, so units are counted apart and merged."""

    claims: int = 0
    by_decision: Counter[str] = field(default_factory=Counter)
    lines_removed: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)  # claims with a finding of the rule
    by_taxonomy: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(_bucket))
    by_month: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(_bucket))
    rejected_codes: Counter[str] = field(default_factory=Counter)  # lines a finding names
    report: ReportTallies = field(default_factory=ReportTallies)  # findings, dollars, providers
    compare: CompareTallies = field(default_factory=CompareTallies)  # B's stats: A -> B changes
    # Claims no rule looked at and sets passed through unjudged, by reason (the filter's
    # Summary, see edi_gate.pipeline.accounting).
    not_evaluated: Counter[str] = field(default_factory=Counter)
    passed_through: Counter[str] = field(default_factory=Counter)

    def count_unjudged(self, summary: Summary) -> None:
        self.not_evaluated.update(summary.not_evaluated)
        self.passed_through.update(summary.passed_through)

    def add(self, record: dict[str, Any]) -> None:
        """Count one decision record (a line of :func:`edi_gate.pipeline.filter.decision_json`)."""
        label = record["decision"]
        rejected = label == "rejected"
        self.claims += 1
        self.by_decision[label] += 1
        for rule in {f["rule"] for f in record["findings"]}:
            self.by_rule[rule] += 1
        taxonomies = {line["taxonomy"] or UNKNOWN for line in record["lines"]} or {UNKNOWN}
        for taxonomy in taxonomies:
            self.by_taxonomy[taxonomy]["claims"] += 1
            self.by_taxonomy[taxonomy]["rejected"] += rejected
        month = (record.get("service_date") or "")[:7] or UNKNOWN
        self.by_month[month]["claims"] += 1
        self.by_month[month]["rejected"] += rejected
        self._count_lines(record, rejected)
        self.report.add(record)

    def _count_lines(self, record: dict[str, Any], rejected: bool) -> None:
        """Rejected codes (lines a finding names) and lines removed from accepted claims."""
        named = named_lines(record) if record["findings"] else ()
        for line in record["lines"]:
            if line["decision"] == "rejected":
                if line["line"] in named:
                    self.rejected_codes[line["procedure"] or UNKNOWN] += 1
                if not rejected:
                    self.lines_removed += 1

    def merge(self, other: Stats) -> None:
        self.claims += other.claims
        self.by_decision.update(other.by_decision)
        self.lines_removed += other.lines_removed
        self.by_rule.update(other.by_rule)
        pairs = ((self.by_taxonomy, other.by_taxonomy), (self.by_month, other.by_month))
        for mine, theirs in pairs:
            for key, counts in theirs.items():
                mine[key].update(counts)
        self.rejected_codes.update(other.rejected_codes)
        self.report.merge(other.report)
        self.compare.merge(other.compare)
        self.not_evaluated.update(other.not_evaluated)
        self.passed_through.update(other.passed_through)

    def as_dict(self) -> dict[str, Any]:
        top = sorted(self.rejected_codes.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REJECTED]
        return {
            "claims": self.claims,
            "by_decision": dict(sorted(self.by_decision.items())),
            "lines_removed": self.lines_removed,
            "by_rule": dict(sorted(self.by_rule.items())),
            "claims_by_rule": dict(sorted(self.by_rule.items())),
            "by_taxonomy": _table(self.by_taxonomy),
            "by_month": _table(self.by_month),
            "top_rejected_codes": [{"code": c, "lines": n} for c, n in top],
            **self.report.as_dict(),
            "not_evaluated": dict(sorted(self.not_evaluated.items())),
            "passed_through": dict(sorted(self.passed_through.items())),
        }
