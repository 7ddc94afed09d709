"""Element values as the reader decodes them: X12 decimals, CCYYMMDD dates, NM1 names.

Decoding is memoised where a file repeats itself (a fee schedule's amounts, a month's dates), and
only for texts of a number's or a date's length: an element may be a megabyte long.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from edi_gate.memo import Memo
from edi_gate.x12.model import Party, Provider
from edi_gate.x12.tokenizer import Segment

# An X12 R (decimal) value: an optional minus, digits with at most one point, no exponent, 18
# digits at most (plus sign and point). Anything else (NaN, Infinity, 1E+999999) reads as -1.
MAX_NUMBER_LENGTH: Final = 20


def _parse_decimal(raw: str) -> Decimal:
    """Called through `decimal_value`, for texts of at most MAX_NUMBER_LENGTH characters."""
    if not raw:
        return Decimal(0)
    if not is_r_number(raw):
        return Decimal(-1)
    try:
        return Decimal(raw)
    except InvalidOperation:
        return Decimal(-1)


# Charges and unit counts repeat from line to line (a fee schedule has few amounts); a Decimal
# is immutable, so lines may share one.
DECIMALS: Final = Memo(_parse_decimal)


def decimal_value(raw: str) -> Decimal:
    """An X12 R value; Decimal(-1), which no count or charge can be, when it is not a number."""
    if len(raw) > MAX_NUMBER_LENGTH:
        return Decimal(-1)  # and never a memo key: an element may be a megabyte long
    return DECIMALS.get(raw)


def is_r_number(raw: str) -> bool:
    r"""An optional minus, then ASCII digits with at most one point among or around them: the
    regex ``-?(?:\d+\.?\d*|\.\d+)`` without the regex engine (a call per amount and unit count;
    tests/core/test_loops.py checks the two agree)."""
    digits = raw[1:] if raw.startswith("-") else raw
    digits = digits.replace(".", "", 1)
    return digits.isascii() and digits.isdigit()


DATE_LENGTH: Final = 8  # CCYYMMDD


def _parse_date(raw: str) -> date | None:
    """Called through `date_value`, for texts of DATE_LENGTH characters."""
    if not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


DATES: Final = Memo(_parse_date)  # a file's lines share few dates of service


def date_value(raw: str) -> date | None:
    """A CCYYMMDD date, None when it is not one."""
    if len(raw) != DATE_LENGTH:
        return None  # and never a memo key: an element may be a megabyte long
    return DATES.get(raw)


def provider_of(loop: str, segment: Segment) -> Provider:
    """A rendering provider from its NM1; the NPI only when NM108 says it is one (XX)."""
    party = party_of(segment)
    return Provider(loop, party.id if party.id_qualifier == "XX" else "", "", party)


def party_of(segment: Segment) -> Party:
    """NM101, NM103, NM104, NM108, NM109: only the elements a Party keeps are decoded."""
    elements = segment.elements
    count = len(elements)
    return Party(
        entity=elements[1].decode("latin-1") if count > 1 else "",
        name=elements[3].decode("latin-1") if count > 3 else "",
        first_name=elements[4].decode("latin-1") if count > 4 else "",
        id_qualifier=elements[8].decode("latin-1") if count > 8 else "",
        id=elements[9].decode("latin-1") if count > 9 else "",
    )
