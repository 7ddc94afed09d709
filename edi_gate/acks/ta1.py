"""TA1 interchange acknowledgment: ISA, TA1, IEA*0 for an interchange whose envelope is wrong.

The TA1 echoes ISA13, ISA09 and ISA10 of the interchange it acknowledges, so it needs that ISA; the
fields are recovered from the raw segment even when it is not the fixed 106 characters. Without an
ISA, or with no recoverable ISA13, no TA1 can be written and ``write_ta1`` returns False.
"""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from edi_gate.acks.codes import TA1_NOTES
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.x12out import SegmentOut, digits, valid_datetime, write_isa
from edi_gate.x12.errors import X12Error
from edi_gate.x12.tokenizer import Segment

DEFAULT_NOTE = "022"  # Invalid Control Structure
DEFAULT_SENDER = ("ZZ", "EDI-GATE")


def isa_fields(isa: Segment | bytes | str | None) -> list[str] | None:
    """ISA00..ISA16 of a raw ISA (split on its 4th character), or None when it is not an ISA."""
    if isa is None:
        return None
    if isinstance(isa, Segment):
        isa = isa.text
    text = isa.decode("latin-1") if isinstance(isa, bytes) else isa
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("ISA") or len(text) < 4:
        return None
    return text.split(text[3])


def write_ta1(
    stream: BinaryIO,
    subject: X12Error | Segment | bytes | str | None,
    *,
    control: ControlNumbers,
    now: datetime,
    isa: Segment | bytes | str | None = None,
    error: X12Error | None = None,
    note: str | None = None,
    ack_code: str | None = None,
    sender: tuple[str, str] = DEFAULT_SENDER,
) -> bool:
    """Write a TA1 interchange acknowledging the interchange that began with ``isa``.

    ``subject`` is either that ISA (raw segment, bytes or text) or the ``X12Error``; in the
    latter case the ISA comes from ``isa=`` or from the error's ``isa`` attribute when set.

    TA104 is R (rejected) with an ``error``, E (accepted with errors) with only a ``note``, else A;
    ``ack_code`` overrides. TA105 is ``note``, else ``error.ta1_note``, else 022 for an error, else
    000. ``sender`` (qualifier, id) is used when the bad ISA's receiver cannot be recovered.
    Returns False, writing nothing, when there is no ISA or its ISA13 cannot be recovered.
    """
    if isinstance(subject, X12Error):
        error = error or subject
        isa = isa if isa is not None else getattr(subject, "isa", None)
    elif isa is None:
        isa = subject
    fields = isa_fields(isa)
    if fields is None or len(fields) < 14:
        return False
    isa13 = digits(fields[13].strip(), 1, 9)  # ASCII digits: '١٢٣' passes str.isdigit
    if isa13 is None:
        return False
    # TA102/TA103 echo ISA09/ISA10 when they are a real date and time, else the run's.
    isa09, isa10 = fields[9], fields[10]
    if not valid_datetime(isa09, "%y%m%d", 6):
        isa09 = now.strftime("%y%m%d")
    if not valid_datetime(isa10, "%H%M", 4):
        isa10 = now.strftime("%H%M")
    if note is None and error is not None:
        note = error.ta1_note or DEFAULT_NOTE
    if note not in TA1_NOTES:
        note = DEFAULT_NOTE if (error is not None or note is not None) else "000"
    if ack_code not in ("A", "E", "R"):
        ack_code = "R" if error is not None else ("E" if note != "000" else "A")
    our_id = (fields[7].strip(), fields[8].strip()) if len(fields) > 8 else ("", "")
    their_id = (fields[5].strip(), fields[6].strip())
    usage = fields[15].strip() if len(fields) > 15 else "P"
    out = SegmentOut(stream)
    number = control.interchange()
    write_isa(
        out,
        sender=our_id if our_id[1] else sender,
        receiver=their_id if their_id[1] else sender,
        control=number,
        now=now,
        usage=usage,
    )
    out("TA1", isa13.zfill(9), isa09, isa10, ack_code, note)
    out("IEA", "0", f"{number:09d}")
    return True
