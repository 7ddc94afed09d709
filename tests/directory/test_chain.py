"""Which taxonomy a line is judged by (issue 16 item 1 and 6, issue 17): the chain PRV ->
provider directory (roster, then NPPES) -> billing PRV*BI, every taxonomy in force counting,
and where each came from in the decisions (``taxonomy_source``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.nppes import Provider as NppesProvider
from edi_gate.directory.lookup import ProviderDirectory
from edi_gate.directory.store import SqliteSource
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.engine import Engine
from edi_gate.rules.loader import load_ruleset
from edi_gate.rules.roster import parse_roster
from tests.claims import BILLING_NPI, DOS, RENDERING_NPI, claim, line, provider, run
from tests.directory.conftest import ROSTER_HEADER
from tests.rules.conftest import RULESET

ORTHO, CARDIO, ENDO, RAD = "207X00000X", "207RC0000X", "207RE0101X", "2085R0202X"
IMAGING_CENTER, MULTI_GROUP, SINGLE_GROUP = "261QR0200X", "193200000X", "193400000X"


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(RULESET)


def engine_with(ruleset, roster: str = "", db: Path | None = None) -> Engine:
    sources: list = [parse_roster(ROSTER_HEADER + roster)]
    if db is not None:
        sources.append(SqliteSource(db))
    return Engine([ruleset], ProviderDirectory(sources))


def billed_by(taxonomy: str):
    return provider(taxonomy, loop="2000A", npi_=BILLING_NPI)


def source_of(engine: Engine, c) -> list[tuple[tuple[str, ...], str]]:
    engine.evaluate(c)
    return [(r.codes, r.source) for r in engine.line_taxonomies(c)]


class TestChain:
    """Issue 16 item 1: the probes rejected PRIV001 before, accepted now."""

    @pytest.mark.parametrize("billing", [IMAGING_CENTER, RAD])
    def test_imaging_center_or_radiology_group_billing_for_its_radiologist(self, ruleset, billing):
        engine = engine_with(ruleset)
        c = claim(line("71046"), rendering=provider(""), billing=billed_by(billing))
        assert run(engine, c) == []
        assert source_of(engine, c) == [((billing,), "2000A PRV")]

    def test_orthopaedic_group_billing_for_its_orthopaedist_on_a_2420a_line(self, ruleset):
        engine = engine_with(ruleset)
        c = claim(line("73030", rendering=provider("", loop="2420A")), billing=billed_by(ORTHO))
        assert run(engine, c) == []
        assert source_of(engine, c) == [((ORTHO,), "2000A PRV")]

    @pytest.mark.parametrize("group", [MULTI_GROUP, SINGLE_GROUP])
    def test_a_group_code_names_no_specialty(self, ruleset, group):
        engine = engine_with(ruleset)
        c = claim(line("73030"), rendering=provider(""), billing=billed_by(group))
        assert run(engine, c) == ["PRIV001"]
        assert source_of(engine, c) == [((), "")]

    def test_the_renderers_own_prv_comes_first(self, ruleset):
        engine = engine_with(ruleset, f"{RENDERING_NPI},{CARDIO},,,\n")
        c = claim(
            line("73030", rendering=provider(ORTHO, loop="2420A")),
            line("73030"),
            rendering=provider(RAD),
            billing=billed_by(IMAGING_CENTER),
        )
        assert run(engine, c) == []
        assert source_of(engine, c) == [((ORTHO,), "2420A PRV"), ((RAD,), "2310B PRV")]

    def test_a_2310b_prv_for_the_same_npi_speaks_for_the_2420a_line(self, ruleset):
        engine = engine_with(ruleset)
        c = claim(line("73030", rendering=provider("", loop="2420A")), rendering=provider(ORTHO))
        assert source_of(engine, c) == [((ORTHO,), "2310B PRV")]

    def test_the_directory_comes_before_the_billing_prv(self, ruleset):
        """An imaging center billing for a cardiologist: the cardiologist's own taxonomy (from
        the roster) decides, not the center's."""
        engine = engine_with(ruleset, f"{RENDERING_NPI},{CARDIO},,,\n")
        c = claim(line("73030"), rendering=provider(""), billing=billed_by(IMAGING_CENTER))
        assert run(engine, c) == ["PRIV004"]
        assert source_of(engine, c) == [((CARDIO,), "roster")]

    def test_billing_provider_rendering_with_a_group_code_is_looked_up(self, ruleset):
        engine = engine_with(ruleset, f"{BILLING_NPI},{ORTHO},,,\n")
        c = claim(line("73030"), billing=billed_by(SINGLE_GROUP))
        assert run(engine, c) == []
        assert source_of(engine, c) == [((ORTHO,), "roster")]


class TestEveryTaxonomyCounts:
    """Issue 16 item 6: a cardiologist who is also an endocrinologist."""

    ROSTER = f"{RENDERING_NPI},{CARDIO},,2020-01-01,\n{RENDERING_NPI},{ENDO},,2024-01-01,\n"

    @pytest.mark.parametrize("code", ["93306", "76536"])
    def test_both_specialties_privilege_their_codes(self, ruleset, code):
        engine = engine_with(ruleset, self.ROSTER)
        c = claim(line(code), rendering=provider(""), prior_auth="AUTH1")
        assert run(engine, c) == []
        assert set(source_of(engine, c)[0][0]) == {CARDIO, ENDO}

    def test_a_taxonomy_not_yet_in_force_does_not_count(self, ruleset):
        engine = engine_with(ruleset, self.ROSTER)
        c = claim(line("76536", dos=date(2023, 6, 1)), rendering=provider(""))
        assert run(engine, c) == ["PRIV004"]

    def test_a_refusal_names_the_primary_taxonomy(self, ruleset):
        engine = engine_with(ruleset, self.ROSTER)
        findings = engine.evaluate(claim(line("73030"), rendering=provider("")))
        assert [f.rule for f in findings] == ["PRIV004"]
        assert ENDO in findings[0].message  # the most recent row is the first one named


class TestNppes:
    """Issue 17: claims without PRV decided with the NPPES taxonomy; the roster wins."""

    def test_no_prv_decided_by_nppes(self, ruleset, build):
        db = build(nppes=[NppesProvider(RENDERING_NPI, "1", [ENDO, ORTHO], primary=1)])
        engine = engine_with(ruleset, "", db)
        c = claim(line("73030"), rendering=provider(""), billing=billed_by(MULTI_GROUP))
        assert run(engine, c) == []
        assert source_of(engine, c) == [((ORTHO, ENDO), "nppes")]

    def test_the_roster_wins_where_both_speak(self, ruleset, build):
        db = build(
            nppes=[NppesProvider(RENDERING_NPI, "1", [ORTHO])],
            roster=f"{RENDERING_NPI},{CARDIO},,2025-01-01,2025-12-31\n",
        )
        engine = engine_with(ruleset, "", db)
        c = claim(line("73030"), rendering=provider(""))
        assert run(engine, c) == ["PRIV004"]
        assert source_of(engine, c) == [((CARDIO,), "roster")]
        later = claim(line("73030", dos=date(2026, 1, 5)), rendering=provider(""))
        assert run(engine, later) == []  # the roster row expired: NPPES speaks
        assert source_of(engine, later) == [((ORTHO,), "nppes")]

    def test_engine_load_uses_the_directory_named(self, ruleset, build):
        db = build(nppes=[NppesProvider(RENDERING_NPI, "1", [ORTHO])])
        engine = Engine.load(RULESET, directory=db)
        c = claim(line("73030"), rendering=provider(""))
        assert run(engine, c) == []
        assert source_of(engine, c) == [((ORTHO,), "nppes")]


class TestDeactivatedNpi:
    def enabled(self, tmp_path: Path) -> Path:
        text = RULESET.read_text()
        head, _, tail = text.partition("[rules.PROV001]")
        body, sep, rest = tail.partition("\n[")
        body = body.replace("enabled = false", "enabled = true")
        path = tmp_path / "prov.toml"
        path.write_text(head + "[rules.PROV001]" + body + sep + rest)
        return path

    def engine(self, tmp_path: Path, db: Path) -> Engine:
        return Engine([load_ruleset(self.enabled(tmp_path))], ProviderDirectory([SqliteSource(db)]))

    def test_off_in_the_shipped_ruleset(self, ruleset, build):
        db = build(nppes=[NppesProvider(RENDERING_NPI, deactivated=date(2024, 1, 1))])
        engine = engine_with(ruleset, f"{RENDERING_NPI},{ORTHO},,,\n", db)
        assert run(engine, claim(line("73030"), rendering=provider(""))) == []

    def test_on_it_rejects_a_line_of_a_deactivated_npi(self, tmp_path, build):
        db = build(
            nppes=[
                NppesProvider(BILLING_NPI, "2", [ORTHO]),
                NppesProvider(RENDERING_NPI, deactivated=date(2025, 5, 1)),
            ],
            roster=f"{RENDERING_NPI},{ORTHO},,,\n",
        )
        engine = Engine(
            [load_ruleset(self.enabled(tmp_path))], ProviderDirectory([SqliteSource(db)])
        )
        findings = engine.evaluate(claim(line("73030"), line("99213"), rendering=provider("")))
        assert [(f.rule, f.line, f.category, f.status, f.entity) for f in findings] == [
            ("PROV001", 1, "A7", "562", "82"),
            ("PROV001", 2, "A7", "562", "82"),
        ]
        assert "2025-05-01" in findings[0].message
        before = claim(line("73030", dos=date(2025, 4, 30)), rendering=provider(""))
        assert engine.evaluate(before) == []

    def test_a_deactivated_billing_npi_is_a_claim_level_finding(self, tmp_path, build):
        db = build(nppes=[NppesProvider(BILLING_NPI, deactivated=date(2020, 1, 1))])
        engine = Engine(
            [load_ruleset(self.enabled(tmp_path))], ProviderDirectory([SqliteSource(db)])
        )
        findings = engine.evaluate(claim(line("99213"), billing=billed_by(ORTHO)))
        assert [(f.rule, f.line, f.entity) for f in findings] == [("PROV001", None, "85")]


def test_a_bare_roster_still_works_as_the_directory(ruleset):
    """Tools and older tests hand ClaimContext a Roster: it is wrapped."""
    roster = parse_roster(ROSTER_HEADER + f"{RENDERING_NPI},{ORTHO},,,\n")
    c = claim(line("73030"), rendering=provider(""))
    ctx = ClaimContext(c, ruleset, roster, frozenset({"11"}), DOS)
    assert ctx.taxonomy(c.lines[0]) == (ORTHO, "roster")


def test_the_state_directorys_file_is_used_when_none_is_named(tmp_path, monkeypatch, build):
    from edi_gate.directory import store
    from edi_gate.rules.engine import directory_path

    assert directory_path() is None  # nothing imported yet: the example roster, as before
    db = build(nppes=[NppesProvider(RENDERING_NPI, "1", [ORTHO])])
    default = store.default_path()
    default.parent.mkdir(parents=True)
    default.write_bytes(db.read_bytes())
    assert directory_path() == default
    engine = Engine.load(RULESET)
    c = claim(line("73030"), rendering=provider(""))
    assert run(engine, c) == [] and source_of(engine, c) == [((ORTHO,), "nppes")]
    monkeypatch.setenv("EDI_GATE_DIRECTORY", str(db))  # what --directory sets
    assert directory_path() == db
