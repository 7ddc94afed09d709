"""Bytes a client appends to a file after its job: decided as a file of their own, never twice.

Why: a client that paused mid-upload may look complete (quiet, a matching IEA) and be taken;
when it writes more, those bytes land in the claimed original, which the job has moved to
``work/done/`` with a sidecar saying where the decided bytes end. Once the new bytes have
settled they are claimed (an atomic rename) as a job starting at that offset. An original no
client touches for ``max_wait`` seconds is forgotten.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path

from edi_gate.pipeline.watch.config import WatchConfig
from edi_gate.pipeline.watch.journal import CLAIMING, JOB_ID, Job, entry_exists
from edi_gate.pipeline.watch.names import printable
from edi_gate.pipeline.watch.protocol import JobRunner


class DoneArea:
    """The claimed originals kept in ``work/done/`` for ``max_wait`` seconds after their job."""

    def __init__(self, config: WatchConfig, jobs: JobRunner, log) -> None:
        self.config, self.jobs, self.log = config, jobs, log
        self._done: dict[str, tuple[int, str]] = {}  # done/ originals: decided bytes, name

    def sweep(self, *, now: float | None = None) -> None:
        """Take the settled tails, forget the originals whose time is up."""
        cfg = self.config
        now = time.time() if now is None else now
        for sidecar in sorted(cfg.done_dir.glob("*.json")):
            job_id = sidecar.name.removesuffix(".json")
            if not JOB_ID.match(job_id) or entry_exists(cfg.jobs_dir / sidecar.name):
                continue  # its job is still committed: recovery moves the original here first
            self._look_at(sidecar, cfg.done_dir / job_id, now)
        for leftover in cfg.done_dir.iterdir():  # an original whose sidecar never got written
            if leftover.suffix != ".json" and not entry_exists(
                leftover.with_name(leftover.name + ".json")
            ):
                with contextlib.suppress(OSError):
                    if now - os.lstat(leftover).st_mtime >= cfg.max_wait:
                        leftover.unlink()

    def _look_at(self, sidecar: Path, original: Path, now: float) -> None:
        cfg = self.config
        try:
            info = os.lstat(original)
            if now - info.st_mtime < min(cfg.settle, cfg.max_wait):
                return  # being written: look again later
            if original.name not in self._done:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                name = str(data.get("name") or original.name)
                self._done[original.name] = (int(data["decided"]), name)
        except (OSError, ValueError, TypeError, KeyError):
            self._forget(sidecar, original)
            return
        decided, name = self._done[original.name]
        quiet = now - info.st_mtime
        if not stat.S_ISREG(info.st_mode):
            self._forget(sidecar, original)
        elif info.st_size > decided and quiet >= cfg.settle:
            self._done.pop(original.name, None)
            self._take_tail(original, sidecar, name, decided)
        elif quiet >= cfg.max_wait or info.st_size < decided:
            self._forget(sidecar, original)

    def _forget(self, sidecar: Path, original: Path) -> None:
        self._done.pop(original.name, None)
        for path in (original, sidecar):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _take_tail(self, original: Path, sidecar: Path, name: str, decided: int) -> None:
        job = Job(self.jobs.new_id(), name, self.config)
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
        self.jobs.process(job)
