"""Helpers for the watch/replay tests: batches with unique claim ids, and conservation over files.

``assert_files_conservation`` is the file-based twin of ``tests.helpers.assert_conservation``:
after a watcher or a replay has written many files, every input claim must be in exactly one
place, either a filtered 837 (accepted) or a decisions file as rejected, never twice.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.helpers import FIXTURES, REPO, _clm01s, count_clm

DEMO = FIXTURES / "demo.837"
EDI_GATE = Path(sys.executable).with_name("edi-gate")


def demo_variant(tag: str, sender: str | None = None) -> bytes:
    """demo.837 with claim ids made unique by ``tag`` (DEMO-001 -> TAG-001), optionally another
    ISA06/GS02 sender (padded to keep the ISA 106 bytes long)."""
    data = DEMO.read_bytes().replace(b"CLM*DEMO-", f"CLM*{tag}-".encode())
    if sender is not None:
        data = data.replace(b"DEMOSUB01      ", sender.encode().ljust(15), 1)
        data = data.replace(b"GS*HC*DEMOSUB01*", f"GS*HC*{sender}*".encode(), 1)
    return data


def generated(claims: int, seed: int, tag: str, *, interchanges: int = 1) -> bytes:
    """A bench-generator file (sender SYNSUBMIT01) whose CLM01s all start with ``tag``."""
    path = Path(f"/tmp/edi-gate-gen-{claims}-{seed}-{interchanges}.837")
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--claims",
                str(claims),
                "--seed",
                str(seed),
                "--interchanges",
                str(interchanges),
                "--newlines",
                "-o",
                str(path),
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return re.sub(rb"\nCLM\*", b"\nCLM*" + tag.encode() + b"-", path.read_bytes())


def claim_ids(data: bytes) -> list[str]:
    return _clm01s(data)


def one_line_error(result: subprocess.CompletedProcess, status: int) -> str:
    """The one ``edi-gate: ...`` line a refused command printed, after checking its exit status
    and that no traceback came with it."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("edi-gate: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def read_decisions(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for p in paths for line in p.read_text().splitlines() if line]


def assert_files_conservation(
    inputs: list[bytes], filtered: list[Path], decisions: list[Path]
) -> dict[str, int]:
    """Claims in = CLMs across the filtered 837s + rejected decisions; no claim id twice; the
    filtered 837s hold exactly the accepted claims."""
    input_ids = [cid for data in inputs for cid in claim_ids(data)]
    assert len(input_ids) == sum(count_clm(d) for d in inputs)
    assert len(set(input_ids)) == len(input_ids), "test inputs must have unique claim ids"

    out_ids = [cid for p in filtered for cid in claim_ids(p.read_bytes())]
    assert sum(count_clm(p.read_bytes()) for p in filtered) == len(out_ids)
    records = read_decisions(decisions)
    decided = Counter(r["claim"] for r in records)
    twice = [cid for cid, n in decided.items() if n > 1]
    assert not twice, f"claims decided twice: {twice[:5]}"
    out_twice = [cid for cid, n in Counter(out_ids).items() if n > 1]
    assert not out_twice, f"claims written twice: {out_twice[:5]}"

    accepted = sorted(r["claim"] for r in records if r["decision"] == "accepted")
    rejected = [r["claim"] for r in records if r["decision"] == "rejected"]
    assert sorted(out_ids) == accepted
    assert len(out_ids) + len(rejected) == len(input_ids)
    assert sorted(decided) == sorted(input_ids)
    assert all(r["findings"] for r in records if r["decision"] == "rejected")
    return {"claims": len(input_ids), "accepted": len(out_ids), "rejected": len(rejected)}


def assert_replay_conservation(inputs: dict[str, bytes], records: list[dict]) -> None:
    """Replay's version: one decision per input claim, in file order, positions 1..n per file."""
    for source, data in inputs.items():
        rows = [r for r in records if r["source"] == source]
        assert len(rows) == count_clm(data), source
        assert [r["claim"] for r in rows] == claim_ids(data), source
        assert [r["position"] for r in rows] == list(range(1, len(rows) + 1)), source
    assert len(records) == sum(count_clm(d) for d in inputs.values())
    labels = Counter(r["decision"] for r in records)
    assert labels["accepted"] + labels["rejected"] == len(records)
    assert all(r["findings"] for r in records if r["decision"] == "rejected")
