"""Configuration files that cannot be read as text end the run with exit 2 and a message naming
the file and line, never a traceback (the roster, ruleset and partners files alike)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edi_gate.errors import ConfigError
from edi_gate.pipeline.partners import load_partners
from edi_gate.rules.engine import Engine
from edi_gate.rules.roster import load_roster
from tests.helpers import FIXTURES, REPO

NOT_UTF8 = b"# first line is fine\n\xff\xfe second line is not\n"


@pytest.mark.parametrize(
    "load",
    [load_roster, lambda p: Engine.load(p, None), load_partners],
    ids=["roster", "ruleset", "partners"],
)
def test_not_utf8_is_a_config_error_with_its_line(tmp_path: Path, load) -> None:
    path = tmp_path / "conf.txt"
    path.write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.path == str(path)
    assert caught.value.line == 2
    assert "not UTF-8 text (byte 0xff)" in caught.value.message


@pytest.mark.parametrize(
    "load",
    [load_roster, lambda p: Engine.load(p, None), load_partners],
    ids=["roster", "ruleset", "partners"],
)
def test_missing_file_is_a_config_error(tmp_path: Path, load) -> None:
    with pytest.raises(ConfigError, match="cannot read|not found"):
        load(tmp_path / "absent.toml")


def test_filter_exits_2_on_a_binary_roster(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(NOT_UTF8)
    done = subprocess.run(
        [sys.executable, "-m", "edi_gate.cli", "filter", str(FIXTURES / "demo.837"),
         "-o", str(tmp_path / "out.837"), "--roster", str(roster), "--log-format", "json"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{roster}: line 2: roster is not UTF-8 text" in done.stderr
    assert not (tmp_path / "out.837").exists()
