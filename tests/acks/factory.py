"""Claims built directly from the model dataclasses, for acknowledgment tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from edi_gate.x12.model import Claim, Envelope, Party, Provider, ServiceLine
from edi_gate.x12.tokenizer import Delimiters

NOW = datetime(2026, 11, 24, 9, 30)
DELIMITERS = Delimiters(b"*", b":", b"~", b"^")


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
    number: int,
    procedure: str = "73721",
    modifiers: tuple[str, ...] = ("26",),
    charge: str = "150",
    *,
    control: str = "",
    day: date = date(2026, 11, 10),
    end: date | None = None,
) -> ServiceLine:
    return ServiceLine(
        number=number,
        qualifier="HC",
        procedure=procedure,
        modifiers=modifiers,
        charge=Decimal(charge),
        unit_basis="UN",
        units=Decimal("1"),
        place_of_service="11",
        diagnosis_pointers=("1",),
        service_date=day,
        service_date_end=end or day,
        prior_authorization="",
        line_control=control,
        rendering=Provider("2310B", "1497758544", "2085R0202X"),
        first_segment=0,
        end_segment=0,
    )


BILLING = Provider(
    "2000A",
    "1234567893",
    "2085R0202X",
    Party("85", "EXAMPLE IMAGING GROUP", "", "XX", "1234567893"),
)
OTHER_BILLING = Provider(
    "2000A", "1999999984", "207Q00000X", Party("85", "SMITH", "JOHN", "XX", "1999999984")
)


def claim(
    claim_id: str = "PCN0001",
    lines: list[ServiceLine] | None = None,
    *,
    env: Envelope | None = None,
    ordinal: int = 1,
    billing: Provider = BILLING,
    hl_billing: str = "1",
    d9: str = "",
    patient: Party | None = None,
) -> Claim:
    lines = lines if lines is not None else [line(1)]
    subscriber = Party("IL", "DOE", "JANE", "MI", "MEMBER001")
    return Claim(
        envelope=env or envelope(),
        ordinal=ordinal,
        claim_id=claim_id,
        charge=sum((ln.charge for ln in lines), Decimal(0)),
        place_of_service="11",
        frequency="1",
        prior_authorization="",
        clearinghouse_trace=d9,
        billing=billing,
        rendering=None,
        subscriber=subscriber,
        patient=patient or subscriber,
        payer=Party("PR", "EXAMPLE HEALTH PLAN", "", "PI", "12345"),
        hl_billing=hl_billing,
        hl_subscriber="2",
        hl_patient="",
        segments=[],
        lines=lines,
    )


def segments(data: bytes) -> list[list[str]]:
    """Split edi-gate output (``*`` ``:`` ``~`` + newline) into element lists."""
    text = data.decode("ascii")
    assert text.endswith("~\n"), "every segment ends with ~ and a newline"
    return [seg.split("*") for seg in text.split("~\n") if seg]


def tagged(segs: list[list[str]], tag: str) -> list[list[str]]:
    return [s for s in segs if s[0] == tag]


def check_envelopes(segs: list[list[str]]) -> None:
    """SE01 counts, SE02 = ST02, GE01/GE02 and IEA01/IEA02 agree with their headers."""
    isa = gs = st = None
    groups = sets = 0
    count = 0
    for seg in segs:
        tag = seg[0]
        if st is not None:
            count += 1
        if tag == "ISA":
            isa, groups = seg, 0
        elif tag == "GS":
            gs, sets = seg, 0
            groups += 1
        elif tag == "ST":
            st, count = seg, 1
            sets += 1
        elif tag == "SE":
            assert st is not None
            assert seg[1] == str(count), f"SE01 {seg[1]} != {count}"
            assert seg[2] == st[2]
            st = None
        elif tag == "GE":
            assert gs is not None
            assert seg[1:] == [str(sets), gs[6]]
            gs = None
        elif tag == "IEA":
            assert isa is not None
            assert seg[1:] == [str(groups), isa[13]]
            isa = None
    assert isa is None and gs is None and st is None
