"""Faults: a full disk or an unwritable output directory fails the run cleanly.

The CLI exits 74 (EX_IOERR) with one line naming the path and the reason, leaves the input in
place and no output (not even a temporary file) behind. Uses a 64 KiB tmpfs, a read-only tmpfs
and an immutable directory (root ignores permission bits); skipped when mounts are not allowed.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.data.x12 import generated
from tests.helpers import FIXTURES
from tests.reliability.support import assert_no_traceback, run_cli


@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {' '.join(mounted.stderr.split())}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_clean_failure(run, input_path: Path, digest: str) -> None:
    assert_no_traceback(run)
    assert run.status == 74, (run.status, run.stderr)
    lines = [line for line in run.stderr.splitlines() if line.startswith("edi-gate: ")]
    assert len(lines) == 1, run.stderr
    assert "cannot write outputs" in lines[0] and str(run.outdir) in lines[0], lines[0]
    assert run.written() == [], run.written()  # no partial output, no temporary file
    assert _digest(input_path) == digest  # the input is untouched, still in place


def test_disk_full(tmp_path):
    big = tmp_path / "big.837"
    big.write_bytes(generated(7, claims=400))
    assert big.stat().st_size > 128 << 10
    digest = _digest(big)
    with tmpfs(tmp_path / "full", "size=64k") as out:
        run = run_cli(big, out)
        _assert_clean_failure(run, big, digest)
        assert "No space left on device" in run.stderr


def test_read_only_output_directory(tmp_path):
    demo = FIXTURES / "demo.837"
    digest = _digest(demo)
    with tmpfs(tmp_path / "ro", "size=64k,ro") as out:
        run = run_cli(demo, out)
        _assert_clean_failure(run, demo, digest)
        assert "Read-only file system" in run.stderr


def test_immutable_output_directory(tmp_path):
    out = tmp_path / "immutable"
    out.mkdir()
    locked = subprocess.run(["chattr", "+i", str(out)], capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip(f"chattr +i not supported here: {' '.join(locked.stderr.decode().split())}")
    try:
        demo = FIXTURES / "demo.837"
        run = run_cli(demo, out)
        _assert_clean_failure(run, demo, _digest(demo))
        assert "Operation not permitted" in run.stderr
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=False)


def test_missing_output_directory(tmp_path):
    demo = FIXTURES / "demo.837"
    run = run_cli(demo, tmp_path / "out")
    assert run.status == 0
    missing = tmp_path / "no" / "such"
    from tests.reliability.support import EDI_GATE

    result = subprocess.run(
        [
            str(EDI_GATE),
            "filter",
            str(demo),
            "-o",
            str(missing / "out.837"),
            "--log-format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 74, result.stderr
    assert "Traceback" not in result.stderr and str(missing) in result.stderr
