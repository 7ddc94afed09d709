"""Running `edi-gate` in-process with click's CliRunner, for tests that read what it prints.

A subprocess adds nothing when a test reads output text and exit codes; tests that check what only
a real process shows (the exit status a shell sees, signals, the umask of files created, standard
input) run the installed script instead. The CLI changes process state: its umask
(tests/conftest.py restores it) and, in watch and replay, the SIGTERM/SIGINT handlers (restored
here)."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from edi_gate.cli import main


@dataclass(frozen=True)
class Invocation:
    status: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


def invoke(*args: str | Path, stdin: bytes | None = None) -> Invocation:
    """``edi-gate ARGS`` in this process; what it printed and its exit status."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = CliRunner().invoke(
            main, [str(a) for a in args], input=stdin, prog_name="edi-gate", catch_exceptions=False
        )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return Invocation(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)
