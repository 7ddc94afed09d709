"""The error for X12 that cannot be read, naming the file, segment and problem."""

from __future__ import annotations


class X12Error(Exception):
    """Input that is not readable X12: names the file, the segment's position and what is wrong."""

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
        self.source = source
        self.ordinal = ordinal
        self.segment_id = (
            segment_id.decode("latin-1") if isinstance(segment_id, bytes) else segment_id
        )
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
        "loop_id",
    )

    def __init__(
        self,
        message: str,
        *,
        segment_id: str,
        position: int,
        ordinal: int,
        segment_code: str | None = "8",
        element_position: int | None = None,
        element_code: str | None = None,
        set_code: str = "5",
        loop_id: str = "",
    ) -> None:
        self.message = message
        self.segment_id = segment_id  # IK301
        self.position = position  # IK302: position in the transaction set, ST = 1
        self.ordinal = ordinal  # position in the file
        self.segment_code = segment_code  # IK304; None for set-level problems (trailer counts)
        self.element_position = element_position  # IK401
        self.element_code = element_code  # IK403
        self.set_code = set_code  # IK501..: why the set is rejected
        self.loop_id = loop_id  # IK303

    def __str__(self) -> str:
        return f"segment {self.position} of the transaction set ({self.segment_id}): {self.message}"

    def __repr__(self) -> str:
        return f"SyntaxIssue({self!s})"
