"""The compiled hot path (setup.py, mypyc) against the same sources run by the interpreter.

One source, two builds: whatever the compiled modules do, the interpreted ones must do byte for
byte, on the project's structural edge cases (tests/data/x12.py), generated claims and, when
../shared is present, the public corpus (interop). Each build runs in its own process
(a module is either the extension or the .py in one interpreter); the interpreted one from a copy
of the package without the extensions.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generate import generate
from tests.data.x12 import CASES
from tests.helpers import CORPUS, FIXTURES, REPO, provenance

EXTENSION_SUFFIXES = (".so", ".pyd")

# Runs one filter per input with a fixed clock and prints, per input, the outputs' bytes (hex) or
# the error; executed by both builds.
DRIVER = r"""
import json, sys, tempfile
from datetime import UTC, datetime
from pathlib import Path
import edi_gate.x12.loops as loops
from edi_gate.errors import X12Error
from edi_gate.pipeline.run import FilterTargets, run_filter_file
from edi_gate.rules.engine import Engine

args = json.loads(sys.argv[1])
engine = Engine.load(None, Path(args["roster"]))
results = {"loops": loops.__file__}
for name in args["inputs"]:
    with tempfile.TemporaryDirectory() as tmp:
        out = {k: str(Path(tmp) / k) for k in ("837", "277", "999", "jsonl")}
        targets = FilterTargets(out["837"], out["277"], out["999"], out["jsonl"],
                                control_state=Path(tmp) / "state")
        try:
            with open(name, "rb") as fh:
                run_filter_file(fh, name, engine, targets, scope=args["scope"],
                                now=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
            results[name] = {k: Path(p).read_bytes().hex() for k, p in out.items()}
        except X12Error as error:
            results[name] = {"error": str(error)}
Path(args["results"]).write_text(json.dumps(results))
"""


def hot_path_modules() -> list[str]:
    """The modules hot-path.txt lists (setup.py compiles them), as module names."""
    lines = (REPO / "hot-path.txt").read_text().splitlines()
    paths = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [path.removesuffix(".py").replace("/", ".") for path in paths]


def is_compiled(module_name: str) -> bool:
    return str(importlib.import_module(module_name).__file__).endswith(EXTENSION_SUFFIXES)


COMPILED = all(is_compiled(name) for name in hot_path_modules())


def test_hot_path_compiled_when_required() -> None:
    """`make test` sets EDI_GATE_REQUIRE_COMPILED: a build that silently fell back to the
    interpreter (no compiler, a mypyc error) must not pass for the shipped one."""
    interpreted = [name for name in hot_path_modules() if not is_compiled(name)]
    if os.environ.get("EDI_GATE_REQUIRE_COMPILED"):
        assert interpreted == [], f"interpreted, expected compiled: {interpreted}"
    elif interpreted:
        pytest.skip(f"pure-Python build ({len(interpreted)} hot-path modules interpreted)")


def test_extensions_built_from_these_sources() -> None:
    """An editable install loads the extension, not the .py beside it: a hot-path module edited
    since the last build would be tested as its old self. setup.py records the sources it
    compiled; `make test` rebuilds, and this catches a bare pytest after an edit."""
    record = REPO / "edi_gate" / ".compiled-sources.json"
    if not COMPILED or not record.exists():
        pytest.skip("not an editable compiled build")
    built = json.loads(record.read_text())
    stale = [
        path
        for path in (name.replace(".", "/") + ".py" for name in hot_path_modules())
        if built.get(path) != hashlib.sha256((REPO / path).read_bytes()).hexdigest()
    ]
    assert stale == [], f"changed since the extensions were built, run `make build`: {stale}"


def test_setup_lists_real_modules() -> None:
    for name in hot_path_modules():
        assert (REPO / (name.replace(".", "/") + ".py")).is_file(), name


@pytest.fixture(scope="module")
def interpreted_tree(tmp_path_factory) -> Path:
    """A copy of the package without its compiled extensions."""
    root = tmp_path_factory.mktemp("interpreted")
    shutil.copytree(
        REPO / "edi_gate",
        root / "edi_gate",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"),
    )
    return root


def run_driver(
    pythonpath: Path, inputs: list[Path], roster: Path, scope: str, results: Path
) -> dict:
    rulesets = REPO / "edi_gate" / "data" / "rulesets"
    env = dict(os.environ, PYTHONPATH=str(pythonpath), EDI_GATE_RULESETS=str(rulesets))
    names = [str(p) for p in inputs]
    payload = json.dumps(
        {"inputs": names, "roster": str(roster), "scope": scope, "results": str(results)}
    )
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, payload],
        env=env,
        cwd=pythonpath,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(results.read_text())
    results.unlink()
    return found


def corpus_x12() -> list[Path]:
    return sorted({CORPUS / row["local_path"] for row in provenance()})


def edge_cases(directory: Path) -> list[Path]:
    """The project's structural edge cases, written out as files."""
    directory.mkdir()
    paths = []
    for name, case in CASES.items():
        paths.append(directory / f"{name}.x12")
        paths[-1].write_bytes(case.build())
    return paths


@pytest.mark.skipif(not COMPILED, reason="needs the compiled build")
@pytest.mark.parametrize(
    ("scope", "corpus"),
    [("claim", False), ("line", False), pytest.param("claim", True, marks=pytest.mark.interop)],
)
def test_compiled_matches_interpreted(
    interpreted_tree: Path, tmp_path: Path, scope: str, corpus: bool
) -> None:
    generated = tmp_path / "generated.837"
    roster = tmp_path / "roster.csv"
    generate(generated, 3_000, seed=11, max_claims_per_st=700, interchanges=2, roster=roster)
    inputs = [FIXTURES / "demo.837", generated]
    inputs += corpus_x12() if corpus else edge_cases(tmp_path / "edge")

    compiled = run_driver(REPO, inputs, roster, scope, tmp_path / "compiled.json")
    interpreted = run_driver(interpreted_tree, inputs, roster, scope, tmp_path / "pure.json")

    assert compiled.pop("loops").endswith(EXTENSION_SUFFIXES)
    assert interpreted.pop("loops").endswith(".py")
    assert set(compiled) == {str(p) for p in inputs}
    decisions = [bytes.fromhex(r["jsonl"]) for r in compiled.values() if "jsonl" in r]
    rejected = sum(d.count(b'"decision":"rejected"') for d in decisions)
    assert rejected > 100, "the comparison should cover rejections, not only clean claims"
    assert any("error" in r for r in compiled.values()), "and unreadable files"
    for name in compiled:
        assert compiled[name] == interpreted[name], f"{name}: builds disagree"
