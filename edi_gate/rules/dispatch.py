"""Which rules a claim can make fire: an index from procedure code to rules, one per ruleset.

Evaluating a claim must not cost a pass over every rule, let alone every table row (issue 6).
Each rule declares the procedure codes that can make it fire (``Rule.trigger``) and whether only
office lines count (``Rule.office_only``). ``RulePlan`` turns that into one bit mask per code, so
picking the rules for a claim is one dict hit per line plus one for the claim's combined mask.
Rules without a trigger (modifier edits) are in every mask.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from edi_gate.memo import TextMemo

if TYPE_CHECKING:
    from edi_gate.rules.base import Rule
    from edi_gate.rules.codeset import CodeSet
    from edi_gate.x12.model import ServiceLine

# Bound on the memo dicts: junk codes in a hostile file cannot grow them forever.
MEMO_LIMIT: Final = 1 << 16
MAX_CODE_LENGTH: Final = 8  # procedure codes are 5 characters: longer texts are not memo keys


class RulePlan:
    """The enabled rules of one ruleset, indexed by the codes that trigger them.

    Bit ``i`` of a mask stands for ``rules[i]`` (enabled rules in ruleset order, i.e. by id).
    Masks per code are computed on first sight of a code (a code can fall in a range, so they
    cannot all be listed up front) and memoised; so are the rule tuples per claim mask.
    """

    __slots__ = ("rules", "_always", "_triggered", "_office", "_elsewhere", "_by_mask")

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(r for r in rules if r.enabled)
        self._always = 0  # rules run on every claim
        self._triggered: list[tuple[int, CodeSet, bool]] = []  # (bit, codes, office only)
        for i, rule in enumerate(self.rules):
            codes = rule.trigger()
            if codes is None:
                self._always |= 1 << i
            else:
                self._triggered.append((1 << i, codes, rule.office_only))
        # code on an office line / on any other line -> mask; codes come from the input, so
        # the tables are bounded in entries and key length (edi_gate.memo)
        self._office = TextMemo(self._office_mask, MAX_CODE_LENGTH, MEMO_LIMIT)
        self._elsewhere = TextMemo(self._elsewhere_mask, MAX_CODE_LENGTH, MEMO_LIMIT)
        self._by_mask: dict[int, tuple[Rule, ...]] = {}

    def rules_for(
        self, lines: Iterable[ServiceLine], office_pos: frozenset[str]
    ) -> tuple[Rule, ...]:
        """The rules that can fire on a claim with these lines, in ruleset order."""
        mask = self._always
        office, elsewhere = self._office, self._elsewhere
        for line in lines:
            code = line.procedure
            memo = office if line.place_of_service in office_pos else elsewhere
            mask |= memo.get(code)
        rules = self._by_mask.get(mask)
        if rules is None:
            rules = tuple(r for i, r in enumerate(self.rules) if mask >> i & 1)
            if len(self._by_mask) < MEMO_LIMIT:
                self._by_mask[mask] = rules
        return rules

    def _code_mask(self, code: str, in_office: bool) -> int:
        mask = 0
        for bit, codes, office_only in self._triggered:
            if (in_office or not office_only) and code in codes:
                mask |= bit
        return mask

    def _office_mask(self, code: str) -> int:
        return self._code_mask(code, True)

    def _elsewhere_mask(self, code: str) -> int:
        return self._code_mask(code, False)
