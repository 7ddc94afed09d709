"""Silent passes made visible: what no rule judged, and why.

A claim is "not evaluated" when no ruleset was in force on its date of service (it is accepted
with nothing said), or when it sits in a transaction set edi-gate passes through without reading
its claims: a 4010 837, an 837I or 837D, any other 837 version, or a set that is not an 837 at
all. Summaries count both by reason, and every decision names its ruleset (``null`` when none).

``--require-ruleset`` (or ``require_ruleset = true`` for a partner) turns "no ruleset in force"
into a rejection: finding ``NO-RULESET``, 277CA ``A3:187`` (returned as unprocessable: date(s)
of service).
"""

from __future__ import annotations

from typing import Final

from edi_gate.rules.findings import Finding

NO_RULESET: Final = "no ruleset in force"
NO_RULESET_RULE: Final = "NO-RULESET"
# 277CA: A3 "returned as unprocessable claim", 187 "Date(s) of service" (code source 508).
NO_RULESET_CATEGORY: Final = "A3"
NO_RULESET_STATUS: Final = "187"


def passthrough_reason(st01: str, gs08: str, st03: str) -> str:
    """Why a transaction set passes through unjudged (a summary key, from validated codes)."""
    if st01 != "837":
        return f"not 837 ({st01})" if len(st01) == 3 and st01.isdigit() else "not 837"
    version = st03 or gs08
    for text in (st03, gs08):
        if text.startswith("00401"):
            return "4010"
        if "X223" in text:
            return "837I"
        if "X224" in text:
            return "837D"
    return "4010" if version.startswith("004") else "other 837 version"


def no_ruleset_finding(day: str) -> Finding:
    """The finding that rejects a claim no ruleset covers, under --require-ruleset."""
    when = f" on {day}" if day else ""
    return Finding(
        NO_RULESET_RULE,
        None,
        f"no ruleset in force{when}: claim not evaluated (--require-ruleset)",
        NO_RULESET_CATEGORY,
        NO_RULESET_STATUS,
        "",
    )
