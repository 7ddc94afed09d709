"""The NUCC code set ships in the package and grounds the specialties (issue 16 item 2)."""

from __future__ import annotations

from edi_gate.resources import package_data
from edi_gate.rules import nucc


def test_code_set_ships_in_the_package_with_its_provenance():
    codes = nucc.code_set()
    assert len(codes) == 883  # NUCC v25.1, as PROVENANCE.md records
    assert package_data("nucc", "PROVENANCE.md").is_file()
    assert "v25.1" in package_data("nucc", "PROVENANCE.md").read_text()
    assert codes.name("207LP2900X") == "Anesthesiology / Pain Medicine"
    assert codes.name("207L00000X") == "Anesthesiology"
    assert codes.name("207L0000XX") == "taxonomy 207L0000XX"


def test_classification_members_follow_the_hierarchy_not_the_code_prefix():
    codes = nucc.code_set()
    family = codes.classification_members("207Q00000X")
    assert "207QA0505X" in family and "207QS0010X" in family
    # NUCC files 207QB0505X (Diabetology) under Internal Medicine despite its 207Q prefix
    assert "207QB0505X" not in family


def test_every_specialty_is_grounded_in_the_code_set(ruleset):
    codes = nucc.code_set()
    for spec in ruleset.specialties.values():
        assert spec.taxonomies and all(t in codes for t in spec.taxonomies), spec.id
    assert "207LP2900X" in ruleset.specialties["anesthesiology"].taxonomies
    assert "2081P2900X" in ruleset.specialties["pmr"].taxonomies
    assert "207RI0011X" in ruleset.specialties["cardiovascular_disease"].taxonomies
    assert "207RG0100X" not in ruleset.specialties["internal_medicine"].taxonomies


def test_unmapped_taxonomy_is_described_in_words(ruleset):
    assert ruleset.describe_taxonomy("207RG0100X") == (
        "Internal Medicine / Gastroenterology (207RG0100X)"
    )
    assert ruleset.describe_taxonomy("207ZZ9999X") == "taxonomy 207ZZ9999X (not a NUCC code)"


def test_known_credentials_for_lint(ruleset):
    # issue19's `rules lint` can reject a roster credential the ruleset never reads (AIUMX)
    assert ruleset.known_credentials() == {"ISCD", "AIUM", "ASBS", "IAC"}
