"""One filter run over one input with all its outputs, committed together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from edi_gate.errors import X12Error
from edi_gate.pipeline.filter import FilterRun, RuleEngine, Summary
from edi_gate.pipeline.outputs import OutputSet


@dataclass
class FilterTargets:
    """Where a run's outputs go; None means not written, '-' means standard output."""

    output: str | None = "-"
    acks: str | None = None
    ack999: str | None = None
    decisions: str | None = None
    control_state: Path | None = None
    control_start: int = 1


def _ack_writers(outputs: OutputSet, targets: FilterTargets, now: datetime):
    """The 277CA and 999 writers for the targets that ask for them."""
    if not targets.acks and not targets.ack999:
        return None, None, None
    from edi_gate.acks.ack999 import Ack999Writer
    from edi_gate.acks.ca277 import Ack277Writer
    from edi_gate.acks.state import ControlNumbers

    control = ControlNumbers(state_path=targets.control_state, start=targets.control_start)
    ca277 = (
        Ack277Writer(outputs.binary(targets.acks), control=control, now=now)
        if targets.acks
        else None
    )
    ack999 = (
        Ack999Writer(outputs.binary(targets.ack999), control=control, now=now)
        if targets.ack999
        else None
    )
    return ca277, ack999, control


def run_filter_file(
    source: BinaryIO,
    name: str,
    engine: RuleEngine,
    targets: FilterTargets,
    *,
    scope: str = "claim",
    now: datetime,
) -> Summary:
    """Filter ``source`` into the targets. On unreadable X12 nothing is written but the TA1/999."""
    outputs = OutputSet()
    try:
        out = outputs.binary(targets.output) if targets.output else None
        decisions = outputs.text(targets.decisions) if targets.decisions else None
        ca277, ack999, control = _ack_writers(outputs, targets, now)
        run = FilterRun(
            engine, scope=scope, out=out, decisions=decisions, acks=ca277, ack999=ack999
        )
        summary = run.run(source, name)
    except X12Error as error:
        outputs.abort()
        if targets.ack999:
            _write_interchange_ack(error, targets, now)
        raise
    except BaseException:
        outputs.abort()
        raise
    outputs.commit()
    if control is not None:
        control.save()
    return summary


def _write_interchange_ack(error: X12Error, targets: FilterTargets, now: datetime) -> None:
    """A TA1 for the interchange that could not be read, when there was an ISA to answer."""
    from edi_gate.acks.state import ControlNumbers
    from edi_gate.acks.ta1 import write_ta1

    control = ControlNumbers(state_path=targets.control_state, start=targets.control_start)
    with OutputSet() as outputs:
        written = write_ta1(outputs.binary(targets.ack999), error, control=control, now=now)
        if not written:
            outputs.abort()
            return
    control.save()
