"""`edi-gate watch`: filter every complete file an SFTP client drops in an inbox, exactly once.

Why this shape: trading partners upload 837s over SFTP at any time, the watcher can be killed at
any moment (deploys, OOM, kill -9), and a claim must reach the payer neither zero nor two times.

Taking a file. Names a client is still writing (``*.part``, ``*.filepart``, ``*.tmp``,
``*.partial``, dot-files) are ignored. A file is taken once its (inode, size, mtime) has not
changed for ``settle`` seconds, or as soon as inotify reports it was renamed into place (what
careful clients do). Files go in arrival order (ctime: the last write or the rename into place).

Exactly once: a job is a small state machine whose state lives on disk in the work area
(``INBOX/.edi-gate`` unless ``--work``; same filesystem as the inbox, so renames are atomic)::

    inbox/NAME --rename--> work/claimed/ID                     CLAIMED    (no manifest)
    work/jobs/ID.json {"state": "staging", "staged": [...]}    STAGING    (outputs being written
        outputs written to hidden staged names (.ID.*.staged)              next to their targets)
    work/jobs/ID.json {"state": "committed", "moves": [...]}   COMMITTED  (atomic replace)
        each staged output renamed to its final name; the input
        renamed into --archive (or --quarantine) last
    work/jobs/ID.json deleted                                   DONE

Start-up recovery replays that log: a COMMITTED job is rolled forward (each move is idempotent:
done when its source is gone and its target exists), a STAGING job is rolled back (staged files
deleted; the claimed input stays and is processed again), and claimed inputs without a manifest
are processed before anything new in the inbox. Final outputs therefore appear only from a
committed manifest, and a committed manifest is applied exactly once however often it is
interrupted: every claim ends up in exactly one filtered 837 or decisions file.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import select
import shutil
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
from edi_gate.pipeline.isa import scan_interchanges
from edi_gate.pipeline.outputs import DEFAULT_MODE, OutputSet
from edi_gate.pipeline.partners import Partner, PartnerBook
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from edi_gate.x12.errors import shown_name
from edi_gate.x12.loops import Limits

RECENT_EVENTS = 1000
INCOMPLETE_PATTERNS = ("*.part", "*.filepart", "*.tmp", "*.partial", "*.crdownload")
FILTERED_SUFFIX = ".filtered.837"
CA277_SUFFIX = ".277ca"
ACK999_SUFFIX = ".999"
DECISIONS_SUFFIX = ".decisions.jsonl"
ERROR_SUFFIX = ".error.json"
STAGING, COMMITTED = "staging", "committed"

EngineLoader = Callable[[Path | None, Path | None], RuleEngine]


def is_incomplete_name(name: str) -> bool:
    """Names an SFTP client is still writing (or hides): never taken."""
    return name.startswith(".") or any(fnmatch(name, p) for p in INCOMPLETE_PATTERNS)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write, fsync and rename into place: a reader sees the old manifest or the new one."""
    temp = path.with_name(f".{path.name}.tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    _fsync_dir(path.parent)


# -- taking complete files ---------------------------------------------------------------------


@dataclass
class _Seen:
    signature: tuple[int, int, int]
    since: float
    ctime_ns: int


class DropFolder:
    """The inbox as the watcher sees it: which files are complete, in arrival order."""

    def __init__(self, inbox: Path, settle: float, clock: Callable[[], float] = time.monotonic):
        self.inbox = inbox
        self.settle = settle
        self.clock = clock
        self._seen: dict[str, _Seen] = {}
        self._renamed: set[str] = set()

    def mark_renamed(self, name: str) -> None:
        """inotify saw ``name`` renamed into place: complete now, no need to wait."""
        self._renamed.add(name)

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
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            before = self._seen.get(entry.name)
            if before is not None and before.signature == signature:
                current[entry.name] = before
            else:
                current[entry.name] = _Seen(signature, now, stat.st_ctime_ns)
                if before is not None:
                    self._renamed.discard(entry.name)  # written again after the rename
        self._seen = current
        self._renamed &= set(current)
        ready = [
            name
            for name, seen in current.items()
            if name in self._renamed or now - seen.since >= self.settle
        ]
        ready.sort(key=lambda name: (current[name].ctime_ns, name))
        return ready

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)
        self._renamed.discard(name)


class Inotify:
    """Just enough inotify (through libc) to wake on new files and see renames into place."""

    IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x8, 0x80, 0x100
    _HEADER = struct.Struct("iIII")

    def __init__(self, directory: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        mask = self.IN_CLOSE_WRITE | self.IN_MOVED_TO | self.IN_CREATE
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
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        events, offset = [], 0
        while offset + self._HEADER.size <= len(data):
            _wd, mask, _cookie, length = self._HEADER.unpack_from(data, offset)
            offset += self._HEADER.size
            name = data[offset : offset + length].rstrip(b"\0").decode("utf-8", "surrogateescape")
            offset += length
            events.append((mask, name))
        return events

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


# -- configuration and routing -----------------------------------------------------------------


@dataclass
class WatchConfig:
    """Directories and timing of one watcher."""

    inbox: Path
    out: Path
    acks: Path
    archive: Path
    quarantine: Path
    decisions: Path | None = None  # default: --out
    work: Path | None = None  # default: INBOX/.edi-gate
    settle: float = 2.0
    interval: float = 1.0
    scope: str = "claim"
    control_state: Path | None = None  # default: WORK/control-numbers.json
    limits: Limits | None = None  # bounds on hostile input (--limits, the partners' [limits])

    def __post_init__(self) -> None:
        self.decisions = self.decisions or self.out
        self.work = self.work or self.inbox / ".edi-gate"
        self.control_state = self.control_state or self.work / "control-numbers.json"

    @property
    def claimed_dir(self) -> Path:
        assert self.work is not None
        return self.work / "claimed"

    @property
    def jobs_dir(self) -> Path:
        assert self.work is not None
        return self.work / "jobs"


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

    def _engine(self, ruleset: Path | None, roster: Path | None) -> RuleEngine:
        key = (ruleset or self.ruleset, roster or self.roster)
        if key not in self._engines:
            self._engines[key] = self._loader(*key)
        return self._engines[key]

    def outbox_of(self, partner: Partner | None) -> Path:
        if partner is None or partner.outbox is None:
            return self.config.acks
        return partner.outbox if partner.outbox.is_absolute() else self.config.acks / partner.outbox

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


# -- the job log -------------------------------------------------------------------------------


def _remove_staged(staged: Path) -> None:
    """A staged output and the temporary files OutputSet may have left while writing it."""
    with contextlib.suppress(FileNotFoundError):
        staged.unlink()
    with contextlib.suppress(OSError):
        for leftover in staged.parent.glob(f".{staged.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def apply_moves(moves: list[list[str]]) -> list[str]:
    """Rename each staged file into place; idempotent, so a crash mid-way is finished by running
    it again. Returns the moves found with neither source nor target (should never happen)."""
    missing = []
    touched: set[Path] = set()
    for source, target in moves:
        src, dst = Path(source), Path(target)
        try:
            os.replace(src, dst)
            touched.update((src.parent, dst.parent))
        except FileNotFoundError:
            if not dst.exists():
                missing.append(source)
    for directory in touched:
        _fsync_dir(directory)
    return missing


@dataclass
class Job:
    """One claimed input on its way through the state machine."""

    id: str
    name: str
    claimed: Path
    manifest: Path
    staged: dict[str, Path] = field(default_factory=dict)

    def write_staging(self) -> None:
        _write_json_atomic(
            self.manifest,
            {
                "id": self.id,
                "name": self.name,
                "state": STAGING,
                "staged": [str(p) for p in self.staged.values()],
            },
        )

    def write_committed(self, moves: list[list[str]], outcome: str) -> None:
        _write_json_atomic(
            self.manifest,
            {
                "id": self.id,
                "name": self.name,
                "state": COMMITTED,
                "outcome": outcome,
                "staged": [str(p) for p in self.staged.values()],
                "moves": moves,
            },
        )

    def finish(self, moves: list[list[str]]) -> list[str]:
        missing = apply_moves(moves)
        self.manifest.unlink()
        _fsync_dir(self.manifest.parent)
        return missing


def recover(config: WatchConfig, log=None) -> dict[str, int]:
    """Finish or roll back whatever a crash left in the job log (see the module docstring)."""
    log = log or logs.get_logger()
    counts = {"rolled_forward": 0, "rolled_back": 0}
    jobs = config.jobs_dir
    for leftover in jobs.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)  # a manifest rewrite cut short: the old one stands
    for manifest in sorted(jobs.glob("*.json")):
        try:
            state = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"unreadable job manifest: {error}", path=str(manifest)) from error
        if state.get("state") == COMMITTED:
            missing = apply_moves(state["moves"])
            if missing:
                log.error("watch.recover_missing", job=state["id"], missing=missing)
            counts["rolled_forward"] += 1
            action = "rolled_forward"
        else:
            for staged in state.get("staged", []):
                _remove_staged(Path(staged))
            counts["rolled_back"] += 1
            action = "rolled_back"
        manifest.unlink()
        log.info("watch.recovered", job=state.get("id"), file=state.get("name"), action=action)
    _fsync_dir(jobs)
    return counts


# -- the watcher -------------------------------------------------------------------------------


def _split_name(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.partition(".")
    return stem, dot + suffix


class Watcher:
    """Takes complete files from the inbox and runs each through the job state machine."""

    def __init__(self, config: WatchConfig, router: Router, *, log=None) -> None:
        self.config = config
        self.router = router
        self.log = log or logs.get_logger()
        self.drop = DropFolder(config.inbox, config.settle)
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._lock_handle = None
        # The latest file events (for --once callers and tests); bounded so a watcher that runs
        # for months does not grow with every file it has seen.
        self.processed: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)

    # lifecycle

    def prepare(self) -> None:
        """Create the directories, take the single-watcher lock, check renames can be atomic."""
        cfg = self.config
        for directory in (
            cfg.inbox,
            cfg.out,
            cfg.acks,
            cfg.archive,
            cfg.quarantine,
            cfg.decisions,
            cfg.claimed_dir,
            cfg.jobs_dir,
        ):
            assert directory is not None
            directory.mkdir(parents=True, exist_ok=True)
        if self.router.partners is not None:
            for partner in self.router.partners.partners.values():
                self.router.outbox_of(partner).mkdir(parents=True, exist_ok=True)
        if os.stat(cfg.inbox).st_dev != os.stat(cfg.claimed_dir).st_dev:
            raise ConfigError(
                "the work area must be on the inbox's filesystem (claiming is a rename)",
                path=str(cfg.work),
            )
        assert cfg.work is not None
        self._lock_handle = open(cfg.work / "lock", "a+b")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(self._lock_handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ConfigError(
                "another watcher is running on this work area", path=str(cfg.work)
            ) from error

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
        if self._lock_handle is None:
            self.prepare()
        try:
            recover(self.config, self.log)
            self._process_claimed()
            if once:
                self._run_once()
            else:
                self._run_forever()
        finally:
            self.close()
        return list(self.processed)

    def close(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_read = self._wake_write = -1

    def _run_once(self) -> None:
        ready = self.drop.poll()
        if self.config.settle > 0 and self.drop._seen:
            self._stop.wait(self.config.settle)
            ready = self.drop.poll()
        while ready and not self.stopping:
            for name in ready:
                if self.stopping:
                    return
                self._take(name)
            ready = self.drop.poll()

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
                for name in self.drop.poll():
                    if self.stopping:
                        break
                    self._take(name)
                if self.stopping:
                    break
                # Pending files that are not settled yet: look again soon, whatever inotify says.
                wait = self.config.interval
                if inotify is None:
                    self._stop.wait(wait)
                    continue
                for mask, name in inotify.wait(wait, self._wake_read):
                    if mask & Inotify.IN_MOVED_TO and not is_incomplete_name(name):
                        self.drop.mark_renamed(name)
        finally:
            if inotify is not None:
                inotify.close()
            self.log.info("watch.stopped")

    # one file

    def _take(self, name: str) -> None:
        """Claim ``name`` by renaming it out of the inbox, then process it."""
        job_id = f"{time.time_ns():019d}.{name}"
        claimed = self.config.claimed_dir / job_id
        try:
            os.rename(self.config.inbox / name, claimed)
        except FileNotFoundError:
            self.drop.forget(name)
            return  # gone (renamed or deleted by its sender) between the scan and now
        _fsync_dir(self.config.claimed_dir)
        _fsync_dir(self.config.inbox)
        self.drop.forget(name)
        self._process(job_id)

    def _process_claimed(self) -> None:
        for claimed in sorted(self.config.claimed_dir.iterdir()):
            if self.stopping:
                return
            if claimed.is_file() and not claimed.name.startswith("."):
                self._process(claimed.name)

    def _process(self, job_id: str) -> None:
        started = time.perf_counter()
        cfg = self.config
        name = job_id.split(".", 1)[1]
        job = Job(job_id, name, cfg.claimed_dir / job_id, cfg.jobs_dir / f"{job_id}.json")
        senders = [i.sender for i in scan_interchanges(job.claimed)]
        route = self.router.route(senders)
        assert cfg.decisions is not None
        job.staged = {
            "filtered": cfg.out / f".{job_id}{FILTERED_SUFFIX}.staged",
            "decisions": cfg.decisions / f".{job_id}{DECISIONS_SUFFIX}.staged",
            "ca277": route.outbox / f".{job_id}{CA277_SUFFIX}.staged",
            "ack999": route.outbox / f".{job_id}{ACK999_SUFFIX}.staged",
            "q_ack999": cfg.quarantine / f".{job_id}{ACK999_SUFFIX}.staged",
            "q_error": cfg.quarantine / f".{job_id}{ERROR_SUFFIX}.staged",
        }
        job.write_staging()

        summary: Summary | None = None
        error: BaseException | None = None
        reason = route.quarantine_reason
        if reason is None:
            try:
                # O_NOFOLLOW: a name swapped for a symlink after the scan is refused, never
                # followed out of the inbox.
                fd = os.open(job.claimed, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as source:
                    summary = run_filter_file(
                        source,
                        name,
                        route.engine,  # type: ignore[arg-type]
                        FilterTargets(
                            output=str(job.staged["filtered"]),
                            acks=str(job.staged["ca277"]),
                            ack999=str(job.staged["ack999"]),
                            decisions=str(job.staged["decisions"]),
                            control_state=cfg.control_state,
                        ),
                        scope=route.scope,
                        now=datetime.now(UTC),
                        limits=cfg.limits,
                    )
            except X12Error as exc:
                error, reason = exc, f"not readable X12: {exc}"
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise  # disk full, permissions: leave the job to be rolled back and retried
                error, reason = exc, "refused: the claimed name became a symbolic link"
            except Exception as exc:  # a bug must not stall the inbox behind one file
                error, reason = exc, f"internal error: {type(exc).__name__}: {exc}"
                self.log.exception("watch.internal_error", file=name)

        if reason is None:
            targets = self._archive_targets(route)
            base = self._free_base(name, targets)
            moves = [
                [str(job.staged[kind]), str(directory / f"{base}{suffix}")]
                for kind, (directory, suffix) in targets.items()
                if kind != "input" and job.staged[kind].exists()
            ]
            moves.append([str(job.claimed), str(cfg.archive / base)])
            outcome = "archived"
        else:
            moves = self._quarantine_moves(job, route, name, reason, error)
            outcome = "quarantined"
        job.write_committed(moves, outcome)
        missing = job.finish(moves)
        if missing:
            self.log.error("watch.moves_missing", file=name, missing=missing)

        event: dict[str, Any] = {
            "file": shown_name(name),
            "partner": route.label,
            "outcome": outcome,
            "claims": summary.claims if summary else 0,
            "accepted": summary.accepted if summary else 0,
            "rejected": summary.rejected if summary else 0,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if reason is not None:
            event["reason"] = reason
        self.processed.append(event)
        (self.log.warning if outcome == "quarantined" else self.log.info)("watch.file", **event)

    def _archive_targets(self, route: Route) -> dict[str, tuple[Path, str]]:
        cfg = self.config
        assert cfg.decisions is not None
        return {
            "filtered": (cfg.out, FILTERED_SUFFIX),
            "decisions": (cfg.decisions, DECISIONS_SUFFIX),
            "ca277": (route.outbox, CA277_SUFFIX),
            "ack999": (route.outbox, ACK999_SUFFIX),
            "input": (cfg.archive, ""),
        }

    def _free_base(self, name: str, targets: dict[str, tuple[Path, str]]) -> str:
        """``name``, or ``stem.N.ext`` when a file of that name was handled before: a partner
        resending ``claims.837`` tomorrow must not overwrite today's archive or outputs."""
        stem, ext = _split_name(name)
        candidate, number = name, 1
        while any((d / f"{candidate}{s}").exists() for d, s in targets.values()):
            number += 1
            candidate = f"{stem}.{number}{ext}"
        return candidate

    def _quarantine_moves(
        self, job: Job, route: Route, name: str, reason: str, error: BaseException | None
    ) -> list[list[str]]:
        """The input, its TA1/999 (also to the partner's outbox) and an error report."""
        cfg = self.config
        for kind in ("filtered", "decisions", "ca277"):
            _remove_staged(job.staged[kind])
        targets = {
            "q_ack999": (cfg.quarantine, ACK999_SUFFIX),
            "q_error": (cfg.quarantine, ERROR_SUFFIX),
            "input": (cfg.quarantine, ""),
        }
        ack = job.staged["ack999"]
        if ack.exists():
            targets["ack999"] = (route.outbox, ACK999_SUFFIX)
            shutil.copyfile(ack, job.staged["q_ack999"])
            os.chmod(job.staged["q_ack999"], DEFAULT_MODE)
        base = self._free_base(name, targets)
        report = {
            "file": shown_name(name),
            "partner": route.label,
            "reason": reason,
            "error_type": type(error).__name__ if error else None,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if isinstance(error, X12Error):
            report.update(segment=error.ordinal, segment_id=error.segment_id)
        with OutputSet() as outputs:
            outputs.text(job.staged["q_error"]).write(json.dumps(report, indent=1) + "\n")
        moves = [
            [str(job.staged[kind]), str(directory / f"{base}{suffix}")]
            for kind, (directory, suffix) in targets.items()
            if kind != "input" and job.staged[kind].exists()
        ]
        moves.append([str(job.claimed), str(cfg.quarantine / base)])
        return moves
