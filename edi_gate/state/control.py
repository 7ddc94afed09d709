"""The control-number authority: ISA13/GS06/ST02 of edi-gate's acknowledgments, kept in the state
database so every process of an installation (filters, watchers, ``ack``) draws from one
sequence and no partner ever receives the same ISA13 twice.

A number is taken in its own transaction when it is handed out; a run that fails later leaves a
gap, which X12 allows, and never a number issued twice.
"""

from __future__ import annotations

import json
from pathlib import Path

from edi_gate.acks.state import COUNTERS, MAXIMUM, ControlNumbers, advance
from edi_gate.state.errors import StateError
from edi_gate.state.store import StateStore

DEFAULT_AUTHORITY = "acknowledgments"


class SharedControlNumbers(ControlNumbers):
    """:class:`ControlNumbers` drawn from the state database (a drop-in for the ack writers)."""

    def __init__(
        self, store: StateStore, *, authority: str = DEFAULT_AUTHORITY, start: int = 1
    ) -> None:
        super().__init__(None, start=start)
        self.store = store
        self.authority = authority

    def peek(self) -> dict[str, int]:
        with self.store.transaction() as db:
            return {name: self._last(db, name) for name in COUNTERS}

    def _next(self, name: str) -> int:
        with self.store.transaction() as db:
            value = advance(self._last(db, name))
            db.execute(
                "INSERT INTO control_numbers (authority, counter, last) VALUES (?, ?, ?) "
                "ON CONFLICT (authority, counter) DO UPDATE SET last = excluded.last",
                (self.authority, name, value),
            )
            return value

    def _last(self, db, name: str) -> int:
        row = db.execute(
            "SELECT last FROM control_numbers WHERE authority = ? AND counter = ?",
            (self.authority, name),
        ).fetchone()
        if row is None:
            return self.start - 1
        if not isinstance(row[0], int) or not 0 <= row[0] <= MAXIMUM:
            message = f"control number {name} is not 0..{MAXIMUM}"
            raise StateError(message, path=str(self.store.path))
        return row[0]

    def continue_after(self, legacy: Path) -> None:
        """Never go below the numbers a JSON control-number file (an older edi-gate's, or a
        ``--control-state`` used before) has issued: a missing file changes nothing."""
        try:
            raw = json.loads(legacy.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise StateError(f"unreadable control-number state: {exc}", path=str(legacy)) from None
        if not isinstance(raw, dict):
            raise StateError("control-number state must be a JSON object", path=str(legacy))
        with self.store.transaction() as db:
            for name in COUNTERS:
                value = raw.get(name)
                valid = isinstance(value, int) and 0 <= value <= MAXIMUM
                if valid and value > self._last(db, name):
                    db.execute(
                        "INSERT INTO control_numbers (authority, counter, last) "
                        "VALUES (?, ?, ?) ON CONFLICT (authority, counter) "
                        "DO UPDATE SET last = excluded.last",
                        (self.authority, name, value),
                    )
