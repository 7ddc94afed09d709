"""The job journal: each claimed file's state on disk, the moves that finish it, and the test
hook that kills the watcher at a chosen state. The order in which these are used, and why it
makes every file decided exactly once, is :mod:`.protocol`'s."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edi_gate.pipeline.watch.config import WatchConfig
from edi_gate.pipeline.watch.names import is_safe_base

FILTERED_SUFFIX = ".filtered.837"
CA277_SUFFIX = ".277ca"
ACK999_SUFFIX = ".999"
DECISIONS_SUFFIX = ".decisions.jsonl"
ERROR_SUFFIX = ".error.json"
CLAIMING, STAGING, COMMITTED = "claiming", "staging", "committed"
OUTCOMES = ("archived", "quarantined")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
JOB_ID = re.compile(r"^[0-9]{19}-[0-9]{1,10}-[0-9]{1,10}$")
_COPY_CHUNK = 1 << 20


# -- test hook: crash at a chosen point of the state machine --------------------------------------

_CRASH_AT = os.environ.get("EDI_GATE_TEST_CRASH_AT", "")  # "POINT:N": SIGKILL at its Nth pass
_passes: dict[str, int] = {}


def checkpoint(point: str) -> None:
    """Where the crash tests kill the watcher: each state of a job, each move. A no-op unless
    ``EDI_GATE_TEST_CRASH_AT`` names the point (set only by tests)."""
    if not _CRASH_AT:
        return
    _passes[point] = _passes.get(point, 0) + 1
    wanted, _, count = _CRASH_AT.partition(":")
    if wanted == point and _passes[point] == int(count or 1):
        os.kill(os.getpid(), 9)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write (0600), fsync and rename into place: a reader sees the old manifest or the new one."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)


def own_regular_file(path: Path) -> bool:
    """A regular file this process's user owns (not a link a partner could have planted)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def entry_exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    return True


class MoveError(OSError):
    """A move of a committed job failed: the job stays committed and is retried."""


def remove_staged(staged: Path) -> None:
    """A staged output and the temporary files OutputSet may have left while writing it."""
    if own_regular_file(staged):
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
    with contextlib.suppress(OSError):
        for leftover in staged.parent.glob(f".{staged.name}.*.tmp"):
            if own_regular_file(leftover):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


def apply_moves(moves: list[tuple[Path, Path | None]]) -> list[str]:
    """Rename each source to its target (target None: delete the source). Idempotent: a move is
    done when its source is gone and its target exists, so a crash mid-way is finished by
    running it again. Staged outputs and snapshots are moved only when they are regular files
    this user owns. A failure raises MoveError (the caller keeps the job committed). Returns
    the moves found with neither source nor target (should never happen)."""
    missing = []
    touched: set[Path] = set()
    for index, (src, dst) in enumerate(moves):
        checkpoint(f"move{index}")
        if dst is None:
            with contextlib.suppress(FileNotFoundError):
                src.unlink()
                touched.add(src.parent)
            continue
        if not entry_exists(src):
            if not entry_exists(dst):
                missing.append(src.name)
            continue
        try:
            os.replace(src, dst)
        except OSError as error:
            reason = error.strerror or str(error)
            if not dst.parent.is_dir():
                reason = f"directory {dst.parent} is missing"
            raise MoveError(error.errno, f"cannot move into {dst.parent}: {reason}") from error
        touched.update((src.parent, dst.parent))
    for directory in touched:
        fsync_dir(directory)
    return missing


@dataclass
class Job:
    """One claimed input on its way through the state machine."""

    id: str
    name: str
    config: WatchConfig
    partner: str | None = None
    outbox: Path | None = None
    snapshot: bool = False
    fingerprint: tuple[int, int] | None = None
    offset: int = 0  # where its bytes start in the claimed file (a tail written after a job)
    decided: int | None = None  # where they end: the claimed file's size at the snapshot
    attempts: int = 0
    staged: dict[str, Path] = field(default_factory=dict)

    @property
    def claimed(self) -> Path:
        return self.config.claimed_dir / self.id

    @property
    def snap(self) -> Path:
        return self.config.snap_dir / self.id

    @property
    def manifest(self) -> Path:
        return self.config.jobs_dir / f"{self.id}.json"

    def stage_paths(self, outbox: Path) -> dict[str, Path]:
        """Every staged name this job may write: derived from its id and the directories."""
        cfg = self.config
        assert cfg.decisions is not None
        return {
            "filtered": cfg.out / f".{self.id}{FILTERED_SUFFIX}.staged",
            "decisions": cfg.decisions / f".{self.id}{DECISIONS_SUFFIX}.staged",
            "ca277": outbox / f".{self.id}{CA277_SUFFIX}.staged",
            "ack999": outbox / f".{self.id}{ACK999_SUFFIX}.staged",
            "q_ack999": cfg.quarantine / f".{self.id}{ACK999_SUFFIX}.staged",
            "q_error": cfg.quarantine / f".{self.id}{ERROR_SUFFIX}.staged",
        }

    def targets(self, outcome: str, outbox: Path) -> dict[str, tuple[Path, str]]:
        cfg = self.config
        assert cfg.decisions is not None
        if outcome == "archived":
            return {
                "filtered": (cfg.out, FILTERED_SUFFIX),
                "decisions": (cfg.decisions, DECISIONS_SUFFIX),
                "ca277": (outbox, CA277_SUFFIX),
                "ack999": (outbox, ACK999_SUFFIX),
                "input": (cfg.archive, ""),
            }
        return {
            "ack999": (outbox, ACK999_SUFFIX),
            "q_ack999": (cfg.quarantine, ACK999_SUFFIX),
            "q_error": (cfg.quarantine, ERROR_SUFFIX),
            "input": (cfg.quarantine, ""),
        }

    def moves(self, outcome: str, base: str, outbox: Path) -> list[tuple[Path, Path | None]]:
        """The moves of a committed job, re-derived (never read from the manifest)."""
        staged = self.stage_paths(outbox)
        moves: list[tuple[Path, Path | None]] = []
        for kind, (directory, suffix) in self.targets(outcome, outbox).items():
            target = directory / f"{base}{suffix}"
            if kind != "input":
                if own_regular_file(staged[kind]) or entry_exists(target):
                    moves.append((staged[kind], target))
            elif self.snapshot:
                moves.append((self.snap, target))
                # kept a while: a client may append more after a pause (see _sweep_done)
                moves.append((self.claimed, self.config.done_dir / self.id))
            else:
                moves.append((self.claimed, target))
        return moves

    def record(self, state: str, **extra: Any) -> None:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "state": state}
        data.update(partner=self.partner, snapshot=self.snapshot, offset=self.offset)
        if self.decided is not None:
            data["decided"] = self.decided
        data.update(extra)
        write_json_atomic(self.manifest, data)

    def open_claimed(self) -> tuple[int | None, str | None]:
        """An fd on the claimed input, or the reason it is quarantined unread."""
        try:
            fd = os.open(self.claimed, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ELOOP:
                return None, "refused: the claimed name became a symbolic link"
            if error.errno in (errno.EACCES, errno.EPERM):
                return None, "refused: the file cannot be read (permissions)"
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None, "refused: not a regular file"
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, PRIVATE_FILE)  # not the uploaded mode (a partner's file stays in 0700)
        return fd, None

    def take_snapshot(self, fd: int) -> bool:
        """Copy the claimed input into the work area (0600, ours): the exact bytes decided and
        archived. False when a client was still writing it during the copy."""
        before = os.fstat(fd)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        out = os.open(self.snap, flags, PRIVATE_FILE)
        try:
            offset = self.offset
            while chunk := os.pread(fd, _COPY_CHUNK, offset):
                os.write(out, chunk)
                offset += len(chunk)
            os.fsync(out)
        finally:
            os.close(out)
        after = os.fstat(fd)
        self.fingerprint = (after.st_size, after.st_mtime_ns)
        self.decided = after.st_size
        self.snapshot = True
        return (
            (before.st_size, before.st_mtime_ns) == self.fingerprint == (offset, after.st_mtime_ns)
        )

    def unchanged(self, fd: int) -> bool:
        """The claimed input is as it was at the snapshot (no client wrote to it since)."""
        after = os.fstat(fd)
        return self.fingerprint == (after.st_size, after.st_mtime_ns)

    def roll_back(self) -> None:
        """Delete what staging wrote (staged outputs, the snapshot); the claimed input stays."""
        for outbox in {self.outbox or self.config.acks, self.config.acks}:
            for staged in self.stage_paths(outbox).values():
                remove_staged(staged)
        if own_regular_file(self.snap):
            self.snap.unlink()
        self.snapshot = False


def read_manifest(path: Path) -> dict[str, Any] | None:
    """A manifest as written by this watcher, or None (unreadable, foreign, malformed)."""
    try:
        if not own_regular_file(path) or os.lstat(path).st_mode & 0o077:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("id") != path.name.removesuffix(".json"):
        return None
    if not JOB_ID.match(str(data["id"])) or not isinstance(data.get("name"), str):
        return None
    if data.get("state") not in (CLAIMING, STAGING, COMMITTED):
        return None
    for key in ("offset", "decided"):
        value = data.get(key, 0)
        if value is not None and (not isinstance(value, int) or value < 0):
            return None
    if data["state"] == COMMITTED and (
        data.get("outcome") not in OUTCOMES or not is_safe_base(data.get("base"))
    ):
        return None
    return data
