"""The exactly-once protocol: how a file in the inbox becomes outputs once, whatever crashes.

A job's state lives in its record, ``work/jobs/ID.json``, written atomically (temporary file,
fsync, rename, fsync of the directory), so after a crash the record says the last state reached
and nothing else. The work area is private and on the inbox's filesystem. Step by step:

1. **CLAIMING.** The record is written: ``{"state": "claiming", "name": NAME}``.
2. **Claim.** ``inbox/NAME`` is renamed to ``work/claimed/ID``: atomic, so a file is claimed
   once, and the partner can no longer change which file it is (a failed rename drops the
   record: nothing was claimed).
3. **Snapshot.** The claimed bytes are copied to ``work/snap/ID`` (0600, ours): exactly the
   bytes decided and archived. A file that changed during the copy is rolled back (5a).
4. **STAGING.** The record says so, with the partner. Every output (filtered 837, decisions,
   277CA, 999/TA1, or the quarantine's files) is written to a hidden staged name beside its
   target (``.ID.SUFFIX.staged``), nowhere else (:mod:`.stage`).
5. **Unchanged?** The claimed file is as it was at the snapshot. (5a) If not, a client was
   still writing: the job is rolled back (staged files and snapshot deleted, record back to
   CLAIMING) and retried once the file is quiet.
6. **COMMITTED.** The record gets the outcome (archived or quarantined) and the base name the
   outputs take (a free one: a resent ``claims.837`` never overwrites yesterday's). From here
   the decision is final: it is never made again.
7. **Moves.** Each staged output is renamed to ``BASE.SUFFIX``; the snapshot goes to the
   archive (or quarantine) last; the claimed original goes to ``work/done/`` (a client may
   append more). Every move is idempotent: done when its source is gone and its target is there.
8. **DONE.** The record is deleted.

Recovery (at start, :meth:`JobRunner.recover`) reads only records this watcher wrote, and
re-derives every path from the job id and the configured directories (a record is never trusted
for a path). COMMITTED: rolled forward (step 7 again). STAGING or CLAIMING: rolled back; the
claimed input, if the claim happened, is processed again from step 3. A record that cannot be
read is set aside in ``work/rejected/`` and logged, never acted on.

Faults: a failure before the commit (a full disk, a missing directory) rolls the job back and
retries it later, with a growing delay; a failed move leaves it COMMITTED and retries the moves;
neither is ever dropped. A record found unreadable at a retry is set aside once and logged, and
the job leaves the retry list: guessing its state could decide a file twice.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from edi_gate.pipeline.watch.config import WatchConfig
from edi_gate.pipeline.watch.journal import (
    CLAIMING,
    COMMITTED,
    JOB_ID,
    PRIVATE_DIR,
    STAGING,
    Job,
    MoveError,
    apply_moves,
    checkpoint,
    entry_exists,
    fsync_dir,
    own_regular_file,
    read_manifest,
    write_json_atomic,
)
from edi_gate.pipeline.watch.names import printable, safe_base
from edi_gate.pipeline.watch.router import Router
from edi_gate.pipeline.watch.stage import Stager
from edi_gate.pipeline.watch.startup import WatchFatal

RETRY_MAX = 30.0  # longest wait between two attempts at a job a fault stopped


class NotClaimed(Exception):
    """The claiming rename failed (``error``): the file stays in the inbox, nothing was claimed."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class JobRunner:
    """Runs jobs through the protocol above; :class:`Stager` decides what each one writes."""

    def __init__(self, config: WatchConfig, router: Router, stager: Stager, log, stopping) -> None:
        self.config, self.router, self.stager, self.log = config, router, stager, log
        self.stopping = stopping  # () -> bool: the watcher was asked to stop
        self._sequence = 0
        # Jobs a fault stopped (a full disk, a missing directory): retried, never dropped.
        self.retry: dict[str, tuple[float, Job]] = {}

    def new_id(self) -> str:
        self._sequence += 1
        return f"{time.time_ns():019d}-{os.getpid()}-{self._sequence}"

    # steps 1-2

    def claim(self, name: str) -> Job:
        """Claim inbox/``name`` (steps 1 and 2); NotClaimed when the rename fails."""
        job = Job(self.new_id(), name, self.config)
        job.record(CLAIMING)
        checkpoint("claiming")
        try:
            os.rename(self.config.inbox / name, job.claimed)
        except OSError as error:
            job.manifest.unlink(missing_ok=True)
            raise NotClaimed(error) from error
        fsync_dir(self.config.claimed_dir)
        fsync_dir(self.config.inbox)
        checkpoint("claimed")
        return job

    # steps 3-8

    def process(self, job: Job) -> None:
        """Steps 3 to 8 for a claimed job; a fault before the commit rolls it back to CLAIMING."""
        started = time.perf_counter()
        try:
            fd, reason = job.open_claimed()
            try:
                if fd is not None and not job.take_snapshot(fd):
                    self.defer(job, "the file was still being written when it was claimed")
                    job.roll_back()
                    return
                checkpoint("snapshot")
                self._decide(job, fd, reason, started)
            finally:
                if fd is not None:
                    os.close(fd)
        except WatchFatal:
            self._back_to_claimed(job)
            raise
        except OSError as error:  # before the commit: a full disk, an unwritable directory
            self._back_to_claimed(job)
            self.defer(job, f"{error.strerror or error} ({error.filename or 'output'})")

    def _back_to_claimed(self, job: Job) -> None:
        job.roll_back()
        with contextlib.suppress(OSError):
            job.record(CLAIMING)

    def _decide(self, job: Job, fd: int | None, reason: str | None, started: float) -> None:
        route = self.stager.route(job, reason)
        job.partner = route.partner.sender if route.partner else None
        job.outbox = route.outbox
        job.staged = job.stage_paths(route.outbox)
        job.record(STAGING)
        checkpoint("staging")
        staged = self.stager.filter(job, route, reason)
        checkpoint("staged")
        if fd is not None and not job.unchanged(fd):
            self._back_to_claimed(job)
            self.defer(job, "bytes were written to the file after it was claimed")
            return
        self.stager.seal(job, staged)
        base = self.free_base(job, staged.outcome, route.outbox)
        job.record(COMMITTED, outcome=staged.outcome, base=base)
        checkpoint("committed")
        finished = True
        try:
            self.finish(job, staged.outcome, base)
        except OSError as error:  # committed: retried, never dropped or redone
            self.defer(job, error.strerror or str(error))
            finished = False
        checkpoint("done")
        self.stager.done(job, staged, base, finished, started)

    def free_base(self, job: Job, outcome: str, outbox: Path) -> str:
        """A safe version of the partner's name, or ``stem.N.ext`` when a file of that name was
        handled before: a partner resending ``claims.837`` tomorrow must not overwrite today's
        archive or outputs."""
        name = safe_base(job.name)
        stem, dot, suffix = name.partition(".")
        targets = job.targets(outcome, outbox).values()
        reserved = set()  # bases of committed jobs whose moves a fault held up
        for manifest in self.config.jobs_dir.glob("*.json"):
            data = read_manifest(manifest)
            if data is not None and data["state"] == COMMITTED:
                reserved.add(data["base"])
        candidate, number = name, 1
        while candidate in reserved or any(entry_exists(d / f"{candidate}{s}") for d, s in targets):
            number += 1
            candidate = f"{stem}.{number}{dot}{suffix}"
        return candidate

    def finish(self, job: Job, outcome: str, base: str) -> None:
        """Steps 7 and 8 for a committed job. A failure keeps it committed."""
        if job.snapshot and job.decided is not None:
            sidecar = self.config.done_dir / f"{job.id}.json"
            write_json_atomic(sidecar, {"id": job.id, "name": job.name, "decided": job.decided})
        missing = apply_moves(job.moves(outcome, base, job.outbox or self.config.acks))
        if missing:
            self.log.error("watch.moves_missing", job=job.id, missing=missing)
        job.manifest.unlink(missing_ok=True)
        fsync_dir(job.manifest.parent)
        self.retry.pop(job.id, None)

    # faults

    def defer(self, job: Job, why: str) -> None:
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

    def retry_due(self, *, force: bool = False) -> None:
        """Retry the jobs a fault stopped whose time has come (``force``: all of them, once)."""
        now = time.monotonic()
        for job_id, (when, job) in sorted(self.retry.items()):
            if self.stopping() or (when > now and not force):
                continue
            data = read_manifest(job.manifest)
            if data is None and entry_exists(job.manifest):
                self.retry.pop(job_id, None)  # unreadable: its state is unknown, never guessed
                self.set_aside(job.manifest)
            elif data is not None and data["state"] == COMMITTED:
                try:
                    self.finish(job, data["outcome"], data["base"])
                    self.log.info("watch.recovered", job=job_id, action="rolled_forward")
                except MoveError as error:
                    self.defer(job, error.strerror or str(error))
            elif entry_exists(job.claimed):
                self.retry.pop(job_id, None)
                self.process(job)
            else:
                self.retry.pop(job_id, None)

    def set_aside(self, manifest: Path) -> None:
        """A record this watcher did not write (or cannot read): moved to work/rejected/ and
        logged, never acted on."""
        aside = self.config.jobs_dir.parent / "rejected"
        with contextlib.suppress(OSError):
            aside.mkdir(mode=PRIVATE_DIR, exist_ok=True)
            os.replace(manifest, aside / manifest.name)
        with contextlib.suppress(OSError):
            if entry_exists(manifest):
                manifest.unlink()
        self.log.error(
            "watch.manifest_rejected",
            manifest=printable(manifest.name),
            reason="not a manifest this watcher wrote: set aside, not acted on",
        )

    # recovery

    def recover(self) -> dict[str, int]:
        """Finish or roll back whatever a crash left in the job log (see the module docstring).
        Nothing here can stop the watcher: a manifest it did not write is set aside and logged."""
        cfg = self.config
        counts = {"rolled_forward": 0, "rolled_back": 0, "set_aside": 0}
        for leftover in cfg.jobs_dir.glob(".*.tmp"):
            if own_regular_file(leftover):
                leftover.unlink(missing_ok=True)  # a manifest rewrite cut short
        for manifest in sorted(cfg.jobs_dir.iterdir()):
            if manifest.name.startswith("."):
                continue
            data = read_manifest(manifest)
            if data is None:
                self.set_aside(manifest)
                counts["set_aside"] += 1
                continue
            job = self._job_from(data)
            if data["state"] == COMMITTED:
                action = self._roll_forward(job, data)
                counts["rolled_forward"] += 1
            else:
                action = self._roll_back(job)
                counts["rolled_back"] += 1
            self.log.info("watch.recovered", job=job.id, file=printable(job.name), action=action)
        self._clean_snapshots()
        fsync_dir(cfg.jobs_dir)
        return counts

    def _roll_forward(self, job: Job, data: dict[str, Any]) -> str:
        try:
            self.finish(job, data["outcome"], data["base"])
        except MoveError as error:
            self.defer(job, f"{error.strerror}")
            return "still_committed"
        return "rolled_forward"

    def _roll_back(self, job: Job) -> str:
        job.roll_back()
        if not entry_exists(job.claimed):
            job.manifest.unlink(missing_ok=True)  # the claim never happened
            return "dropped_claim"
        job.record(CLAIMING)
        return "rolled_back"

    def _job_from(self, data: dict[str, Any]) -> Job:
        partner = self.router.partner_named(data.get("partner"))
        job = Job(data["id"], data["name"], self.config)
        job.partner = partner.sender if partner else None
        job.outbox = self.router.outbox_of(partner)
        job.snapshot = data.get("snapshot") is True  # which derived source the input move takes
        job.offset = data.get("offset") or 0
        job.decided = data.get("decided")
        return job

    def _clean_snapshots(self) -> None:
        jobs = {p.name.removesuffix(".json") for p in self.config.jobs_dir.glob("*.json")}
        for snap in self.config.snap_dir.iterdir():
            if snap.name not in jobs and own_regular_file(snap):
                snap.unlink()

    def process_claimed(self) -> None:
        """After recovery: every claimed input still there is processed (from step 3)."""
        named, offsets = {}, {}
        for manifest in self.config.jobs_dir.glob("*.json"):
            data = read_manifest(manifest)
            if data is not None and data["state"] == CLAIMING:
                named[data["id"]] = data["name"]
                offsets[data["id"]] = data.get("offset") or 0
        for claimed in sorted(self.config.claimed_dir.iterdir()):
            if self.stopping():
                return
            if claimed.name.startswith(".") or claimed.name in self.retry:
                continue
            job_id = claimed.name
            if not JOB_ID.match(job_id):  # a claimed file of an older version: its own name
                job_id = self.new_id()
                os.rename(claimed, self.config.claimed_dir / job_id)
                named[job_id] = claimed.name.split(".", 1)[-1]
            job = Job(job_id, named.get(job_id, job_id), self.config)
            job.offset = offsets.get(job_id, 0)
            if job_id not in named:
                job.record(CLAIMING)
            self.process(job)

    @property
    def unfinished(self) -> int:
        """Jobs a fault left to retry (``--once`` exits 74 when there are any)."""
        return len(self.retry)
