"""Renumber the ``"position"`` of decision lines: replay's merge step, compiled (setup.py).

A replay unit numbers its claims from 1; the parent process shifts them by the claims of the
earlier units of the same file while it appends the unit's lines. That runs in the parent for
every claim, beside the workers, so it must cost next to nothing.
"""

from __future__ import annotations

from typing import Final

_KEY: Final = b'"position":'
_ZERO: Final = 48
_NINE: Final = 57


def shift_positions(blob: bytes, offset: int) -> bytes:
    """``blob`` with every ``"position":N`` made ``"position":N+offset`` (``"position"`` is only
    ever a key in decision and change lines: string values are JSON-escaped, so a quote inside
    one can never start a key)."""
    if not offset or not blob:
        return blob
    parts: list[bytes] = []
    start = 0
    size = len(blob)
    while True:
        at = blob.find(_KEY, start)
        if at < 0:
            break
        first = end = at + len(_KEY)
        while end < size and _ZERO <= blob[end] <= _NINE:
            end += 1
        if end == first:  # not a number: leave it
            parts.append(blob[start:end])
        else:
            parts.append(blob[start:first])
            parts.append(b"%d" % (int(blob[first:end]) + offset))
        start = end
    if not parts:
        return blob
    parts.append(blob[start:])
    return b"".join(parts)
