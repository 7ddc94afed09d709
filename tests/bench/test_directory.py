"""The directory bench on a small scale: the import row, the lookup costs, and a filter row with
the SQLite directory that decides exactly as the CSV-roster row of the same run."""

from __future__ import annotations

import json
from pathlib import Path

from bench.directory import directory_args
from bench.run import main


def test_directory_rows_beside_the_roster_row(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("EDI_GATE_DIRECTORY", "")
    monkeypatch.delenv("EDI_GATE_DIRECTORY")
    out, data = tmp_path / "out", tmp_path / "data"
    status = main(
        ["--sizes", "300", "--tools", "filter,directory", "--directory-providers", "3000",
         "--out", str(out), "--data", str(data)]
    )  # fmt: skip
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    rows = {row["tool"]: row for row in results["rows"]}
    imported = rows["directory import nppes"]
    assert imported["ok"] and imported["claims"] == 3000 and imported["peak_rss_mb"] > 0
    assert imported["extra"]["lookup_miss_us"] > imported["extra"]["lookup_hit_us"] > 0
    roster, directory = rows["edi-gate filter"], rows["edi-gate filter (directory)"]
    assert directory["ok"], directory
    assert directory["extra"]["summary"]["by_rule"] == roster["extra"]["summary"]["by_rule"]
    assert directory["extra"]["claims_out"] == roster["extra"]["claims_out"] > 0
    judged = {t["target"] for t in results["targets"]}
    assert "filter 300: SQLite directory costs <= 5% over CSV roster" in judged


def test_directory_args_replace_the_roster() -> None:
    args = directory_args(["--roster", "r.csv", "--scope", "line"], Path("d.sqlite"))
    assert args == ["--scope", "line", "--directory", "d.sqlite"]
