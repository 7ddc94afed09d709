"""Outputs that appear whole or not at all.

A file output is written to a temporary file beside its target (0600 by default) and renamed into
place only when the run succeeds; standard output is spooled and copied out at the end, so a failed
run never leaves half an 837 in a pipe or on disk. A target that exists and is not a regular file
(``/dev/null``, a FIFO another process reads) is written in place: renaming over it would replace
the device with a file.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

DEFAULT_MODE = 0o600
STDOUT_SPOOL_BYTES = 16 << 20


@dataclass
class _Output:
    stream: IO
    path: Path | None = None  # the file target, renamed into place on commit
    temp: str | None = None  # its temporary name
    spooled: bool = False  # standard output: copied out on commit


def _copy_to_stdout(raw: IO[bytes]) -> None:
    """Copy a spooled output to standard output; a closed or broken stdout is an OSError naming
    it (exit 74), and stdout is pointed at /dev/null so the interpreter's last flush is quiet."""
    stdout = sys.stdout
    if stdout is None:
        raise OSError(errno.EBADF, "standard output is closed", "<stdout>")
    try:
        shutil.copyfileobj(raw, stdout.buffer, 1 << 20)
        stdout.buffer.flush()
    except OSError as error:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
            os.close(devnull)
        error.filename = "<stdout>"
        raise


class OutputSet:
    """A group of outputs committed together: all renamed into place, or none."""

    def __init__(self, mode: int = DEFAULT_MODE) -> None:
        self.mode = mode
        self._outputs: list[_Output] = []

    def binary(self, target: str | Path | None) -> BinaryIO:
        """A binary stream for ``target``: a path, '-' (or None) for standard output."""
        if target is None or str(target) == "-":
            spool = tempfile.SpooledTemporaryFile(max_size=STDOUT_SPOOL_BYTES)  # noqa: SIM115
            self._outputs.append(_Output(spool, spooled=True))
            return spool  # type: ignore[return-value]
        path = Path(target)
        if path.exists() and not path.is_file():
            stream = open(path, "wb")  # noqa: SIM115 - closed by commit or abort
            self._outputs.append(_Output(stream))
            return stream
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        os.fchmod(fd, self.mode)
        stream = os.fdopen(fd, "wb")
        self._outputs.append(_Output(stream, path, temp))
        return stream

    def text(self, target: str | Path | None) -> IO[str]:
        """A UTF-8 text stream over :meth:`binary`."""
        raw = self.binary(target)
        wrapper = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
        self._outputs[-1].stream = wrapper
        return wrapper

    def targets(self) -> list[Path]:
        """The file targets of this set (standard output and devices not included)."""
        return [out.path for out in self._outputs if out.path is not None]

    def commit(self) -> None:
        """Flush, fsync and rename every output into place; copy spooled ones to stdout.

        If any step fails, outputs already renamed by this commit are removed again and the
        remaining temporary files deleted, so a failed commit leaves none of the set behind.
        """
        renamed: list[Path] = []
        try:
            for out in self._outputs:
                out.stream.flush()
                if out.temp is not None:
                    os.fsync(out.stream.fileno())
            for out in self._outputs:
                if out.path is not None and out.temp is not None:
                    out.stream.close()
                    os.replace(out.temp, out.path)
                    renamed.append(out.path)
            for out in self._outputs:
                if out.spooled:
                    raw = getattr(out.stream, "buffer", out.stream)
                    raw.seek(0)
                    _copy_to_stdout(raw)
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

    def abort(self) -> None:
        """Drop every output: temporary files are removed, nothing reaches its target."""
        for out in self._outputs:
            if out.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(out.temp)
        self._close_all()

    def _close_all(self) -> None:
        for out in self._outputs:
            with contextlib.suppress(Exception):
                out.stream.close()
        self._outputs = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
