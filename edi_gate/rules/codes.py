"""Codes rejected on their own: deleted, nonspecific, investigational, not reimbursed (001, 004)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_gate.rules.base import Rule, code_text, lines_in
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.context import ClaimContext
from edi_gate.rules.findings import Finding


class DeletedCode(Rule):
    """Deleted/renumbered codes, from their deletion date (so old archives replay correctly)."""

    id = "CODE001"
    family = "codes"

    def trigger(self) -> CodeSet:
        return CodeSet(self.ruleset.deleted)

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        for line, (replacement, since, _) in lines_in(ctx.claim.lines, ctx.ruleset.deleted):
            when = ctx.line_date(line)
            if since is not None and when is not None and when < since:
                continue
            fix = f"bill {replacement}" if replacement else "bill the current code"
            yield self.finding(
                ctx,
                line,
                f"{code_text(line)}: {line.procedure} was deleted"
                f"{' on ' + since.isoformat() if since else ''}; {fix}",
            )


class NonspecificCode(Rule):
    """Nonspecific HCPCS such as S8042 (low-field MRI): bill the specific CPT code."""

    id = "CODE002"
    family = "codes"

    def trigger(self) -> CodeSet:
        return CodeSet(self.ruleset.nonspecific)

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        for line, instead in lines_in(ctx.claim.lines, ctx.ruleset.nonspecific):
            yield self.finding(
                ctx,
                line,
                f"{code_text(line)}: nonspecific HCPCS {line.procedure} is not accepted; "
                f"bill {instead}",
            )


class _FamilyCode(Rule):
    """Every line billing a code of the family ``code_family`` is refused with ``why`` (which
    may name {billed}, the line as billed, and {code})."""

    family = "codes"
    code_family = ""
    why = ""

    def prepare(self) -> None:
        self.codes = self.ruleset.family(self.code_family)

    def trigger(self) -> CodeSet:
        return self.codes

    def check(self, ctx: ClaimContext) -> Iterator[Finding]:
        fam = self.codes
        for line in ctx.claim.lines:
            if line.procedure in fam:
                yield self.finding(
                    ctx, line, self.why.format(billed=code_text(line), code=line.procedure)
                )


class InvestigationalCode(_FamilyCode):
    id = "CODE003"
    needs = ("investigational",)
    code_family = "investigational"
    why = (
        "{billed}: quantitative multiparametric MR analysis ({code}) is investigational and not "
        "covered; remove the line"
    )


class OutsideStudyInterpretation(_FamilyCode):
    id = "CODE004"
    needs = ("outside_interpretation",)
    code_family = "outside_interpretation"
    why = (
        "{billed}: second interpretation of an outside study (76140) is not reimbursed; remove the "
        "line (comparison with a prior study is included in the current exam's code)"
    )
