"""The errors edi-gate raises on purpose, under one base the command line maps to exit statuses.

``EdiGateError`` is what a caller catches for "edi-gate refused this, and said why in one line":
``ConfigError`` (a ruleset, roster, partners or state file that cannot be used; exit 2) and
``X12Error`` (input that is not readable X12; exit 65). Each also subclasses ``ValueError``, the
builtin it resembles: the file or the bytes have the right type but a value edi-gate cannot use
(as ``json.JSONDecodeError`` and ``UnicodeDecodeError`` are ValueErrors). Code catching
``ValueError`` around a parse therefore also catches these; the places that do (state files,
decision files, watch's control-number check) turn them into a ConfigError on purpose.

X12Error lives beside the ``shown_*`` functions its messages are built from
(``edi_gate.x12.errors``, which imports the base from here); it is re-exported here, resolved on
first use so that either module can be imported first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edi_gate.x12.errors import X12Error

__all__ = ["ConfigError", "EdiGateError", "X12Error", "read_config_text"]


class EdiGateError(Exception):
    """An input or a configuration edi-gate refuses, with a one-line message fit for a log."""


class ConfigError(EdiGateError, ValueError):
    """A ruleset, roster or partner file that cannot be used: names the file, line and reason."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = [p for p in (self.path, f"line {self.line}" if self.line else None) if p]
        return ": ".join([*where, self.message])


def __getattr__(name: str) -> type[X12Error]:
    """``from edi_gate.errors import X12Error``: resolved here, not at import, because
    edi_gate.x12.errors imports EdiGateError from this module."""
    if name == "X12Error":
        from edi_gate.x12.errors import X12Error

        return X12Error
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
