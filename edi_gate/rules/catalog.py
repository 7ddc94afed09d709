"""Printable views of the rules for the CLI: `rules list`, `rules show ID`, `rules lint`.

The click layer only prints what these return and maps the exit status.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from edi_gate.rules.base import Rule, SameDayEdit
from edi_gate.rules.engine import Engine, default_rulesets_dir
from edi_gate.rules.lint import lint
from edi_gate.rules.ruleset import Ruleset

# Where each rule's accept and reject cases live, relative to the repository root (the cases are
# tests, not package data: an installed edi-gate names the path in its source repository).
CASES_PATH = "tests/rules/cases"


class NoRulesetError(LookupError):
    """No ruleset is in force on the date asked for (`rules list --on` before the first one)."""


def _pick(engine: Engine, on: date | None) -> Ruleset:
    rs = engine.ruleset_for(on) if on else engine.current
    if rs is None:
        ranges = ", ".join(f"{r.id} {r.range_text()}" for r in engine.rulesets)
        raise NoRulesetError(f"no ruleset in force on {on} (loaded: {ranges})")
    return rs


def source_short(source: str) -> str:
    """The seed a rule comes from, short: '000 §Imaging Privileges ...' -> '000'."""
    seeds = []
    for part in source.split(";"):
        head = part.strip().split(" ", 1)[0]
        seeds.append(head.split("_", 1)[0] if head[:3].isdigit() else head)
    return ",".join(dict.fromkeys(s for s in seeds if s))


def rule_rows(engine: Engine, on: date | None = None) -> list[tuple[str, str, str, str, str]]:
    """(id, status pair, enabled, seed, summary) for each rule of the ruleset in force on ``on``."""
    rs = _pick(engine, on)
    return [
        (
            r.meta.id,
            f"{r.meta.category}:{r.meta.status}",
            "on" if r.enabled else "off",
            source_short(r.source),
            r.summary,
        )
        for r in rs.rules
    ]


def list_text(engine: Engine, on: date | None = None) -> str:
    """The `rules list` table: one rule a line, headed by the ruleset id and effective range.
    Columns: id, status (category:code), on/off, source (the seed files), summary."""
    rs = _pick(engine, on)
    lines = [
        f"ruleset {rs.id} ({rs.range_text()}) {rs.path}",
        f"{'ID':<8} {'STATUS':<7} {'ON':<3} {'SOURCE':<11} SUMMARY",
    ]
    for rid, status, enabled, source, summary in rule_rows(engine, on):
        lines.append(f"{rid:<8} {status:<7} {enabled:<3} {source:<11} {summary}")
    return "\n".join(lines)


def implementation(rule: Rule) -> str:
    """The class that runs a rule, as 'module.Class' (declared rules say so)."""
    cls = type(rule)
    where = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(rule, SameDayEdit):
        return f"{where} (declared in the ruleset: kind {rule.spec.kind})"
    return where


def find_rule(engine: Engine, rule_id: str, on: date | None = None) -> Rule:
    rs = _pick(engine, on)
    for r in rs.rules:
        if r.meta.id == rule_id.upper():
            return r
    raise KeyError(rule_id)


def show_text(engine: Engine, rule_id: str, on: date | None = None) -> str:
    """The `rules show ID` text: summary, source, status, reading and the tables it uses.
    Raises KeyError for an unknown id (the CLI reports it and exits 2)."""
    rule = find_rule(engine, rule_id, on)
    rs = rule.ruleset
    out = [
        f"{rule.meta.id}: {rule.summary}",
        f"  family:   {rule.family}",
        f"  class:    {implementation(rule)}",
        f"  cases:    {CASES_PATH}/{rule.meta.id}.toml",
        f"  source:   {rule.source}",
        f"  status:   {rule.meta.category}:{rule.meta.status} (entity 82 rendering, 85 billing)",
        f"  enabled:  {'yes' if rule.enabled else 'no'}",
        f"  ruleset:  {rs.id} ({rs.range_text()})",
    ]
    out.extend(_content(rule, rs))
    if rule.reading:
        out.append("  reading:")
        for para in rule.reading.split("\n\n"):
            out.extend(
                textwrap.wrap(
                    " ".join(para.split()), 92, initial_indent="    ", subsequent_indent="    "
                )
            )
    return "\n".join(out)


def _content(rule: Rule, rs: Ruleset) -> list[str]:
    """What the rule enforces, from the ruleset: its pair, its code groups or its tables."""
    rid = rule.meta.id
    out: list[str] = []
    if isinstance(rule, SameDayEdit):
        spec = rule.spec
        bypass = ", ".join(sorted(spec.bypass)) or "none (the code includes the service)"
        out += [
            f"  target:   {spec.targets.describe(8)}",
            f"  partner:  {spec.partners.describe(8)}",
            f"  bypass:   {bypass}",
        ]
        return out
    # privilege rules share their ``needs``; each shows what it enforces itself
    fams = list(rule.needs) if rule.family != "privilege" else []
    if rid == "PRIV006":
        for cert in rs.certifications.values():
            creds = " or ".join(cert.credentials)
            extra = []
            if cert.practice_credentials:
                extra.append(f"{'/'.join(cert.practice_credentials)} of the billing NPI counts")
            if cert.initial_only:
                extra.append(f"{'/'.join(cert.initial_only)} first period only")
            note = f"; {'; '.join(extra)}" if extra else ""
            out.append(f"  {cert.title}: {creds}{note}: {', '.join(cert.code_list)}")
        return out
    if rid == "PRIV007":
        return [
            "  codes:    " + ", ".join(t.title for t in rs.tables.values() if t.prior_authorization)
        ]
    if rid == "PRIV003":
        fams = ["mri", "ct", "pet"]
    if fams:
        out.append("  families: " + ", ".join(f"{n} [{rs.family(n).describe(4)}]" for n in fams))
    if rid in ("PRIV004", "PRIV005", "PRIV008"):
        tables = list(rs.tables.values())
        if rid == "PRIV005":
            tables = [t for t in tables if t.component == "technical"]
        out.append(
            "  tables:   "
            + ", ".join(
                f"{t.title} ({t.component}{', prior auth' if t.prior_authorization else ''})"
                for t in tables
            )
        )
    return out


def lint_text(paths: Iterable[Path | str] | None = None) -> tuple[str, int]:
    """(report, exit status): 0 when clean, 1 when problems were found."""
    targets = list(paths) if paths else [default_rulesets_dir()]
    problems = lint(targets)
    if not problems:
        return f"ok: {', '.join(str(p) for p in targets)}", 0
    return "\n".join(problems) + f"\n{len(problems)} problem(s)", 1
