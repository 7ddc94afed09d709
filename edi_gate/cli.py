"""The `edi-gate` command: a thin click layer over the pipeline.

Each command lives in its own module of ``edi_gate.commands``; this module is the group that
gathers them (``edi_gate.cli:main`` is the console entry point). What the exit statuses mean is
written once, in ``edi_gate.commands.exits`` (printed by ``edi-gate --help``); an error is printed
once, as one line ``edi-gate: ...`` on standard error.
"""

from __future__ import annotations

import click

from edi_gate.commands.ack import ack_command
from edi_gate.commands.check import check_command
from edi_gate.commands.directory import directory_group
from edi_gate.commands.exits import EXIT_STATUSES
from edi_gate.commands.filter import filter_command
from edi_gate.commands.replay import replay_command
from edi_gate.commands.rules import rules_group
from edi_gate.commands.watch import watch_command

COMMANDS = (
    filter_command,
    rules_group,
    ack_command,
    check_command,
    watch_command,
    replay_command,
    directory_group,
)


@click.group(epilog=EXIT_STATUSES)
@click.version_option(package_name="edi-gate")
def main() -> None:
    """edi-gate: intercept X12 837P claims, apply imaging-privilege and coding rules."""
    import os

    os.umask(0o077)  # whatever the caller's umask: everything edi-gate creates is private


for _command in COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
