"""One unit of work, decided: its decisions on disk, its tallies in hand.

Why files: a unit's decisions (and ``--compare`` changes) never sit in memory whole. The worker
writes them to a file in a spool directory as the filter produces them, tallying each line as
it passes, and sends back only the file's path and the tallies (:class:`UnitResult`); the
merger appends the file to ``decisions.jsonl`` and deletes it. Positions in the file are
relative to the unit: the merger shifts them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from edi_gate.errors import X12Error
from edi_gate.pipeline.filter import FilterRun, RuleEngine
from edi_gate.pipeline.replay.compare import Comparison, PairEngine
from edi_gate.pipeline.replay.settings import DEFAULTS, UnitSettings
from edi_gate.pipeline.replay.sources import WorkUnit
from edi_gate.pipeline.replay.statistics import Stats


@dataclass
class UnitResult:
    """What a worker sends back: where its decisions are (a JSON Lines file, positions relative
    to the unit) and the changes between two rulesets (a file, when any), tallies, or the error
    that stopped the unit. Only paths and tallies: the decisions themselves stay on disk, and
    whoever takes the result owns the files (appends them, then deletes them)."""

    index: int
    source: str
    part: int
    claims: int = 0
    decisions_path: str | None = None
    changes_path: str | None = None
    stats: Stats = field(default_factory=Stats)
    stats_b: Stats | None = None
    changed: int = 0  # claims whose decision changes from A to B (lines of the changes file)
    transitions: Counter[str] = field(default_factory=Counter)  # "a -> b": claims
    error: str | None = None
    byte_range: tuple[int, int | None] | None = None
    parts: int = 1

    def discard(self) -> None:
        """Delete the result's files (when nobody will append them)."""
        for path in (self.decisions_path, self.changes_path):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.decisions_path = self.changes_path = None


class SpoolWriteError(OSError):
    """A unit file could not be written (disk full): the replay fails, not just the unit."""


def _put(file: BinaryIO, data: bytes | None) -> None:
    """Write ``data`` (None: close the file); a failure is the spool's, not the input's."""
    try:
        if data is None:
            file.close()
        else:
            file.write(data)
    except OSError as error:
        message = f"cannot write unit file: {error.strerror or error}"
        raise SpoolWriteError(error.errno, message, file.name) from error


class UnitSink(io.TextIOBase):
    """Where FilterRun writes one unit's decisions: straight to a file in the spool directory,
    each complete line tallied as it passes (and, for ``--compare``, handed to the
    :class:`Comparison`, its change line written when the decision differs). Memory: one line
    and the tallies."""

    def __init__(self, spool: str | os.PathLike[str], index: int, pair: PairEngine | None) -> None:
        super().__init__()
        self.spool, self.index = spool, index
        self.file: BinaryIO | None
        self.path, self.file = self._create("decisions")
        self.changes_path: str | None = None
        self.changes: BinaryIO | None = None
        self.claims = 0
        self.stats = Stats()
        self.comparison = Comparison(pair) if pair is not None else None
        self._tail = ""

    def _create(self, kind: str) -> tuple[str, BinaryIO]:
        prefix = f"unit-{self.index:06d}."
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=f".{kind}.jsonl", dir=self.spool)
        return path, os.fdopen(fd, "wb")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        assert self.file is not None
        _put(self.file, text.encode("utf-8"))
        lines = (self._tail + text).split("\n") if self._tail else text.split("\n")
        self._tail = lines.pop()
        for line in lines:
            self._count(line)
        return len(text)

    def _count(self, line: str) -> None:
        record = json.loads(line)
        self.stats.add(record)
        self.claims += 1
        if self.comparison is None:
            return
        change = self.comparison.compare(record)
        if change is None:
            return
        if self.changes is None:
            self.changes_path, self.changes = self._create("changes")
        _put(self.changes, json.dumps(change, separators=(",", ":")).encode() + b"\n")

    def finish(self, result: UnitResult) -> None:
        """Close the files and hand them, with the tallies, to ``result``."""
        if self._tail:
            self._count(self._tail)
            self._tail = ""
        for file in (self.file, self.changes):
            if file is not None:
                _put(file, None)
        self.file = self.changes = None
        result.claims, result.stats = self.claims, self.stats
        if self.comparison is not None:
            result.stats_b = self.comparison.stats
            result.changed, result.transitions = (
                self.comparison.changed,
                self.comparison.transitions,
            )
        result.decisions_path, result.changes_path = self.path, self.changes_path

    def discard(self) -> None:
        """Close and delete the files: the unit failed."""
        for file in (self.file, self.changes):
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()
        self.file = self.changes = None
        for path in (self.path, self.changes_path):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def process_unit(
    unit: WorkUnit,
    settings: UnitSettings = DEFAULTS,
    *,
    engines: tuple[RuleEngine, RuleEngine | None] | None = None,
    spool: str | os.PathLike[str] | None = None,
) -> UnitResult:
    """Decide every claim of one unit, writing its decisions to a file in ``spool`` (the system
    temporary directory by default; the caller owns the files of the result). X12 that cannot
    be read (or that breaks a limit) makes the unit an error: its claims are not counted (a
    half-read interchange would be a half-truth) and its files are deleted."""
    result = UnitResult(
        unit.index,
        unit.source.name,
        unit.part,
        byte_range=(unit.start, unit.end) if unit.end is not None else None,
        parts=unit.parts,
    )
    engine_a, engine_b = engines if engines is not None else settings.engines()
    scope = settings.scope
    pair = PairEngine(engine_a, engine_b, scope) if engine_b is not None else None
    sink = UnitSink(spool if spool is not None else tempfile.gettempdir(), unit.index, pair)
    try:
        with unit.open() as stream:
            run = FilterRun(pair or engine_a, scope=scope, decisions=sink, limits=settings.limits)
            summary = run.run(stream, unit.source.name)
        sink.finish(result)
        result.stats.count_unjudged(summary)
    except SpoolWriteError:
        sink.discard()
        raise
    except X12Error as error:
        sink.discard()
        where = f"{error.source}: "
        result.error = str(error).removeprefix(where) if error.source else str(error)
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        sink.discard()
        result.error = f"{unit.source.name}: cannot read: {error}"
    except BaseException:
        sink.discard()
        raise
    return result
