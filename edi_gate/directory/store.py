"""The provider directory in one SQLite file: imports (one transaction per source) and lookups.

One table of dated statements, clustered by (source, NPI), so a lookup is one index seek per
source and replacing a source is one range delete::

    entry(source, npi, kind, code, effective, expires, is_primary)
        kind T: a taxonomy   C: a credential   D: a deactivation (effective..expires)
             E: the NPPES entity type (code 1 individual, 2 organization)
        dates ISO 8601, '' when open-ended
    import(source, file, imported_at, npis, rows, skipped)

An import replaces everything the last import of its source said, in ONE transaction: a failed,
interrupted or killed import leaves the previous directory as it was (WAL mode: readers keep
reading the old snapshot while an import runs). Interpreted code: a lookup here runs only on a
cache miss of ``ProviderDirectory`` (edi_gate.directory.lookup).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.request import pathname2url

from edi_gate.directory.lookup import NPPES, ROSTER, SOURCES, Listing, Period
from edi_gate.directory.nppes import NppesRecord, read_nppes
from edi_gate.errors import ConfigError
from edi_gate.rules.roster import Roster

SCHEMA_VERSION = 1
FILE_NAME = "directory.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS entry (
    source TEXT NOT NULL,
    npi TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    effective TEXT NOT NULL,
    expires TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    PRIMARY KEY (source, npi, kind, code, effective, expires)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS import (
    source TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    npis INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    skipped INTEGER NOT NULL
);
"""
INSERT = "INSERT OR IGNORE INTO entry VALUES (?, ?, ?, ?, ?, ?, ?)"
LOOKUP = (
    "SELECT source, kind, code, effective, expires, is_primary FROM entry "
    f"WHERE source IN ({', '.join('?' * len(SOURCES))}) AND npi = ?"
)

Row = tuple[str, str, str, str, str, str, int]


def state_dir() -> Path:
    """$XDG_STATE_HOME/edi-gate, else ~/.local/state/edi-gate (XDG base directory spec)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "edi-gate"


def default_path() -> Path:
    """Where `directory import` writes and every command looks when --directory is not given."""
    return state_dir() / FILE_NAME


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _fail(path: Path, error: sqlite3.Error) -> ConfigError:
    return ConfigError(f"provider directory unusable: {error}", path=str(path))


# -- writing -------------------------------------------------------------------------------------


def connect_for_import(path: Path) -> sqlite3.Connection:
    """Open (creating private, 0600 in a 0700 directory) the directory file for an import."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        message = f"cannot create directory file: {error.strerror}"
        raise ConfigError(message, path=str(path)) from None
    try:
        con = sqlite3.connect(path, isolation_level=None, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise ConfigError(f"directory schema {version} is not {SCHEMA_VERSION}", path=str(path))
        con.executescript(SCHEMA)
        con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sqlite3.Error as error:
        raise _fail(path, error) from None
    return con


@dataclass
class ImportResult:
    source: str
    file: str
    npis: int = 0
    rows: int = 0
    skipped: int = 0


def replace_source(
    path: Path, source: str, file: str, rows: Iterable[Row], result: ImportResult
) -> ImportResult:
    """Replace every row of ``source`` by ``rows`` in one transaction (all or nothing).

    ``rows`` is consumed as a stream (bounded memory); ``result`` is filled in as it goes.
    """
    con = connect_for_import(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute("DELETE FROM entry WHERE source = ?", (source,))
            con.executemany(INSERT, rows)
            con.execute(
                "INSERT OR REPLACE INTO import VALUES (?, ?, ?, ?, ?, ?)",
                (
                    source,
                    Path(file).name,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    result.npis,
                    result.rows,
                    result.skipped,
                ),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the import into the main file
    except sqlite3.Error as error:
        raise _fail(path, error) from None
    finally:
        con.close()
    return result


def roster_rows(roster: Roster, result: ImportResult) -> Iterator[Row]:
    """The roster's rows as directory entries (source ``roster``)."""
    npis: set[str] = set()
    for row in roster.rows:
        npis.add(row.npi)
        start, end = _iso(row.effective), _iso(row.expires)
        if row.taxonomy:
            result.rows += 1
            yield (ROSTER, row.npi, "T", row.taxonomy, start, end, 0)
        if row.credential:
            result.rows += 1
            yield (ROSTER, row.npi, "C", row.credential, start, end, 0)
    result.npis = len(npis)


def nppes_rows(
    records: Iterable[NppesRecord | None], result: ImportResult, progress: Callable[[], None]
) -> Iterator[Row]:
    """NPPES records as directory entries (source ``nppes``), counting and skipping bad rows."""
    for count, record in enumerate(records, 1):
        if count % 8192 == 0:
            progress()
        if record is None:
            result.skipped += 1
            continue
        result.npis += 1
        npi = record.npi
        if record.entity_type:
            yield (NPPES, npi, "E", record.entity_type, "", "", 0)
        for code, primary in record.taxonomies:
            result.rows += 1
            yield (NPPES, npi, "T", code, "", "", int(primary))
        if record.deactivated is not None:
            result.rows += 1
            yield (
                NPPES,
                npi,
                "D",
                "",
                record.deactivated.isoformat(),
                _iso(record.inactive_until()),
                0,
            )
    progress()


def import_roster(path: Path, roster: Roster, file: str) -> ImportResult:
    result = ImportResult(ROSTER, file)
    return replace_source(path, ROSTER, file, roster_rows(roster, result), result)


def import_nppes(path: Path, file: Path, *, progress: bool | None = None) -> ImportResult:
    """Stream an NPPES data dissemination CSV into the directory (replacing the last one)."""
    result = ImportResult(NPPES, str(file))
    try:
        binary = open(file, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise ConfigError(f"cannot read NPPES file: {error.strerror}", path=str(file)) from None
    show = sys.stderr.isatty() if progress is None else progress
    with binary:
        import io

        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        if show:
            import click

            size = os.fstat(binary.fileno()).st_size
            with click.progressbar(length=size, label="nppes", file=sys.stderr) as bar:
                seen = [0]

                def tick() -> None:
                    position = binary.tell()
                    bar.update(position - seen[0])
                    seen[0] = position

                rows = nppes_rows(read_nppes(text, str(file)), result, tick)
                return _replace_reading(path, file, rows, result)
        rows = nppes_rows(read_nppes(text, str(file)), result, lambda: None)
        return _replace_reading(path, file, rows, result)


def _replace_reading(
    path: Path, file: Path, rows: Iterator[Row], result: ImportResult
) -> ImportResult:
    import csv

    try:
        return replace_source(path, NPPES, str(file), rows, result)
    except csv.Error as error:
        raise ConfigError(f"unreadable CSV ({error}); nothing imported", path=str(file)) from None


# -- reading -------------------------------------------------------------------------------------


class SqliteSource:
    """The SQLite directory as a lookup source: one indexed read per NPI (cached by the caller).

    Opened read-only and lazily, and again after a fork (a replay worker must not share its
    parent's connection).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._version = -1

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():
            uri = f"file:{pathname2url(str(self.path.resolve()))}?mode=ro"
            try:
                con = sqlite3.connect(uri, uri=True, check_same_thread=False)
                version = con.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error as error:
                raise _fail(self.path, error) from None
            if version != SCHEMA_VERSION:
                raise ConfigError(
                    "not an edi-gate provider directory (run `edi-gate directory import`)",
                    path=str(self.path),
                )
            self._con, self._pid = con, os.getpid()
            self._version = con.execute("PRAGMA data_version").fetchone()[0]
        return self._con

    def check(self) -> None:
        """Open now, so a bad file fails at start-up with one line, not mid-run."""
        self._connection()

    def listings(self, npi: str) -> list[Listing]:
        try:
            found = self._connection().execute(LOOKUP, (*SOURCES, npi)).fetchall()
        except sqlite3.Error as error:
            raise _fail(self.path, error) from None
        if not found:
            return []
        parts: dict[str, tuple[list[Period], list[Period], list[Period], list[str]]] = {}
        for source, kind, code, effective, expires, primary in found:
            taxonomies, credentials, inactive, entity = parts.setdefault(source, ([], [], [], []))
            if kind == "E":
                entity.append(code)
                continue
            period = Period(code, _day(effective), _day(expires), bool(primary))
            if kind == "T":
                taxonomies.append(period)
            elif kind == "C":
                credentials.append(period)
            elif kind == "D":
                inactive.append(period)
        return [
            Listing(s, npi, t, c, d, e[0] if e else "")
            for s in SOURCES
            if s in parts
            for t, c, d, e in (parts[s],)
        ]

    def changed(self) -> bool:
        """True once after another process committed an import (PRAGMA data_version)."""
        if self._con is None:
            return False
        version = self._connection().execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version = version
            return True
        return False

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


@dataclass
class SourceStats:
    source: str
    file: str
    imported_at: str
    npis: int
    rows: int
    skipped: int


def stats(path: Path) -> list[SourceStats]:
    """What each source's last import brought (counted when it was imported)."""
    source = SqliteSource(path)
    try:
        rows = source._connection().execute(
            "SELECT source, file, imported_at, npis, rows, skipped FROM import ORDER BY source"
        )
        return [SourceStats(*row) for row in rows]
    except sqlite3.Error as error:
        raise _fail(path, error) from None
    finally:
        source.close()
