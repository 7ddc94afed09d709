"""`edi-gate watch`: filter every complete file dropped in an inbox, exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

from edi_gate.commands.context import RunContext
from edi_gate.commands.exits import (
    ConfigFailure,
    DataFailure,
    OutputFailure,
    describe_os_error,
)
from edi_gate.commands.options import (
    DECIDING,
    STATE,
    control_state_option,
    dir_type,
    file_type,
    run_options,
)
from edi_gate.errors import ConfigError


@click.command("watch")
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
    type=file_type,
    help="Trading partners TOML: rules and outbox per ISA06 sender.",
)
@control_state_option("JSON file of acknowledgment control numbers (default: the state database).")
@run_options(*STATE, *DECIDING)
def watch_command(
    run: RunContext,
    partners: Path | None,
    outbox_mode: str | None,
    outbox_group: str | None,
    once: bool,
    **config: Any,  # the directories and timing, each option named as its WatchConfig field
) -> None:
    """Filter every complete file dropped in INBOX exactly once; SIGTERM stops after a file.

    With --once: process what is there, print a summary, and exit 65 when any file was
    quarantined (unreadable X12, unknown sender, refused name), so a cron job can alert on it;
    0 when every file was archived.
    """
    import signal

    from edi_gate.pipeline.watch import WatchFatal

    try:
        watcher, router = _start(run, partners, outbox_mode, outbox_group, config)
    except ConfigError as error:
        raise ConfigFailure.of(error) from None
    except OSError as error:
        raise ConfigFailure(f"cannot start: {describe_os_error(error)}") from None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: watcher.stop())
    started = time.perf_counter()
    try:
        events = watcher.run(once=once)
    except WatchFatal as error:
        raise ConfigFailure(f"stopped: {error}") from None
    except OSError as error:  # the work area itself failed: nothing can be claimed safely
        raise OutputFailure(f"stopped: {describe_os_error(error)}") from None
    if once:
        _once_end(run, events, time.perf_counter() - started, router)
        _once_status(watcher.unfinished, [e for e in events if e.get("outcome") == "quarantined"])


def _start(run: RunContext, partners, outbox_mode, outbox_group, config: dict) -> tuple:
    """The watcher, its directories checked, and its router with every engine loaded."""
    from edi_gate.pipeline.partners import load_partners, parse_mode
    from edi_gate.pipeline.watch import Router, WatchConfig, Watcher
    from edi_gate.rules.engine import Engine

    book = load_partners(partners) if partners is not None else None
    mode = parse_mode(outbox_mode, "--outbox-mode") if outbox_mode else None
    watch_config = WatchConfig(
        **config,
        **run.filter_settings(),
        outbox_mode=mode if mode is not None else (book.outbox_mode if book else None),
        outbox_group=outbox_group or (book.outbox_group if book else None),
    )
    watch_config.limits = run.limits(book.limits if book is not None else None)
    router = Router(watch_config, Engine.load, book, run.ruleset, run.roster)
    router.load_all()
    watcher = Watcher(watch_config, router)
    watcher.prepare()
    return watcher, router


def _once_status(unfinished: int, quarantined: list[dict]) -> None:
    """`watch --once` fails a cron job when a file is left unfinished (74) or quarantined (65)."""
    if unfinished:
        raise OutputFailure(
            f"{unfinished} file(s) could not be finished (see the log); "
            "they stay in the work area and are retried on the next run"
        )
    if quarantined:
        names = ", ".join(e["file"] for e in quarantined[:3])
        raise DataFailure(
            f"{len(quarantined)} file(s) quarantined: {names}"
            + (", ..." if len(quarantined) > 3 else "")
        )


def _once_end(run: RunContext, events: list[dict], seconds: float, router: Any) -> None:
    """The summary of a `watch --once` pass."""
    from edi_gate.report.terminal import RunTotals, rule_rows, rule_summaries

    summaries: dict[str, str] = {}
    for engine in router.engines():
        summaries.update(rule_summaries(engine))
    by_rule: Counter[str] = Counter()
    for event in events:
        by_rule.update(event.get("claims_by_rule", {}))
    quarantined = sum(1 for e in events if e.get("outcome") == "quarantined")
    fields = {
        "files": len(events),
        "archived": len(events) - quarantined,
        "quarantined": quarantined,
        "claims": sum(e.get("claims", 0) for e in events),
        "accepted": sum(e.get("accepted", 0) for e in events),
        "rejected": sum(e.get("rejected", 0) for e in events),
        "claims_by_rule": dict(sorted(by_rule.items())),
        "seconds": round(seconds, 3),
    }
    notes = [(name, f"{fields[name]:,}") for name in ("files", "archived", "quarantined")]
    totals = RunTotals(
        "edi-gate watch --once",
        fields["claims"],
        fields["accepted"],
        fields["rejected"],
        seconds=seconds,
        rules=rule_rows(by_rule, None, summaries),
        notes=notes,
    )
    run.end("watch.summary", totals, fields)
