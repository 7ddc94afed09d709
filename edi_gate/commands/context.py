"""What the commands that decide claims share: logging, the rule engine, limits, state, input.

``filter``, ``check``, ``watch``, ``replay`` and ``ack`` take the same options
(``edi_gate.commands.options.run_options``), gathered into one ``RunContext``: logging is set up
once before the command runs, and the engine, the limits and the state database come from it.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import click

from edi_gate import logs
from edi_gate.commands.exits import DataFailure, NoInputFailure, configuration
from edi_gate.vocabulary import Scope


@dataclass(frozen=True)
class RunContext:
    """The shared options of a run; the fields a command does not take keep their defaults."""

    log_format: str = "auto"
    ruleset: Path | None = None
    roster: Path | None = None
    scope: str = Scope.CLAIM
    limits_spec: str | None = None
    require_ruleset: bool = False
    state_dir: Path | None = None
    duplicate_window: float = 0.0
    duplicate_claims: str = "off"

    def configure_logging(self) -> None:
        """JSON lines or a console renderer on standard error, as --log-format says."""
        logs.configure(json_lines=None if self.log_format == "auto" else self.log_format == "json")

    @property
    def reject_duplicate_claims(self) -> bool:
        return self.duplicate_claims == "reject"

    def filter_settings(self) -> dict[str, Any]:
        """The options every filter run of a watcher takes, as WatchConfig names them."""
        return {
            "scope": self.scope,
            "state_dir": self.state_dir,
            "duplicate_window": self.duplicate_window,
            "duplicate_claims": self.reject_duplicate_claims,
            "require_ruleset": self.require_ruleset,
        }

    @property
    def console(self) -> bool:
        """True when a person reads standard error: end the run with a table, not a log event."""
        return self.log_format == "console" or (self.log_format == "auto" and sys.stderr.isatty())

    def engine(self) -> Any:
        """The rule engine for a run; configuration problems exit 2 with the file and reason."""
        return load_engine(self.ruleset, self.roster)

    def limits(self, table: dict | None = None) -> Any:
        """The Limits of a run: defaults, a partners file's [limits], then --limits."""
        from edi_gate.limits import limits_from_table, parse_limits

        with configuration():
            base = limits_from_table(table, "partners file") if table is not None else None
            return parse_limits(self.limits_spec, base) if self.limits_spec else base

    def state_store(self) -> Any:
        from edi_gate.state.paths import database_path
        from edi_gate.state.store import StateStore

        return StateStore(database_path(self.state_dir))

    def end(self, event: str, totals: Any, fields: dict) -> None:
        """The run's summary: a table on a console, the usual log event in JSON logs."""
        if self.console:
            from edi_gate.report.terminal import render

            click.echo("\n" + render(totals), err=True, nl=False)
        else:
            logs.get_logger().info(event, **fields)


def load_engine(ruleset: Path | None, roster: Path | None) -> Any:
    """The rule engine; configuration problems exit 2 with the file and reason."""
    from edi_gate.rules.engine import Engine

    with configuration():
        engine = Engine.load(ruleset, roster)
    # Modules, ruleset and roster live as long as the process: move them out of the collector's
    # way, so its full passes over a run's claims stop walking them each time (about 5%).
    gc.freeze()
    return engine


def open_input(input_path: str) -> tuple[BinaryIO, str]:
    """INPUT as a binary stream and the name errors give it; '-' is standard input.
    A directory is not X12 (65); a missing or unreadable file is no input (66)."""
    if input_path == "-":
        return sys.stdin.buffer, "<stdin>"
    try:
        return open(input_path, "rb"), input_path  # noqa: SIM115 - closed by the caller
    except OSError as error:
        failure = DataFailure if isinstance(error, IsADirectoryError) else NoInputFailure
        raise failure(f"{input_path}: {error.strerror}") from None


def close_input(stream: BinaryIO) -> None:
    if stream is not sys.stdin.buffer:
        stream.close()


def filter_totals(summary: Any, engine: Any, command: str, not_evaluated: int | None = None):
    """The end-of-run table of one filter or check run."""
    from edi_gate.report.terminal import from_filter_summary, rule_summaries

    title = f"edi-gate {command}: {summary.source}"
    return from_filter_summary(summary, rule_summaries(engine), title, not_evaluated)
