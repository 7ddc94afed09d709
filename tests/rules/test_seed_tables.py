"""Walk every row of every table of seed 000, parsed from the seed's own text (not the ruleset).

For each table the specialties the seed names get their NUCC taxonomies here (the seed names
specialties, NUCC gives codes: domain.md section 4). Whether a table is technical-only is read
from the table's own introduction ("technical compensation only" / "technical component only").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from edi_gate.rules.engine import Engine
from edi_gate.rules.roster import parse_roster
from tests.helpers import SEEDS

from .claims import RENDERING_NPI, claim, line
from .conftest import HEADER

SEED = SEEDS / "000_4dc46159c9e0cd50.txt"
ROW = re.compile(r"^([0-9]{5}|[A-Z][0-9]{4})\*?\t")

# The specialties each table's introduction names -> NUCC taxonomies (several per specialty where
# the brief says "and subspecialties", to exercise the prefix matching).
SPECIALTY_TABLES: dict[str, list[str]] = {
    "Anesthesiology or Physical Medicine and Rehabilitation": ["207L00000X", "208100000X"],
    "Cardiovascular Disease": ["207RC0000X", "207RC0001X"],
    "Echocardiography (ECG)": ["207RC0000X", "207RP1001X", "207RC0001X", "2080P0202X"],
    "Endocrinology": ["207RE0101X"],
    "General Vascular Surgery": ["2086S0129X"],
    "Hand Surgery": ["2086S0105X", "2082S0105X", "207XS0106X"],
    "Nuclear Cardiology": ["207U00000X", "207UN0901X", "207RC0000X", "207RC0001X"],
    "Obstetrical Ultrasound": ["207V00000X", "207VM0101X", "207VX0000X"],
    "Ophthalmology": ["207W00000X", "207WX0107X"],
    "Orthopedic Surgery and Rheumatology": ["207X00000X", "207XX0005X", "207XS0106X", "207RR0500X"],
    "Podiatric Medicine": ["213E00000X", "213ES0103X"],
    "PCPs (Internal Medicine, Family Practice, Pediatrics)": [
        "207R00000X",
        "207Q00000X",
        "208000000X",
    ],
    "Pulmonary Disease": ["207RP1001X"],
    "Urology": ["208800000X", "2088P0231X"],
}
CERT_TABLES: dict[str, list[str]] = {
    "Bone Densitometry": ["ISCD"],
    "Breast Ultrasound": ["AIUM", "ASBS"],
    "Vascular Ultrasound": ["IAC"],
}
# The seed's own sentence for the vascular table: IAC "is required for providers who are not
# board-certified or eligible in general vascular surgery or cardiovascular disease."
NON_CERT_TAXONOMY = "207Q00000X"  # family medicine: none of the certification codes on its table


@dataclass
class Table:
    title: str
    intro: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def technical_only(self) -> bool:
        text = " ".join(self.intro).lower()
        return "technical compensation only" in text or "technical component only" in text


def parse_seed() -> dict[str, Table]:
    """Tables by heading, in seed order; rows are 'CODE<TAB>description' lines."""
    headings = set(SPECIALTY_TABLES) | set(CERT_TABLES)
    tables: dict[str, Table] = {}
    current: Table | None = None
    for raw in SEED.read_text(encoding="utf-8").splitlines():
        text = raw.strip()
        if text in headings:
            current = tables.setdefault(text, Table(text))
            continue
        if text == "PUBLICATION HISTORY" or text == "Service-Specific Certifications":
            current = None
            continue
        if current is None:
            continue
        m = ROW.match(raw)
        if m:
            current.codes.append(m.group(1))
        elif not current.codes and text and not text.startswith("Procedure Code"):
            current.intro.append(text)
    return tables


TABLES = parse_seed()


def grants(taxonomy: str) -> dict[str, str]:
    """code -> 'technical' | 'global' for a taxonomy from the seed tables (union, permissive)."""
    out: dict[str, str] = {}
    for title, taxes in SPECIALTY_TABLES.items():
        if taxonomy not in taxes:
            continue
        table = TABLES[title]
        comp = "technical" if table.technical_only else "global"
        for code in table.codes:
            if out.get(code) != "global":
                out[code] = comp
    return out


def expected_ok(taxonomy: str, code: str, mods: tuple[str, ...]) -> bool:
    comp = grants(taxonomy).get(code)
    if comp is None:
        return False
    return comp == "global" or mods == ("TC",)


def privilege_rules(engine: Engine, taxonomy: str, code: str, mods: tuple[str, ...]) -> list[str]:
    """Privileging findings only: add-on and modifier edits are other rules' business."""
    c = claim(line(code, *mods), taxonomy=taxonomy, prior_auth="AUTH123")
    return [f.rule for f in engine.evaluate(c) if f.rule.startswith("PRIV")]


MODS = [(), ("TC",), ("26",)]


def test_seed_parsed_completely():
    assert set(TABLES) == set(SPECIALTY_TABLES) | set(CERT_TABLES)
    counts = {t: len(tab.codes) for t, tab in TABLES.items()}
    # row counts as printed in the seed (tables split across pages included)
    assert counts["Cardiovascular Disease"] == 25
    assert counts["Echocardiography (ECG)"] == 18
    assert counts["Nuclear Cardiology"] == 14
    assert counts["Obstetrical Ultrasound"] == 27
    assert counts["Orthopedic Surgery and Rheumatology"] == 62
    assert counts["PCPs (Internal Medicine, Family Practice, Pediatrics)"] == 37
    assert {t for t, tab in TABLES.items() if tab.technical_only} == {
        "Cardiovascular Disease",
        "PCPs (Internal Medicine, Family Practice, Pediatrics)",
        "Pulmonary Disease",
    }


def test_ruleset_tables_match_seed(ruleset):
    """Every seed table is in the ruleset row for row (and nothing was added to a table)."""
    ours = {t.title: sorted(t.code_list) for t in ruleset.tables.values()}
    ours |= {c.title.lower(): sorted(c.code_list) for c in ruleset.certifications.values()}
    for title, table in TABLES.items():
        key = title if title in ours else title.lower()
        assert ours.get(key) == sorted(table.codes), title


@pytest.mark.parametrize("title", list(SPECIALTY_TABLES))
def test_every_row_for_listed_specialties(engine, title):
    """Each row, each listed specialty, with and without the required modifier."""
    wrong = []
    for code in TABLES[title].codes:
        for tax in SPECIALTY_TABLES[title]:
            for mods in MODS:
                got = privilege_rules(engine, tax, code, mods)
                if (not got) != expected_ok(tax, code, mods):
                    wrong.append((tax, code, mods, got))
    assert wrong == []


@pytest.mark.parametrize("title", list(SPECIALTY_TABLES))
def test_codes_of_other_tables_rejected(engine, title):
    """Codes on other tables (specialty or certification) that a specialty may not bill."""
    all_codes = {c for t in TABLES.values() for c in t.codes}
    wrong = []
    for tax in SPECIALTY_TABLES[title]:
        foreign = sorted(all_codes - set(grants(tax)))
        assert foreign, tax
        for code in foreign:
            for mods in MODS:
                got = privilege_rules(engine, tax, code, mods)
                if not got:
                    wrong.append((tax, code, mods))
    assert wrong == []


@pytest.mark.parametrize("title", list(CERT_TABLES))
def test_certification_rows(engine, title):
    """Without the credential a non-table specialty is rejected; with any listed credential in
    force on the date of service every row is global."""
    wrong = []
    for cred in CERT_TABLES[title]:
        holder = Engine(
            engine.rulesets, parse_roster(HEADER + f"{RENDERING_NPI},,{cred},2024-01-01,\n")
        )
        for code in TABLES[title].codes:
            for mods in MODS:
                if not privilege_rules(engine, NON_CERT_TAXONOMY, code, mods):
                    wrong.append(("without", cred, code, mods))
                if privilege_rules(holder, NON_CERT_TAXONOMY, code, mods):
                    wrong.append(("with", cred, code, mods))
    assert wrong == []


def test_vascular_rows_for_cardiology(engine):
    """A cardiologist without IAC: technical only; with IAC: global."""
    holder = Engine(engine.rulesets, parse_roster(HEADER + f"{RENDERING_NPI},,IAC,2024-01-01,\n"))
    for code in TABLES["Vascular Ultrasound"].codes:
        assert privilege_rules(engine, "207RC0000X", code, ("TC",)) == []
        assert privilege_rules(engine, "207RC0000X", code, ()) == ["PRIV005"]
        assert privilege_rules(engine, "207RC0000X", code, ("26",)) == ["PRIV005"]
        assert privilege_rules(holder, "207RC0000X", code, ()) == []
        assert privilege_rules(holder, "207RC0000X", code, ("26",)) == []
