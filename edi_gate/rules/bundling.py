"""Codes that may not be billed beside others on the same date (seeds 001, 004).

"Same date" is the line's date of service on the same claim: the claim is the only unit the gate
sees, and the seeds speak of a patient encounter or imaging session.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from edi_gate.rules.base import Rule, SameDayRule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding
from edi_gate.x12.model import ServiceLine


class _SameDay(SameDayRule):
    family = "bundling"


class FluoroscopyStandAlone(_SameDay):
    id = "BUND001"
    needs = ("fluoroscopy_standalone", "fluoroscopy_included")
    target_family = "fluoroscopy_standalone"
    partner_family = "fluoroscopy_included"
    why = (
        "{ct}: fluoroscopy is a stand-alone code only; {partner} on the same date already "
        "includes or describes the fluoroscopy; remove {code}"
    )


class ThreeDRendering(_SameDay):
    id = "BUND002"
    needs = ("three_d_rendering", "three_d_excluded")
    target_family = "three_d_rendering"
    partner_family = "three_d_excluded"
    why = (
        "{ct}: 3D rendering is not billed with {partner} (CAD, MRA, CTA, SPECT, PET, mammography, "
        "breast MRI/US, CT colonography, cardiac MRI/CT, coronary CTA, 77011); remove {code}"
    )


class LimitedCtWithDiagnosticCt(_SameDay):
    id = "BUND003"
    needs = ("limited_ct", "ct_diagnostic")
    target_family = "limited_ct"
    partner_family = "ct_diagnostic"
    why = (
        "{ct}: 76380 may not be added to diagnostic CT {partner} to cover extra slices; "
        "remove 76380"
    )


class PetCtUnbundled(_SameDay):
    id = "BUND004"
    needs = ("pet_only", "ct_diagnostic")
    target_family = "pet_only"
    partner_family = "ct_diagnostic"

    def message(self, ctx: ClaimContext, line: ServiceLine, partner: str) -> str:
        combined = ctx.ruleset.equivalents.get("pet_ct", {}).get(line.procedure)
        fix = f"bill PET/CT {combined} instead" if combined else "bill the combined PET/CT code"
        return (
            f"{code_text(line)}: PET with diagnostic CT {partner} on the same date is PET/CT "
            f"unbundled; {fix}"
        )


class PetMriCoding(_SameDay):
    id = "BUND005"
    needs = ("pet_mri_wrong_pet", "mri_unlisted")
    target_family = "pet_mri_wrong_pet"
    partner_family = "mri_unlisted"
    why = (
        "{ct}: PET-MRI is reported only as 78813 (PET whole body) + 76498 (unlisted MR); "
        "replace {code} with 78813"
    )


class BilateralBreastMri(Rule):
    """Both breasts by MRI on one date are one bilateral code, never two unilateral ones."""

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
            sides = {m for ln in uni for m in ln.modifiers if m in ("RT", "LT")}
            both = units >= 2 or sides == {"RT", "LT"} or any("50" in ln.modifiers for ln in uni)
            if not both:
                continue
            # 77048 (without and with contrast) on either side makes the bilateral code 77049
            target = max((bilateral.get(ln.procedure, "") for ln in uni), default="") or "77049"
            for ln in uni:
                yield self.finding(
                    ctx,
                    ln,
                    f"{code_text(ln)}: MRI of both breasts on one date is billed once as bilateral "
                    f"{target}, not as unilateral lines, units, RT+LT or -50; rebill as {target}",
                )
