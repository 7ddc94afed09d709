"""Where a problem sits in a configuration file's text, and the values every loader reads the same.

tomllib and csv return values without positions, yet an error without a line sends an analyst
hunting through a 600-line ruleset. The ruleset, roster and partners loaders (and ``rules lint``)
find lines here, one way, and read dates and row lines by the same rules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import date

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOML_LINE = re.compile(r"line (\d+)")


Section = str | tuple[str, ...]  # "deleted_codes.75998", or its parts when a part holds a dot


def _parts(section: Section) -> tuple[str, ...]:
    return tuple(section.split(".")) if isinstance(section, str) else section


class Locator:
    """Best-effort line numbers in TOML text for a section, a key in it, or a value under it."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, section: Section) -> int | None:
        """The 1-based line of ``[section]`` (parts quoted or not, ``[[...]]`` too), else None."""
        pattern = _header_pattern(_parts(section))
        return next((i + 1 for i, ln in enumerate(self.lines) if pattern.match(ln)), None)

    def find(
        self, section: Section | None = None, key: str | None = None, value: str | None = None
    ) -> int | None:
        """The line of ``value`` under ``key`` in ``section``, else of the key, else of the header.

        A key may also be part of the header (``[deleted_codes.75998]``). Without a section the
        key is looked for in the whole file; within one, only up to the next header.
        """
        start, found = 0, None
        if section and key:
            hit = self.header((*_parts(section), key))
            if hit is not None:
                start, found, key = hit - 1, hit, None
        if section and found is None:
            hit = self.header(section)
            if hit is not None:
                start, found = hit - 1, hit
        if key:
            hit = self._key(key, start, bounded=bool(section))
            if hit is not None:
                start, found = hit - 1, hit
        if value is not None:
            return self._value(value, start) or found
        return found

    def _key(self, key: str, start: int, bounded: bool) -> int | None:
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        for i in range(start, len(self.lines)):
            if bounded and i > start and self.lines[i].lstrip().startswith("["):
                return None
            if pattern.match(self.lines[i]):
                return i + 1
        return None

    def _value(self, value: str, start: int) -> int | None:
        for needle in (f'"{value}"', f"'{value}'", value):  # quoted first: '7681' vs 76812
            for i in range(start, len(self.lines)):
                if i > start and self.lines[i].lstrip().startswith("["):
                    break
                if needle in self.lines[i]:
                    return i + 1
        return None


def _header_pattern(parts: tuple[str, ...]) -> re.Pattern[str]:
    quoted = (rf"(?:\"{re.escape(p)}\"|'{re.escape(p)}'|{re.escape(p)})" for p in parts)
    return re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(quoted) + r"\s*\]\]?\s*(#.*)?$")


def toml_error_line(error: tomllib.TOMLDecodeError, text: str) -> int | None:
    """The line tomllib names in its message; the last line for an error at end of document."""
    found = _TOML_LINE.search(str(error))
    if found:
        return int(found.group(1))
    if "end of document" in str(error):
        return max(1, len(text.splitlines()))
    return None


def parse_date(value: object) -> date | None:
    """A YYYY-MM-DD date (TOML date or text); None when empty. ValueError otherwise, also for a
    well-formed impossible date (2025-02-30): a typo must not become "open-ended"."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and DATE_RE.match(value):
        return date.fromisoformat(value)
    raise ValueError(value)


def data_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of a CSV file's lines that hold data: blank lines and lines
    starting with ``#`` are comments, skipped but still counted so errors name the real line."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line
