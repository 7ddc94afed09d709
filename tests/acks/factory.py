"""The acknowledgment tests' presets of the one claim builder (``tests/claims.py``): the billing
group, rendering provider and service day their 277CA and 999 expectations name; and readers of
edi-gate's output segments."""

from __future__ import annotations

from datetime import date, datetime

from edi_gate.x12.model import Claim, Envelope, Party, Provider, ServiceLine
from tests import claims
from tests.claims import envelope  # noqa: F401 - the ack tests' envelopes, from the builder

NOW = datetime(2026, 11, 24, 9, 30)
SERVICE_DAY = date(2026, 11, 10)
RENDERING = Provider("2310B", "1497758544", "2085R0202X")
BILLING = Provider(
    "2000A",
    "1234567893",
    "2085R0202X",
    Party("85", "EXAMPLE IMAGING GROUP", "", "XX", "1234567893"),
)
OTHER_BILLING = Provider(
    "2000A", "1999999984", "207Q00000X", Party("85", "SMITH", "JOHN", "XX", "1999999984")
)


def line(
    procedure: str = "73721",
    modifiers: tuple[str, ...] = ("26",),
    charge: str = "150",
    *,
    control: str = "",
    day: date = SERVICE_DAY,
    end: date | None = None,
) -> ServiceLine:
    """An MRI line (73721-26, 150) rendered by RENDERING, unless told otherwise."""
    return claims.line(
        procedure, *modifiers, charge=charge, dos=day, end=end, control=control, rendering=RENDERING
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
    """A claim billed by the EXAMPLE IMAGING GROUP, with one MRI line unless ``lines`` says."""
    return claims.claim(
        *(lines if lines is not None else [line()]),
        claim_id=claim_id,
        billing=billing,
        env=env,
        ordinal=ordinal,
        hl_billing=hl_billing,
        d9=d9,
        patient=patient,
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
