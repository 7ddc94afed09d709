"""Damaged envelopes: the 999, TA1, 277CA, filtered 837 and decisions agree with each other.

Each case is an input built in the test (tests/acks/builder.py) with one thing wrong: a trailer
count or control number, a missing SE/GE/IEA, a truncated file, trimmed identifiers, foreign
delimiters and non-ASCII bytes in copied values, groups that are not claims, acknowledgments. For
every case one decision per group and interchange must drive every output (issue 13 item 1):

- refused (unreadable): no filtered 837, 277CA or decisions; a TA1 R for every interchange whose
  ISA was read (acknowledgment interchanges excepted);
- otherwise every claim is decided once, acknowledged once in the 277CA with the same verdict, and
  in the filtered 837 exactly when accepted; a claim forwarded sits in a set the 999 accepted and a
  group it did not reject; a set or group the 999 rejects forwards nothing; trailers written carry
  the header's control numbers; and pyx12 accepts every output (apart from the named TR3
  exceptions, tests.pyx12_oracle.TR3_EXCEPTIONS).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edi_gate.acks.ack999 import _digits, _set_control
from edi_gate.acks.ca277_values import reference
from edi_gate.errors import X12Error
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from tests.helpers import RejectClaims, count_clm
from tests.helpers import _clm01s as clm01s
from tests.pyx12_oracle import TA1_ONLY_ERRORS, pyx12_errors

from .builder import Claim, Group, Interchange, Line, Transaction, build, redelimit
from .factory import NOW

ENGINE = RejectClaims({"REJ1"}, {"LINE2": {2}, "COB1": {2}})


def two_sets(**group: object) -> Group:
    return Group(
        [
            Transaction([Claim("OK1"), Claim("REJ1")], st02="0001"),
            Transaction([Claim("OK2")], st02="0002"),
        ],
        **group,  # type: ignore[arg-type]
    )


@dataclass
class Case:
    data: bytes
    ak9: list[str] = field(default_factory=list)  # AK901 of each 999, in order
    ta1: list[tuple[str, str]] = field(default_factory=list)  # (TA104, TA105) of each TA1
    refused: bool = False
    scope: str = "claim"
    reject: str = "set"
    pyx12_837: bool = True  # the filtered 837 copies input bytes: odd but legal data is theirs


INJECT = "A*B~C:D^E"
# every segment id edi-gate's acknowledgments use: an injected terminator would add another
_TAGS = "ISA GS ST BHT HL NM1 TRN DTP STC QTY AMT REF SVC SE GE IEA AK1 AK2 IK3 IK4 IK5 AK9"
WRITTEN_TAGS = set(_TAGS.split(" "))
CASES: dict[str, Callable[[], Case]] = {
    "sound": lambda: Case(build(Interchange([two_sets()])), ak9=["A"]),
    "ge01-count": lambda: Case(build(Interchange([two_sets(ge01="7")])), ak9=["E"]),
    "ge02-control": lambda: Case(build(Interchange([two_sets(ge02="999")])), ak9=["E"]),
    "iea01-count": lambda: Case(
        build(Interchange([two_sets()], iea01="3")), ak9=["A"], ta1=[("E", "021")]
    ),
    "iea02-control": lambda: Case(
        build(Interchange([two_sets()], iea02="000000999")), ak9=["A"], ta1=[("E", "001")]
    ),
    "se02-control": lambda: Case(
        build(
            Interchange(
                [
                    Group(
                        [
                            Transaction([Claim("OK1")], st02="0001", se02="0009"),
                            Transaction([Claim("OK2")], st02="0002"),
                        ]
                    )
                ]  # fmt: skip
            )
        ),
        ak9=["P"],
    ),
    "se01-count-only-set": lambda: Case(
        build(Interchange([Group([Transaction([Claim("OK1")], se01=99)])])), ak9=["R"]
    ),
    "missing-se": lambda: Case(
        build(Interchange([Group([Transaction([Claim("OK1")], no_se=True)])])),
        refused=True,
        ta1=[("R", "024")],
    ),
    "missing-ge": lambda: Case(
        build(Interchange([two_sets(no_ge=True)])), refused=True, ta1=[("R", "024")]
    ),
    "missing-iea": lambda: Case(
        build(Interchange([two_sets()], no_iea=True)), refused=True, ta1=[("R", "023")]
    ),
    "truncated-mid-claim": lambda: Case(
        build(Interchange([two_sets()]), truncate_after="SV1"), refused=True, ta1=[("R", "023")]
    ),
    "second-interchange-truncated": lambda: Case(
        build(
            Interchange([two_sets()], isa13="000000101"),
            Interchange([two_sets(gs06="102")], isa13="000000102", no_iea=True),
        ),
        refused=True,
        ta1=[("R", "022"), ("R", "023")],
    ),
    "trimmed-identifiers": lambda: Case(
        build(
            Interchange([Group([Transaction([Claim("OK1")], st02="   1")], gs02=" 1", gs03=" 2")])
        ),
        ak9=["A"],
    ),
    "non-claim-groups": lambda: Case(
        build(
            Interchange(
                [
                    Group(
                        [Transaction([], st01="835", body=["BPR*I*0*C*NON"])],
                        gs01="HP",
                        gs06="201",
                        gs08="005010X221A1",
                    ),
                    two_sets(gs06="202"),
                    Group(
                        [Transaction([], st01="999", body=["AK1*HC*1*005010X222A1"])],
                        gs01="FA",
                        gs06="203",
                        gs08="005010X231A1",
                    ),
                ],
                iea01="9",
            )
        ),
        ak9=["A"],
        ta1=[("E", "021")],
        pyx12_837=False,  # the 835/999 sets are placeholders, passed through as they came
    ),
    "acknowledgments-only": lambda: Case(
        build(
            Interchange([], ta1="000000050*261120*0900*A*000", iea01="5"),
            Interchange(
                [
                    Group(
                        [Transaction([], st01="999", body=["AK1*HC*1*005010X222A1"])],
                        gs01="FA",
                        gs08="005010X231A1",
                    )
                ],
                isa13="000000102",
                iea02="000000999",
            ),
        ),
        pyx12_837=False,
    ),
    "truncated-acknowledgment": lambda: Case(
        build(
            Interchange(
                [
                    Group(
                        [Transaction([], st01="999", body=["AK1*HC*1*005010X222A1"])],
                        gs01="FA",
                        gs08="005010X231A1",
                    )
                ],
                no_iea=True,
            )
        ),
        refused=True,  # unreadable, but an acknowledgment: no TA1 answers it
    ),
    "line-scope-removal": lambda: Case(
        build(
            Interchange(
                [
                    Group(
                        [
                            Transaction(
                                [Claim("LINE2", [Line(control="L1"), Line("76000", charge="40")])]
                            )
                        ]
                    )
                ]
            )
        ),
        ak9=["A"],
        scope="line",
    ),
    "line-scope-cob": lambda: Case(
        build(
            Interchange([Group([Transaction([Claim("COB1", [Line(), Line("76000")], cob=True)])])])
        ),
        ak9=["A"],
        scope="line",
    ),
    "reject-interchange": lambda: Case(
        build(
            Interchange(
                [
                    Group(
                        [
                            Transaction([Claim("OK1")], st02="0001", se01=99),
                            Transaction([Claim("OK2")], st02="0002"),
                        ]
                    )
                ]  # fmt: skip
            )
        ),
        ak9=["P"],
        reject="interchange",
    ),
    "bad-isa-date-time": lambda: Case(
        build(Interchange([two_sets()], isa09="2401 1", isa10="9999", iea01="2")),
        ak9=["A"],
        ta1=[("E", "021")],
        pyx12_837=False,  # the input's own ISA09/ISA10, copied with its ISA
    ),
}


def _injected() -> Case:
    """Foreign delimiters (| > !) and edi-gate's own (* : ~ ^) inside every copied value."""
    base = build(
        Interchange(
            [
                Group(
                    [
                        Transaction(
                            [
                                Claim(
                                    "INJCLM",
                                    [Line("INJPROC", "INJQUAL", ("INJMOD",), control="INJREF")],
                                    patient_last="INJNAME",
                                ),  # fmt: skip
                                Claim(
                                    "LINE2",
                                    [
                                        Line(),
                                        Line("INJPROC", "INJQUAL", ("INJMOD",), control="INJREF"),
                                    ],
                                ),
                            ],
                            st02="INJST",
                        )
                    ],
                    gs02="INJGS2",
                    gs03="INJGS3",
                )
            ]
        )
    )
    data = redelimit(base, b"|", b">", b"!")
    for token, value in [
        (b"INJCLM", INJECT),
        (b"INJPROC", "9*99~9"),
        (b"INJQUAL", "HC:99999:XX"),
        (b"INJMOD", "2:"),
        (b"INJREF", INJECT),
        (b"INJNAME", "O*BRIEN~X"),
        (b"INJST", "1*2~"),
        (b"INJGS2", "S*1"),
        (b"INJGS3", "R~2"),
    ]:
        data = data.replace(token, value.encode("latin-1"))
    return Case(data, ak9=["A"], pyx12_837=False)


def _non_ascii() -> Case:
    """Latin-1 bytes (é, a non-breaking space, ², ÿ) in every copied value."""
    base = build(
        Interchange(
            [
                Group(
                    [
                        Transaction(
                            [
                                Claim(
                                    "ZCLM",
                                    [Line("ZPROC", "ZQ", ("ZMOD",), control="ZREF")],
                                    patient_last="ZNAME",
                                ),  # fmt: skip
                                Claim(
                                    "LINE2",
                                    [Line(), Line("ZPROC", "ZQ", ("ZMOD",), control="ZREF")],
                                ),
                            ],
                            st02="ZST",
                        )
                    ],
                    gs02="ZGS2",
                    gs03="ZGS3",
                    gs06="ZG6",
                )
            ],
            isa13="ZISA13ZZZ",
            iea01="4",
        )
    )
    data = base
    for token, value in [
        (b"ZCLM", b"CL\xe9M"),
        (b"ZPROC", b"7372\xa0"),
        (b"ZQ", b"H\xe9"),
        (b"ZMOD", b"2\xb2"),
        (b"ZREF", b"R\xe9F"),
        (b"ZNAME", b"DO\xc9"),
        (b"ZST", b"000\xb2"),
        (b"ZGS2", b"SUB\xa0"),
        (b"ZGS3", b"PA\xff"),
        (b"ZG6", b"10\xb2"),
        (b"ZISA13ZZZ", b"00000010\xb2"),
    ]:
        data = data.replace(token, value)
    # ISA13 "00000010²" passes str.isdigit: it cannot be echoed, so no TA1 answers the IEA01
    return Case(data, ak9=["A"], pyx12_837=False)


CASES["injected-delimiters"] = _injected
CASES["non-ascii"] = _non_ascii


@dataclass
class Outputs:
    refused: X12Error | None
    filtered: bytes
    ca277: bytes
    ack999: bytes
    decisions: list[dict]
    paths: dict[str, Path]


def run(case: Case, tmp_path: Path) -> Outputs:
    paths = {k: tmp_path / f"out.{k}" for k in ("837", "277", "999", "jsonl")}
    targets = FilterTargets(
        output=str(paths["837"]),
        acks=str(paths["277"]),
        ack999=str(paths["999"]),
        decisions=str(paths["jsonl"]),
    )
    refused = None
    try:
        run_filter_file(
            io.BytesIO(case.data),
            "case.837",
            ENGINE,
            targets,
            scope=case.scope,
            reject=case.reject,
            now=NOW,
        )
    except X12Error as error:
        refused = error

    def read(key: str) -> bytes:
        return paths[key].read_bytes() if paths[key].exists() else b""

    decisions = [json.loads(raw) for raw in read("jsonl").decode().splitlines()]
    return Outputs(refused, read("837"), read("277"), read("999"), decisions, paths)


def split(data: bytes) -> list[list[str]]:
    return [s.split("*") for s in data.decode("ascii").split("~\n") if s]


def ta1s(segs: list[list[str]]) -> list[tuple[str, str]]:
    return [(s[4], s[5]) for s in segs if s[0] == "TA1"]


def claims_277(segs: list[list[str]]) -> dict[str, list[list[str]]]:
    """TRN02 of each 2000D -> its segments up to the next HL."""
    claims: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    pt = False
    for seg in segs:
        if seg[0] in ("HL", "SE"):
            pt = seg[0] == "HL" and seg[3:4] == ["PT"]
            current = None
        elif seg[0] == "TRN" and pt and current is None:
            assert seg[2] not in claims, f"claim {seg[2]} acknowledged twice"
            current = claims[seg[2]] = []
        if current is not None:
            current.append(seg)
    return claims


def acks_999(segs: list[list[str]]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(GS06 echoed, ST02 echoed) -> IK501, and GS06 -> AK901."""
    sets: dict[tuple[str, str], str] = {}
    groups: dict[str, str] = {}
    group = st = ""
    for seg in segs:
        if seg[0] == "AK1":
            group = seg[2]
        elif seg[0] == "AK2":
            st = seg[2]
        elif seg[0] == "IK5":
            sets[(group, st)] = seg[1]
        elif seg[0] == "AK9":
            groups[group] = seg[1]
    return sets, groups


def envelopes_sound(data: bytes) -> None:
    """The filtered 837's trailers carry its headers' control numbers and counts."""
    element, terminator = data[3:4].decode("latin-1"), data[105:106]
    segs = [s.strip().decode("latin-1").split(element) for s in data.split(terminator) if s.strip()]
    isa = gs = st = None
    groups = sets = count = 0
    for seg in segs:
        if st is not None:
            count += 1
        if seg[0] == "ISA":
            isa, groups = seg, 0
        elif seg[0] == "GS":
            gs, sets, groups = seg, 0, groups + 1
        elif seg[0] == "ST":
            st, count, sets = seg, 1, sets + 1
        elif seg[0] == "SE":
            assert st is not None and seg[2] == st[2], (seg, st)
            assert seg[1] == str(count)
            st = None
        elif seg[0] == "GE":
            assert gs is not None and seg[1:] == [str(sets), gs[6]], (seg, gs)
            gs = None
        elif seg[0] == "IEA":
            assert isa is not None and seg[1:] == [str(groups), isa[13]], (seg, isa)
            isa = None


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_agree(name: str, tmp_path: Path) -> None:
    case = CASES[name]()
    out = run(case, tmp_path)
    ack_segs = split(out.ack999)
    assert ta1s(ack_segs) == case.ta1
    if case.refused:
        assert out.refused is not None
        # refused whole: nothing forwarded, acknowledged or decided; the TA1s say so
        assert not out.filtered and not out.ca277 and not out.decisions
        assert not [s for s in ack_segs if s[0] == "AK1"]
        if out.ack999:
            assert pyx12_errors(out.paths["999"], ignore=TA1_ONLY_ERRORS) == []
        return
    assert out.refused is None, out.refused
    records = out.decisions
    # every claim decided once
    assert len(records) == count_clm(case.data)
    accepted = [r for r in records if r["decision"] == "accepted"]
    # the filtered 837 holds exactly the accepted claims, with sound trailers
    if out.filtered:
        assert clm01s(out.filtered) == [r["claim"] for r in accepted]
        envelopes_sound(out.filtered)
        if case.pyx12_837:
            assert pyx12_errors(out.paths["837"]) == []
    else:
        assert not accepted
    # the 277CA acknowledges every claim once, with the same verdict
    ca_segs = split(out.ca277) if out.ca277 else []
    acked = claims_277(ca_segs)
    assert sorted(acked) == sorted(reference(r["claim"]) or "UNKNOWN" for r in records)
    for record in records:
        stc = next(s for s in acked[reference(record["claim"])] if s[0] == "STC")
        assert (stc[1].split(":")[0] == "A2") == (record["decision"] == "accepted"), stc
    if out.ca277:
        assert pyx12_errors(out.paths["277"]) == []
    # the 999: one per 837 group, and never rejecting what was forwarded
    sets, groups = acks_999(ack_segs)
    assert list(groups.values()) == case.ak9
    for record in records:
        # the 999 echoes GS06 and ST02 through the gate: key the decisions the same way
        group, st02 = _digits(record["group"], 9), _set_control(record["transaction"])
        if group not in groups:
            continue
        ik5 = sets[(group, st02)]
        if record["decision"] == "accepted":
            assert ik5 == "A" and groups[group] in ("A", "E", "P")
        if ik5 == "R" or groups[group] == "R":
            assert record["decision"] == "rejected"
    if out.ack999:
        assert pyx12_errors(out.paths["999"], ignore=TA1_ONLY_ERRORS) == []


def test_group_trailer_mismatch_is_accepted_with_errors_not_rejected(tmp_path: Path) -> None:
    """Item 1: GE02 != GS06 -> AK9*E with AK905 4, the claims forwarded (the README's promise);
    a submitter honouring the 999 does not resubmit what the payer received."""
    out = run(CASES["ge02-control"](), tmp_path)
    ak9 = [s for s in split(out.ack999) if s[0] == "AK9"]
    assert ak9 == [["AK9", "E", "2", "2", "2", "4"]]
    assert clm01s(out.filtered) == ["OK1", "OK2"]
    gs06 = next(s for s in out.filtered.split(b"~\n") if s.startswith(b"GS*")).split(b"*")[6]
    assert b"GE*2*" + gs06 in out.filtered  # item 2: the header's control number


def test_interchange_trailer_written_from_its_header(tmp_path: Path) -> None:
    """Item 2: IEA02 != ISA13 in the input; the filtered 837 carries ISA13 in IEA02."""
    out = run(CASES["iea02-control"](), tmp_path)
    assert out.filtered.rstrip().endswith(b"IEA*1*000000101~")


def test_echoed_identifiers_keep_their_spaces(tmp_path: Path) -> None:
    """Item 5: GS02/GS03 ' 1'/' 2' come back swapped as received, ST02 '   1' in AK202."""
    out = run(CASES["trimmed-identifiers"](), tmp_path)
    for data in (out.ca277, out.ack999):
        gs = next(s for s in split(data) if s[0] == "GS")
        assert gs[2:4] == [" 2", " 1"]
    assert ["AK2", "837", "   1", "005010X222A1"] in split(out.ack999)


def test_only_claim_groups_are_acknowledged(tmp_path: Path) -> None:
    """Item 4: no 999 for 835 and 999 groups, AK101 = GS01 of the 837 group; they pass through."""
    out = run(CASES["non-claim-groups"](), tmp_path)
    ak1 = [s for s in split(out.ack999) if s[0] == "AK1"]
    assert ak1 == [["AK1", "HC", "202", "005010X222A1"]]
    assert b"GS*HP*" in out.filtered and b"GS*FA*" in out.filtered


def test_acknowledgments_are_never_answered(tmp_path: Path) -> None:
    """Item 4: a TA1 interchange and a 999 group pass through; no TA1 or 999 answers them, even
    with a trailer mismatch."""
    case = CASES["acknowledgments-only"]()
    out = run(case, tmp_path)
    assert out.ack999 == b""
    assert b"TA1*000000050" in out.filtered and b"ST*999*" in out.filtered
    envelopes_sound(out.filtered)


def test_every_readable_interchange_of_a_refused_file_gets_a_ta1(tmp_path: Path) -> None:
    """Item 3: the truncated interchange (no IEA) and the sound one before it, each echoed."""
    out = run(CASES["second-interchange-truncated"](), tmp_path)
    ta1 = [s for s in split(out.ack999) if s[0] == "TA1"]
    assert [s[1] for s in ta1] == ["000000101", "000000102"]


def test_line_scope_cob_claim_rejected_whole_with_reason(tmp_path: Path) -> None:
    """Item 7: a secondary claim (2320 CAS, AMT*D) is not cut: rejected whole, and the 277CA
    says why (A7:400 claim out of balance) besides the line's own finding in its 2220D."""
    out = run(CASES["line-scope-cob"](), tmp_path)
    assert out.decisions[0]["decision"] == "rejected"
    assert out.decisions[0]["findings"][0]["rule"] == "LINE-SCOPE-COB"
    assert b"CLM*" not in out.filtered
    claim = claims_277(split(out.ca277))["COB1"]
    stcs = [s for s in claim if s[0] == "STC"]
    assert stcs[0][1] == "A7:400" and "COORDINATION-OF-BENEFITS" in stcs[0][12]
    assert [s[1] for s in claim if s[0] == "SVC"] == ["HC:76000:26"]


def test_line_scope_without_cob_is_still_cut(tmp_path: Path) -> None:
    """Item 8: the removed line has its 2220D; STC04 is the forwarded CLM02."""
    out = run(CASES["line-scope-removal"](), tmp_path)
    assert b"CLM*LINE2*150*" in out.filtered
    claim = claims_277(split(out.ca277))["LINE2"]
    stc = next(s for s in claim if s[0] == "STC")
    assert stc[1:5] == ["A2:20:PR", "20261124", "WQ", "150"]
    svc = claim.index(next(s for s in claim if s[0] == "SVC"))
    assert claim[svc] == ["SVC", "HC:76000:26", "40", "", "", "", "", "1"]
    assert claim[svc + 1] == ["STC", "A7:21:82", "", "U"]
    assert claim[svc + 2] == ["REF", "FJ", "2"]
    assert claim[svc + 3] == ["DTP", "472", "D8", "20261110"]


def test_copied_values_cannot_inject_or_change_codes(tmp_path: Path) -> None:
    """Item 6: values with * : ~ ^ (the input used | > !) never add a segment, element or
    component; an SV101-1 'HC:99999:XX' is not a qualifier, so the SVC reads HC and the
    procedure is the cleaned SV101-2."""
    out = run(CASES["injected-delimiters"](), tmp_path)
    for data in (out.ca277, out.ack999):
        for seg in split(data):
            assert seg[0] in WRITTEN_TAGS
    segs = split(out.ca277)
    svc = segs.index(next(s for s in segs if s[0] == "SVC"))
    assert segs[svc][1] == "HC:9 99 9"  # the modifier "2:" is no AN 2 value: dropped
    assert segs[svc + 2] == ["REF", "FJ", "A B C D E"]
    assert ["TRN", "2", "A B C D E"] in segs and ["TRN", "2", "LINE2"] in segs
    assert ["NM1", "QC", "1", "O BRIEN X", "JANE", "", "", "", "MI", "MEMBER001"] in segs
    gs = next(s for s in segs if s[0] == "GS")
    assert gs[2:4] == ["R 2", "S 1"]
    assert ["AK2", "837", "01 2", "005010X222A1"] in split(out.ack999)


def test_non_ascii_never_crashes_and_is_never_copied(tmp_path: Path) -> None:
    """Item 6: latin-1 bytes in every copied element: outputs are ASCII; the ISA13 '00000010²'
    (str.isdigit() is true) is not echoed into a TA1."""
    out = run(CASES["non-ascii"](), tmp_path)
    assert out.ca277.isascii() and out.ack999.isascii()
    segs = split(out.ca277)
    svc = segs.index(next(s for s in segs if s[0] == "SVC"))
    assert segs[svc][1] == "HC:7372"  # H\xe9 is no qualifier; "2\xb2" is no modifier
    assert segs[svc + 2] == ["REF", "FJ", "R F"]
    assert ["TRN", "2", "CL M"] in segs
    ak = split(out.ack999)
    assert [s[2] for s in ak if s[0] == "AK1"] == ["10"] and ["AK2", "837", "0000"] in [
        s[:3] for s in ak
    ]


def test_watch_outbox_gets_the_ta1_of_a_truncated_upload(tmp_path: Path) -> None:
    """Item 3 in `watch`: the commonest broken upload (no IEA) is quarantined and the partner's
    outbox holds the TA1 rejecting it (watch gets its acknowledgments from run_filter_file)."""
    from edi_gate.pipeline.watch import Router, WatchConfig, Watcher
    from edi_gate.pipeline.watch.journal import ACK999_SUFFIX

    cfg = WatchConfig(
        *(tmp_path / d for d in ("inbox", "out", "acks", "archive", "quarantine")),
        settle=0,
        interval=0.1,
        max_wait=0,  # an incomplete tail is quarantined at once, not waited for
        create_dirs=True,
    )
    cfg.inbox.mkdir(parents=True)
    (cfg.inbox / "upload.837").write_bytes(CASES["missing-iea"]().data)
    done = Watcher(cfg, Router(cfg, lambda ruleset, roster: ENGINE, None)).run(once=True)
    assert [e["outcome"] for e in done] == ["quarantined"]
    outbox = list(cfg.acks.rglob(f"*{ACK999_SUFFIX}"))
    assert len(outbox) == 1
    assert ta1s(split(outbox[0].read_bytes())) == [("R", "023")]


def test_claim_references_come_back_exactly_as_submitted(tmp_path: Path) -> None:
    """Item 5 (RFI 1926): 2200D TRN02 carries CLM01 exactly, spaces included, and 2220D REF*FJ
    the line's REF*6R; only what is not valid X12 for the element is cleaned."""
    data = build(
        Interchange(
            [Group([Transaction([Claim(" PCN  01", [Line(), Line("76000", control="L  2")])])])]
        )
    )
    engine = RejectClaims(lines={" PCN  01": {2}})
    paths = {k: tmp_path / f"out.{k}" for k in ("837", "277")}
    targets = FilterTargets(output=str(paths["837"]), acks=str(paths["277"]))
    run_filter_file(io.BytesIO(data), "case.837", engine, targets, now=NOW)
    segs = split(paths["277"].read_bytes())
    assert ["TRN", "2", " PCN  01"] in segs
    assert ["REF", "FJ", "L  2"] in segs
    assert pyx12_errors(paths["277"]) == []
