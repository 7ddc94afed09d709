"""Procedure-code sets as the rulesets write them: single codes, numeric ranges and @family refs.

Ranges are kept as integer bounds instead of being expanded, so a family such as "the surgery
section 10004-69990" costs two integers and membership stays a dict lookup plus a few compares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from edi_gate.memo import TextMemo

CODE_RE = re.compile(r"^(\d{5}|[A-Z]\d{4}|\d{4}[A-Z])$")
RANGE_RE = re.compile(r"^(\d{5})-(\d{5})$")
TAXONOMY_RE = re.compile(r"^[0-9A-Z]{9}X$")
TAXONOMY_PREFIX_RE = re.compile(r"^[0-9A-Z]{1,9}$")


SEEN_LIMIT: Final = 1 << 16
MAX_CODE_LENGTH: Final = 5  # CPT and HCPCS codes: longer texts are never memo keys


def _in_ranges(n: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= n <= hi for lo, hi in ranges)


class CodeSet:
    """An immutable set of CPT/HCPCS codes: exact codes plus inclusive numeric ranges."""

    __slots__ = ("codes", "ranges", "_seen")

    def __init__(self, codes: Iterable[str] = (), ranges: Iterable[tuple[int, int]] = ()) -> None:
        self.codes: frozenset[str] = frozenset(codes)
        self.ranges: tuple[tuple[int, int], ...] = tuple(sorted(set(ranges)))
        # range answers, so the hot path is one dict hit; keys from the input (edi_gate.memo)
        self._seen = TextMemo(self._range_answer, MAX_CODE_LENGTH, SEEN_LIMIT)

    def __contains__(self, code: object) -> bool:
        if code in self.codes:
            return True
        if not self.ranges or not isinstance(code, str):
            return False
        return self._seen.get(code)

    def _range_answer(self, code: str) -> bool:
        return len(code) == 5 and code.isdigit() and _in_ranges(int(code), self.ranges)

    def __or__(self, other: CodeSet) -> CodeSet:
        return CodeSet(self.codes | other.codes, self.ranges + other.ranges)

    def __bool__(self) -> bool:
        return bool(self.codes or self.ranges)

    def __repr__(self) -> str:
        return f"CodeSet({len(self.codes)} codes, {len(self.ranges)} ranges)"

    def any_in(self, codes: Iterable[str]) -> str | None:
        """The first of ``codes`` that belongs to this set (sorted, so messages are stable)."""
        for code in sorted(codes):
            if code in self:
                return code
        return None

    def describe(self, limit: int = 6) -> str:
        """A short human list for messages: '19081-19086, 19100, 19101'."""
        parts = [f"{lo:05d}-{hi:05d}" if lo != hi else f"{lo:05d}" for lo, hi in self.ranges]
        parts += sorted(self.codes)
        parts.sort()
        text = ", ".join(parts[:limit])
        return text + (", ..." if len(parts) > limit else "")


def parse_entries(
    entries: Sequence[object], families: Mapping[str, Sequence[object]] | None = None
) -> tuple[CodeSet, list[str]]:
    """Build a CodeSet from ruleset entries; returns the set and a list of problems found.

    Problems: malformed codes or ranges, duplicates (also a code inside a range of the same list),
    unknown or cyclic @family references.
    """
    problems: list[str] = []
    codes: set[str] = set()
    ranges: list[tuple[int, int]] = []
    own_codes: set[str] = set()  # written in this list itself, not through a reference
    own_ranges: list[tuple[int, int]] = []

    def add(items: Sequence[object], stack: tuple[str, ...]) -> None:
        for raw in items:
            if not isinstance(raw, str):
                problems.append(f"code entry {raw!r} is not a string")
                continue
            item = raw.strip().upper()
            if item.startswith("@"):
                name = item[1:].lower()
                if families is None or name not in families:
                    problems.append(f"unknown code family reference {raw!r}")
                elif name in stack:
                    problems.append(f"cyclic code family reference {raw!r}")
                else:
                    add(families[name], (*stack, name))
                continue
            m = RANGE_RE.match(item)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo > hi:
                    problems.append(f"range {raw!r} runs backwards")
                    continue
                if not stack:
                    for olo, ohi in own_ranges:
                        if lo <= ohi and olo <= hi:
                            problems.append(f"range {raw!r} overlaps {olo:05d}-{ohi:05d}")
                    own_ranges.append((lo, hi))
                ranges.append((lo, hi))
                continue
            if not CODE_RE.match(item) or raw != item:
                problems.append(f"malformed procedure code {raw!r}")
                continue
            if not stack:
                if item in own_codes:
                    problems.append(f"duplicate code {raw!r}")
                own_codes.add(item)
            codes.add(item)

    add(entries, ())
    # a code listed alone and also covered by a range of the same list is a duplicate too
    for code in sorted(own_codes):
        if code.isdigit() and any(lo <= int(code) <= hi for lo, hi in own_ranges):
            problems.append(f"code {code!r} is already covered by a range in the same list")
    return CodeSet(codes, ranges), problems


def plain_codes(entries: Sequence[object]) -> list[str]:
    """The exact codes of a list (ranges and references skipped): for table walks and docs."""
    return [e for e in entries if isinstance(e, str) and CODE_RE.match(e)]
