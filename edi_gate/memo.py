"""Bounded memo tables for the per-claim formatting of values that repeat across a file.

The claims of a file share few service dates, charge amounts and unit counts, while parsing or
formatting a date or a Decimal (strftime, isoformat, format) is among the costliest calls made per
claim. A table stops growing at ``limit`` entries, so no input can make it use more memory than
that. ``TextMemo`` is the one for keys taken from the input: it bounds their length too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

DEFAULT_LIMIT: Final = 1 << 12
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """``compute(key)``, remembered for the first ``limit`` distinct keys.

    ``compute`` must give equal results for equal keys (Decimal('1.0') == Decimal('1')). Keys
    must be small: a caller whose keys come from the input (element text, which may be as long
    as a segment) checks their length first, or 4,096 of them could hold gigabytes.
    """

    def __init__(self, compute: Callable[[K], V], limit: int = DEFAULT_LIMIT) -> None:
        self.compute = compute
        self.limit = limit
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V:
        values = self._values
        if key in values:  # not .get(): None may be a remembered value
            return values[key]
        value = self.compute(key)
        if len(values) < self.limit:
            values[key] = value
        return value


class TextMemo(Generic[V]):
    """A ``Memo`` whose keys are texts from the input: only texts of at most ``max_length``
    characters are remembered (a code, a date, a taxonomy), longer ones are computed each time,
    so the table is bounded in bytes as well as in entries, whatever the input holds."""

    def __init__(
        self, compute: Callable[[str], V], max_length: int, limit: int = DEFAULT_LIMIT
    ) -> None:
        self.compute = compute
        self.max_length = max_length
        self.limit = limit
        self._values: dict[str, V] = {}

    def get(self, key: str) -> V:
        values = self._values
        if key in values:
            return values[key]
        value = self.compute(key)
        if len(values) < self.limit and len(key) <= self.max_length:
            values[key] = value
        return value
