"""Shared test helpers: the public corpus, pyx12 as oracle, and the conservation invariant.

The public corpus, seeds and reference notes (``../shared`` beside the checkout, or
``EDI_GATE_SHARED``) are an interop layer: importing this module never needs them, and the tests
that read them are marked ``interop`` (``tests/conftest.py`` skips or requires them).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edi_gate.pipeline.filter import FilterRun, Summary
from edi_gate.rules.engine import Engine
from edi_gate.rules.findings import Finding

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
# The shared material (corpus, seeds, reference notes) sits beside the repository, optionally.
SHARED = Path(os.environ.get("EDI_GATE_SHARED") or REPO.parent / "shared")
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"
REFERENCE = SHARED / "reference"
X12VALID = Path(sys.executable).with_name("x12valid")


def shared_missing() -> list[str]:
    """The parts of the shared material the interop tests read that are not there ([] = all)."""
    needed = [CORPUS / "PROVENANCE.tsv", SEEDS, REFERENCE]
    return [str(path.relative_to(SHARED)) for path in needed if not path.exists()]


def provenance() -> list[dict[str, str]]:
    """Rows of the corpus's PROVENANCE.tsv; none without the corpus (its tests are skipped)."""
    if not (CORPUS / "PROVENANCE.tsv").is_file():
        return []
    with open(CORPUS / "PROVENANCE.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def corpus_files(predicate) -> list[Path]:
    return [CORPUS / row["local_path"] for row in provenance() if predicate(row)]


def count_clm(data: bytes) -> int:
    """CLM segments in a file, counted independently of edi-gate's tokenizer."""
    data = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    element = data[3:4]
    terminator = data[105:106]
    return sum(1 for seg in data.split(terminator) if seg.strip().startswith(b"CLM" + element))


def pyx12_verdict(path: Path) -> tuple[bool, str]:
    """Run pyx12's x12valid: (accepted, output). Its exit status is 1 either way, so read it."""
    result = subprocess.run(
        [str(X12VALID), str(path)], capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    return bool(re.search(r": OK\s*$", output.strip(), re.MULTILINE)), output


@functools.cache
def default_engine() -> Engine:
    """The real rule engine with the packaged default rulesets, loaded once per test run."""
    return Engine.load(None, None)


class RejectClaims:
    """A rule-engine double that rejects chosen claims (by CLM01) or chosen lines (by LX01)."""

    def __init__(self, claims: set[str] = frozenset(), lines: dict[str, set[int]] | None = None):
        self.claims = set(claims)
        self.lines = lines or {}

    def evaluate(self, claim) -> list[Finding]:
        findings = []
        if claim.claim_id in self.claims:
            findings.append(Finding("TEST001", None, "rejected by the test", "A7", "21", "85"))
        for number in self.lines.get(claim.claim_id, ()):
            findings.append(
                Finding("TEST002", number, "line rejected by the test", "A7", "21", "82")
            )
        return findings


@dataclass
class Result:
    summary: Summary
    output: bytes
    decisions: list[dict]


def run_filter(data: bytes, engine, *, scope: str = "claim", name: str = "input.837") -> Result:
    out, decisions = io.BytesIO(), io.StringIO()
    summary = FilterRun(engine, scope=scope, out=out, decisions=decisions).run(
        io.BytesIO(data), name
    )
    records = [json.loads(line) for line in decisions.getvalue().splitlines()]
    return Result(summary, out.getvalue(), records)


def assert_conservation(
    result: Result,
    input_data: bytes,
    ack_claims: list[str] | None = None,
    *,
    byte_identical: bool = False,
):
    """Claims in = accepted + rejected; decisions name every CLM once; output holds the accepted.

    ``ack_claims``: CLM01s a 277CA acknowledged, when one was written (see ``ack277_claims``).
    ``byte_identical``: also check that every accepted claim with no line removed appears in the
    output exactly as in the input, byte for byte (CLM through its last segment).
    """
    clm_in = count_clm(input_data)
    summary, records = result.summary, result.decisions
    assert summary.claims == clm_in == len(records)
    assert summary.accepted + summary.rejected == summary.claims
    accepted = [r["claim"] for r in records if r["decision"] == "accepted"]
    assert len(accepted) == summary.accepted
    assert all(r["findings"] for r in records if r["decision"] == "rejected")
    if result.output:
        assert count_clm(result.output) == len(accepted)
        out_ids = _clm01s(result.output)
        assert out_ids == accepted
    else:
        assert not accepted
    if ack_claims is not None:
        assert sorted(ack_claims) == sorted(r["claim"] for r in records)
    if byte_identical and result.output:
        before, after = claim_blocks(input_data), claim_blocks(result.output)
        whole = [
            r["claim"]
            for r in records
            if r["decision"] == "accepted"
            and all(line["decision"] == "accepted" for line in r["lines"])
        ]
        for claim_id in whole:
            assert after[claim_id] == before[claim_id], f"claim {claim_id} changed on output"


def claim_blocks(data: bytes) -> dict[str, list[bytes]]:
    """CLM01 -> raw segments of that claim (CLM up to the next HL, CLM or SE), for one delimiter
    set; found by splitting alone, independently of edi-gate's reader. Later duplicates win."""
    data = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    element, terminator = data[3:4], data[105:106]
    blocks: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for raw in data.split(terminator):
        tag = raw.strip().split(element)[0]
        if tag in (b"HL", b"SE", b"CLM"):
            current = None
        if tag == b"CLM":
            current = blocks[raw.strip().split(element)[1].decode("latin-1")] = []
        if current is not None:
            current.append(raw)
    return blocks


def ack277_claims(data: bytes) -> list[str]:
    """CLM01s a 277CA written by edi-gate acknowledges, in order: the TRN02 that follows each
    patient-level HL (HL03 'PT'), read by splitting alone (standard delimiters)."""
    ids: list[str] = []
    level = ""
    for text in data.decode("ascii").split("~"):
        elements = text.strip().split("*")
        if elements[0] == "HL":
            level = elements[3] if len(elements) > 3 else ""
        elif elements[0] == "TRN" and level == "PT":
            ids.append(elements[2] if len(elements) > 2 else "")
            level = ""
    return ids


def _clm01s(data: bytes) -> list[str]:
    data = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    element = data[3:4]
    terminator = data[105:106]
    ids = []
    for seg in data.split(terminator):
        seg = seg.strip()
        if seg.startswith(b"CLM" + element):
            ids.append(seg.split(element)[1].decode("latin-1"))
    return ids
