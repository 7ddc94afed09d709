"""Imaging guidance edits (seed 002 ASH guideline on 76942/77002; seed 001 Preface-4.2).

These apply in every setting: they are coding rules, not privileging rules. The "76942 with Y on
the same date" pairs (GUID002, GUID005-GUID010, GUID012) are declared in the ruleset and run by
``SameDayEdit``; what stays here counts units or reads the provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Final

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding

US_GUIDANCE: Final = "76942"
US_GUIDANCE_ONLY = CodeSet((US_GUIDANCE,))


class GuidanceOneUnit(Rule):
    """76942, 77002, 77003, 77012, 77021: one unit in total per patient per date of service."""

    id = "GUID001"
    family = "guidance"
    needs = ("guidance_one_unit",)

    def prepare(self) -> None:
        self.codes = self.ruleset.family("guidance_one_unit")

    def trigger(self) -> CodeSet:
        return self.codes

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        fam = self.codes
        for lines in ctx.by_date.values():
            total = Decimal(0)
            first = None
            for line in lines:
                if line.procedure not in fam:
                    continue
                total += line.units
                if total > 1:
                    if first is None:
                        msg = (
                            f"{code_text(line)}: {line.units.normalize()} units billed; imaging "
                            "guidance is one unit per patient encounter whatever the number of "
                            "needles or lesions; bill 1 unit"
                        )
                    else:
                        msg = (
                            f"{code_text(line)}: line {first.number} already bills guidance "
                            f"({first.procedure}) for this date; only one unit of "
                            "76942/77002/77003/77012/77021 is allowed per encounter; "
                            "remove this line"
                        )
                    yield self.finding(ctx, line, msg)
                first = first or line


class UsGuidanceByNpp(Rule):
    """76942 by a non-physician practitioner: NPPs are not qualified to interpret ultrasound."""

    id = "GUID003"
    family = "guidance"

    def trigger(self) -> CodeSet:
        return US_GUIDANCE_ONLY

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        rs = ctx.ruleset
        for line in ctx.claim.lines:
            if line.procedure != US_GUIDANCE:
                continue
            tax, _ = ctx.taxonomy(line)
            if tax and rs.is_npp(tax):
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: {rs.describe_taxonomy(tax)} may not bill 76942 (it "
                    "includes imaging supervision and interpretation); bill under the "
                    "interpreting physician",
                )


class UsGuidanceBySpecialty(Rule):
    """76942 by podiatry (a configurable specialty list): foot needle procedures don't need it."""

    id = "GUID004"
    family = "guidance"

    def trigger(self) -> CodeSet:
        return US_GUIDANCE_ONLY

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        rs = ctx.ruleset
        excluded = set(rs.guidance_excluded_specialties)
        if not excluded:
            return
        for line in ctx.claim.lines:
            if line.procedure != US_GUIDANCE:
                continue
            tax, _ = ctx.taxonomy(line)
            if tax and excluded.intersection(rs.specialties_for(tax)):
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: ultrasound guidance for needle procedures by "
                    f"{rs.describe_taxonomy(tax)} is not medically necessary; remove 76942",
                )


class MrBreastBiopsyFirstLesionOnly(Rule):
    """19085 is the first MR-guided breast lesion; each additional lesion is 19086."""

    id = "GUID011"
    family = "guidance"
    needs = ("mr_breast_biopsy_first",)

    def prepare(self) -> None:
        self.codes = self.ruleset.family("mr_breast_biopsy_first")

    def trigger(self) -> CodeSet:
        return self.codes

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        fam = self.codes
        for lines in ctx.by_date.values():
            total = Decimal(0)
            for line in lines:
                if line.procedure not in fam:
                    continue
                total += line.units
                if total > 1:
                    extra = (total - 1).normalize()
                    yield self.finding(
                        ctx,
                        line,
                        f"{code_text(line)}: {line.procedure} is the first MR-guided breast "
                        f"lesion only, once per date; bill {line.procedure} x1 and 19086 for each "
                        f"additional lesion ({extra} here)",
                    )
                    total = Decimal(1)  # reported; the next line is judged on its own units
