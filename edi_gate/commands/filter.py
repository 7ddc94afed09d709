"""`edi-gate filter`: one input through the rules into the filtered 837 and its acknowledgments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from edi_gate.commands.context import RunContext, close_input, filter_totals, open_input
from edi_gate.commands.exits import exit_statuses
from edi_gate.commands.options import (
    DECIDING,
    STATE,
    control_state_option,
    input_argument,
    run_options,
)
from edi_gate.vocabulary import RejectPolicy


def _one_on_stdout(outputs: dict[str, str | None]) -> None:
    """Standard output holds one stream: two outputs given '-' is a usage error."""
    on_stdout = [name for name, value in outputs.items() if value == "-"]
    if len(on_stdout) > 1:
        raise click.UsageError(
            f"{', '.join(on_stdout)}: only one output may go to standard output ('-')"
        )


@click.command("filter")
@input_argument
@click.option("-o", "--output", "output", default="-", help="Filtered 837 (default: stdout).")
@click.option("--acks", type=click.Path(dir_okay=False), help="Write the 277CA here.")
@click.option("--ack999", type=click.Path(dir_okay=False), help="Write the 999 (and TA1) here.")
@click.option("--decisions", type=click.Path(dir_okay=False), help="Write decisions (JSON Lines).")
@control_state_option("JSON file persisting the acknowledgments' control numbers between runs.")
@click.option(
    "--reject",
    type=click.Choice([policy.value for policy in RejectPolicy]),
    default=RejectPolicy.SET.value,
    show_default=True,
    help="What a transaction set with syntax errors takes down: its own claims, or every claim "
    "of its interchange.",
)
@run_options(*STATE, *DECIDING)
def filter_command(
    run: RunContext,
    input_path: str,
    output: str,
    acks: str | None,
    ack999: str | None,
    decisions: str | None,
    control_state: Path | None,
    reject: str,
) -> None:
    """Filter INPUT (a path or '-'): accepted claims out, rejections in the 277CA."""
    from edi_gate.pipeline.run import FilterTargets, run_filter_file

    if run.reject_duplicate_claims and not run.duplicate_window:
        raise click.UsageError("--duplicate-claims reject needs a --duplicate-window (e.g. 90d)")
    _one_on_stdout({"-o": output, "--acks": acks, "--ack999": ack999, "--decisions": decisions})
    limits = run.limits()
    engine = run.engine()
    targets = FilterTargets(
        output=output,
        acks=acks,
        ack999=ack999,
        decisions=decisions,
        control_state=control_state,
        state=run.state_store(),
        duplicate_window=run.duplicate_window,
        duplicate_claims=run.reject_duplicate_claims,
    )
    stream, name = open_input(input_path)
    try:
        with exit_statuses():
            summary = run_filter_file(
                stream,
                name,
                engine,
                targets,
                scope=run.scope,
                reject=reject,
                require_ruleset=run.require_ruleset,
                now=datetime.now(UTC),
                limits=limits,
            )
    finally:
        close_input(stream)
    run.end("filter.summary", filter_totals(summary, engine, "filter"), summary.as_dict())
