"""Every ruleset validator rejects what it exists to reject, at the line of the mistake.

Each case edits the minimal ruleset (``tests/fixtures_rules/minimal.toml``) so that one check
fails first (a few mistakes also empty a list another check then finds empty); the line marked
``# <-`` is where the problem must be reported. A check that stopped
firing, or fired at the wrong line, sends a policy analyst hunting (or lets a typo through).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edi_gate.errors import ConfigError
from edi_gate.rules.loader import load_ruleset, validate
from edi_gate.rules.ruleset import Ruleset

MINIMAL = Path(__file__).resolve().parents[1] / "fixtures_rules" / "minimal.toml"
HERE = "# <-"

# (old text of the minimal ruleset, its replacement, a fragment of the one problem expected)
EDITS = [
    ("sources = [", 'colour = "red"  # <-\nsources = [', "unknown key 'colour' in [ruleset]"),
    ('id = "minimal-2020"', 'id = "-bad id"  # <-', "[ruleset] id is missing or malformed"),
    (
        "effective_to = 2022-12-31",
        'effective_to = "2022-02-30"  # <-',
        "[ruleset] effective_to '2022-02-30' is not a date YYYY-MM-DD",
    ),
    ("effective_from = 2020-01-01\n", "", "[ruleset] effective_from is required"),
    (
        "effective_to = 2022-12-31",
        "effective_to = 2019-01-01  # <-",
        "[ruleset] effective_to is before effective_from",
    ),
    (
        'sources = ["001_42696443cc5082ed.txt"]',
        "sources = []  # <-",
        "[ruleset] sources must name at least one seed",
    ),
    (
        'sources = ["001_42696443cc5082ed.txt"]',
        "sources = [1]  # <-",
        "[ruleset] sources must be a list of strings",
    ),
    (
        'investigational = ["0648T"]',
        'investigational = ["0648T"]\nBad = ["70010"]  # <-',
        "family name 'Bad' must be lower_snake_case",
    ),
    (
        'investigational = ["0648T"]',
        'investigational = "0648T"  # <-',
        "family 'investigational' must be a list of codes",
    ),
    (
        'investigational = ["0648T"]',
        'investigational = ["@nothing"]  # <-',
        "unknown code family reference '@nothing'",
    ),
    ('status = "A7:453"', 'status = "A7-453"  # <-', "status must be CATEGORY:CODE like A7:145"),
    ('status = "A7:453"', 'status = "A1:453"  # <-', "category A1 is not a rejection category"),
    ('status = "A7:453"', 'status = "A7:999"  # <-', "newer than pyx12's X214 list (max 771)"),
    ('status = "A7:453"', 'status = "A7:453"\nenabled = "no"  # <-', "enabled must be true or"),
    ('summary = "TC and 26 on one line"\n', "", "[rules.MOD001] summary is required"),
    ("[rules.MOD001]", "[rules.mod001]  # <-", "rule id 'mod001' is malformed (like PRIV001)"),
    ("[rules.MOD001]", "[rules.MOD999]  # <-", "rule MOD999 has no implementation"),
    (
        'status = "A7:453"',
        'status = "A7:453"\nkind = "same_day_with"  # <-',
        "rule MOD001 is declared with a kind but also has a Python class",
    ),
    ('investigational = ["0648T"]', "", "rule CODE003 needs code family 'investigational'"),
]

# a section appended to the minimal ruleset, and a fragment of the one problem expected
APPENDED = [
    ("[colours]  # <-\nred = 1", "unknown top-level key 'colours'"),
    ('[settings]\noffice_pos = ["1"]  # <-', "[settings] office_pos: malformed place of service"),
    ("[settings]\nradiologist_prefixes = ['ZZZZ']  # <-", "no NUCC taxonomy starts with 'ZZZZ'"),
    ("[settings]\nnpp_prefixes = ['3-6']  # <-", "malformed taxonomy prefix '3-6'"),
    ("[settings]\nimaging_ranges = '70010'  # <-", "imaging_ranges must be a list of codes"),
    (
        "[settings]\nimaging_provider_taxonomies = ['207RC0000X', '207RC0000X']  # <-",
        "duplicate taxonomy '207RC0000X'",
    ),
    (
        "[settings]\nimaging_provider_taxonomies = ['207RC000X']  # <-",
        "malformed taxonomy '207RC000X' (10 characters ending in X)",
    ),
    (
        "[settings]\nimaging_provider_taxonomies = ['207RZ9999X']  # <-",
        "'207RZ9999X' is not in the NUCC code set",
    ),
    (
        "[settings]\nultrasound_guidance_excluded_specialties = ['podiatry']  # <-",
        "ultrasound_guidance_excluded_specialties: unknown specialty 'podiatry'",
    ),
    ("[specialties.Cardio]  # <-\nspecializations = ['207RC0000X']", "must be lower_snake_case"),
    ("[specialties.cardio]  # <-\nlabel = 'x'", "needs classifications or specializations"),
    (
        "[specialties.cardio]\nclassifications = ['207RC0000X']  # <-",
        "'207RC0000X' is the specialization",
    ),
    ("[privilege_tables.t]\nspecialties = ['nobody']  # <-", "unknown specialty 'nobody'"),
    ("[privilege_tables.t]\ncomponent = 'half'  # <-", "component must be one of technical"),
    ("[privilege_tables.t]\ncodes = ['70010-70020']  # <-", "codes must be single codes"),
    (
        "[privilege_tables.t]\nprior_authorization = 'yes'  # <-",
        "[privilege_tables.t] prior_authorization must be true or false",
    ),
    ("[certifications.c]  # <-\ncodes = ['77078']", "[certifications.c] needs at least one"),
    (
        "[certifications.c]\ncredentials = ['ISCD']\ninitial_only = ['AIUM']  # <-",
        "initial_only: 'AIUM' is not one of its credentials",
    ),
    ("[mobile]\nob_table = 'ob'  # <-", "[mobile] ob_table 'ob' is not a privilege table"),
    ("[mobile]\ninterpretation_credentials = 'AIUM'  # <-", "must be a list of strings"),
    ("[deleted_codes.7001]  # <-\nreplacement = '70010'", "malformed procedure code '7001'"),
    ("[deleted_codes.75998]\nreplacement = '7001'  # <-", "malformed replacement '7001'"),
    (
        "[deleted_codes.75998]  # <-\ndeleted_on = '2020-1-1'",
        "deleted_on '2020-1-1' is not a date YYYY-MM-DD",
    ),
    ("[nonspecific_codes.76499]\nrather = 'x'  # <-", "unknown key 'rather' in nonspecific"),
    ("[add_ons.93320]  # <-\nprimaries = []", "add-on 93320 lists no primaries"),
    (
        "[add_ons.93320]  # <-\nprimaries = ['93306']\nremedies = {93307 = 1}",
        'add-on 93320 remedies must be a table code = "text"',
    ),
    ("[pctc]\nX = ['70010']  # <-", "[pctc] key 'X' must be a PC/TC indicator 0-9"),
    ("[pctc]\n1 = ['7001']  # <-", "[pctc] 1: malformed procedure code '7001'"),
    ("[pctc]\n1 = ['70010']\n2 = ['70010']  # <-", "listed under indicators 1 and 2"),
    ("[equivalents]\nx = 1  # <-", "[equivalents.x] must be a table code = code"),
    ("[equivalents.x]\n7001 = '70010'  # <-", "malformed pair '7001' = '70010'"),
    ("[rules]  # <-\n", "ruleset documents no rules"),
]

SAME_DAY = """[rules.SAME001]
summary = "x"
source = "002"
status = "A7:453"
kind = "same_day_with"
target = ["76942"]
partner = ["20610"]
message = "{ct}: not with {partner}"
"""

# a same-day edit whose one key is replaced, and the problem expected
SAME_DAY_EDITS = [
    ('kind = "same_day_with"', 'kind = "sometimes"  # <-', "kind must be one of same_day_with"),
    ('partner = ["20610"]', "partner = []", "needs a target and a partner code list"),
    ('partner = ["20610"]', 'partner = ["20610"]\nbypass = ["5"]  # <-', "malformed modifier '5'"),
    ('message = "{ct}: not with {partner}"\n', "", "[rules.SAME001] message is required"),
    ('message = "{ct}: not with {partner}"', 'message = "{who}"  # <-', "message may only use"),
    (
        'message = "{ct}: not with {partner}"',
        'message = "x"\ninstead = ["20611"]  # <-',
        'instead must be a table code = "text"',
    ),
]


def problems_of(text: str) -> list[tuple[int | None, str]]:
    ruleset, problems = validate(Path("x.toml"), text)
    assert ruleset is not None  # a checkable file still gives its (partial) model to lint
    return [(p.line, p.message) for p in problems]


def expect_one(text: str, fragment: str) -> None:
    lines = text.splitlines()
    marked = [i for i, line in enumerate(lines, 1) if HERE in line]
    found = problems_of(text)
    assert found and fragment in found[0][1], found
    if marked:
        assert found[0][0] == marked[0], (found, marked)


@pytest.mark.parametrize(("old", "new", "fragment"), EDITS)
def test_an_edit_is_rejected_at_its_line(old: str, new: str, fragment: str) -> None:
    text = MINIMAL.read_text()
    assert old in text
    expect_one(text.replace(old, new, 1), fragment)


@pytest.mark.parametrize(("section", "fragment"), APPENDED)
def test_a_bad_section_is_rejected_at_its_line(section: str, fragment: str) -> None:
    text = MINIMAL.read_text()
    if section.startswith("[rules]"):
        text = text[: text.index("[rules.MOD001]")]
    expect_one(f"{text}\n{section}\n", fragment)


@pytest.mark.parametrize(("old", "new", "fragment"), SAME_DAY_EDITS)
def test_a_bad_same_day_edit_is_rejected_at_its_line(old: str, new: str, fragment: str) -> None:
    assert old in SAME_DAY
    expect_one(f"{MINIMAL.read_text()}\n{SAME_DAY.replace(old, new)}", fragment)


def test_the_minimal_ruleset_and_a_same_day_edit_are_clean() -> None:
    assert problems_of(f"{MINIMAL.read_text()}\n{SAME_DAY}") == []


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[ruleset]\nid = "x"\nsources = [\n')
    ruleset, problems = validate(path)
    assert ruleset is None and len(problems) == 1
    assert problems[0].message.startswith("invalid TOML") and problems[0].line == 3


def test_load_raises_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(MINIMAL.read_text().replace('status = "A7:453"', 'status = "x"\nenabled = 1'))
    with pytest.raises(ConfigError) as caught:
        load_ruleset(path)
    assert caught.value.path == str(path) and caught.value.line == 14
    assert caught.value.message == (
        "[rules.MOD001] status must be CATEGORY:CODE like A7:145 "
        "(and 1 more problems; run `edi-gate rules lint`)"
    )


def test_a_loaded_ruleset_cannot_be_changed() -> None:
    """The model's attributes are Final: mypy (and the compiled build) refuse an assignment."""
    source = Path(Ruleset.__module__.replace(".", "/") + ".py")
    text = (Path(__file__).resolve().parents[2] / source).read_text()
    init = text[text.index("    def __init__(") : text.index("    # -- dates")]
    assigned = [ln.strip() for ln in init.splitlines() if ln.strip().startswith("self.")]
    assert assigned and all(": Final" in ln.split("=")[0] for ln in assigned), assigned
