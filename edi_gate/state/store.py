"""The state database: one SQLite file, write-ahead log, every change one IMMEDIATE transaction.

``BEGIN IMMEDIATE`` takes SQLite's write lock at the start of the transaction, so a read followed
by a write (the next control number, "has this interchange been seen?") is atomic across
processes; readers are not blocked (WAL). A process waits up to ``timeout`` seconds for the lock.
The file and its directory are private (0600/0700): they say which partners sent what, when.

A file that is not an edi-gate state database (corrupt, truncated, another program's) raises
:class:`StateError` naming it: a configuration error (exit 2), never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from edi_gate.state.errors import StateError

# PRAGMA application_id: marks the file as edi-gate's ("EDIG"), so another program's SQLite
# database given by mistake is refused rather than altered.
APPLICATION_ID = 0x45444947
SCHEMA_VERSION = 1
DEFAULT_TIMEOUT = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS control_numbers (
    authority TEXT NOT NULL,
    counter TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (authority, counter)
);
CREATE TABLE IF NOT EXISTS interchanges (
    sender TEXT NOT NULL,
    control TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (sender, control)
);
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    seen REAL NOT NULL
);
"""


class StateStore:
    """The state database at ``path`` (created on first use, with its directory)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()

    def close(self) -> None:
        """Close this thread's connection (others close when their thread's objects go)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
        self._local.db = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        db = self.connect()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self.error(error) from None
        try:
            yield db
        except sqlite3.Error as error:
            _rollback(db)
            raise self.error(error) from None
        except BaseException:
            _rollback(db)
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise self.error(error) from None

    def connect(self) -> sqlite3.Connection:
        """The connection of this thread and process: SQLite connections must not cross a fork,
        and Python's are bound to the thread that opened them."""
        local = self._local
        if getattr(local, "db", None) is not None and local.pid == os.getpid():
            return local.db
        try:
            local.db = self._open()
        except sqlite3.Error as error:
            local.db = None
            raise self.error(error) from None
        local.pid = os.getpid()
        return local.db

    def _open(self) -> sqlite3.Connection:
        _private_dir(self.path.parent)
        try:
            # Created 0600 before SQLite opens it: SQLite would create it 0644 (umask), and gives
            # its -wal and -shm files the database's mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        except OSError as error:
            raise StateError(
                f"cannot open the state database: {error.strerror or error}", path=str(self.path)
            ) from None
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            # Checked and created in one write transaction: two processes opening a new file at
            # once see either nothing or the whole schema.
            db.execute("BEGIN IMMEDIATE")
            app = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app == 0 and not tables:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                version = SCHEMA_VERSION
            db.execute("COMMIT")
            if app not in (0, APPLICATION_ID) or (app == 0 and tables):
                raise StateError("not an edi-gate state database", path=str(self.path))
            if version != SCHEMA_VERSION:
                raise StateError(
                    f"state database schema {version} (this edi-gate knows {SCHEMA_VERSION})",
                    path=str(self.path),
                )
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a crash of the process (not a power cut).
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    def error(self, error: sqlite3.Error) -> Exception:
        """What a SQLite error means to the command line: a full disk or an I/O error is an
        OSError (exit 74, like any output that cannot be written); the rest a StateError."""
        text = str(error)
        if isinstance(error, sqlite3.OperationalError) and (
            "disk is full" in text or "disk I/O error" in text
        ):
            code = errno.ENOSPC if "full" in text else errno.EIO
            return OSError(code, f"state database: {error}", str(self.path))
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            message = f"state database busy for more than {self.timeout:g} s"
        elif isinstance(error, sqlite3.DatabaseError):
            message = f"corrupt or unreadable state database ({error})"
        else:
            message = f"state database error ({error})"
        return StateError(message, path=str(self.path))


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back, when SQLite has not already done so (it does after a full disk or I/O error)."""
    with contextlib.suppress(sqlite3.Error):
        db.execute("ROLLBACK")


def _private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) 0700; an existing one is left as it is."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise StateError(
            f"cannot create the state directory: {error.strerror or error}", path=str(directory)
        ) from None
