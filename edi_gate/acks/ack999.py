"""999 (005010X231A1) implementation acknowledgment writer: one 999 per 837 functional group.

Streaming: each call writes its segments at once (AK1 at ``begin_group``, AK2..IK5 per
``transaction``, AK9 at ``end_group``); nothing is buffered. Transaction sets without issues are
reported accepted (``IK5*A``), sets with issues rejected (``IK5*R``) with one IK3 per erroneous
segment and one IK4 per erroneous element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import BinaryIO

from edi_gate.acks.codes import AK9_CODES, IK5_CODES, IK304_CODES, IK403_CODES
from edi_gate.acks.state import ControlNumbers
from edi_gate.acks.x12out import EnvelopeFramer, SegmentOut, clean
from edi_gate.x12.errors import SyntaxIssue
from edi_gate.x12.model import Envelope

VERSION = "005010X231A1"
_NOT_ID = re.compile(r"[^A-Z0-9]")


def _segment_id(value: str) -> str:
    cleaned = _NOT_ID.sub("", value.upper())[:3]
    return cleaned if len(cleaned) >= 2 else "UNK"


def _digits(value: str, max_len: int) -> str:
    digits = re.sub(r"[^0-9]", "", value)[-max_len:]
    return str(int(digits)) if digits else "0"


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
        """Start the 999 for the 837 group of ``envelope``: ST and AK1 (GS01, GS06, GS08)."""
        if self._in_group:
            self.end_group()
        self.framer.open_for(envelope)
        self.framer.begin_transaction("999")
        self.out(
            "AK1",
            clean(functional_id, 2) or "HC",
            _digits(envelope.group_control, 9),
            clean(envelope.version, 12),
        )
        self._received = self._accepted = 0
        self._in_group = True

    def transaction(
        self, st_id: str, control: str, version: str, issues: Sequence[SyntaxIssue]
    ) -> bool:
        """AK2 for one transaction set, IK3/IK4 per issue, IK5; returns True when accepted."""
        assert self._in_group, "begin_group first"
        self._received += 1
        self.out("AK2", clean(st_id, 3), clean(control, 9).rjust(4, "0"), clean(version, 35))
        for segment_issues in _by_segment(issues):
            first = segment_issues[0]
            self.out(
                "IK3",
                _segment_id(first.segment_id),
                str(max(1, first.position)),
                "",  # IK303: only for LS/LE bounded loops, which an 837 does not have
                first.segment_code if first.segment_code in IK304_CODES else "8",
            )
            for issue in segment_issues:
                if issue.element_position is None:
                    continue
                code = issue.element_code if issue.element_code in IK403_CODES else "7"
                self.out("IK4", str(max(1, min(issue.element_position, 99))), "", code)
        if not issues:
            self.out("IK5", "A")
            self._accepted += 1
            return True
        codes: list[str] = []
        for issue in issues:
            code = issue.set_code if issue.set_code in IK5_CODES else "5"
            if code not in codes:
                codes.append(code)
        self.out("IK5", "R", *codes[:5])
        self.rejected_sets += 1
        return False

    def end_group(self, group_issues: Iterable[str] = (), *, declared: int | None = None) -> str:
        """AK9 and SE; ``group_issues`` are AK905 codes, ``declared`` the 837's GE01.

        Returns AK901: A (all sets accepted), P (some) or R (none, or a group-level error).
        """
        assert self._in_group, "begin_group first"
        codes = [c for c in dict.fromkeys(group_issues) if c in AK9_CODES][:5]
        if codes or self._accepted == 0:
            status = "R"
        elif self._accepted < self._received:
            status = "P"
        else:
            status = "A"
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
