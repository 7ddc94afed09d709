"""Walk every row of every table of seed 000, from the project's record of the seed's tables.

``tests/data/seed_tables.csv`` holds each table row as the seed prints it: the table, the code,
the component the table grants (``technical`` when its introduction says "technical compensation
only" / "technical component only", else ``global``), whether the seed requires a prior
authorization for the table's codes, whether the row is marked ``*`` (an add-on), the credentials
a certification table requires, and the seed file and section it comes from
(``tests/data/README.md``). The interop test at the end re-reads the seed text (``../shared``) and
checks that the data file still says what the seed says.

For each table the specialties the seed names get their NUCC taxonomies here (the seed names
specialties, NUCC gives codes: domain.md section 4).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edi_gate.rules.engine import Engine
from edi_gate.rules.roster import parse_roster
from tests.claims import RENDERING_NPI, claim, line
from tests.helpers import SEEDS

from .conftest import HEADER

DATA = Path(__file__).resolve().parents[1] / "data" / "seed_tables.csv"
SEED_FILE = "000_4dc46159c9e0cd50.txt"
ROW = re.compile(r"^([0-9]{5}|[A-Z][0-9]{4})(\*?)\t")

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
    codes: list[str] = field(default_factory=list)
    component: str = "global"
    prior_authorization: bool = False
    credentials: tuple[str, ...] = ()
    add_ons: set[str] = field(default_factory=set)
    source: str = ""

    @property
    def technical_only(self) -> bool:
        return self.component == "technical"


def load_tables(path: Path = DATA) -> dict[str, Table]:
    """Tables by title, rows in seed order, from the project's data file."""
    tables: dict[str, Table] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            table = tables.get(row["table"])
            facts = (
                row["component"],
                row["prior_authorization"] == "yes",
                tuple(filter(None, row["credentials"].split("|"))),
                row["source"],
            )
            if table is None:
                table = tables[row["table"]] = Table(row["table"])
                table.component, table.prior_authorization = facts[0], facts[1]
                table.credentials, table.source = facts[2], facts[3]
            # A table's facts are the same on each of its rows.
            table_facts = (
                table.component,
                table.prior_authorization,
                table.credentials,
                table.source,
            )
            assert facts == table_facts, f"{path.name}:{number}: {row['table']} disagrees"
            table.codes.append(row["code"])
            if row["add_on"] == "yes":
                table.add_ons.add(row["code"])
    return tables


TABLES = load_tables()


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


def test_data_file_holds_every_table():
    assert set(TABLES) == set(SPECIALTY_TABLES) | set(CERT_TABLES)
    assert all(t.source == f"{SEED_FILE} §{title}" for title, t in TABLES.items())
    assert {t: tab.credentials for t, tab in TABLES.items() if tab.credentials} == {
        title: tuple(creds) for title, creds in CERT_TABLES.items()
    }
    assert {t for t, tab in TABLES.items() if tab.prior_authorization} == {
        "Echocardiography (ECG)",
        "Nuclear Cardiology",
    }
    assert TABLES["Echocardiography (ECG)"].add_ons == {"93320", "93321", "93325", "93352"}
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
    """Every seed table is in the ruleset row for row (and nothing was added to a table), with
    the seed's component and prior-authorization flag."""
    ours = {t.title: sorted(t.code_list) for t in ruleset.tables.values()}
    ours |= {c.title.lower(): sorted(c.code_list) for c in ruleset.certifications.values()}
    for title, table in TABLES.items():
        key = title if title in ours else title.lower()
        assert ours.get(key) == sorted(table.codes), title
    for rule_table in ruleset.tables.values():
        table = TABLES[rule_table.title]
        assert rule_table.component == table.component, rule_table.title
        assert rule_table.prior_authorization == table.prior_authorization, rule_table.title


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


# -- interop: the data file against the seed's own text -------------------------------------------


def parse_seed_text(text: str) -> dict[str, Table]:
    """Tables by heading, in seed order, from the seed: rows are 'CODE<TAB>description' lines
    (a '*' after the code marks an add-on); the introduction before the first row says the
    component; a sentence after the rows says whether they need a prior authorization."""
    headings = set(SPECIALTY_TABLES) | set(CERT_TABLES)
    tables: dict[str, Table] = {}
    intro: dict[str, list[str]] = {}
    current: Table | None = None
    for raw in text.splitlines():
        line_text = raw.strip()
        if line_text in headings:
            current = tables.setdefault(line_text, Table(line_text))
            current.source = f"{SEED_FILE} §{line_text}"
            current.credentials = tuple(CERT_TABLES.get(line_text, ()))
            continue
        if line_text in ("PUBLICATION HISTORY", "Service-Specific Certifications"):
            current = None
            continue
        if current is None:
            continue
        m = ROW.match(raw)
        if m:
            current.codes.append(m.group(1))
            if m.group(2):
                current.add_ons.add(m.group(1))
        elif not current.codes and line_text and not line_text.startswith("Procedure Code"):
            intro.setdefault(current.title, []).append(line_text.lower())
        elif current.codes and "listed above require prior authorization" in line_text:
            current.prior_authorization = True
    for title, table in tables.items():
        words = " ".join(intro.get(title, []))
        technical = "technical compensation only" in words or "technical component only" in words
        table.component = "technical" if technical else "global"
    return tables


@pytest.mark.interop
def test_data_file_agrees_with_the_seed_text():
    """tests/data/seed_tables.csv says what seed 000 says, table by table and row by row."""
    from_seed = parse_seed_text((SEEDS / SEED_FILE).read_text(encoding="utf-8"))
    assert list(from_seed) == list(TABLES)
    for title, table in from_seed.items():
        assert table == TABLES[title], title


def test_prior_authorization_follows_the_seed_row_by_row(engine):
    """Every row of a table the seed puts under prior authorization needs REF*G1 (PRIV007) in
    the office; no other table's row does."""
    radiology = "2085R0202X"  # privileged for every code: only the authorization is in question
    wrong = []
    for table in TABLES.values():
        for code in table.codes:
            without = [
                f.rule
                for f in engine.evaluate(claim(line(code), taxonomy=radiology))
                if f.rule == "PRIV007"
            ]
            with_auth = claim(line(code), taxonomy=radiology, prior_auth="AUTH123")
            if bool(without) != table.prior_authorization:
                wrong.append((table.title, code, "without", without))
            if any(f.rule == "PRIV007" for f in engine.evaluate(with_auth)):
                wrong.append((table.title, code, "with"))
    assert wrong == []
