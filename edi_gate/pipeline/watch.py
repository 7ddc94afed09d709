"""`edi-gate watch`: filter every complete file an SFTP client drops in an inbox, exactly once.

Why this shape: trading partners upload 837s over SFTP at any time, the watcher can be killed at
any moment (deploys, OOM, kill -9), the partner's names, modes and bytes are hostile, and a claim
must reach the payer neither zero nor two times.

Taking a file. Names a client is still writing (``*.part``, ``*.filepart``, ``*.tmp``,
``*.partial``, dot-files) are ignored; so are entries that are not regular files (symbolic links,
FIFOs, directories), each with one logged reason. A regular file is taken when it is complete:
as soon as inotify reports it was renamed into place (what careful clients do), or once its
(inode, size, mtime) has not changed for ``settle`` seconds, no client holds it open for writing
(inotify: no close after its last write), *and* it ends with a complete interchange (an IEA whose
control number matches its ISA13, nothing after it). A file whose tail stays incomplete is taken
after ``max_wait`` seconds anyway: the parser then quarantines it with a TA1. Files go in arrival
order (ctime: the last write or the rename into place).

Exactly once: a job is a small state machine whose state lives on disk in the work area, a
private directory (0700, owned by the watcher) outside the inbox and on its filesystem, so
claiming is an atomic rename. By default it is ``.INBOXNAME.edi-gate`` beside the inbox::

    work/jobs/ID.json {"state": "claiming", "name": ...}        CLAIMING   (the partner's name)
    inbox/NAME --rename--> work/claimed/ID                      CLAIMED
    work/claimed/ID --copy--> work/snap/ID (0600, ours)         the bytes decided and archived
    work/jobs/ID.json {"state": "staging"}                      STAGING    outputs written to
        hidden staged names (.ID.SUFFIX.staged) next to their targets
    work/jobs/ID.json {"state": "committed", "outcome", "base", "partner"}   COMMITTED
        each staged output renamed to BASE.SUFFIX; the snapshot renamed into --archive (or
        --quarantine) last; the claimed original deleted
    work/jobs/ID.json deleted                                   DONE

Manifests are not trusted for paths: recovery re-derives every source and target from the job id,
the configured directories and a validated base name, and moves only regular files the watcher
owns. A COMMITTED job is rolled forward (each move is idempotent), a STAGING job rolled back
(staged files and snapshot deleted; the claimed input is processed again), a CLAIMING job whose
rename never happened is dropped. A move that fails (a directory removed or read-only, a full
disk) leaves the job COMMITTED and is retried; it is never dropped. Bytes appended to a claimed
file after its snapshot (a client still writing) roll the job back: it is retried once quiet.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import grp
import json
import os
import re
import select
import stat
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from edi_gate import logs
from edi_gate.errors import ConfigError, X12Error
from edi_gate.pipeline.filter import RuleEngine, Summary
from edi_gate.pipeline.isa import interchange_complete, scan_interchanges
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.partners import Partner, PartnerBook
from edi_gate.pipeline.run import FilterTargets, run_filter_file

RECENT_EVENTS = 1000
INCOMPLETE_PATTERNS = ("*.part", "*.filepart", "*.tmp", "*.partial", "*.crdownload")
FILTERED_SUFFIX = ".filtered.837"
CA277_SUFFIX = ".277ca"
ACK999_SUFFIX = ".999"
DECISIONS_SUFFIX = ".decisions.jsonl"
ERROR_SUFFIX = ".error.json"
CLAIMING, STAGING, COMMITTED = "claiming", "staging", "committed"
OUTCOMES = ("archived", "quarantined")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
MAX_BASE_BYTES = 200  # a base plus ".N" and the longest suffix stays under NAME_MAX (255)
MAX_WAIT = 600.0  # seconds an incomplete tail may wait before it is taken (and quarantined)
RETRY_MAX = 30.0  # longest wait between two attempts at a job a fault stopped
_JOB_ID = re.compile(r"^[0-9]{19}-[0-9]{1,10}-[0-9]{1,10}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@,-]")
_COPY_CHUNK = 1 << 20

EngineLoader = Callable[[Path | None, Path | None], RuleEngine]


class WatchFatal(Exception):
    """A fault no file can get past (a corrupt control-number state): stop with an exit status."""


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


# -- names and files -----------------------------------------------------------------------------


def is_incomplete_name(name: str) -> bool:
    """Names an SFTP client is still writing (or hides): never taken."""
    return name.startswith(".") or any(fnmatch(name, p) for p in INCOMPLETE_PATTERNS)


def safe_base(name: str) -> str:
    """The name outputs and archive copies get: the partner's name when it is plain, else with
    every other character (escapes, bytes that are not UTF-8, '/') replaced by '_' and cut to
    MAX_BASE_BYTES, so ``BASE.N.decisions.jsonl`` always fits NAME_MAX."""
    text = _UNSAFE.sub("_", name).lstrip(".") or "unnamed"
    return text[:MAX_BASE_BYTES]


def is_safe_base(base: object) -> bool:
    return (
        isinstance(base, str) and 0 < len(base) <= MAX_BASE_BYTES + 12 and safe_base(base) == base
    )


def printable(name: str) -> str:
    """A partner's file name as logs may show it: escapes and undecodable bytes made visible."""
    return repr(name.encode("utf-8", "surrogateescape"))[2:-1][:300]


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write (0600), fsync and rename into place: a reader sees the old manifest or the new one."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    _fsync_dir(path.parent)


def _own_regular_file(path: Path) -> bool:
    """A regular file this process's user owns (not a link a partner could have planted)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def _exists(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    return True


# -- taking complete files ---------------------------------------------------------------------


@dataclass
class _Seen:
    signature: tuple[int, int, int]
    since: float
    ctime_ns: int
    verdict: str | None = None  # "complete" / "incomplete" / "not_x12" for this signature


class DropFolder:
    """The inbox as the watcher sees it: which files are complete, in arrival order."""

    def __init__(
        self,
        inbox: Path,
        settle: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_wait: float = MAX_WAIT,
        log=None,
    ):
        self.inbox = inbox
        self.settle = settle
        self.max_wait = max_wait
        self.clock = clock
        self.log = log or logs.get_logger()
        self._seen: dict[str, _Seen] = {}
        self._renamed: set[str] = set()
        self._writing: set[str] = set()  # inotify: written, not closed since
        self._reported: dict[str, str] = {}  # name -> reason already logged
        self._refused: dict[str, tuple[int, int, int]] = {}  # cannot be claimed as it is

    def mark_renamed(self, name: str) -> None:
        """inotify saw ``name`` renamed into place: complete now, no need to wait."""
        self._renamed.add(name)
        self._writing.discard(name)

    def mark_writing(self, name: str) -> None:
        """inotify saw ``name`` created or written: not complete until it is closed."""
        self._writing.add(name)
        self._renamed.discard(name)

    def mark_closed(self, name: str) -> None:
        self._writing.discard(name)

    def refuse(self, name: str, reason: str) -> None:
        """``name`` could not be claimed (a sticky inbox, a file edi-gate may not rename): left
        in the inbox, logged once, tried again only when it changes."""
        seen = self._seen.get(name)
        if seen is not None:
            self._refused[name] = seen.signature
        self._report(name, f"left in the inbox: {reason}")

    def _report(self, name: str, reason: str) -> None:
        if self._reported.get(name) != reason:
            self._reported[name] = reason
            self.log.warning("watch.skipped", file=printable(name), reason=reason)

    def poll(self) -> list[str]:
        """Look at the inbox; return the complete files, oldest arrival first."""
        now = self.clock()
        current: dict[str, _Seen] = {}
        try:
            entries = list(os.scandir(self.inbox))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if is_incomplete_name(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode):
                kind = (
                    "a symbolic link"
                    if stat.S_ISLNK(info.st_mode)
                    else ("a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file")
                )
                self._report(entry.name, f"left in the inbox: {kind}")
                continue
            signature = (info.st_ino, info.st_size, info.st_mtime_ns)
            before = self._seen.get(entry.name)
            if before is not None and before.signature == signature:
                current[entry.name] = before
            else:
                current[entry.name] = _Seen(signature, now, info.st_ctime_ns)
                if before is not None:
                    self._renamed.discard(entry.name)  # written again after the rename
        self._seen = current
        self._renamed &= set(current)
        self._writing &= set(current)
        self._refused = {n: sig for n, sig in self._refused.items() if n in current}
        self._reported = {
            n: r for n, r in self._reported.items() if n in current or _exists(self.inbox / n)
        }
        ready = [name for name, seen in current.items() if self._ready(name, seen, now)]
        ready.sort(key=lambda name: (current[name].ctime_ns, name))
        return ready

    def _ready(self, name: str, seen: _Seen, now: float) -> bool:
        if self._refused.get(name) == seen.signature:
            return False
        if name in self._renamed:
            return True
        quiet = now - seen.since
        if quiet < self.settle:
            return False
        if quiet >= self.max_wait:
            return True  # waited long enough: the parser says what is wrong with it
        if name in self._writing:
            return False
        if seen.verdict is None:
            seen.verdict = interchange_complete(self.inbox / name)
        if seen.verdict == "incomplete":
            self._report(name, "waiting: the file does not end with a complete interchange")
            return False
        return True

    def pending(self) -> bool:
        """Files seen that are not taken yet."""
        return bool(self._seen)

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)
        self._renamed.discard(name)
        self._writing.discard(name)
        self._reported.pop(name, None)


class Inotify:
    """Just enough inotify (through libc) to wake on new files and see renames into place."""

    IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100
    IN_Q_OVERFLOW = 0x4000
    _HEADER = struct.Struct("iIII")

    def __init__(self, directory: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        mask = self.IN_MODIFY | self.IN_CLOSE_WRITE | self.IN_MOVED_TO | self.IN_CREATE
        if libc.inotify_add_watch(self.fd, os.fsencode(directory), mask) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory} failed")

    @classmethod
    def open(cls, directory: Path) -> Inotify | None:
        """An inotify watch, or None where there is none (then the watcher only polls)."""
        try:
            return cls(directory)
        except (OSError, AttributeError):
            return None

    def wait(self, timeout: float, wake_fd: int) -> list[tuple[int, str]]:
        """Block until an event, ``wake_fd`` is readable, or ``timeout``; return (mask, name)."""
        ready, _, _ = select.select([self.fd, wake_fd], [], [], max(0.0, timeout))
        if self.fd not in ready:
            return []
        return self.read()

    def read(self) -> list[tuple[int, str]]:
        """The events queued now (none when there are none)."""
        events = []
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return events
            offset = 0
            while offset + self._HEADER.size <= len(data):
                _wd, mask, _cookie, length = self._HEADER.unpack_from(data, offset)
                offset += self._HEADER.size
                raw = data[offset : offset + length].rstrip(b"\0")
                offset += length
                events.append((mask, os.fsdecode(raw)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


# -- configuration and routing -----------------------------------------------------------------


def default_work(inbox: Path) -> Path:
    """Beside the inbox, never inside it: same filesystem (claiming is a rename), out of reach of
    the account that writes the inbox."""
    return inbox.parent / f".{inbox.name}.edi-gate"


@dataclass
class WatchConfig:
    """Directories and timing of one watcher."""

    inbox: Path
    out: Path
    acks: Path
    archive: Path
    quarantine: Path
    decisions: Path | None = None  # default: --out
    work: Path | None = None  # default: .INBOXNAME.edi-gate beside the inbox
    settle: float = 2.0
    interval: float = 1.0
    scope: str = "claim"
    control_state: Path | None = None  # default: WORK/control-numbers.json
    max_wait: float = MAX_WAIT
    create_dirs: bool = False
    outbox_mode: int | None = None  # acknowledgments in an outbox: this mode (default 0600)
    outbox_group: str | int | None = None  # ... and this group

    def __post_init__(self) -> None:
        self.decisions = self.decisions or self.out
        self.work = self.work or default_work(self.inbox)
        self.control_state = self.control_state or self.work / "control-numbers.json"

    @property
    def claimed_dir(self) -> Path:
        assert self.work is not None
        return self.work / "claimed"

    @property
    def jobs_dir(self) -> Path:
        assert self.work is not None
        return self.work / "jobs"

    @property
    def snap_dir(self) -> Path:
        assert self.work is not None
        return self.work / "snap"

    @property
    def done_dir(self) -> Path:
        assert self.work is not None
        return self.work / "done"


@dataclass
class Route:
    """What a file gets: its partner (None: unknown sender), rules, scope and ack outbox; or the
    reason it goes straight to quarantine."""

    partner: Partner | None
    engine: RuleEngine | None
    scope: str
    outbox: Path
    quarantine_reason: str | None = None

    @property
    def label(self) -> str:
        return self.partner.sender if self.partner else "-"


class Router:
    """Chooses the route of a file from the ISA06 senders of its interchanges."""

    def __init__(
        self,
        config: WatchConfig,
        loader: EngineLoader,
        partners: PartnerBook | None = None,
        ruleset: Path | None = None,
        roster: Path | None = None,
    ) -> None:
        self.config = config
        self.partners = partners
        self.ruleset, self.roster = ruleset, roster
        self._loader = loader
        self._engines: dict[tuple[Path | None, Path | None], RuleEngine] = {}

    def load_all(self) -> None:
        """Load every engine now, so a bad ruleset or roster stops start-up (ConfigError)."""
        self._engine(None, None)
        if self.partners is not None:
            for ruleset, roster in self.partners.engine_keys():
                self._engine(ruleset, roster)

    def policy(self) -> str:
        """The partner policy in force, as start-up states it."""
        if self.partners is None:
            return "no partners file: every sender is accepted with the default rules"
        known = len(self.partners.partners)
        if self.partners.unknown_sender == "quarantine":
            return f"{known} partners; files from any other sender are quarantined"
        return f"{known} partners; other senders get the default rules and --acks"

    def _engine(self, ruleset: Path | None, roster: Path | None) -> RuleEngine:
        key = (ruleset or self.ruleset, roster or self.roster)
        if key not in self._engines:
            self._engines[key] = self._loader(*key)
        return self._engines[key]

    def outbox_of(self, partner: Partner | None) -> Path:
        if partner is None or partner.outbox is None:
            return self.config.acks
        return partner.outbox if partner.outbox.is_absolute() else self.config.acks / partner.outbox

    def outboxes(self) -> list[Path]:
        boxes = [self.config.acks]
        if self.partners is not None:
            boxes += [self.outbox_of(p) for p in self.partners.partners.values()]
        return list(dict.fromkeys(boxes))

    def partner_named(self, sender: object) -> Partner | None:
        """The partner a manifest names (None: the default route, or a name not in the book)."""
        if not isinstance(sender, str) or self.partners is None:
            return None
        return self.partners.find(sender)

    def route(self, senders: Iterable[str]) -> Route:
        senders = sorted({s for s in senders if s})
        default = Route(None, self._engine(None, None), self.config.scope, self.config.acks)
        if self.partners is None or not senders:
            return default  # no partner routing, or no readable ISA: the parser will say why
        known = {s: self.partners.find(s) for s in senders}
        partners = {p.sender: p for p in known.values() if p is not None}
        unknown = [s for s, p in known.items() if p is None]
        if unknown and self.partners.unknown_sender == "quarantine":
            return Route(
                None,
                None,
                self.config.scope,
                self.config.acks,
                f"unknown sender {', '.join(unknown)} (not in the partners file)",
            )
        if len(partners) + (1 if unknown else 0) > 1:
            return Route(
                None,
                None,
                self.config.scope,
                self.config.acks,
                f"interchanges from several trading partners in one file: {', '.join(senders)}",
            )
        if not partners:
            return default
        partner = next(iter(partners.values()))
        return Route(
            partner,
            self._engine(partner.ruleset, partner.roster),
            partner.scope or self.config.scope,
            self.outbox_of(partner),
        )


# -- start-up checks -----------------------------------------------------------------------------


def _trusted_owner(info: os.stat_result) -> bool:
    return info.st_uid in (os.geteuid(), 0)


def check_directory(path: Path, role: str, *, partner_writable: bool = False) -> None:
    """Refuse a directory another user could use against the watcher: owned by someone else,
    or writable by group or others (the inbox may be group-writable: the partner's group
    writes there, but never world-writable). Raise ConfigError naming it and why."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(
            f"{role} directory does not exist (create it, or pass --create-dirs)", path=str(path)
        ) from None
    except OSError as error:
        raise ConfigError(f"{role} directory: {error.strerror}", path=str(path)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{role} is not a directory", path=str(path))
    if not _trusted_owner(info):
        raise ConfigError(
            f"{role} directory is owned by another user (uid {info.st_uid})", path=str(path)
        )
    unsafe = stat.S_IWOTH if partner_writable else stat.S_IWGRP | stat.S_IWOTH
    if info.st_mode & unsafe:
        who = "others" if info.st_mode & stat.S_IWOTH else "its group"
        raise ConfigError(
            f"{role} directory is writable by {who} (mode {stat.S_IMODE(info.st_mode):04o})",
            path=str(path),
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{role} directory is not writable by this user", path=str(path))


def check_parent(path: Path, role: str) -> None:
    """Nobody else may rename ``path`` away: its parent is ours (or root's) and not writable by
    group or others, unless sticky (then only its owner may rename it)."""
    parent = path.resolve().parent
    info = os.stat(parent)
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not _trusted_owner(info) or (writable and not info.st_mode & stat.S_ISVTX):
        raise ConfigError(
            f"the {role} lies in a directory other users can write to (mode "
            f"{stat.S_IMODE(info.st_mode):04o}, uid {info.st_uid}): choose --work elsewhere",
            path=str(path),
        )


def _inside(path: Path, directory: Path) -> bool:
    path, directory = path.resolve(), directory.resolve()
    return path == directory or directory in path.parents


def resolve_group(group: str | int | None) -> int | None:
    if group is None:
        return None
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise ConfigError(f"outbox group {group!r} does not exist") from None


# -- the job log -------------------------------------------------------------------------------


class MoveError(OSError):
    """A move of a committed job failed: the job stays committed and is retried."""


def _remove_staged(staged: Path) -> None:
    """A staged output and the temporary files OutputSet may have left while writing it."""
    if _own_regular_file(staged):
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
    with contextlib.suppress(OSError):
        for leftover in staged.parent.glob(f".{staged.name}.*.tmp"):
            if _own_regular_file(leftover):
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
        if not _exists(src):
            if not _exists(dst):
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
        _fsync_dir(directory)
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
                if _own_regular_file(staged[kind]) or _exists(target):
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
        _write_json_atomic(self.manifest, data)

    def roll_back(self) -> None:
        """Delete what staging wrote (staged outputs, the snapshot); the claimed input stays."""
        for outbox in {self.outbox or self.config.acks, self.config.acks}:
            for staged in self.stage_paths(outbox).values():
                _remove_staged(staged)
        if _own_regular_file(self.snap):
            self.snap.unlink()
        self.snapshot = False


def _read_manifest(path: Path) -> dict[str, Any] | None:
    """A manifest as written by this watcher, or None (unreadable, foreign, malformed)."""
    try:
        if not _own_regular_file(path) or os.lstat(path).st_mode & 0o077:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("id") != path.name.removesuffix(".json"):
        return None
    if not _JOB_ID.match(str(data["id"])) or not isinstance(data.get("name"), str):
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


# -- the watcher -------------------------------------------------------------------------------


class Watcher:
    """Takes complete files from the inbox and runs each through the job state machine."""

    def __init__(self, config: WatchConfig, router: Router, *, log=None) -> None:
        self.config = config
        self.router = router
        self.log = log or logs.get_logger()
        self.drop = DropFolder(config.inbox, config.settle, max_wait=config.max_wait, log=self.log)
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._lock_fd: int | None = None
        self._sequence = 0
        self._outbox_gid: int | None = None
        # Jobs a fault stopped (a full disk, a missing directory): retried, never dropped.
        self.retry: dict[str, tuple[float, Job]] = {}
        self._done: dict[str, tuple[int, str]] = {}  # done/ originals: decided bytes, name
        # The latest file events (for --once callers and tests); bounded so a watcher that runs
        # for months does not grow with every file it has seen.
        self.processed: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)

    # lifecycle

    def directories(self) -> list[tuple[Path, str]]:
        cfg = self.config
        assert cfg.decisions is not None and cfg.work is not None
        found = [
            (cfg.inbox, "inbox"),
            (cfg.out, "out"),
            (cfg.decisions, "decisions"),
            (cfg.archive, "archive"),
            (cfg.quarantine, "quarantine"),
        ]
        found += [(box, "outbox") for box in self.router.outboxes()]
        found.append((cfg.work, "work"))
        return list({path: (path, role) for path, role in found}.values())

    def prepare(self) -> None:
        """Check (or create, with ``create_dirs``) every directory, take the single-watcher lock,
        check renames can be atomic and the control-number state is readable."""
        cfg = self.config
        assert cfg.work is not None
        self._outbox_gid = resolve_group(cfg.outbox_group)
        if _inside(cfg.work, cfg.inbox):
            raise ConfigError("the work area must not be inside the inbox", path=str(cfg.work))
        for directory, role in self.directories():
            if not directory.exists() and (cfg.create_dirs or role == "work"):
                self._create(directory, role)
            check_directory(directory, role, partner_writable=role == "inbox")
        check_parent(cfg.work, "work area")
        for sub in (cfg.claimed_dir, cfg.jobs_dir, cfg.snap_dir, cfg.done_dir):
            if not sub.exists():
                self._create(sub, "work")
            check_directory(sub, "work")
        for role, path in (("work", cfg.work), ("work", cfg.claimed_dir)):
            if os.stat(path).st_mode & 0o077:
                raise ConfigError(f"the {role} area must be private (mode 0700)", path=str(path))
        if os.stat(cfg.inbox).st_dev != os.stat(cfg.claimed_dir).st_dev:
            raise ConfigError(
                "the work area must be on the inbox's filesystem (claiming is a rename)",
                path=str(cfg.work),
            )
        assert cfg.control_state is not None
        self._check_control_state(cfg.control_state)
        fd = os.open(cfg.work / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(fd)
            raise ConfigError(
                "another watcher is running on this work area", path=str(cfg.work)
            ) from error
        self._lock_fd = fd
        self.log.info("watch.partners", policy=self.router.policy())

    def _create(self, directory: Path, role: str) -> None:
        try:
            directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.chmod(directory, PRIVATE_DIR if role != "outbox" else self._outbox_dir_mode())
            if role == "outbox" and self._outbox_gid is not None:
                os.chown(directory, -1, self._outbox_gid)
        except OSError as error:
            raise ConfigError(
                f"cannot create the {role} directory: {error.strerror}", path=str(directory)
            ) from None

    def _outbox_dir_mode(self) -> int:
        mode = self.config.outbox_mode or 0
        return PRIVATE_DIR | (0o050 if mode & 0o040 else 0) | (0o005 if mode & 0o004 else 0)

    @staticmethod
    def _check_control_state(path: Path) -> None:
        from edi_gate.acks.state import ControlNumbers

        try:
            if path.exists():
                ControlNumbers(state_path=path).peek()
        except (ValueError, OSError) as error:
            raise ConfigError(
                f"control-number state is unusable: {error}", path=str(path)
            ) from None

    def stop(self) -> None:
        """Ask the watcher to stop after the current file (safe to call from a signal handler)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, once: bool = False) -> list[dict[str, Any]]:
        """Recover, then process: everything there (``once``) or until :meth:`stop`."""
        if self._lock_fd is None:
            self.prepare()
        try:
            self.recover()
            self._process_claimed()
            self._sweep_done()
            if once:
                self._run_once()
            else:
                self._run_forever()
        finally:
            self.close()
        return list(self.processed)

    def close(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_read = self._wake_write = -1

    def _run_once(self) -> None:
        ready = self.drop.poll()
        if self.config.settle > 0 and self.drop.pending():
            self._stop.wait(self.config.settle)
            ready = self.drop.poll()
        taken: set[str] = set()
        while ready and not self.stopping:
            for name in ready:
                if self.stopping:
                    return
                self._take(name)
                taken.add(name)
            ready = [name for name in self.drop.poll() if name not in taken]
        self._retry_due(force=True)
        self._sweep_done()

    def _run_forever(self) -> None:
        inotify = Inotify.open(self.config.inbox)
        self.log.info(
            "watch.started",
            inbox=str(self.config.inbox),
            inotify=inotify is not None,
            settle=self.config.settle,
            interval=self.config.interval,
        )
        try:
            while not self.stopping:
                if inotify is not None:
                    self._note_events(inotify.read())
                for name in self.drop.poll():
                    if self.stopping:
                        break
                    self._take(name)
                if self.stopping:
                    break
                self._retry_due()
                self._sweep_done()
                # Pending files that are not settled yet: look again soon, whatever inotify says.
                wait = self.config.interval
                if inotify is None:
                    self._stop.wait(wait)
                    continue
                self._note_events(inotify.wait(wait, self._wake_read))
        finally:
            if inotify is not None:
                inotify.close()
            self.log.info("watch.stopped", unfinished=len(self.retry))

    def _note_events(self, events: list[tuple[int, str]]) -> None:
        for mask, name in events:
            if mask & Inotify.IN_Q_OVERFLOW or is_incomplete_name(name):
                continue
            if mask & Inotify.IN_MOVED_TO:
                self.drop.mark_renamed(name)
            elif mask & (Inotify.IN_CREATE | Inotify.IN_MODIFY):
                self.drop.mark_writing(name)
            elif mask & Inotify.IN_CLOSE_WRITE:
                self.drop.mark_closed(name)

    # recovery

    def recover(self) -> dict[str, int]:
        """Finish or roll back whatever a crash left in the job log (see the module docstring).
        Nothing here can stop the watcher: a manifest it did not write is set aside and logged."""
        cfg = self.config
        counts = {"rolled_forward": 0, "rolled_back": 0, "set_aside": 0}
        for leftover in cfg.jobs_dir.glob(".*.tmp"):
            if _own_regular_file(leftover):
                leftover.unlink(missing_ok=True)  # a manifest rewrite cut short
        for manifest in sorted(cfg.jobs_dir.iterdir()):
            if manifest.name.startswith("."):
                continue
            data = _read_manifest(manifest)
            if data is None:
                self._set_aside(manifest)
                counts["set_aside"] += 1
                continue
            job = self._job_from(data)
            if data["state"] == COMMITTED:
                try:
                    self._finish(job, data["outcome"], data["base"])
                    action = "rolled_forward"
                except MoveError as error:
                    self._defer(job, f"{error.strerror}")
                    action = "still_committed"
                counts["rolled_forward"] += 1
            else:
                job.roll_back()
                if not _exists(job.claimed):
                    manifest.unlink(missing_ok=True)  # the claim never happened
                    action = "dropped_claim"
                else:
                    job.record(CLAIMING)
                    action = "rolled_back"
                counts["rolled_back"] += 1
            self.log.info("watch.recovered", job=job.id, file=printable(job.name), action=action)
        self._clean_snapshots()
        _fsync_dir(cfg.jobs_dir)
        return counts

    def _job_from(self, data: dict[str, Any]) -> Job:
        partner = self.router.partner_named(data.get("partner"))
        job = Job(data["id"], data["name"], self.config)
        job.partner = partner.sender if partner else None
        job.outbox = self.router.outbox_of(partner)
        job.snapshot = data.get("snapshot") is True  # which derived source the input move takes
        job.offset = data.get("offset") or 0
        job.decided = data.get("decided")
        return job

    def _set_aside(self, manifest: Path) -> None:
        """A manifest this watcher did not write (or cannot read): never acted on."""
        aside = self.config.jobs_dir.parent / "rejected"
        with contextlib.suppress(OSError):
            aside.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.replace(manifest, aside / manifest.name)
        with contextlib.suppress(OSError):
            if _exists(manifest):
                manifest.unlink()
        self.log.error(
            "watch.manifest_rejected",
            manifest=printable(manifest.name),
            reason="not a manifest this watcher wrote: set aside, not acted on",
        )

    def _clean_snapshots(self) -> None:
        jobs = {p.name.removesuffix(".json") for p in self.config.jobs_dir.glob("*.json")}
        for snap in self.config.snap_dir.iterdir():
            if snap.name not in jobs and _own_regular_file(snap):
                snap.unlink()

    # one file

    def _new_id(self) -> str:
        self._sequence += 1
        return f"{time.time_ns():019d}-{os.getpid()}-{self._sequence}"

    def _take(self, name: str) -> None:
        """Claim ``name`` by renaming it out of the inbox, then process it."""
        job = Job(self._new_id(), name, self.config)
        job.record(CLAIMING)
        checkpoint("claiming")
        try:
            os.rename(self.config.inbox / name, job.claimed)
        except OSError as error:
            job.manifest.unlink(missing_ok=True)
            if error.errno == errno.ENOENT:  # gone (its sender renamed or deleted it): fine
                self.drop.forget(name)
            else:
                self.drop.refuse(name, f"cannot be claimed: {error.strerror or error}")
            return
        _fsync_dir(self.config.claimed_dir)
        _fsync_dir(self.config.inbox)
        self.drop.forget(name)
        checkpoint("claimed")
        self._process(job)

    def _process_claimed(self) -> None:
        named, offsets = {}, {}
        for manifest in self.config.jobs_dir.glob("*.json"):
            data = _read_manifest(manifest)
            if data is not None and data["state"] == CLAIMING:
                named[data["id"]] = data["name"]
                offsets[data["id"]] = data.get("offset") or 0
        for claimed in sorted(self.config.claimed_dir.iterdir()):
            if self.stopping:
                return
            if claimed.name.startswith(".") or claimed.name in self.retry:
                continue
            job_id = claimed.name
            if not _JOB_ID.match(job_id):  # a claimed file of an older version: its own name
                job_id = self._new_id()
                os.rename(claimed, self.config.claimed_dir / job_id)
                named[job_id] = claimed.name.split(".", 1)[-1]
            job = Job(job_id, named.get(job_id, job_id), self.config)
            job.offset = offsets.get(job_id, 0)
            if job_id not in named:
                job.record(CLAIMING)
            self._process(job)

    def _open_claimed(self, job: Job) -> tuple[int | None, str | None]:
        """An fd on the claimed input, or the reason it is quarantined unread."""
        try:
            fd = os.open(job.claimed, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
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

    def _snapshot(self, job: Job, fd: int) -> bool:
        """Copy the claimed input into the work area (0600, ours): the exact bytes decided and
        archived. False when a client was still writing it during the copy."""
        before = os.fstat(fd)
        out = os.open(job.snap, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE)
        try:
            offset = job.offset
            while chunk := os.pread(fd, _COPY_CHUNK, offset):
                os.write(out, chunk)
                offset += len(chunk)
            os.fsync(out)
        finally:
            os.close(out)
        after = os.fstat(fd)
        job.fingerprint = (after.st_size, after.st_mtime_ns)
        job.decided = after.st_size
        job.snapshot = True
        return (
            (before.st_size, before.st_mtime_ns) == job.fingerprint == (offset, after.st_mtime_ns)
        )

    def _process(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            fd, reason = self._open_claimed(job)
            try:
                if fd is not None and not self._snapshot(job, fd):
                    self._defer(job, "the file was still being written when it was claimed")
                    job.roll_back()
                    return
                checkpoint("snapshot")
                self._decide(job, fd, reason, started)
            finally:
                if fd is not None:
                    os.close(fd)
        except WatchFatal:
            job.roll_back()
            with contextlib.suppress(OSError):
                job.record(CLAIMING)
            raise
        except OSError as error:  # before the commit: a full disk, an unwritable directory
            job.roll_back()
            with contextlib.suppress(OSError):
                job.record(CLAIMING)
            self._defer(job, f"{error.strerror or error} ({error.filename or 'output'})")

    def _decide(self, job: Job, fd: int | None, reason: str | None, started: float) -> None:
        cfg = self.config
        route = Route(None, None, cfg.scope, cfg.acks, reason)
        if reason is None:
            route = self.router.route(i.sender for i in scan_interchanges(job.snap))
        job.partner = route.partner.sender if route.partner else None
        job.outbox = route.outbox
        job.staged = job.stage_paths(route.outbox)
        job.record(STAGING)
        checkpoint("staging")
        summary, error, reason = self._filter(job, route, reason)
        checkpoint("staged")
        if fd is not None and not self._unchanged(job, fd):
            job.roll_back()
            with contextlib.suppress(OSError):
                job.record(CLAIMING)
            self._defer(job, "bytes were written to the file after it was claimed")
            return
        if reason is None:
            outcome = "archived"
            self._publish(job, ("ca277", "ack999"))
        else:
            outcome = "quarantined"
            self._stage_quarantine(job, route, reason, error)
        base = self._free_base(job, outcome, route.outbox)
        job.record(COMMITTED, outcome=outcome, base=base)
        checkpoint("committed")
        finished = True
        try:
            self._finish(job, outcome, base)
        except OSError as error:  # committed: retried, never dropped or redone
            self._defer(job, error.strerror or str(error))
            finished = False
        checkpoint("done")

        event: dict[str, Any] = {
            "file": printable(job.name),
            "partner": route.label,
            "outcome": outcome,
            "claims": summary.claims if summary else 0,
            "accepted": summary.accepted if summary else 0,
            "rejected": summary.rejected if summary else 0,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if not finished:
            event["outcome"], event["pending"] = "pending", outcome
        if base != job.name:
            event["stored_as"] = base
        if reason is not None:
            event["reason"] = reason
        self.processed.append(event)
        (self.log.warning if outcome == "quarantined" else self.log.info)("watch.file", **event)

    def _filter(
        self, job: Job, route: Route, reason: str | None
    ) -> tuple[Summary | None, BaseException | None, str | None]:
        if reason is not None or route.quarantine_reason is not None:
            return None, None, reason or route.quarantine_reason
        try:
            with open(job.snap, "rb") as source:
                summary = run_filter_file(
                    source,
                    job.name,
                    route.engine,  # type: ignore[arg-type]
                    FilterTargets(
                        output=str(job.staged["filtered"]),
                        acks=str(job.staged["ca277"]),
                        ack999=str(job.staged["ack999"]),
                        decisions=str(job.staged["decisions"]),
                        control_state=self.config.control_state,
                    ),
                    scope=route.scope,
                    now=datetime.now(UTC),
                )
            return summary, None, None
        except X12Error as exc:
            return None, exc, f"not readable X12: {exc}"
        except OSError:
            raise  # disk full, permissions: the job is rolled back and retried
        except Exception as exc:  # a bug must not stall the inbox behind one file
            assert self.config.control_state is not None
            self._check_control_state_fatal(self.config.control_state)
            self.log.exception("watch.internal_error", file=printable(job.name))
            return None, exc, f"internal error: {type(exc).__name__}"

    def _check_control_state_fatal(self, path: Path) -> None:
        try:
            self._check_control_state(path)
        except ConfigError as error:
            raise WatchFatal(str(error)) from None

    @staticmethod
    def _unchanged(job: Job, fd: int) -> bool:
        after = os.fstat(fd)
        return job.fingerprint == (after.st_size, after.st_mtime_ns)

    def _publish(self, job: Job, kinds: Iterable[str]) -> None:
        """Acknowledgments bound for an outbox get its configured mode and group."""
        mode = self.config.outbox_mode
        for kind in kinds:
            path = job.staged[kind]
            if not _own_regular_file(path):
                continue
            if mode is not None:
                os.chmod(path, mode)
            if self._outbox_gid is not None:
                os.chown(path, -1, self._outbox_gid)

    def _stage_quarantine(
        self, job: Job, route: Route, reason: str, error: BaseException | None
    ) -> None:
        """The input's TA1/999 (also to the partner's outbox) and an error report."""
        for kind in ("filtered", "decisions", "ca277"):
            _remove_staged(job.staged[kind])
        ack = job.staged["ack999"]
        if isinstance(error, X12Error) and not _own_regular_file(ack):
            self._write_ta1(job, error, ack)
        if _own_regular_file(ack):
            with OutputSet() as outputs:
                outputs.binary(job.staged["q_ack999"]).write(ack.read_bytes())
            self._publish(job, ("ack999",))
        report = {
            "file": printable(job.name),
            "partner": route.label,
            "reason": reason,
            "error_type": type(error).__name__ if error else None,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if isinstance(error, X12Error):
            report.update(segment=error.ordinal, segment_id=error.segment_id)
        with OutputSet() as outputs:
            outputs.text(job.staged["q_error"]).write(json.dumps(report, indent=1) + "\n")

    def _write_ta1(self, job: Job, error: X12Error, target: Path) -> None:
        """A TA1 "rejected" for a file the parser could not tie to an ISA (a tail cut short):
        answered against the file's last ISA, the interchange that was left incomplete."""
        from edi_gate.acks.state import ControlNumbers
        from edi_gate.acks.ta1 import write_ta1

        found = scan_interchanges(job.snap) if job.snapshot else []
        if not found:
            return
        with open(job.snap, "rb") as handle:
            handle.seek(found[-1].offset)
            header = handle.read(106)
        control = ControlNumbers(state_path=self.config.control_state)
        with OutputSet() as outputs:
            stream = outputs.binary(target)
            if not write_ta1(stream, error, isa=header, control=control, now=datetime.now(UTC)):
                outputs.abort()

    def _free_base(self, job: Job, outcome: str, outbox: Path) -> str:
        """A safe version of the partner's name, or ``stem.N.ext`` when a file of that name was
        handled before: a partner resending ``claims.837`` tomorrow must not overwrite today's
        archive or outputs."""
        name = safe_base(job.name)
        stem, dot, suffix = name.partition(".")
        targets = job.targets(outcome, outbox).values()
        reserved = set()  # bases of committed jobs whose moves a fault held up
        for manifest in self.config.jobs_dir.glob("*.json"):
            data = _read_manifest(manifest)
            if data is not None and data["state"] == COMMITTED:
                reserved.add(data["base"])
        candidate, number = name, 1
        while candidate in reserved or any(_exists(d / f"{candidate}{s}") for d, s in targets):
            number += 1
            candidate = f"{stem}.{number}{dot}{suffix}"
        return candidate

    def _finish(self, job: Job, outcome: str, base: str) -> None:
        """Apply a committed job's moves, then forget it. A failure keeps it committed."""
        if job.snapshot and job.decided is not None:
            sidecar = self.config.done_dir / f"{job.id}.json"
            _write_json_atomic(sidecar, {"id": job.id, "name": job.name, "decided": job.decided})
        missing = apply_moves(job.moves(outcome, base, job.outbox or self.config.acks))
        if missing:
            self.log.error("watch.moves_missing", job=job.id, missing=missing)
        job.manifest.unlink(missing_ok=True)
        _fsync_dir(job.manifest.parent)
        self.retry.pop(job.id, None)

    # what clients append after a job

    def _sweep_done(self, *, now: float | None = None) -> None:
        """Claimed originals are kept in ``done/`` for ``max_wait`` seconds after their job: a
        client that paused and appends more (its file was complete when taken) has its new
        bytes taken as a job of their own, from where the decided bytes ended, once they have
        settled. Nothing a client writes is lost, nothing decided is decided again."""
        cfg = self.config
        now = time.time() if now is None else now
        for sidecar in sorted(cfg.done_dir.glob("*.json")):
            job_id = sidecar.name.removesuffix(".json")
            if not _JOB_ID.match(job_id) or _exists(cfg.jobs_dir / sidecar.name):
                continue  # its job is still committed: recovery moves the original here first
            original = cfg.done_dir / job_id
            try:
                info = os.lstat(original)
                if now - info.st_mtime < min(cfg.settle, cfg.max_wait):
                    continue  # being written: look again later
                if job_id not in self._done:
                    data = json.loads(sidecar.read_text(encoding="utf-8"))
                    self._done[job_id] = (int(data["decided"]), str(data.get("name") or job_id))
            except (OSError, ValueError, TypeError, KeyError):
                self._forget_done(sidecar, original)
                continue
            decided, name = self._done[job_id]
            quiet = now - info.st_mtime
            if not stat.S_ISREG(info.st_mode):
                self._forget_done(sidecar, original)
            elif info.st_size > decided and quiet >= cfg.settle:
                self._done.pop(job_id, None)
                self._take_tail(original, sidecar, name, decided)
            elif quiet >= cfg.max_wait or info.st_size < decided:
                self._forget_done(sidecar, original)
        for leftover in cfg.done_dir.iterdir():  # an original whose sidecar never got written
            if leftover.suffix != ".json" and not _exists(
                leftover.with_name(leftover.name + ".json")
            ):
                with contextlib.suppress(OSError):
                    if now - os.lstat(leftover).st_mtime >= cfg.max_wait:
                        leftover.unlink()

    def _forget_done(self, sidecar: Path, original: Path) -> None:
        self._done.pop(original.name, None)
        for path in (original, sidecar):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _take_tail(self, original: Path, sidecar: Path, name: str, decided: int) -> None:
        job = Job(self._new_id(), name, self.config)
        job.offset = decided
        job.record(CLAIMING)
        os.rename(original, job.claimed)  # atomic: the tail is claimed once
        sidecar.unlink(missing_ok=True)
        self.log.warning(
            "watch.appended",
            file=printable(name),
            job=job.id,
            offset=decided,
            reason="bytes written after the file was taken: decided as a file of their own",
        )
        self._process(job)

    # faults

    def _defer(self, job: Job, why: str) -> None:
        """A per-file fault: log one line, retry the job later (committed jobs roll forward,
        others are processed again); the watcher goes on with other files."""
        job.attempts += 1
        delay = min(RETRY_MAX, max(self.config.interval, 0.1) * 2 ** min(job.attempts, 8))
        self.retry[job.id] = (time.monotonic() + delay, job)
        self.log.error(
            "watch.file_fault",
            file=printable(job.name),
            job=job.id,
            error=why,
            retry_in=round(delay, 1),
        )

    def _retry_due(self, *, force: bool = False) -> None:
        """Retry the jobs a fault stopped whose time has come (``force``: all of them, once)."""
        now = time.monotonic()
        for job_id, (when, job) in sorted(self.retry.items()):
            if self.stopping or (when > now and not force):
                continue
            data = _read_manifest(job.manifest)
            if data is not None and data["state"] == COMMITTED:
                try:
                    self._finish(job, data["outcome"], data["base"])
                    self.log.info("watch.recovered", job=job_id, action="rolled_forward")
                except MoveError as error:
                    self._defer(job, error.strerror or str(error))
            elif _exists(job.claimed):
                self.retry.pop(job_id, None)
                self._process(job)
            else:
                self.retry.pop(job_id, None)

    @property
    def unfinished(self) -> int:
        """Jobs a fault left to retry (``--once`` exits 74 when there are any)."""
        return len(self.retry)


def recover(config: WatchConfig, router: Router, log=None) -> dict[str, int]:
    """Recovery alone (for tools and tests): what :meth:`Watcher.run` does first."""
    return Watcher(config, router, log=log).recover()
