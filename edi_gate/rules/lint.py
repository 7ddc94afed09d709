"""`edi-gate rules lint`: every problem in rulesets, rosters and partners files, not just the first.

Loading stops at the first problem; lint reports them all so a policy analyst fixes a file in one
pass. Each file is checked as what it is:

- ``.csv``: a provider roster. Every row is checked (the roster loader's own checks, row by row),
  and a credential no ruleset checks (``AIUMX`` for ``AIUM``) is a problem: it would silently
  grant nothing.
- ``.toml`` with ``[partners.*]`` tables or ``unknown_sender``: a trading-partners file, checked by
  the watcher's own loader (:func:`edi_gate.pipeline.partners.load_partners`); the rulesets and
  rosters it names are linted too.
- any other ``.toml``: a ruleset. Overlapping effective ranges and duplicate ids are checked
  across all the rulesets given together.

Known credentials are those the rulesets given check (certifications and mobile interpretation);
when no ruleset is given, those of the rulesets shipped with edi-gate.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from edi_gate.config_text import data_lines
from edi_gate.errors import ConfigError, read_config_text
from edi_gate.rules.loader import overlaps, validate
from edi_gate.rules.roster import RowProblem, check_header, parse_row
from edi_gate.rules.ruleset import Ruleset

RULESET, ROSTER, PARTNERS = "ruleset", "roster", "partners"
PARTNERS_KEYS = ("partners", "unknown_sender")


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


def file_kind(path: Path) -> str:
    """``ruleset``, ``roster`` or ``partners``, from the suffix and the TOML's top-level keys (a
    TOML file that does not parse is a partners file when its name says so, else a ruleset)."""
    if path.suffix.lower() == ".csv":
        return ROSTER
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return PARTNERS if "partner" in path.name.lower() else RULESET
    return PARTNERS if any(key in data for key in PARTNERS_KEYS) else RULESET


def known_credentials(rulesets: Iterable[Ruleset]) -> set[str]:
    """Every credential a ruleset checks: its certifications' and mobile interpretation's."""
    return set().union(*(rs.known_credentials() for rs in rulesets))


def lint_roster(path: Path, credentials: set[str] | None = None) -> list[str]:
    """Every problem of a roster file, one per row at most, as 'file: line N: message'.

    Each row goes through the roster loader's own row check (``parse_row``), so lint and the
    loader can never disagree on what a valid row is.
    """
    try:
        text = read_config_text(path, "roster", "utf-8-sig")
    except ConfigError as error:
        return [str(error)]
    lines = data_lines(text)
    first = next(lines, None)
    if first is None:
        return []
    problems: list[str] = []

    def problem(message: str, lineno: int) -> None:
        problems.append(str(ConfigError(message, path=str(path), line=lineno)))

    try:
        check_header(first[1])
    except RowProblem as error:
        problem(str(error), first[0])
        return problems
    for lineno, text_line in lines:
        try:
            row = parse_row(text_line, lineno)
        except RowProblem as error:
            problem(str(error), lineno)
            continue
        if credentials is not None and row.credential and row.credential not in credentials:
            known = ", ".join(sorted(credentials)) or "none"
            problem(
                f"credential {row.credential!r} is not one the rulesets check (known: {known})",
                lineno,
            )
    return problems


def lint_partners(path: Path) -> tuple[list[str], list[Path]]:
    """Problems of a partners file (the watcher's loader), and the ruleset and roster files it
    names, to be linted with the rest."""
    from edi_gate.pipeline.partners import load_partners

    try:
        book = load_partners(path)
    except ConfigError as error:
        return [str(error)], []
    named: list[Path] = []
    for partner in book.partners.values():
        named.extend(p for p in (partner.ruleset, partner.roster) if p is not None)
    return [], named


def lint(paths: Iterable[Path | str]) -> list[str]:
    """Problems as 'file:line: message' strings; an empty list means clean."""
    problems: list[str] = []
    loaded: list[Ruleset] = []
    rosters: list[Path] = []
    queue = _expand(paths)
    if not queue:
        return ["no ruleset, roster or partners files given"]
    seen_files: set[Path] = set()
    while queue:
        path = queue.pop(0)
        key = path.resolve()
        if key in seen_files:
            continue
        seen_files.add(key)
        if not path.exists():
            problems.append(f"{path}: file not found")
            continue
        if path.is_dir():  # a partner's ruleset may be a directory of dated rulesets
            queue.extend(_expand([path]))
            continue
        kind = file_kind(path)
        if kind == ROSTER:
            rosters.append(path)
        elif kind == PARTNERS:
            found, named = lint_partners(path)
            problems.extend(found)
            queue.extend(named)
        else:
            rs, found_problems = validate(path)
            problems.extend(str(p) for p in found_problems)
            if rs is not None:
                loaded.append(rs)
    credentials = known_credentials(loaded or _default_rulesets())
    for roster in rosters:
        problems.extend(lint_roster(roster, credentials))
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


def _default_rulesets() -> list[Ruleset]:
    from edi_gate.rules.engine import default_rulesets_dir, ruleset_files

    found = []
    for path in ruleset_files(default_rulesets_dir()):
        rs, _ = validate(path)
        if rs is not None:
            found.append(rs)
    return found
