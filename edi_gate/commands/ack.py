"""`edi-gate ack`: rebuild the 277CA of an input from the decisions of a past run (replays)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from edi_gate import logs
from edi_gate.commands.context import RunContext, open_input
from edi_gate.commands.exits import DataFailure, exit_statuses
from edi_gate.commands.options import control_state_option, run_options


@click.command("ack")
@click.argument("input_path", metavar="INPUT")
@click.option(
    "--decisions",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The decisions JSON Lines of a past run over INPUT.",
)
@click.option("-o", "--output", "output", default="-", help="The 277CA (default: stdout).")
@control_state_option(
    "JSON file of control numbers (default: the state database, see --state-dir, shared "
    "with filter so rebuilt 277CAs never reuse a control number)."
)
@run_options("state_dir", "log_format")
def ack_command(
    run: RunContext, input_path: str, decisions: Path, output: str, control_state: Path | None
) -> None:
    """Build the 277CA for INPUT from a decisions file (for replays)."""
    from edi_gate.acks.rebuild import build_277_from_decisions
    from edi_gate.pipeline.outputs import OutputSet
    from edi_gate.pipeline.run import FilterTargets

    if input_path == "-":
        raise click.UsageError("ack reads INPUT twice: give a path, not '-'")
    open_input(input_path)[0].close()  # a missing or unreadable INPUT: exit 66, said plainly
    targets = FilterTargets(control_state=control_state, state=run.state_store())
    control = targets.control_numbers()
    try:
        with exit_statuses(), OutputSet() as outputs:
            count = build_277_from_decisions(
                input_path,
                decisions,
                outputs.binary(output),
                control=control,
                now=datetime.now(UTC),
            )
    except (ValueError, TypeError, KeyError, AttributeError, AssertionError) as error:
        # a decisions file that is not this command's JSON Lines: nothing was written
        message = f"{decisions}: not a usable decisions file ({type(error).__name__})"
        raise DataFailure(message) from None
    logs.get_logger().info("ack.summary", source=input_path, claims=count)
