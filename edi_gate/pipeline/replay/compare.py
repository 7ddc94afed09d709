"""``--compare A B``: ruleset B judged beside ruleset A, claim by claim, in one pass.

Why one pass: the filter runs with ruleset A (its records are the decisions); B evaluates each
claim on the side (:class:`PairEngine`), and when A's record of the claim goes by, B's record is
rebuilt from it and B's decision, tallied, and diffed. A claim whose decision or rejected lines
differ becomes a change line. Memory: B's decisions are held only until their claim's record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from edi_gate.decisions.record import change as decision_change
from edi_gate.decisions.record import is_syntax_rejection, with_decision
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
        syntax = is_syntax_rejection(record, SYNTAX_RULE)  # B's rules never saw the claim
        other = record if syntax else with_decision(record, decision_b)  # type: ignore[arg-type]
        self.stats.add(other)
        change = decision_change(record, other)
        if change is None:
            return None
        self.stats.compare.add(record, other)
        self.changed += 1
        self.transitions[f"{change['a']} -> {change['b']}"] += 1
        return change
