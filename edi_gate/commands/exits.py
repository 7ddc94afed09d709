"""Exit statuses: the click exceptions that carry them, and the table ``edi-gate --help`` prints.

A command refuses by raising one of these; click prints it and exits with its status (the
statuses of sysexits.h a script or a cron job already knows). Each is printed once, as one line
``edi-gate: MESSAGE`` on standard error, with file names and values escaped (a partner's file
names reach terminals). ``exit_statuses()`` maps what a run can fail with onto them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import click

from edi_gate.errors import ConfigError, X12Error
from edi_gate.x12.errors import shown_name


class Failure(click.ClickException):
    """A refusal: one line on standard error and the exit status of its class."""

    meaning: ClassVar[str] = ""  # the exit status's line in the table of `edi-gate --help`

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"edi-gate: {shown_name(self.message)}", err=True)


class ConfigFailure(Failure):
    exit_code = 2
    meaning = "usage or configuration error (bad option, ruleset, roster, partners file)"

    @classmethod
    def of(cls, error: ConfigError) -> ConfigFailure:
        return cls(f"configuration error: {error}")


class DataFailure(Failure):
    exit_code = 65  # EX_DATAERR
    meaning = "the input is not readable X12; watch --once: a file was quarantined"


class NoInputFailure(Failure):
    exit_code = 66  # EX_NOINPUT
    meaning = "the input cannot be opened (missing, unreadable)"


class OutputFailure(Failure):
    exit_code = 74  # EX_IOERR
    meaning = (
        "an output cannot be written (disk full, no such directory);\n"
        "       nothing is left half-written"
    )


FAILURES = (ConfigFailure, DataFailure, NoInputFailure, OutputFailure)
FAILURES = (ConfigFailure, DataFailure, NoInputFailure, OutputFailure)
EXIT_PROCESSED = 0
EXIT_LINT_PROBLEMS = 1
STATUSES: tuple[tuple[int, str], ...] = (
    (EXIT_PROCESSED, "the input was processed (rejected claims are a normal outcome)"),
    (EXIT_LINT_PROBLEMS, "rules lint found problems"),
    *((failure.exit_code, failure.meaning) for failure in FAILURES),
)
EXIT_STATUSES = "\b\nExit statuses:\n" + "".join(
    f"  {status:<4}{meaning}\n" for status, meaning in STATUSES
)


@contextlib.contextmanager
def configuration() -> Iterator[None]:
    """Set-up (rules, roster, limits, partners): a ConfigError is exit 2, named as such."""
    try:
        yield
    except ConfigError as error:
        raise ConfigFailure.of(error) from None


@contextlib.contextmanager
def exit_statuses() -> Iterator[None]:
    """Map what a run can fail with to the documented exit statuses, with a one-line message."""
    try:
        with configuration():
            yield
    except X12Error as error:
        raise DataFailure(str(error)) from None
    except OSError as error:  # disk full, unwritable directory: outputs were rolled back
        raise OutputFailure(f"cannot write outputs: {describe_os_error(error)}") from None


# OutputSet writes TARGET through a hidden temporary file beside it, ".TARGET.XXXXXXXX.tmp".
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]{8}\.tmp$")


def describe_os_error(error: OSError) -> str:
    """The target a person asked for (never the hidden temporary file) and the reason."""
    paths = [str(p) for p in (error.filename, error.filename2) if p]
    target = paths[-1] if paths else "output"
    name = Path(target)
    match = _TEMP_NAME.match(name.name)
    if match:
        target = str(name.with_name(match.group("target")))
    return f"{target}: {error.strerror or error}"
