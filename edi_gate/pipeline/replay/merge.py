"""Unit results merged in unit order into one replay's outputs.

Why an order: results are written in unit order, so the output is the same byte for byte
whatever ``--workers`` or engine. Positions: a worker numbers claims from 1 within its unit; the
merger adds the number of claims of the earlier units of the same file, so ``position`` is the
claim's ordinal in its file. Memory: a unit's file is appended a chunk at a time (shifting
positions) and deleted, so memory stays flat whatever the size of the archive.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from edi_gate.pipeline.outdir import clean_stale, lock_output_dir
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.positions import shift_positions
from edi_gate.pipeline.replay.report import replay_summary, write_summaries
from edi_gate.pipeline.replay.settings import EngineSpec
from edi_gate.pipeline.replay.statistics import Stats
from edi_gate.pipeline.replay.unit import UnitResult

COPY_CHUNK = 1 << 20  # bytes the merger moves at a time from a unit file to decisions.jsonl


def append_shifted(path: str, sink: BinaryIO, offset: int, chunk_size: int | None = None) -> None:
    """Append the JSON Lines file ``path`` to ``sink`` with positions shifted by ``offset``, a
    chunk at a time (cut at line ends, so no ``"position":N`` is ever split); a plain copy when
    there is nothing to shift."""
    chunk_size = chunk_size or COPY_CHUNK
    with open(path, "rb") as source:
        if not offset:
            shutil.copyfileobj(source, sink, chunk_size)
            return
        carry = b""
        while chunk := source.read(chunk_size):
            if carry:
                chunk = carry + chunk
            cut = chunk.rfind(b"\n") + 1
            carry = chunk[cut:]
            if cut:
                sink.write(shift_positions(chunk[:cut], offset))
        if carry:
            sink.write(shift_positions(carry, offset))


@dataclass
class ResultMerger:
    """Merges unit results in order into ``out``: positions, decisions/changes files, tallies
    and errors; then writes the summary. It owns ``out`` while it runs (a lock on it)."""

    out: Path
    spec: EngineSpec
    compare_with: EngineSpec | None = None
    write_jsonl: bool = True
    stats: Stats = field(default_factory=Stats)
    stats_b: Stats | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    sources_read: set[str] = field(default_factory=set)
    sources_seen: set[str] = field(default_factory=set)
    changes: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    _offsets: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._held: dict[str, list[UnitResult]] = {}
        self.out.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock: int | None = lock_output_dir(self.out)
        clean_stale(self.out)  # what a killed replay left: nobody else is writing here
        self._outputs = OutputSet()  # 0600: decisions name claims and NPIs
        comparing = self.compare_with is not None
        self._decisions = self._jsonl("decisions.jsonl", self.write_jsonl)
        self._changes = self._jsonl("changes.jsonl", self.write_jsonl and comparing)
        if comparing:
            self.stats_b = Stats()

    def _jsonl(self, name: str, wanted: bool) -> BinaryIO | None:
        return self._outputs.binary(self.out / name) if wanted else None

    def add(self, result: UnitResult) -> None:
        """Merge a unit's result. The parts of a split file are held (their files stay on disk)
        until the last one: if any part could not be read, the whole file is an error, exactly
        as when it is read in one piece, so cutting never changes a decision."""
        if result.parts <= 1:
            self._add(result)
            return
        held = self._held.setdefault(result.source, [])
        held.append(result)
        if result.part < result.parts - 1:
            return
        del self._held[result.source]
        failed = next((r for r in held if r.error is not None), None)
        if failed is None:
            for each in held:
                self._add(each)
            return
        for other in held:
            if other is not failed:
                other.discard()
        self._add(failed)

    def _add(self, result: UnitResult) -> None:
        self.sources_seen.add(result.source)
        if result.error is not None:
            self._add_error(result)
            return
        self.sources_read.add(result.source)
        offset = self._offsets[result.source]
        self._offsets[result.source] += result.claims
        self.stats.merge(result.stats)
        if self.stats_b is not None and result.stats_b is not None:
            self.stats_b.merge(result.stats_b)
        self.changes += result.changed
        self.transitions.update(result.transitions)
        try:
            if self._decisions is not None and result.decisions_path is not None:
                append_shifted(result.decisions_path, self._decisions, offset)
            if self._changes is not None and result.changes_path is not None:
                append_shifted(result.changes_path, self._changes, offset)
        finally:
            result.discard()

    def _add_error(self, result: UnitResult) -> None:
        result.discard()
        error: dict[str, Any] = {"source": result.source, "error": result.error}
        if result.byte_range is not None:
            error["part"] = result.part
            error["bytes"] = list(result.byte_range)
        self.errors.append(error)

    def close(self) -> None:
        """Release the output directory (after finish or abort)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None

    def abort(self) -> None:
        for held in self._held.values():
            for result in held:
                result.discard()
        self._held = {}
        self._outputs.abort()
        self.close()

    def summary(self) -> dict[str, Any]:
        """The numbers of summary.json (see :func:`replay_summary`)."""
        return replay_summary(self)

    def finish(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write summary.json and summary.txt next to the decisions; commit them all together."""
        data = self.summary()
        if extra:
            data.update(extra)
        write_summaries(self._outputs, self.out, data)
        try:
            self._outputs.commit()
        finally:
            self.close()
        return data
