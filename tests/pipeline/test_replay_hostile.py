"""`edi-gate replay` against hostile trees, careless cuts, full disks and signals (issue 14)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from edi_gate.pipeline import replay as rp
from edi_gate.pipeline.isa import byte_ranges
from tests.pipeline.support import (
    EDI_GATE,
    demo_variant,
    generated,
    one_line_error,
    read_decisions,
)

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo.837"


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EDI_GATE), *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_links_out_of_the_tree_are_not_followed(tmp_path: Path):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.837").write_bytes(demo_variant("A"))
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$SECRETHASH:19000:0:99999:7:::\n")
    (tree / "shadow.837").symlink_to(secret)
    (tree / "outside").symlink_to(tmp_path)
    (tree / "sub" / "inside.837").symlink_to(tree / "a.837")  # inside the tree: fine
    result = cli("replay", str(tree), "--out", str(tmp_path / "out"), "--log-format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["files_read"] == 2
    errors = {Path(e["source"]).name: e["error"] for e in summary["errors"]}
    assert "out of the given directory" in errors["shadow.837"]
    assert "outside" in errors
    everything = "".join(p.read_text() for p in (tmp_path / "out").iterdir()) + result.stdout
    assert "SECRETHASH" not in everything


def test_cutting_never_changes_decisions(tmp_path: Path):
    """``ISAX*1~`` right after a segment looked like an interchange start: the old cut gave 0
    claims and exit 65 where filter decided them all."""
    body = generated(6000, 7, "CUT", interchanges=2)
    at = body.index(b"\nCLM*", (1 << 20) + 1000)  # past the first 1 MiB cut, inside a claim run
    data = body[: at + 1] + b"ISAX*1~\n" + body[at + 1 :]
    assert body.index(b"ISA*", 10) > at  # still inside the first interchange
    path = tmp_path / "tricky.837"
    path.write_bytes(data)
    assert len(data) > 1 << 20
    for start, _end in byte_ranges(path, 1 << 20)[1:]:
        assert data[start : start + 4] == b"ISA*"
    results = {}
    for split in ("1", "64"):
        out = tmp_path / f"out-{split}"
        run = cli("replay", str(path), "--out", str(out), "--split-size", split)
        summary = json.loads((out / "summary.json").read_text())
        results[split] = (run.returncode, summary["claims"], (out / "decisions.jsonl").read_bytes())
    assert results["1"] == results["64"]
    assert results["1"][1] > 0


def test_a_file_with_an_unreadable_part_is_an_error_whole(tmp_path: Path):
    one = generated(9000, 9, "P", interchanges=3)
    isa = [i for i in range(len(one)) if one.startswith(b"ISA*", i)]
    # the second interchange never ends: its IEA is hidden, the third ISA arrives inside it
    last_iea = one.rfind(b"IEA*", 0, isa[2])
    broken = one[:last_iea] + b"IEX*" + one[last_iea + 4 :]
    path = tmp_path / "broken.837"
    path.write_bytes(broken)
    for split in (1 << 20, 64 << 20):
        sources, _ = rp.expand_inputs([str(path)])
        report = rp.ResultMerger(tmp_path / f"out{split}", rp.EngineSpec())
        rp.replay_local(rp.plan_units(sources, split), report)
        data = report.finish()
        assert data["claims"] == 0 and data["files_read"] == 0, split


def test_outputs_are_private_whatever_the_umask(tmp_path: Path):
    out = tmp_path / "out"
    result = cli("replay", str(DEMO), "--out", str(out), preexec_fn=lambda: os.umask(0))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_missing_input_exits_66(tmp_path: Path):
    result = cli("replay", str(tmp_path / "nothing.837"), "--out", str(tmp_path / "out"))
    assert "nothing.837" in one_line_error(result, 66)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_exits_74_and_leaves_nothing(tmp_path: Path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        big = tmp_path / "big.837"
        big.write_bytes(generated(3000, 3, "FULL"))
        result = cli("replay", str(big), "--out", str(disk / "out"))
        assert "No space left" in one_line_error(result, 74)
        assert os.listdir(disk / "out") == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_workers_are_capped_at_the_work_available(tmp_path: Path):
    (tmp_path / "a.837").write_bytes(demo_variant("A"))
    (tmp_path / "b.837").write_bytes(demo_variant("B"))
    out = tmp_path / "out"
    result = cli(
        "replay",
        str(tmp_path / "a.837"),
        str(tmp_path / "b.837"),
        "--out",
        str(out),
        "--workers",
        "400",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["workers"] <= 2
    assert rp.cap_workers(400, 2) == 2 and rp.cap_workers(3, 1000) <= 3


def test_sigterm_and_the_next_run_clean_the_spool(tmp_path: Path):
    big = tmp_path / "big.837"
    big.write_bytes(generated(20000, 5, "TERM", interchanges=8))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [str(EDI_GATE), "replay", str(big), "--out", str(out), "--split-size", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".replay-*")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert process.returncode == 128 + signal.SIGTERM
    assert os.listdir(out) == []
    # a SIGKILLed run's leftovers go with the next run
    stale = out / ".replay-999999-abc"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "unit-000001.x.decisions.jsonl").write_text("{}\n")
    (out / ".decisions.jsonl.zz1234.tmp").write_text("half")
    result = cli("replay", str(DEMO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ["decisions.jsonl", "summary.json", "summary.txt"]
    assert len(read_decisions([out / "decisions.jsonl"])) == 8
