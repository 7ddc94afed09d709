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


def test_kill_9_after_a_tail_commits_under_a_long_name_decides_the_tail_once(tmp_path: Path):
    """A client appends to a file after its job (the tail becomes a job of its own, whose base
    is the first job's with ".2"). With a long name (a base of MAX_BASE_BYTES) the ".2" base was
    not "safe" to recovery: the committed manifest was set aside, never rolled forward, and the
    claimed original was decided again from its first byte (a retry did the same with the
    tail). kill -9 right after the tail's commit: every claim still decided exactly once."""
    inbox, out, acks = tmp_path / "inbox", tmp_path / "out", tmp_path / "acks"
    archive, quarantine = tmp_path / "archive", tmp_path / "quarantine"
    inbox.mkdir()
    name = "p" * 240 + ".837"
    first = demo_variant("LA")
    second = demo_variant("LB").replace(b"000000101", b"000000102")
    (inbox / name).write_bytes(first)
    command = [
        str(EDI_GATE),
        "watch",
        str(inbox),
        *("--out", str(out), "--acks", str(acks), "--archive", str(archive)),
        *("--quarantine", str(quarantine), "--create-dirs"),
        *("--once", "--settle", "0", "--log-format", "json"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    work = tmp_path / ".inbox.edi-gate"
    (original,) = [p for p in (work / "done").iterdir() if p.suffix != ".json"]
    with open(original, "ab") as handle:  # the client, after its pause
        handle.write(second)

    env = dict(os.environ, EDI_GATE_TEST_CRASH_AT="committed:1")  # the tail's commit
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == -9, run.stderr[-2000:]
    final = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr

    counts = assert_files_conservation(
        [first + second],
        sorted(out.glob("*.filtered.837")),
        sorted(out.glob("*.decisions.jsonl")),
    )
    assert counts["claims"] == 16
    for sub in ("claimed", "jobs", "snap"):
        assert not list((work / sub).iterdir()), sub
    assert not (work / "rejected").exists()
    assert "watch.manifest_rejected" not in final.stderr
    assert sorted(p.read_bytes() for p in archive.iterdir()) == sorted([first, second])
