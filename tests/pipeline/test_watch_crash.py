"""kill -9 at every point of the job state machine while `edi-gate watch --once` works through a
batch: after a final clean run every claim is in exactly one output, none lost, none twice.

Deterministic, not timed: the watcher SIGKILLs itself at a chosen checkpoint (the test hook
``EDI_GATE_TEST_CRASH_AT=POINT:N``, see :func:`edi_gate.pipeline.watch.checkpoint`): before and
after the claim, after the snapshot, staging, staged, committed, before each move (also the
moves recovery replays) and once a job is done. The same kills happen on an idle or a loaded
machine, so the test cannot pass by luck or fail by load."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant, generated

POINTS = [
    "claiming",
    "claimed",
    "snapshot",
    "staging",
    "staged",
    "committed",
    *[f"move{i}" for i in range(6)],
    "done",
]
# Each point once at its first pass, then the commit points again at a later pass (a kill in
# the middle of the recovery of the previous kill's job, or of a later file).
SCHEDULE = [f"{p}:1" for p in POINTS] + [f"{p}:2" for p in ("committed", "move1", "move4")]


def test_kill_9_at_every_state_loses_and_duplicates_nothing(tmp_path: Path):
    inbox, out, acks = tmp_path / "inbox", tmp_path / "out", tmp_path / "acks"
    archive, quarantine = tmp_path / "archive", tmp_path / "quarantine"
    inbox.mkdir()
    inputs: dict[str, bytes] = {}
    for index in range(len(SCHEDULE) + 4):
        inputs[f"small{index:02d}.837"] = demo_variant(f"S{index:02d}")
    for index in range(2):
        inputs[f"big{index}.837"] = generated(600, 40 + index, f"B{index}", interchanges=2)
    for name, data in inputs.items():
        (inbox / name).write_bytes(data)

    command = [
        str(EDI_GATE),
        "watch",
        str(inbox),
        *("--out", str(out), "--acks", str(acks), "--archive", str(archive)),
        *("--quarantine", str(quarantine), "--create-dirs"),
        *("--once", "--settle", "0", "--log-format", "json"),
    ]
    kills = []
    for crash_at in SCHEDULE:
        env = dict(os.environ, EDI_GATE_TEST_CRASH_AT=crash_at)
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == -9, (crash_at, run.returncode, run.stderr[-2000:])
        assert "Traceback" not in run.stderr
        kills.append(crash_at)
    final = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    assert len(kills) == len(SCHEDULE)

    work = tmp_path / ".inbox.edi-gate"
    assert sorted(p.name for p in archive.iterdir()) == sorted(inputs)
    assert not list(quarantine.iterdir())
    assert not list(inbox.iterdir())
    for sub in ("claimed", "jobs", "snap"):
        assert not list((work / sub).iterdir()), sub
    for directory in (out, acks):
        assert not [p for p in directory.iterdir() if p.name.startswith(".")]
    for name in inputs:
        assert (acks / f"{name}.277ca").exists() and (acks / f"{name}.999").exists()
        assert (archive / name).read_bytes() == inputs[name]
    counts = assert_files_conservation(
        list(inputs.values()),
        sorted(out.glob("*.filtered.837")),
        sorted(out.glob("*.decisions.jsonl")),
    )
    assert counts["claims"] == 8 * (len(SCHEDULE) + 4) + 2 * 600
