"""One filter run over one input with all its outputs, committed together or not at all."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from edi_gate.acks.ack999 import Ack999Writer
from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.ta1 import write_ta1
from edi_gate.errors import X12Error
from edi_gate.pipeline.filter import FilterRun, RuleEngine, Summary, prescan
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.x12.loops import Limits


@dataclass
class FilterTargets:
    """Where a run's outputs go; None means not written, '-' means standard output."""

    output: str | None = "-"
    acks: str | None = None
    ack999: str | None = None
    decisions: str | None = None
    control_state: Path | None = None
    control_start: int = 1


def run_filter_file(
    source: BinaryIO,
    name: str,
    engine: RuleEngine,
    targets: FilterTargets,
    *,
    scope: str = "claim",
    reject: str = "set",
    now: datetime,
    limits: Limits | None = None,
) -> Summary:
    """Filter ``source`` into the targets. On unreadable X12 nothing is written but the TA1/999.

    ``reject``: what a transaction set with syntax errors takes down with it: its own claims
    ("set", the default) or every claim of its interchange ("interchange", read in two passes).
    """
    outputs = OutputSet()
    rejected_interchanges: dict[int, str] = {}
    try:
        if reject == "interchange":
            source = _seekable(source)
            rejected_interchanges = prescan(source, name, limits)
            source.seek(0)
        out = outputs.binary(targets.output) if targets.output else None
        decisions = outputs.text(targets.decisions) if targets.decisions else None
        control = ca277 = ack999 = None
        if targets.acks or targets.ack999:
            control = ControlNumbers(state_path=targets.control_state, start=targets.control_start)
        if targets.acks:
            ca277 = Ack277Writer(outputs.binary(targets.acks), control=control, now=now)
        if targets.ack999:
            ack_stream = outputs.binary(targets.ack999)
            ack999 = Ack999Writer(ack_stream, control=control, now=now)
        run = FilterRun(
            engine,
            scope=scope,
            out=out,
            decisions=decisions,
            acks=ca277,
            ack999=ack999,
            rejected_interchanges=rejected_interchanges,
            limits=limits,
        )
        summary = run.run(source, name)
        if ack999 is not None:
            # Trailers that disagreed with their ISA: a TA1 "accepted with errors" for each.
            for isa, issues in run.interchange_issues:
                for issue in issues:
                    write_ta1(ack_stream, isa, note=issue.code, control=control, now=now)
    except X12Error as error:
        outputs.abort()
        if targets.ack999:
            _write_interchange_ack(error, targets, now)
        raise
    except BaseException as error:
        _name_outputs(error, outputs)
        outputs.abort()
        raise
    try:
        outputs.commit()
    except BaseException as error:  # disk full at flush/fsync: no output appears at all
        _name_outputs(error, outputs)
        outputs.abort()
        raise
    return summary


def _seekable(source: BinaryIO) -> BinaryIO:
    """``source`` itself when it can be read twice, else a spooled copy (standard input)."""
    try:
        if source.seekable():
            return source
    except (AttributeError, ValueError):
        pass
    copy = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed with the run
    shutil.copyfileobj(source, copy, 1 << 20)
    copy.seek(0)
    return copy  # type: ignore[return-value]


def _name_outputs(error: BaseException, outputs: OutputSet) -> None:
    """A write error (ENOSPC) carries no file name: name the outputs that were being written."""
    if isinstance(error, OSError) and not error.filename:
        error.filename = ", ".join(str(path) for path in outputs.targets()) or None


def _write_interchange_ack(error: X12Error, targets: FilterTargets, now: datetime) -> None:
    """A TA1 for the interchange that could not be read, when there was an ISA to answer."""
    control = ControlNumbers(state_path=targets.control_state, start=targets.control_start)
    with OutputSet() as outputs:
        written = write_ta1(outputs.binary(targets.ack999), error, control=control, now=now)
        if not written:
            outputs.abort()
