"""replay's readable summary (``summary.txt`` and standard output): the numbers of summary.json.

Each count says what it counts: claims (a claim with several findings of one rule counts once),
findings (one per line named), lines (the lines a finding names), dollars (CLM02 of rejected
claims, SV102 of removed lines).
"""

from __future__ import annotations

from typing import Any


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _dollar_lines(stats: dict[str, Any]) -> list[str]:
    money = stats.get("dollars_at_stake")
    if not money:
        return []
    lines = [
        "",
        "Dollars at stake (CLM02 of rejected claims, SV102 of removed lines):",
        f"  {'rejected claims':<28} {_money(money['rejected_claims']):>16}",
        f"  {'removed lines':<28} {_money(money['removed_lines']):>16}",
        f"  {'total':<28} {_money(money['total']):>16}",
    ]
    if money.get("unparsed_charges"):
        lines.append(f"  ({money['unparsed_charges']} charges were not amounts: left out)")
    return lines


def _stats_lines(stats: dict[str, Any]) -> list[str]:
    claims = stats["claims"]
    lines = [f"Claims: {claims}"]
    for label, count in stats["by_decision"].items():
        lines.append(f"  {label:<28} {count:>9}  {_percent(count, claims)}")
    if stats.get("not_evaluated_claims"):
        count = stats["not_evaluated_claims"]
        lines.append(f"  {'not evaluated':<28} {count:>9}  {_percent(count, claims)}")
    if stats["lines_removed"]:
        lines.append(f"  lines removed (line scope)   {stats['lines_removed']:>9}")
    findings = stats.get("findings_by_rule", {})
    lines += ["", "Claims by rule:", f"  {'':<28} {'claims':>9} {'% claims':>8} {'findings':>9}"]
    for rule, count in sorted(stats["by_rule"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(
            f"  {rule:<28} {count:>9} {_percent(count, claims):>8} {findings.get(rule, 0):>9}"
        )
    lines.append("  (claims: claims with a finding of the rule; findings: one per line named)")
    for title, key in (
        ("rendering specialty (taxonomy)", "by_taxonomy"),
        ("month of service", "by_month"),
    ):
        lines.append("")
        lines.append(f"Claims by {title}:")
        lines.append(f"  {'':<28} {'claims':>9} {'rejected':>9}")
        for name, counts in stats[key].items():
            lines.append(
                f"  {name:<28} {counts['claims']:>9} {counts['rejected']:>9}  "
                f"{_percent(counts['rejected'], counts['claims'])}"
            )
    lines.append("")
    lines.append("Top rejected procedure codes (lines a finding names):")
    for row in stats["top_rejected_codes"]:
        lines.append(f"  {row['code']:<28} {row['lines']:>9}")
    if stats.get("top_providers"):
        lines += ["", "Top rendering providers (claims and lines a finding names):"]
        for row in stats["top_providers"]:
            lines.append(f"  {row['rendering_npi']:<28} {row['claims']:>9} {row['lines']:>9}")
    for title, key in (
        ("Claims not evaluated (no rule looked at them), by reason", "not_evaluated"),
        ("Transaction sets passed through unjudged", "passed_through"),
    ):
        if stats.get(key):
            lines += ["", f"{title}:"]
            lines += [f"  {reason:<28} {count:>9}" for reason, count in stats[key].items()]
    lines += _dollar_lines(stats)
    return lines


def _compare_lines(compare: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Compare: A = {compare['a']}, B = {compare['b']}",
        f"Claims whose decision changes: {compare['changed_claims']}",
    ]
    for transition, count in compare["transitions"].items():
        lines.append(f"  {transition:<28} {count:>9}")
    if "newly_rejected" in compare:
        lines += ["", f"  {'from A to B':<28} {'claims':>9} {'dollars':>16}"]
        for label, key in (("newly rejected", "newly_rejected"), ("released", "released")):
            bucket = compare[key]
            lines.append(f"  {label:<28} {bucket['claims']:>9} {_money(bucket['dollars']):>16}")
            for rule, row in bucket["by_rule"].items():
                lines.append(f"    {rule:<26} {row['claims']:>9} {_money(row['dollars']):>16}")
        for label, key in (
            ("lines newly removed", "lines_newly_rejected"),
            ("lines released", "lines_released"),
        ):
            bucket = compare[key]
            lines.append(f"  {label:<28} {bucket['lines']:>9} {_money(bucket['dollars']):>16}")
        b_money = compare["b_summary"].get("dollars_at_stake")
        if b_money:
            total = _money(b_money["total"])
            lines.append(f"  {'dollars at stake under B':<28} {'':>9} {total:>16}")
    lines += ["", "Under B:", *("  " + line for line in _stats_lines(compare["b_summary"]))]
    return lines


def render_replay(data: dict[str, Any]) -> str:
    """The readable summary of a replay (the same numbers as summary.json)."""
    lines = [
        f"edi-gate replay: {data['ruleset']}",
        f"Rulesets: {', '.join(data.get('rulesets', [])) or '(none)'}",
        f"Files: {data['files']} ({data['files_read']} read, {len(data['errors'])} errors)",
        "",
        *_stats_lines(data),
    ]
    if "compare" in data:
        lines += _compare_lines(data["compare"])
    if data["errors"]:
        lines += ["", "Errors:"]
        for error in data["errors"]:
            lines.append(f"  {error['source']}: {error['error']}")
    return "\n".join(lines) + "\n"
