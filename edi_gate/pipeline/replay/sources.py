"""What a replay reads: the EDI streams named on the command line, cut into units of work.

Why units: every EDI stream (a file, a ``.gz`` file, a ``.zip`` member) is decided on its own;
a plain file larger than ``split_size`` is cut at interchange (ISA) boundaries found by a byte
scan (:mod:`edi_gate.pipeline.isa`). The cut depends only on the file, never on the worker
count, so the output is the same byte for byte whatever ``--workers`` or engine.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from edi_gate.pipeline.isa import byte_ranges
from edi_gate.x12.errors import shown_name

DEFAULT_SPLIT_SIZE = 8 << 20  # big enough that per-unit overhead is noise, small enough to spread
_SKIP_NAMES = (".DS_Store",)
_OUTSIDE = "symbolic link out of the given directory: not read"


@dataclass(frozen=True)
class Source:
    """One EDI stream: a plain file, a gzip file, or one member of a zip archive."""

    name: str  # what decisions and errors call it: the path, or "archive.zip!member"
    path: str
    member: str | None = None

    def open(self) -> BinaryIO:
        if self.member is not None:
            archive = zipfile.ZipFile(self.path)  # noqa: SIM115 - closed with the member stream
            stream = archive.open(self.member)
            return _Closing(stream, archive)  # type: ignore[return-value]
        if self.path.endswith(".gz"):
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")  # noqa: SIM115 - the caller closes it

    @property
    def splittable(self) -> bool:
        return self.member is None and not self.path.endswith(".gz")


class _Closing(io.RawIOBase):
    """A zip member stream that closes its archive too."""

    def __init__(self, stream: IO[bytes], archive: zipfile.ZipFile) -> None:
        self.stream, self.archive = stream, archive

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.stream.close()
        self.archive.close()
        super().close()


class _Range(io.RawIOBase):
    """Bytes [start, end) of a file: one unit of a split file."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self.handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.handle.seek(start)
        self.left = end - start

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.handle.close()
        super().close()


@dataclass(frozen=True)
class WorkUnit:
    """A piece of work for one worker: a whole stream, or bytes [start, end) of a plain file."""

    index: int
    source: Source
    part: int = 0
    start: int = 0
    end: int | None = None
    parts: int = 1  # units of its source: a split file is decided whole or not at all

    def open(self) -> BinaryIO:
        if self.end is None:
            return self.source.open()
        return _Range(self.source.path, self.start, self.end)  # type: ignore[return-value]


def _is_edi_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name not in _SKIP_NAMES


def _walk(root: Path, errors: list[dict[str, str]]) -> list[Path]:
    """The files under ``root``, sorted. Symbolic links are followed only while they stay inside
    the tree: a link to ``/etc/shadow`` in an archive directory is an error, never read."""
    top = root.resolve()
    found = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames):
            path = Path(directory, name)
            if path.is_symlink() and not _is_inside(path, top):
                errors.append({"source": str(path), "error": _OUTSIDE})
        for name in filenames:
            path = Path(directory, name)
            if path.is_symlink() and not _is_inside(path, top):
                errors.append({"source": str(path), "error": _OUTSIDE})
                continue
            if _is_edi_candidate(path):
                found.append(path)
    return sorted(found)


def _is_inside(path: Path, top: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return target == top or top in target.parents


def _paths_of(argument: str, errors: list[dict[str, str]]) -> list[Path]:
    """The paths one argument names: a glob's matches (sorted), or the argument itself."""
    if not glob.has_magic(argument):
        return [Path(argument)]
    matches = sorted(glob.glob(argument, recursive=True))
    if not matches:
        errors.append({"source": argument, "error": "no file matches this pattern"})
    return [Path(m) for m in matches]


def expand_inputs(arguments: Iterable[str]) -> tuple[list[Source], list[dict[str, str]]]:
    """Sources named by files, directories (recursive), globs, .gz files and .zip archives, in a
    stable order (arguments as given, directory contents sorted). Missing ones become errors."""
    sources: list[Source] = []
    errors: list[dict[str, str]] = []
    for argument in arguments:
        for path in _paths_of(argument, errors):
            if path.is_dir():
                files = _walk(path, errors)
            elif path.is_file():
                files = [path]
            else:
                errors.append({"source": str(path), "error": "no such file or directory"})
                continue
            for file in files:
                sources.extend(_sources_of(file, errors))
    return sources, errors


def _sources_of(path: Path, errors: list[dict[str, str]]) -> list[Source]:
    if path.suffix.lower() != ".zip":
        return [Source(shown_name(str(path)), str(path))]  # names escaped for reports
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                info.filename
                for info in archive.infolist()
                if not info.is_dir() and not Path(info.filename).name.startswith(".")
            )
    except (zipfile.BadZipFile, OSError) as error:
        errors.append({"source": str(path), "error": f"not a readable zip archive: {error}"})
        return []
    return [Source(shown_name(f"{path}!{member}"), str(path), member) for member in members]


def plan_units(sources: list[Source], split_size: int = DEFAULT_SPLIT_SIZE) -> list[WorkUnit]:
    """The units of work, in output order; large plain files cut at ISA boundaries."""
    units: list[WorkUnit] = []
    for source in sources:
        if not source.splittable:
            units.append(WorkUnit(len(units), source))
            continue
        try:
            ranges = byte_ranges(source.path, split_size)
        except OSError:
            ranges = [(0, 0)]  # let the worker report why it cannot read the file
        if len(ranges) == 1:
            units.append(WorkUnit(len(units), source))
            continue
        for part, (start, end) in enumerate(ranges):
            units.append(WorkUnit(len(units), source, part, start, end, len(ranges)))
    return units


def unit_sizes(units: list[WorkUnit]) -> list[int]:
    """Bytes per unit, for a progress bar that moves with the work rather than the unit count."""
    sizes = []
    for unit in units:
        if unit.end is not None:
            sizes.append(unit.end - unit.start)
        else:
            try:
                sizes.append(os.path.getsize(unit.source.path) if unit.source.member is None else 0)
            except OSError:
                sizes.append(0)
    return sizes
