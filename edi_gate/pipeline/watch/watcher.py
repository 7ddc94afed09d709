"""The watcher: the loop that takes complete files from the inbox and runs each as a job.

Start-up checks are :mod:`.startup`'s, the exactly-once job protocol is :mod:`.protocol`'s, what
a job writes is :mod:`.stage`'s, appended tails are :mod:`.appended`'s; this module ties them to
the drop folder and inotify, and stops cleanly when asked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from typing import Any

from edi_gate import logs
from edi_gate.pipeline.watch.appended import DoneArea
from edi_gate.pipeline.watch.config import WatchConfig
from edi_gate.pipeline.watch.drop_folder import DropFolder
from edi_gate.pipeline.watch.inotify import Inotify
from edi_gate.pipeline.watch.names import is_incomplete_name
from edi_gate.pipeline.watch.protocol import JobRunner, NotClaimed
from edi_gate.pipeline.watch.router import Router
from edi_gate.pipeline.watch.stage import Stager
from edi_gate.pipeline.watch.startup import WatchFatal, prepare
from edi_gate.state.store import StateStore

__all__ = ["WatchFatal", "Watcher", "recover"]


class Watcher:
    """Takes complete files from the inbox and runs each through the job protocol."""

    def __init__(self, config: WatchConfig, router: Router, *, log=None) -> None:
        self.config = config
        self.router = router
        self.log = log or logs.get_logger()
        self.drop = DropFolder(config.inbox, config.settle, max_wait=config.max_wait, log=self.log)
        self._stop = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._lock_fd: int | None = None
        self.stager = Stager(config, router, self.log)
        self.jobs = JobRunner(config, router, self.stager, self.log, lambda: self.stopping)
        self.done_area = DoneArea(config, self.jobs, self.log)
        self.state: StateStore | None = None  # the state database, opened by prepare()

    # lifecycle

    def prepare(self) -> None:
        """Check (or create, with ``create_dirs``) every directory, take the single-watcher lock,
        check renames can be atomic and the control-number state is readable."""
        prepared = prepare(self.config, self.router)
        self.state = self.stager.state = prepared.state
        self.stager.outbox_gid = prepared.outbox_gid
        self._lock_fd = prepared.lock_fd
        self.log.info("watch.partners", policy=self.router.policy())

    @property
    def processed(self):
        """The latest file events (bounded)."""
        return self.stager.processed

    @property
    def unfinished(self) -> int:
        """Jobs a fault left to retry (``--once`` exits 74 when there are any)."""
        return self.jobs.unfinished

    def recover(self) -> dict[str, int]:
        """Finish or roll back whatever a crash left in the job log (see :mod:`.protocol`)."""
        return self.jobs.recover()

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
            self.jobs.process_claimed()
            self.done_area.sweep()
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
        self.jobs.retry_due(force=True)
        self.done_area.sweep()

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
                self.jobs.retry_due()
                self.done_area.sweep()
                # Pending files that are not settled yet: look again soon, whatever inotify says.
                wait = self.config.interval
                if inotify is None:
                    self._stop.wait(wait)
                    continue
                self._note_events(inotify.wait(wait, self._wake_read))
        finally:
            if inotify is not None:
                inotify.close()
            self.log.info("watch.stopped", unfinished=self.jobs.unfinished)

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

    # one file

    def _take(self, name: str) -> None:
        """Claim ``name`` by renaming it out of the inbox, then process it."""
        try:
            job = self.jobs.claim(name)
        except NotClaimed as failed:
            if failed.error.errno == errno.ENOENT:  # gone (its sender renamed or deleted it)
                self.drop.forget(name)
            else:
                self.drop.refuse(name, f"cannot be claimed: {failed.error.strerror or failed}")
            return
        self.drop.forget(name)
        self.jobs.process(job)


def recover(config: WatchConfig, router: Router, log=None) -> dict[str, int]:
    """Recovery alone (for tools and tests): what :meth:`Watcher.run` does first."""
    return Watcher(config, router, log=log).recover()
