"""What a rule says about a claim, and the decision that follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason to reject: the rule, the line (LX01) or None for the claim, and the 277CA triple.

    ``category`` is a claim status category code (code source 507, e.g. A7 or A3), ``status`` a
    claim status code (code source 508), ``entity`` an entity identifier code (82 rendering
    provider, 85 billing provider, ...).
    """

    rule: str
    line: int | None
    message: str
    category: str = "A7"
    status: str = "21"
    entity: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "line": self.line,
            "message": self.message,
            "category": self.category,
            "status": self.status,
            "entity": self.entity,
        }


SYNTAX_RULE: Final = "X12-SYNTAX"


@dataclass(slots=True)
class Decision:
    """The outcome for one claim: accepted or rejected, and which lines survive (line scope)."""

    accepted: bool
    findings: list[Finding] = field(default_factory=list)
    rejected_lines: frozenset[int] = frozenset()  # LX01 of lines removed under --scope line

    @property
    def label(self) -> str:
        return "accepted" if self.accepted else "rejected"
