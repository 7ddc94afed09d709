"""The error for X12 that cannot be read, naming the file, segment and problem.

Messages about input reach logs, ``error.json``, replay reports and summaries, where patient data
must never appear. So they are built only from a whitelist of values, each checked by one of the
``shown_*`` functions below: a segment id of 2-3 uppercase letters or digits, a control number or
count that passes its type check (digits), an ordinal or element position (ints), and the file
name, escaped. Anything else is described ("not a control number"), never quoted.
"""

from __future__ import annotations

from typing import Final

from edi_gate.errors import EdiGateError

MAX_CONTROL_DIGITS: Final = 9  # ISA13, GS06, ST02 as payers send them: N0 1-9 digits
MAX_COUNT_DIGITS: Final = 10  # SE01, GE01, IEA01

# The X12 error codes edi-gate reports, named once (the 999's IK3/IK4/IK5, AK9, the TA1).
# IK304, segment syntax error (element 720):
SEGMENT_UNRECOGNIZED: Final = "1"  # unrecognized segment id
SEGMENT_UNEXPECTED: Final = "2"  # unexpected segment
SEGMENT_LOOP_OVER_MAXIMUM: Final = "4"  # loop occurs over maximum times
SEGMENT_HAS_ELEMENT_ERRORS: Final = "8"  # segment has data element errors
# IK403, element syntax error (element 723):
ELEMENT_MISSING: Final = "1"  # required data element missing
ELEMENT_INVALID_CHARACTER: Final = "6"  # invalid character in data element
ELEMENT_INVALID_CODE: Final = "7"  # invalid code value
ELEMENT_INVALID_DATE: Final = "8"  # invalid date
# IK501, transaction set syntax error (element 718):
SET_CONTROL_NUMBERS_DIFFER: Final = "3"  # transaction set control number in header and trailer
SET_SEGMENT_COUNT_WRONG: Final = "4"  # number of included segments does not match actual count
SET_SEGMENTS_IN_ERROR: Final = "5"  # one or more segments in error
# AK905, functional group syntax error (element 716):
GROUP_CONTROL_NUMBERS_DIFFER: Final = "4"
GROUP_SET_COUNT_WRONG: Final = "5"
# TA105, interchange note code (element I18):
INTERCHANGE_CONTROL_NUMBERS_DIFFER: Final = "001"
INTERCHANGE_GROUP_COUNT_WRONG: Final = "021"
INTERCHANGE_IMPROPER_END: Final = "023"  # improper (premature) end of file
INTERCHANGE_INVALID_CONTENT: Final = "024"


def shown_id(tag: str | bytes) -> str:
    """A segment id fit to show ("NM1"), or a description of one that is not: an id is 2-3
    uppercase letters or digits; a segment without the declared separator is all "id"."""
    text = tag.decode("latin-1") if isinstance(tag, bytes) else tag
    if 2 <= len(text) <= 3 and text.isascii() and text.isalnum() and text.upper() == text:
        return text
    return "unreadable id"


def shown_control(value: str, max_digits: int = MAX_CONTROL_DIGITS) -> str:
    """A control number quoted when it passes its type check (1 to ``max_digits`` digits), else
    described: an element that should hold one may hold anything."""
    if 1 <= len(value) <= max_digits and value.isascii() and value.isdigit():
        return repr(value)
    return "(empty)" if not value else "(not a control number)"


def shown_count(value: str) -> str:
    """A count element (SE01, GE01, IEA01) quoted when it is one, else described."""
    if 1 <= len(value) <= MAX_COUNT_DIGITS and value.isascii() and value.isdigit():
        return repr(value)
    return "(empty)" if not value else "(not a number)"


def shown_name(name: str) -> str:
    """A file name fit for a terminal and a JSON file: control characters, lone surrogates (the
    undecodable bytes of a non-UTF-8 name) and other unprintables escaped, the rest as is."""
    if name.isprintable():
        return name
    out = []
    for char in name:
        code = ord(char)
        if char.isprintable():
            out.append(char)
        elif 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's escape for an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


class X12Error(EdiGateError, ValueError):
    """Input that is not readable X12: names the file, the segment's position and what is wrong.
    A ValueError: bytes of the right type holding values that are not X12 (see edi_gate.errors)."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        ordinal: int | None = None,
        segment_id: str | bytes | None = None,
        transaction_ordinal: int | None = None,
        ta1_note: str | None = None,
        isa: object | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = shown_name(source)
        self.ordinal = ordinal
        self.segment_id = None if segment_id is None else shown_id(segment_id)
        self.transaction_ordinal = transaction_ordinal
        # TA1 interchange note code (X12 element I18) when the problem is in the ISA/IEA envelope.
        self.ta1_note = ta1_note
        # The ISA segment of the interchange being read, so a TA1 can answer it.
        self.isa = isa

    def __str__(self) -> str:
        where = [self.source]
        if self.ordinal is not None:
            position = f"segment {self.ordinal}"
            if self.segment_id:
                position += f" ({self.segment_id})"
            if self.transaction_ordinal is not None:
                position += f", segment {self.transaction_ordinal} of its transaction set"
            where.append(position)
        return ": ".join([*where, self.message])


class SyntaxIssue:
    """A syntax error inside one transaction set: reported in a 999, rejects the set's claims.

    Codes are X12's: ``segment_code`` is an IK304 segment syntax error code (element 720, e.g.
    '1' unrecognized segment id, '3' required segment missing, '8' segment has data element
    errors); ``element_code`` an IK403 element error code (element 723, e.g. '1' required element
    missing, '7' invalid code value); ``set_code`` the IK5 transaction set error code (element
    718, e.g. '4' segment count wrong, '3' control numbers differ, '5' segments in error).
    """

    __slots__ = (
        "message",
        "segment_id",
        "position",
        "ordinal",
        "segment_code",
        "element_position",
        "element_code",
        "set_code",
    )

    def __init__(
        self,
        message: str,
        *,
        segment_id: str,
        position: int,
        ordinal: int,
        segment_code: str | None = SEGMENT_HAS_ELEMENT_ERRORS,
        element_position: int | None = None,
        element_code: str | None = None,
        set_code: str = SET_SEGMENTS_IN_ERROR,
    ) -> None:
        self.message = message
        self.segment_id = segment_id  # IK301
        self.position = position  # IK302: position in the transaction set, ST = 1
        self.ordinal = ordinal  # position in the file
        self.segment_code = segment_code  # IK304; None for set-level problems (trailer counts)
        self.element_position = element_position  # IK401
        self.element_code = element_code  # IK403
        self.set_code = set_code  # IK501..: why the set is rejected

    def __str__(self) -> str:
        where = f"segment {self.position} of the transaction set ({shown_id(self.segment_id)})"
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"SyntaxIssue({self!s})"
