"""The `edi-gate` command: a thin click layer over the pipeline.

Exit statuses: 0 when the input was processed (rejections are a normal outcome), 2 for usage or
configuration errors, 65 (EX_DATAERR) when the input is not readable X12, 66 (EX_NOINPUT) when it
cannot be opened, 74 (EX_IOERR) when an output cannot be written (nothing is left half-written).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from edi_gate import logs
from edi_gate.errors import ConfigError, X12Error

EXIT_CONFIG = 2
EXIT_DATA = 65
EXIT_NO_INPUT = 66
EXIT_IO = 74

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
limits_option = click.option(
    "--limits",
    "limits_spec",
    metavar="FILE|KEY=VALUE,...",
    help="Bounds on hostile input: a TOML file ([limits]) or e.g. max_loop_bytes=4MiB "
    "(see README, Limits).",
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
        engine = Engine.load(ruleset, roster)
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    # Modules, ruleset and roster live as long as the process: move them out of the collector's
    # way, so its full passes over a run's claims stop walking them each time (about 5%).
    gc.freeze()
    return engine


def _limits(spec: str | None, table: dict | None = None):
    """The Limits of a run: defaults, a partners file's [limits], then --limits."""
    from edi_gate.limits import limits_from_table, parse_limits

    try:
        base = limits_from_table(table, "partners file") if table is not None else None
        return parse_limits(spec, base) if spec else base
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")


def _fail(status: int, message: str) -> None:
    from edi_gate.x12.errors import shown_name

    logs.get_logger().error("edi_gate.failed", error=message, exit_status=status)
    click.echo(f"edi-gate: {shown_name(message)}", err=True)
    sys.exit(status)


@contextlib.contextmanager
def _exit_statuses() -> Iterator[None]:
    """Map what a run can fail with to the documented exit statuses, with a one-line message."""
    try:
        yield
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    except X12Error as error:
        _fail(EXIT_DATA, str(error))
    except OSError as error:  # disk full, unwritable directory: outputs were rolled back
        _fail(EXIT_IO, f"cannot write outputs: {_describe_os_error(error)}")


def _describe_os_error(error: OSError) -> str:
    paths = [p for p in (error.filename, error.filename2) if p]
    target = paths[-1] if paths else "output"
    return f"{target}: {error.strerror or error}"


def _open_input(input_path: str) -> tuple[BinaryIO, str]:
    if input_path == "-":
        return sys.stdin.buffer, "<stdin>"
    try:
        return open(input_path, "rb"), input_path  # noqa: SIM115 - closed by the caller
    except OSError as error:
        _fail(
            EXIT_DATA if isinstance(error, IsADirectoryError) else EXIT_NO_INPUT,
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
@click.option(
    "--reject",
    type=click.Choice(["set", "interchange"]),
    default="set",
    show_default=True,
    help="What a transaction set with syntax errors takes down: its own claims, or every claim "
    "of its interchange.",
)
@ruleset_option
@roster_option
@scope_option
@limits_option
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
    reject: str,
    limits_spec: str | None,
) -> None:
    """Filter INPUT (a path or '-'): accepted claims out, rejections in the 277CA."""
    from edi_gate.pipeline.run import FilterTargets, run_filter_file

    _setup_logging(log_format)
    limits = _limits(limits_spec)
    engine = load_engine(ruleset, roster)
    targets = FilterTargets(
        output=output, acks=acks, ack999=ack999, decisions=decisions, control_state=control_state
    )
    stream, name = _open_input(input_path)
    try:
        with _exit_statuses():
            summary = run_filter_file(
                stream,
                name,
                engine,
                targets,
                scope=scope,
                reject=reject,
                now=datetime.now(UTC),
                limits=limits,
            )
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    logs.get_logger().info("filter.summary", **summary.as_dict())


@main.group("rules")
def rules_group() -> None:
    """Inspect and check the rulesets."""


def _on_date(value: str | None):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


on_option = click.option("--on", "on", help="Ruleset in force on this date (default: today).")
rulesets_option = click.option(
    "--ruleset",
    type=click.Path(exists=True, path_type=Path),
    help="A ruleset file or directory (default: the rulesets shipped with edi-gate).",
)


@rules_group.command("list")
@rulesets_option
@on_option
def rules_list(ruleset: Path | None, on: str | None) -> None:
    """Every rule of the ruleset in force: id, status, summary, source."""
    from edi_gate.rules.catalog import list_text

    click.echo(list_text(load_engine(ruleset, None), _on_date(on)))


@rules_group.command("show")
@click.argument("rule_id")
@rulesets_option
@on_option
def rules_show(rule_id: str, ruleset: Path | None, on: str | None) -> None:
    """Everything about one rule, including its reading of the seed."""
    from edi_gate.rules.catalog import show_text

    try:
        click.echo(show_text(load_engine(ruleset, None), rule_id.upper(), _on_date(on)))
    except KeyError:
        _fail(EXIT_CONFIG, f"no rule {rule_id!r} in the ruleset")


@rules_group.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def rules_lint(paths: tuple[Path, ...]) -> None:
    """Check rulesets (.toml) and rosters (.csv); exit 1 when anything is wrong."""
    from edi_gate.rules.catalog import lint_text

    report, status = lint_text(list(paths) or None)
    click.echo(report)
    sys.exit(status)


@main.command("ack")
@input_argument
@click.option(
    "--decisions",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The decisions JSON Lines of a past run over INPUT.",
)
@click.option("-o", "--output", "output", default="-", help="The 277CA (default: stdout).")
@click.option("--control-state", type=click.Path(dir_okay=False, path_type=Path))
@log_option
def ack_command(
    input_path: str, decisions: Path, output: str, control_state: Path | None, log_format: str
) -> None:
    """Build the 277CA for INPUT from a decisions file (for replays)."""
    from edi_gate.acks.ca277 import build_277_from_decisions
    from edi_gate.acks.state import ControlNumbers
    from edi_gate.pipeline.outputs import OutputSet

    _setup_logging(log_format)
    if input_path == "-":
        raise click.UsageError("ack reads INPUT twice: give a path, not '-'")
    _open_input(input_path)[0].close()  # a missing or unreadable INPUT: exit 66, said plainly
    control = ControlNumbers(state_path=control_state)
    with _exit_statuses(), OutputSet() as outputs:
        count = build_277_from_decisions(
            input_path,
            decisions,
            outputs.binary(output),
            control=control,
            now=datetime.now(UTC),
        )
    logs.get_logger().info("ack.summary", source=input_path, claims=count)


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
@limits_option
@log_option
def check_command(
    inputs: tuple[str, ...],
    output_format: str,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
    limits_spec: str | None,
) -> None:
    """Decide the claims of INPUT... without writing an 837."""
    from edi_gate.pipeline.filter import FilterRun

    _setup_logging(log_format)
    limits = _limits(limits_spec)
    engine = load_engine(ruleset, roster)
    table = _DecisionTable(output_format)
    failed = False
    for input_path in inputs:
        stream, name = _open_input(input_path)
        try:
            if output_format == "table":
                click.echo(f"# {name}")
            run = FilterRun(engine, scope=scope, decisions=table, limits=limits)
            summary = run.run(stream, name)
            logs.get_logger().info("check.summary", **summary.as_dict())
        except X12Error as error:
            click.echo(f"edi-gate: {error}", err=True)
            failed = True
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    if failed:
        sys.exit(EXIT_DATA)


dir_type = click.Path(file_okay=False, path_type=Path)


@main.command("watch")
@click.argument("inbox", type=dir_type)
@click.option("--out", required=True, type=dir_type, help="Filtered 837s (NAME.filtered.837).")
@click.option("--acks", required=True, type=dir_type, help="277CA/999 of senders without outbox.")
@click.option("--archive", required=True, type=dir_type, help="Inputs once processed.")
@click.option("--quarantine", required=True, type=dir_type, help="Unreadable or refused inputs.")
@click.option("--decisions", type=dir_type, help="Decisions JSON Lines (default: --out).")
@click.option("--work", type=dir_type, help="Job log and claimed files (default: INBOX/.edi-gate).")
@click.option("--once", is_flag=True, help="Process what is there, then exit (cron, tests).")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Poll every S s.")
@click.option(
    "--settle",
    type=float,
    default=2.0,
    show_default=True,
    help="Take a file once unchanged for S seconds (at once when renamed into place).",
)
@click.option(
    "--partners",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trading partners TOML: rules and outbox per ISA06 sender.",
)
@click.option(
    "--control-state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Acknowledgment control numbers (default: WORK/control-numbers.json).",
)
@ruleset_option
@roster_option
@scope_option
@limits_option
@log_option
def watch_command(
    inbox: Path,
    out: Path,
    acks: Path,
    archive: Path,
    quarantine: Path,
    decisions: Path | None,
    work: Path | None,
    once: bool,
    interval: float,
    settle: float,
    partners: Path | None,
    control_state: Path | None,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
    limits_spec: str | None,
) -> None:
    """Filter every complete file dropped in INBOX exactly once; SIGTERM stops after a file."""
    import signal

    from edi_gate.pipeline.partners import load_partners
    from edi_gate.pipeline.watch import Router, WatchConfig, Watcher
    from edi_gate.rules.engine import Engine

    _setup_logging(log_format)
    config = WatchConfig(
        inbox,
        out,
        acks,
        archive,
        quarantine,
        decisions=decisions,
        work=work,
        settle=settle,
        interval=interval,
        scope=scope,
        control_state=control_state,
    )
    try:
        book = load_partners(partners) if partners is not None else None
        config.limits = _limits(limits_spec, book.limits if book is not None else None)
        router = Router(config, Engine.load, book, ruleset, roster)
        router.load_all()
        watcher = Watcher(config, router)
        watcher.prepare()
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: watcher.stop())
    watcher.run(once=once)


@main.command("replay")
@click.argument("archives", nargs=-1, required=True, metavar="ARCHIVE...")
@click.option("--out", required=True, type=dir_type, help="decisions.jsonl, summary.json/.txt.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: a process pool; spark: PySpark (edi-gate[spark]).",
)
@click.option("--master", default="local[*]", show_default=True, help="Spark master URL.")
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(exists=True, path_type=Path),
    metavar="RULESET_A RULESET_B",
    help="Report every claim whose decision changes from A to B.",
)
@click.option(
    "--split-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Cut plain files larger than this many MiB at interchange boundaries.",
)
@ruleset_option
@roster_option
@scope_option
@log_option
def replay_command(
    archives: tuple[str, ...],
    out: Path,
    workers: int,
    engine_name: str,
    master: str,
    compare: tuple[Path, Path] | None,
    split_size: int,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
) -> None:
    """What would a ruleset have done? Files, directories, globs, .gz and .zip archives."""
    from edi_gate.pipeline import replay as rp

    _setup_logging(log_format)
    roster_arg = str(roster) if roster else None
    if compare:
        spec = rp.EngineSpec(str(compare[0]), roster_arg)
        other: rp.EngineSpec | None = rp.EngineSpec(str(compare[1]), roster_arg)
    else:
        spec, other = rp.EngineSpec(str(ruleset) if ruleset else None, roster_arg), None
    try:
        for each in (spec, other):
            if each is not None:
                rp._engine(each)  # fail fast, exit 2, before any worker starts
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    sources, missing = rp.expand_inputs(archives)
    units = rp.plan_units(sources, split_size << 20)
    report = rp.Replay(out, spec, other, write_jsonl=engine_name == "local")
    report.errors.extend(missing)
    extra = {"engine": engine_name, "workers": workers}
    if engine_name == "spark":
        from edi_gate.pipeline.spark import SparkUnavailable, replay_spark

        try:
            extra = replay_spark(units, report, scope=scope, master=master)
        except SparkUnavailable as error:
            _fail(EXIT_CONFIG, str(error))
    elif sys.stderr.isatty():
        sizes = rp.unit_sizes(units)
        with click.progressbar(
            length=sum(sizes) or len(units), label="replay", file=sys.stderr
        ) as bar:
            rp.replay_local(
                units,
                report,
                scope=scope,
                workers=workers,
                progress=lambda r: bar.update(sizes[r.index] or 1),
            )
    else:
        rp.replay_local(units, report, scope=scope, workers=workers)
    data = report.finish(extra)
    click.echo(rp.render_report(data), nl=False)
    logs.get_logger().info(
        "replay.summary",
        files=data["files"],
        files_read=data["files_read"],
        claims=data["claims"],
        errors=len(data["errors"]),
        **data["by_decision"],
    )
    if not data["files_read"]:
        _fail(EXIT_DATA if sources else EXIT_CONFIG, "no input file could be read")


if __name__ == "__main__":  # pragma: no cover
    main()
