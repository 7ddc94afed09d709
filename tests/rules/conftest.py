"""Fixtures: the shipped ruleset loaded once, and engines with an in-memory roster."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edi_gate.resources import default_rulesets
from edi_gate.rules.engine import Engine
from edi_gate.rules.loader import load_ruleset
from edi_gate.rules.roster import parse_roster
from edi_gate.rules.ruleset import Ruleset

RULESET = default_rulesets() / "imaging-2024.toml"
HEADER = "npi,taxonomy,credential,effective,expires\n"


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset(RULESET)


@pytest.fixture(scope="session")
def engine(ruleset: Ruleset) -> Engine:
    """The shipped ruleset with an empty roster."""
    return Engine([ruleset], parse_roster(HEADER))


@pytest.fixture
def make_engine(ruleset: Ruleset) -> Callable[[str], Engine]:
    """An engine whose roster holds the given CSV rows (header added)."""

    def build(rows: str = "") -> Engine:
        return Engine([ruleset], parse_roster(HEADER + rows, "roster.csv"))

    return build
