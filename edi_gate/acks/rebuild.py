"""``edi-gate ack``: rebuild the 277CA of a past run from its 837 and its decisions file.

Orchestration, interpreted: the 837 is read again, each claim's recorded decision is looked up
(edi_gate.decisions.reader) and handed to the same compiled 277CA writer a filter run uses.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import BinaryIO

from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.acks.state import ControlNumbers
from edi_gate.decisions.reader import DecisionFile
from edi_gate.decisions.record import decision_from_record
from edi_gate.errors import ConfigError
from edi_gate.x12.errors import shown_control, shown_name
from edi_gate.x12.loops import EventReader, TransactionEnd, TransactionStart
from edi_gate.x12.model import Claim, Party
from edi_gate.x12.tokenizer import SegmentReader


def build_277_from_decisions(
    input_837: str | os.PathLike[str],
    decisions_jsonl: str | os.PathLike[str],
    out: BinaryIO,
    *,
    control: ControlNumbers,
    now: datetime,
    payer: Party | None = None,
) -> int:
    """Rebuild the 277CA of a past run: re-read the 837, apply the recorded decisions.

    Returns the number of claims acknowledged. A claim of the 837 without a decision record is a
    ``ConfigError`` (the decisions file does not belong to this 837, or is incomplete).
    """
    source = os.fspath(input_837)
    writer = Ack277Writer(out, control=control, now=now, payer=payer)
    with DecisionFile(os.fspath(decisions_jsonl)) as decisions, open(source, "rb") as stream:
        for event in EventReader(SegmentReader(stream, source), source):
            if isinstance(event, TransactionStart) and event.claims:
                writer.begin_transaction(event.envelope)
            elif isinstance(event, Claim):
                record = decisions.find(event)
                if record is None:
                    raise ConfigError(_missing(event, source), path=decisions.path)
                writer.add(event, decision_from_record(record))
            elif isinstance(event, TransactionEnd):
                writer.end_transaction()
        writer.close()
    return writer.claims


def _missing(claim: Claim, source: str) -> str:
    env = claim.envelope
    return (
        f"no decision for claim {claim.claim_id!r} (interchange "
        f"{shown_control(env.interchange_control)}, transaction "
        f"{shown_control(env.transaction_control)}) of {shown_name(source)}"
    )
