"""Provider-file checks: what the payer's provider file (the directory) says about an NPI itself,
not about the services billed.

PROV001 is not from the seeds: it is the check every payer runs against its provider file
before adjudication (an NPI deactivated in NPPES cannot bill for dates after its deactivation).
The shipped ruleset documents it switched off; a payer turns it on with ``enabled = true``.
"""

from __future__ import annotations

from collections.abc import Iterator

from edi_gate.rules.base import Rule, code_text
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding
from edi_gate.x12.grammar import LOOP_2000A


class DeactivatedNpi(Rule):
    """A rendering or billing NPI that the NPI registry lists as deactivated on the date."""

    id = "PROV001"
    family = "provider"

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        billing = ctx.claim.billing
        if ctx.claim.lines:
            hit = ctx.deactivation(billing.npi, ctx.claim.lines[0])
            if hit is not None:
                yield self.finding(
                    ctx,
                    None,
                    f"billing provider NPI {billing.npi} was deactivated in the NPI registry on "
                    f"{hit[0].start} ({hit[1]}); resubmit under an active NPI",
                )
        for line in ctx.claim.lines:
            prov = line.rendering
            if prov.loop == LOOP_2000A:
                continue  # the billing provider renders: reported once, above
            hit = ctx.deactivation(prov.npi, line)
            if hit is not None:
                yield self.finding(
                    ctx,
                    line,
                    f"{code_text(line)}: rendering provider NPI {prov.npi} ({prov.loop}) was "
                    f"deactivated in the NPI registry on {hit[0].start} ({hit[1]}); bill under "
                    "the provider's active NPI",
                )
