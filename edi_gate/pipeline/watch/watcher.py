"""The watcher: takes complete files from the inbox and runs each through the job journal."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edi_gate import logs
from edi_gate.acks.state import ControlNumbers
from edi_gate.errors import ConfigError, X12Error
from edi_gate.pipeline.filter import Summary
from edi_gate.pipeline.isa import scan_interchanges
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from edi_gate.pipeline.watch.config import (
    WatchConfig,
    _inside,
    check_directory,
    check_parent,
    resolve_group,
)
from edi_gate.pipeline.watch.drop_folder import DropFolder
from edi_gate.pipeline.watch.inotify import Inotify
from edi_gate.pipeline.watch.journal import (
    _JOB_ID,
    CLAIMING,
    COMMITTED,
    PRIVATE_DIR,
    PRIVATE_FILE,
    STAGING,
    Job,
    MoveError,
    _exists,
    _fsync_dir,
    _own_regular_file,
    _read_manifest,
    _remove_staged,
    _write_json_atomic,
    apply_moves,
    checkpoint,
)
from edi_gate.pipeline.watch.names import is_incomplete_name, printable, safe_base
from edi_gate.pipeline.watch.router import Route, Router
from edi_gate.state.control import SharedControlNumbers
from edi_gate.state.paths import database_path
from edi_gate.state.store import StateStore
from edi_gate.vocabulary import ISA_LENGTH

RECENT_EVENTS = 1000
RETRY_MAX = 30.0  # longest wait between two attempts at a job a fault stopped
_COPY_CHUNK = 1 << 20


class WatchFatal(Exception):
    """A fault no file can get past (a corrupt control-number state): stop with an exit status."""


def _open_state(cfg: WatchConfig) -> StateStore:
    """The state database, opened now so a corrupt one stops start-up (ConfigError), and the
    control numbers continued after a work area's older control-numbers.json."""
    state = StateStore(database_path(cfg.state_dir))
    state.connect()
    if cfg.control_state is None:
        SharedControlNumbers(state).continue_after(cfg.legacy_control_state)
    else:
        try:
            ControlNumbers(state_path=cfg.control_state).peek()
        except (ValueError, OSError) as error:  # corrupt: stop now, not quarantine every file
            raise ConfigError(
                f"control-number state is unusable: {error}", path=str(cfg.control_state)
            ) from None
    return state


def _require_ruleset(route: Route, cfg: WatchConfig) -> bool:
    """A partner's require_ruleset setting, else the watcher's."""
    if route.partner is not None and route.partner.require_ruleset is not None:
        return route.partner.require_ruleset
    return cfg.require_ruleset


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
        self.state: StateStore | None = None  # opened by prepare()
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
        legacy = cfg.inbox / ".edi-gate"
        if legacy.is_dir() and not legacy.is_symlink():
            raise ConfigError(
                "a work area of an earlier edi-gate is inside the inbox, where partners can "
                "write: check its control-numbers.json and claimed/ files, move what is sound "
                f"to {cfg.work}, then remove it",
                path=str(legacy),
            )
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
        self.state = _open_state(cfg)
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

    def _check_control_state(self) -> None:
        """The control numbers can still be read: the --control-state file, else the state
        database (a ConfigError names what is wrong)."""
        path = self.config.control_state
        try:
            if path is None:
                assert self.state is not None
                SharedControlNumbers(self.state).peek()
            elif path.exists():
                ControlNumbers(state_path=path).peek()
        except (ValueError, OSError) as error:
            raise ConfigError(
                f"control-number state is unusable: {error}", path=str(path or self.state)
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
        if self.state is not None:
            self.state.close()
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
            "claims_by_rule": dict(sorted(summary.claims_by_rule.items())) if summary else {},
            "seconds": round(time.perf_counter() - started, 3),
        }
        if not finished:
            event["outcome"], event["pending"] = "pending", outcome
        if base != job.name:
            event["stored_as"] = base
        if reason is not None:
            event["reason"] = reason
        if summary is not None and summary.duplicate_interchanges:
            event["duplicate_interchanges"] = summary.duplicate_interchanges  # TA1 R/025 sent
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
                        state=self.state,
                        duplicate_window=self.config.duplicate_window,
                        owner=f"watch:{job.id}",  # a retried job is not its own duplicate
                        duplicate_claims=self.config.duplicate_claims,
                    ),
                    scope=route.scope,
                    require_ruleset=_require_ruleset(route, self.config),
                    now=datetime.now(UTC),
                    limits=self.config.limits,
                )
            return summary, None, None
        except X12Error as exc:
            return None, exc, f"not readable X12: {exc}"
        except OSError:
            raise  # disk full, permissions: the job is rolled back and retried
        except Exception as exc:  # a bug must not stall the inbox behind one file
            self._check_control_state_fatal()
            self.log.exception("watch.internal_error", file=printable(job.name))
            return None, exc, f"internal error: {type(exc).__name__}"

    def _check_control_state_fatal(self) -> None:
        try:
            self._check_control_state()
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
        from edi_gate.acks.ta1 import write_ta1

        found = scan_interchanges(job.snap) if job.snapshot else []
        if not found:
            return
        with open(job.snap, "rb") as handle:
            handle.seek(found[-1].offset)
            header = handle.read(ISA_LENGTH)
        targets = FilterTargets(control_state=self.config.control_state, state=self.state)
        control = targets.control_numbers()
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
