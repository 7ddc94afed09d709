"""Errors the command line maps to exit statuses: bad configuration (2) and unreadable X12 (65)."""

from __future__ import annotations

from edi_gate.x12.errors import X12Error

__all__ = ["ConfigError", "X12Error"]


class ConfigError(Exception):
    """A ruleset, roster or partner file that cannot be used: names the file, line and reason."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = [p for p in (self.path, f"line {self.line}" if self.line else None) if p]
        return ": ".join([*where, self.message])
