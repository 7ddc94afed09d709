"""The HL01s of one transaction set and their levels: what the HL02 parent checks look up.

Every HL is remembered until its set's SE (a later HL may name any earlier one as its parent), so
this is the one structure that grows with a set: it is kept to about a byte per HL and capped.
"""

from __future__ import annotations

from typing import Final

from edi_gate.x12.grammar import HL_BILLING, HL_PATIENT, HL_SUBSCRIBER

MAX_HL_ID_LENGTH: Final = 12  # HL01 is AN 1-12
MAX_NAMED_HL_IDS: Final = 10_000  # HL01s that are not small numbers, remembered by name
# A level's code as stored (one byte): 0 is "no such HL", 4 a level code outside the grammar.
LEVEL_CODES: Final = ("", HL_BILLING, HL_SUBSCRIBER, HL_PATIENT, "?")
_UNKNOWN_LEVEL: Final = 4
NOT_A_NUMBER: Final = -1  # what `number` says of an HL01 that is remembered by name


class HlIds:
    """The HL01s of one transaction set and their level codes, for the parent checks.

    HL01s are numbers counted from 1 in every file seen: those are remembered in a bytearray (one
    byte per id, the level's index in LEVEL_CODES), so a million-claim set costs about a megabyte
    where a dict cost a hundred. Other ids go to a dict capped at MAX_NAMED_HL_IDS. An HL01 is
    parsed once (`number`) and its number passed to `level_of` and `add_at`.
    """

    __slots__ = ("numbered", "named", "count", "limit", "_parent", "_parent_number")

    def __init__(self, limit: int) -> None:
        self.numbered = bytearray()
        self.named: dict[str, int] = {}
        self.count = 0
        self.limit = limit
        self._parent = ""  # the last HL02 looked up, and its number: most HLs share a parent
        self._parent_number = NOT_A_NUMBER

    def number(self, hl_id: str) -> int:
        """The HL01 as an index into ``numbered``, NOT_A_NUMBER when it is remembered by name."""
        if hl_id.isdigit() and hl_id.isascii() and len(hl_id) <= 9 and hl_id[0] != "0":
            number = int(hl_id)
            if number <= self.limit:
                return number
        return NOT_A_NUMBER

    def level_of(self, hl_id: str, number: int) -> str | None:
        """The level code of an earlier HL, None when there was none."""
        if number >= 0:
            numbered = self.numbered
            code = numbered[number] if number < len(numbered) else 0
        else:
            code = self.named.get(hl_id, 0)
        return LEVEL_CODES[code] if code else None

    def add_at(self, hl_id: str, number: int, level: str) -> bool:
        """Remember an HL; False when the set has more than the limits allow (then nothing is
        remembered: the set is rejected already)."""
        if self.count >= self.limit:
            return False
        code = _UNKNOWN_LEVEL
        for index in range(1, _UNKNOWN_LEVEL):  # compared, not hashed: HL03 is fresh input
            if LEVEL_CODES[index] == level:
                code = index
                break
        if number >= 0:
            numbered = self.numbered
            if number == len(numbered):
                numbered.append(code)  # the usual case: HL01s counted up from 1
            else:
                if number > len(numbered):
                    numbered.extend(bytes(number + 1 - len(numbered)))
                numbered[number] = code
        elif len(self.named) < MAX_NAMED_HL_IDS:
            self.named[hl_id] = code
        else:
            return False
        self.count += 1
        return True

    def parent_level(self, parent: str) -> str | None:
        """`level` for an HL02, parsed once for the run of HLs that name it (the subscribers
        under one billing provider)."""
        if parent != self._parent:
            self._parent, self._parent_number = parent, self.number(parent)
        return self.level_of(parent, self._parent_number)

    def level(self, hl_id: str) -> str | None:
        """`level_of` for an HL01 not parsed yet."""
        return self.level_of(hl_id, self.number(hl_id))

    def add(self, hl_id: str, level: str) -> bool:
        """`add_at` for an HL01 not parsed yet."""
        return self.add_at(hl_id, self.number(hl_id), level)
