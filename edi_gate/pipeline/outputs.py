"""Outputs that appear whole or not at all.

A file output is written to a temporary file beside its target (0600 by default) and renamed into
place only when the run succeeds; standard output is spooled and copied out at the end, so a failed
run never leaves half an 837 in a pipe or on disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, BinaryIO

DEFAULT_MODE = 0o600


class OutputSet:
    """A group of outputs committed together: all renamed into place, or none."""

    def __init__(self, mode: int = DEFAULT_MODE) -> None:
        self.mode = mode
        self._files: list[tuple[IO, Path | None, str | None]] = []

    def binary(self, target: str | Path | None) -> BinaryIO:
        """A binary stream for ``target``: a path, '-' for standard output."""
        if target is None or str(target) == "-":
            spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115
            self._files.append((spool, None, None))
            return spool  # type: ignore[return-value]
        path = Path(target)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        os.fchmod(fd, self.mode)
        stream = os.fdopen(fd, "wb")
        self._files.append((stream, path, temp))
        return stream

    def text(self, target: str | Path | None) -> IO[str]:
        """A UTF-8 text stream over :meth:`binary`."""
        import io

        raw = self.binary(target)
        wrapper = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
        self._files[-1] = (wrapper, self._files[-1][1], self._files[-1][2])
        return wrapper

    def commit(self) -> None:
        """Flush, fsync and rename every output into place; copy spooled ones to stdout.

        If any step fails, outputs already renamed by this commit are removed again and the
        remaining temporary files deleted, so a failed commit leaves none of the set behind.
        """
        renamed: list[Path] = []
        try:
            for stream, path, _temp in self._files:
                stream.flush()
                if path is not None:
                    os.fsync(stream.fileno())
            for stream, path, temp in self._files:
                if path is not None and temp is not None:
                    stream.close()
                    os.replace(temp, path)
                    renamed.append(path)
            for stream, path, _temp in self._files:
                if path is None:
                    raw = getattr(stream, "buffer", stream)
                    raw.seek(0)
                    shutil.copyfileobj(raw, sys.stdout.buffer, 1 << 20)
                    sys.stdout.buffer.flush()
        except BaseException:
            for path in renamed:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            self.abort()
            raise
        if renamed:
            with contextlib.suppress(OSError):
                dir_fd = os.open(renamed[0].parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        self._close_all()

    def targets(self) -> list[Path]:
        """The file targets of this set (standard output not included)."""
        return [path for _, path, _ in self._files if path is not None]

    def abort(self) -> None:
        """Drop every output: temporary files are removed, nothing reaches its target."""
        for _stream, _path, temp in self._files:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        self._close_all()

    def _close_all(self) -> None:
        for stream, _, _ in self._files:
            with contextlib.suppress(Exception):
                stream.close()
        self._files = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
