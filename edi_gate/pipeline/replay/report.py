"""A replay's summary: summary.json (the numbers) and summary.txt (the same numbers, readable).

Why apart from the merger: the numbers are assembled from the merged tallies once, at the end;
the text rendering lives with the other reports (:mod:`edi_gate.report.text`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.replay.settings import make_engine, ruleset_labels

if TYPE_CHECKING:
    from edi_gate.pipeline.replay.merge import ResultMerger


def replay_summary(merged: ResultMerger) -> dict[str, Any]:
    """summary.json's numbers: files, ruleset A's tallies, errors, and the A -> B comparison."""
    data: dict[str, Any] = {
        "ruleset": merged.spec.label,
        "rulesets": ruleset_labels(make_engine(merged.spec)),
        "files": len(merged.sources_seen | {e["source"] for e in merged.errors}),
        "files_read": len(merged.sources_read),
        **merged.stats.as_dict(),
        "errors": merged.errors,
    }
    if merged.compare_with is not None and merged.stats_b is not None:
        data["compare"] = {
            "a": merged.spec.label,
            "b": merged.compare_with.label,
            "b_summary": merged.stats_b.as_dict(),
            "changed_claims": merged.changes,
            "transitions": dict(sorted(merged.transitions.items())),
            **merged.stats_b.compare.as_dict(),
        }
    return data


def render_report(data: dict[str, Any]) -> str:
    """The readable summary (the same numbers as summary.json): see edi_gate.report.text."""
    from edi_gate.report.text import render_replay

    return render_replay(data)


def write_summaries(outputs: OutputSet, out: Path, data: dict[str, Any]) -> None:
    """summary.json and summary.txt into ``outputs`` (committed with the decisions)."""
    outputs.text(out / "summary.json").write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    outputs.text(out / "summary.txt").write(render_report(data))
