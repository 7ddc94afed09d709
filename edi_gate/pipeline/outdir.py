"""A run owns its output directory: no file of an earlier run is left to be mistaken for this one's.

Why: ``replay --out DIR`` run twice into one directory used to leave the first run's
``changes.jsonl`` (thousands of lines from a compare) beside a new run's 15 decisions. A
directory that holds anything is refused unless ``--force`` is given; with ``--force`` the files a
replay writes are removed first, so every file of a replay's name in it is this run's. Files of
other names are never touched (the directory may be shared with other things by mistake).

While a replay runs it holds a lock on the directory (one replay at a time per directory) and
keeps its unit files in a spool directory there (``.replay-PID-*``); what a killed replay left is
removed by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from edi_gate.errors import ConfigError

REPLAY_OUTPUTS = ("decisions.jsonl", "changes.jsonl", "summary.json", "summary.txt")
SPOOL_PREFIX = ".replay-"  # the spool directory of unit files, under --out while a replay runs


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
    return name.startswith(SPOOL_PREFIX) or (name.startswith(".") and name.endswith(".tmp"))


def lock_output_dir(out: Path) -> int:
    """One replay at a time per output directory: a lock on the directory itself (no lock file
    another user could open and hold). Returns the descriptor that holds it."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError("another replay is writing to this directory", path=str(out)) from None
    return fd


def clean_stale(out: Path) -> list[str]:
    """Remove what a killed replay left under ``out``: its spool directories (``.replay-PID-*``)
    and the temporary files of its outputs. Called with the directory's lock held, so no other
    replay is writing there. Returns what went."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(out))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and _stale(entry):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            removed.append(entry.name)
    return removed


def _stale(entry: os.DirEntry[str]) -> bool:
    """A spool directory, or an output's temporary file (``.NAME.XXXX.tmp``), this user owns."""
    if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
        return False
    if entry.name.startswith(SPOOL_PREFIX):
        return entry.is_dir(follow_symlinks=False)
    if not (entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False)):
        return False
    stem = entry.name[1:].split(".", 2)
    return len(stem) > 1 and f"{stem[0]}.{stem[1]}" in REPLAY_OUTPUTS
