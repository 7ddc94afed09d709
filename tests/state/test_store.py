"""The state database: private, refuses what is not its own, one-line errors for corrupt files."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from edi_gate.state.control import SharedControlNumbers
from edi_gate.state.errors import StateError
from edi_gate.state.paths import default_state_dir
from edi_gate.state.store import StateStore


def test_default_state_dir_follows_xdg(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "edi-gate"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the spec: relative is invalid
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / ".local" / "state" / "edi-gate"


def test_database_and_directory_are_private(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state" / "db.sqlite3")
    SharedControlNumbers(store).interchange()
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    for path in (tmp_path / "state").iterdir():  # the database and its -wal/-shm files
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


@pytest.mark.parametrize(
    "content", [b"garbage, not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 200]
)
def test_corrupt_database_is_a_state_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StateError, match="db.sqlite3"):
        SharedControlNumbers(StateStore(path)).interchange()


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "theirs.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    with pytest.raises(StateError, match="not an edi-gate state database"):
        StateStore(path).connect()
    assert path.read_bytes() == before


def test_full_disk_is_an_os_error_not_a_config_error(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "db")
    error = store.error(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(error, OSError) and not isinstance(error, StateError)
    assert isinstance(
        store.error(sqlite3.DatabaseError("database disk image is malformed")), StateError
    )
    assert "busy" in str(store.error(sqlite3.OperationalError("database is locked")))
