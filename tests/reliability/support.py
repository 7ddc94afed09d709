"""Shared pieces of the reliability tests: running the real CLI, reading what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO

EDI_GATE = Path(sys.executable).with_name("edi-gate")
OUTPUT_NAMES = ("out.837", "acks.277", "acks.999", "decisions.jsonl")


@dataclass
class CliRun:
    status: int
    stdout: str
    stderr: str
    outdir: Path

    def path(self, name: str) -> Path:
        return self.outdir / name

    def written(self) -> list[str]:
        """Every file left in the output directory (temporary files included)."""
        return sorted(p.name for p in self.outdir.iterdir())


def run_cli(
    input_path: Path, outdir: Path, *extra: str, timeout: float = 120, umask: int | None = None
) -> CliRun:
    """``edi-gate filter`` with all four outputs in ``outdir``, as a subprocess.

    ``extra`` replaces the default ``--log-format json``.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(EDI_GATE),
        "filter",
        str(input_path),
        "-o",
        str(outdir / "out.837"),
        "--acks",
        str(outdir / "acks.277"),
        "--ack999",
        str(outdir / "acks.999"),
        "--decisions",
        str(outdir / "decisions.jsonl"),
        *(extra or ("--log-format", "json")),
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509
    )
    return CliRun(result.returncode, result.stdout, result.stderr, outdir)


def assert_no_traceback(run: CliRun) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "Traceback" not in run.stdout, run.stdout
