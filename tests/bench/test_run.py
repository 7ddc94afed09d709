"""The benchmark harness itself, on a small file: every tool measured, ratios and targets."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import main


def test_harness_measures_compiled_interpreted_and_floor(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    status = main(
        ["--sizes", "300", "--tools", "filter,interpreted,floor,replay", "--out", str(out),
         "--data", str(data)]
    )  # fmt: skip
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    rows = {row["tool"]: row for row in results["rows"]}
    compiled, interpreted = rows["edi-gate filter"], rows["edi-gate filter (interpreted)"]
    floor = rows["floor (pure Python)"]
    for row in (compiled, interpreted, floor):
        assert row["ok"] and row["seconds"] > 0 and row["peak_rss_mb"] > 0, row
    # the two builds decide the same claims the same way
    assert compiled["extra"]["summary"]["by_rule"] == interpreted["extra"]["summary"]["by_rule"]
    assert compiled["extra"]["claims_out"] == interpreted["extra"]["claims_out"] > 0
    assert compiled["extra"]["summary"]["claims"] == 300
    assert "vs_floor" in compiled["extra"]
    judged = {t["target"]: t for t in results["targets"]}
    assert any("compiled build vs the same sources interpreted" in name for name in judged)
    assert judged["filter 300: peak RSS < 64 MB"]["result"] in ("PASS", "FAIL")
    assert "| edi-gate filter (interpreted) | 300 |" in (out / "results.md").read_text()
    # a 300-claim file is one replay unit: the 2-worker target is reported, not judged
    assert rows["edi-gate replay w2"]["extra"]["units"] == 1
    assert judged["replay 300: w2 >= 1.8x w1"]["result"].startswith("info (one work unit")
