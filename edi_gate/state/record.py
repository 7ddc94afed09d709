"""The duplicate record: interchanges (and optionally claims) seen, per sender, for a window.

An interchange is known by its sender (ISA05 qualifier + ISA06 id, as trimmed text) and ISA13.
Accepting one is two steps, so that a run that fails forwards nothing *and* records nothing:

1. :meth:`InterchangeRecord.claim`, when its ISA is read: in one ``BEGIN IMMEDIATE`` transaction,
   refuse it when it was accepted within the window or is claimed right now by another live
   run; otherwise record it as claimed by this run. Two processes racing for the same interchange
   serialise on SQLite's write lock: exactly one claims it.
2. :meth:`InterchangeRecord.commit` once the run's outputs are committed (the claims become
   "accepted", their window starts); :meth:`InterchangeRecord.release` when the run fails (they
   are forgotten, so a re-send is processed).

A claim left by a run that died (its process gone, or older than ``STALE_AFTER``) is taken over.
A claim made under the same ``owner`` is this run's own: ``watch`` names the owner after its job,
so a job retried after a crash is not refused by its own first attempt.

Claims (``ClaimRecord``) are known by a SHA-256 of billing NPI, CLM01, service dates and charge
(no identifier is stored in clear); they are recorded when the run commits.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edi_gate.rules.findings import Finding
from edi_gate.state.store import StateStore
from edi_gate.x12.model import Claim
from edi_gate.x12.tokenizer import Segment

CLAIMED, ACCEPTED = "claimed", "accepted"
STALE_AFTER = 6 * 3600.0  # a claim this old is taken over even when its owner cannot be checked
DAY = 86_400.0


def parse_window(text: str) -> float:
    """``90d``, ``12h``, ``30m``, ``45s`` or plain seconds -> seconds; ``0`` turns the check off."""
    value = text.strip().lower()
    units = {"d": DAY, "h": 3600.0, "m": 60.0, "s": 1.0}
    scale = units.get(value[-1:], 1.0) if value else 1.0
    number = value[:-1] if value[-1:] in units else value
    try:
        seconds = float(number) * scale
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (e.g. 90d, 12h, 0)") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{text!r} is not a duration (e.g. 90d, 12h, 0)")
    return seconds


@dataclass(frozen=True)
class Verdict:
    """Whether an interchange may be processed, and if not, why (for logs: no content)."""

    accepted: bool
    reason: str = ""


def _alive(host: str, pid: int) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell: wait for STALE_AFTER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _when(seen: float) -> str:
    return datetime.fromtimestamp(seen, UTC).isoformat(timespec="seconds")


class InterchangeRecord:
    """This run's view of the interchanges record (see the module docstring)."""

    def __init__(
        self,
        store: StateStore,
        *,
        window: float,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.window = window
        self.host = socket.gethostname()
        self.owner = owner or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex}"
        self.clock = clock
        self._claimed: list[tuple[str, str]] = []

    def claim(self, sender: str, control: str) -> Verdict:
        """Claim interchange (``sender``, ``control``) for this run, or say why not."""
        key = (sender, control)
        if key in self._claimed:
            return Verdict(False, "repeated within this input")
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT state, owner, host, pid, seen FROM interchanges "
                "WHERE sender = ? AND control = ?",
                key,
            ).fetchone()
            if row is not None:
                state, owner, host, pid, seen = row
                if owner != self.owner:
                    if state == ACCEPTED and now - seen < self.window:
                        return Verdict(False, f"interchange accepted at {_when(seen)}")
                    if state == CLAIMED and now - seen < STALE_AFTER and _alive(host, pid):
                        return Verdict(False, "interchange being processed by another run")
            db.execute(
                "INSERT INTO interchanges (sender, control, state, owner, host, pid, seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender, control) DO UPDATE SET "
                "state = excluded.state, owner = excluded.owner, host = excluded.host, "
                "pid = excluded.pid, seen = excluded.seen",
                (sender, control, CLAIMED, self.owner, self.host, os.getpid(), now),
            )
        self._claimed.append(key)
        return Verdict(True)

    def commit(self) -> None:
        """The run's outputs are committed: its interchanges are accepted from now on."""
        if not self._claimed:
            return
        now = self.clock()
        with self.store.transaction() as db:
            db.executemany(
                "UPDATE interchanges SET state = ?, seen = ? "
                "WHERE sender = ? AND control = ? AND owner = ?",
                [(ACCEPTED, now, s, c, self.owner) for s, c in self._claimed],
            )
            if self.window > 0:  # what no window of this installation needs any more
                db.execute(
                    "DELETE FROM interchanges WHERE state = ? AND seen < ?",
                    (ACCEPTED, now - self.window),
                )
        self._claimed.clear()

    def release(self) -> None:
        """The run failed: forget its claims, so the same interchange sent again is processed."""
        if not self._claimed:
            return
        with self.store.transaction() as db:
            db.executemany(
                "DELETE FROM interchanges WHERE sender = ? AND control = ? AND owner = ? "
                "AND state = ?",
                [(s, c, self.owner, CLAIMED) for s, c in self._claimed],
            )
        self._claimed.clear()


def claim_key(billing_npi: str, claim_id: str, start: str, end: str, charge: str) -> str:
    """The record's key of a claim: a digest, so no identifier is stored in clear."""
    text = "\x1f".join((billing_npi, claim_id, start, end, charge))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class ClaimRecord:
    """Claims seen within the window (billing NPI, CLM01, service dates, charge)."""

    def __init__(
        self, store: StateStore, *, window: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.window = window
        self.clock = clock
        self._pending: set[str] = set()

    def seen(self, key: str) -> bool:
        """True when the claim was accepted within the window, or earlier in this run."""
        if key in self._pending:
            return True
        try:
            db = self.store.connect()
            row = db.execute("SELECT seen FROM claims WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as error:
            raise self.store.error(error) from None
        return row is not None and self.clock() - row[0] < self.window

    def add(self, key: str) -> None:
        """An accepted claim, recorded when the run commits."""
        self._pending.add(key)

    def commit(self) -> None:
        if not self._pending:
            return
        now = self.clock()
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO claims (key, seen) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET seen = excluded.seen",
                [(key, now) for key in self._pending],
            )
            db.execute("DELETE FROM claims WHERE seen < ?", (now - self.window,))
        self._pending.clear()

    def release(self) -> None:
        self._pending.clear()


def interchange_key(isa: Segment) -> tuple[str, str]:
    """(ISA05:ISA06, ISA13) of an ISA, trimmed: the sender and control number as the record
    knows them."""
    return f"{isa.element(5).strip()}:{isa.element(6).strip()}", isa.element(13).strip()


def admit_with(record: InterchangeRecord) -> Callable[[Segment], str | None]:
    """The filter's ``admit`` hook: None to process an interchange, or why it is refused."""

    def admit(isa: Segment) -> str | None:
        verdict = record.claim(*interchange_key(isa))
        return None if verdict.accepted else verdict.reason

    return admit


# 277CA for a duplicate claim: A3 "returned as unprocessable", 78 "Duplicate of a previously
# processed claim/line" (code source 508).
DUPLICATE_CLAIM_RULE = "DUPLICATE-CLAIM"


class DuplicateClaims:
    """The filter's duplicate-claim check (``--duplicate-claims reject``): a claim with the same
    billing NPI, CLM01, service dates and charge as one accepted within the window is rejected.

    A claim counts as seen once its transaction set is proven sound and the run commits; a set
    rejected for syntax records none of its claims (their corrected re-send is no duplicate).
    """

    def __init__(self, record: ClaimRecord) -> None:
        self.record = record
        self._set: list[str] = []

    @staticmethod
    def key(claim: Claim) -> str:
        start, end = claim.service_dates
        return claim_key(
            claim.billing.npi,
            claim.claim_id,
            start.isoformat() if start else "",
            end.isoformat() if end else "",
            claim.segments[0].element(2),
        )

    def finding(self, claim: Claim) -> Finding | None:
        """The finding that rejects ``claim`` as a duplicate, or None."""
        key = self.key(claim)
        if key not in self._set and not self.record.seen(key):
            return None
        message = "duplicate of a claim accepted before (billing NPI, CLM01, dates, charge)"
        return Finding(DUPLICATE_CLAIM_RULE, None, message, "A3", "78", "")

    def accepted(self, claim: Claim) -> None:
        self._set.append(self.key(claim))

    def end_set(self, sound: bool) -> None:
        if sound:
            for key in self._set:
                self.record.add(key)
        self._set.clear()
