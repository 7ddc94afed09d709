"""Small X12 writer shared by the 277CA, 999 and TA1 writers.

Outputs always use the standard delimiters, whatever the input used: element ``*``, component
``:``, repetition ``^`` (ISA11), segment terminator ``~`` followed by a newline for readability.
Every data value is cleaned so that it can never contain a delimiter and stays within the X12
extended character set that pyx12 checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO, Final

from edi_gate.acks.codes import ISA_ID_QUALIFIERS
from edi_gate.acks.state import ControlNumbers
from edi_gate.memo import Memo
from edi_gate.x12.model import Envelope
from edi_gate.x12.writer import format_amount

ELEMENT: Final = "*"
COMPONENT: Final = ":"
REPETITION: Final = "^"
TERMINATOR: Final = "~"
LINE_END: Final = "\n"

# Characters of the X12 extended set (pyx12 validation.rec_ID_E) minus our own delimiters.
_NOT_ALLOWED: Final = re.compile(r"""[^A-Za-z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>#$]""")
_SPACES: Final = re.compile(r" {2,}")
# The same set as characters (all ASCII: the class has no range beyond it), for the fast path.
_ALLOWED: Final = frozenset(c for c in map(chr, range(256)) if not _NOT_ALLOWED.match(c))

Element = str | Sequence[str]  # a simple element, or a composite given as its components


def is_clean(text: str) -> bool:
    """True when ``clean`` would return ``text`` unchanged (before ``upper``/``max_len``):
    only allowed characters, no run of spaces, no space at either end."""
    if text.isascii() and text.isalnum():  # isascii is O(1): the common id/name case first
        return True
    return (
        _ALLOWED.issuperset(text)
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    )


def clean(value: object, max_len: int | None = None, *, upper: bool = False) -> str:
    """``value`` as X12 text: no delimiters or control characters, single spaces, trimmed.

    Most values (ids, names, codes) are clean already; they skip the two regex passes.
    """
    text = "" if value is None else str(value)
    if text and not (text.isascii() and text.isalnum()) and not is_clean(text):
        text = _SPACES.sub(" ", _NOT_ALLOWED.sub(" ", text)).strip()
    if upper:
        text = text.upper()
    if max_len is not None and len(text) > max_len:
        text = text[:max_len].rstrip()
    return text


# -- the gate -------------------------------------------------------------------------------------
# Every value copied from the input into an acknowledgment passes one of these: free text through
# ``clean``; identifiers the guide says to return as received through ``echo``; coded values
# through ``code``; numbers, dates and times through ``digits`` and ``valid_datetime``. What fails
# its element's type, length or code list is replaced, never copied, so no input byte can add a
# delimiter, a non-ASCII character or an invalid code to what edi-gate writes.


def echo(value: str, min_len: int, max_len: int) -> str:
    """An identifier returned exactly as received (GS02/GS03, ST02, GS06, ISA06/ISA08 ...) when it
    is a valid AN value of ``min_len``..``max_len`` characters; else the value cleaned, or '' when
    even that is too short (the caller supplies its replacement)."""
    if min_len <= len(value) <= max_len and value.isascii() and value.isalnum():
        return value  # the usual id, without the character-set check
    if (
        min_len <= len(value) <= max_len
        and value.isascii()
        and _ALLOWED.issuperset(value)
        and not value.isspace()
    ):
        return value
    text = clean(value, max_len)
    return text if len(text) >= min_len else ""


def code(value: str, allowed: frozenset[str] | tuple[str, ...], default: str) -> str:
    """A coded (ID) value: ``value`` when it is in the element's code list, else ``default``."""
    return value if value in allowed else default


def digits(value: str, min_len: int, max_len: int) -> str | None:
    """An N0 value (control numbers): ASCII digits only ('١' passes ``str.isdigit``), within
    length; None when it is not one."""
    if min_len <= len(value) <= max_len and value.isascii() and value.isdigit():
        return value
    return None


def valid_datetime(value: str, fmt: str, length: int) -> bool:
    """True for a DT/TM value of exactly ``length`` ASCII digits that is a real date or time
    (``strptime`` alone accepts '2401 1' for %y%m%d)."""
    if digits(value, length, length) is None:
        return False
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


USAGE: Final = ("P", "T")  # ISA15


def amount(value: Decimal | int | float | str | None) -> str:
    """An X12 R (decimal) value (edi_gate.x12.writer.format_amount), from whatever a caller
    has: Decimals are memoised, None or '' is 0."""
    if type(value) is Decimal:
        return _DECIMAL_AMOUNTS.get(value)  # charges repeat: a fee schedule has few amounts
    if value is None or value == "":
        return "0"
    return format_amount(Decimal(str(value)))


_DECIMAL_AMOUNTS: Final = Memo(format_amount)


def d8(moment: datetime) -> str:
    return moment.strftime("%Y%m%d")


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H%M")


def _element(value: Element) -> str:
    if isinstance(value, str):
        return value
    parts = list(value)
    while parts and parts[-1] == "":
        parts.pop()
    return COMPONENT.join(parts)


def segment_text(tag: str, elements: Sequence[Element]) -> str:
    """One segment as written, terminator and newline included; trailing empty elements (and
    trailing empty components of a composite) are dropped, since pyx12 rejects them."""
    values = [e if e.__class__ is str else _element(e) for e in elements]
    while values and values[-1] == "":
        values.pop()
    return ELEMENT.join([tag, *values]) + TERMINATOR + LINE_END


class SegmentOut:
    """Writes segments to a binary stream and counts them (for SE01)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0  # segments written so far, all of them

    def __call__(self, tag: str, *elements: Element) -> None:
        self.stream.write(segment_text(tag, elements).encode("ascii"))
        self.count += 1

    def write_texts(self, texts: list[str], segments: int | None = None) -> None:
        """Write segments made by ``segment_text`` with one encode and one write (per claim,
        instead of one per segment). ``segments``: how many, when a text holds several."""
        self.stream.write("".join(texts).encode("ascii"))
        self.count += len(texts) if segments is None else segments


def isa_id(value: str) -> str:
    """An ISA06/ISA08 id: as received when valid (15 characters, padded with spaces), else
    cleaned; never empty (an all-space id cannot address anyone)."""
    return (echo(value.rstrip(), 1, 15) or "UNKNOWN").ljust(15)


def write_isa(
    out: SegmentOut,
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control: int,
    now: datetime,
    usage: str = "P",
) -> None:
    """ISA with fixed-width fields; ``sender`` and ``receiver`` are (qualifier, id) pairs."""
    out(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        code(sender[0].strip(), ISA_ID_QUALIFIERS, "ZZ"),
        isa_id(sender[1]),
        code(receiver[0].strip(), ISA_ID_QUALIFIERS, "ZZ"),
        isa_id(receiver[1]),
        now.strftime("%y%m%d"),
        hhmm(now),
        REPETITION,
        "00501",
        f"{control:09d}",
        "0",
        code(usage, USAGE, "P"),
        COMPONENT,
    )


def _gs_id(application_id: str, interchange_id: str) -> str:
    """GS02/GS03 of an acknowledgment: the input's GS03/GS02 as received, else its ISA id."""
    return echo(application_id, 2, 15) or echo(interchange_id.strip(), 2, 15) or "UNKNOWN"


@dataclass(slots=True)
class _Open:
    interchange_key: tuple[str, ...]
    group_key: tuple[str, str] | None
    isa13: int
    gs06: int = 0
    groups: int = 0
    transactions: int = 0  # in the open group


class EnvelopeFramer:
    """Opens and closes ISA/GS around acknowledgment transaction sets.

    The acknowledgment goes back to whoever sent the input: ISA sender and receiver, and GS02 and
    GS03, are swapped from the input's. Transaction sets acknowledging the same input interchange
    share one interchange, and one group per (GS02, GS03) pair of the input.
    """

    def __init__(
        self,
        out: SegmentOut,
        *,
        control: ControlNumbers,
        now: datetime,
        functional_id: str,
        version: str,
    ) -> None:
        self.out = out
        self.control = control
        self.now = now
        self.functional_id = functional_id
        self.version = version
        self._open: _Open | None = None
        self._st_start: int | None = None
        self._st02 = ""
        self.interchanges = 0

    def open_for(self, envelope: Envelope) -> None:
        """Make sure the interchange and group answering ``envelope`` are open."""
        ikey = (
            envelope.source,
            envelope.interchange_control,
            envelope.sender_qualifier,
            envelope.sender_id.strip(),
            envelope.receiver_qualifier,
            envelope.receiver_id.strip(),
            envelope.usage,
        )
        gkey = (envelope.application_sender, envelope.application_receiver)
        current = self._open
        if current is not None and current.interchange_key != ikey:
            self.close()
            current = None
        if current is None:
            current = _Open(ikey, None, self.control.interchange())
            self._open = current
            self.interchanges += 1
            write_isa(
                self.out,
                sender=(envelope.receiver_qualifier, envelope.receiver_id),
                receiver=(envelope.sender_qualifier, envelope.sender_id),
                control=current.isa13,
                now=self.now,
                usage=envelope.usage,
            )
        if current.group_key != gkey:
            self._close_group()
            current.group_key = gkey
            current.gs06 = self.control.group()
            current.groups += 1
            current.transactions = 0
            # GS02/GS03 swapped exactly as received (AN 2-15: ' 1' stays ' 1'), else replaced.
            self.out(
                "GS",
                self.functional_id,
                _gs_id(envelope.application_receiver, envelope.receiver_id),
                _gs_id(envelope.application_sender, envelope.sender_id),
                d8(self.now),
                hhmm(self.now),
                str(current.gs06),
                "X",
                self.version,
            )

    @property
    def isa13(self) -> int:
        return self._open.isa13 if self._open else 0

    @property
    def gs06(self) -> int:
        return self._open.gs06 if self._open else 0

    def begin_transaction(self, st_id: str) -> str:
        """Write an ST in the open group; returns its ST02."""
        current = self._open
        assert current is not None and current.group_key is not None, "no open group"
        assert self._st_start is None, "transaction set already open"
        st02 = f"{self.control.transaction():04d}"
        self._st_start, self._st02 = self.out.count, st02
        self.out("ST", st_id, st02, self.version)
        return st02

    def end_transaction(self) -> None:
        """Write the SE (segment count from ST to SE inclusive) of the open transaction set."""
        assert self._open is not None and self._st_start is not None, "no open transaction set"
        self.out("SE", str(self.out.count - self._st_start + 1), self._st02)
        self._st_start = None
        self._open.transactions += 1

    def transaction(self, st_id: str, write: Callable[[SegmentOut, str], None]) -> str:
        """Write one ST..SE, ``write(out, st02)`` supplying what goes between; returns ST02."""
        st02 = self.begin_transaction(st_id)
        write(self.out, st02)
        self.end_transaction()
        return st02

    def _close_group(self) -> None:
        current = self._open
        if current is not None and current.group_key is not None:
            self.out("GE", str(current.transactions), str(current.gs06))
            current.group_key = None

    def close(self) -> None:
        """Write the open GE and IEA, if any."""
        current = self._open
        if current is None:
            return
        self._close_group()
        self.out("IEA", str(current.groups), f"{current.isa13:09d}")
        self._open = None
