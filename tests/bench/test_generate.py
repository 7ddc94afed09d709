"""The benchmark generator must write valid, deterministic 837P: pyx12 is the referee.

Why: a benchmark on malformed input measures error paths, not the product; and a generator that
drifts between runs makes numbers incomparable.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document

from bench.floor import floor_pass
from bench.generate import generate, npi_check_digit, npi_is_valid


def pyx12_validate(path: Path) -> tuple[bool, str]:
    """Validate with pyx12's own entry point (what x12valid calls); returns (ok, 999 text)."""
    param = pyx12.params.params()
    fd_997 = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=param, src_file=str(path), fd_997=fd_997, fd_html=None, fd_xmldoc=None
    )
    return bool(ok), fd_997.getvalue()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("gen") / "small.837"
    stats = generate(path, 30, seed=42, max_claims_per_st=10, interchanges=2)
    return path, stats


def segments(path: Path) -> list[list[str]]:
    return [s.split("*") for s in path.read_text().split("~") if s.strip()]


def test_pyx12_accepts_small_file(small: tuple[Path, object]) -> None:
    path, _ = small
    ok, ack = pyx12_validate(path)
    assert ok, ack


def test_pyx12_accepts_every_recipe_family(tmp_path: Path) -> None:
    """A bigger, violation-heavy file so most recipes (good and BAD_) go through pyx12."""
    path = tmp_path / "mix.837"
    stats = generate(path, 400, seed=7, max_claims_per_st=150, violation_rate=0.5, newlines=True)
    assert len(stats.recipes) > 40
    ok, ack = pyx12_validate(path)
    assert ok, ack


def test_pyx12_rejects_a_broken_copy(small: tuple[Path, object], tmp_path: Path) -> None:
    """Control: the validator really looks (a wrong SE01 must fail)."""
    path, _ = small
    broken = tmp_path / "broken.837"
    broken.write_text(re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m[1]) + 1}*", path.read_text()))
    ok, _ = pyx12_validate(broken)
    assert not ok


def test_envelopes_and_claim_count(small: tuple[Path, object]) -> None:
    path, stats = small
    segs = segments(path)
    tags = [s[0] for s in segs]
    assert tags.count("ISA") == 2 and tags.count("GS") == 2
    assert tags.count("CLM") == 30 == stats.claims  # type: ignore[attr-defined]
    assert floor_pass(path) == {
        "segments": len(segs),
        "elements": sum(len(s) for s in segs),
        "clms": 30,
    }
    per_st: list[int] = []
    for tag in tags:
        if tag == "ST":
            per_st.append(0)
        elif tag == "CLM":
            per_st[-1] += 1
    assert len(per_st) >= 3 and max(per_st) <= 10 and sum(per_st) == 30


def test_hl_structure(small: tuple[Path, object]) -> None:
    """HL01 sequential per ST, HL04 = 1 exactly when a child HL follows, 2000C only under 22."""
    path, _ = small
    hls: list[list[list[str]]] = []
    for seg in segments(path):
        if seg[0] == "ST":
            hls.append([])
        elif seg[0] == "HL":
            hls[-1].append(seg)
    for st in hls:
        levels = {h[1]: h[3] for h in st}
        parents = {h[2] for h in st if h[2]}
        for i, h in enumerate(st, 1):
            assert h[1] == str(i)
            assert h[4] == ("1" if h[1] in parents else "0")
            if h[3] == "23":
                assert levels[h[2]] == "22" and h[4] == "0"
            if h[3] == "22":
                assert levels[h[2]] == "20"


def test_npis_pass_luhn(small: tuple[Path, object]) -> None:
    path, _ = small
    npis = re.findall(r"NM1\*(?:85|82|77)\*[^~]*\*XX\*(\d+)~", path.read_text())
    assert npis and all(npi_is_valid(n) for n in npis)
    assert npi_is_valid("1234567893")  # the CMS example NPI
    assert not npi_is_valid("1234567890")
    assert npi_check_digit("123456789") == 3


def test_deterministic(small: tuple[Path, object], tmp_path: Path) -> None:
    path, _ = small
    again = tmp_path / "again.837"
    generate(again, 30, seed=42, max_claims_per_st=10, interchanges=2)
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.837"
    generate(other, 30, seed=43, max_claims_per_st=10, interchanges=2)
    assert other.read_bytes() != path.read_bytes()


def test_realistic_mix(tmp_path: Path) -> None:
    """Violations ~10-20%, no-PRV claims, 2420A lines, SV105, REF*G1, RD8 all present."""
    path = tmp_path / "mix.837"
    labels = tmp_path / "labels.tsv"
    roster = tmp_path / "roster.csv"
    stats = generate(path, 3000, seed=5, labels=labels, roster=roster)
    assert 0.10 <= stats.bad_claims / stats.claims <= 0.20
    assert stats.no_prv_claims > 0 and stats.with_2000c > 0
    text = path.read_text()
    for needle in ("PRV*BI*PXC*", "PRV*PE*PXC*2085R0202X", "REF*G1*", "REF*6R*", "*RD8*",
                   ":TC:26*", "HC:76003", "*22**", "NM1*QC*1*PATIENT"):  # fmt: skip
        assert needle in text, needle
    rows = labels.read_text().splitlines()
    assert len(rows) == 3000
    assert sum(r.split("\t")[1].startswith("BAD_") for r in rows) == stats.bad_claims
    clm01 = re.findall(r"~CLM\*([^*]+)\*", text)
    assert clm01 == [r.split("\t")[0] for r in rows] and len(set(clm01)) == 3000
    roster_npis = {row.split(",")[0] for row in roster.read_text().splitlines()[1:]}
    claim_npis = set(re.findall(r"NM1\*(?:85|82)\*[^~]*\*XX\*(\d+)~", text))
    assert claim_npis <= roster_npis  # roster fill-in can always find the provider
