"""The inbox as the watcher sees it: which files are complete, in arrival order."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edi_gate import logs
from edi_gate.pipeline.isa import interchange_complete
from edi_gate.pipeline.watch.config import MAX_WAIT
from edi_gate.pipeline.watch.journal import entry_exists
from edi_gate.pipeline.watch.names import is_incomplete_name, printable


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
            n: r for n, r in self._reported.items() if n in current or entry_exists(self.inbox / n)
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
