"""replay's summary counts what it says: codes of the lines a finding names, claims and findings by
rule under their own names, dollars at stake from CLM02/SV102, and --compare's dollar deltas; and a
run owns its --out directory."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from edi_gate.report.tallies import ReportTallies, charge, not_evaluated
from tests.pipeline.support import generated
from tests.report.support import DEMO, RULESET, cli, records, ruleset_without


def replay(tmp_path: Path, *args: str | Path, out: str = "out") -> dict:
    result = cli("replay", *args, "--out", tmp_path / out, "--log-format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / out / "summary.json").read_text())


def test_top_codes_count_only_the_lines_a_finding_names(tmp_path: Path):
    # demo: DEMO-006 is 76003 (rejected) + 20610; DEMO-007 is 20611 + 76942 (rejected). In claim
    # scope both claims are rejected whole, but no rule is about 20610 or 20611.
    summary = replay(tmp_path, DEMO)
    codes = {row["code"]: row["lines"] for row in summary["top_rejected_codes"]}
    assert "20610" not in codes and "20611" not in codes, codes
    named = Counter()
    for record in records(tmp_path / "out" / "decisions.jsonl"):
        lines = {f["line"] for f in record["findings"]}
        named.update(ln["procedure"] for ln in record["lines"] if ln["line"] in lines)
    assert codes == dict(named)


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "gen.837"
    path.write_bytes(generated(3000, 7, "RC"))
    return path


def test_claims_and_findings_by_rule_are_both_reported_and_named(tmp_path: Path, big: Path):
    summary = replay(tmp_path, big)
    decided = records(tmp_path / "out" / "decisions.jsonl")
    claims, findings = Counter(), Counter()
    for record in decided:
        claims.update({f["rule"] for f in record["findings"]})
        findings.update(f["rule"] for f in record["findings"])
    assert summary["claims_by_rule"] == dict(claims) == summary["by_rule"]
    assert summary["findings_by_rule"] == dict(findings)
    assert claims != findings, "the file should have a claim with two findings of one rule"
    text = (tmp_path / "out" / "summary.txt").read_text()
    assert "claims % claims  findings" in text
    # filter's summary event names both as well (by_rule stays: findings)
    result = cli("filter", big, "-o", "/dev/null", "--log-format", "json")
    event = next(
        json.loads(line) for line in result.stderr.splitlines() if "filter.summary" in line
    )
    assert event["by_rule"] == dict(findings) and event["claims_by_rule"] == dict(claims)


def _money(text: str) -> Decimal:
    return charge(text) or Decimal(0)


@pytest.mark.parametrize("scope", ["claim", "line"])
def test_dollars_at_stake_sum_clm02_and_sv102(tmp_path: Path, big: Path, scope: str):
    summary = replay(tmp_path, big, "--scope", scope)
    decided = records(tmp_path / "out" / "decisions.jsonl")
    rejected = sum(_money(r["charge"]) for r in decided if r["decision"] == "rejected")
    removed = sum(
        _money(ln["charge"])
        for r in decided
        if r["decision"] == "accepted"
        for ln in r["lines"]
        if ln["decision"] == "rejected"
    )
    money = summary["dollars_at_stake"]
    assert money["rejected_claims"] == float(round(rejected, 2)) and rejected > 0
    assert money["removed_lines"] == float(round(removed, 2))
    assert (removed > 0) == (scope == "line")
    assert money["total"] == float(round(rejected + removed, 2))
    assert sum(money["by_month"].values()) == pytest.approx(money["total"])


def test_compare_reports_claims_and_dollars_newly_rejected_and_released(tmp_path, big):
    no_priv003 = ruleset_without(tmp_path, "PRIV003")
    summary = replay(tmp_path, big, "--compare", RULESET, no_priv003)
    compare = summary["compare"]
    changes = records(tmp_path / "out" / "changes.jsonl")
    charges = {
        r["position"]: _money(r["charge"]) for r in records(tmp_path / "out" / "decisions.jsonl")
    }
    released = [c for c in changes if c["a"] == "rejected" and c["b"] == "accepted"]
    assert compare["released"]["claims"] == len(released) > 0
    assert compare["released"]["dollars"] == float(
        round(sum(charges[c["position"]] for c in released), 2)
    )
    assert compare["released"]["by_rule"]["PRIV003"]["claims"] == len(released)
    assert compare["newly_rejected"] == {"claims": 0, "dollars": 0.0, "by_rule": {}}
    a_total = summary["dollars_at_stake"]["total"]
    b_total = compare["b_summary"]["dollars_at_stake"]["total"]
    assert a_total - b_total == pytest.approx(compare["released"]["dollars"])
    text = (tmp_path / "out" / "summary.txt").read_text()
    assert "released" in text and f"${compare['released']['dollars']:,.2f}" in text


def test_not_evaluated_counts_decisions_whose_ruleset_is_null():
    tallies = ReportTallies()
    base = {"decision": "accepted", "findings": [], "lines": [], "charge": "10"}
    for record in (base, {**base, "ruleset": "imaging-2024"}, {**base, "ruleset": None}):
        tallies.add(record)
    assert tallies.as_dict()["not_evaluated_claims"] == 1
    assert not not_evaluated(base)


@pytest.mark.parametrize("text", ["1E+999999", "NaN", "-Infinity", "12,50", "", "9" * 30])
def test_a_charge_that_is_not_an_amount_is_left_out(text):
    assert charge(text) is None


def test_a_run_owns_its_out_directory(tmp_path: Path):
    no_priv003 = ruleset_without(tmp_path, "PRIV003")
    replay(tmp_path, DEMO, "--compare", RULESET, no_priv003)
    assert (tmp_path / "out" / "changes.jsonl").exists()
    again = cli("replay", DEMO, "--out", tmp_path / "out")
    assert again.returncode == 2, again.stderr
    assert again.stderr.count("edi-gate: ") == 1 and "not empty" in again.stderr
    assert "--force" in again.stderr
    (tmp_path / "out" / "mine.txt").write_text("not a replay file")
    forced = cli("replay", DEMO, "--out", tmp_path / "out", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (tmp_path / "out" / "changes.jsonl").exists()  # the stale compare is gone
    assert (tmp_path / "out" / "mine.txt").exists()  # other files are not ours to remove
    assert len(records(tmp_path / "out" / "decisions.jsonl")) == 8
