"""999 (005010X231A1) implementation acknowledgment writer: one 999 per 837 functional group.

Streaming: each call writes its segments at once (AK1 at ``begin_group``, AK2..IK5 per
``transaction``, AK9 at ``end_group``); nothing is buffered. Transaction sets without issues are
reported accepted (``IK5*A``), sets with issues rejected (``IK5*R``) with one IK3 per erroneous
segment and one IK4 per erroneous element. Which groups and sets get a 999 is the filter's
decision (only 837 groups, only the sets it validated): this writer acknowledges what it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import BinaryIO

from edi_gate.acks.codes import (
    AK1_FUNCTIONAL_IDS,
    AK2_SET_IDS,
    AK9_CODES,
    IK5_CODES,
    IK304_CODES,
    IK403_CODES,
)
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.x12out import EnvelopeFramer, SegmentOut, clean, digits, echo
from edi_gate.acks.x12out import code as coded
from edi_gate.x12.errors import (
    ELEMENT_INVALID_CODE,
    SEGMENT_HAS_ELEMENT_ERRORS,
    SET_SEGMENTS_IN_ERROR,
    SyntaxIssue,
)
from edi_gate.x12.model import Envelope

VERSION = "005010X231A1"
_NOT_ID = re.compile(r"[^A-Z0-9]")


def _segment_id(value: str) -> str:
    cleaned = _NOT_ID.sub("", value.upper())[:3]
    return cleaned if len(cleaned) >= 2 else "UNK"


def _digits(value: str, max_len: int) -> str:
    """An N0 control number echoed as received when it is one, else its digits (or 0)."""
    exact = digits(value, 1, max_len)
    if exact is not None:
        return exact
    kept = re.sub(r"[^0-9]", "", value.encode("ascii", "ignore").decode())[-max_len:]
    return str(int(kept)) if kept else "0"


def _set_control(value: str) -> str:
    """AK202: the ST02 as received (AN 4-9, '   1' stays '   1'), else cleaned and padded."""
    return echo(value, 4, 9) or clean(value, 9).rjust(4, "0")


def group_status(received: int, accepted: int, group_issues: bool) -> str:
    """AK901 for a group: R when no set was accepted (nothing of it is forwarded), P when some
    were rejected, E when all were accepted but the group's trailer disagreed with its header
    (the claims are forwarded: a submitter must not resubmit them), else A."""
    if accepted == 0:
        return "R"
    if accepted < received:
        return "P"
    return "E" if group_issues else "A"


class Ack999Writer:
    """Writes 999 acknowledgments for the functional groups of the input."""

    def __init__(self, stream: BinaryIO, *, control: ControlNumbers, now: datetime) -> None:
        self.out = SegmentOut(stream)
        self.framer = EnvelopeFramer(
            self.out, control=control, now=now, functional_id="FA", version=VERSION
        )
        self._received = 0
        self._accepted = 0
        self._in_group = False
        self.groups = 0
        self.rejected_sets = 0

    def __enter__(self) -> Ack999Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_group(self, envelope: Envelope, *, functional_id: str = "HC") -> None:
        """Start the 999 for the 837 group of ``envelope``: ST and AK1 (GS01, GS06, GS08 echoed)."""
        if self._in_group:
            self.end_group()
        self.framer.open_for(envelope)
        self.framer.begin_transaction("999")
        self.out(
            "AK1",
            coded(functional_id, AK1_FUNCTIONAL_IDS, "HC"),
            _digits(envelope.group_control, 9),
            echo(envelope.version, 1, 12) or "005010X222A1",
        )
        self._received = self._accepted = 0
        self._in_group = True

    def transaction(
        self, st_id: str, control: str, version: str, issues: Sequence[SyntaxIssue]
    ) -> bool:
        """AK2 for one transaction set, IK3/IK4 per issue, IK5; returns True when accepted."""
        assert self._in_group, "begin_group first"
        self._received += 1
        st01 = coded(st_id, AK2_SET_IDS, "837")
        self.out("AK2", st01, _set_control(control), echo(version, 1, 35))
        for segment_issues in _by_segment(issues):
            first = segment_issues[0]
            self.out(
                "IK3",
                _segment_id(first.segment_id),
                str(max(1, first.position)),
                "",  # IK303: only for LS/LE bounded loops, which an 837 does not have
                first.segment_code
                if first.segment_code in IK304_CODES
                else SEGMENT_HAS_ELEMENT_ERRORS,
            )
            for issue in segment_issues:
                if issue.element_position is None:
                    continue
                code = (
                    issue.element_code
                    if issue.element_code in IK403_CODES
                    else ELEMENT_INVALID_CODE
                )
                self.out("IK4", str(max(1, min(issue.element_position, 99))), "", code)
        if not issues:
            self.out("IK5", "A")
            self._accepted += 1
            return True
        codes: list[str] = []
        for issue in issues:
            code = issue.set_code if issue.set_code in IK5_CODES else SET_SEGMENTS_IN_ERROR
            if code not in codes:
                codes.append(code)
        self.out("IK5", "R", *codes[:5])
        self.rejected_sets += 1
        return False

    def end_group(self, group_issues: Iterable[str] = (), *, declared: int | None = None) -> str:
        """AK9 and SE; ``group_issues`` are AK905 codes, ``declared`` the 837's GE01.

        Returns AK901 (see ``group_status``): a trailer that disagrees with its header is noted
        in AK905, never a reason to reject sets that were accepted and forwarded.
        """
        assert self._in_group, "begin_group first"
        codes = [c for c in dict.fromkeys(group_issues) if c in AK9_CODES][:5]
        status = group_status(self._received, self._accepted, bool(codes))
        included = self._received if declared is None else max(0, declared)
        self.out("AK9", status, str(included), str(self._received), str(self._accepted), *codes)
        self.framer.end_transaction()
        self._in_group = False
        self.groups += 1
        return status

    def close(self) -> None:
        """End any open group and write the open GE/IEA trailers."""
        if self._in_group:
            self.end_group()
        self.framer.close()


def _by_segment(issues: Iterable[SyntaxIssue]) -> list[list[SyntaxIssue]]:
    """Segment-level issues grouped by segment (one IK3 each), in order of first appearance."""
    groups: dict[tuple[str, int, str], list[SyntaxIssue]] = {}
    for issue in issues:
        if issue.segment_code is None:
            continue  # set-level (trailer counts, control numbers): IK5 only
        groups.setdefault((issue.segment_id, issue.position, issue.segment_code), []).append(issue)
    return list(groups.values())
