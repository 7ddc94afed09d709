"""What a job writes while it is STAGING: the filter's outputs, or the quarantine's.

Why apart from the protocol: everything here writes only to staged names (``.ID.SUFFIX.staged``)
that :mod:`.protocol` renames into place after the commit, or deletes on a roll back; so this
module decides *what* a file gets (its route, its outputs, its quarantine report) and never
*whether* it is done.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edi_gate.errors import ConfigError, X12Error
from edi_gate.pipeline.filter import Summary
from edi_gate.pipeline.isa import scan_interchanges
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from edi_gate.pipeline.watch.config import WatchConfig
from edi_gate.pipeline.watch.journal import Job, own_regular_file, remove_staged
from edi_gate.pipeline.watch.names import printable
from edi_gate.pipeline.watch.router import Route, Router
from edi_gate.pipeline.watch.startup import WatchFatal, check_control_state
from edi_gate.state.store import StateStore
from edi_gate.vocabulary import ISA_LENGTH

RECENT_EVENTS = 1000
ARCHIVED, QUARANTINED = "archived", "quarantined"


@dataclass
class Staged:
    """What staging made of one job: its route, the filter's summary, and the reason (with the
    error, if any) it goes to quarantine instead of the archive."""

    route: Route
    summary: Summary | None
    error: BaseException | None
    reason: str | None

    @property
    def outcome(self) -> str:
        return ARCHIVED if self.reason is None else QUARANTINED


def _require_ruleset(route: Route, cfg: WatchConfig) -> bool:
    """A partner's require_ruleset setting, else the watcher's."""
    if route.partner is not None and route.partner.require_ruleset is not None:
        return route.partner.require_ruleset
    return cfg.require_ruleset


class Stager:
    """Routes, filters and quarantines one job's snapshot into its staged names."""

    def __init__(self, config: WatchConfig, router: Router, log) -> None:
        self.config, self.router, self.log = config, router, log
        self.state: StateStore | None = None  # set by the watcher's start-up
        self.outbox_gid: int | None = None
        # The latest file events (for --once callers and tests); bounded so a watcher that runs
        # for months does not grow with every file it has seen.
        self.processed: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)

    def route(self, job: Job, reason: str | None) -> Route:
        """The partner's route from the snapshot's ISA06 senders; unread files get the default."""
        cfg = self.config
        if reason is not None:
            return Route(None, None, cfg.scope, cfg.acks, reason)
        return self.router.route(i.sender for i in scan_interchanges(job.snap))

    def filter(self, job: Job, route: Route, reason: str | None) -> Staged:
        """The filter's outputs into the staged names; unreadable X12 is a quarantine reason."""
        reason = reason or route.quarantine_reason
        if reason is not None:
            return Staged(route, None, None, reason)
        try:
            with open(job.snap, "rb") as source:
                summary = run_filter_file(
                    source,
                    job.name,
                    route.engine,  # type: ignore[arg-type]
                    self._targets(job),
                    scope=route.scope,
                    require_ruleset=_require_ruleset(route, self.config),
                    now=datetime.now(UTC),
                    limits=self.config.limits,
                )
            return Staged(route, summary, None, None)
        except X12Error as exc:
            return Staged(route, None, exc, f"not readable X12: {exc}")
        except OSError:
            raise  # disk full, permissions: the job is rolled back and retried
        except Exception as exc:  # a bug must not stall the inbox behind one file
            self._check_control_state_fatal()
            self.log.exception("watch.internal_error", file=printable(job.name))
            return Staged(route, None, exc, f"internal error: {type(exc).__name__}")

    def _targets(self, job: Job) -> FilterTargets:
        cfg = self.config
        return FilterTargets(
            output=str(job.staged["filtered"]),
            acks=str(job.staged["ca277"]),
            ack999=str(job.staged["ack999"]),
            decisions=str(job.staged["decisions"]),
            control_state=cfg.control_state,
            state=self.state,
            duplicate_window=cfg.duplicate_window,
            owner=f"watch:{job.id}",  # a retried job is not its own duplicate
            duplicate_claims=cfg.duplicate_claims,
        )

    def _check_control_state_fatal(self) -> None:
        try:
            check_control_state(self.config, self.state)
        except ConfigError as error:
            raise WatchFatal(str(error)) from None

    def seal(self, job: Job, staged: Staged) -> None:
        """The last staged writes: acknowledgments published, or the quarantine's files."""
        if staged.reason is None:
            self._publish(job, ("ca277", "ack999"))
        else:
            self._stage_quarantine(job, staged)

    def _publish(self, job: Job, kinds: Iterable[str]) -> None:
        """Acknowledgments bound for an outbox get its configured mode and group."""
        mode = self.config.outbox_mode
        for kind in kinds:
            path = job.staged[kind]
            if not own_regular_file(path):
                continue
            if mode is not None:
                os.chmod(path, mode)
            if self.outbox_gid is not None:
                os.chown(path, -1, self.outbox_gid)

    def _stage_quarantine(self, job: Job, staged: Staged) -> None:
        """The input's TA1/999 (also to the partner's outbox) and an error report."""
        error = staged.error
        for kind in ("filtered", "decisions", "ca277"):
            remove_staged(job.staged[kind])
        ack = job.staged["ack999"]
        if isinstance(error, X12Error) and not own_regular_file(ack):
            self._write_ta1(job, error, ack)
        if own_regular_file(ack):
            with OutputSet() as outputs:
                outputs.binary(job.staged["q_ack999"]).write(ack.read_bytes())
            self._publish(job, ("ack999",))
        report: dict[str, Any] = {
            "file": printable(job.name),
            "partner": staged.route.label,
            "reason": staged.reason,
            "error_type": type(error).__name__ if error else None,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if isinstance(error, X12Error):
            report.update(segment=error.ordinal, segment_id=error.segment_id)
        with OutputSet() as outputs:
            outputs.text(job.staged["q_error"]).write(json.dumps(report, indent=1) + "\n")

    def _write_ta1(self, job: Job, error: X12Error, target: Path) -> None:
        """A TA1 "rejected" for a file the parser could not tie to an ISA (a tail cut short):
        answered against the file's last ISA, the interchange that was left incomplete."""
        from edi_gate.acks.ta1 import write_ta1

        found = scan_interchanges(job.snap) if job.snapshot else []
        if not found:
            return
        with open(job.snap, "rb") as handle:
            handle.seek(found[-1].offset)
            header = handle.read(ISA_LENGTH)
        targets = FilterTargets(control_state=self.config.control_state, state=self.state)
        control = targets.control_numbers()
        with OutputSet() as outputs:
            stream = outputs.binary(target)
            if not write_ta1(stream, error, isa=header, control=control, now=datetime.now(UTC)):
                outputs.abort()

    def done(self, job: Job, staged: Staged, base: str, finished: bool, started: float) -> None:
        """One event per file decided, logged and kept among the recent ones."""
        summary = staged.summary
        event: dict[str, Any] = {
            "file": printable(job.name),
            "partner": staged.route.label,
            "outcome": staged.outcome,
            "claims": summary.claims if summary else 0,
            "accepted": summary.accepted if summary else 0,
            "rejected": summary.rejected if summary else 0,
            "claims_by_rule": dict(sorted(summary.claims_by_rule.items())) if summary else {},
            "seconds": round(time.perf_counter() - started, 3),
        }
        if not finished:
            event["outcome"], event["pending"] = "pending", staged.outcome
        if base != job.name:
            event["stored_as"] = base
        if staged.reason is not None:
            event["reason"] = staged.reason
        if summary is not None and summary.duplicate_interchanges:
            event["duplicate_interchanges"] = summary.duplicate_interchanges  # TA1 R/025 sent
        self.processed.append(event)
        log = self.log.warning if staged.outcome == QUARANTINED else self.log.info
        log("watch.file", **event)
