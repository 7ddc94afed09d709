"""kill -9 at random moments while `edi-gate watch --once` works through a batch: after a final
clean run every claim is in exactly one output, none lost, none written twice."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant, generated

TIME_BUDGET = 20.0  # seconds of kill/restart cycles; the test stays around half a minute
BIG_FILES, BIG_CLAIMS = 8, 2500
MAX_DELAY = 0.8  # longest a run lives before its kill


def test_kill_9_at_many_points_loses_and_duplicates_nothing(tmp_path: Path):
    inbox, out, acks = tmp_path / "inbox", tmp_path / "out", tmp_path / "acks"
    archive, quarantine = tmp_path / "archive", tmp_path / "quarantine"
    inbox.mkdir()
    inputs: dict[str, bytes] = {}
    for index in range(12):
        inputs[f"small{index:02d}.837"] = demo_variant(f"S{index:02d}")
    # Bigger files widen the window a kill can land in: the batch must take several times the
    # longest kill delay even on a fast, idle machine, or the first run finishes it unkilled.
    for index in range(BIG_FILES):
        inputs[f"big{index}.837"] = generated(BIG_CLAIMS, 40 + index, f"B{index}", interchanges=2)
    for name, data in inputs.items():
        (inbox / name).write_bytes(data)

    command = [
        str(EDI_GATE),
        "watch",
        str(inbox),
        "--out",
        str(out),
        "--acks",
        str(acks),
        "--archive",
        str(archive),
        "--quarantine",
        str(quarantine),
        "--once",
        "--settle",
        "0",
        "--log-format",
        "json",
    ]
    rng = random.Random(20261124)
    kills = 0
    started = time.monotonic()
    while time.monotonic() - started < TIME_BUDGET:
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=rng.uniform(0.05, MAX_DELAY))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        if process.returncode == 0:
            break  # a run got through the whole batch
    final = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert final.returncode == 0, final.stderr
    print(f"{kills} kills in {time.monotonic() - started:.1f} s")
    assert kills >= 5, "the kill loop should have interrupted the watcher many times"

    assert sorted(p.name for p in archive.iterdir()) == sorted(inputs)
    assert not list(quarantine.iterdir())
    assert [p.name for p in inbox.iterdir()] == [".edi-gate"]
    assert not list((inbox / ".edi-gate" / "claimed").iterdir())
    assert not list((inbox / ".edi-gate" / "jobs").iterdir())
    for directory in (out, acks):
        assert not [p for p in directory.iterdir() if p.name.startswith(".")]
        for name in inputs:
            assert (acks / f"{name}.277ca").exists() and (acks / f"{name}.999").exists()
    counts = assert_files_conservation(
        list(inputs.values()),
        sorted(out.glob("*.filtered.837")),
        sorted(out.glob("*.decisions.jsonl")),
    )
    assert counts["claims"] == 12 * 8 + BIG_FILES * BIG_CLAIMS
