"""`edi-gate rules list/show` and `--ruleset DIR` as an analyst uses them (issue 16 item 13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from edi_gate.cli import main
from tests.helpers import FIXTURES

from .conftest import RULESET


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_show_priv006_lists_the_certification_groups_it_enforces():
    out = invoke("rules", "show", "PRIV006").output
    assert "Bone densitometry: ISCD" in out and "77078" in out
    assert "Breast ultrasound: AIUM or ASBS" in out and "ASBS first period only" in out
    assert "Vascular ultrasound: IAC" in out
    # not the MRI/CT/PET families nor every privileging table
    assert "mri [" not in out and "Hand Surgery" not in out


def test_show_names_the_class_and_the_case_file():
    out = invoke("rules", "show", "GUID003").output
    assert "class:    edi_gate.rules.guidance.UsGuidanceByNpp" in out
    assert "cases:    tests/rules/cases/GUID003.toml" in out
    assert (RULESET.parents[3] / "tests/rules/cases/GUID003.toml").is_file()
    declared = invoke("rules", "show", "GUID002").output
    assert "SameDayEdit (declared in the ruleset" in declared
    assert "bypass:   none" in declared


def test_list_prints_the_source_column_its_help_promises():
    assert "source" in invoke("rules", "list", "--help").output
    lines = invoke("rules", "list").output.splitlines()
    assert lines[1].split()[:4] == ["ID", "STATUS", "ON", "SOURCE"]
    row = next(ln for ln in lines if ln.startswith("GUID003"))
    assert row.split()[3] == "002"


def test_list_on_a_date_without_ruleset_is_one_line_exit_2():
    result = CliRunner().invoke(main, ["rules", "list", "--on", "2022-06-01"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no ruleset in force on 2022-06-01" in result.output
    assert "Traceback" not in result.output


def test_ruleset_dir_is_accepted(tmp_path: Path):
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    shutil.copy(RULESET, rulesets / RULESET.name)
    result = invoke("check", str(FIXTURES / "demo.837"), "--ruleset", str(rulesets))
    assert result.exit_code in (0, 1), result.output
    listed = invoke("rules", "list", "--ruleset", str(rulesets))
    assert listed.exit_code == 0 and "imaging-2024.05" in listed.output


def test_replay_summary_names_the_rulesets(tmp_path: Path):
    out = tmp_path / "out"
    result = invoke("replay", str(FIXTURES / "demo.837"), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Rulesets: imaging-2024.05 (2023-01-01 .. open)" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rulesets"] == ["imaging-2024.05 (2023-01-01 .. open)"]
