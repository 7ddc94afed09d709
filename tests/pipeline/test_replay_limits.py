"""`edi-gate replay --limits`: the bounds on hostile input, as filter takes them, reach every
worker; a file that breaks one is an error of the replay, said as filter says it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from edi_gate.limits import parse_limits
from edi_gate.pipeline import replay as rp
from tests.pipeline.support import EDI_GATE, demo_variant, generated

TIGHT = "max_loop_bytes=200"
LIMIT_BROKEN = "holds more than 200 bytes (limit max_loop_bytes)"


def run(inputs: list[Path], out: Path, *, workers: int, limits_spec: str | None) -> dict:
    sources, missing = rp.expand_inputs([str(p) for p in inputs])
    merger = rp.ResultMerger(out, rp.EngineSpec())
    limits = parse_limits(limits_spec) if limits_spec else None
    units = rp.plan_units(sources, 40_000)  # the generated file becomes several units
    rp.replay_local(units, merger, workers=workers, limits=limits)
    return merger.finish()


def filter_error(path: Path, tmp_path: Path) -> str:
    """What `edi-gate filter --limits TIGHT` says about ``path`` (exit 65), source prefix off."""
    done = subprocess.run(
        [str(EDI_GATE), "filter", str(path), "-o", str(tmp_path / "f.837"), "--limits", TIGHT],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 65, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if LIMIT_BROKEN in ln)
    return line.removeprefix(f"edi-gate: {path}: ")


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    demo, big = tmp_path / "demo.837", tmp_path / "big.837"
    demo.write_bytes(demo_variant("LIM"))
    big.write_bytes(generated(600, 5, "LIMBIG", interchanges=4))
    return [demo, big]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_limit_given_to_replay_is_enforced_by_every_worker(tmp_path, inputs, workers):
    assert len(rp.plan_units(rp.expand_inputs([str(inputs[1])])[0], 40_000)) >= 3
    loose = run(inputs, tmp_path / "loose", workers=workers, limits_spec=None)
    assert loose["files_read"] == 2 and loose["errors"] == [] and loose["claims"] == 608

    tight = run(inputs, tmp_path / "tight", workers=workers, limits_spec=TIGHT)
    assert tight["files_read"] == 0 and tight["claims"] == 0
    errors = {Path(e["source"]).name: e["error"] for e in tight["errors"]}
    assert sorted(errors) == ["big.837", "demo.837"]
    assert all(LIMIT_BROKEN in message for message in errors.values())
    assert errors["demo.837"] == filter_error(inputs[0], tmp_path)
    assert (tmp_path / "tight" / "decisions.jsonl").read_bytes() == b""


def test_replay_takes_limits_as_filter_does(tmp_path, inputs):
    out = tmp_path / "out"
    limits_file = tmp_path / "limits.toml"
    limits_file.write_text("[limits]\nmax_loop_bytes = 200\n")
    command = [str(EDI_GATE), "replay", str(inputs[0]), "--out", str(out), "--log-format", "json"]
    tight = subprocess.run([*command, "--limits", str(limits_file)], capture_output=True, text=True)
    assert tight.returncode == 65, tight.stderr  # no input file could be read
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"][0]["error"] == filter_error(inputs[0], tmp_path)

    wrong = subprocess.run(
        [str(EDI_GATE), "replay", str(inputs[0]), "--out", str(tmp_path / "new")]
        + ["--limits", "nonsense=1"],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 2 and "unknown limit 'nonsense'" in wrong.stderr
    assert not (tmp_path / "new").exists()  # refused before --out is touched
