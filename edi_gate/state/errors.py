"""The error a state file or database that cannot be used raises (exit 2, one line)."""

from __future__ import annotations

from edi_gate.errors import ConfigError


class StateError(ConfigError):
    """A control-number file or state database that is corrupt, unreadable or not ours.

    A ``ConfigError`` (the command line exits 2 with one line naming the file) and, for callers
    that checked for it before, a ``ValueError``.
    """
