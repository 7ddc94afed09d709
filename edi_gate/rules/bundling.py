"""Bundling edits that are not a plain "X with Y on the same date" pair (seed 001).

The pairs (BUND001-BUND005 and the guidance pairs) are declared in the ruleset and run by
``SameDayEdit``; what stays here needs more than a pair: counting sides and units across lines.
"Same date" is the line's date of service on the same claim: the claim is the only unit the gate
sees, and the seeds speak of a patient encounter or imaging session.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding

SIDES = ("RT", "LT")


class BilateralBreastMri(Rule):
    """Both breasts by MRI on one date are one bilateral code, never two unilateral ones.

    Both breasts: RT and LT lines, -50, or two units with no side named. One breast with both
    contrast levels (77046-RT + 77048-RT) is not bilateral: 77048 includes the study without
    contrast, so the 77046 line is the one to drop.
    """

    id = "BUND006"
    family = "bundling"
    needs = ("breast_mri_unilateral",)

    def prepare(self) -> None:
        self.unilateral = self.ruleset.family("breast_mri_unilateral")

    def trigger(self) -> CodeSet:
        return self.unilateral

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        unilateral = self.unilateral
        bilateral = ctx.ruleset.equivalents.get("breast_mri_bilateral", {})
        for lines in ctx.by_date.values():
            uni = [ln for ln in lines if ln.procedure in unilateral]
            if not uni:
                continue
            units = sum((ln.units for ln in uni), Decimal(0))
            sides = {m for ln in uni for m in ln.modifiers if m in SIDES}
            both = (
                sides == set(SIDES)
                or any("50" in ln.modifiers for ln in uni)
                or (not sides and units >= 2)
            )
            if both:
                # 77048 (without and with contrast) on either side makes the bilateral code 77049
                target = max((bilateral.get(ln.procedure, "") for ln in uni), default="")
                target = target or "77049"
                for ln in uni:
                    yield self.finding(
                        ctx,
                        ln,
                        f"{code_text(ln)}: MRI of both breasts on one date is billed once as "
                        f"bilateral {target}, not as unilateral lines, units, RT+LT or -50; "
                        f"rebill as {target}",
                    )
                continue
            codes = {ln.procedure for ln in uni}
            if len(codes) > 1:  # one breast, without contrast and without-and-with contrast
                full = max(codes)
                for ln in uni:
                    if ln.procedure != full:
                        yield self.finding(
                            ctx,
                            ln,
                            f"{code_text(ln)}: the same breast is billed with {full} (without "
                            f"and with contrast), which includes the study without contrast; "
                            f"remove {ln.procedure} and bill {full} alone",
                        )
