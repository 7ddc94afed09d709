"""Bounds on hostile input, one value per thing the reader holds (``Limits``).

Its own module so the reader's parts (edi_gate.x12.loops, open_set, claims) share it without
importing each other; edi_gate.limits parses it from ``--limits`` and partner files.
"""

from __future__ import annotations

from dataclasses import dataclass

from edi_gate.x12.tokenizer import DEFAULT_MAX_SEGMENT_BYTES


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on hostile input: beyond them the input is in error, never memory exhausted.

    What is held in memory is bounded in bytes as well as in segments. Sizes that bound memory
    raise X12Error (the run fails, exit 65); TR3 repeat counts reject the transaction set with a
    SyntaxIssue. The HL depth needs no limit: only 20 > 22 > 23 is accepted, any other parentage
    is a SyntaxIssue, so at most three levels (2000A > 2000B > 2000C) are ever held. Settable
    with ``--limits`` or a partners file's ``[limits]`` table (edi_gate.limits).
    """

    max_segment_bytes: int = DEFAULT_MAX_SEGMENT_BYTES  # one segment (so one element); tokenizer
    max_loop_segments: int = 20_000  # segments held for one claim, HL level or set header
    max_loop_bytes: int = 2 << 20  # bytes held for one claim, HL level or set header
    max_claimless_bytes: int = 256 << 20  # HL levels before a set's first claim (spooled to disk)
    max_claim_lines: int = 50  # X222A1: loop 2400 repeats at most 50 times per claim
    max_hl_per_set: int = 4_000_000  # HLs per transaction set (one byte each for parent checks)
    max_issues_per_set: int = 1_000  # syntax issues kept per transaction set; later ones dropped
