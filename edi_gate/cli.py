"""The `edi-gate` command: a thin click layer over the pipeline.

Exit statuses (EXIT_STATUSES, printed by ``edi-gate --help``): 0 when the input was processed
(rejections are a normal outcome), 1 when `rules lint` found problems, 2 for usage or
configuration errors, 65 (EX_DATAERR) when the input is not readable X12 (and `watch --once` when
it quarantined a file), 66 (EX_NOINPUT) when it cannot be opened, 74 (EX_IOERR) when an output
cannot be written (nothing is left half-written). An error is printed once, as one line
``edi-gate: ...`` on standard error.
"""

from __future__ import annotations

import contextlib
import gc
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from edi_gate import logs
from edi_gate.commands.directory import directory_group, directory_option
from edi_gate.errors import ConfigError, X12Error

EXIT_CONFIG = 2
EXIT_DATA = 65
EXIT_NO_INPUT = 66
EXIT_IO = 74

EXIT_STATUSES = f"""\b
Exit statuses:
  0   the input was processed (rejected claims are a normal outcome)
  1   rules lint found problems
  {EXIT_CONFIG}   usage or configuration error (bad option, ruleset, roster, partners file)
  {EXIT_DATA}  the input is not readable X12; watch --once: a file was quarantined
  {EXIT_NO_INPUT}  the input cannot be opened (missing, unreadable)
  {EXIT_IO}  an output cannot be written (disk full, no such directory);
       nothing is left half-written
"""

input_argument = click.argument("input_path", metavar="[INPUT]", default="-", required=False)
ruleset_option = click.option(
    "--ruleset",
    type=click.Path(exists=True, path_type=Path),
    help="A ruleset FILE used for every claim, or a DIR of dated rulesets chosen per date of "
    "service (default: the shipped rulesets, chosen per date of service).",
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


# -- state: control numbers and the duplicate record (edi_gate.state) ---------------------------


def _window(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from edi_gate.state.record import parse_window

    try:
        return parse_window(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where control numbers and the duplicate record live, shared by every edi-gate process "
    "(default: $XDG_STATE_HOME/edi-gate, else ~/.local/state/edi-gate).",
)
duplicate_window_option = click.option(
    "--duplicate-window",
    default="0",
    show_default=True,
    callback=_window,
    help="Refuse an interchange already accepted from the same sender (ISA05/06 + ISA13) "
    "within this time (e.g. 90d, 12h, 3600s) with a TA1 R/025, forwarding nothing of it; "
    "0: no duplicate check.",
)
duplicate_claims_option = click.option(
    "--duplicate-claims",
    type=click.Choice(["off", "reject"]),
    default="off",
    show_default=True,
    help="reject: a claim with the billing NPI, CLM01, service dates and charge of one accepted "
    "within --duplicate-window is rejected (DUPLICATE-CLAIM, 277CA A3:78).",
)
require_ruleset_option = click.option(
    "--require-ruleset",
    is_flag=True,
    help="Reject a claim no ruleset is in force for (NO-RULESET, 277CA A3:187) instead of "
    "accepting it unjudged.",
)


def _state_store(state_dir: Path | None):
    from edi_gate.state.paths import database_path
    from edi_gate.state.store import StateStore

    return StateStore(database_path(state_dir))


def _setup_logging(log_format: str) -> None:
    logs.configure(json_lines=None if log_format == "auto" else log_format == "json")


def _console(log_format: str) -> bool:
    """True when a person reads standard error: end the run with a table, not a log event."""
    return log_format == "console" or (log_format == "auto" and sys.stderr.isatty())


def _end_of_run(log_format: str, event: str, totals, fields: dict) -> None:
    """The run's summary: a table on a console, the usual log event in JSON logs."""
    if _console(log_format):
        from edi_gate.report.terminal import render

        click.echo("\n" + render(totals), err=True, nl=False)
    else:
        logs.get_logger().info(event, **fields)


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
    """Print the error once, as one line (no log event beside it), and exit with ``status``.
    File names and values in ``message`` are shown escaped (a partner's names reach terminals)."""
    from edi_gate.x12.errors import shown_name

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


# OutputSet writes TARGET through a hidden temporary file beside it, ".TARGET.XXXXXXXX.tmp".
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]{8}\.tmp$")


def _describe_os_error(error: OSError) -> str:
    """The target a person asked for (never the hidden temporary file) and the reason."""
    paths = [str(p) for p in (error.filename, error.filename2) if p]
    target = paths[-1] if paths else "output"
    name = Path(target)
    match = _TEMP_NAME.match(name.name)
    if match:
        target = str(name.with_name(match.group("target")))
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


@click.group(epilog=EXIT_STATUSES)
@click.version_option(package_name="edi-gate")
def main() -> None:
    """edi-gate: intercept X12 837P claims, apply imaging-privilege and coding rules."""
    import os

    os.umask(0o077)  # whatever the caller's umask: everything edi-gate creates is private


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
@state_dir_option
@duplicate_window_option
@duplicate_claims_option
@require_ruleset_option
@ruleset_option
@roster_option
@directory_option
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
    state_dir: Path | None,
    duplicate_window: float,
    duplicate_claims: str,
    require_ruleset: bool,
    limits_spec: str | None,
) -> None:
    """Filter INPUT (a path or '-'): accepted claims out, rejections in the 277CA."""
    from edi_gate.pipeline.run import FilterTargets, run_filter_file

    _setup_logging(log_format)
    if duplicate_claims == "reject" and not duplicate_window:
        raise click.UsageError("--duplicate-claims reject needs a --duplicate-window (e.g. 90d)")
    on_stdout = [
        name
        for name, value in (("-o", output), ("--acks", acks), ("--ack999", ack999))
        + (("--decisions", decisions),)
        if value == "-"
    ]
    if len(on_stdout) > 1:
        raise click.UsageError(
            f"{', '.join(on_stdout)}: only one output may go to standard output ('-')"
        )
    limits = _limits(limits_spec)
    engine = load_engine(ruleset, roster)
    targets = FilterTargets(
        output=output,
        acks=acks,
        ack999=ack999,
        decisions=decisions,
        control_state=control_state,
        state=_state_store(state_dir),
        duplicate_window=duplicate_window,
        duplicate_claims=duplicate_claims == "reject",
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
                require_ruleset=require_ruleset,
                now=datetime.now(UTC),
                limits=limits,
            )
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    _end_of_run(
        log_format, "filter.summary", _filter_totals(summary, engine, "filter"), summary.as_dict()
    )


def _filter_totals(summary, engine, command: str, not_evaluated: int | None = None):
    from edi_gate.report.terminal import from_filter_summary, rule_summaries

    title = f"edi-gate {command}: {summary.source}"
    return from_filter_summary(summary, rule_summaries(engine), title, not_evaluated)


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
    """Every rule of the ruleset in force: id, status, on/off, source seed, summary."""
    from edi_gate.rules.catalog import NoRulesetError, list_text

    try:
        click.echo(list_text(load_engine(ruleset, None), _on_date(on)))
    except NoRulesetError as error:
        _fail(EXIT_CONFIG, str(error))


@rules_group.command("show")
@click.argument("rule_id")
@rulesets_option
@on_option
def rules_show(rule_id: str, ruleset: Path | None, on: str | None) -> None:
    """Everything about one rule, including its reading of the seed."""
    from edi_gate.rules.catalog import NoRulesetError, show_text

    try:
        click.echo(show_text(load_engine(ruleset, None), rule_id.upper(), _on_date(on)))
    except NoRulesetError as error:
        _fail(EXIT_CONFIG, str(error))
    except KeyError:
        _fail(EXIT_CONFIG, f"no rule {rule_id!r} in the ruleset")


@rules_group.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def rules_lint(paths: tuple[Path, ...]) -> None:
    """Check rulesets, rosters (.csv) and partners files; exit 1 when anything is wrong.

    A .toml file is a partners file when it has [partners.*] tables or unknown_sender, else a
    ruleset. Directories are expanded. Every problem is reported, not only the first.
    """
    from edi_gate.rules.catalog import lint_text

    report, status = lint_text(list(paths) or None)
    click.echo(report)
    sys.exit(status)


@main.command("ack")
@click.argument("input_path", metavar="INPUT")
@click.option(
    "--decisions",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The decisions JSON Lines of a past run over INPUT.",
)
@click.option("-o", "--output", "output", default="-", help="The 277CA (default: stdout).")
@click.option(
    "--control-state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file of control numbers (default: the state database, see --state-dir, shared "
    "with filter so rebuilt 277CAs never reuse a control number).",
)
@state_dir_option
@log_option
def ack_command(
    input_path: str,
    decisions: Path,
    output: str,
    control_state: Path | None,
    state_dir: Path | None,
    log_format: str,
) -> None:
    """Build the 277CA for INPUT from a decisions file (for replays)."""
    from edi_gate.acks.rebuild import build_277_from_decisions
    from edi_gate.pipeline.outputs import OutputSet
    from edi_gate.pipeline.run import FilterTargets

    _setup_logging(log_format)
    if input_path == "-":
        raise click.UsageError("ack reads INPUT twice: give a path, not '-'")
    _open_input(input_path)[0].close()  # a missing or unreadable INPUT: exit 66, said plainly
    control = FilterTargets(
        control_state=control_state, state=_state_store(state_dir)
    ).control_numbers()
    try:
        with _exit_statuses(), OutputSet() as outputs:
            count = build_277_from_decisions(
                input_path,
                decisions,
                outputs.binary(output),
                control=control,
                now=datetime.now(UTC),
            )
    except (ValueError, TypeError, KeyError, AttributeError, AssertionError) as error:
        # a decisions file that is not this command's JSON Lines: nothing was written
        _fail(EXIT_DATA, f"{decisions}: not a usable decisions file ({type(error).__name__})")
    logs.get_logger().info("ack.summary", source=input_path, claims=count)


class _DecisionTable:
    """A text sink for decisions JSON Lines that prints them for an analyst, or as they are.

    In the table, a line removed from an accepted claim (``--scope line``) is marked
    ``[removed]``; claims no ruleset judged (``"ruleset": null``) are counted for the totals.
    """

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        self.not_evaluated = 0

    def write(self, text: str) -> None:
        import json

        from edi_gate.decisions.record import table_lines
        from edi_gate.report.tallies import not_evaluated

        for raw in text.splitlines():
            record = json.loads(raw)
            self.not_evaluated += not_evaluated(record)
            if self.output_format == "json":
                click.echo(raw)
                continue
            for row in table_lines(record):
                click.echo(row)


@main.command("check")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: readable, with totals after each input; json: the --decisions JSON Lines.",
)
@require_ruleset_option
@ruleset_option
@roster_option
@directory_option
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
    require_ruleset: bool,
    limits_spec: str | None,
) -> None:
    """Decide the claims of INPUT... without writing an 837."""
    from edi_gate.pipeline.filter import FilterRun
    from edi_gate.report.terminal import combine, render

    _setup_logging(log_format)
    limits = _limits(limits_spec)
    engine = load_engine(ruleset, roster)
    failed = False
    parts = []
    for input_path in inputs:
        stream, name = _open_input(input_path)
        table = _DecisionTable(output_format)
        try:
            if output_format == "table":
                click.echo(f"# {name}")
            run = FilterRun(
                engine,
                scope=scope,
                decisions=table,
                require_ruleset=require_ruleset,
                limits=limits,
            )
            summary = run.run(stream, name)
            totals = _filter_totals(summary, engine, "check", table.not_evaluated)
            parts.append(totals)
            if output_format == "table":
                click.echo("\n" + render(totals))
            if not _console(log_format):
                logs.get_logger().info("check.summary", **summary.as_dict())
        except X12Error as error:
            click.echo(f"edi-gate: {error}", err=True)
            failed = True
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
    if _console(log_format) and parts and (output_format == "json" or len(parts) > 1):
        click.echo("\n" + render(combine("edi-gate check: all inputs", parts)), err=True, nl=False)
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
@click.option(
    "--work",
    type=dir_type,
    help="Job log, claimed files, control numbers: private, on the inbox's filesystem, outside "
    "the inbox (default: .INBOXNAME.edi-gate beside the inbox).",
)
@click.option(
    "--create-dirs", is_flag=True, help="Create missing directories (0700) instead of refusing."
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Take a file whose tail stays incomplete after S seconds (it is quarantined with a TA1).",
)
@click.option(
    "--outbox-mode",
    help="Mode of acknowledgments in the outboxes, e.g. 0640 (default 0600).",
)
@click.option("--outbox-group", help="Group of acknowledgments in the outboxes (name or gid).")
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
    help="JSON file of acknowledgment control numbers (default: the state database).",
)
@state_dir_option
@duplicate_window_option
@duplicate_claims_option
@require_ruleset_option
@ruleset_option
@roster_option
@directory_option
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
    create_dirs: bool,
    max_wait: float,
    outbox_mode: str | None,
    outbox_group: str | None,
    once: bool,
    interval: float,
    settle: float,
    partners: Path | None,
    control_state: Path | None,
    ruleset: Path | None,
    roster: Path | None,
    scope: str,
    log_format: str,
    state_dir: Path | None,
    duplicate_window: float,
    duplicate_claims: str,
    require_ruleset: bool,
    limits_spec: str | None,
) -> None:
    """Filter every complete file dropped in INBOX exactly once; SIGTERM stops after a file.

    With --once: process what is there, print a summary, and exit 65 when any file was
    quarantined (unreadable X12, unknown sender, refused name), so a cron job can alert on it;
    0 when every file was archived.
    """
    import signal

    from edi_gate.pipeline.partners import load_partners, parse_mode
    from edi_gate.pipeline.watch import Router, WatchConfig, Watcher, WatchFatal
    from edi_gate.report.terminal import rule_summaries
    from edi_gate.rules.engine import Engine

    _setup_logging(log_format)
    try:
        book = load_partners(partners) if partners is not None else None
        mode = parse_mode(outbox_mode, "--outbox-mode") if outbox_mode else None
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
            max_wait=max_wait,
            create_dirs=create_dirs,
            state_dir=state_dir,
            duplicate_window=duplicate_window,
            duplicate_claims=duplicate_claims == "reject",
            require_ruleset=require_ruleset,
            outbox_mode=mode if mode is not None else (book.outbox_mode if book else None),
            outbox_group=outbox_group or (book.outbox_group if book else None),
        )
        config.limits = _limits(limits_spec, book.limits if book is not None else None)
        router = Router(config, Engine.load, book, ruleset, roster)
        router.load_all()
        watcher = Watcher(config, router)
        watcher.prepare()
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    except OSError as error:
        _fail(EXIT_CONFIG, f"cannot start: {_describe_os_error(error)}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: watcher.stop())
    started = time.perf_counter()
    try:
        events = watcher.run(once=once)
    except WatchFatal as error:
        _fail(EXIT_CONFIG, f"stopped: {error}")
    except OSError as error:  # the work area itself failed: nothing can be claimed safely
        _fail(EXIT_IO, f"stopped: {_describe_os_error(error)}")
    if not once:
        return
    summaries: dict[str, str] = {}
    for engine in getattr(router, "_engines", {}).values():
        summaries.update(rule_summaries(engine))
    quarantined = _watch_once_end(events, time.perf_counter() - started, log_format, summaries)
    if watcher.unfinished:
        _fail(
            EXIT_IO,
            f"{watcher.unfinished} file(s) could not be finished (see the log); "
            "they stay in the work area and are retried on the next run",
        )
    if quarantined:
        names = ", ".join(e["file"] for e in quarantined[:3])
        _fail(
            EXIT_DATA,
            f"{len(quarantined)} file(s) quarantined: {names}"
            + (", ..." if len(quarantined) > 3 else ""),
        )


def _watch_once_end(
    events: list[dict], seconds: float, log_format: str, summaries: dict[str, str]
) -> list[dict]:
    """The summary of a `watch --once` pass; the files it quarantined."""
    from collections import Counter

    from edi_gate.report.terminal import RunTotals, rule_rows

    by_rule: Counter[str] = Counter()
    for event in events:
        by_rule.update(event.get("claims_by_rule", {}))

    quarantined = [e for e in events if e.get("outcome") == "quarantined"]
    fields = {
        "files": len(events),
        "archived": len(events) - len(quarantined),
        "quarantined": len(quarantined),
        "claims": sum(e.get("claims", 0) for e in events),
        "accepted": sum(e.get("accepted", 0) for e in events),
        "rejected": sum(e.get("rejected", 0) for e in events),
        "claims_by_rule": dict(sorted(by_rule.items())),
        "seconds": round(seconds, 3),
    }
    totals = RunTotals(
        "edi-gate watch --once",
        fields["claims"],
        fields["accepted"],
        fields["rejected"],
        seconds=seconds,
        rules=rule_rows(by_rule, None, summaries),
        notes=[
            ("files", f"{len(events):,}"),
            ("archived", f"{fields['archived']:,}"),
            ("quarantined", f"{len(quarantined):,}"),
        ],
    )
    _end_of_run(log_format, "watch.summary", totals, fields)
    return quarantined


@main.command("replay")
@click.argument("archives", nargs=-1, required=True, metavar="ARCHIVE...")
@click.option(
    "--out",
    required=True,
    type=dir_type,
    help="decisions.jsonl, summary.json/.txt (and changes.jsonl): a new or empty directory.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Reuse a non-empty --out: an earlier run's replay files there are removed first.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report (charts, dollars at stake) to this file.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes deciding claims in parallel (local engine); the output does not depend on it.",
)
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
@directory_option
@scope_option
@log_option
def replay_command(
    archives: tuple[str, ...],
    out: Path,
    force: bool,
    report_path: Path | None,
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
    import signal

    from edi_gate.pipeline import replay as rp
    from edi_gate.pipeline.outdir import claim_output_dir

    _setup_logging(log_format)
    started = time.perf_counter()

    def _terminate(signum, _frame):  # unwind: spool and temporary files are removed
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
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
        claim_output_dir(out, force=force)
    except ConfigError as error:
        _fail(EXIT_CONFIG, f"configuration error: {error}")
    sources, missing = rp.expand_inputs(archives)
    if not sources:
        _fail(
            EXIT_NO_INPUT,
            "no input file: " + "; ".join(f"{m['source']}: {m['error']}" for m in missing[:3]),
        )
    units = rp.plan_units(sources, split_size << 20)
    workers = rp.cap_workers(workers, len(units))
    with _exit_statuses():
        data = _run_replay(
            rp, units, missing, out, spec, other, engine_name, master, workers, scope
        )
    click.echo(rp.render_report(data), nl=False)
    if report_path is not None:
        from edi_gate.report.html import write_report
        from edi_gate.report.terminal import rule_summaries

        with _exit_statuses():
            write_report(report_path, data, rule_summaries(rp._engine(spec)))
    _end_of_run(
        log_format,
        "replay.summary",
        _replay_totals(data, rp._engine(spec), time.perf_counter() - started, rp.unit_sizes(units)),
        {
            "files": data["files"],
            "files_read": data["files_read"],
            "claims": data["claims"],
            "errors": len(data["errors"]),
            **data["by_decision"],
        },
    )
    if not data["files_read"]:
        _fail(EXIT_DATA, "no input file could be read")


def _run_replay(rp, units, missing, out, spec, other, engine_name, master, workers, scope):
    """The replay itself; its OSErrors (a full disk) become exit 74 in the caller."""
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
    try:
        return report.finish(extra)
    except BaseException:
        report.abort()
        raise


def _replay_totals(data: dict, engine, seconds: float, sizes: list[int]):
    from edi_gate.report.terminal import RunTotals, rule_rows, rule_summaries

    money = data.get("dollars_at_stake", {})
    return RunTotals(
        f"edi-gate replay: {data['ruleset']}",
        data["claims"],
        data["by_decision"].get("accepted", 0),
        data["by_decision"].get("rejected", 0),
        not_evaluated=data.get("not_evaluated_claims", 0),
        lines_removed=data["lines_removed"],
        seconds=seconds,
        bytes_in=sum(sizes),
        rules=rule_rows(
            data.get("claims_by_rule", data["by_rule"]),
            data.get("findings_by_rule"),
            rule_summaries(engine),
        ),
        notes=[
            ("files read", f"{data['files_read']:,} of {data['files']:,}"),
            ("dollars at stake", f"${money.get('total', 0):,.2f}"),
        ],
    )


main.add_command(directory_group)

if __name__ == "__main__":  # pragma: no cover
    main()
