"""Soak: the watcher works through a few thousand files with every claim accounted for and its
memory flat (peak RSS of a 2,000-file run no more than a few MB above a 200-file run)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant

FILES_SMALL, FILES_LARGE = 200, 2000
TIME_LIMIT = 600  # seconds for the large batch: bounded, never a hang


def _run_watch(tmp_path: Path, files: int) -> tuple[list[bytes], Path, float, int]:
    """Drop ``files`` demo variants in an inbox, run `watch --once`, return inputs and peak RSS."""
    root = tmp_path / f"soak{files}"
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    inputs = []
    for index in range(files):
        data = demo_variant(f"S{files}X{index:05d}")
        (inbox / f"batch{index:05d}.837").write_bytes(data)
        inputs.append(data)
    dirs = {name: root / name for name in ("out", "acks", "archive", "quarantine")}
    started = time.monotonic()
    with open(root / "watch.log", "wb") as log:
        process = subprocess.Popen(
            [
                EDI_GATE,
                "watch",
                str(inbox),
                "--once",
                "--settle",
                "0",
                "--log-format",
                "json",
                "--partners",
                str(root / "none.toml"),
                *[arg for name, path in dirs.items() for arg in (f"--{name}", str(path))],
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in other tests').
        deadline = started + TIME_LIMIT
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"watch did not finish {files} files in {TIME_LIMIT} s")
            time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, (root / "watch.log").read_text()[-2000:]
    return inputs, root, time.monotonic() - started, usage.ru_maxrss


def test_thousands_of_files_conserve_every_claim_with_flat_memory(tmp_path: Path):
    (tmp_path / f"soak{FILES_SMALL}").mkdir()
    (tmp_path / f"soak{FILES_SMALL}" / "none.toml").write_text('unknown_sender = "default"\n')
    (tmp_path / f"soak{FILES_LARGE}").mkdir()
    (tmp_path / f"soak{FILES_LARGE}" / "none.toml").write_text('unknown_sender = "default"\n')
    small_inputs, small_root, _, small_peak = _run_watch(tmp_path, FILES_SMALL)
    large_inputs, large_root, seconds, large_peak = _run_watch(tmp_path, FILES_LARGE)
    for inputs, root in ((small_inputs, small_root), (large_inputs, large_root)):
        counts = assert_files_conservation(
            inputs,
            sorted((root / "out").glob("*.filtered.837")),
            sorted((root / "out").glob("*.decisions.jsonl")),
        )
        assert counts["claims"] == 8 * len(inputs)
        assert len(list((root / "archive").iterdir())) == len(inputs)
        assert not list((root / "quarantine").iterdir())
    # RUSAGE_CHILDREN's peak is the largest child so far: the large run may not add more than a
    # few MB to what 200 files needed, i.e. nothing grows per file.
    print(
        f"soak: peak RSS {small_peak} KiB for {FILES_SMALL} files, {large_peak} KiB for {FILES_LARGE}"
    )
    assert large_peak - small_peak < 8 * 1024, (small_peak, large_peak)
    assert seconds < TIME_LIMIT
