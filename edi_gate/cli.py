"""The `edi-gate` command: a thin click layer over the pipeline.

Exit statuses: 0 when the input was processed (rejections are a normal outcome), 2 for usage or
configuration errors, 65 (EX_DATAERR) when the input is not readable X12.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from edi_gate import logs
from edi_gate.errors import ConfigError, X12Error

EXIT_CONFIG = 2
EXIT_DATA = 65

input_argument = click.argument("input_path", metavar="INPUT", default="-", required=False)
ruleset_option = click.option(
    "--ruleset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this ruleset for every claim (default: the one in force on each date of service).",
)
roster_option = click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Provider roster CSV (npi,taxonomy,credential,effective,expires).",
)
scope_option = click.option(
    "--scope",
    type=click.Choice(["claim", "line"]),
    default="claim",
    show_default=True,
    help="Reject whole claims, or remove only the lines at fault.",
)
log_option = click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    show_default=True,
    help="auto: JSON lines unless stderr is a terminal.",
)


def _setup_logging(log_format: str) -> None:
    logs.configure(json_lines=None if log_format == "auto" else log_format == "json")


def load_engine(ruleset: Path | None, roster: Path | None):
    """The rule engine for a run; configuration problems exit 2 with the file and reason."""
    from edi_gate.rules.engine import Engine

    try:
        return Engine.load(ruleset, roster)
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")


def _fail(status: int, message: str) -> None:
    logs.get_logger().error("edi_gate.failed", error=message, exit_status=status)
    click.echo(f"edi-gate: {message}", err=True)
    sys.exit(status)


def _open_input(input_path: str) -> tuple[BinaryIO, str]:
    if input_path == "-":
        return sys.stdin.buffer, "<stdin>"
    try:
        return open(input_path, "rb"), input_path  # noqa: SIM115 - closed by the caller
    except OSError as error:
        _fail(
            EXIT_DATA if isinstance(error, IsADirectoryError) else 66,
            f"{input_path}: {error.strerror}",
        )
        raise


@click.group()
@click.version_option(package_name="edi-gate")
def main() -> None:
    """edi-gate: intercept X12 837P claims, apply imaging-privilege and coding rules."""


@main.command("filter")
@input_argument
@click.option("-o", "--output", "output", default="-", help="Filtered 837 (default: stdout).")
@click.option("--acks", type=click.Path(dir_okay=False), help="Write the 277CA here.")
@click.option("--ack999", type=click.Path(dir_okay=False), help="Write the 999 (and TA1) here.")
@click.option("--decisions", type=click.Path(dir_okay=False), help="Write decisions (JSON Lines).")
@click.option(
    "--control-state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file persisting the acknowledgments' control numbers between runs.",
)
@ruleset_option
@roster_option
@scope_option
@log_option
def filter_command(
    input_path: str,
    output: str,
    acks: str | None,
    ack999: str | None,
    decisions: str | None,
    control_state: Path | None,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
) -> None:
    """Filter INPUT (a path or '-'): accepted claims out, rejections in the 277CA."""
    from edi_gate.pipeline.run import FilterTargets, run_filter_file

    _setup_logging(log_format)
    engine = load_engine(ruleset, roster)
    targets = FilterTargets(
        output=output, acks=acks, ack999=ack999, decisions=decisions, control_state=control_state
    )
    stream, name = _open_input(input_path)
    try:
        summary = run_filter_file(stream, name, engine, targets, scope=scope, now=datetime.now(UTC))
    except X12Error as error:
        _fail(EXIT_DATA, str(error))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    logs.get_logger().info("filter.summary", **summary.as_dict())


class _DecisionTable:
    """A text sink for decisions JSON Lines that prints them for an analyst, or as they are."""

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format

    def write(self, text: str) -> None:
        import json

        for raw in text.splitlines():
            if self.output_format == "json":
                click.echo(raw)
                continue
            record = json.loads(raw)
            codes = ", ".join(
                f"{ln['line']}:{ln['procedure']}" + "".join(f"-{m}" for m in ln["modifiers"])
                for ln in record["lines"]
            )
            click.echo(f"{record['claim']:<20} {record['decision']:<9} {codes}")
            for finding in record["findings"]:
                where = f"line {finding['line']}" if finding["line"] is not None else "claim"
                click.echo(f"    {finding['rule']:<10} {where:<8} {finding['message']}")


@main.command("check")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: readable; json: the --decisions JSON Lines.",
)
@ruleset_option
@roster_option
@scope_option
@log_option
def check_command(
    inputs: tuple[str, ...],
    output_format: str,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
) -> None:
    """Decide the claims of INPUT... without writing an 837."""
    from edi_gate.pipeline.filter import FilterRun

    _setup_logging(log_format)
    engine = load_engine(ruleset, roster)
    table = _DecisionTable(output_format)
    failed = False
    for input_path in inputs:
        stream, name = _open_input(input_path)
        try:
            if output_format == "table":
                click.echo(f"# {name}")
            summary = FilterRun(engine, scope=scope, decisions=table).run(stream, name)
            logs.get_logger().info("check.summary", **summary.as_dict())
        except X12Error as error:
            click.echo(f"edi-gate: {error}", err=True)
            failed = True
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    if failed:
        sys.exit(EXIT_DATA)


if __name__ == "__main__":  # pragma: no cover
    main()
