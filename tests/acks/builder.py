"""837P input files built in the tests, element by element, to damage one envelope value at a time.

Every value of the envelope (ISA13, GS02/GS03/GS06, ST02, the trailers) and of a claim (CLM01,
names, SV101) is a parameter, so that a case can put a mismatch, a trimmed identifier, a foreign
delimiter or a non-ASCII byte exactly where it wants; nothing here depends on ../shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    procedure: str = "73721"
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ("26",)
    charge: str = "150"
    control: str = ""  # REF*6R


@dataclass
class Claim:
    clm01: str
    lines: list[Line] = field(default_factory=lambda: [Line()])
    cob: bool = False  # a 2320 with CAS and AMT*D: a secondary claim after a prior payer
    patient_last: str = "DOE"

    @property
    def total(self) -> str:
        total = sum(float(ln.charge) for ln in self.lines)
        return f"{total:g}"


@dataclass
class Transaction:
    claims: list[Claim]
    st02: str = "0001"
    se02: str | None = None  # None: = st02
    se01: int | None = None  # None: counted
    st01: str = "837"
    body: list[str] | None = None  # a non-837 set's segments between ST and SE
    no_se: bool = False


@dataclass
class Group:
    transactions: list[Transaction]
    gs01: str = "HC"
    gs02: str = "SUBMITTERID"
    gs03: str = "PAYERID"
    gs06: str = "101"
    gs08: str = "005010X222A1"
    ge01: str | None = None  # None: counted
    ge02: str | None = None  # None: = gs06
    no_ge: bool = False


@dataclass
class Interchange:
    groups: list[Group]
    isa13: str = "000000101"
    isa09: str = "261120"
    isa10: str = "0900"
    sender: str = "SUBMITTERID"
    receiver: str = "PAYERID"
    iea01: str | None = None
    iea02: str | None = None
    no_iea: bool = False
    ta1: str | None = None  # a TA1 segment's elements after TA1* (an acknowledgment interchange)


def _claim_segments(claim: Claim, hl: int) -> list[str]:
    segs = [
        f"HL*{hl}*1*22*0",
        "SBR*P*18*GRP001******CI",
        f"NM1*IL*1*{claim.patient_last}*JANE****MI*MEMBER001",
        "N3*1 ELM ST",
        "N4*ANYTOWN*PA*19103",
        "DMG*D8*19700101*F",
        "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*12345",
        f"CLM*{claim.clm01}*{claim.total}***11:B:1*Y*A*Y*Y",
        "HI*ABK:M25561",
        "NM1*82*1*JONES*ALICE****XX*1234567893",
        "PRV*PE*PXC*2085R0202X",
    ]
    if claim.cob:
        segs += [
            "SBR*S*18*GRP002******CI",
            "CAS*CO*45*50",
            "AMT*D*100",
            "OI***Y***Y",
            "NM1*IL*1*DOE*JANE****MI*MEMBER009",
            "NM1*PR*2*OTHER PAYER*****PI*99999",
        ]
    for number, line in enumerate(claim.lines, start=1):
        composite = ":".join([line.qualifier, line.procedure, *line.modifiers])
        segs += [f"LX*{number}", f"SV1*{composite}*{line.charge}*UN*1*11**1", "DTP*472*D8*20261110"]
        if line.control:
            segs.append(f"REF*6R*{line.control}")
    return segs


def _transaction(txn: Transaction, gs08: str) -> list[str]:
    segs = [f"ST*{txn.st01}*{txn.st02}*{gs08}"]
    if txn.body is not None:
        segs += txn.body
    else:
        segs += [
            "BHT*0019*00*837BATCH0001*20261120*0900*CH",
            "NM1*41*2*EXAMPLE BILLING SERVICE*****46*SUBMITTER01",
            "PER*IC*JOHN SMITH*TE*5555551212",
            "NM1*40*2*EXAMPLE HEALTH PLAN*****46*PAYERID",
            "HL*1**20*1",
            "PRV*BI*PXC*261QR0200X",
            "NM1*85*2*EXAMPLE IMAGING GROUP*****XX*1234567893",
            "N3*100 MAIN ST",
            "N4*ANYTOWN*PA*191030000",
            "REF*EI*123456789",
        ]
        for index, claim in enumerate(txn.claims):
            segs += _claim_segments(claim, index + 2)
    if not txn.no_se:
        count = txn.se01 if txn.se01 is not None else len(segs) + 1
        segs.append(f"SE*{count}*{txn.st02 if txn.se02 is None else txn.se02}")
    return segs


def isa(ic: Interchange) -> str:
    return (
        f"ISA*00*          *00*          *ZZ*{ic.sender:<15}*ZZ*{ic.receiver:<15}*{ic.isa09}*"
        f"{ic.isa10}*^*00501*{ic.isa13}*1*T*:"
    )


def build(*interchanges: Interchange, truncate_after: str | None = None) -> bytes:
    """The file's bytes with ``*`` ``:`` ``~`` and a newline after each segment; with
    ``truncate_after``, the file stops right after the first segment starting with it."""
    segs: list[str] = []
    for ic in interchanges:
        segs.append(isa(ic))
        if ic.ta1 is not None:
            segs.append(f"TA1*{ic.ta1}")
        for group in ic.groups:
            segs.append(
                f"GS*{group.gs01}*{group.gs02}*{group.gs03}*20261120*0900*{group.gs06}*X*"
                f"{group.gs08}"
            )
            for txn in group.transactions:
                segs += _transaction(txn, group.gs08)
            if not group.no_ge:
                ge01 = group.ge01 if group.ge01 is not None else str(len(group.transactions))
                segs.append(f"GE*{ge01}*{group.gs06 if group.ge02 is None else group.ge02}")
        if not ic.no_iea:
            iea01 = ic.iea01 if ic.iea01 is not None else str(len(ic.groups))
            segs.append(f"IEA*{iea01}*{ic.isa13 if ic.iea02 is None else ic.iea02}")
    if truncate_after is not None:
        cut = next(i for i, s in enumerate(segs) if s.startswith(truncate_after))
        segs = segs[: cut + 1]
    return "".join(s + "~\n" for s in segs).encode("latin-1")


def redelimit(data: bytes, element: bytes, component: bytes, terminator: bytes) -> bytes:
    """The same file with other delimiters (values must not contain the new ones' originals)."""
    table = bytes.maketrans(b"*:~", element + component + terminator)
    return data.translate(table)
