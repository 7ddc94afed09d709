"""`rules lint` checks each file as what it is (ruleset, roster, partners), and reports every
problem of a roster, unknown credentials included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from edi_gate.resources import example_conf
from edi_gate.rules.lint import PARTNERS, ROSTER, RULESET, file_kind, lint
from tests.pipeline.support import EDI_GATE

HEADER = "npi,taxonomy,credential,effective,expires\n"
SHIPPED = Path(__file__).resolve().parents[2] / "edi_gate" / "data" / "rulesets"


def conf_copy(tmp_path: Path) -> Path:
    """The example conf directory beside a copy of the shipped rulesets (as partners.toml
    expects: ../rulesets/)."""
    shutil.copytree(SHIPPED, tmp_path / "rulesets")
    conf = tmp_path / "conf"
    conf.mkdir()
    for name in ("partners.toml", "roster.csv"):
        shutil.copy(example_conf(name), conf / name)
    return conf


def test_the_example_conf_directory_is_clean(tmp_path: Path):
    conf = conf_copy(tmp_path)
    assert file_kind(conf / "partners.toml") == PARTNERS
    assert file_kind(conf / "roster.csv") == ROSTER
    assert file_kind(tmp_path / "rulesets" / "imaging-2024.toml") == RULESET
    assert lint([conf]) == []
    result = subprocess.run(
        [str(EDI_GATE), "rules", "lint", str(conf)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("ok: "), result.stdout


def test_a_bad_partners_file_is_checked_by_the_partners_loader(tmp_path: Path):
    conf = conf_copy(tmp_path)
    text = (conf / "partners.toml").read_text()
    typo = text.replace('outbox = "synsubmit01"', 'outbox = "synsubmit01"\nsocpe = "line"')
    (conf / "partners.toml").write_text(typo)
    problems = lint([conf])
    assert len(problems) == 1, problems
    assert "partners.toml: line " in problems[0] and "unknown key 'socpe'" in problems[0]


def test_a_partners_file_names_a_bad_roster(tmp_path: Path):
    conf = conf_copy(tmp_path)
    (conf / "roster.csv").write_text(HEADER + "1234567893,207Q00000X,AIUMX,,\n")
    problems = lint([conf / "partners.toml"])  # the roster is found through the partners file
    assert len(problems) == 1 and "roster.csv: line 2: credential 'AIUMX'" in problems[0]


def test_every_roster_problem_is_reported(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "# comment\n"
        + HEADER
        + "1234567890,207Q00000X,,,\n"  # bad check digit
        + "1234567893,207Q00000X,,,\n"  # fine
        + "1234567893,,AIUMX,,\n"  # unknown credential
        + "1234567893,207Q0000X,,,\n"  # malformed taxonomy
        + "1234567893,207Q00000X,,2025-02-01,2025-01-01\n"  # expires before effective
        + "1234567893,,IAC,2025-01-01,\n"  # fine
    )
    problems = lint([roster])
    assert [p.split(": ")[1] for p in problems] == ["line 3", "line 5", "line 6", "line 7"]
    assert "Luhn" in problems[0]
    assert (
        "credential 'AIUMX' is not one the rulesets check (known: AIUM, ASBS, IAC, ISCD)"
        in (problems[1])
    )


def test_credentials_known_are_those_of_the_rulesets_linted(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "1234567893,,ISCD,,\n")
    ruleset = tmp_path / "no-iscd.toml"
    text = (SHIPPED / "imaging-2024.toml").read_text().replace('["ISCD"]', '["ISCD2"]')
    ruleset.write_text(text)
    assert lint([roster]) == []
    problems = lint([roster, ruleset])
    assert any("credential 'ISCD'" in p for p in problems), problems


def test_a_bad_header_stops_that_roster_only(tmp_path: Path):
    (tmp_path / "a.csv").write_text("npi,taxonomy\n1234567893,207Q00000X\n")
    (tmp_path / "b.csv").write_text(HEADER + "1234567890,207Q00000X,,,\n")
    problems = lint([tmp_path])
    assert len(problems) == 2 and "a.csv: line 1: header" in problems[0]
    assert "b.csv: line 2" in problems[1]
