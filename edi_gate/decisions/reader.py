"""Reading a ``--decisions`` file back: records in step with the 837's claims (``edi-gate ack``).

Interpreted: it runs once per replayed file, and a decisions file is input from the outside
(every record is checked to be a JSON object before it is used).
"""

from __future__ import annotations

import json

from edi_gate.decisions.record import DecisionRecord, claim_key, record_key
from edi_gate.errors import ConfigError
from edi_gate.x12.model import Claim


class DecisionFile:
    """Decision records read in step with the 837's claims (same order when written by a run);
    records met out of order are kept aside until their claim comes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._line = 0
        self._aside: dict[tuple[str, str, str, str], list[DecisionRecord]] = {}

    def find(self, claim: Claim) -> DecisionRecord | None:
        """The record of ``claim``, None when the file holds none."""
        wanted = claim_key(claim)
        waiting = self._aside.get(wanted)
        if waiting:
            return waiting.pop(0)
        for raw in self._handle:
            self._line += 1
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(f"not JSON: {exc}", path=self.path, line=self._line) from exc
            if not isinstance(record, dict):
                raise ConfigError("not a JSON object", path=self.path, line=self._line)
            key = record_key(record)
            if key == wanted:
                return record  # type: ignore[return-value]
            self._aside.setdefault(key, []).append(record)  # type: ignore[arg-type]
        return None

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> DecisionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
