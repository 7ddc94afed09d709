"""The line locator and value readers the ruleset, roster and partners loaders share."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from edi_gate.config_text import Locator, data_lines, parse_date, toml_error_line

TEXT = """\
top = 1
[deleted_codes.75998]
replacement = "76942"
[settings]
'office_pos' = ["11", "7681", '76812']
[partners."A.B"]   # a sender id with a dot
scope = "x"
[other]
office_pos = []
"""


@pytest.mark.parametrize(
    ("section", "key", "value", "line"),
    [
        (None, "top", None, 1),
        ("deleted_codes", "75998", None, 2),  # the key is part of the header
        ("deleted_codes", "75998", "76942", 3),
        ("settings", None, None, 4),
        ("settings", "office_pos", None, 5),  # quoted key
        ("settings", "office_pos", "76812", 5),
        ("other", "office_pos", None, 9),  # the key of that section, not the first one
        ("settings", "missing", None, 4),  # the header when the key is not written
        (("partners", "A.B"), "scope", None, 7),
        ("partners.A.B", "scope", None, None),  # split at every dot: no such header or key
        ("nowhere", None, None, None),
    ],
)
def test_locator_finds_the_line(section, key, value, line) -> None:
    assert Locator(TEXT).find(section, key, value) == line


def test_a_value_is_found_quoted_before_as_a_substring() -> None:
    text = '[s]\nk = [\n  "76812",\n  "7681",\n]\n'
    assert Locator(text).find("s", "k", "7681") == 4


def test_a_key_is_not_looked_for_past_its_section() -> None:
    assert Locator("[a]\nx = 1\n[b]\ny = 2\n").find("a", "y") == 1


def test_toml_error_line_at_end_of_document() -> None:
    text = "a = 1\nb = [\n"
    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    assert toml_error_line(caught.value, text) == 2


@pytest.mark.parametrize("bad", ["2025-02-30", "2025/01/01", "20250101", 20250101])
def test_parse_date_refuses_what_is_not_a_real_date(bad) -> None:
    with pytest.raises(ValueError):
        parse_date(bad)


def test_parse_date_reads_text_and_toml_dates() -> None:
    assert parse_date("2025-01-31") == date(2025, 1, 31) == parse_date(date(2025, 1, 31))
    assert parse_date("") is None and parse_date(None) is None


def test_data_lines_skip_comments_and_blanks_but_count_them() -> None:
    text = "# note\nnpi,taxonomy\n\n  # indented note\n1,2\n"
    assert list(data_lines(text)) == [(2, "npi,taxonomy"), (5, "1,2")]
