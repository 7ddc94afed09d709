"""Every rule's accept and reject cases, from its case file (tests/rules/cases/<ID>.toml).

One parametrized test runs them all; each case's test id starts with its rule id, so
``pytest -k GUID003`` runs that rule's cases. The completeness tests keep the files and the rules
in step: every rule id of the registry and of the shipped ruleset has a case file with at least
one accept and one reject case, and no case file names a rule that does not exist.
"""

from __future__ import annotations

import pytest

from edi_gate.rules.base import registry
from edi_gate.rules.catalog import CASES_PATH

from .casefiles import CASES_DIR, Case, case_files, check
from .conftest import RULESET

FILES = case_files()
CASES: list[Case] = [case for f in FILES.values() for case in f.cases]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, ruleset):
    check(case, ruleset)


def test_every_rule_has_a_case_file(ruleset):
    ids = set(registry()) | {r.meta.id for r in ruleset.rules}
    assert sorted(ids - set(FILES)) == []


def test_no_case_file_names_an_unknown_rule(ruleset):
    ids = set(registry()) | {r.meta.id for r in ruleset.rules}
    assert sorted(set(FILES) - ids) == []
    for stem, f in FILES.items():
        assert f.rule == stem, f"{stem}.toml says rule = {f.rule!r}"


@pytest.mark.parametrize("stem", sorted(FILES))
def test_case_file_has_seed_accept_and_reject(stem):
    f = FILES[stem]
    assert f.seed.strip(), f"{stem}: the seed sentence is missing"
    kinds = {c.body.get("expect") for c in f.cases}
    assert {"accept", "reject"} <= kinds, f"{stem}: needs accept and reject cases"


def test_catalog_points_at_these_files():
    assert CASES_DIR.relative_to(RULESET.parents[3]).as_posix() == CASES_PATH
