"""`edi-gate check`: decide the claims of some inputs and show the decisions, writing nothing."""

from __future__ import annotations

import json

import click

from edi_gate import logs
from edi_gate.commands.context import RunContext, close_input, filter_totals, open_input
from edi_gate.commands.exits import DataFailure
from edi_gate.commands.options import DECIDING, run_options
from edi_gate.decisions.record import table_lines
from edi_gate.errors import X12Error


class DecisionTable:
    """A text sink for decisions JSON Lines that prints them as a table, or as they are.
    Claims no ruleset judged (``"ruleset": null``) are counted for the totals."""

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        self.not_evaluated = 0

    def write(self, text: str) -> None:
        from edi_gate.report.tallies import not_evaluated

        for raw in text.splitlines():
            record = json.loads(raw)
            self.not_evaluated += not_evaluated(record)
            for line in [raw] if self.output_format == "json" else table_lines(record):
                click.echo(line)


@click.command("check")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: readable, with totals after each input; json: the --decisions JSON Lines.",
)
@run_options(*DECIDING)
def check_command(run: RunContext, inputs: tuple[str, ...], output_format: str) -> None:
    """Decide the claims of INPUT... without writing an 837."""
    from edi_gate.report.terminal import combine, render

    limits = run.limits()
    engine = run.engine()
    parts: list = []
    failed = False
    for input_path in inputs:
        failed |= _check_one(run, engine, limits, input_path, output_format, parts)
    if run.console and parts and (output_format == "json" or len(parts) > 1):
        click.echo("\n" + render(combine("edi-gate check: all inputs", parts)), err=True, nl=False)
    if failed:
        raise click.exceptions.Exit(DataFailure.exit_code)


def _check_one(run, engine, limits, input_path: str, output_format: str, parts: list) -> bool:
    """Decide one input, print its decisions (and a table's totals), add its totals to
    ``parts``; an input that is not readable X12 is said in one line and True returned, so the
    other inputs are still checked."""
    from edi_gate.pipeline.filter import FilterRun
    from edi_gate.report.terminal import render

    stream, name = open_input(input_path)
    table = DecisionTable(output_format)
    try:
        if output_format == "table":
            click.echo(f"# {name}")
        filter_run = FilterRun(
            engine,
            scope=run.scope,
            decisions=table,
            require_ruleset=run.require_ruleset,
            limits=limits,
        )
        summary = filter_run.run(stream, name)
        totals = filter_totals(summary, engine, "check", table.not_evaluated)
        parts.append(totals)
        if output_format == "table":
            click.echo("\n" + render(totals))
        if not run.console:
            logs.get_logger().info("check.summary", **summary.as_dict())
    except X12Error as error:
        DataFailure(str(error)).show()
        return True
    finally:
        close_input(stream)
    return False
