"""The interchanges of a filter run: which were read (a TA1 each when the file is refused),
which disagreed with their trailer, which were refused as already seen; and ``prescan``, the
first pass of ``--reject interchange``.

Interpreted: called once per interchange or group, never per claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from edi_gate.logs import get_logger
from edi_gate.pipeline.sinks import Sink
from edi_gate.pipeline.verdicts import interchange_findings
from edi_gate.rules.findings import Finding
from edi_gate.spool import RecordSpool
from edi_gate.x12.errors import X12Error
from edi_gate.x12.loops import (
    EnvelopeIssue,
    EventReader,
    GroupEnd,
    GroupStart,
    InterchangeAcknowledgment,
    InterchangeEnd,
    InterchangeStart,
    Limits,
    TransactionEnd,
    TransactionStart,
)
from edi_gate.x12.tokenizer import Segment, SegmentReader


@dataclass(slots=True)
class RefusedInterchange:
    """An interchange the filter's ``admit`` refused (already seen): none of it is decided or
    written; it is answered with a TA1 (note 025) by the caller."""

    isa: Segment
    reason: str


ACK_GROUP: Final = "FA"  # GS01 of a 997/999 group: an acknowledgment, never answered
REFUSED_WITH_FILE_NOTE: Final = "022"  # TA105 for a sound interchange in a refused file


class InterchangeLog:
    """The interchanges read so far, so that a file refused as unreadable gets a TA1 for each
    interchange whose ISA was read (the partner hears about every one), and the one being read
    when the error came is named on the error. An interchange that carries only acknowledgments
    (a TA1, 997/999 groups) is never answered: acknowledging acknowledgments makes gateways loop.

    The ISAs of finished interchanges are spooled (on disk past a megabyte): a file may hold
    any number of interchanges, memory holds a constant.
    """

    def __init__(self) -> None:
        self._spool = RecordSpool(1 << 20, bytes, bytes)
        self._open: Segment | None = None
        self._acks = self._other = False

    def start(self, isa: Segment) -> None:
        self._open = isa
        self._acks = self._other = False

    def group(self, functional_id: str) -> None:
        if functional_id == ACK_GROUP:
            self._acks = True
        else:
            self._other = True

    def acknowledgment(self) -> None:
        self._acks = True

    @property
    def answerable(self) -> bool:
        """The open interchange may be answered: it carries more than acknowledgments."""
        return self._other or not self._acks

    def end(self) -> None:
        if self._open is not None and self.answerable:
            text = self._open.text
            self._spool.append(text, len(text) + 64)
        self._open = None

    def refused(self, error: X12Error) -> None:
        """Name on ``error`` the interchange being read, when it may be answered (else none)."""
        error.isa = self._open if self._open is not None and self.answerable else None

    def finished(self) -> Iterator[bytes]:
        """The ISAs (raw text) of the finished interchanges that may be answered, in order."""
        yield from self._spool.records()

    def close(self) -> None:
        self._spool.close()


def prescan(
    source: BinaryIO, name: str, limits: Limits | None = None, log: InterchangeLog | None = None
) -> dict[int, str]:
    """Interchanges (numbered from 1) holding a transaction set with syntax errors, and why.

    A first pass for ``--reject interchange``: reading is cheap next to deciding and writing, and
    it lets the real pass reject a whole interchange without holding any of it back. ``log``
    records the interchanges read, for the TA1s when the file proves unreadable.
    """
    limits = limits or Limits()
    log = log if log is not None else InterchangeLog()
    segments = SegmentReader(source, name, max_segment_bytes=limits.max_segment_bytes)
    damaged: dict[int, str] = {}
    interchanges = 0
    st_control = ""
    try:
        for event in EventReader(segments, name, limits=limits):
            if isinstance(event, InterchangeStart):
                interchanges += 1
                log.start(event.isa)
            elif isinstance(event, GroupStart):
                log.group(event.gs.element(1))
            elif isinstance(event, InterchangeAcknowledgment):
                log.acknowledgment()
            elif isinstance(event, InterchangeEnd):
                log.end()
            elif isinstance(event, TransactionStart):
                st_control = event.st.element(2)
            elif isinstance(event, TransactionEnd) and event.issues and interchanges not in damaged:
                damaged[interchanges] = (
                    f"transaction set {st_control} has syntax errors: {event.issues[0]}"
                )
    except X12Error as error:
        log.refused(error)
        raise
    return damaged


def _pack_issue(item: tuple[str, bytes]) -> bytes:
    code, isa = item
    return code.encode("ascii") + b"\x1f" + isa


def _unpack_issue(record: bytes) -> tuple[str, bytes]:
    code, _, isa = record.partition(b"\x1f")
    return code.decode("ascii"), isa


ISSUE_SPOOL_BYTES: Final = 256 << 10


class InterchangeIssues:
    """(ISA text, issues) of the interchanges whose IEA disagreed with their ISA, for the TA1s
    written after the run: spooled, as a hostile file may hold a million such interchanges."""

    def __init__(self) -> None:
        self._spool = RecordSpool(ISSUE_SPOOL_BYTES, _pack_issue, _unpack_issue)

    def append(self, item: tuple[Segment, list[EnvelopeIssue]]) -> None:
        isa, issues = item
        for issue in issues:
            self._spool.append((issue.code, isa.text), len(isa.text) + 64)

    def __iter__(self) -> Iterator[tuple[bytes, list[EnvelopeIssue]]]:
        for code, text in self._spool.records():
            yield text, [EnvelopeIssue(code, "", 0)]

    def __len__(self) -> int:
        return self._spool.count


class Envelopes:
    """The interchange and group events of one filter pass: told to the sinks, recorded for the
    TA1s (``log``, ``issues``), their trailer issues logged; and what every claim of the open
    interchange is condemned to when --reject interchange rejects it whole (``rejection``)."""

    def __init__(
        self,
        sinks: list[Sink],
        name: str,
        log: InterchangeLog,
        issues: InterchangeIssues,
        rejected: dict[int, str],
    ) -> None:
        self.sinks = sinks
        self.name = name
        self.log = log
        self.issues = issues
        self.rejected = rejected  # interchange number (from 1) -> why it is rejected whole
        self.logger = get_logger()
        self.isa: Segment | None = None
        self.count = 0  # interchanges met, refused ones included (prescan numbers them so)
        self.duplicates = 0  # interchanges refused as already seen
        self.rejection: list[Finding] | None = None

    def event(self, event: object) -> None:
        if isinstance(event, GroupStart):
            for sink in self.sinks:
                sink.group_start(event)
            self.log.group(event.gs.element(1))
        elif isinstance(event, GroupEnd):
            for sink in self.sinks:
                sink.group_end(event)
            self._warn(event.issues)
        elif isinstance(event, InterchangeAcknowledgment):
            self.log.acknowledgment()
            for sink in self.sinks:
                sink.interchange_acknowledgment(event)
        elif isinstance(event, InterchangeStart):
            self._start(event)
        elif isinstance(event, InterchangeEnd):
            self._end(event)
        elif isinstance(event, RefusedInterchange):
            self.count += 1
            self.duplicates += 1
            self.logger.warning("interchange.duplicate", source=self.name, reason=event.reason)

    def _start(self, event: InterchangeStart) -> None:
        self.isa = event.isa
        self.log.start(event.isa)
        self.count += 1
        reason = self.rejected.get(self.count)
        self.rejection = None if reason is None else interchange_findings(reason)
        for sink in self.sinks:
            sink.interchange_start(event)

    def _end(self, event: InterchangeEnd) -> None:
        for sink in self.sinks:
            sink.interchange_end(event)
        if event.issues and self.isa is not None and self.log.answerable:
            self.issues.append((self.isa, event.issues))
        self.log.end()
        self._warn(event.issues)

    def _warn(self, issues: list[EnvelopeIssue]) -> None:
        for issue in issues:
            self.logger.warning(
                "envelope.issue", source=self.name, ordinal=issue.ordinal, issue=issue.message
            )
