"""The hostile table's quick version: memory does not grow with a hostile input's size.

Peak RSS of the CLI (a child measured with os.wait4, bench.run.measure) at two sizes of the same
input; bounded growth, not time, is asserted (timing belongs to bench/, see bench.hostile).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import hostile
from bench.run import measure

GROWTH_MB = 6.0  # allowed between the two sizes: allocator noise, never the input's size


def _peak(case: hostile.Case, size: int, tmp_path: Path) -> float:
    source = case.build(tmp_path / f"in-{size}.837", size)
    out = tmp_path / f"out-{size}"
    out.mkdir()
    exe = [sys.executable, "-m", "edi_gate.cli"]
    if case.command == "replay":
        cmd = [*exe, "replay", str(source), "--out", str(out)]
    else:
        cmd = [*exe, "filter", str(source), "-o", str(out / "f.837"), "--acks", str(out / "a.277")]
        cmd += ["--decisions", str(out / "d.jsonl")]
    m = measure(cmd, timeout=300)
    assert not m.timed_out and m.exit_status in (0, 65), m.stderr
    return m.peak_rss_mb


@pytest.mark.parametrize(
    "name,small,large",
    [
        ("whitespace between", 2, 24),
        ("as .gz in replay", 2, 24),
        ("HL segments with no claims", 40, 160),
        ("NTE segments of 1 MB", 3, 12),
        ("bare ~", 100, 1500),
        ("IEA disagrees", 1, 4),
    ],
)
def test_peak_memory_does_not_follow_the_input(tmp_path, name, small, large):
    case = next(c for c in hostile.CASES if name in c.name)
    low, high = _peak(case, small, tmp_path), _peak(case, large, tmp_path)
    assert high - low < GROWTH_MB, f"{case.name}: {low:.1f} MB at {small}, {high:.1f} at {large}"
    assert high < 64
