"""The structural edge cases of X12 as the project writes them: envelopes, delimiters, damage.

Every input the suite needs to exercise the tokenizer, the loop reader, the filter and the CLI on
real-world layouts is built here from the project's own fixtures (``fixtures/demo.837`` and
``fixtures/two-claims.837``) and a few small hand-written sets (837I, 837D, 999, 277CA, TA1,
4010 278/835). Nothing is read from the public corpus: it covers the same shapes (see
``CASES``), and the ``interop`` tests keep checking the real files when ``../shared`` is present.

Segments are written in a canonical form (element ``*``, component ``:``, repetition ``^``,
terminator ``~``) and rendered with any delimiters by ``render``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
Segments = list[str]


def segments_of(data: bytes) -> Segments:
    """Canonical segment texts of a fixture written with ``*`` ``:`` ``^`` ``~``."""
    return [s.strip() for s in data.decode("ascii").split("~") if s.strip()]


def demo() -> Segments:
    return segments_of((FIXTURES / "demo.837").read_bytes())


def two_claims() -> Segments:
    return segments_of((FIXTURES / "two-claims.837").read_bytes())


def transaction(segs: Segments, index: int = 0) -> Segments:
    """The ``index``-th ST..SE set of a file's segments."""
    starts = [i for i, s in enumerate(segs) if s.startswith("ST*")]
    start = starts[index]
    end = next(i for i in range(start, len(segs)) if segs[i].startswith("SE*"))
    return segs[start : end + 1]


def renumber(st: Segments, control: str) -> Segments:
    """The set with ST02/SE02 set to ``control`` (SE01 kept)."""
    head, *body, tail = st
    head_el, tail_el = head.split("*"), tail.split("*")
    head_el[2], tail_el[2] = control, control
    return ["*".join(head_el), *body, "*".join(tail_el)]


def isa(
    control: int,
    *,
    version: str = "00501",
    sender: str = "EDIGATESUB",
    receiver: str = "EDIGATEPAYER",
    usage: str = "T",
) -> str:
    """A fixed-width ISA (106 characters with its terminator) in canonical delimiters."""
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        sender.ljust(15),
        "ZZ",
        receiver.ljust(15),
        "250310",
        "0900",
        "^",
        version,
        f"{control:09d}",
        "0",
        usage,
        ":",
    ]
    text = "*".join(fields)
    assert len(text) + 1 == 106, len(text)
    return text


def group(sets: list[Segments], control: int, *, version: str = "005010X222A1", code: str = "HC"):
    gs = f"GS*{code}*EDIGATESUB*EDIGATEPAYER*20250310*0900*{control}*X*{version}"
    return [gs, *(seg for st in sets for seg in st), f"GE*{len(sets)}*{control}"]


def interchange(groups: list[Segments], control: int, **isa_fields: str) -> Segments:
    head = isa(control, **isa_fields)
    return [head, *(seg for g in groups for seg in g), f"IEA*{len(groups)}*{control:09d}"]


@dataclass(frozen=True)
class Layout:
    """How a file is written: delimiters, what follows each terminator, indentation, BOM."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    terminator: str = "~"
    suffix: str = "\n"
    indent: str = ""
    bom: bool = False


CANONICAL = Layout()


def render(segs: Segments, layout: Layout = CANONICAL, *, last_terminator: bool = True) -> bytes:
    """Segments written with the layout's delimiters (ISA11 and ISA16 follow it)."""
    out = []
    for seg in segs:
        elements = seg.split("*")
        if elements[0] == "ISA":
            elements[11], elements[16] = layout.repetition, layout.component
        else:
            elements = [layout.component.join(e.split(":")) for e in elements]
        out.append(layout.indent + layout.element.join(elements))
    text = (layout.terminator + layout.suffix).join(out)
    if last_terminator:
        text += layout.terminator + layout.suffix
    return (b"\xef\xbb\xbf" if layout.bom else b"") + text.encode("ascii")


# -- the shapes -----------------------------------------------------------------------------------

# Unusual delimiters: element '~', component '^', segment '_' and a newline after each.
ODD_DELIMITERS = Layout(element="~", component="^", repetition="!", terminator="_")
# Newline as the segment terminator, segments indented, component '>' and repetition '`'.
NEWLINE_TERMINATED = Layout(component=">", repetition="`", terminator="\n", suffix="", indent="  ")
# A UTF-8 BOM, CRLF line ends, indentation, component '>' and repetition '|'.
BOM_CRLF = Layout(component=">", repetition="|", suffix="\r\n", indent="    ", bom=True)


def demo_file(layout: Layout = CANONICAL) -> bytes:
    return render(demo(), layout)


def several_interchanges() -> bytes:
    """Two interchanges back to back, each with its own delimiters."""
    first = interchange([group([transaction(two_claims())], 201)], 201)
    second = interchange([group([transaction(demo())], 202)], 202)
    return render(first) + render(second, ODD_DELIMITERS)


def several_groups() -> bytes:
    """One interchange, three functional groups of one set each."""
    sets = [transaction(two_claims()), transaction(demo()), transaction(two_claims())]
    groups = [group([renumber(st, f"{n:04d}")], 300 + n) for n, st in enumerate(sets, 1)]
    return render(interchange(groups, 300))


def several_sets() -> bytes:
    """One group, two transaction sets."""
    sets = [renumber(transaction(two_claims()), "0001"), renumber(transaction(demo()), "0002")]
    return render(interchange([group(sets, 400)], 400))


def many_interchanges(count: int = 40) -> bytes:
    """``count`` back-to-back ISA/GS/ST interchanges of two claims each."""
    st = transaction(two_claims())
    return b"".join(render(interchange([group([st], 500 + n)], 500 + n)) for n in range(count))


def many_claims(claims: int = 820) -> bytes:
    """One transaction set holding ``claims`` claims (the bench generator, fixed seed)."""
    return _generator_file(7, claims, max_claims_per_st=claims, groups=20)


def generated(seed: int, claims: int = 12, *, newlines: bool = False) -> bytes:
    """A small synthetic 837P from the bench generator (several ST sets, lines, NM1*82 ...)."""
    return _generator_file(seed, claims, max_claims_per_st=5, groups=4, newlines=newlines)


def _generator_file(
    seed: int, claims: int, *, max_claims_per_st: int, groups: int, newlines: bool = False
) -> bytes:
    """One interchange from ``bench.generate.Generator``, the public synthetic 837P generator."""
    from bench.generate import Generator

    out = io.BytesIO()
    generator = Generator(
        seed, max_claims_per_st=max_claims_per_st, groups=groups, newlines=newlines
    )
    generator.write(out, claims, 1)
    return out.getvalue()


def unterminated() -> bytes:
    """The demo with no terminator (and no newline) after the IEA."""
    return render(demo(), last_terminator=False)


def free_text_before_isa() -> bytes:
    return b"Claims batch exported 2025-03-10 by the practice system\n" + demo_file()


def no_isa() -> bytes:
    """A file that starts at GS and has no IEA."""
    return render(demo()[1:-1])


def short_isa02() -> bytes:
    """ISA02 of 9 characters: the ISA is 105 bytes, not 106."""
    segs = demo()
    elements = segs[0].split("*")
    elements[2] = " " * 9
    return render(["*".join(elements), *segs[1:]])


def isa12_too_long() -> bytes:
    """ISA12 of 6 characters and ISA13 of 8 (a garbled envelope that keeps 106 bytes)."""
    segs = demo()
    segs[0] = segs[0].replace("*00501*000000101*", "*005010*00000101*")
    return render(segs)


def variable_length_isa() -> bytes:
    """An ISA whose fields are not padded (some senders do this; X12 forbids it)."""
    segs = demo()
    segs[0] = "*".join(e.strip() or e for e in segs[0].split("*"))
    return render(segs)


def no_iea() -> bytes:
    """The interchange ends after GE: no IEA trailer."""
    return render(demo()[:-1])


def utf16() -> bytes:
    return demo_file().decode("ascii").encode("utf-16-le")


def repeated_hl() -> bytes:
    """Two subscriber loops both numbered HL*2 (the second should be 3)."""
    return render([s.replace("HL*3*1*22*0", "HL*2*1*22*0") for s in two_claims()])


def wrong_se_count(claimed: int = 25) -> bytes:
    segs = two_claims()
    index = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    segs[index] = f"SE*{claimed}*0001"
    return render(segs)


def bad_segment_id() -> bytes:
    """A corrupted segment id inside the second claim (N3 written as 'N#3')."""
    segs = two_claims()
    index = [i for i, s in enumerate(segs) if s.startswith("N3*")][-1]
    segs[index] = "N#3" + segs[index][2:]
    return render(segs)


def x4010_837p() -> bytes:
    """The two claims as a 4010 837P (ISA12 00401, GS08 004010X098A1, no ST03)."""
    st = [s.replace("ST*837*0001*005010X222A1", "ST*837*0001") for s in transaction(two_claims())]
    return render(interchange([group([st], 600, version="004010X098A1")], 600, version="00401"))


# Hand-written sets, ST up to the SE (added by _sets).
# A small 837I (005010X223A2): one institutional claim, SV2 service lines.
I837 = """ST*837*0001*005010X223A2~BHT*0019*00*INST0001*20250310*0900*CH~
NM1*41*2*DEMO HOSPITAL BILLING*****46*DEMOSUB01~PER*IC*DEMO CONTACT*TE*5555550100~
NM1*40*2*DEMO HEALTH PLAN*****46*DEMOPAYER~HL*1**20*1~NM1*85*2*DEMO HOSPITAL*****XX*1234567893~
N3*100 DEMO AVE~N4*SPRINGFIELD*PA*191030000~REF*EI*123456789~HL*2*1*22*0~SBR*P*18*******CI~
NM1*IL*1*PATIENT1*DEMO****MI*M0000001~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPAYER~
CLM*INST-001*500***13:A:1**A*Y*Y~DTP*434*RD8*20250301-20250302~CL1*1*7*01~
HI*ABK:M25561~LX*1~SV2*0320*HC:73721*500*UN*1~DTP*472*D8*20250301~"""

# A small 837D (005010X224A2): one dental claim, SV3 lines.
D837 = """ST*837*0001*005010X224A2~BHT*0019*00*DENT0001*20250310*0900*CH~
NM1*41*2*DEMO DENTAL BILLING*****46*DEMOSUB01~PER*IC*DEMO CONTACT*TE*5555550100~
NM1*40*2*DEMO DENTAL PLAN*****46*DEMOPAYER~HL*1**20*1~NM1*85*2*DEMO DENTAL*****XX*1234567893~
N3*100 DEMO AVE~N4*SPRINGFIELD*PA*191030000~REF*EI*123456789~HL*2*1*22*0~SBR*P*18*******CI~
NM1*IL*1*PATIENT1*DEMO****MI*M0000001~NM1*PR*2*DEMO DENTAL PLAN*****PI*DEMOPAYER~
CLM*DENT-001*120***11:B:1*Y*A*Y*Y~LX*1~SV3*AD:D0220*120****1~TOO*JP*3~DTP*472*D8*20250301~
"""

# A 999 accepting one 837 set, and a 277CA accepting one claim (as a payer would send back).
ACK999 = """ST*999*0001*005010X231A1~AK1*HC*101*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~
AK9*A*1*1*1~"""
CA277 = """ST*277*0001*005010X214~BHT*0085*08*277CA0001*20250310*0900*TH~
HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPAYER~TRN*1*277CA0001~DTP*050*D8*20250310~
DTP*009*D8*20250310~HL*2*1*21*1~NM1*41*2*DEMO BILLING SERVICE*****46*DEMOSUB01~TRN*2*DEMO0001~
STC*A1:19:PR*20250310*WQ*420~QTY*90*1~AMT*YU*420~HL*3*2*19*1~
NM1*85*2*DEMO IMAGING GROUP*****XX*1234567893~
HL*4*3*PT~NM1*QC*1*PATIENT1*DEMO****MI*M0000001~TRN*2*DEMO-001~STC*A2:20:PR*20250310*WQ*420~
REF*1K*PAYER0001~DTP*472*D8*20250310~"""
# 4010 stubs of other transaction types (ST..SE only), as older test files carry them.
X278 = "ST*278*0001~BHT*0078*13*REF0001*20250310*0900~"
X835 = "ST*835*0001~BPR*I*100*C*ACH~TRN*1*12345*1512345678~"


def _sets(text: str) -> Segments:
    """A hand-written set (ST onwards) closed by its SE, the count made here."""
    segs = [s.strip() for s in text.split("~") if s.strip()]
    return [*segs, f"SE*{len(segs) + 1}*{segs[0].split('*')[2]}"]


def institutional() -> bytes:
    return render(interchange([group([_sets(I837)], 700, version="005010X223A2")], 700))


def dental() -> bytes:
    return render(interchange([group([_sets(D837)], 710, version="005010X224A2")], 710))


def ack999() -> bytes:
    return render(
        interchange([group([_sets(ACK999)], 720, code="FA", version="005010X231A1")], 720)
    )


def ack277ca() -> bytes:
    return render(interchange([group([_sets(CA277)], 730, code="HN", version="005010X214")], 730))


def mixed_4010() -> bytes:
    """One 4010 interchange holding 278, 835 and 837P groups."""
    st837 = [
        s.replace("ST*837*0001*005010X222A1", "ST*837*0001") for s in transaction(two_claims())
    ]
    groups = [
        group([_sets(X278)], 741, code="HI", version="004010X094A1"),
        group([_sets(X835)], 742, code="HP", version="004010X091A1"),
        group([st837], 743, version="004010X098A1"),
    ]
    return render(interchange(groups, 740, version="00401"))


def ta1_only() -> bytes:
    """An interchange acknowledgment: ISA, TA1, IEA and no functional group."""
    return render([isa(750), "TA1*000000101*250310*0900*A*000", "IEA*0*000000750"])


@dataclass(frozen=True)
class Case:
    """An input and what the filter must do with it.

    ``claims``: claims the filter decides; ``error``: text of the one-line X12Error when the file
    is refused (exit 65); ``syntax``: text of the X12-SYNTAX finding rejecting a damaged set;
    ``passthrough``: a file edi-gate does not judge (not a 5010 837P), copied through untouched.
    """

    build: Callable[[], bytes]
    claims: int = 0
    error: str | None = None
    syntax: str | None = None
    passthrough: bool = False


CASES: dict[str, Case] = {
    "odd-delimiters": Case(lambda: demo_file(ODD_DELIMITERS), claims=8),
    "newline-terminated": Case(lambda: demo_file(NEWLINE_TERMINATED), claims=8),
    "bom-crlf-indented": Case(lambda: demo_file(BOM_CRLF), claims=8),
    "several-interchanges": Case(several_interchanges, claims=10),
    "several-groups": Case(several_groups, claims=12),
    "several-sets": Case(several_sets, claims=10),
    "many-interchanges": Case(many_interchanges, claims=80),
    "many-claims-one-set": Case(many_claims, claims=820),
    "unterminated-last-segment": Case(unterminated, claims=8),
    "repeated-hl": Case(repeated_hl, claims=2, syntax="HL01 '2' is missing or repeated"),
    "wrong-se-count": Case(
        wrong_se_count, claims=2, syntax="SE01 says '25' segments, the transaction set has 42"
    ),
    "bad-segment-id": Case(
        bad_segment_id, claims=2, syntax="unrecognized segment id (not 2-3 letters or digits)"
    ),
    "free-text-before-isa": Case(free_text_before_isa, error="expected an ISA interchange header"),
    "no-isa": Case(
        no_isa, error="segment 1: expected an ISA interchange header, found a GS segment"
    ),
    "short-isa02": Case(short_isa02, error="segment 1 (ISA): ISA02 has 9 characters, expected 10"),
    "isa12-too-long": Case(
        isa12_too_long, error="segment 1 (ISA): ISA12 has 6 characters, expected 5"
    ),
    "variable-length-isa": Case(variable_length_isa, error="segment 1 (ISA): ISA has "),
    "no-iea": Case(no_iea, error="(IEA): file ends before the interchange's IEA trailer"),
    "utf-16": Case(utf16, error="input looks UTF-16 encoded (NUL bytes)"),
    "ta1-only": Case(ta1_only, passthrough=True),  # acknowledgments pass, never answered
    "4010-837p": Case(x4010_837p, passthrough=True),
    "4010-mixed-278-835-837": Case(mixed_4010, passthrough=True),
    "837i": Case(institutional, passthrough=True),
    "837d": Case(dental, passthrough=True),
    "999": Case(ack999, passthrough=True),
    "277ca": Case(ack277ca, passthrough=True),
}

SOUND = [n for n, case in CASES.items() if not (case.error or case.syntax or case.passthrough)]
