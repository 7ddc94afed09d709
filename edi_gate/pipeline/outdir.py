"""A run owns its output directory: no file of an earlier run is left to be mistaken for this one's.

Why: ``replay --out DIR`` run twice into one directory used to leave the first run's
``changes.jsonl`` (thousands of lines from a compare) beside a new run's 15 decisions. A
directory that holds anything is refused unless ``--force`` is given; with ``--force`` the files a
replay writes are removed first, so every file of a replay's name in it is this run's. Files of
other names are never touched (the directory may be shared with other things by mistake).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from edi_gate.errors import ConfigError

REPLAY_OUTPUTS = ("decisions.jsonl", "changes.jsonl", "summary.json", "summary.txt")


def claim_output_dir(out: Path, *, force: bool, owned: Iterable[str] = REPLAY_OUTPUTS) -> None:
    """Make ``out`` this run's: refuse a non-empty one without ``force``; with it, remove the
    files named ``owned`` a previous run left. Raises ConfigError (exit 2) naming the directory."""
    if out.exists() and not out.is_dir():
        raise ConfigError("exists and is not a directory", path=str(out))
    try:
        entries = (
            sorted(p.name for p in out.iterdir() if not _leftover(p.name)) if out.exists() else []
        )
    except OSError as error:
        raise ConfigError(f"cannot list: {error.strerror or error}", path=str(out)) from None
    if not entries:
        return
    if not force:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ConfigError(
            f"output directory is not empty ({shown}); give an empty or new directory, "
            "or --force to replace an earlier run's files",
            path=str(out),
        )
    for name in owned:
        path = out / name
        try:
            if path.is_file() or path.is_symlink():
                path.unlink()
        except OSError as error:
            raise ConfigError(
                f"cannot remove an earlier run's {name}: {error.strerror or error}", path=str(out)
            ) from None


def _leftover(name: str) -> bool:
    """A spool or temporary file a killed replay left: removed by the next run, not a reason
    to refuse the directory."""
    return name.startswith(".replay-") or (name.startswith(".") and name.endswith(".tmp"))
