"""`edi-gate rules`: list, show and lint the rulesets (and rosters and partners files)."""

from __future__ import annotations

from pathlib import Path

import click

from edi_gate.commands.context import load_engine
from edi_gate.commands.exits import ConfigFailure
from edi_gate.commands.options import on_date, ruleset_option

on_option = click.option("--on", "on", help="Ruleset in force on this date (default: today).")
catalog_ruleset_option = ruleset_option(
    "A ruleset file or directory (default: the rulesets shipped with edi-gate)."
)


@click.group("rules")
def rules_group() -> None:
    """Inspect and check the rulesets."""


@rules_group.command("list")
@catalog_ruleset_option
@on_option
def rules_list(ruleset: Path | None, on: str | None) -> None:
    """Every rule of the ruleset in force: id, status, on/off, source seed, summary."""
    from edi_gate.rules.catalog import NoRulesetError, list_text

    try:
        click.echo(list_text(load_engine(ruleset, None), on_date(on)))
    except NoRulesetError as error:
        raise ConfigFailure(str(error)) from None


@rules_group.command("show")
@click.argument("rule_id")
@catalog_ruleset_option
@on_option
def rules_show(rule_id: str, ruleset: Path | None, on: str | None) -> None:
    """Everything about one rule, including its reading of the seed."""
    from edi_gate.rules.catalog import NoRulesetError, show_text

    try:
        click.echo(show_text(load_engine(ruleset, None), rule_id.upper(), on_date(on)))
    except NoRulesetError as error:
        raise ConfigFailure(str(error)) from None
    except KeyError:
        raise ConfigFailure(f"no rule {rule_id!r} in the ruleset") from None


@rules_group.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def rules_lint(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check rulesets, rosters (.csv) and partners files; exit 1 when anything is wrong.

    A .toml file is a partners file when it has [partners.*] tables or unknown_sender, else a
    ruleset. Directories are expanded. Every problem is reported, not only the first.
    """
    from edi_gate.rules.catalog import lint_text

    report, status = lint_text(list(paths) or None)
    click.echo(report)
    ctx.exit(status)
