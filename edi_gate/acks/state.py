"""Control numbers for acknowledgments: ISA13, GS06 and ST02 counters, optionally persisted.

Without a state file the counters live in memory and start at ``start``. With one, every number
handed out is recorded at once: the file is locked (``fcntl.flock`` on a sibling ``.lock`` file,
which is never replaced), read, incremented and rewritten atomically (temporary file + rename), so
two pipeline runs sharing the file never hand out the same number and a crash never leaves a
half-written file. Numbers of an aborted run are not reused (a gap, which X12 allows). The file
holds the last number issued for each counter::

    {"interchange": 12, "group": 12, "transaction": 40}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edi_gate.state.errors import StateError

COUNTERS = ("interchange", "group", "transaction")
MAXIMUM = 999_999_999  # ISA13 is 9 digits, GS06 and ST02 at most 9 characters


class ControlNumbers:
    """Hands out ISA13 / GS06 / ST02 numbers; wraps from 999999999 back to 1."""

    def __init__(self, state_path: str | os.PathLike[str] | None = None, *, start: int = 1) -> None:
        if not 1 <= start <= MAXIMUM:
            raise ValueError(f"control numbers start between 1 and {MAXIMUM}, not {start}")
        self.path = Path(state_path) if state_path is not None else None
        self.start = start
        self._memory = {name: start - 1 for name in COUNTERS}

    def interchange(self) -> int:
        """Next ISA13 (and TA1 interchange) control number."""
        return self._next("interchange")

    def group(self) -> int:
        """Next GS06 group control number."""
        return self._next("group")

    def transaction(self) -> int:
        """Next ST02 transaction set control number."""
        return self._next("transaction")

    def save(self) -> None:
        """Nothing to do: each number is recorded in the state file when it is handed out.

        Reserving at once (not at the end of a run) is what keeps two concurrent runs from
        issuing the same number; an aborted run leaves a gap, which X12 allows.
        """

    def peek(self) -> dict[str, int]:
        """The last number issued per counter (start - 1 when none yet)."""
        if self.path is None:
            return dict(self._memory)
        with self._locked():
            return self._read()

    def _next(self, name: str) -> int:
        if self.path is None:
            self._memory[name] = advance(self._memory[name])
            return self._memory[name]
        with self._locked():
            state = self._read()
            state[name] = advance(state[name])
            self._write(state)
            return state[name]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        # 0600: another local user must not be able to hold the lock (and stall every run).
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _read(self) -> dict[str, int]:
        assert self.path is not None
        state = {name: self.start - 1 for name in COUNTERS}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return state
        except (OSError, ValueError) as exc:
            message = f"unreadable control-number state: {exc}"
            raise StateError(message, path=str(self.path)) from None
        if not isinstance(raw, dict):
            raise StateError("control-number state must be a JSON object", path=str(self.path))
        for name in COUNTERS:
            value = raw.get(name, state[name])
            if not isinstance(value, int) or not 0 <= value <= MAXIMUM:
                raise StateError(f"{name} must be an integer 0..{MAXIMUM}", path=str(self.path))
            state[name] = value
        return state

    def _write(self, state: dict[str, int]) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def advance(value: int) -> int:
    """The number after ``value``: 1 after 999999999 (ISA13 has nine digits)."""
    return 1 if value >= MAXIMUM else value + 1
