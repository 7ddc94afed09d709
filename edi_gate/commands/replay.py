"""`edi-gate replay`: what a ruleset would have done to an archive of claims (or two, compared)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from edi_gate.commands.context import RunContext
from edi_gate.commands.exits import (
    ConfigFailure,
    DataFailure,
    NoInputFailure,
    configuration,
    exit_statuses,
)
from edi_gate.commands.options import ENGINE, dir_type, run_options


@click.command("replay")
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
@run_options(*ENGINE, "limits_spec", "log_format")
def replay_command(
    run: RunContext,
    archives: tuple[str, ...],
    out: Path,
    force: bool,
    report_path: Path | None,
    workers: int,
    engine_name: str,
    master: str,
    compare: tuple[Path, Path] | None,
    split_size: int,
) -> None:
    """What would a ruleset have done? Files, directories, globs, .gz and .zip archives."""
    import signal

    from edi_gate.pipeline import replay as rp
    from edi_gate.pipeline.outdir import claim_output_dir

    started = time.perf_counter()

    def _terminate(signum, _frame):  # unwind: spool and temporary files are removed
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)
    spec, other = _engine_specs(rp, run, compare)
    with configuration():
        limits = run.limits()  # a bad --limits exits 2 before --out is touched
        for each in (spec, other):
            if each is not None:
                rp.make_engine(each)  # fail fast, exit 2, before any worker starts
        claim_output_dir(out, force=force)
    sources, missing = rp.expand_inputs(archives)
    if not sources:
        found = "; ".join(f"{m['source']}: {m['error']}" for m in missing[:3])
        raise NoInputFailure("no input file: " + found)
    units = rp.plan_units(sources, split_size << 20)
    workers = rp.cap_workers(workers, len(units))
    with exit_statuses():
        data = _run_replay(
            rp, units, missing, out, spec, other, engine_name, master, workers, run, limits
        )
    click.echo(rp.render_report(data), nl=False)
    if report_path is not None:
        from edi_gate.report.html import write_report
        from edi_gate.report.terminal import rule_summaries

        with exit_statuses():
            write_report(report_path, data, rule_summaries(rp.make_engine(spec)))
    seconds = time.perf_counter() - started
    run.end(
        "replay.summary",
        _totals(data, rp.make_engine(spec), seconds, rp.unit_sizes(units)),
        {
            "files": data["files"],
            "files_read": data["files_read"],
            "claims": data["claims"],
            "errors": len(data["errors"]),
            **data["by_decision"],
        },
    )
    if not data["files_read"]:
        raise DataFailure("no input file could be read")


def _engine_specs(rp: Any, run: RunContext, compare: tuple[Path, Path] | None) -> tuple:
    """The ruleset replayed and, with --compare, the one compared against (else None)."""
    roster = str(run.roster) if run.roster else None
    if compare:
        return rp.EngineSpec(str(compare[0]), roster), rp.EngineSpec(str(compare[1]), roster)
    return rp.EngineSpec(str(run.ruleset) if run.ruleset else None, roster), None


def _run_replay(rp, units, missing, out, spec, other, engine_name, master, workers, run, limits):
    """The replay itself; its OSErrors (a full disk) become exit 74 in the caller."""
    report = rp.ResultMerger(out, spec, other, write_jsonl=engine_name == "local")
    report.errors.extend(missing)
    extra = {"engine": engine_name, "workers": workers}
    if engine_name == "spark":
        from edi_gate.pipeline.spark import SparkUnavailable, replay_spark

        try:
            extra = replay_spark(units, report, scope=run.scope, master=master, limits=limits)
        except SparkUnavailable as error:
            raise ConfigFailure(str(error)) from None
    elif sys.stderr.isatty():
        sizes = rp.unit_sizes(units)
        with click.progressbar(
            length=sum(sizes) or len(units), label="replay", file=sys.stderr
        ) as bar:
            rp.replay_local(
                units,
                report,
                scope=run.scope,
                workers=workers,
                progress=lambda r: bar.update(sizes[r.index] or 1),
                limits=limits,
            )
    else:
        rp.replay_local(units, report, scope=run.scope, workers=workers, limits=limits)
    try:
        return report.finish(extra)
    except BaseException:
        report.abort()
        raise


def _totals(data: dict, engine: Any, seconds: float, sizes: list[int]) -> Any:
    """The end-of-run table of a replay."""
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
