"""Imaging guidance edits (seed 002 ASH guideline on 76942/77002; seed 001 Preface-4.2).

These apply in every setting: they are coding rules, not privileging rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Final

from edi_gate.rules.base import Rule, SameDayRule, code_text
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


class _SameDay76942(Rule):
    """76942 beside a code from one family on the same date."""

    family = "guidance"
    target = US_GUIDANCE
    partner_family = ""
    why = ""

    def prepare(self) -> None:
        self.partners = self.ruleset.family(self.partner_family)

    def trigger(self) -> CodeSet:
        return CodeSet((self.target,))

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        fam = self.partners
        for line in ctx.claim.lines:
            if line.procedure != self.target:
                continue
            partner = fam.any_in(ctx.same_day_codes(line) - {self.target})
            if partner:
                yield self.finding(ctx, line, self.why.format(ct=code_text(line), partner=partner))


class UsGuidanceWithUsJointInjection(_SameDay76942):
    id = "GUID002"
    needs = ("joint_injection_with_us",)
    partner_family = "joint_injection_with_us"
    why = (
        "{ct}: {partner} already includes ultrasound guidance with permanent recording and "
        "reporting; remove 76942"
    )


class UsGuidanceTriggerPointNerveBlock(_SameDay76942):
    id = "GUID005"
    needs = ("trigger_point_nerve_block",)
    partner_family = "trigger_point_nerve_block"
    why = (
        "{ct}: ultrasound guidance for trigger point or peripheral nerve block injections "
        "({partner}) is not medically necessary; remove 76942"
    )


class UsGuidanceViscosupplement(_SameDay76942):
    id = "GUID006"
    needs = ("viscosupplement",)
    partner_family = "viscosupplement"
    why = (
        "{ct}: ultrasound guidance for viscosupplement injection ({partner}) is experimental/"
        "investigational; remove 76942"
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


class _SameDayPair(SameDayRule):
    family = "guidance"


class MrGuidanceBreastBiopsy(_SameDayPair):
    id = "GUID007"
    needs = ("mr_guidance_needle", "breast_biopsy")
    target_family = "mr_guidance_needle"
    partner_family = "breast_biopsy"
    why = (
        "{ct}: 77021 is not used for a breast biopsy ({partner}); bill 19085 for the first "
        "MR-guided lesion and 19086 for each additional lesion"
    )


class CtAblationGuidanceBone(_SameDayPair):
    id = "GUID008"
    needs = ("ct_ablation_guidance", "bone_ablation")
    target_family = "ct_ablation_guidance"
    partner_family = "bone_ablation"
    why = (
        "{ct}: 77013 is for non-bone ablation only; {partner} already includes CT guidance for "
        "bone tumor ablation; remove 77013"
    )


class CtLocalizationWithDiagnosticCt(_SameDayPair):
    id = "GUID009"
    needs = ("ct_stereotactic", "ct_stereotactic_diagnostic")
    target_family = "ct_stereotactic"
    partner_family = "ct_stereotactic_diagnostic"
    why = (
        "{ct}: 77011 and {partner} may not both be billed for one stereotactic localization "
        "session; bill {partner} if a radiologist interpreted a diagnostic scan, else 77011 alone"
    )
