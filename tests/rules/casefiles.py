"""Rule case files: each rule's accept and reject claims as data (tests/rules/cases/<ID>.toml).

A case file names its rule and the seed sentence it implements, then lists cases::

    rule = "GUID003"
    seed = "002 Other considerations E: \"It is not expected that a non-physician ...\""

    [[case]]
    name = "nurse practitioner bills 76942"
    expect = "reject"            # the rule fires on the claim; "accept": it does not
    lines = ["10005", "76942"]   # CODE[-MOD...][xUNITS][@POS][#YYYY-MM-DD]
    taxonomy = "363LF0000X"      # PRV of the 2310B rendering provider
    message = ["interpreting physician"]   # text the rule's message must hold
    cites = "issue 16 item 7"    # optional: the finding or reading the case proves

Claim vocabulary (all optional): ``taxonomy`` (2310B PRV; without it the billing provider
renders), ``billing_taxonomy`` (2000A PRV*BI), ``line_renderer`` (a table: ``taxonomy``, ``npi``
= rendering | billing | other, the 2420A provider of every line), ``roster`` (rows
"who,taxonomy,credential,effective,expires" with who = rendering | billing | other),
``prior_auth`` (REF*G1 on the claim), ``pos`` (CLM05 and the default SV105). Expectations:
``expect``, ``line`` (the LX the finding is on), ``message``, ``findings`` (every rule id found,
in order, when the case must show that nothing else fires).
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from edi_gate.directory.lookup import Listing, Period, ProviderDirectory
from edi_gate.rules.engine import Engine
from edi_gate.rules.findings import Finding
from edi_gate.rules.loader import load_ruleset
from edi_gate.rules.roster import parse_roster
from edi_gate.rules.ruleset import Ruleset
from tests.claims import BILLING_NPI, DOS, RENDERING_NPI, claim, line, npi, provider

CASES_DIR = Path(__file__).resolve().parent / "cases"
OTHER_NPI = npi(300000003)
WHO = {"rendering": RENDERING_NPI, "billing": BILLING_NPI, "other": OTHER_NPI}
LINE_RE = re.compile(
    r"^(?P<code>[0-9A-Z]{5})(?P<mods>(?:-[0-9A-Z]{2})*)(?:x(?P<units>\d+))?"
    r"(?:@(?P<pos>\d{2}))?(?:#(?P<dos>\d{4}-\d{2}-\d{2}))?$"
)
CASE_KEYS = {
    "name",
    "expect",
    "lines",
    "taxonomy",
    "billing_taxonomy",
    "line_renderer",
    "roster",
    "prior_auth",
    "pos",
    "line",
    "message",
    "findings",
    "cites",
    "deactivated",  # ["who,YYYY-MM-DD"]: the directory lists the NPI deactivated from that date
    "enable",  # true: the rule is switched on (rules off in the shipped ruleset, e.g. PROV001)
}


class _Deactivations:
    """A directory source that lists deactivated NPIs only (the case's ``deactivated``)."""

    def __init__(self, rows: list[str]) -> None:
        self.by_npi: dict[str, Listing] = {}
        for row in rows:
            who, when = row.split(",", 1)
            period = Period("", date.fromisoformat(when), None)
            self.by_npi[WHO[who]] = Listing("nppes", WHO[who], inactive=[period])

    def listings(self, npi: str) -> list[Listing]:
        found = self.by_npi.get(npi)
        return [found] if found is not None else []

    def changed(self) -> bool:
        return False


def _enabled(ruleset: Ruleset, rule: str) -> Ruleset:
    """The shipped ruleset with ``rule`` switched on (read again from its file)."""
    text = Path(ruleset.path).read_text()
    head, _, tail = text.partition(f"[rules.{rule}]")
    body, sep, rest = tail.partition("\n[")
    body = body.replace("enabled = false", "enabled = true")
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as handle:
        handle.write(head + f"[rules.{rule}]" + body + sep + rest)
    try:
        return load_ruleset(Path(handle.name))
    finally:
        Path(handle.name).unlink()


@dataclass(frozen=True)
class Case:
    rule: str
    index: int
    body: dict[str, Any]
    path: Path

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", str(self.body.get("name", "")).lower()).strip("-")
        return f"{self.rule}-{self.index}-{self.body['expect']}-{slug}"[:90]


@dataclass
class CaseFile:
    rule: str
    seed: str
    cases: list[Case] = field(default_factory=list)


def load_case_file(path: Path) -> CaseFile:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rule = data.get("rule", "")
    cases = [Case(rule, i, body, path) for i, body in enumerate(data.get("case", []), 1)]
    return CaseFile(rule, str(data.get("seed", "")), cases)


def case_files() -> dict[str, CaseFile]:
    return {p.stem: load_case_file(p) for p in sorted(CASES_DIR.glob("*.toml"))}


def parse_line(spec: str, pos: str):
    m = LINE_RE.match(spec)
    if m is None:
        raise ValueError(f"line spec {spec!r} is not CODE[-MOD...][xUNITS][@POS][#DATE]")
    mods = tuple(x for x in m.group("mods").split("-") if x)
    when = date.fromisoformat(m.group("dos")) if m.group("dos") else DOS
    return line(
        m.group("code"),
        *mods,
        units=int(m.group("units") or 1),
        pos=m.group("pos") or pos,
        dos=when,
    )


def build(case: Case, ruleset: Ruleset):
    """(engine, claim) for a case: the shipped ruleset, the case's roster and claim."""
    body = case.body
    unknown = set(body) - CASE_KEYS
    if unknown:
        raise ValueError(f"{case.path.name} case {case.index}: unknown keys {sorted(unknown)}")
    rows = []
    for row in body.get("roster", []):
        who, rest = row.split(",", 1)
        rows.append(f"{WHO[who]},{rest}")
    roster = parse_roster("npi,taxonomy,credential,effective,expires\n" + "\n".join(rows) + "\n")
    if body.get("enable"):
        ruleset = _enabled(ruleset, case.rule)
    sources: list[Any] = [roster, _Deactivations(body.get("deactivated", []))]
    engine = Engine([ruleset], ProviderDirectory(sources))
    pos = str(body.get("pos", "11"))
    lines = [parse_line(s, pos) for s in body["lines"]]
    renderer = body.get("line_renderer")
    if renderer is not None:
        prov_npi = WHO[renderer.get("npi", "rendering")]
        for ln in lines:
            ln.rendering = provider(renderer.get("taxonomy", ""), loop="2420A", npi_=prov_npi)
    billing = provider(body.get("billing_taxonomy", ""), loop="2000A", npi_=BILLING_NPI)
    c = claim(
        *lines,
        taxonomy=body.get("taxonomy", ""),
        billing=billing,
        prior_auth=body.get("prior_auth", ""),
        pos=pos,
    )
    return engine, c


def check(case: Case, ruleset: Ruleset) -> list[Finding]:
    """Evaluate the case and assert its expectations; returns the findings."""
    engine, c = build(case, ruleset)
    found = engine.evaluate(c)
    mine = [f for f in found if f.rule == case.rule]
    body = case.body
    summary = [(f.rule, f.line, f.message) for f in found]
    if body["expect"] == "reject":
        assert mine, f"{case.rule} did not fire: {summary}"
        if "line" in body:
            assert [f.line for f in mine] == [body["line"]], summary
        for text in body.get("message", []):
            assert any(text in f.message for f in mine), (text, summary)
    elif body["expect"] == "accept":
        assert not mine, f"{case.rule} fired: {summary}"
    else:
        raise ValueError(f"expect must be accept or reject, not {body['expect']!r}")
    if "findings" in body:
        assert [f.rule for f in found] == body["findings"], summary
    return found
