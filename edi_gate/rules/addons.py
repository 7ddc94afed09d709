"""Add-on codes need their primary procedure on the same claim and date (seeds 004, 000, CPT)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding


class AddOnWithoutPrimary(Rule):
    id = "ADD001"
    family = "addons"

    def trigger(self) -> CodeSet:
        return CodeSet(self.ruleset.add_ons)  # the add-on codes themselves

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        add_ons = ctx.ruleset.add_ons
        for line in ctx.claim.lines:
            spec = add_ons.get(line.procedure)
            if spec is None:
                continue
            if spec.primaries.any_in(ctx.same_day_codes(line) - {line.procedure}):
                continue
            yield self.finding(
                ctx,
                line,
                f"{code_text(line)}: add-on code billed without {spec.label} "
                f"({spec.primaries.describe()}) on the same date; add the primary procedure line "
                "or remove the add-on",
            )
