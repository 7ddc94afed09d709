"""Errors the command line maps to exit statuses: bad configuration (2) and unreadable X12 (65)."""

from __future__ import annotations

from pathlib import Path

from edi_gate.x12.errors import X12Error

__all__ = ["ConfigError", "X12Error", "read_config_text"]


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


def read_config_text(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of a configuration file, or a ConfigError naming it: unreadable, or not text in
    ``encoding`` (with the line of the first bad byte), never a traceback."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", path=str(path)) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"{what} is not UTF-8 text (byte {data[exc.start]:#04x})"
        raise ConfigError(message, path=str(path), line=line) from None
