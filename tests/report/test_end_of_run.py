"""The end of a run on a terminal: a table (claims in, accepted, rejected, not evaluated, by rule
with each rule's summary, lines removed, time, throughput) instead of a dict in a log line; JSON
logs keep their summary event. `watch --once` sums up and exits 65 when it quarantined a file."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path

from edi_gate.report.terminal import RuleCount, RunTotals, render
from tests.invoke import invoke
from tests.pipeline.support import EDI_GATE, demo_variant
from tests.report.support import DEMO, cli

TABLE_ROWS = ("claims in", "accepted", "rejected", "not evaluated", "lines removed", "time")
PRIV003_SUMMARY = "MRI/MRA, CT/CTA and PET by a nonradiologist are not paid"


def assert_table(text: str, claims: int) -> None:
    for label in TABLE_ROWS:
        assert f"  {label} " in text, (label, text)
    assert f"claims in {claims:>17}" in " ".join(text.split("  ")) or str(claims) in text
    assert "claims/s" in text
    assert "PRIV003" in text and PRIV003_SUMMARY in text
    assert "{'" not in text and '"event"' not in text


def test_filter_on_a_console_ends_with_a_table(tmp_path: Path):
    result = invoke("filter", DEMO, "-o", tmp_path / "out.837", "--log-format", "console")
    assert result.status == 0, result.stderr
    assert_table(result.stderr, 8)
    assert "filter.summary" not in result.stderr


def test_json_logs_keep_the_summary_event(tmp_path: Path):
    result = invoke("filter", DEMO, "-o", tmp_path / "out.837", "--log-format", "json")
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["event"] for e in events] == ["filter.summary"]
    assert "claims in" not in result.stderr


def test_auto_on_a_terminal_is_the_table(tmp_path: Path):
    """The real path: stderr is a pseudo-terminal, --log-format auto (the default)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(EDI_GATE), "filter", str(DEMO), "-o", str(tmp_path / "out.837")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env={**os.environ, "TERM": "dumb", "COLUMNS": "120"},
    )
    os.close(terminal)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
        process.wait(30)
    assert process.returncode == 0
    assert_table(output.decode().replace("\r\n", "\n"), 8)


def test_check_prints_totals_after_its_table_and_marks_removed_lines():
    result = invoke("check", DEMO, "--scope", "line", "--log-format", "json")
    assert result.status == 0, result.stderr
    table, totals = result.stdout.split("edi-gate check: ")
    assert "DEMO-007             accepted  1:20611, 2:76942 [removed]" in table
    assert "lines removed" in totals and "  rule " in totals
    assert "accepted" in totals and "75.0%" in totals  # 6 of 8 claims kept in line scope
    assert '"check.summary"' in result.stderr  # JSON logs still carry the event


def test_the_table_shows_not_evaluated_and_names_both_counts():
    totals = RunTotals(
        "edi-gate filter: x.837",
        10,
        6,
        3,
        not_evaluated=1,
        seconds=0.5,
        bytes_in=1000,
        rules=[RuleCount("PRIV007", 2, 3, "Echocardiography needs a prior authorization")],
    )
    text = render(totals)
    assert re.search(r"^  not evaluated +1 +10\.0%$", text, flags=re.MULTILINE), text
    assert "claims findings" in text and "PRIV007            2        3" in text
    assert "20 claims/s" in text


def watch_args(root: Path) -> list[str]:
    return [
        "watch",
        str(root / "inbox"),
        *("--out", str(root / "out"), "--acks", str(root / "acks")),
        *("--archive", str(root / "archive"), "--quarantine", str(root / "quarantine")),
        *("--once", "--settle", "0", "--create-dirs"),
    ]


def test_watch_once_sums_up_and_exits_65_when_it_quarantined(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.837").write_bytes(demo_variant("G"))
    clean = cli(*watch_args(tmp_path), "--log-format", "json")
    assert clean.returncode == 0, clean.stderr
    (summary,) = [
        json.loads(line) for line in clean.stderr.splitlines() if '"watch.summary"' in line
    ]
    assert summary["files"] == summary["archived"] == 1 and summary["quarantined"] == 0
    assert summary["claims"] == 8 and summary["claims_by_rule"]["PRIV003"] == 2

    (inbox / "bad.837").write_bytes(b"not X12 at all\n")
    (inbox / "good2.837").write_bytes(demo_variant("H"))
    bad = cli(*watch_args(tmp_path), "--log-format", "console")
    assert bad.returncode == 65, bad.stderr
    assert "quarantined" in bad.stderr and "claims in" in bad.stderr
    assert PRIV003_SUMMARY in bad.stderr  # by rule, with the rule's summary
    assert bad.stderr.splitlines()[-1] == "edi-gate: 1 file(s) quarantined: bad.837"
