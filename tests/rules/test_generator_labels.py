"""The bench generator's labels agree with the rules: every claim it labels as breaking a rule is
rejected by that rule, and no claim it calls good is rejected (issue 16, "every rule a findable
unit"). A label the seeds do not support is a wrong label, not a missed rule."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from bench.generate import BREAKS, RECIPES, generate
from edi_gate.cli import main


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, dict]]:
    tmp = tmp_path_factory.mktemp("labels")
    data, labels, roster = tmp / "g.837", tmp / "labels.tsv", tmp / "roster.csv"
    generate(data, 4000, seed=11, violation_rate=0.6, labels=labels, roster=roster)
    result = CliRunner().invoke(
        main, ["check", str(data), "--roster", str(roster), "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    decisions = {
        d["claim"]: d for d in map(json.loads, result.output.splitlines()) if d.get("claim")
    }
    names = dict(ln.split("\t") for ln in labels.read_text().splitlines())
    assert len(decisions) == len(names) == 4000
    return [(names[claim], decisions[claim]) for claim in names]


def test_every_violation_recipe_names_its_rule():
    bad = {name for good_bad in RECIPES.values() for name, _, _ in good_bad[1]}
    bad = {name for name in bad if name.startswith("BAD_")} | {"BAD_no_prior_auth"}
    assert sorted(bad - set(BREAKS)) == [] and sorted(set(BREAKS) - bad) == []


def test_labelled_violations_are_rejected_by_their_rule(labelled):
    missed: Counter[str] = Counter()
    seen: set[str] = set()
    for label, decision in labelled:
        if not label.startswith("BAD_"):
            continue
        recipe = label.split("/", 1)[0]
        seen.add(recipe)
        rules = {f["rule"] for f in decision.get("findings", [])}
        if BREAKS[recipe] not in rules:
            missed[label] += 1
    assert missed == Counter()
    assert seen == set(BREAKS), sorted(set(BREAKS) - seen)  # every recipe drawn at least once


def test_good_claims_are_accepted(labelled):
    rejected = Counter(
        label
        for label, decision in labelled
        if not label.startswith("BAD_") and decision["decision"] != "accepted"
    )
    assert rejected == Counter()
