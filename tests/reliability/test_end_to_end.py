"""End to end through the CLI: conservation with the 277CA, and determinism.

Conservation (``tests.helpers.assert_conservation``): claims in = accepted + rejected, the filtered
837 holds exactly the accepted claims byte for byte, the 277CA acknowledges exactly the decided
claims. Determinism: the same input, ruleset and roster give byte-identical outputs; with the
clock and control numbers fixed (``run_filter_file(now=...)``) that includes the 277CA and 999.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edi_gate.pipeline.filter import Summary
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from tests.data import x12
from tests.data.x12 import generated
from tests.helpers import (
    CORPUS,
    FIXTURES,
    Result,
    ack277_claims,
    assert_conservation,
    default_engine,
)
from tests.reliability.support import assert_no_traceback, run_cli

INPUTS = {
    "demo": lambda: (FIXTURES / "demo.837").read_bytes(),
    "generated": lambda: generated(21, claims=60),
    "generated-newlines": lambda: generated(22, claims=30, newlines=True),
    "bom-crlf-indented": lambda: x12.demo_file(x12.BOM_CRLF),
    "several-groups": x12.several_groups,
    "many-interchanges": x12.many_interchanges,
    "many-claims": lambda: (CORPUS / "imsweb-x12-parser/x12_many_claims.txt").read_bytes(),
    "multiple-isa": lambda: (CORPUS / "imsweb-x12-parser/x12_multiple_isa.txt").read_bytes(),
    "medicaid": lambda: (CORPUS / "oopfactory-x12/MedicaidExample.txt").read_bytes(),
}
FROM_CORPUS = {"many-claims", "multiple-isa", "medicaid"}


def inputs(*names: str) -> list:
    """Input names as parameters, those read from the public corpus marked interop."""
    return [
        pytest.param(name, marks=pytest.mark.interop) if name in FROM_CORPUS else name
        for name in names
    ]


def _summary(stderr: str) -> Summary:
    for line in stderr.splitlines():
        if line.startswith("{") and '"filter.summary"' in line:
            record = json.loads(line)
            return Summary(
                record["source"],
                claims=record["claims"],
                accepted=record["accepted"],
                rejected=record["rejected"],
            )
    raise AssertionError(f"no filter.summary in the log: {stderr}")


def cli_result(run) -> Result:
    decisions = [json.loads(x) for x in run.path("decisions.jsonl").read_text().splitlines()]
    return Result(_summary(run.stderr), run.path("out.837").read_bytes(), decisions)


@pytest.mark.parametrize("name", inputs(*sorted(INPUTS)))
@pytest.mark.parametrize("scope", ["claim", "line"])
def test_cli_conserves_claims_and_is_deterministic(tmp_path, name, scope):
    data = INPUTS[name]()
    source = tmp_path / f"{name}.837"
    source.write_bytes(data)
    first = run_cli(source, tmp_path / "a", "--scope", scope, "--log-format", "json")
    second = run_cli(source, tmp_path / "b", "--scope", scope, "--log-format", "json")
    for run in (first, second):
        assert_no_traceback(run)
        assert run.status == 0, run.stderr
    result = cli_result(first)
    assert result.summary.claims > 0
    acked = ack277_claims(first.path("acks.277").read_bytes())
    assert_conservation(result, data, acked, byte_identical=True)
    for output in ("out.837", "decisions.jsonl"):
        assert first.path(output).read_bytes() == second.path(output).read_bytes(), output


def _run_in_process(data: bytes, outdir: Path) -> dict[str, bytes]:
    outdir.mkdir()
    targets = FilterTargets(
        output=str(outdir / "out.837"),
        acks=str(outdir / "acks.277"),
        ack999=str(outdir / "acks.999"),
        decisions=str(outdir / "decisions.jsonl"),
    )
    now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    run_filter_file(io.BytesIO(data), "input.837", default_engine(), targets, now=now)
    return {p.name: p.read_bytes() for p in sorted(outdir.iterdir())}


@pytest.mark.parametrize("name", inputs("demo", "generated", "several-groups", "multiple-isa"))
def test_fixed_clock_gives_byte_identical_acknowledgments(tmp_path, name):
    data = INPUTS[name]()
    first = _run_in_process(data, tmp_path / "a")
    second = _run_in_process(data, tmp_path / "b")
    assert sorted(first) == ["acks.277", "acks.999", "decisions.jsonl", "out.837"]
    assert first == second
