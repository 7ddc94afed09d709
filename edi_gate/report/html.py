"""``replay --report report.html``: one self-contained HTML file an analyst can mail.

Everything is inline: the style sheet and the charts (SVG drawn here), no script, no font, no
network, so it opens the same from a mail attachment as from a share. Every figure comes from the
replay's summary (the dict written to summary.json) and carries ``data-metric="path"`` naming the
summary.json value it shows, which is how the tests check the report against summary.json.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edi_gate.pipeline.outputs import OutputSet

TOP_ROWS = 20
# Nothing may load: no script, no font, no image from anywhere (the page is data only).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
BAR_COLOR = "#c0392b"
MUTED_COLOR = "#95a5a6"
RELEASED_COLOR = "#27ae60"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;
background:#f4f5f7}
main{max-width:1080px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#666;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:130px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:22px}.card>span{color:#666;font-size:12px}
.panel{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%}th,td{padding:3px 8px;text-align:left}
th{color:#555;font-weight:600;border-bottom:1px solid #ddd}td.n,th.n{text-align:right}
tr:nth-child(even) td{background:#fafafa}
.note{color:#666;font-size:12px}
svg text{font:12px system-ui,sans-serif;fill:#333}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | int, metric: str | None = None, money: bool = False) -> str:
    text = f"${value:,.2f}" if money else f"{value:,}"
    attr = f' data-metric="{_e(metric)}" data-value="{_e(value)}"' if metric else ""
    return f"<span{attr}>{text}</span>"


def _card(label: str, value: float | int, metric: str, money: bool = False) -> str:
    return f'<div class="card"><b>{_num(value, metric, money)}</b><span>{_e(label)}</span></div>'


def bar_chart(
    rows: Sequence[tuple[str, float, str]],
    *,
    title: str,
    color: str = BAR_COLOR,
    money: bool = False,
    label_width: int = 110,
    width: int = 500,
) -> str:
    """A horizontal bar chart as inline SVG: (label, value, tooltip) per bar."""
    if not rows:
        return '<p class="note">nothing to show</p>'
    bar, gap = 18, 6
    height = len(rows) * (bar + gap) + gap
    top = max(value for _, value, _ in rows) or 1
    span = width - label_width - 90
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for index, (label, value, tip) in enumerate(rows):
        y = gap + index * (bar + gap)
        length = max(1.0, span * value / top) if value else 0
        shown = f"${value:,.0f}" if money else f"{value:,}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{_e(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{color}" rx="2"><title>{_e(tip)}</title></rect>'
            f'<text x="{label_width + length + 5:.1f}" y="{y + 13}">{_e(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def month_chart(by_month: Mapping[str, Mapping[str, int]], width: int = 1000) -> str:
    """Claims and rejected claims per month of service: paired vertical bars, inline SVG."""
    months = list(by_month)
    if not months:
        return '<p class="note">nothing to show</p>'
    height, bottom, left = 220, 40, 50
    top = max(c["claims"] for c in by_month.values()) or 1
    slot = (width - left - 10) / len(months)
    bar = max(2.0, min(22.0, slot / 2 - 2))
    plot = height - bottom - 10
    parts = [
        f'<svg role="img" aria-label="Claims by month of service" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Claims and rejected claims by month of service</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
        'stroke="#bbb"/>',
        f'<text x="{left - 6}" y="{height - bottom - plot + 4}" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end">0</text>',
    ]
    step = max(1, len(months) // 12)
    for index, month in enumerate(months):
        counts = by_month[month]
        x = left + index * slot + slot / 2
        for offset, key, color in ((-bar, "claims", MUTED_COLOR), (0.0, "rejected", BAR_COLOR)):
            h = plot * counts[key] / top
            parts.append(
                f'<rect class="bar" x="{x + offset:.1f}" y="{height - bottom - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{_e(month)}: {counts[key]:,} {key}</title></rect>"
            )
        if index % step == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{_e(month)}</text>"
            )
    parts.append(
        f'<rect x="{left}" y="{height - 16}" width="10" height="10" fill="{MUTED_COLOR}"/>'
        f'<text x="{left + 14}" y="{height - 7}">claims</text>'
        f'<rect x="{left + 70}" y="{height - 16}" width="10" height="10" fill="{BAR_COLOR}"/>'
        f'<text x="{left + 84}" y="{height - 7}">rejected</text></svg>'
    )
    return "".join(parts)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    cells = "".join(
        f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _stats_section(stats: Mapping[str, Any], summaries: Mapping[str, str], prefix: str) -> str:
    """Cards, charts and tables of one ruleset's statistics (``prefix``: its summary.json path)."""
    p = f"{prefix}." if prefix else ""
    codes = _ranked_table(
        stats["top_rejected_codes"],
        ("code", "procedure code"),
        [("lines", "lines named by a finding")],
        f"{p}top_rejected_codes",
    )
    providers = _ranked_table(
        stats.get("top_providers", []),
        ("rendering_npi", "rendering NPI"),
        [("claims", "claims"), ("lines", "lines")],
        f"{p}top_providers",
    )
    return f"""
<div class="cards">{_stats_cards(stats, p)}</div>
<h2>Rejections by rule</h2>
<div class="panel">{_rules_panel(stats, summaries, p)}
<p class="note">claims: claims with at least one finding of the rule; findings: one per claim or
line a rule names; dollars: CLM02 of the rejected claims and SV102 of the removed lines.</p></div>
<h2>By month of service</h2>
<div class="panel">{month_chart(stats["by_month"])}{_months_table(stats, p)}</div>
<h2>Dollars at stake</h2>{_dollars_panel(stats.get("dollars_at_stake", {}), p)}
<div class="grid">
<div><h2>By rendering specialty</h2><div class="panel">{_specialty_table(stats, p)}</div></div>
<div><h2>Top procedure codes affected</h2><div class="panel">{codes}</div></div>
</div>
<h2>Top rendering providers affected</h2><div class="panel">{providers}</div>
"""


def _stats_cards(stats: Mapping[str, Any], p: str) -> str:
    """The headline figures: claims and what became of them, and the dollars at stake."""
    decided = stats["by_decision"]
    money = stats.get("dollars_at_stake", {})
    cards = [
        _card("claims", stats["claims"], f"{p}claims"),
        _card("accepted", decided.get("accepted", 0), f"{p}by_decision.accepted"),
        _card("rejected", decided.get("rejected", 0), f"{p}by_decision.rejected"),
        _card("not evaluated", stats.get("not_evaluated_claims", 0), f"{p}not_evaluated_claims"),
        _card("lines removed", stats["lines_removed"], f"{p}lines_removed"),
    ]
    if money:
        cards.append(_card("dollars at stake", money["total"], f"{p}dollars_at_stake.total", True))
    return "".join(cards)


def _rules_panel(stats: Mapping[str, Any], summaries: Mapping[str, str], p: str) -> str:
    """Rejections by rule: a bar chart, then a table with the findings and the dollars."""
    findings = stats.get("findings_by_rule", {})
    by_rule = stats.get("claims_by_rule", stats["by_rule"])
    rule_money = stats.get("dollars_at_stake", {}).get("by_rule", {})
    ordered = sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    rule_chart = bar_chart(
        [(rule, n, f"{rule}: {n:,} claims. {summaries.get(rule, '')}") for rule, n in ordered],
        title="Rejections by rule (claims)",
    )
    rule_rows = [
        [
            _e(rule),
            _num(n, f"{p}claims_by_rule.{rule}"),
            _num(findings.get(rule, 0), f"{p}findings_by_rule.{rule}"),
            _num(rule_money.get(rule, 0), f"{p}dollars_at_stake.by_rule.{rule}", True),
            _e(summaries.get(rule, "")),
        ]
        for rule, n in ordered
    ]
    head = ["rule", "claims", "findings", "dollars", "summary"]
    return f"{rule_chart}\n{_table(head, rule_rows, {1, 2, 3})}"


def _specialty_table(stats: Mapping[str, Any], p: str) -> str:
    """The rendering taxonomies with the most rejected claims."""
    taxonomy_rows = sorted(
        stats["by_taxonomy"].items(), key=lambda kv: (-kv[1]["rejected"], kv[0])
    )[:TOP_ROWS]
    return _table(
        ["rendering taxonomy", "claims", "rejected", "%"],
        [
            [
                _e(code),
                _num(c["claims"], f"{p}by_taxonomy.{code}.claims"),
                _num(c["rejected"], f"{p}by_taxonomy.{code}.rejected"),
                _percent(c["rejected"], c["claims"]),
            ]
            for code, c in taxonomy_rows
        ],
        {1, 2, 3},
    )


def _ranked_table(
    rows: Sequence[Mapping[str, Any]],
    key: tuple[str, str],
    counts: list[tuple[str, str]],
    path: str,
) -> str:
    """A top-N list of summary.json (``path``): its ``key`` (field, heading), then its counts."""
    field, heading = key
    return _table(
        [heading, *(title for _, title in counts)],
        [
            [_e(row[field]), *(_num(row[name], f"{path}.{i}.{name}") for name, _ in counts)]
            for i, row in enumerate(rows)
        ],
        set(range(1, len(counts) + 1)),
    )


def _months_table(stats: Mapping[str, Any], p: str) -> str:
    """Claims, rejections and dollars at stake per month of service."""
    month_money = stats.get("dollars_at_stake", {}).get("by_month", {})
    return _table(
        ["month of service", "claims", "rejected", "dollars at stake"],
        [
            [
                _e(month),
                _num(c["claims"], f"{p}by_month.{month}.claims"),
                _num(c["rejected"], f"{p}by_month.{month}.rejected"),
                _num(month_money.get(month, 0), f"{p}dollars_at_stake.by_month.{month}", True),
            ]
            for month, c in stats["by_month"].items()
        ],
        {1, 2, 3},
    )


def _dollars_panel(money: Mapping[str, Any], p: str) -> str:
    """Where the dollars at stake come from: rejected claims and removed lines."""
    if not money:
        return ""
    return (
        '<div class="panel"><table>'
        "<tr><td>CLM02 of rejected claims</td><td class=n>"
        + _num(money["rejected_claims"], f"{p}dollars_at_stake.rejected_claims", True)
        + "</td></tr><tr><td>SV102 of lines removed (line scope)</td><td class=n>"
        + _num(money["removed_lines"], f"{p}dollars_at_stake.removed_lines", True)
        + "</td></tr><tr><th>total at stake</th><th class=n>"
        + _num(money["total"], None, True)
        + "</th></tr></table></div>"
    )


def _compare_section(compare: Mapping[str, Any], summaries: Mapping[str, str]) -> str:
    newly, released = compare.get("newly_rejected"), compare.get("released")
    if newly is None or released is None:
        return ""
    c = "compare."
    cards = "".join(
        [
            _card("claims changing decision", compare["changed_claims"], "compare.changed_claims"),
            _card("newly rejected claims", newly["claims"], "compare.newly_rejected.claims"),
            _card("dollars newly rejected", newly["dollars"], f"{c}newly_rejected.dollars", True),
            _card("released claims", released["claims"], "compare.released.claims"),
            _card("dollars released", released["dollars"], "compare.released.dollars", True),
        ]
    )

    def rows(bucket: Mapping[str, Any], key: str) -> list[list[str]]:
        return [
            [
                _e(rule),
                _num(r["claims"], f"compare.{key}.by_rule.{rule}.claims"),
                _num(r["dollars"], f"compare.{key}.by_rule.{rule}.dollars", True),
                _e(summaries.get(rule, "")),
            ]
            for rule, r in sorted(bucket["by_rule"].items(), key=lambda kv: -kv[1]["claims"])
        ]

    def chart(bucket: Mapping[str, Any], title: str, color: str) -> str:
        return bar_chart(
            [
                (rule, r["dollars"], f"{rule}: {r['claims']:,} claims, ${r['dollars']:,.2f}")
                for rule, r in sorted(bucket["by_rule"].items(), key=lambda kv: -kv[1]["dollars"])
            ],
            title=title,
            color=color,
            money=True,
        )

    lines_new, lines_rel = compare["lines_newly_rejected"], compare["lines_released"]
    head = ["rule", "claims", "dollars", "summary"]
    return f"""
<h2>From ruleset A to B</h2>
<p class="sub">A = {_e(compare["a"])}<br>B = {_e(compare["b"])}</p>
<div class="cards">{cards}</div>
<div class="grid">
<div><h2>Newly rejected under B, by rule</h2><div class="panel">
{chart(newly, "Dollars newly rejected by rule", BAR_COLOR)}
{_table(head, rows(newly, "newly_rejected"), {1, 2})}</div></div>
<div><h2>Released under B, by rule</h2><div class="panel">
{chart(released, "Dollars released by rule", RELEASED_COLOR)}
{_table(head, rows(released, "released"), {1, 2})}</div></div>
</div>
<p class="note">Lines newly removed (line scope):
{_num(lines_new["lines"], "compare.lines_newly_rejected.lines")} lines,
{_num(lines_new["dollars"], "compare.lines_newly_rejected.dollars", True)};
lines released: {_num(lines_rel["lines"], "compare.lines_released.lines")},
{_num(lines_rel["dollars"], "compare.lines_released.dollars", True)}.</p>
<h2>Under ruleset B</h2>
{_stats_section(compare["b_summary"], summaries, "compare.b_summary")}
"""


def render_html(data: Mapping[str, Any], summaries: Mapping[str, str] | None = None) -> str:
    """The report page for a replay summary (the summary.json dict)."""
    summaries = summaries or {}
    errors = data.get("errors", [])
    error_list = "".join(f"<li>{_e(e['source'])}: {_e(e['error'])}</li>" for e in errors[:50])
    compare = data.get("compare")
    title = "edi-gate replay report"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{title}</title><style>{STYLE}</style></head>
<body><main>
<h1>{title}</h1>
<p class="sub">Ruleset: {_e(data["ruleset"])} &middot; files:
{_num(data["files"], "files")} ({_num(data["files_read"], "files_read")} read,
{len(errors)} errors)</p>
{_compare_section(compare, summaries) if compare else ""}
{"<h2>Under ruleset A</h2>" if compare else ""}
{_stats_section(data, summaries, "")}
{f"<h2>Errors</h2><ul>{error_list}</ul>" if errors else ""}
<p class="note">Written by edi-gate. Numbers are those of summary.json. No patient data: claims
are counted, not shown.</p>
</main></body></html>
"""


def write_report(
    path: Path | str, data: Mapping[str, Any], summaries: Mapping[str, str] | None = None
) -> None:
    """Write the report atomically (all of it or nothing), readable by others like summary.json."""
    with OutputSet(mode=0o644) as outputs:
        outputs.text(Path(os.fspath(path))).write(render_html(data, summaries))
