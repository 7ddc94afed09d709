"""277CA writer: structure, totals, stability, and pyx12's X214 map as the oracle."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal

import pytest

from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.acks.ca277_values import payer_claim_control_number
from edi_gate.acks.state import ControlNumbers
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.x12.model import Claim, Envelope, Party

from .factory import (
    NOW,
    OTHER_BILLING,
    check_envelopes,
    claim,
    envelope,
    line,
    segments,
    tagged,
)

Oracle = Callable[..., list[str]]


def write(
    items: Iterable[tuple[Claim, Decision]],
    *,
    control: ControlNumbers | None = None,
    now: datetime = NOW,
    payer: Party | None = None,
) -> bytes:
    """Acknowledge (claim, decision) pairs, starting a transaction whenever the envelope changes."""
    out = io.BytesIO()
    writer = Ack277Writer(out, control=control or ControlNumbers(), now=now, payer=payer)
    current: Envelope | None = None
    for item, decision in items:
        if item.envelope is not current:
            writer.begin_transaction(item.envelope)
            current = item.envelope
        writer.add(item, decision)
    writer.close()
    return out.getvalue()


def by_claim(segs: list[list[str]]) -> dict[str, list[list[str]]]:
    """Segments of each 2000D (from its HL to the next HL/SE), keyed by TRN02 = CLM01."""
    result: dict[str, list[list[str]]] = {}
    block: list[list[str]] | None = None
    for seg in segs:
        if seg[0] in ("HL", "SE"):
            block = [seg] if seg[0] == "HL" and seg[3] == "PT" else None
        elif block is not None:
            block.append(seg)
            if seg[0] == "TRN":
                result[seg[2]] = block
    return result


MIXED_FINDINGS = [
    Finding("IMG-PRIV", 1, "CPT 76942 not permitted for taxonomy 207Q00000X", "A7", "145", "82"),
    Finding("ADDON", 2, "77002 add-on without its primary", "A8", "736", ""),
    Finding("TC26", 2, "modifier 26 required in facility POS 22", "A7", "453", "82"),
    Finding("CLAIM", None, "billing provider taxonomy missing", "A6", "145", "85"),
]


def mixed() -> list[tuple[Claim, Decision]]:
    env = envelope()
    rejected_lines = [
        line("76942", (), "200", control="LINE0002-1"),
        line("77002", (), "90", day=date(2026, 11, 11)),
    ]
    return [
        (claim("PCN0001", env=env), Decision(True)),
        (claim("PCN0002", rejected_lines, env=env, d9="CH0002"), Decision(False, MIXED_FINDINGS)),
        (claim("PCN0003", [line(charge="75.50")], env=env), Decision(True)),
    ]


def test_accept_reject_is_valid_and_well_formed(oracle: Oracle) -> None:
    data = write(mixed())
    assert oracle(data) == []
    segs = segments(data)
    check_envelopes(segs)
    isa, gs, st = segs[0], segs[1], segs[2]
    # Sender and receiver swapped from the 837's ISA and GS.
    parties = (isa[5], isa[6].strip(), isa[7], isa[8].strip())
    assert parties == ("ZZ", "PAYERID", "ZZ", "SUBMITTERID")
    assert (gs[1], gs[2], gs[3], gs[8]) == ("HN", "PAYERID", "SUBMITTERID", "005010X214")
    assert isa[15] == "T" and isa[11] == "^" and isa[16] == ":"
    assert st[1] == "277" and st[3] == "005010X214"
    bht = tagged(segs, "BHT")[0]
    assert bht[1:3] == ["0085", "08"] and bht[6] == "TH"
    # 2200B: TRN02 = the 837's BHT03, totals of the transaction.
    trn = tagged(segs, "TRN")
    assert trn[1] == ["TRN", "2", "837BATCH0001"]
    stc_b = tagged(segs, "STC")[0]
    assert stc_b[1:5] == ["A1:19:PR", "20261124", "WQ", "515.5"]
    assert segs[segs.index(stc_b) + 1 : segs.index(stc_b) + 5] == [
        ["QTY", "90", "2"],
        ["QTY", "AA", "1"],
        ["AMT", "YU", "225.5"],
        ["AMT", "YY", "290"],
    ]
    assert ["QTY", "QA", "2"] in segs and ["QTY", "QC", "1"] in segs
    # HL numbering and parent links.
    hls = tagged(segs, "HL")
    assert [h[1] for h in hls] == [str(n) for n in range(1, len(hls) + 1)]
    assert hls[0][2:] == ["", "20", "1"] and hls[1][2:] == ["1", "21", "1"]
    assert hls[2][2:] == ["2", "19", "1"]
    assert all(h[2:] == ["3", "PT"] for h in hls[3:])
    claims = by_claim(segs)
    assert list(claims) == ["PCN0001", "PCN0002", "PCN0003"]


def test_claim_level_content(oracle: Oracle) -> None:
    segs = segments(write(mixed()))
    claims = by_claim(segs)
    accepted = claims["PCN0001"]
    assert accepted[1] == ["NM1", "QC", "1", "DOE", "JANE", "", "", "", "MI", "MEMBER001"]
    assert ["STC", "A2:20:PR", "20261124", "WQ", "150"] in accepted
    assert tagged(accepted, "REF")[0][1] == "1K"
    assert ["DTP", "472", "D8", "20261110"] in accepted
    assert not tagged(accepted, "SVC")

    rejected = claims["PCN0002"]
    stcs = [s for s in rejected if s[0] == "STC"]
    claim_stcs = stcs[: len(MIXED_FINDINGS)]
    assert [s[1] for s in claim_stcs] == ["A7:145:82", "A8:736", "A7:453:82", "A6:145:85"]
    assert all(s[2:5] == ["20261124", "U", "290"] for s in claim_stcs)
    assert claim_stcs[0][12] == "IMG-PRIV LINE 1 - CPT 76942 NOT PERMITTED FOR TAXONOMY 207Q00000X"
    assert claim_stcs[3][12].startswith("CLAIM - ")
    assert ["REF", "D9", "CH0002"] in rejected
    assert not [r for r in tagged(rejected, "REF") if r[1] == "1K"]
    assert ["DTP", "472", "RD8", "20261110-20261111"] in rejected
    # 2220D: one loop per offending line, STC02 empty as payers send it (named TR3 exception
    # 277CA-2220D-STC02-EMPTY), REF*FJ and DTP always (the LX number when there is no REF*6R).
    svcs = tagged(rejected, "SVC")
    assert svcs == [
        ["SVC", "HC:76942", "200", "", "", "", "", "1"],
        ["SVC", "HC:77002", "90", "", "", "", "", "1"],
    ]
    first = rejected.index(svcs[0])
    assert rejected[first + 1] == ["STC", "A7:145:82", "", "U"]
    assert rejected[first + 2] == ["REF", "FJ", "LINE0002-1"]
    assert rejected[first + 3] == ["DTP", "472", "D8", "20261110"]
    second = rejected.index(svcs[1])
    assert rejected[second + 1] == ["STC", "A8:736", "", "U", *[""] * 6, "A7:453"]
    assert rejected[second + 2][:2] == ["REF", "FJ"] and rejected[second + 2][2]
    assert rejected[second + 3] == ["DTP", "472", "D8", "20261111"]


def test_payer_claim_control_number_is_stable() -> None:
    first = by_claim(segments(write(mixed(), control=ControlNumbers(start=7))))
    later = datetime(2027, 1, 2, 3, 4)
    second = by_claim(segments(write(mixed(), control=ControlNumbers(start=900), now=later)))
    for pcn in ("PCN0001", "PCN0003"):
        ref1 = [s for s in first[pcn] if s[:2] == ["REF", "1K"]]
        ref2 = [s for s in second[pcn] if s[:2] == ["REF", "1K"]]
        assert ref1 == ref2 and ref1
    day = date(2026, 1, 1)
    icn = payer_claim_control_number("SENDER", "PCN1", Decimal("150.00"), day, None)
    assert icn == payer_claim_control_number("SENDER ", "PCN1", Decimal("150"), day, None)
    assert icn != payer_claim_control_number("SENDER", "PCN1", Decimal("151"), day, None)
    assert icn != payer_claim_control_number("OTHER", "PCN1", Decimal("150"), day, None)
    assert icn != payer_claim_control_number(
        "SENDER", "PCN1", Decimal("150"), day, day.replace(day=2)
    )
    assert len(icn) <= 50 and icn.isalnum()
    # Stable across versions too: a payer matches resubmissions and corrections on REF*1K, so
    # these values are pinned (an implementation change must keep them).
    assert icn == "EG390282634498948"
    range_icn = payer_claim_control_number(
        "SUBMITTER1", "A-77/3", Decimal("1234.5"), date(2025, 6, 2), date(2025, 6, 4)
    )
    assert range_icn == "EG648331537455036"


FAMILIES = [
    # (rule family, category, status, entity): every kind of rejection the rules produce.
    ("TAXONOMY-RENDERING", "A7", "145", "82"),
    ("TAXONOMY-BILLING", "A7", "145", "85"),
    ("PROCEDURE", "A7", "454", ""),
    ("HCPCS", "A7", "507", ""),
    ("MODIFIER-TC26", "A7", "453", "82"),
    ("UNITS-MUE", "A7", "476", ""),
    ("POS", "A7", "249", "77"),
    ("DATE", "A7", "187", ""),
    ("ADDON", "A8", "736", ""),
    ("BUNDLED", "A8", "735", ""),
    ("NPI", "A7", "562", "82"),
    ("DUPLICATE", "A3", "78", ""),
    ("ELIGIBILITY", "A7", "109", "IL"),
    (SYNTAX_RULE, "A3", "481", ""),
    ("BALANCE", "A7", "400", ""),
    ("NEWER-CODE", "A7", "796", "82"),  # newer than pyx12's list: replaced by 21
    ("ODD-ENTITY", "A7", "145", "P3"),  # entity not allowed in 2200D: dropped
    ("ODD-CATEGORY", "E0", "21", ""),  # not a batch rejection category: A7
    ("EMPTY", "", "", ""),
]


@pytest.mark.parametrize(("rule", "category", "status", "entity"), FAMILIES)
@pytest.mark.parametrize("on_line", [False, True])
def test_every_rule_family_is_valid(
    oracle: Oracle, rule: str, category: str, status: str, entity: str, on_line: bool
) -> None:
    finding = Finding(
        rule, 1 if on_line else None, "bad value *:^~ in\nfield", category, status, entity
    )
    data = write([(claim(lines=[line(control="LC1")]), Decision(False, [finding]))])
    assert oracle(data) == []
    stc = [s for s in segments(data) if s[0] == "STC"][2]
    composite = stc[1].split(":")
    assert composite[0] in ("A3", "A6", "A7", "A8")
    assert "*" not in stc[12] and "^" not in stc[12] and "~" not in stc[12]
    if status == "796":
        assert composite[1] == "21" and "STATUS 796" in stc[12]
    if entity == "P3":
        assert len(composite) == 2
    assert bool(tagged(segments(data), "SVC")) is on_line


def test_multiple_interchanges_groups_and_transactions(oracle: Oracle) -> None:
    a1 = envelope(isa13="000000001", st02="0001", bht03="A1")
    a2 = envelope(isa13="000000001", st02="0002", bht03="A2")
    b1 = envelope(isa13="000000002", gs06="7", st02="0001", bht03="B1", sender="OTHERSUB")
    c1 = envelope(isa13="000000003", st02="0001", bht03="C1", source="second.837")
    items = []
    for n, env in enumerate([a1, a2, b1, c1]):
        items.append((claim(f"P{n}A", env=env), Decision(True)))
        items.append(
            (claim(f"P{n}B", env=env), Decision(False, [Finding("R", None, "no", "A7", "454")]))
        )
    data = write(items, control=ControlNumbers(start=41))
    assert oracle(data) == []
    segs = segments(data)
    check_envelopes(segs)
    isas = tagged(segs, "ISA")
    assert [i[13] for i in isas] == ["000000041", "000000042", "000000043"]
    assert [i[8].strip() for i in isas] == ["SUBMITTERID", "OTHERSUB", "SUBMITTERID"]
    assert [g[1] for g in tagged(segs, "GE")] == ["2", "1", "1"]
    batches = [
        t[2] for t in tagged(segs, "TRN") if t[1] == "2" and t[2] in ("A1", "A2", "B1", "C1")
    ]
    assert batches == ["A1", "A2", "B1", "C1"]
    sts = [s[2] for s in tagged(segs, "ST")]
    assert len(set(sts)) == len(sts) == 4


def test_two_billing_providers_get_their_own_2000c(oracle: Oracle) -> None:
    env = envelope()
    items = [
        (claim("P1", env=env), Decision(True)),
        (claim("P2", env=env, billing=OTHER_BILLING, hl_billing="5"), Decision(True)),
        (
            claim("P3", env=env, billing=OTHER_BILLING, hl_billing="5"),
            Decision(False, [Finding("R", None, "no", "A7", "454")]),
        ),
        (claim("P4", env=env), Decision(True)),
    ]
    data = write(items)
    assert oracle(data) == []
    segs = segments(data)
    providers = [s for s in segs if s[:2] == ["NM1", "85"]]
    assert providers[0][2:4] == ["2", "EXAMPLE IMAGING GROUP"]
    assert providers[1][2:5] == ["1", "SMITH", "JOHN"] and providers[1][8:] == ["XX", "1999999984"]
    hls = tagged(segs, "HL")
    parents = {h[1]: h[2] for h in hls if h[3] == "PT"}
    # A provider's claims are grouped while they come together, as an 837's claims do (they
    # follow their billing HL): claims are spooled in order, never held to be regrouped, so a
    # provider met again after another (P4) gets a 2000C of its own (it shared P1's before).
    first_c, second_c, third_c = [h[1] for h in hls if h[3] == "19"]
    assert list(parents.values()) == [first_c, second_c, second_c, third_c]
    assert providers[2][2:4] == ["2", "EXAMPLE IMAGING GROUP"]
    assert segs.count(["QTY", "QA", "1"]) == 3 and ["QTY", "QC", "1"] in segs


def test_line_scope_acceptance_balances(oracle: Oracle) -> None:
    lines = [line(charge="100"), line("76000", (), "40"), line("76001", (), "10")]
    decision = Decision(True, [Finding("ADDON", 2, "removed", "A8", "736")], frozenset({2, 3}))
    data = write([(claim("P1", lines), decision)])
    assert oracle(data) == []
    segs = segments(data)
    stc = [s for s in segs if s[0] == "STC"][2]
    # STC04 is the charge of the claim as forwarded (CLM02 re-summed), not as submitted (item 8)
    assert stc[1:5] == ["A2:20:PR", "20261124", "WQ", "100"]
    assert stc[12].startswith("LINES 2,3 REMOVED")
    assert ["AMT", "YU", "100"] in segs and ["AMT", "YY", "50"] in segs
    assert ["QTY", "90", "1"] in segs and not [s for s in segs if s[:2] == ["QTY", "AA"]]
    # each removed line has its 2220D: the finding on line 2, a generic reject on line 3
    assert tagged(segs, "SVC") == [
        ["SVC", "HC:76000", "40", "", "", "", "", "1"],
        ["SVC", "HC:76001", "10", "", "", "", "", "1"],
    ]
    line_stcs = [segs[i + 1] for i, s in enumerate(segs) if s[0] == "SVC"]
    assert [s[1] for s in line_stcs] == ["A8:736", "A7:21"]
    assert [r[2] for r in tagged(segs, "REF") if r[1] == "FJ"] == ["2", "3"]
    icn = [r[2] for r in tagged(segs, "REF") if r[1] == "1K"]
    start = date(2026, 11, 10)
    assert icn == [payer_claim_control_number("SUBMITTERID", "P1", Decimal(100), start, start)]


def test_odd_claims_still_valid(oracle: Oracle) -> None:
    patient = Party("QC", "ROE", "RICHARD", "", "")
    no_dates = [line()]
    no_dates[0].service_date = no_dates[0].service_date_end = None
    items = [
        (claim("P1", patient=patient), Decision(False)),  # rejected without findings
        (claim("P2", no_dates), Decision(True)),  # no service date anywhere: BHT04 date
        (claim("P3", [line(modifiers=("TC", "59", "XU", "RT", "LT"))]), Decision(True)),
    ]
    data = write(items, payer=Party("PR", "REAL PAYER", "", "PI", "99999"))
    assert oracle(data) == []
    segs = segments(data)
    assert ["NM1", "PR", "2", "REAL PAYER", "", "", "", "", "PI", "99999"] in segs
    claims = by_claim(segs)
    assert claims["P1"][1][3:5] == ["ROE", "RICHARD"] and claims["P1"][1][9] == "MEMBER001"
    assert [s for s in claims["P1"] if s[0] == "STC"][0][1] == "A7:21"
    assert ["DTP", "472", "D8", "20261120"] in claims["P2"]


def test_transaction_without_claims_writes_nothing() -> None:
    out = io.BytesIO()
    writer = Ack277Writer(out, control=ControlNumbers(), now=NOW)
    writer.begin_transaction(envelope())
    assert writer.end_transaction() is None
    writer.close()
    assert out.getvalue() == b""


def test_big_file(oracle: Oracle) -> None:
    """2,000 claims in one transaction plus 300 in a second interchange."""
    env1, env2 = envelope(), envelope(isa13="000000102", bht03="SECOND")
    findings = [Finding("IMG-PRIV", 2, "not privileged", "A7", "145", "82")]

    def items():
        for n in range(2300):
            env = env1 if n < 2000 else env2
            lines = [line(control=f"L{n}-1"), line("76942", (), "80", control=f"L{n}-2")]
            item = claim(f"PCN{n:05d}", lines, env=env, hl_billing=str(1 + n // 700))
            yield item, Decision(True) if n % 4 else Decision(False, findings)

    data = write(items())
    assert oracle(data) == []
    segs = segments(data)
    check_envelopes(segs)
    assert len(by_claim(segs)) == 2300
    first_b = segs[segs.index(["TRN", "2", "837BATCH0001"]) :][:6]
    assert first_b[2:4] == [["QTY", "90", "1500"], ["QTY", "AA", "500"]]
    assert first_b[4:6] == [["AMT", "YU", "345000"], ["AMT", "YY", "115000"]]
    assert len(tagged(segs, "SVC")) == 575


def test_add_without_begin_uses_the_claims_envelope(oracle: Oracle) -> None:
    out = io.BytesIO()
    with Ack277Writer(out, control=ControlNumbers(), now=NOW) as writer:
        writer.add(claim("P1"), Decision(True))
    assert oracle(out.getvalue()) == []
    assert writer.transactions == 1 and writer.claims == 1 and writer.rejected == 0


def test_override_rejects_the_whole_transaction(oracle: Oracle) -> None:
    out = io.BytesIO()
    env = envelope()
    writer = Ack277Writer(out, control=ControlNumbers(), now=NOW)
    writer.begin_transaction(env)
    writer.add(claim("P1", env=env), Decision(True))
    writer.add(claim("P2", [line(control="X")], env=env), Decision(False, MIXED_FINDINGS))
    syntax = [Finding(SYNTAX_RULE, None, "transaction set rejected: SE01 wrong", "A3", "481")]
    writer.end_transaction(syntax)
    writer.close()
    data = out.getvalue()
    assert oracle(data) == []
    segs = segments(data)
    claims = by_claim(segs)
    for pcn in ("P1", "P2"):
        stcs = [s for s in claims[pcn] if s[0] == "STC"]
        assert [s[1] for s in stcs] == ["A3:481"]
        assert not [s for s in claims[pcn] if s[0] in ("SVC", "REF")]
    assert ["QTY", "AA", "2"] in segs and not [s for s in segs if s[:2] == ["QTY", "90"]]


@pytest.mark.parametrize("override", [False, True])
def test_a_large_set_is_spooled_to_disk_and_replayed_in_order(override: bool) -> None:
    """Claim records wait for the set's end on disk past CLAIM_SPOOL_BYTES (a set of 50,000
    claims held 111 MB): written back in order under their providers, with the totals first,
    or rewritten from the spooled fields when the set is rejected whole."""
    from edi_gate.acks import ca277_spool

    env = envelope()
    count = 7500
    out = io.BytesIO()
    writer = Ack277Writer(out, control=ControlNumbers(), now=NOW)
    writer.begin_transaction(env)
    spooled = None
    for n in range(count):
        item = claim(f"P{n}", env=env, hl_billing="1" if n < count // 2 else "7")
        writer.add(item, Decision(n % 3 != 0, [] if n % 3 else MIXED_FINDINGS[:1]))
        if n == count - 1:
            assert writer._txn is not None
            spooled = writer._txn.claims.on_disk
    syntax = [Finding(SYNTAX_RULE, None, "transaction set rejected: SE01 wrong", "A3", "481")]
    writer.end_transaction(syntax if override else None)
    writer.close()
    assert spooled and count * ca277_spool.CLAIM_OVERHEAD > ca277_spool.CLAIM_SPOOL_BYTES
    segs = segments(out.getvalue())
    trns = [s[2] for s in segs if s[:2] == ["TRN", "2"]][1:]
    assert trns == [f"P{n}" for n in range(count)]
    assert len([s for s in segs if s[0] == "HL" and s[3] == "19"]) == 2
    rejected = count if override else count // 3
    assert ["QTY", "AA", str(rejected)] in segs
    assert writer.claims == count and writer.rejected == rejected
    se = next(s for s in segs if s[0] == "SE")
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    assert int(se[1]) == segs.index(se) - st + 1
