"""``--compare A B``: ruleset B judged beside ruleset A, claim by claim, in one pass.

Why one pass: the filter runs with ruleset A (its records are the decisions); B evaluates each
claim on the side (:class:`PairEngine`), and when A's record of the claim goes by, B's record is
rebuilt from it and B's decision, tallied, and diffed. A claim whose decision or rejected lines
differ becomes a change line. Memory: B's decisions are held only until their claim's record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from edi_gate.pipeline.filter import RuleEngine, decide_claim
from edi_gate.pipeline.replay.statistics import Stats
from edi_gate.rules.findings import SYNTAX_RULE, Decision
from edi_gate.x12.model import Claim


class PairEngine:
    """Evaluates ruleset A for the filter, and ruleset B on the side for ``--compare``."""

    def __init__(self, a: RuleEngine, b: RuleEngine, scope: str) -> None:
        self.a, self.b, self.scope = a, b, scope
        self.b_decisions: dict[int, Decision] = {}

    def evaluate(self, claim: Claim):
        self.b_decisions[claim.ordinal] = decide_claim(claim, self.b.evaluate(claim), self.scope)
        return self.a.evaluate(claim)

    def ruleset_id(self, claim: Claim) -> str | None:
        ruleset_of = getattr(self.a, "ruleset_id", None)
        return ruleset_of(claim) if ruleset_of is not None else None

    def line_taxonomies(self, claim: Claim):
        """Ruleset A's taxonomy resolutions for the decisions (edi_gate.rules.engine)."""
        return self.a.line_taxonomies(claim)  # type: ignore[attr-defined]


def rebuild(record: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """Ruleset B's record for a claim, from ruleset A's record and B's decision."""
    other = dict(record)
    other["decision"] = decision.label
    other["findings"] = [f.as_dict() for f in decision.findings]
    other["lines"] = [
        dict(
            line,
            decision="rejected"
            if not decision.accepted or line["line"] in decision.rejected_lines
            else "accepted",
        )
        for line in record["lines"]
    ]
    return other


def change_between(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """The change line for one claim judged by A then B, or None when they agree."""
    lines_a = [ln["line"] for ln in a["lines"] if ln["decision"] == "rejected"]
    lines_b = [ln["line"] for ln in b["lines"] if ln["decision"] == "rejected"]
    if a["decision"] == b["decision"] and lines_a == lines_b:
        return None
    rules_a = sorted({f["rule"] for f in a["findings"]})
    rules_b = sorted({f["rule"] for f in b["findings"]})
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


class Comparison:
    """Ruleset B's side of one unit: its tallies, and the changes from A's records."""

    def __init__(self, pair: PairEngine) -> None:
        self.pair = pair
        self.stats = Stats()
        self.changed = 0  # claims whose decision changes from A to B
        self.transitions: Counter[str] = Counter()  # "a -> b": claims

    def compare(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Count B's record for A's ``record``; return the change line when they differ."""
        # Popped as used: B's decisions are held only until their claim's record goes by.
        decision_b = self.pair.b_decisions.pop(record["position"], None)
        syntax = any(f["rule"] == SYNTAX_RULE for f in record["findings"])
        other = record if syntax else rebuild(record, decision_b)  # type: ignore[arg-type]
        self.stats.add(other)
        change = change_between(record, other)
        if change is None:
            return None
        self.stats.compare.add(record, other)
        self.changed += 1
        self.transitions[f"{change['a']} -> {change['b']}"] += 1
        return change
