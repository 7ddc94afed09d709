"""Component modifiers TC and 26 (seed 003; CMS PFS PC/TC indicators, domain.md section 5)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding

# PC/TC indicator -> component modifiers a line may carry (CMS RVU file documentation)
ALLOWED_COMPONENT_MODIFIERS: dict[str, frozenset[str]] = {
    "1": frozenset({"TC", "26"}),
    "6": frozenset({"26"}),
    "8": frozenset({"26"}),
}


class TcAnd26(Rule):
    """TC and 26 on one line contradict each other: global is billed without either."""

    id = "MOD001"
    family = "modifiers"
    # no trigger: any code can carry TC and 26, so it runs on every claim (one pass, no lookups)

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        for line in ctx.claim.lines:
            if "TC" in line.modifiers and "26" in line.modifiers:
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: TC and 26 on one line; bill the global code without "
                    "modifiers, or TC and 26 on separate claims by the two providers",
                )


class ComponentModifierNotSplit(Rule):
    """TC or 26 on a code whose PC/TC indicator has no such component."""

    id = "MOD002"
    family = "modifiers"

    def trigger(self) -> CodeSet:
        return CodeSet(self.ruleset.pctc)  # codes with a known PC/TC indicator

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        pctc = ctx.ruleset.pctc
        for line in ctx.claim.lines:
            indicator = pctc.get(line.procedure)
            if indicator is None:
                continue  # unknown indicator: nothing to hold the line to
            allowed = ALLOWED_COMPONENT_MODIFIERS.get(indicator, frozenset())
            bad = [m for m in ("TC", "26") if m in line.modifiers and m not in allowed]
            if bad:
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: {line.procedure} has no separate "
                    f"{'technical' if bad[0] == 'TC' else 'professional'} component (PC/TC "
                    f"indicator {indicator}); remove -{'/-'.join(bad)} and bill the code as is",
                )
