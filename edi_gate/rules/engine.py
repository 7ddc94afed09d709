"""The rule engine the pipeline calls: load rulesets and a roster once, evaluate claims fast.

Each claim is judged by the ruleset in force on its date of service (its earliest line date), so
replaying an old archive applies the rules of that time.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Final

from edi_gate.directory.lookup import ProviderDirectory, Resolution, Source
from edi_gate.errors import ConfigError
from edi_gate.memo import Memo
from edi_gate.resources import default_rulesets, example_conf
from edi_gate.rules.base import Rule
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.dispatch import RulePlan
from edi_gate.rules.findings import Decision, Finding
from edi_gate.rules.loader import load_ruleset, overlaps
from edi_gate.rules.roster import Roster, load_roster
from edi_gate.rules.ruleset import Ruleset
from edi_gate.vocabulary import Scope
from edi_gate.x12.model import Claim

ENV_RULESETS = "EDI_GATE_RULESETS"
ENV_DIRECTORY = "EDI_GATE_DIRECTORY"  # set by --directory, so replay's workers see it too
# Plain strings (the StrEnum's values) for the per-claim comparison in ``decide``.
SCOPES: Final = tuple(scope.value for scope in Scope)
CLAIM_SCOPE: Final[str] = Scope.CLAIM.value


def default_rulesets_dir() -> Path:
    """The rulesets shipped in the package, or the directory/file named by EDI_GATE_RULESETS."""
    env = os.environ.get(ENV_RULESETS)
    return Path(env) if env else default_rulesets()


def default_roster() -> Path:
    """The example roster shipped in the package (edi_gate/data/conf/roster.csv)."""
    return example_conf("roster.csv")


def directory_path(explicit: Path | None = None) -> Path | None:
    """The SQLite provider directory to use: ``explicit``, else EDI_GATE_DIRECTORY (what
    --directory sets), else the default file in the state directory when it exists."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(ENV_DIRECTORY)
    if env:
        return Path(env)
    from edi_gate.directory.store import default_path

    path = default_path()
    return path if path.is_file() else None


def ruleset_files(path: Path) -> list[Path]:
    """The TOML files a path names: itself, or every *.toml in a directory."""
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise ConfigError("no *.toml ruleset in directory", path=str(path))
        return files
    if not path.exists():
        raise ConfigError("ruleset not found", path=str(path))
    return [path]


class Engine:
    """Rulesets (by date) plus the provider directory; ``evaluate`` returns one claim's findings.

    ``roster``: the provider directory, or a roster alone (wrapped in one), or None.
    """

    def __init__(
        self,
        rulesets: list[Ruleset],
        roster: Roster | ProviderDirectory | None,
        office_pos: frozenset[str] | None = None,
        *,
        pinned: bool = False,
    ) -> None:
        if not rulesets:
            raise ConfigError("no ruleset loaded")
        problems = overlaps(rulesets)
        if problems:
            raise ConfigError(problems[0].message, path=problems[0].path)
        ids = [r.id for r in rulesets]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise ConfigError(f"ruleset id {dup!r} is defined twice")
        self.rulesets = sorted(rulesets, key=lambda r: r.effective_from or date.min)
        self.roster = roster if isinstance(roster, Roster) else None
        self.directory: ProviderDirectory | None = (
            ProviderDirectory([roster]) if isinstance(roster, Roster) else roster
        )
        self._last: ClaimContext | None = None  # the last claim evaluated, for its taxonomies
        self.office_pos_override = office_pos
        # one ruleset named explicitly (`--ruleset FILE`) applies to every claim, whatever its date
        self.pinned = pinned and len(self.rulesets) == 1
        # dates of service from the input: a bounded table (edi_gate.memo)
        self._by_date: Memo[date | None, Ruleset | None] = Memo(self._ruleset_on)
        # per ruleset (by identity): its enabled rules indexed by trigger code, built once
        self._plans: dict[int, RulePlan] = {id(r): RulePlan(r.rules) for r in self.rulesets}

    @classmethod
    def load(
        cls,
        ruleset: Path | None = None,
        roster: Path | None = None,
        *,
        office_pos: frozenset[str] | None = None,
        directory: Path | None = None,
    ) -> Engine:
        """Load rulesets and the provider directory.

        The directory asks, in order: the roster CSV (``roster``), then the SQLite directory
        (``directory``, else EDI_GATE_DIRECTORY, which --directory sets, else the state
        directory's file when it exists: its roster, then NPPES). With neither a roster nor a
        directory, the example roster shipped in the package is used.

        ``ruleset`` None: every *.toml of rulesets/ (or EDI_GATE_RULESETS), chosen per claim by
        date of service. A file: that ruleset only, applied to every claim (pinned). A directory:
        its rulesets, chosen by date. Raises ConfigError naming file, line and reason.
        """
        source = Path(ruleset) if ruleset is not None else default_rulesets_dir()
        sets = [load_ruleset(p) for p in ruleset_files(source)]
        sources: list[Source] = []
        if roster is not None:
            sources.append(load_roster(Path(roster)))
        db = directory_path(directory)
        if db is not None:
            from edi_gate.directory.store import SqliteSource

            store = SqliteSource(db)
            store.check()
            sources.append(store)
        elif roster is None and default_roster().exists():
            sources.append(load_roster(default_roster()))
        pinned = ruleset is not None and source.is_file()
        office = frozenset(office_pos) if office_pos is not None else None
        if len(sources) == 1 and isinstance(sources[0], Roster):
            return cls(sets, sources[0], office, pinned=pinned)
        return cls(sets, ProviderDirectory(sources) if sources else None, office, pinned=pinned)

    # -- selection ----------------------------------------------------------------------------
    def ruleset_for(self, on: date | None) -> Ruleset | None:
        """The ruleset in force on ``on``; with no date, the one in force today (else the latest).
        None when no ruleset covers the date: the plan had no such edits then. A pinned engine
        returns its one ruleset for every date."""
        if self.pinned:
            return self.rulesets[0]
        return self._by_date.get(on)

    def _ruleset_on(self, on: date | None) -> Ruleset | None:
        if on is None:
            return self.ruleset_for(date.today()) or self.rulesets[-1]
        return next((r for r in self.rulesets if r.covers(on)), None)

    def ruleset_labels(self) -> list[str]:
        """'imaging-2024.05 (2023-01-01 .. open)' per loaded ruleset, by date: what a run's
        summary names as the rulesets its claims were judged by."""
        return [f"{r.id} ({r.range_text()})" for r in self.rulesets]

    @property
    def current(self) -> Ruleset:
        return self.ruleset_for(None) or self.rulesets[-1]

    @property
    def rules(self) -> list[Rule]:
        """The rules of the ruleset in force today (what `rules list/show` documents)."""
        return list(self.current.rules)

    def ruleset_id(self, claim: Claim) -> str | None:
        """The id of the ruleset that judges ``claim`` (its first date of service), or None
        when no ruleset is in force then: the claim is not evaluated."""
        rs = self.ruleset_for(claim.service_dates[0])
        return rs.id if rs is not None else None

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, claim: Claim) -> list[Finding]:
        """All findings for one claim, ordered by line (claim-level first) then rule id.

        Only the rules the claim's codes can trigger are called (see ``RulePlan``); each rule runs
        at most once, so the order of the sorted findings does not depend on which ran.
        """
        plan = self._plan(claim)
        if plan is None:
            return []
        rs, office, rules = plan
        ctx = ClaimContext(claim, rs, self.directory, office, claim.service_dates[0])
        self._last = ctx
        findings: list[Finding] = []
        for rule in rules:
            findings.extend(rule.check(ctx))
        if len(findings) > 1:
            findings.sort(key=_finding_order)
        return findings

    def line_taxonomies(self, claim: Claim) -> list[Resolution]:
        """Each line's taxonomies and their source (the decisions' ``taxonomy_source``), as the
        rules saw them: the last evaluated claim's resolutions are reused."""
        ctx = self._last
        if ctx is None or ctx.claim is not claim:
            rs = self.ruleset_for(claim.service_dates[0]) or self.current
            ctx = ClaimContext(claim, rs, self.directory, rs.office_pos, claim.service_dates[0])
        self._last = None
        return [ctx.taxonomies(line) for line in claim.lines]

    def planned_rules(self, claim: Claim) -> list[str]:
        """Ids of the rules ``evaluate`` calls for this claim: those its codes can trigger."""
        plan = self._plan(claim)
        return [] if plan is None else [rule.meta.id for rule in plan[2]]

    def _plan(self, claim: Claim) -> tuple[Ruleset, frozenset[str], tuple[Rule, ...]] | None:
        """The ruleset in force on the claim's first date of service, the office places of
        service, and the rules the claim's codes can trigger; None when no rule applies."""
        rs = self.ruleset_for(claim.service_dates[0])
        if rs is None:
            return None
        office = self.office_pos_override if self.office_pos_override is not None else rs.office_pos
        rules = self._plans[id(rs)].rules_for(claim.lines, office)
        return (rs, office, rules) if rules else None


def _finding_order(f: Finding) -> tuple[int, str]:
    return (f.line if f.line is not None else -1, f.rule)


def decide(claim: Claim, findings: list[Finding], scope: str) -> Decision:
    """Turn findings into a decision.

    scope "claim": rejected iff any finding. scope "line": lines with line-level findings are
    removed (``rejected_lines``, LX01 numbers); the claim is rejected only for a claim-level
    finding or when no line is left (``rejected_lines`` still lists the failing lines then).
    In claim scope ``rejected_lines`` is always empty: the whole claim goes or stays.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    if scope == CLAIM_SCOPE:
        return Decision(accepted=not findings, findings=list(findings))
    bad = frozenset(f.line for f in findings if f.line is not None)
    claim_level = any(f.line is None for f in findings)
    remaining = [ln for ln in claim.lines if ln.number not in bad]
    accepted = not claim_level and (not findings or bool(remaining))
    return Decision(accepted=accepted, findings=list(findings), rejected_lines=bad)
