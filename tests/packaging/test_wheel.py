"""A wheel installed outside the source tree is a working product.

Builds a wheel from a copy of the sources (pure Python: EDI_GATE_PURE_PYTHON=1, the compiled build
is tested elsewhere), installs it with ``--no-index --no-deps`` into a fresh virtual environment
in a temporary directory, and runs ``edi-gate rules list`` and ``edi-gate filter`` on the demo
from a directory outside the repository, with no PYTHONPATH: the default rulesets and example
roster must come from inside the installed package (edi_gate/resources.py). The runtime
dependencies come from the environment running the tests (a ``.pth`` file), so nothing is
downloaded for the install itself; building the wheel uses pip's build isolation (setuptools and
mypy from the index or pip's cache) unless this environment already has setuptools >= 77.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, REPO

pytestmark = pytest.mark.slow

SOURCES = ["pyproject.toml", "setup.py", "README.md", "edi_gate"]
PACKAGE_DATA = [
    "edi_gate/data/rulesets/imaging-2024.toml",
    "edi_gate/data/conf/roster.csv",
    "edi_gate/data/conf/partners.toml",
]


def shipped_data() -> set[str]:
    """Every file under edi_gate/data in the source tree: all of it must be in the wheel."""
    root = REPO / "edi_gate" / "data"
    return {
        str(path.relative_to(REPO))
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything pointing back at the source tree."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "EDI_GATE_", "PIP_REQUIRE", "VIRTUAL_ENV"))
    }
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def run(command: list[str], cwd: Path, timeout: float = 600, **env: str):
    done = subprocess.run(
        command,
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done


def modern_setuptools() -> bool:
    try:
        return int(metadata.version("setuptools").split(".")[0]) >= 77
    except metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin directory of a fresh venv holding only the wheel (dependencies via a .pth)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            ignore = shutil.ignore_patterns(
                "*.so", "*.pyd", "__pycache__", ".compiled-sources.json"
            )
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    isolation = ["--no-build-isolation"] if modern_setuptools() else []
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation]
        + ["-w", str(root / "dist"), str(source)],
        cwd=root,
        EDI_GATE_PURE_PYTHON="1",
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("edi_gate-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert set(PACKAGE_DATA) <= shipped_data() <= names, sorted(shipped_data() - names)
    assert not any(n.startswith(("tests/", "fixtures/", "bench/")) for n in names)

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    python = bin_dir / "python"
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root)
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site.stdout.strip(), "_edi_gate_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    install = run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        + ["--no-index", "--no-deps", "--ignore-installed", str(wheel)],
        cwd=root,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return bin_dir


def test_the_installed_package_is_the_wheel_not_the_sources(installed: Path, tmp_path: Path):
    where = run(
        [str(installed / "python"), "-c", "import edi_gate, sys; print(edi_gate.__file__)"],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(REPO)


def test_rules_list_outside_the_source_tree(installed: Path, tmp_path: Path):
    listed = run([str(installed / "edi-gate"), "rules", "list"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "PRIV001" in listed.stdout and "PRIV007" in listed.stdout


def test_filter_the_demo_outside_the_source_tree(installed: Path, tmp_path: Path):
    """The same decisions and filtered 837 as the source tree's edi-gate gives the demo."""
    demo = tmp_path / "demo.837"
    shutil.copy2(FIXTURES / "demo.837", demo)
    results = {}
    for label, program in [("wheel", installed / "edi-gate"), ("tree", None)]:
        out = tmp_path / label
        out.mkdir()
        command = [str(program)] if program else [str(Path(sys.executable).with_name("edi-gate"))]
        args = ["filter", str(demo), "-o", str(out / "out.837"), "--decisions"]
        args += [str(out / "decisions.jsonl"), "--acks", str(out / "acks.277")]
        env = {} if program else {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        done = run(command + args, cwd=tmp_path, **env)
        assert done.returncode == 0, done.stderr
        results[label] = out
    records = [
        json.loads(x) for x in (results["wheel"] / "decisions.jsonl").read_text().splitlines()
    ]
    assert len(records) == 8
    assert {r["decision"] for r in records} == {"accepted", "rejected"}
    for name in ("out.837", "decisions.jsonl"):
        wheel_bytes = (results["wheel"] / name).read_bytes()
        assert wheel_bytes == (results["tree"] / name).read_bytes(), name
    assert b"STC*A2:20" in (results["wheel"] / "acks.277").read_bytes()
