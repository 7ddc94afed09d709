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
from edi_gate.pipeline.filter import FilterRun, RuleEngine, Summary
from edi_gate.pipeline.interchanges import REFUSED_WITH_FILE_NOTE, InterchangeLog, prescan
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.sinks import Sink, output_sinks
from edi_gate.state.control import SharedControlNumbers
from edi_gate.state.record import ClaimRecord, DuplicateClaims, InterchangeRecord, admit_with
from edi_gate.state.store import StateStore
from edi_gate.vocabulary import RejectPolicy
from edi_gate.x12.loops import Limits

# TA105 note 025: "Duplicate Interchange Control Number" (X12 element I18).
DUPLICATE_NOTE = "025"


@dataclass
class FilterTargets:
    """Where a run's outputs go; None means not written, '-' means standard output."""

    output: str | None = "-"
    acks: str | None = None
    ack999: str | None = None
    decisions: str | None = None
    control_state: Path | None = None
    control_start: int = 1
    # The state database (edi_gate.state): control numbers when no control_state file is given,
    # and the duplicate record when duplicate_window > 0 (seconds). ``owner`` names the run in
    # the record (watch: its job, so a retried job is not refused by its own first attempt).
    state: StateStore | None = None
    duplicate_window: float = 0.0
    owner: str | None = None
    duplicate_claims: bool = False  # also reject claims accepted before (same window)

    def control_numbers(self) -> ControlNumbers:
        """The acknowledgments' control numbers: the --control-state file, else the state
        database, else in memory (from control_start)."""
        if self.control_state is None and self.state is not None:
            return SharedControlNumbers(self.state, start=self.control_start)
        return ControlNumbers(state_path=self.control_state, start=self.control_start)

    def interchange_record(self) -> InterchangeRecord | None:
        if self.state is None or self.duplicate_window <= 0:
            return None
        return InterchangeRecord(self.state, window=self.duplicate_window, owner=self.owner)

    def claim_check(self) -> DuplicateClaims | None:
        if self.state is None or self.duplicate_window <= 0 or not self.duplicate_claims:
            return None
        return DuplicateClaims(ClaimRecord(self.state, window=self.duplicate_window))


def run_filter_file(
    source: BinaryIO,
    name: str,
    engine: RuleEngine,
    targets: FilterTargets,
    *,
    scope: str = "claim",
    reject: str = "set",
    require_ruleset: bool = False,
    now: datetime,
    limits: Limits | None = None,
) -> Summary:
    """Filter ``source`` into the targets. On unreadable X12 nothing is written but the TA1/999.

    ``reject``: what a transaction set with syntax errors takes down with it: its own claims
    ("set", the default) or every claim of its interchange ("interchange", read in two passes).

    With a duplicate record (``targets.duplicate_window``), an interchange already accepted from
    the same sender is skipped whole and answered with a TA1 R/025; the record keeps this run's
    interchanges only once its outputs are committed.
    """
    outputs = OutputSet()
    record = targets.interchange_record()
    claims = targets.claim_check()
    rejected_interchanges: dict[int, str] = {}
    log = InterchangeLog()  # the interchanges read by the pass under way, for TA1s on refusal
    try:
        if reject == RejectPolicy.INTERCHANGE:
            source = _seekable(source)
            rejected_interchanges = prescan(source, name, limits, log=log)
            log.close()
            log = InterchangeLog()
            source.seek(0)
        sinks, answers = _open_outputs(outputs, targets, engine, now)
        run = FilterRun(
            engine,
            scope=scope,
            sinks=sinks,
            rejected_interchanges=rejected_interchanges,
            admit=admit_with(record) if record is not None else None,
            require_ruleset=require_ruleset,
            duplicate_claims=claims,
            interchanges=log,
            limits=limits,
        )
        summary = run.run(source, name)
        if answers is not None:
            answers.write(run)
    except X12Error as error:
        _release(record, claims)
        outputs.abort()
        if targets.ack999:
            _write_interchange_acks(error, log, targets, now)
        log.close()
        raise
    except BaseException as error:
        _release(record, claims)
        _name_outputs(error, outputs)
        outputs.abort()
        raise
    log.close()
    try:
        outputs.commit()
    except BaseException as error:  # disk full at flush/fsync: no output appears at all
        _release(record, claims)
        _name_outputs(error, outputs)
        outputs.abort()
        raise
    if record is not None:
        record.commit()
    if claims is not None:
        claims.record.commit()
    return summary


@dataclass
class _InterchangeAnswers:
    """The TA1s a run's 999 output gets after the run, for the interchanges themselves."""

    stream: BinaryIO
    control: ControlNumbers
    now: datetime

    def write(self, run: FilterRun) -> None:
        # Trailers that disagreed with their ISA: a TA1 "accepted with errors" for each.
        for isa, issues in run.interchange_issues:
            for issue in issues:
                write_ta1(self.stream, isa, note=issue.code, control=self.control, now=self.now)
        # Interchanges seen before: rejected, "duplicate interchange control number".
        for refused in run.refused:
            write_ta1(
                self.stream,
                refused.isa,
                note=DUPLICATE_NOTE,
                ack_code="R",
                control=self.control,
                now=self.now,
            )


def _open_outputs(
    outputs: OutputSet, targets: FilterTargets, engine: RuleEngine, now: datetime
) -> tuple[list[Sink], _InterchangeAnswers | None]:
    """The run's sinks, writing into ``outputs``, and the TA1s to add to its 999 output."""
    out = outputs.binary(targets.output) if targets.output else None
    decisions = outputs.text(targets.decisions) if targets.decisions else None
    ca277 = ack999 = answers = None
    if targets.acks or targets.ack999:
        control = targets.control_numbers()
        if targets.acks:
            ca277 = Ack277Writer(outputs.binary(targets.acks), control=control, now=now)
        if targets.ack999:
            ack_stream = outputs.binary(targets.ack999)
            ack999 = Ack999Writer(ack_stream, control=control, now=now)
            answers = _InterchangeAnswers(ack_stream, control, now)
    sinks = output_sinks(engine, out=out, acks=ca277, ack999=ack999, decisions=decisions)
    return sinks, answers


def _release(record: InterchangeRecord | None, claims: DuplicateClaims | None) -> None:
    """A failed run: forget what it claimed, so the same input sent again is processed."""
    if record is not None:
        record.release()
    if claims is not None:
        claims.record.release()


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


def _write_interchange_acks(
    error: X12Error, log: InterchangeLog, targets: FilterTargets, now: datetime
) -> None:
    """A TA1 rejecting each interchange of a refused file whose ISA was read: the sound ones
    before the error (refused with the file: note 022) and the one that could not be read
    (the reader's note). Acknowledgment-only interchanges get none (see InterchangeLog)."""
    control = targets.control_numbers()
    with OutputSet() as outputs:
        stream = outputs.binary(targets.ack999)
        written = False
        for isa in log.finished():
            written |= write_ta1(
                stream, isa, error=error, note=REFUSED_WITH_FILE_NOTE, control=control, now=now
            )
        written |= write_ta1(stream, error, control=control, now=now)
        if not written:
            outputs.abort()
