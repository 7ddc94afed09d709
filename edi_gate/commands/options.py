"""Options more than one command takes, each defined once.

``run_options(*names)`` puts a chosen set of them on a command, in one order for every command
(so each --help lists them alike), and hands the command one ``RunContext`` holding their values
instead of a parameter each.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from edi_gate.commands.context import RunContext
from edi_gate.vocabulary import Scope

RULESET_HELP = (
    "A ruleset FILE used for every claim, or a DIR of dated rulesets chosen per date of "
    "service (default: the shipped rulesets, chosen per date of service)."
)

dir_type = click.Path(file_okay=False, path_type=Path)
file_type = click.Path(dir_okay=False, path_type=Path)
input_argument = click.argument("input_path", metavar="[INPUT]", default="-", required=False)


def ruleset_option(help: str = RULESET_HELP) -> Callable:  # noqa: A002 - click's own name
    return click.option("--ruleset", type=click.Path(exists=True, path_type=Path), help=help)


def control_state_option(help: str) -> Callable:  # noqa: A002 - click's own name
    """--control-state: each command says what its JSON file of control numbers is for."""
    return click.option("--control-state", type=file_type, help=help)


def on_date(value: str | None) -> date | None:
    """--on DATE (YYYY-MM-DD), or None when not given."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _set_directory(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """--directory on filter/check/watch/replay: the engine (and replay's worker processes)
    find it through EDI_GATE_DIRECTORY."""
    if value is not None:
        from edi_gate.rules.engine import ENV_DIRECTORY

        os.environ[ENV_DIRECTORY] = str(value.resolve())


def _window(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from edi_gate.state.record import parse_window

    try:
        return parse_window(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


SHARED: dict[str, Callable] = {  # in the order every --help lists them
    "state_dir": click.option(
        "--state-dir",
        type=dir_type,
        help="Where control numbers and the duplicate record live, shared by every edi-gate "
        "process (default: $XDG_STATE_HOME/edi-gate, else ~/.local/state/edi-gate).",
    ),
    "duplicate_window": click.option(
        "--duplicate-window",
        default="0",
        show_default=True,
        callback=_window,
        help="Refuse an interchange already accepted from the same sender (ISA05/06 + ISA13) "
        "within this time (e.g. 90d, 12h, 3600s) with a TA1 R/025, forwarding nothing of it; "
        "0: no duplicate check.",
    ),
    "duplicate_claims": click.option(
        "--duplicate-claims",
        type=click.Choice(["off", "reject"]),
        default="off",
        show_default=True,
        help="reject: a claim with the billing NPI, CLM01, service dates and charge of one "
        "accepted within --duplicate-window is rejected (DUPLICATE-CLAIM, 277CA A3:78).",
    ),
    "require_ruleset": click.option(
        "--require-ruleset",
        is_flag=True,
        help="Reject a claim no ruleset is in force for (NO-RULESET, 277CA A3:187) instead of "
        "accepting it unjudged.",
    ),
    "ruleset": ruleset_option(),
    "roster": click.option(
        "--roster",
        type=file_type,
        help="Provider roster CSV (npi,taxonomy,credential,effective,expires).",
    ),
    "directory": click.option(
        "--directory",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_set_directory,
        help="Provider directory (SQLite, see `edi-gate directory`); default: the state "
        "directory's directory.sqlite when it exists.",
    ),
    "scope": click.option(
        "--scope",
        type=click.Choice([scope.value for scope in Scope]),
        default=Scope.CLAIM.value,
        show_default=True,
        help="Reject whole claims, or remove only the lines at fault.",
    ),
    "limits_spec": click.option(
        "--limits",
        "limits_spec",
        metavar="FILE|KEY=VALUE,...",
        help="Bounds on hostile input: a TOML file ([limits]) or e.g. max_loop_bytes=4MiB "
        "(see README, Limits).",
    ),
    "log_format": click.option(
        "--log-format",
        type=click.Choice(["auto", "json", "console"]),
        default="auto",
        show_default=True,
        help="auto: JSON lines unless stderr is a terminal.",
    ),
}

# The groups commands take: what the rule engine is made of (replay adds only these and the log
# format); the state database and its duplicate record (filter, watch); everything a command that
# decides the claims of raw X12 takes (filter, check, watch).
ENGINE = ("ruleset", "roster", "directory", "scope")
STATE = ("state_dir", "duplicate_window", "duplicate_claims")
DECIDING = ("require_ruleset", *ENGINE, "limits_spec", "log_format")


def run_options(*names: str) -> Callable[[Callable], Callable]:
    """The SHARED options ``names`` on a command whose function takes ``run: RunContext``.
    The decorator nearest the function: the shared options come last in --help."""
    unknown = set(names) - set(SHARED)
    if unknown:
        raise TypeError(f"no shared option {sorted(unknown)}")

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def invoke(**values: Any) -> Any:
            run = RunContext(**{name: values.pop(name) for name in names if name in values})
            run.configure_logging()
            return command(run=run, **values)

        for name in reversed([n for n in SHARED if n in names]):
            invoke = SHARED[name](invoke)
        return invoke

    return decorate
