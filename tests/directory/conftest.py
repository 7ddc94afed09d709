"""Directories built from small files in the real formats (roster CSV, NPPES npidata_pfile)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.nppes import Provider, write
from edi_gate.directory import store
from edi_gate.rules.roster import parse_roster

ROSTER_HEADER = "npi,taxonomy,credential,effective,expires\n"


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads or writes the user's real state directory, or inherits --directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    # set first, so monkeypatch records the variable and removes what --directory sets in-process
    monkeypatch.setenv("EDI_GATE_DIRECTORY", "")
    monkeypatch.delenv("EDI_GATE_DIRECTORY")
    yield


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., Path]:
    """build(nppes=[Provider...], roster="rows") -> a directory file holding both."""

    def make(nppes: list[Provider] | None = None, roster: str | None = None) -> Path:
        db = tmp_path / "directory.sqlite"
        if nppes is not None:
            src = tmp_path / "npidata_pfile_20050523-20250608.csv"
            write(src, nppes)
            store.import_nppes(db, src, progress=False)
        if roster is not None:
            store.import_roster(db, parse_roster(ROSTER_HEADER + roster), "roster.csv")
        return db

    return make
