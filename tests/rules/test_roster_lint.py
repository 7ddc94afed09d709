"""Roster validation and `rules lint`: bad input is a ConfigError naming file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from edi_gate.errors import ConfigError
from edi_gate.rules.lint import lint
from edi_gate.rules.roster import load_roster, npi_is_valid, parse_roster

from .conftest import RULESET

HEADER = "npi,taxonomy,credential,effective,expires\n"
MINIMAL = Path(__file__).resolve().parents[1] / "fixtures_rules" / "minimal.toml"


class TestNpi:
    @pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
    def test_valid(self, npi):
        assert npi_is_valid(npi)

    @pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "ABCDEFGHIJ", ""])
    def test_invalid(self, npi):
        assert not npi_is_valid(npi)


class TestRoster:
    def test_lookups(self):
        r = parse_roster(
            HEADER
            + "# comment\n"
            + "1234567893,207Q00000X,,2020-01-01,2024-12-31\n"
            + "1234567893,207RC0000X,IAC,2025-01-01,\n"
            + "1234567893,,ISCD,2025-03-01,2025-03-31\n"
        )
        assert r.taxonomy("1234567893", date(2024, 6, 1)) == "207Q00000X"
        assert r.taxonomy("1234567893", date(2025, 6, 1)) == "207RC0000X"
        assert r.taxonomy("1234567893", date(2019, 6, 1)) == ""
        assert r.has_credential("1234567893", "IAC", date(2025, 1, 1))
        assert not r.has_credential("1234567893", "IAC", date(2024, 12, 31))  # not retroactive
        assert r.has_credential("1234567893", "iscd", date(2025, 3, 31))
        assert not r.has_credential("1234567893", "ISCD", date(2025, 4, 1))  # expired by DOS
        assert r.credentials("1234567893", date(2025, 3, 15)) == frozenset({"IAC", "ISCD"})

    @pytest.mark.parametrize(
        "row,line,words",
        [
            ("1234567890,207Q00000X,,,", 2, "Luhn"),
            ("1234567893,207Q0000X,,,", 2, "taxonomy"),
            ("1234567893,207Q00000Y,,,", 2, "taxonomy"),
            ("1234567893,207Q00000X,,2025-13-01,", 2, "effective"),
            ("1234567893,207Q00000X,,2025/01/01,", 2, "effective"),
            ("1234567893,207Q00000X,,,31-12-2025", 2, "expires"),
            ("1234567893,207Q00000X,,2025-02-01,2025-01-01", 2, "before"),
            ("1234567893,,,,", 2, "neither"),
            ("1234567893,207Q00000X,,", 2, "columns"),
            ("1234567893,,A,,", 2, "credential 'A' is malformed"),
            ("1234567893,207q00000x,,2025-02-30,", 2, "effective '2025-02-30' is not a date"),
        ],
    )
    def test_bad_rows(self, tmp_path, row, line, words):
        path = tmp_path / "roster.csv"
        path.write_text(HEADER + row + "\n")
        with pytest.raises(ConfigError) as exc:
            load_roster(path)
        assert exc.value.path == str(path) and exc.value.line == line
        assert words in exc.value.message
        assert str(path) in str(exc.value) and f"line {line}" in str(exc.value)

    def test_bad_header(self, tmp_path):
        path = tmp_path / "roster.csv"
        path.write_text("npi,taxonomy\n")
        with pytest.raises(ConfigError) as exc:
            load_roster(path)
        assert exc.value.line == 1

    def test_line_numbers_count_comments(self, tmp_path):
        path = tmp_path / "roster.csv"
        path.write_text("# c\n" + HEADER + "1234567893,207Q00000X,,,\n\n1234567890,,IAC,,\n")
        with pytest.raises(ConfigError) as exc:
            load_roster(path)
        assert exc.value.line == 5

    def test_shipped_roster_loads(self):
        load_roster(RULESET.parents[1] / "conf" / "roster.csv")


class TestLint:
    def test_shipped_ruleset_is_clean(self):
        assert lint([RULESET.parent, RULESET.parents[1] / "conf" / "roster.csv"]) == []

    def _lint_variant(self, tmp_path, old: str, new: str) -> list[str]:
        text = MINIMAL.read_text()
        assert old in text
        path = tmp_path / "x.toml"
        path.write_text(text.replace(old, new))
        return lint([path])

    def test_unknown_key(self, tmp_path):
        (p,) = self._lint_variant(
            tmp_path,
            'summary = "Investigational codes"',
            'summary = "Investigational codes"\nsumary = "typo"',
        )
        assert "unknown key 'sumary'" in p and ":18:" in p

    def test_unknown_top_level_key(self, tmp_path):
        (p,) = self._lint_variant(tmp_path, "[families]", "[famlies.x]\n[families]")
        assert "famlies" in p

    @pytest.mark.parametrize(
        "bad", ['"0648T", "0648T"', '"648T"', '"70010-70000"', '"7001"', '"0648t"']
    )
    def test_malformed_or_duplicate_codes(self, tmp_path, bad):
        problems = self._lint_variant(tmp_path, '["0648T"]', f"[{bad}]")
        assert problems and all(":9:" in p for p in problems), problems

    def test_bad_dates(self, tmp_path):
        problems = self._lint_variant(
            tmp_path, "effective_to = 2022-12-31", 'effective_to = "2022-13-01"'
        )
        assert any("effective_to" in p and ":5:" in p for p in problems)
        problems = self._lint_variant(
            tmp_path, "effective_to = 2022-12-31", "effective_to = 2019-12-31"
        )
        assert any("before" in p for p in problems)

    def test_bad_status_and_rule(self, tmp_path):
        problems = self._lint_variant(tmp_path, "[rules.MOD001]", "[rules.MOD999]")
        assert any("MOD999 has no implementation" in p for p in problems)
        problems = self._lint_variant(tmp_path, 'status = "A7:453"', 'status = "Z7:453"')
        assert any("status" in p for p in problems)

    def test_malformed_taxonomy(self, tmp_path):
        text = RULESET.read_text().replace(
            'classifications = ["207L00000X"]', 'classifications = ["207L0000X"]'
        )
        path = tmp_path / "r.toml"
        path.write_text(text)
        (p,) = lint([path])
        lineno = text.splitlines().index('classifications = ["207L0000X"]') + 1
        assert "207L0000X" in p and f":{lineno}:" in p

    # issue 16 item 2: a well-formed code NUCC never issued is rejected, naming the code set
    def test_taxonomy_not_in_nucc_code_set(self, tmp_path):
        text = RULESET.read_text().replace(
            'specializations = ["2086S0129X"]', 'specializations = ["2086S0199X"]'
        )
        path = tmp_path / "r.toml"
        path.write_text(text)
        (p,) = lint([path])
        lineno = text.splitlines().index('specializations = ["2086S0199X"]') + 1
        assert "2086S0199X" in p and "NUCC" in p and f":{lineno}:" in p

    def test_specialization_listed_as_classification(self, tmp_path):
        text = RULESET.read_text().replace(
            'classifications = ["207X00000X"]', 'classifications = ["207XS0106X"]'
        )
        path = tmp_path / "r.toml"
        path.write_text(text)
        (p,) = lint([path])
        assert "207XS0106X" in p and "Orthopaedic Surgery / Hand Surgery" in p

    def test_overlapping_ranges(self, tmp_path):
        a = tmp_path / "a.toml"
        b = tmp_path / "b.toml"
        a.write_text(MINIMAL.read_text())
        b.write_text(
            MINIMAL.read_text()
            .replace("minimal-2020", "other")
            .replace("effective_from = 2020-01-01", "effective_from = 2022-06-01")
            .replace("effective_to = 2022-12-31\n", "")
        )
        problems = lint([a, b])
        assert len(problems) == 1 and "overlaps" in problems[0]

    def test_roster_problems_reported(self, tmp_path):
        r = tmp_path / "roster.csv"
        r.write_text(HEADER + "1234567890,207Q00000X,,,\n")
        (p,) = lint([r])
        assert "roster.csv: line 2" in p
