"""Add-on codes need their primary procedure on the same claim and date (seeds 004, 000, CPT)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_gate.rules.base import Rule, code_text, lines_in
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding


class AddOnWithoutPrimary(Rule):
    id = "ADD001"
    family = "addons"

    def trigger(self) -> CodeSet:
        return CodeSet(self.ruleset.add_ons)  # the add-on codes themselves

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        for line, add_on in lines_in(ctx.claim.lines, ctx.ruleset.add_ons):
            same_day = ctx.same_day_codes(line) - {line.procedure}
            if add_on.primaries.any_in(same_day):
                continue
            # a code beside it that is not its primary but explains the error (93306 includes
            # the Doppler add-on; 93307 is the echo without it): its remedy, not "add a primary"
            beside = next((c for c in sorted(same_day) if c in add_on.remedies), None)
            if beside is not None:
                message = f"{code_text(line)}: {add_on.remedies[beside]}"
            else:
                message = (
                    f"{code_text(line)}: add-on code billed without {add_on.label} "
                    f"({add_on.primaries.describe()}) on the same date; add the primary procedure "
                    "line or remove the add-on"
                )
            yield self.finding(ctx, line, message)
