"""What every rule is: an id, its documentation from the ruleset, and a check over one claim.

The logic lives in Python (one module per rule family); the documentation, status triple and
on/off switch live in the ruleset beside the tables, so a policy analyst reads one file.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final

from edi_gate.rules.findings import Finding

if TYPE_CHECKING:
    from edi_gate.rules.codeset import CodeSet
    from edi_gate.rules.context import ClaimContext
    from edi_gate.rules.ruleset import Ruleset
    from edi_gate.x12.model import ServiceLine

MAX_MESSAGE: Final = 264  # STC12 (AN 1/264)
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
            rule=self.id,
            line=line.number if line is not None else None,
            message=message,
            category=self.meta.category,
            status=self.meta.status,
            entity=entity,
        )

    def __repr__(self) -> str:
        return f"<Rule {self.id}>"


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
            continue  # a base class (SameDayRule, a family's shared base)
        if cls.id in found and found[cls.id] is not cls:
            raise RuntimeError(f"rule id {cls.id} defined twice")
        found[cls.id] = cls
    return dict(sorted(found.items()))


def code_text(line: ServiceLine) -> str:
    """'71046-TC' style: the code with its modifiers, as a biller sees it on the claim."""
    return "-".join((line.procedure, *[m for m in line.modifiers if m]))


class SameDayRule(Rule):
    """A line of ``target_family`` is rejected when a ``partner_family`` code shares its date.

    The shape behind most bundling and guidance edits ("X with Y in one session"); subclasses
    name the two families and the ``why`` message (``{ct}``, ``{code}``, ``{partner}``).
    """

    target_family: ClassVar[str] = ""
    partner_family: ClassVar[str] = ""
    why: ClassVar[str] = ""

    def prepare(self) -> None:
        self.targets = self.ruleset.family(self.target_family)
        self.partners = self.ruleset.family(self.partner_family)

    def trigger(self) -> CodeSet:
        return self.targets

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        targets, partners = self.targets, self.partners
        for line in ctx.claim.lines:
            if line.procedure not in targets:
                continue
            partner = partners.any_in(ctx.same_day_codes(line) - {line.procedure})
            if partner:
                yield self.finding(ctx, line, self.message(ctx, line, partner))

    def message(self, ctx: ClaimContext, line: ServiceLine, partner: str) -> str:
        return self.why.format(ct=code_text(line), code=line.procedure, partner=partner)
