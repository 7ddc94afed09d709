"""What every rule is: an id, its documentation from the ruleset, and a check over one claim.

The logic lives in Python (one module per rule family); the documentation, status triple and
on/off switch live in the ruleset beside the tables, so a policy analyst reads one file.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.findings import Finding
from edi_gate.vocabulary import STC12_MAX_LENGTH

if TYPE_CHECKING:
    from edi_gate.rules.context import ClaimContext
    from edi_gate.rules.ruleset import Ruleset
    from edi_gate.x12.model import ServiceLine

MAX_MESSAGE: Final = STC12_MAX_LENGTH  # STC12 (AN 1/264)
FAMILY_MODULES: Final = (
    "privilege",
    "guidance",
    "bundling",
    "addons",
    "modifiers",
    "codes",
    "provider",
)


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """A rule's documentation and settings as written in the ruleset."""

    id: str
    summary: str
    source: str
    reading: str
    category: str
    status: str
    enabled: bool = True


class Rule:
    """Base class: subclasses set ``id``/``family``/``needs`` and implement ``check``.

    A rule also says which claims can make it fire (``trigger`` and ``office_only``), so the
    engine calls it only for those: the cost of a claim then depends on its own codes, not on
    how many rules or table rows the ruleset has.
    """

    id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()  # code families the rule reads from the ruleset
    # True when only lines in an office place of service can make the rule fire
    office_only: ClassVar[bool] = False

    def __init__(self, meta: RuleMeta, ruleset: Ruleset) -> None:
        self.meta = meta
        self.ruleset = ruleset

    def prepare(self) -> None:
        """Resolve what ``check`` reads from the ruleset (code families, key sets) once.

        Called when the whole ruleset file has been read (derived sets included), so ``check``
        does attribute reads instead of a ``family()`` lookup per claim.
        """

    def trigger(self) -> CodeSet | None:
        """Procedure codes whose presence on a claim can make this rule fire; None: any claim.

        The engine skips the rule for a claim billing none of them (none on an office line when
        ``office_only``), so the set must hold every code ``check`` can report on: a code missing
        here silently disables the rule for it. None, the default, runs the rule on every claim.
        """
        return None

    @property
    def summary(self) -> str:
        return self.meta.summary

    @property
    def source(self) -> str:
        return self.meta.source

    @property
    def reading(self) -> str:
        return self.meta.reading

    @property
    def enabled(self) -> bool:
        return self.meta.enabled

    def check(self, ctx: ClaimContext) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(self, ctx: ClaimContext, line: ServiceLine | None, message: str) -> Finding:
        """A finding with this rule's status pair and the entity the line's provider stands for."""
        entity = ctx.entity(line) if line is not None else "85"
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        return Finding(
            rule=self.meta.id,
            line=line.number if line is not None else None,
            message=message,
            category=self.meta.category,
            status=self.meta.status,
            entity=entity,
        )

    def __repr__(self) -> str:
        return f"<Rule {self.meta.id}>"


def registry() -> dict[str, type[Rule]]:
    """Every rule implementation by id: each concrete subclass of Rule (one with an ``id``) that
    the family modules define. A class is known by being defined; no decorator to forget (and
    none that would keep the compiled build from making rules native classes, see setup.py)."""
    for name in FAMILY_MODULES:
        importlib.import_module(f"edi_gate.rules.{name}")
    found: dict[str, type[Rule]] = {}
    pending: list[type[Rule]] = [Rule]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.id:
            continue  # a base class (a family's shared base, SameDayEdit)
        if cls.id in found and found[cls.id] is not cls:
            raise RuntimeError(f"rule id {cls.id} defined twice")
        found[cls.id] = cls
    return dict(sorted(found.items()))


def code_text(line: ServiceLine) -> str:
    """'71046-TC' style: the code with its modifiers, as a biller sees it on the claim."""
    return "-".join((line.procedure, *[m for m in line.modifiers if m]))


# The distinct-procedural-service modifiers of NCCI: on the column-two code of a same-day pair
# they say "a different site, session or structure", which bypasses the edit unless the policy
# says the code includes the service (then the rule declares ``bypass = []``).
NCCI_DISTINCT_SERVICE: Final = ("59", "XE", "XS", "XP", "XU")
SAME_DAY_KINDS: Final = ("same_day_with",)


@dataclass(frozen=True, slots=True)
class SameDaySpec:
    """A declared "X with Y on the same date" edit, as written under [rules.ID] in the ruleset.

    ``message`` may use {ct} (the line as billed), {code}, {partner} and {instead}: the entry of
    ``instead`` for the target code, else for the partner ("bill 20611"). ``otherwise`` replaces
    ``message`` when ``instead`` has no entry for the pair.
    """

    kind: str
    targets: CodeSet
    partners: CodeSet
    bypass: frozenset[str]
    message: str
    instead: dict[str, str]
    otherwise: str


class SameDayEdit(Rule):
    """Every "X with Y on the same date" rule: one mechanism, the pairs are ruleset data.

    A target line is rejected when a partner code shares its date of service on the claim, unless
    the target carries one of the rule's bypass modifiers (NCCI's distinct-procedural-service
    convention, per rule).
    """

    family = "same_day"

    def __init__(self, meta: RuleMeta, ruleset: Ruleset, spec: SameDaySpec) -> None:
        super().__init__(meta, ruleset)
        self.spec = spec

    def trigger(self) -> CodeSet:
        return self.spec.targets

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        spec = self.spec
        targets, partners, bypass = spec.targets, spec.partners, spec.bypass
        for line in ctx.claim.lines:
            if line.procedure not in targets:
                continue
            if bypass and not bypass.isdisjoint(line.modifiers):
                continue  # distinct procedural service: a separate site, session or structure
            partner = partners.any_in(ctx.same_day_codes(line) - {line.procedure})
            if partner:
                yield self.finding(ctx, line, self.message(line, partner))

    def message(self, line: ServiceLine, partner: str) -> str:
        spec = self.spec
        instead = spec.instead.get(line.procedure) or spec.instead.get(partner, "")
        template = spec.otherwise if spec.otherwise and not instead else spec.message
        return template.format(
            ct=code_text(line), code=line.procedure, partner=partner, instead=instead
        )
