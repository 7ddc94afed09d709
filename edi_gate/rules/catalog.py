"""Printable views of the rules for the CLI: `rules list`, `rules show ID`, `rules lint`.

The click layer only prints what these return and maps the exit status.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from edi_gate.rules.base import Rule
from edi_gate.rules.engine import Engine, default_rulesets_dir
from edi_gate.rules.lint import lint
from edi_gate.rules.ruleset import Ruleset


def _pick(engine: Engine, on: date | None) -> Ruleset:
    rs = engine.ruleset_for(on) if on else engine.current
    if rs is None:
        raise LookupError(f"no ruleset in force on {on}")
    return rs


def rule_rows(engine: Engine, on: date | None = None) -> list[tuple[str, str, str, str]]:
    """(id, status triple, enabled, summary) for each rule of the ruleset in force on ``on``."""
    rs = _pick(engine, on)
    return [
        (r.meta.id, f"{r.meta.category}:{r.meta.status}", "on" if r.enabled else "off", r.summary)
        for r in rs.rules
    ]


def list_text(engine: Engine, on: date | None = None) -> str:
    """The `rules list` table: one rule a line, headed by the ruleset id and effective range."""
    rs = _pick(engine, on)
    lines = [f"ruleset {rs.id} ({rs.range_text()}) {rs.path}"]
    for rid, status, enabled, summary in rule_rows(engine, on):
        lines.append(f"{rid:<8} {status:<7} {enabled:<3} {summary}")
    return "\n".join(lines)


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
        f"  source:   {rule.source}",
        f"  status:   {rule.meta.category}:{rule.meta.status} (entity 82 rendering, 85 billing)",
        f"  enabled:  {'yes' if rule.enabled else 'no'}",
        f"  ruleset:  {rs.id} ({rs.range_text()})",
    ]
    if rule.needs:
        fams = ", ".join(f"{n} [{rs.family(n).describe(4)}]" for n in rule.needs)
        out.append(f"  families: {fams}")
    if rule.family == "privilege":
        out.append(
            "  tables:   "
            + ", ".join(
                f"{t.title} ({t.component}{', prior auth' if t.prior_authorization else ''})"
                for t in rs.tables.values()
            )
        )
    if rule.reading:
        out.append("  reading:")
        for para in rule.reading.split("\n\n"):
            out.extend(
                textwrap.wrap(
                    " ".join(para.split()), 92, initial_indent="    ", subsequent_indent="    "
                )
            )
    return "\n".join(out)


def lint_text(paths: Iterable[Path | str] | None = None) -> tuple[str, int]:
    """(report, exit status): 0 when clean, 1 when problems were found."""
    targets = list(paths) if paths else [default_rulesets_dir()]
    problems = lint(targets)
    if not problems:
        return f"ok: {', '.join(str(p) for p in targets)}", 0
    return "\n".join(problems) + f"\n{len(problems)} problem(s)", 1
