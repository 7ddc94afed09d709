"""The interop layer of tests/conftest.py, run in a scratch pytest session per case.

Without the shared corpus: interop tests skip under one summary line and the run passes. With
EDI_GATE_REQUIRE_INTEROP=1 (CI): a missing corpus stops the run, and an interop test that skips
for any reason fails it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

MODULE = """
import pytest

@pytest.mark.interop
def test_reads_the_corpus_a():
    pass

@pytest.mark.interop
@pytest.mark.parametrize("n", [1, 2])
def test_reads_the_corpus_b(n):
    pass

@pytest.mark.interop
def test_skips_for_its_own_reason():
    pytest.skip("pyx12 cannot read this one")

def test_project_only():
    pass
"""
BAD_SKIPS = """
import pytest

def test_says_nothing():
    pytest.skip("")

def test_says_too_much():
    pytest.skip("first line\\nsecond line")

@pytest.mark.skip(reason="one line")
def test_says_why():
    pass
"""


def session(
    tmp_path: Path, shared: Path, require: bool, module: str = MODULE
) -> subprocess.CompletedProcess:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    (tmp_path / "test_sample.py").write_text(module)
    env = dict(os.environ, PYTHONPATH=str(REPO), EDI_GATE_SHARED=str(shared))
    env.pop("EDI_GATE_REQUIRE_INTEROP", None)
    if require:
        env["EDI_GATE_REQUIRE_INTEROP"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fake_shared(tmp_path: Path) -> Path:
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "PROVENANCE.tsv").write_text("local_path\n")
    (shared / "seeds").mkdir()
    (shared / "reference").mkdir()
    return shared


def test_absent_corpus_skips_every_interop_test_under_one_line(tmp_path: Path) -> None:
    run = session(tmp_path / "s", tmp_path / "nowhere", require=False)
    assert run.returncode == 0, run.stdout
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, run.stdout
    assert skipped[0].startswith("SKIPPED [4] ")
    assert skipped[0].endswith(
        "public X12 corpus not found: 4 interop tests skipped; set EDI_GATE_SHARED"
    )
    assert "1 passed, 4 skipped" in run.stdout


def test_absent_corpus_fails_the_run_when_required(tmp_path: Path) -> None:
    run = session(tmp_path / "s", tmp_path / "nowhere", require=True)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "EDI_GATE_REQUIRE_INTEROP=1 but the public X12 corpus is not complete" in run.stderr
    assert "passed" not in run.stdout


def test_present_corpus_runs_the_interop_tests(tmp_path: Path, fake_shared: Path) -> None:
    run = session(tmp_path / "s", fake_shared, require=False)
    assert run.returncode == 0, run.stdout
    assert "4 passed, 1 skipped" in run.stdout
    assert "pyx12 cannot read this one" in run.stdout


def test_a_skipped_interop_test_fails_when_required(tmp_path: Path, fake_shared: Path) -> None:
    run = session(tmp_path / "s", fake_shared, require=True)
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
    assert "1 failed, 4 passed" in run.stdout
    assert "interop test skipped although EDI_GATE_REQUIRE_INTEROP=1" in run.stdout
    assert "pyx12 cannot read this one" in run.stdout


def test_a_skip_must_say_why_in_one_line(tmp_path: Path, fake_shared: Path) -> None:
    run = session(tmp_path / "s", fake_shared, require=False, module=BAD_SKIPS)
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout
    assert "2 failed, 1 skipped" in run.stdout
    assert run.stdout.count("a skip must say why in one line") >= 2


SHARED_NAMES = {"SHARED", "CORPUS", "SEEDS", "REFERENCE", "provenance", "corpus_files"}


def test_every_test_reading_the_shared_material_is_marked_interop() -> None:
    """A test whose body uses the shared material (names imported from tests.helpers) carries the
    interop mark, itself or through its module's pytestmark: otherwise a fresh clone fails it."""
    unmarked = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "tests.helpers"
            for alias in node.names
        } & SHARED_NAMES
        module_marked = any(
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
            and "interop" in ast.unparse(node.value)
            for node in tree.body
        )
        if not imported or module_marked:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & imported
            marked = any("interop" in ast.unparse(d) for d in node.decorator_list)
            if used and not marked:
                unmarked.append(f"{path.relative_to(REPO)}::{node.name} uses {sorted(used)}")
    assert unmarked == []
