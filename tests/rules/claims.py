"""A small factory for Claims, so rule tests read like the seed sentence they check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_gate.rules.engine import Engine
from edi_gate.rules.findings import Finding
from edi_gate.rules.roster import npi_is_valid
from edi_gate.x12.model import Claim, Envelope, Party, Provider, ServiceLine
from edi_gate.x12.tokenizer import Delimiters

DOS = date(2025, 6, 2)
DELIMS = Delimiters(element=b"*", component=b":", segment=b"~", repetition=b"^")


def npi(seed: int) -> str:
    """A valid NPI (Luhn with prefix 80840) built from a 9-digit seed."""
    base = f"{seed:09d}"
    for check in range(10):
        candidate = base + str(check)
        if npi_is_valid(candidate):
            return candidate
    raise AssertionError("unreachable")


BILLING_NPI = npi(100000001)
RENDERING_NPI = npi(200000002)


def provider(taxonomy: str = "", loop: str = "2310B", npi_: str = RENDERING_NPI) -> Provider:
    return Provider(
        loop=loop,
        npi=npi_,
        taxonomy=taxonomy,
        party=Party(entity="82" if loop != "2000A" else "85"),
    )


# A line's rendering provider until ``claim`` fills it in (ServiceLine.rendering is never None:
# the compiled model checks the type).
UNSET = Provider(loop="")


def line(
    code: str,
    *mods: str,
    units: int | str = 1,
    pos: str = "11",
    dos: date | None = DOS,
    prior_auth: str = "",
    rendering: Provider | None = None,
) -> ServiceLine:
    """A service line; ``number`` and a missing ``rendering`` are filled in by ``claim``."""
    return ServiceLine(
        number=0,
        qualifier="HC",
        procedure=code,
        modifiers=tuple(mods),
        charge=Decimal("100"),
        unit_basis="UN",
        units=Decimal(str(units)),
        place_of_service=pos,
        diagnosis_pointers=("1",),
        service_date=dos,
        service_date_end=dos,
        prior_authorization=prior_auth,
        line_control="",
        rendering=rendering or UNSET,
        first_segment=0,
        end_segment=0,
    )


def claim(
    *lines: ServiceLine,
    taxonomy: str = "",
    rendering: Provider | None = None,
    billing: Provider | None = None,
    prior_auth: str = "",
    pos: str = "11",
) -> Claim:
    """A claim whose lines are rendered by ``rendering`` (2310B with ``taxonomy``) unless a line
    names its own provider; ``rendering=None`` and ``taxonomy=''`` mean the billing provider."""
    billing = billing or provider("", loop="2000A", npi_=BILLING_NPI)
    if rendering is None and taxonomy:
        rendering = provider(taxonomy)
    env = Envelope(
        source="test",
        delimiters=DELIMS,
        interchange_control="000000001",
        sender_qualifier="ZZ",
        sender_id="SENDER",
        receiver_qualifier="ZZ",
        receiver_id="RECEIVER",
        usage="T",
    )
    numbered = []
    for i, ln in enumerate(lines, 1):
        ln.number = i
        if ln.rendering is UNSET:
            ln.rendering = rendering or billing
        numbered.append(ln)
    return Claim(
        envelope=env,
        ordinal=1,
        claim_id="PCN1",
        charge=Decimal(100 * len(lines)),
        place_of_service=pos,
        frequency="1",
        prior_authorization=prior_auth,
        clearinghouse_trace="",
        billing=billing,
        rendering=rendering,
        subscriber=Party(),
        patient=Party(),
        payer=Party(),
        hl_billing="1",
        hl_subscriber="2",
        hl_patient="",
        segments=[],
        lines=numbered,
    )


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def run(engine: Engine, claim_: Claim) -> list[str]:
    """Rule ids found on a claim, ordered by line then rule."""
    return rules_of(engine.evaluate(claim_))
