"""What a rule says about a claim, and the decision that follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Both classes write their __init__ out (init=False): see edi_gate.x12.model for why.


@dataclass(frozen=True, init=False)
class Finding:
    """One reason to reject: the rule, the line (LX01) or None for the claim, and the 277CA triple.

    ``category`` is a claim status category code (code source 507, e.g. A7 or A3), ``status`` a
    claim status code (code source 508), ``entity`` an entity identifier code (82 rendering
    provider, 85 billing provider, ...).
    """

    rule: str
    line: int | None
    message: str
    category: str
    status: str
    entity: str

    def __init__(
        self,
        rule: str,
        line: int | None,
        message: str,
        category: str = "A7",
        status: str = "21",
        entity: str = "",
    ) -> None:
        # frozen: fields are set once, here, through object.__setattr__
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "entity", entity)

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


@dataclass(init=False)
class Decision:
    """The outcome for one claim: accepted or rejected, and which lines survive (line scope)."""

    accepted: bool
    findings: list[Finding]
    rejected_lines: frozenset[int]  # LX01 of lines removed under --scope line

    def __init__(
        self,
        accepted: bool,
        findings: list[Finding] | None = None,
        rejected_lines: frozenset[int] = frozenset(),
    ) -> None:
        self.accepted = accepted
        self.findings = findings if findings is not None else []
        self.rejected_lines = rejected_lines

    @property
    def label(self) -> str:
        return "accepted" if self.accepted else "rejected"
