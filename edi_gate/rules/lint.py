"""`edi-gate rules lint`: every problem in rulesets (and rosters), not just the first.

Loading stops at the first problem; lint reports them all so a policy analyst fixes a file in one
pass. Overlapping effective ranges are checked across all the rulesets given together.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from edi_gate.errors import ConfigError
from edi_gate.rules.roster import load_roster
from edi_gate.rules.ruleset import Ruleset, overlaps, validate


def _expand(paths: Iterable[Path | str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
            out.extend(sorted(p.glob("*.csv")))
        else:
            out.append(p)
    return out


def lint(paths: Iterable[Path | str]) -> list[str]:
    """Problems as 'file:line: message' strings; an empty list means clean.

    ``.toml`` files are rulesets, ``.csv`` files rosters; directories are expanded to both.
    """
    problems: list[str] = []
    loaded: list[Ruleset] = []
    files = _expand(paths)
    if not files:
        return ["no ruleset or roster files given"]
    for path in files:
        if path.suffix.lower() == ".csv":
            try:
                load_roster(path)
            except ConfigError as exc:
                problems.append(str(exc))
            continue
        if not path.exists():
            problems.append(f"{path}: file not found")
            continue
        rs, found = validate(path)
        problems.extend(str(p) for p in found)
        if rs is not None:
            loaded.append(rs)
    seen: dict[str, Path] = {}
    for rs in loaded:
        if rs.id in seen:
            problems.append(f"{rs.path}: ruleset id {rs.id!r} also used by {seen[rs.id]}")
        seen.setdefault(rs.id, rs.path)
    # only rulesets with a usable range take part in the overlap check
    problems.extend(
        str(p) for p in overlaps([r for r in loaded if r.effective_from or r.effective_to])
    )
    return problems
