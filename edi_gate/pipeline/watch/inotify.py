"""Just enough inotify (through libc) to wake on new files and see how they were written."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import struct
from pathlib import Path


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
        events: list[tuple[int, str]] = []
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
