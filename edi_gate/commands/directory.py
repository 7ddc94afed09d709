"""`edi-gate directory`: build and inspect the provider directory (roster and NPPES in SQLite).

    edi-gate directory import conf/roster.csv
    edi-gate directory import --nppes npidata_pfile_20050523-20250608.csv
    edi-gate directory stats
    edi-gate directory lookup 1234567893 --on 2025-03-01

Every command takes ``--directory PATH`` (default: the state directory's directory.sqlite), as
filter, check, watch and replay do (``edi_gate.commands.options``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from edi_gate.commands.exits import ConfigFailure, NoInputFailure
from edi_gate.commands.options import on_date
from edi_gate.errors import ConfigError


def _path_option(func):
    return click.option(
        "--directory",
        "directory",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The directory file (default: $XDG_STATE_HOME/edi-gate/directory.sqlite).",
    )(func)


def _target(directory: Path | None) -> Path:
    from edi_gate.directory.store import default_path

    return directory if directory is not None else default_path()


@click.group("directory")
def directory_group() -> None:
    """The provider directory: the payer's roster and the NPI registry (NPPES) in SQLite."""


@directory_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--nppes",
    is_flag=True,
    help="FILES is CMS's NPPES data dissemination file (npidata_pfile_*.csv); else a roster CSV.",
)
@_path_option
def import_command(files: tuple[Path, ...], nppes: bool, directory: Path | None) -> None:
    """Replace the roster's (or NPPES's) part of the directory with FILE, in one transaction."""
    from edi_gate.directory import store
    from edi_gate.rules.roster import load_roster

    data = [f for f in files if not f.name.endswith("_fileheader.csv")]  # NPPES ships one
    if len(data) != 1:
        raise ConfigFailure(f"give one data file to import, not {len(data)}")
    file = data[0]
    if not file.is_file():
        raise NoInputFailure(f"{file}: no such file")
    target = _target(directory)
    try:
        if nppes:
            result = store.import_nppes(target, file)
        else:
            result = store.import_roster(target, load_roster(file), str(file))
    except ConfigError as error:
        raise ConfigFailure(f"import failed, directory unchanged: {error}") from None
    skipped = f", {result.skipped:,} rows skipped (malformed)" if result.skipped else ""
    click.echo(
        f"{result.source}: {result.npis:,} NPIs, {result.rows:,} entries from {file.name}"
        f"{skipped} -> {target}"
    )


@directory_group.command("stats")
@_path_option
def stats_command(directory: Path | None) -> None:
    """Counts per source and the date of each source's last import."""
    from edi_gate.directory import store

    target = _target(directory)
    if not target.is_file():
        raise ConfigFailure(f"no provider directory at {target} (run `edi-gate directory import`)")
    try:
        rows = store.stats(target)
    except ConfigError as error:
        raise ConfigFailure(str(error)) from None
    click.echo(f"{target} ({target.stat().st_size / 1e6:.1f} MB)")
    if not rows:
        click.echo("  (empty: nothing imported yet)")
    for row in rows:
        skipped = f", {row.skipped:,} skipped" if row.skipped else ""
        click.echo(
            f"  {row.source:<7} {row.npis:>10,} NPIs {row.rows:>11,} entries{skipped}"
            f"  imported {row.imported_at} from {row.file}"
        )


@directory_group.command("lookup")
@click.argument("npi")
@click.option("--on", "on", help="Date of service YYYY-MM-DD (default: today).")
@_path_option
def lookup_command(npi: str, on: str | None, directory: Path | None) -> None:
    """What the directory says about NPI on a date, source by source."""
    from edi_gate.directory.lookup import ProviderDirectory
    from edi_gate.directory.store import SqliteSource

    day = on_date(on) if on else date.today()
    target = _target(directory)
    if not target.is_file():
        raise ConfigFailure(f"no provider directory at {target}")
    source = SqliteSource(target)
    try:
        found = ProviderDirectory([source])
        listings = found.listings(npi)
        if not listings:
            click.echo(f"{npi}: not in the directory")
        for listing in listings:
            codes = ", ".join(listing.taxonomies_on(day)) or "(none in force)"
            creds = ", ".join(p.code for p in listing.credentials if p.in_force(day))
            entity = {"1": " individual", "2": " organization"}.get(listing.entity_type, "")
            click.echo(f"{npi} {listing.source}{entity}: taxonomies {codes}")
            if creds:
                click.echo(f"    credentials {creds}")
            gone = listing.deactivated_on(day)
            if gone is not None:
                click.echo(f"    deactivated since {gone.start}")
        hit = found.taxonomies(npi, day)
        if hit.codes:
            click.echo(f"rules use: {', '.join(hit.codes)} ({hit.source})")
    except ConfigError as error:
        raise ConfigFailure(str(error)) from None
    finally:
        source.close()
