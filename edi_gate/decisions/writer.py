"""The decisions record written fast: one JSON line per claim, field by field (compiled).

``decision_json`` runs for every claim, and the record's keys are constants: it writes the text
with f-strings instead of building a dict for ``json.dumps`` (docs/compiled-build.md). It must be
exactly ``json.dumps(decision_record(...), separators=(",", ":"))`` (edi_gate.decisions.record);
tests/pipeline/test_decisions_json.py holds the two equal over generated and corpus claims.
The lines of a transaction set wait in a ``DecisionSpool`` until its SE.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Final

from edi_gate.decisions.record import DecisionRecord, number, rejected_whole
from edi_gate.directory.lookup import Resolution
from edi_gate.memo import Memo
from edi_gate.rules.findings import Decision, Finding
from edi_gate.spool import Spool
from edi_gate.x12.model import Claim


def _json_text(text: str) -> str:
    """``json.dumps(text)``, without the encoder for the usual case (printable ASCII, nothing to
    escape)."""
    if text.isascii() and (
        text.isalnum() or (text.isprintable() and '"' not in text and "\\" not in text)
    ):
        return f'"{text}"'
    return json.dumps(text)


def _json_number(value: int | float | None) -> str:
    if value is None:
        return "null"
    return str(value) if type(value) is int else json.dumps(value)


def _units_json(units: Decimal) -> str:
    return _json_number(number(units))


def _date_json(day: date) -> str:
    return '"' + day.isoformat() + '"'


# Memoised: unit counts and service dates repeat from claim to claim (edi_gate.memo).
_UNITS: Final = Memo(_units_json)
_ISO_DATES: Final = Memo(_date_json)


def decision_json(
    claim: Claim,
    decision: Decision,
    ruleset: str | None = None,
    taxonomies: list[Resolution] | None = None,
) -> str:
    """The --decisions JSON object for one claim, one line (no patient names or member ids).

    ``ruleset``: the id of the ruleset that judged the claim, None (``null``) when none was in
    force and no rule looked at it. ``taxonomies``: each line's taxonomies and their source as
    the rules resolved them (``Engine.line_taxonomies``); without them, a line shows its own
    loop's PRV.

    Written out field by field rather than through a dict and ``json.dumps``: this runs for
    every claim, and the keys are constants. The tests check it against ``json.dumps`` of the
    documented record.
    """
    env = claim.envelope
    start, end = claim.service_dates
    rejected_lines = decision.rejected_lines
    parts = [
        f'{{"claim":{_json_text(claim.claim_id)},"decision":"{decision.label}"'
        f',"ruleset":{_json_text(ruleset) if ruleset is not None else "null"}'
        f',"interchange":{_json_text(env.interchange_control)}'
        f',"group":{_json_text(env.group_control)}'
        f',"transaction":{_json_text(env.transaction_control)}'
        f',"source":{_json_text(env.source)},"position":{claim.ordinal}'
        f',"charge":{_json_text(claim.segments[0].element(2))}'
        f',"billing_npi":{_json_text(claim.billing.npi)}'
        f',"service_date":{_ISO_DATES.get(start) if start else "null"}'
        f',"service_date_end":{_ISO_DATES.get(end) if end else "null"},"lines":['
    ]
    for index, line in enumerate(claim.lines):
        rendering = line.rendering
        rejected = not decision.accepted or line.number in rejected_lines
        if taxonomies is not None:
            found = taxonomies[index]
            codes, source = found.codes, found.source
        elif rendering.taxonomy:
            codes, source = (rendering.taxonomy.upper(),), rendering.loop + " PRV"
        else:
            codes, source = (), ""
        parts.append(
            f'{"," if index else ""}{{"line":{line.number}'
            f',"procedure":{_json_text(line.procedure)}'
            f',"modifiers":[{",".join([_json_text(m) for m in line.modifiers])}]'
            f',"units":{_UNITS.get(line.units)}'
            f',"charge":"{line.charge}"'
            f',"place_of_service":{_json_text(line.place_of_service)}'
            f',"rendering_npi":{_json_text(rendering.npi)}'
            f',"rendering_loop":{_json_text(rendering.loop)}'
            f',"taxonomy":{_json_text(codes[0] if codes else "")}'
            f',"taxonomies":[{",".join([_json_text(c) for c in codes])}]'
            f',"taxonomy_source":{_json_text(source)}'
            f',"decision":"{"rejected" if rejected else "accepted"}"}}'
        )
    parts.append('],"findings":[')
    for index, finding in enumerate(decision.findings):
        parts.append(
            f'{"," if index else ""}{{"rule":{_json_text(finding.rule)}'
            f',"line":{_json_number(finding.line)}'
            f',"message":{_json_text(finding.message)}'
            f',"category":{_json_text(finding.category)}'
            f',"status":{_json_text(finding.status)}'
            f',"entity":{_json_text(finding.entity)}}}'
        )
    parts.append("]}")
    return "".join(parts)


DECISION_SPOOL_BYTES: Final = 2 << 20


class DecisionSpool(Spool):
    """Decisions of one transaction set, held until its SE; spills to disk when large."""

    def __init__(self, limit: int = DECISION_SPOOL_BYTES) -> None:
        super().__init__(limit)

    def add(self, line: str) -> None:
        """One decision_json line (ASCII: JSON escapes everything else)."""
        self.write(line.encode("ascii") + b"\n")

    def lines(self) -> Iterator[str]:
        """The spooled lines, in blocks of whole lines (a sink may read whole lines)."""
        carry = b""
        for block in self.blocks():
            block = carry + block
            cut = block.rfind(b"\n") + 1
            carry = block[cut:]
            if cut:
                yield block[:cut].decode("ascii")
        if carry:
            yield carry.decode("ascii")

    def records(self) -> Iterator[DecisionRecord]:
        for text in self.lines():
            for raw in text.splitlines():
                yield json.loads(raw)

    def rejected_lines(self, findings: list[Finding]) -> Iterator[str]:
        """The spooled records rewritten as rejected with ``findings`` (their set failed its
        syntax checks), one JSON line each: the slow path, taken only for a damaged set."""
        for record in self.records():
            yield json.dumps(rejected_whole(record, findings), separators=(",", ":")) + "\n"
