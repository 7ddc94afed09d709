"""`edi-gate directory` and --directory, end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.nppes import Provider, write
from edi_gate.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo.837"


def demo_without_prv(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """demo.837 with every PRV*PE removed (SE01 recounted) and the billing PRV*BI made the
    multi-specialty group code: only a directory can say who renders. Returns the file and the
    NPI -> taxonomy the removed PRVs said."""
    segments = DEMO.read_text().strip().split("~")
    taxonomies: dict[str, str] = {}
    out: list[str] = []
    npi = ""
    for seg in segments:
        seg = seg.strip()
        if not seg:
            continue
        if seg.startswith("NM1*82*"):
            npi = seg.split("*")[9]
        if seg.startswith("PRV*PE*"):
            taxonomies[npi] = seg.split("*")[3]
            continue
        if seg.startswith("PRV*BI*"):
            seg = "PRV*BI*PXC*193200000X"
        if seg.startswith("SE*"):
            count = len(out) - max(i for i, s in enumerate(out) if s.startswith("ST*")) + 1
            seg = f"SE*{count}*{seg.split('*')[2]}"
        out.append(seg)
    path = tmp_path / "no-prv.837"
    path.write_text("~".join(out) + "~")
    return path, taxonomies


def decisions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def nppes_file(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    claims, taxonomies = demo_without_prv(tmp_path)
    src = tmp_path / "npidata_pfile_20050523-20250608.csv"
    write(src, [Provider(npi, "1", [tax]) for npi, tax in sorted(taxonomies.items())])
    return claims, src, taxonomies


def test_filter_decides_claims_without_prv_by_nppes_as_the_prvs_did(tmp_path, nppes_file):
    claims, src, taxonomies = nppes_file
    runner = CliRunner()
    db = tmp_path / "dir.sqlite"
    header = tmp_path / "npidata_pfile_20050523-20250608_fileheader.csv"
    header.write_text(src.read_text().splitlines()[0] + "\n")
    result = runner.invoke(
        main, ["directory", "import", "--nppes", str(src), str(header), "--directory", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert f"nppes: {len(taxonomies)} NPIs" in result.output
    with_prv, without = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for source, out, extra in ((DEMO, with_prv, []), (claims, without, ["--directory", str(db)])):
        result = runner.invoke(
            main,
            ["filter", str(source), "-o", str(tmp_path / "out.837"), "--decisions", str(out),
             "--log-format", "json", "--roster", str(tmp_path / "empty.csv"), *extra],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    a, b = decisions(with_prv), decisions(without)
    assert [d["decision"] for d in a] == [d["decision"] for d in b]
    assert [[f["rule"] for f in d["findings"]] for d in a] == [
        [f["rule"] for f in d["findings"]] for d in b
    ]
    lines_a = [ln for d in a for ln in d["lines"]]
    lines_b = [ln for d in b for ln in d["lines"]]
    assert [ln["taxonomy"] for ln in lines_a] == [ln["taxonomy"] for ln in lines_b]
    assert {ln["taxonomy_source"] for ln in lines_a} <= {"2310B PRV", "2420A PRV"}
    assert {ln["taxonomy_source"] for ln in lines_b} == {"nppes"}


@pytest.fixture(autouse=True)
def empty_roster(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("npi,taxonomy,credential,effective,expires\n")


def test_import_into_the_default_state_directory_and_stats(tmp_path, nppes_file):
    _, src, taxonomies = nppes_file
    runner = CliRunner()
    roster = tmp_path / "roster.csv"
    roster.write_text("npi,taxonomy,credential,effective,expires\n1234567893,207Q00000X,ISCD,,\n")
    assert runner.invoke(main, ["directory", "import", str(roster)]).exit_code == 0
    assert runner.invoke(main, ["directory", "import", "--nppes", str(src)]).exit_code == 0
    default = tmp_path / "state" / "edi-gate" / "directory.sqlite"
    assert default.is_file()
    result = runner.invoke(main, ["directory", "stats"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert str(default) in lines[0]
    nppes = next(ln for ln in lines if ln.split()[0] == "nppes")
    assert (
        f"{len(taxonomies)} NPIs" in nppes and "npidata_pfile" in nppes and "imported 20" in nppes
    )
    assert "1 NPIs" in next(ln for ln in lines if ln.split()[0] == "roster")
    result = runner.invoke(main, ["directory", "lookup", "1234567893", "--on", "2025-01-01"])
    assert "207Q00000X" in result.output and "ISCD" in result.output


@pytest.mark.parametrize(
    "args,status,words",
    [
        (["directory", "import", "missing.csv"], 66, "no such file"),
        (["directory", "import", "--nppes", "a.csv", "b.csv"], 2, "one data file"),
        (["directory", "import", "bad_roster.csv"], 2, "directory unchanged"),
        (["directory", "import", "--nppes", "bad_roster.csv"], 2, "not an NPPES data file"),
        (["directory", "stats", "--directory", "nothing.sqlite"], 2, "no provider directory"),
        (["check", "x.837", "--directory", "junk.sqlite"], 2, "provider directory unusable"),
    ],
)
def test_bad_input_is_one_line_and_its_exit_status(tmp_path, monkeypatch, args, status, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "b.csv").write_text("x\n")
    (tmp_path / "bad_roster.csv").write_text("npi,taxonomy\n1,2\n")
    (tmp_path / "junk.sqlite").write_bytes(b"junk" * 1000)
    (tmp_path / "x.837").write_bytes(DEMO.read_bytes())
    result = CliRunner().invoke(main, args)
    assert result.exit_code == status, result.output
    message = [ln for ln in result.output.splitlines() if not ln.startswith("{")]  # JSON log
    assert len(message) == 1 and words in message[0] and "Traceback" not in result.output
