"""`edi-gate replay`: inputs of every kind, deterministic output whatever the workers, the
summary, errors that do not stop the run, and --compare."""

from __future__ import annotations

import gzip
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from edi_gate.pipeline import replay as rp
from tests.helpers import REPO
from tests.pipeline.support import (
    EDI_GATE,
    assert_replay_conservation,
    demo_variant,
    generated,
    read_decisions,
)

RULESET = REPO / "edi_gate" / "data" / "rulesets" / "imaging-2024.toml"


def archive_tree(root: Path) -> dict[str, bytes]:
    """Plain, nested, gzip and zip inputs; returns the stream name -> bytes replay should see."""
    (root / "sub").mkdir(parents=True)
    streams = {}
    for name, data in (("a.837", demo_variant("A")), ("sub/b.837", demo_variant("B"))):
        (root / name).write_bytes(data)
        streams[str(root / name)] = data
    gz = demo_variant("GZ")
    with gzip.open(root / "c.837.gz", "wb") as handle:
        handle.write(gz)
    streams[str(root / "c.837.gz")] = gz
    with zipfile.ZipFile(root / "d.zip", "w") as archive:
        for member, tag in (("e.837", "ZE"), ("f/g.837", "ZG")):
            archive.writestr(member, demo_variant(tag))
            streams[f"{root / 'd.zip'}!{member}"] = demo_variant(tag)
    (root / ".hidden").write_bytes(b"ignored")
    return streams


def replay(
    arguments: list[str],
    out: Path,
    *,
    workers: int = 1,
    split: int = 8 << 20,
    spec: rp.EngineSpec | None = None,
    other: rp.EngineSpec | None = None,
) -> dict:
    sources, missing = rp.expand_inputs(arguments)
    report = rp.ResultMerger(out, spec or rp.EngineSpec(), other)
    report.errors.extend(missing)
    rp.replay_local(rp.plan_units(sources, split), report, workers=workers)
    return report.finish()


def test_directories_globs_gzip_and_zip(tmp_path: Path):
    streams = archive_tree(tmp_path / "archive")
    summary = replay([str(tmp_path / "archive")], tmp_path / "out")
    records = read_decisions([tmp_path / "out" / "decisions.jsonl"])
    assert list(dict.fromkeys(r["source"] for r in records)) == sorted(streams)
    assert_replay_conservation(streams, records)
    assert summary["files"] == summary["files_read"] == 5 and summary["errors"] == []
    assert summary["claims"] == 40
    assert sum(summary["by_decision"].values()) == 40
    assert summary["by_month"] == {"2025-03": {"claims": 40, "rejected": 20}}
    assert sum(v["claims"] for v in summary["by_taxonomy"].values()) >= 40
    assert summary["top_rejected_codes"][0]["lines"] >= 5
    assert "Claims by rule:" in (tmp_path / "out" / "summary.txt").read_text()

    by_glob = replay([str(tmp_path / "archive" / "**" / "*.837")], tmp_path / "glob")
    assert by_glob["files"] == 2 and by_glob["claims"] == 16


def test_output_is_the_same_whatever_the_split_and_workers(tmp_path: Path):
    big = generated(3000, 11, "BIG", interchanges=6)
    (tmp_path / "big.837").write_bytes(big)
    (tmp_path / "demo.837").write_bytes(demo_variant("D"))
    inputs = [str(tmp_path / "big.837"), str(tmp_path / "demo.837")]
    whole = replay(inputs, tmp_path / "whole")
    split = replay(inputs, tmp_path / "split1", split=150_000)
    split2 = replay(inputs, tmp_path / "split2", split=150_000, workers=2)
    assert len(rp.plan_units(rp.expand_inputs(inputs)[0], 150_000)) >= 5
    reference = (tmp_path / "whole" / "decisions.jsonl").read_bytes()
    assert (tmp_path / "split1" / "decisions.jsonl").read_bytes() == reference
    assert (tmp_path / "split2" / "decisions.jsonl").read_bytes() == reference
    assert whole == split == split2
    assert_replay_conservation(
        {inputs[0]: big, inputs[1]: demo_variant("D")},
        read_decisions([tmp_path / "whole" / "decisions.jsonl"]),
    )


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EDI_GATE), "replay", *arguments, "--log-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreadable_files_are_reported_and_the_replay_goes_on(tmp_path: Path):
    (tmp_path / "good.837").write_bytes(demo_variant("G"))
    (tmp_path / "bad.837").write_bytes(b"not X12 at all\n")
    result = run_cli(
        str(tmp_path / "good.837"),
        str(tmp_path / "bad.837"),
        str(tmp_path / "missing.837"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["files_read"] == 1 and summary["claims"] == 8
    assert [e["source"] for e in summary["errors"]] == [
        str(tmp_path / "missing.837"),
        str(tmp_path / "bad.837"),
    ]
    assert "Errors:" in result.stdout
    assert_replay_conservation(
        {str(tmp_path / "good.837"): demo_variant("G")},
        read_decisions([tmp_path / "out" / "decisions.jsonl"]),
    )

    nothing = run_cli(str(tmp_path / "bad.837"), "--out", str(tmp_path / "out2"))
    assert nothing.returncode == 65


@pytest.fixture
def ruleset_without_priv003(tmp_path: Path) -> Path:
    text = RULESET.read_text().replace("[rules.PRIV003]\n", "[rules.PRIV003]\nenabled = false\n")
    path = tmp_path / "no-priv003.toml"
    path.write_text(text)
    return path


def test_compare_reports_every_changed_claim_with_its_rules(tmp_path, ruleset_without_priv003):
    big = generated(2000, 12, "CMP", interchanges=2)
    (tmp_path / "in.837").write_bytes(big)
    result = run_cli(
        str(tmp_path / "in.837"),
        "--out",
        str(tmp_path / "out"),
        "--compare",
        str(RULESET),
        str(ruleset_without_priv003),
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    decisions = read_decisions([tmp_path / "out" / "decisions.jsonl"])
    assert_replay_conservation({str(tmp_path / "in.837"): big}, decisions)
    only_priv003 = {
        r["claim"]
        for r in decisions
        if r["decision"] == "rejected" and {f["rule"] for f in r["findings"]} == {"PRIV003"}
    }
    assert only_priv003, "the generated file should have PRIV003-only rejections"
    changes = read_decisions([tmp_path / "out" / "changes.jsonl"])
    assert {c["claim"] for c in changes} == only_priv003
    assert all(c["a"] == "rejected" and c["b"] == "accepted" for c in changes)
    assert all(c["rules_removed"] == ["PRIV003"] and not c["rules_added"] for c in changes)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["compare"]["changed_claims"] == len(only_priv003)
    assert summary["compare"]["transitions"] == {"rejected -> accepted": len(only_priv003)}
    b = summary["compare"]["b_summary"]
    assert "PRIV003" not in b["by_rule"]
    assert b["by_decision"]["accepted"] == summary["by_decision"]["accepted"] + len(only_priv003)
    assert "Claims whose decision changes" in result.stdout
