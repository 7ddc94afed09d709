"""Imaging guidance edits (seed 002 ASH guideline on 76942/77002; seed 001 Preface-4.2).

These apply in every setting: they are coding rules, not privileging rules. The "76942 with Y on
the same date" pairs (GUID002, GUID005-GUID010, GUID012) are declared in the ruleset and run by
``SameDayEdit``; what stays here counts units or reads the provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar, Final

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding
from edi_gate.x12.model import ServiceLine

US_GUIDANCE: Final = "76942"
US_GUIDANCE_ONLY = CodeSet((US_GUIDANCE,))


class _OneUnitPerDate(Rule):
    """Rules allowing one unit in total of a code family per date of service: every line that
    takes the date's total past one is reported, with the subclass's message."""

    family = "guidance"
    units_family: ClassVar[str] = ""
    # True: a reported line's excess is not carried to the next line (it is judged on its own)
    reset_after_finding: ClassVar[bool] = False

    def prepare(self) -> None:
        self.codes = self.ruleset.family(self.units_family)

    def trigger(self) -> CodeSet:
        return self.codes

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        codes = self.codes
        for lines in ctx.by_date.values():
            total = Decimal(0)
            first: ServiceLine | None = None
            for line in lines:
                if line.procedure not in codes:
                    continue
                total += line.units
                if total > 1:
                    yield self.finding(ctx, line, self.too_many(line, total, first))
                    if self.reset_after_finding:
                        total = Decimal(1)
                first = first or line

    def too_many(self, line: ServiceLine, total: Decimal, first: ServiceLine | None) -> str:
        """The message for ``line``, which brings the date's total to ``total``; ``first`` is
        the date's first line of the family when it is not this one."""
        raise NotImplementedError


class GuidanceOneUnit(_OneUnitPerDate):
    """76942, 77002, 77003, 77012, 77021: one unit in total per patient per date of service."""

    id = "GUID001"
    needs = ("guidance_one_unit",)
    units_family = "guidance_one_unit"

    def too_many(self, line: ServiceLine, total: Decimal, first: ServiceLine | None) -> str:
        if first is None:
            return (
                f"{code_text(line)}: {line.units.normalize()} units billed; imaging guidance is "
                "one unit per patient encounter whatever the number of needles or lesions; "
                "bill 1 unit"
            )
        return (
            f"{code_text(line)}: line {first.number} already bills guidance "
            f"({first.procedure}) for this date; only one unit of "
            "76942/77002/77003/77012/77021 is allowed per encounter; remove this line"
        )


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


class MrBreastBiopsyFirstLesionOnly(_OneUnitPerDate):
    """19085 is the first MR-guided breast lesion; each additional lesion is 19086."""

    id = "GUID011"
    needs = ("mr_breast_biopsy_first",)
    units_family = "mr_breast_biopsy_first"
    reset_after_finding = True  # reported; the next line is judged on its own units

    def too_many(self, line: ServiceLine, total: Decimal, first: ServiceLine | None) -> str:
        extra = (total - 1).normalize()
        return (
            f"{code_text(line)}: {line.procedure} is the first MR-guided breast lesion only, "
            f"once per date; bill {line.procedure} x1 and 19086 for each additional lesion "
            f"({extra} here)"
        )
