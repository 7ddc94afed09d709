"""Running the command line for the report tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers import FIXTURES, REPO
from tests.pipeline.support import EDI_GATE

DEMO = FIXTURES / "demo.837"
RULESET = REPO / "edi_gate" / "data" / "rulesets" / "imaging-2024.toml"


def cli(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EDI_GATE), *map(str, args)],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def ruleset_without(tmp_path: Path, rule: str) -> Path:
    """The shipped ruleset with one rule switched off (for --compare)."""
    text = RULESET.read_text().replace(f"[rules.{rule}]\n", f"[rules.{rule}]\nenabled = false\n")
    path = tmp_path / f"no-{rule.lower()}.toml"
    path.write_text(text)
    return path
