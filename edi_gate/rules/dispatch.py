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

if TYPE_CHECKING:
    from edi_gate.rules.base import Rule
    from edi_gate.rules.codeset import CodeSet
    from edi_gate.x12.model import ServiceLine

# Bound on the memo dicts: junk codes in a hostile file cannot grow them forever.
MEMO_LIMIT: Final = 1 << 16


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
        self._office: dict[str, int] = {}  # code on an office line -> mask
        self._elsewhere: dict[str, int] = {}  # code on any other line -> mask
        self._by_mask: dict[int, tuple[Rule, ...]] = {}

    def rules_for(
        self, lines: Iterable[ServiceLine], office_pos: frozenset[str]
    ) -> tuple[Rule, ...]:
        """The rules that can fire on a claim with these lines, in ruleset order."""
        mask = self._always
        office, elsewhere = self._office, self._elsewhere
        for line in lines:
            code = line.procedure
            if line.place_of_service in office_pos:
                bits = office.get(code)
                if bits is None:
                    bits = self._code_mask(code, True)
            else:
                bits = elsewhere.get(code)
                if bits is None:
                    bits = self._code_mask(code, False)
            mask |= bits
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
        memo = self._office if in_office else self._elsewhere
        if len(memo) < MEMO_LIMIT:
            memo[code] = mask
        return mask
