"""The checks a ruleset's values go through, each a small named validator that records problems.

A typo in a payer edit silently changes who gets paid, so every value is checked, and every
problem is collected (not just the first) for ``rules lint``. A validator returns the usable part
of what it checked (an empty list, a default) so reading goes on and later problems are found too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from edi_gate.config_text import Locator, parse_date
from edi_gate.rules import nucc
from edi_gate.rules.codeset import CODE_RE, TAXONOMY_PREFIX_RE, TAXONOMY_RE, CodeSet, parse_entries

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
POS_RE = re.compile(r"^\d{2}$")


@dataclass(slots=True)
class Problem:
    """One thing wrong with a file: where (line when known) and what, for lint and ConfigError."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def _needle(problem: str) -> str | None:
    """The first quoted value in a code-list problem ('duplicate code ...'): to find its line."""
    found = re.search(r"'([^']+)'", problem)
    return found.group(1) if found else None


class Checker:
    """The problems found in one ruleset file so far, and the validators that find them.

    ``families`` holds the raw [families] lists once read, so code lists elsewhere can resolve
    ``@name`` references (and report unknown or cyclic ones).
    """

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.locator = Locator(text)
        self.problems: list[Problem] = []
        self.families: dict[str, list[object]] = {}
        self.nucc = nucc.code_set()

    def add(
        self, message: str, section: str | None = None, key: str | None = None, value: object = None
    ) -> None:
        """Record a problem at the line of ``value`` under ``key`` in ``section`` (best effort)."""
        needle = None if value is None else str(value)
        self.problems.append(Problem(self.path, self.locator.find(section, key, needle), message))

    def table(self, section: str, table: object, allowed: set[str], where: str) -> dict[str, Any]:
        """A TOML table whose keys are all in ``allowed`` (any key when empty): an unknown key is
        a typo that would otherwise be ignored. A non-table reads as empty."""
        if not isinstance(table, dict):
            self.add(f"{where} must be a table", section)
            return {}
        for key in table:
            if allowed and key not in allowed:
                self.add(f"unknown key {key!r} in {where}", section, key)
        return table

    def subtables(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        """The [name.*] tables of the file (their bodies are checked by the section's reader)."""
        section = data.get(name, {})
        if not isinstance(section, dict):
            self.add(f"[{name}] must be a table", name)
            return {}
        return section

    def strings(self, value: object, where: str, section: str, key: str) -> list[str]:
        """A list of strings; anything else reads as empty."""
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            self.add(f"{where} must be a list of strings", section, key)
            return []
        return list(value)

    def credentials(self, value: object, where: str, section: str, key: str) -> tuple[str, ...]:
        """Credential names, upper-cased as the roster stores them (AIUM, ISCD)."""
        return tuple(c.upper() for c in self.strings(value, where, section, key))

    def flag(self, body: dict[str, Any], section: str, key: str, default: bool) -> bool:
        """A true/false switch of ``[section]``: a quoted "false" would otherwise read as on."""
        value = body.get(key, default)
        if not isinstance(value, bool):
            self.add(f"[{section}] {key} must be true or false", section, key)
            return default
        return value

    def codes(self, entries: object, where: str, section: str, key: str) -> CodeSet:
        """A code list (codes, ranges, @family references) with every malformed, duplicate,
        overlapping or unresolved entry reported at its line."""
        if not isinstance(entries, list):
            self.add(f"{where} must be a list of codes", section, key)
            return CodeSet()
        codes, errors = parse_entries(entries, self.families)
        for error in errors:
            self.add(f"{where}: {error}", section, key, _needle(error))
        return codes

    def code_key(self, code: str, section: str) -> None:
        """A table keyed by procedure code ([deleted_codes.75998]): the key must be a code."""
        if not CODE_RE.match(code):
            self.add(f"[{section}] malformed procedure code {code!r}", section, code)

    def taxonomies(self, value: object, where: str, section: str, key: str) -> list[str]:
        """NUCC taxonomy codes, each well formed, listed once and in the shipped code set: an
        unknown code would match no provider and silently privilege nobody."""
        out: list[str] = []
        for code in self.strings(value, where, section, key):
            if not TAXONOMY_RE.match(code):
                message = f"{where}: malformed taxonomy {code!r} (10 characters ending in X)"
                self.add(message, section, key, code)
            elif code in out:
                self.add(f"{where}: duplicate taxonomy {code!r}", section, key, code)
            elif code not in self.nucc:
                message = f"{where}: {code!r} is not in the NUCC code set ({nucc.VERSION})"
                self.add(message, section, key, code)
            else:
                out.append(code)
        return out

    def prefixes(self, value: object, where: str, section: str, key: str) -> tuple[str, ...]:
        """Taxonomy prefixes (207R, 36): each must start at least one NUCC code."""
        out: list[str] = []
        for prefix in self.strings(value, where, section, key):
            if not TAXONOMY_PREFIX_RE.match(prefix):
                self.add(f"{where}: malformed taxonomy prefix {prefix!r}", section, key, prefix)
            elif not any(code.startswith(prefix) for code in self.nucc.by_code):
                message = f"{where}: no NUCC taxonomy starts with {prefix!r} ({nucc.VERSION})"
                self.add(message, section, key, prefix)
            else:
                out.append(prefix)
        return tuple(out)

    def places(self, value: object, key: str, default: Sequence[str]) -> frozenset[str]:
        """Place-of-service codes (two digits) of a [settings] key, ``default`` when absent."""
        where = f"[settings] {key}"
        out = self.strings(value if value is not None else list(default), where, "settings", key)
        for code in out:
            if not POS_RE.match(code):
                self.add(f"{where}: malformed place of service {code!r}", "settings", key, code)
        return frozenset(out)

    def optional_date(self, value: object, message: str, section: str, key: str) -> date | None:
        """A YYYY-MM-DD date or None when absent; a bad one is reported with ``message``."""
        try:
            return parse_date(value)
        except ValueError:
            self.add(message, section, key)
            return None

    def code_notes(self, notes: object, where: str, section: str, key: str) -> dict[str, str]:
        """A table code = "text" (an add-on's remedies, a same-day edit's alternatives)."""
        if not isinstance(notes, dict) or not all(
            isinstance(v, str) and CODE_RE.match(k) for k, v in notes.items()
        ):
            self.add(f'{where} must be a table code = "text"', section, key)
            return {}
        return {str(k): str(v) for k, v in notes.items()}
