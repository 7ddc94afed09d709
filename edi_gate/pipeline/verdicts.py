"""What befalls a claim besides its rules: the decision policies of a filter run (compiled).

A set that fails its syntax checks rejects every claim with findings naming the errors; --reject
interchange rejects every claim of a damaged set's interchange; in line scope a claim carrying
coordination-of-benefits data is rejected whole rather than cut. One place for the filter and
for replay's --compare.
"""

from __future__ import annotations

from typing import Final

from edi_gate.rules.engine import decide
from edi_gate.rules.findings import SYNTAX_RULE, Decision, Finding
from edi_gate.vocabulary import STC12_MAX_LENGTH
from edi_gate.x12.errors import SyntaxIssue
from edi_gate.x12.model import Claim

# 277CA triple for a claim in a transaction set that failed syntax checks: A3 "returned as
# unprocessable", 21 "missing or invalid information", entity 41 the submitter who sent it.
SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY = "A3", "21", "41"


MAX_SYNTAX_FINDINGS: Final = 3


def syntax_findings(issues: list[SyntaxIssue]) -> list[Finding]:
    """Findings for the claims of a rejected set: its first few syntax errors, and how many more."""
    shown = issues[:MAX_SYNTAX_FINDINGS]
    findings = []
    for index, issue in enumerate(shown, start=1):
        message = f"transaction set rejected: {issue}"
        if index == len(shown) and len(issues) > len(shown):
            message += f" (and {len(issues) - len(shown)} more syntax errors)"
        findings.append(
            Finding(
                SYNTAX_RULE,
                None,
                message[:STC12_MAX_LENGTH],
                SYNTAX_CATEGORY,
                SYNTAX_STATUS,
                SYNTAX_ENTITY,
            )
        )
    return findings


COB_RULE: Final = "LINE-SCOPE-COB"
# 277CA triple: A7 rejected for invalid information, 400 "claim is out of balance".
COB_CATEGORY, COB_STATUS = "A7", "400"


def carries_cob(claim: Claim) -> bool:
    """True when the claim carries a prior payer's adjudication: 2320 AMT*D (payer paid), CAS
    adjustments (2320 or 2430), or a 2430 line adjudication (SVD). Such a claim balances
    (X12 interpretations 524, 1294: CLM02 = prior payer paid + adjustments), so a line cannot be
    cut from it without making it wrong."""
    for segment in claim.segments:
        tag = segment.tag
        if tag == b"SVD" or tag == b"CAS" or (tag == b"AMT" and segment.element(1) == "D"):
            return True
    return False


def whole_claim_for_cob(claim: Claim, decision: Decision) -> Decision:
    """--scope line on a claim with coordination-of-benefits data: the claim is rejected whole
    (with its line findings, each line's 2220D in the 277CA) instead of losing lines and leaving
    the prior payer's amounts unbalanced. Other decisions are returned as they are."""
    if not decision.accepted or not decision.rejected_lines or not carries_cob(claim):
        return decision
    lines = ",".join(str(n) for n in sorted(decision.rejected_lines))
    message = (
        f"claim carries coordination-of-benefits data (2320 AMT*D/CAS, 2430): removing line(s) "
        f"{lines} would leave CLM02 out of balance with the prior payer's amounts; rejected whole"
    )
    cob = Finding(COB_RULE, None, message, COB_CATEGORY, COB_STATUS)
    return Decision(False, [cob, *decision.findings], decision.rejected_lines)


def decide_claim(claim: Claim, findings: list[Finding], scope: str) -> Decision:
    """The decision for one claim: the engine's ``decide``, then the COB guard of line scope
    (one place, for the filter and for replay's --compare)."""
    decision = decide(claim, findings, scope)
    if decision.rejected_lines:
        decision = whole_claim_for_cob(claim, decision)
    return decision


def interchange_findings(reason: str) -> list[Finding]:
    """The finding for each claim of an interchange rejected whole (--reject interchange)."""
    message = f"interchange rejected: {reason}"[:STC12_MAX_LENGTH]
    return [Finding(SYNTAX_RULE, None, message, SYNTAX_CATEGORY, SYNTAX_STATUS, SYNTAX_ENTITY)]
