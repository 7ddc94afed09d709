"""Where the state lives: ``$XDG_STATE_HOME/edi-gate``, else ``~/.local/state/edi-gate``.

The XDG base directory specification names the state directory for data that should persist
between runs but is not worth backing up with the user's documents (logs, history, counters).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "edi-gate"
DATABASE = "edi-gate.sqlite3"


def default_state_dir() -> Path:
    """The user's state directory for edi-gate (not created here)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    # The specification: a relative path in the variable is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / APP


def database_path(state_dir: Path | None = None) -> Path:
    """The state database in ``state_dir`` (default: :func:`default_state_dir`)."""
    return (state_dir if state_dir is not None else default_state_dir()) / DATABASE
