"""The one builder of model Claims for the tests: rule tests read like the seed sentence they
check (``claim(line("70551", "26"), taxonomy=...)``), acknowledgment tests name the envelope and
parties the 277CA echoes (``tests/acks/factory.py`` holds their presets)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_gate.rules.engine import Engine
from edi_gate.rules.findings import Finding
from edi_gate.rules.roster import npi_is_valid
from edi_gate.x12.model import Claim, Envelope, Party, Provider, ServiceLine
from edi_gate.x12.tokenizer import Delimiters

DOS = date(2025, 6, 2)
DELIMITERS = Delimiters(element=b"*", component=b":", segment=b"~", repetition=b"^")


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


def envelope(
    *,
    isa13: str = "000000101",
    gs06: str = "101",
    st02: str = "0001",
    sender: str = "SUBMITTERID",
    receiver: str = "PAYERID",
    bht03: str = "837BATCH0001",
    source: str = "in.837",
) -> Envelope:
    """The interchange, group and set a claim came in (what acknowledgments echo)."""
    return Envelope(
        source=source,
        delimiters=DELIMITERS,
        interchange_control=isa13,
        sender_qualifier="ZZ",
        sender_id=sender.ljust(15),
        receiver_qualifier="ZZ",
        receiver_id=receiver.ljust(15),
        usage="T",
        group_control=gs06,
        application_sender=sender,
        application_receiver=receiver,
        version="005010X222A1",
        transaction_control=st02,
        bht_reference=bht03,
        bht_date="20261120",
        submitter=Party("41", "EXAMPLE BILLING SERVICE", "", "46", sender),
        receiver=Party("40", "EXAMPLE HEALTH PLAN", "", "46", receiver),
    )


def line(
    code: str,
    *mods: str,
    units: int | str = 1,
    charge: str = "100",
    pos: str = "11",
    dos: date | None = DOS,
    end: date | None = None,
    prior_auth: str = "",
    control: str = "",
    rendering: Provider | None = None,
) -> ServiceLine:
    """A service line on ``dos`` (through ``end``); ``number`` and a missing ``rendering`` are
    filled in by ``claim``."""
    return ServiceLine(
        number=0,
        qualifier="HC",
        procedure=code,
        modifiers=tuple(mods),
        charge=Decimal(charge),
        unit_basis="UN",
        units=Decimal(str(units)),
        place_of_service=pos,
        diagnosis_pointers=("1",),
        service_date=dos,
        service_date_end=end or dos,
        prior_authorization=prior_auth,
        line_control=control,
        rendering=rendering or UNSET,
        first_segment=0,
        end_segment=0,
    )


def subscriber() -> Party:
    """A fresh subscriber each claim: a test may change its claim's parties."""
    return Party("IL", "DOE", "JANE", "MI", "MEMBER001")


def claim(
    *lines: ServiceLine,
    claim_id: str = "PCN1",
    taxonomy: str = "",
    rendering: Provider | None = None,
    billing: Provider | None = None,
    prior_auth: str = "",
    pos: str = "11",
    env: Envelope | None = None,
    ordinal: int = 1,
    hl_billing: str = "1",
    d9: str = "",
    patient: Party | None = None,
) -> Claim:
    """A claim whose lines, numbered in order, are rendered by ``rendering`` (2310B with
    ``taxonomy``) unless a line names its own provider; ``rendering=None`` and ``taxonomy=''``
    mean the billing provider. CLM02 is the lines' total."""
    billing = billing or provider("", loop="2000A", npi_=BILLING_NPI)
    if rendering is None and taxonomy:
        rendering = provider(taxonomy)
    for number, ln in enumerate(lines, 1):
        ln.number = number
        if ln.rendering is UNSET:
            ln.rendering = rendering or billing
    return Claim(
        envelope=env or envelope(),
        ordinal=ordinal,
        claim_id=claim_id,
        charge=sum((ln.charge for ln in lines), Decimal(0)),
        place_of_service=pos,
        frequency="1",
        prior_authorization=prior_auth,
        clearinghouse_trace=d9,
        billing=billing,
        rendering=rendering,
        subscriber=(member := subscriber()),
        patient=patient or member,
        payer=Party("PR", "EXAMPLE HEALTH PLAN", "", "PI", "12345"),
        hl_billing=hl_billing,
        hl_subscriber="2",
        hl_patient="",
        segments=[],
        lines=list(lines),
    )


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def run(engine: Engine, claim_: Claim) -> list[str]:
    """Rule ids found on a claim, ordered by line then rule."""
    return rules_of(engine.evaluate(claim_))
