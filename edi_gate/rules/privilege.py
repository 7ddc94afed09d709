"""Imaging privileging for nonradiologists in the office (seed 000, Imaging Privileging Program).

One assessment per line decides which privileging reason applies, in the order the seed implies:
exemptions (not imaging, not office, mammography, radiologists and imaging providers) first, then
missing specialty, non-physician practitioners, service-specific certifications (which override
the MRI/CT/PET ban for the codes they name, e.g. 77078), the MRI/CT/PET ban, the specialty tables
and finally the technical-only component. Each PRIV rule reports the lines whose reason is its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding
from edi_gate.x12.grammar import LOOP_2000A
from edi_gate.x12.model import ServiceLine

if TYPE_CHECKING:
    from edi_gate.rules.ruleset import Certification

ADVANCED = (("mri", "MRI/MRA"), ("ct", "CT/CTA"), ("pet", "PET"))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a line fails privileging: the rule id and a message for the office's biller."""

    rule: str
    message: str


def verdicts(ctx: ClaimContext) -> dict[str, list[tuple[ServiceLine, str]]]:
    """rule id -> [(line, message)] for the whole claim, computed once and shared by PRIV rules."""
    memo = ctx.memo.get("privilege")
    if memo is not None:
        return memo  # type: ignore[return-value]
    hit: dict[str, list[tuple[ServiceLine, str]]] = {}
    for line in ctx.claim.lines:
        verdict = assess_line(ctx, line)
        if verdict is not None:
            hit.setdefault(verdict.rule, []).append((line, verdict.message))
    ctx.memo["privilege"] = hit
    return hit


def assess_line(ctx: ClaimContext, line: ServiceLine) -> Verdict | None:
    """The privileging verdict for one line (None = allowed or not subject)."""
    rs = ctx.ruleset
    code = line.procedure
    if not rs.is_imaging(code):
        return None
    if not ctx.is_office(line):
        return _outpatient(ctx, line)
    if code in rs.family("mammography"):
        return (
            None  # "Mammographies may be performed in an office setting, regardless of specialty"
        )
    taxonomies = ctx.taxonomies(line).codes
    prov = line.rendering
    if not taxonomies:
        return Verdict("PRIV001", _no_taxonomy(ctx, line))
    # every taxonomy in force counts: the line passes when any of them privileges it, and is
    # refused with the first (primary) taxonomy's reason otherwise
    first: Verdict | None = None
    for tax in taxonomies:
        if tax in rs.mobile.taxonomies:
            verdict = _mobile(ctx, line, tax)
        else:
            verdict = _privileges(ctx, line, tax, prov.npi, "")
        if verdict is None:
            return None
        if first is None:
            first = verdict
    return first


def _no_taxonomy(ctx: ClaimContext, line: ServiceLine) -> str:
    """PRIV001's message: where a taxonomy was looked for, and the PRV the loop takes."""
    prov = line.rendering
    prv = "PRV*BI*PXC" if prov.loop == LOOP_2000A else "PRV*PE*PXC"
    return (
        f"{code_text(line)}: rendering provider NPI {prov.npi or '(none)'} ({prov.loop}) has no "
        f"taxonomy: no PRV for it in {prov.loop} or the loops above naming it, none on the roster "
        f"for the date; add {prv} with its NUCC taxonomy in {prov.loop} so imaging privileges can "
        "be checked"
    )


def _outpatient(ctx: ClaimContext, line: ServiceLine) -> Verdict | None:
    """Outside the office only the MRI/CT/PET ban applies, in every outpatient place of service
    ("This includes both the technical and professional component"; the program addresses
    "nonemergency; outpatient" imaging, so inpatient and emergency lines are out of it). Office
    privileging (tables, PRIV001) stays office-only: a line without a known taxonomy passes."""
    rs = ctx.ruleset
    code = line.procedure
    if not ctx.is_outpatient(line) or code not in rs.advanced_imaging:
        return None
    tax, _ = ctx.taxonomy(line)
    if not tax or rs.is_radiologist(tax) or tax in rs.imaging_provider_taxonomies:
        return None
    if tax in rs.mobile.taxonomies:
        return None  # a mobile unit is judged by the office it serves, which only the office names
    if _certified_for(ctx, line, line.rendering.npi):
        return None
    return _advanced_ban(ctx, line, tax, "")


def _certified_for(ctx: ClaimContext, line: ServiceLine, npi: str) -> bool:
    code = line.procedure
    return any(
        code in cert.codes and ctx.certified(cert, npi, line)
        for cert in ctx.ruleset.certifications.values()
    )


def _advanced_ban(ctx: ClaimContext, line: ServiceLine, tax: str, prefix: str) -> Verdict | None:
    rs = ctx.ruleset
    code = line.procedure
    if code not in rs.advanced_imaging:
        return None  # one lookup for the common case; the loop below only names the family
    for family, label in ADVANCED:
        if code in rs.family(family):
            billed, specialty = prefix + code_text(line), rs.describe_taxonomy(tax)
            return Verdict(
                "PRIV003",
                f"{billed}: {label} by a nonradiologist, {specialty}, is not paid, technical or "
                "professional; refer the study to a contracted imaging center or hospital",
            )
    return None


def _privileges(
    ctx: ClaimContext, line: ServiceLine, tax: str, npi: str, prefix: str
) -> Verdict | None:
    rs = ctx.ruleset
    code = line.procedure
    if rs.is_radiologist(tax) or tax in rs.imaging_provider_taxonomies:
        return None
    # ``billed`` and ``specialty`` are message text only: built when a verdict is returned, not for
    # every allowed line
    if rs.is_npp(tax):
        billed, specialty = prefix + code_text(line), rs.describe_taxonomy(tax)
        return Verdict(
            "PRIV002",
            f"{billed}: {specialty} holds no office imaging privileges; a privileged physician "
            "or a network radiologist must perform and bill the study",
        )
    if code in rs.certification_codes:
        if _certified_for(ctx, line, npi):
            return None  # service-specific privilege: global, overrides the general rules
    else:  # a certification list is specific and wins over the general ban (77078 with ISCD)
        banned = _advanced_ban(ctx, line, tax, prefix)
        if banned is not None:
            return banned
    component = rs.grants_for(tax).get(code)
    mods = line.modifiers
    if component == "global" or (component == "technical" and "TC" in mods and "26" not in mods):
        return None  # privileged for what the line bills
    billed, specialty = prefix + code_text(line), rs.describe_taxonomy(tax)
    certs = [c for c in rs.certifications.values() if code in c.codes]
    if component is None:
        if certs:
            return Verdict("PRIV006", _uncertified(ctx, line, billed, specialty, certs))
        return Verdict(
            "PRIV004",
            f"{billed}: not on the imaging privileging tables for {specialty}; a network "
            "radiologist or imaging provider must perform it",
        )
    # component == "technical" and the line is not TC alone
    extra = ""
    if certs:
        creds = " or ".join(dict.fromkeys(cr for c in certs for cr in c.credentials))
        extra = f" ({creds} accreditation would allow global)"
    return Verdict(
        "PRIV005",
        f"{billed}: {specialty} is privileged for the technical component only; bill {code}-TC and "
        f"have a network radiologist bill the reading (-26){extra}",
    )


def _uncertified(
    ctx: ClaimContext, line: ServiceLine, billed: str, specialty: str, certs: list[Certification]
) -> str:
    """PRIV006's message: who may bill the code (tables and certification), and the remedy."""
    rs = ctx.ruleset
    code = line.procedure
    creds = " or ".join(dict.fromkeys(cr for c in certs for cr in c.credentials))
    titles = "/".join(c.title.lower() for c in certs)
    tables = [t.title for t in rs.tables.values() if code in t.codes]
    who = f"{', '.join(tables)} or " if tables else ""
    remedy = "send the certificate to the plan or refer to a network radiologist"
    joint = rs.family("joint_injection_without_us").any_in(ctx.same_day_codes(line))
    if code == "76942" and joint:
        remedy = f"an ultrasound-guided joint injection ({joint}) is billed as 20604/20606/20611"
    return (
        f"{billed}: {specialty} may not bill {code}; it is paid to {who}{creds} holders "
        f"({titles}) on the date of service; {remedy}"
    )


def _mobile(ctx: ClaimContext, line: ServiceLine, tax: str) -> Verdict | None:
    """Mobile imaging takes the privileges of the office it serves, except OB ultrasound, whose
    interpretation must come from a radiologist or an AIUM-accredited provider."""
    rs = ctx.ruleset
    code = line.procedure
    prov = line.rendering
    mods = set(line.modifiers)
    if code in rs.mobile.ob_codes:
        if "TC" in mods and "26" not in mods:
            return None
        if ctx.has_credential(prov.npi, rs.mobile.interpretation_credentials, line):
            return None
        creds = "/".join(rs.mobile.interpretation_credentials) or "AIUM"
        return Verdict(
            "PRIV008",
            f"{code_text(line)}: OB ultrasound by a mobile imaging provider ({tax}) must be read "
            f"by a network radiologist or a {creds}-accredited provider; bill {code}-TC or put the "
            f"{creds} accreditation on the roster",
        )
    billing = ctx.claim.billing
    office_tax = ctx.billing_taxonomy(line)
    if not office_tax or billing.npi == prov.npi or office_tax in rs.mobile.taxonomies:
        return Verdict(
            "PRIV008",
            f"{code_text(line)}: a mobile imaging provider ({tax}) has the privileges of the "
            "office it serves, which this claim does not identify; bill under the office's "
            "privileged provider (2000A with its PRV)",
        )
    return _privileges(ctx, line, office_tax, billing.npi, "mobile imaging for office, ")


class _PrivilegeRule(Rule):
    family = "privilege"
    needs = ("mammography", "mri", "ct", "pet")
    office_only = True  # assess_line exempts every line outside the office

    def trigger(self) -> CodeSet:
        return self.ruleset.imaging  # assess_line exempts every code that is not imaging

    def check(self, ctx: ClaimContext) -> list[Finding]:
        hits = verdicts(ctx).get(self.id)
        if not hits:
            return []
        return [self.finding(ctx, line, message) for line, message in hits]


class UnknownSpecialty(_PrivilegeRule):
    """Office imaging line whose rendering provider has no taxonomy anywhere."""

    id = "PRIV001"


class NonPhysicianPractitioner(_PrivilegeRule):
    """Nurse practitioners, physician assistants and other 36* taxonomies hold no privileges."""

    id = "PRIV002"


class AdvancedImagingNonRadiologist(_PrivilegeRule):
    """MRI/MRA, CT/CTA and PET by a nonradiologist: neither component is paid, in the office and
    in every other outpatient place of service."""

    id = "PRIV003"
    office_only = False

    def trigger(self) -> CodeSet:
        return self.ruleset.advanced_imaging


class NotPrivileged(_PrivilegeRule):
    """The code is on none of the provider's specialty tables."""

    id = "PRIV004"


class TechnicalOnly(_PrivilegeRule):
    """Technical-only tables: the line must carry TC."""

    id = "PRIV005"


class CertificationRequired(_PrivilegeRule):
    """Service-specific codes need the credential on file on the date of service."""

    id = "PRIV006"


class MobileImaging(_PrivilegeRule):
    """Mobile imaging: the office's privileges; OB ultrasound read by radiologist or AIUM."""

    id = "PRIV008"


class PriorAuthorization(Rule):
    """Echocardiography and nuclear cardiology codes need a prior authorization number in every
    outpatient place of service ("required for outpatient high-tech imaging services")."""

    id = "PRIV007"
    family = "privilege"

    def trigger(self) -> CodeSet:
        return self.ruleset.prior_auth_codes

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        rs = ctx.ruleset
        if ctx.claim.prior_authorization:
            return
        for line in ctx.claim.lines:
            if (
                line.procedure in rs.prior_auth_codes
                and ctx.is_outpatient(line)
                and not line.prior_authorization
            ):
                title = next(
                    (
                        t.title
                        for t in rs.tables.values()
                        if t.prior_authorization and line.procedure in t.codes
                    ),
                    "this code",
                )
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: {title} requires prior authorization (Evolent/RadMD); "
                    "add the authorization number as REF*G1 on the claim or the line",
                )
