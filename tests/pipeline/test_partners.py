"""Partner file checks: mistakes stop start-up with the file and line (exit 2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edi_gate.errors import ConfigError
from edi_gate.pipeline.partners import load_partners
from tests.helpers import REPO
from tests.pipeline.support import EDI_GATE


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partners.toml"
    path.write_text(text)
    return path


def test_repository_partner_file_loads():
    book = load_partners(REPO / "edi_gate" / "data" / "conf" / "partners.toml")
    assert book.unknown_sender == "quarantine"
    demo = book.find("DEMOSUB01  ")
    data = REPO / "edi_gate" / "data"
    assert demo is not None and demo.ruleset == data / "rulesets" / "imaging-2024.toml"
    assert demo.roster == data / "conf" / "roster.csv"
    assert str(demo.outbox) == "demosub01"
    assert book.find("NOBODY") is None


def test_paths_are_relative_to_the_partner_file(tmp_path: Path):
    (tmp_path / "rules.toml").write_text("")
    book = load_partners(write(tmp_path, '[partners.A1]\nruleset = "rules.toml"\n'))
    assert book.partners["A1"].ruleset == tmp_path / "rules.toml"
    assert book.unknown_sender == "quarantine"  # the safe default


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('unknown_sender = "quarantine"\nfoo = 1\n', 2, "unknown key 'foo'"),
        ('[partners.A1]\nname = "x"\n\nrulset = "r.toml"\n', 4, "unknown key 'rulset'"),
        ('[partners.A1]\nruleset = "missing.toml"\n', 2, "does not exist"),
        ('[partners.A1]\nroster = "missing.csv"\n', 2, "is not a file"),
        ('[partners.A1]\noutbox = "../elsewhere"\n', 2, "stay under --acks"),
        ('[partners.A1]\nscope = "everything"\n', 2, "scope must be"),
        ('unknown_sender = "accept"\n', 1, "unknown_sender must be"),
        ('[partners.A1\nname = "x"\n', 1, "not valid TOML"),
        ('[partners."WAY-TOO-LONG-SENDER-ID"]\nname = "x"\n', 1, "1 to 15 characters"),
        ('outbox_mode = "0666"\n', 1, "only 0600 plus read"),
        ('\noutbox_mode = "rw"\n', 2, "octal mode"),
        ("outbox_group = true\n", 1, "group name or id"),
        ('[partners.A1]\nname = "x"\n\nname2 = 1\n', 4, "unknown key 'name2'"),
        ("[partners.A1]\n\nname = 5\n", 3, "name must be a string"),
        ('[partners.A1]\nrequire_ruleset = "yes"\n', 2, "require_ruleset must be true or false"),
        ('[partners.A1]\nruleset = ""\n', 2, "ruleset must be a non-empty string"),
        ("[partners.A1]\noutbox = 3\n", 2, "outbox must be a non-empty string"),
        ('[partners."A.B"]\nscope = "all"\n', 2, "partner 'A.B': scope must be one of claim, line"),
        ("[limits]\nmax_loop_bytes = -1\n", None, "max_loop_bytes"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_partners(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_partners_must_be_a_table(tmp_path: Path):
    with pytest.raises(ConfigError, match="partners must be a table"):
        load_partners(write(tmp_path, 'partners = "A1"\n'))


def test_an_outbox_that_is_a_file_is_refused(tmp_path: Path):
    (tmp_path / "box").write_text("")
    text = f'[partners.A1]\noutbox = "{tmp_path / "box"}"\n'
    with pytest.raises(ConfigError, match="exists and is not a directory") as caught:
        load_partners(write(tmp_path, text))
    assert caught.value.line == 2


def test_watch_exits_2_on_a_bad_partner_file(tmp_path: Path):
    path = write(tmp_path, '[partners.A1]\nruleset = "missing.toml"\n')
    result = subprocess.run(
        [
            str(EDI_GATE),
            "watch",
            str(tmp_path / "in"),
            "--out",
            str(tmp_path / "o"),
            "--acks",
            str(tmp_path / "a"),
            "--archive",
            str(tmp_path / "ar"),
            "--quarantine",
            str(tmp_path / "q"),
            "--once",
            "--partners",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{path}: line 2: partner 'A1': ruleset" in result.stderr
