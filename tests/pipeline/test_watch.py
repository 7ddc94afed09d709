"""The drop-folder watcher in process: what it takes, where outputs go, the job log's recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import structlog

from edi_gate.pipeline.partners import load_partners
from edi_gate.pipeline.watch import (
    DropFolder,
    Router,
    WatchConfig,
    Watcher,
    is_incomplete_name,
    protocol,
    stage,
)
from edi_gate.rules.findings import Finding
from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant


class RejectSome:
    """Engine double: rejects claims whose CLM01 ends with -002 or -005."""

    def evaluate(self, claim) -> list[Finding]:
        if claim.claim_id.endswith(("-002", "-005")):
            return [Finding("TEST001", None, "rejected by the test", "A7", "21", "85")]
        return []


def config(tmp_path: Path, **kwargs) -> WatchConfig:
    return WatchConfig(
        tmp_path / "inbox",
        tmp_path / "out",
        tmp_path / "acks",
        tmp_path / "archive",
        tmp_path / "quarantine",
        settle=kwargs.pop("settle", 0),
        interval=kwargs.pop("interval", 0.1),
        create_dirs=kwargs.pop("create_dirs", True),
        **kwargs,
    )


def watcher(cfg: WatchConfig, partners=None) -> Watcher:
    return Watcher(cfg, Router(cfg, lambda ruleset, roster: RejectSome(), partners))


def drop(cfg: WatchConfig, name: str, data: bytes) -> bytes:
    cfg.inbox.mkdir(parents=True, exist_ok=True)
    (cfg.inbox / name).write_bytes(data)
    return data


def outputs(cfg: WatchConfig) -> tuple[list[Path], list[Path]]:
    return sorted(cfg.out.glob("*.filtered.837")), sorted(cfg.out.glob("*.decisions.jsonl"))


def assert_no_leftovers(cfg: WatchConfig) -> None:
    assert not list(cfg.claimed_dir.iterdir())
    assert not list(cfg.jobs_dir.iterdir())
    for directory in (cfg.out, cfg.acks, cfg.archive, cfg.quarantine):
        hidden = [p for p in directory.rglob(".*")]
        assert not hidden, f"staged files left behind: {hidden}"


def test_incomplete_names():
    for name in ("a.part", "a.837.filepart", "x.tmp", ".a.837", "a.partial"):
        assert is_incomplete_name(name)
    assert not is_incomplete_name("claims.837")


def test_batch_in_arrival_order_with_every_output(tmp_path: Path):
    cfg = config(tmp_path)
    inputs = [drop(cfg, "b.837", demo_variant("B"))]
    time.sleep(0.01)
    inputs.append(drop(cfg, "a.837", demo_variant("A")))
    for name in ("c.837.part", ".hidden.837", "d.837.filepart", "e.tmp"):
        drop(cfg, name, demo_variant("X"))
    with structlog.testing.capture_logs() as events:
        done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["b.837", "a.837"]
    assert sorted(p.name for p in cfg.archive.iterdir()) == ["a.837", "b.837"]
    for name in ("a.837", "b.837"):
        assert (cfg.out / f"{name}.filtered.837").exists()
        assert (cfg.out / f"{name}.decisions.jsonl").exists()
        assert (cfg.acks / f"{name}.277ca").read_bytes().startswith(b"ISA")
        assert (cfg.acks / f"{name}.999").read_bytes().startswith(b"ISA")
        assert oct((cfg.out / f"{name}.filtered.837").stat().st_mode & 0o777) == "0o600"
    left = sorted(p.name for p in cfg.inbox.iterdir() if p.name != ".edi-gate")
    assert left == [".hidden.837", "c.837.part", "d.837.filepart", "e.tmp"]
    counts = assert_files_conservation(inputs, *outputs(cfg))
    assert counts == {"claims": 16, "accepted": 12, "rejected": 4}
    assert_no_leftovers(cfg)
    file_events = [e for e in events if e["event"] == "watch.file"]
    assert [(e["file"], e["claims"], e["accepted"], e["rejected"]) for e in file_events] == [
        ("b.837", 8, 6, 2),
        ("a.837", 8, 6, 2),
    ]
    assert all({"partner", "seconds", "outcome"} <= e.keys() for e in file_events)
    logged = repr(events)
    assert "PATIENT" not in logged and "M0000001" not in logged  # no names or member ids


def test_file_is_taken_only_once_stable():
    clock = [100.0]
    folder_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"drop-{os.getpid()}"
    folder_path.mkdir(exist_ok=True)
    try:
        folder = DropFolder(folder_path, settle=2.0, clock=lambda: clock[0])
        target = folder_path / "x.837"
        data = demo_variant("X")
        target.write_bytes(data[:100])
        assert folder.poll() == []
        clock[0] += 1.5
        with open(target, "ab") as handle:
            handle.write(data[100:])  # still being written: the clock starts again
        assert folder.poll() == []
        clock[0] += 1.9
        assert folder.poll() == []
        clock[0] += 0.2
        assert folder.poll() == ["x.837"]
        other = folder_path / "y.837"
        other.write_bytes(b"ISA")  # incomplete, but renamed into place: taken (and refused)
        folder.mark_renamed("y.837")  # renamed into place: complete now
        assert "y.837" in folder.poll()
    finally:
        for p in folder_path.iterdir():
            p.unlink()
        folder_path.rmdir()


def test_unreadable_files_are_quarantined_and_the_watcher_carries_on(tmp_path: Path):
    # max_wait=0: an incomplete tail is not waited for (see test_watch_hostile for the wait)
    cfg = config(tmp_path, max_wait=0)
    drop(cfg, "garbage.837", b"this is not X12\n")
    time.sleep(0.01)
    drop(cfg, "truncated.837", demo_variant("T")[:2500])
    time.sleep(0.01)
    good = drop(cfg, "good.837", demo_variant("G"))
    done = watcher(cfg).run(once=True)
    assert [(e["file"], e["outcome"]) for e in done] == [
        ("garbage.837", "quarantined"),
        ("truncated.837", "quarantined"),
        ("good.837", "archived"),
    ]
    quarantined = sorted(p.name for p in cfg.quarantine.iterdir())
    assert "garbage.837" in quarantined and "garbage.837.error.json" in quarantined
    assert "truncated.837" in quarantined and "truncated.837.error.json" in quarantined
    report = (cfg.quarantine / "truncated.837.error.json").read_text()
    assert "not readable X12" in report
    assert (cfg.quarantine / "truncated.837").read_bytes() == demo_variant("T")[:2500]
    assert_files_conservation([good], *outputs(cfg))
    assert_no_leftovers(cfg)


def test_partner_routing_and_unknown_senders(tmp_path: Path):
    partners = tmp_path / "partners.toml"
    partners.write_text('[partners.DEMOSUB01]\noutbox = "demo"\n')
    cfg = config(tmp_path)
    known = drop(cfg, "known.837", demo_variant("K"))
    drop(cfg, "stranger.837", demo_variant("S", sender="STRANGER"))
    done = watcher(cfg, load_partners(partners)).run(once=True)
    by_file = {e["file"]: e for e in done}
    assert by_file["known.837"]["partner"] == "DEMOSUB01"
    assert (cfg.acks / "demo" / "known.837.277ca").exists()
    assert by_file["stranger.837"]["outcome"] == "quarantined"
    assert "unknown sender STRANGER" in by_file["stranger.837"]["reason"]
    assert (cfg.quarantine / "stranger.837").exists()
    assert_files_conservation([known], *outputs(cfg))

    partners.write_text('unknown_sender = "default"\n[partners.DEMOSUB01]\noutbox = "demo"\n')
    other = drop(cfg, "stranger2.837", demo_variant("S2", sender="STRANGER"))
    watcher(cfg, load_partners(partners)).run(once=True)
    assert (cfg.acks / "stranger2.837.277ca").exists()
    assert_files_conservation([known, other], *outputs(cfg))


def test_a_name_sent_twice_does_not_overwrite(tmp_path: Path):
    cfg = config(tmp_path)
    first = drop(cfg, "claims.837", demo_variant("ONE"))
    watcher(cfg).run(once=True)
    second = drop(cfg, "claims.837", demo_variant("TWO"))
    watcher(cfg).run(once=True)
    assert sorted(p.name for p in cfg.archive.iterdir()) == ["claims.2.837", "claims.837"]
    assert (cfg.out / "claims.2.837.filtered.837").exists()
    assert_files_conservation([first, second], *outputs(cfg))


def test_crash_after_commit_is_rolled_forward(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    inputs = [drop(cfg, "a.837", demo_variant("A")), drop(cfg, "b.837", demo_variant("B"))]
    real_apply = protocol.apply_moves

    def crash_after_first_move(moves):
        real_apply(moves[:1])
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(protocol, "apply_moves", crash_after_first_move)
    with pytest.raises(KeyboardInterrupt):
        watcher(cfg).run(once=True)
    assert len(list(cfg.jobs_dir.glob("*.json"))) == 1
    monkeypatch.setattr(protocol, "apply_moves", real_apply)
    with structlog.testing.capture_logs() as events:
        watcher(cfg).run(once=True)
    assert any(e.get("action") == "rolled_forward" for e in events)
    assert sorted(p.name for p in cfg.archive.iterdir()) == ["a.837", "b.837"]
    assert_files_conservation(inputs, *outputs(cfg))
    assert_no_leftovers(cfg)


def test_crash_while_staging_is_rolled_back_and_redone(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    inputs = [drop(cfg, "a.837", demo_variant("A"))]
    real_run = stage.run_filter_file

    def crash_after_writing(*args, **kwargs):
        real_run(*args, **kwargs)  # staged outputs are on disk
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(stage, "run_filter_file", crash_after_writing)
    with pytest.raises(KeyboardInterrupt):
        watcher(cfg).run(once=True)
    assert list(cfg.out.glob(".*.staged")), "the crash should leave staged outputs"
    assert not list(cfg.out.glob("*.filtered.837"))
    monkeypatch.setattr(stage, "run_filter_file", real_run)
    with structlog.testing.capture_logs() as events:
        watcher(cfg).run(once=True)
    assert any(e.get("action") == "rolled_back" for e in events)
    assert_files_conservation(inputs, *outputs(cfg))
    assert_no_leftovers(cfg)


def test_claimed_files_are_finished_before_new_ones(tmp_path: Path):
    cfg = config(tmp_path)
    assert cfg.work is not None
    cfg.work.mkdir(mode=0o700)
    cfg.claimed_dir.mkdir(mode=0o700)
    old = demo_variant("OLD")
    (cfg.claimed_dir / "0000000000000000001.old.837").write_bytes(old)
    new = drop(cfg, "new.837", demo_variant("NEW"))
    done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["old.837", "new.837"]
    assert_files_conservation([old, new], *outputs(cfg))


def test_renamed_into_place_is_taken_without_waiting(tmp_path: Path):
    cfg = config(tmp_path, settle=60)  # only the rename can make it ready within the test
    the_watcher = watcher(cfg)
    the_watcher.prepare()
    thread = threading.Thread(target=the_watcher.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        data = drop(cfg, "upload.837.part", demo_variant("R"))
        os.rename(cfg.inbox / "upload.837.part", cfg.inbox / "upload.837")
        deadline = time.monotonic() + 10
        while not (cfg.archive / "upload.837").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (cfg.archive / "upload.837").exists()
    finally:
        the_watcher.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert_files_conservation([data], *outputs(cfg))


def test_sigterm_stops_cleanly(tmp_path: Path):
    cfg = config(tmp_path)
    data = drop(cfg, "a.837", demo_variant("A"))
    process = subprocess.Popen(
        [
            str(EDI_GATE),
            "watch",
            str(cfg.inbox),
            "--out",
            str(cfg.out),
            "--acks",
            str(cfg.acks),
            "--archive",
            str(cfg.archive),
            "--quarantine",
            str(cfg.quarantine),
            "--settle",
            "0.2",
            "--interval",
            "0.1",
            "--log-format",
            "json",
            "--create-dirs",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (cfg.archive / "a.837").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert '"watch.stopped"' in stderr and '"watch.file"' in stderr
    assert_files_conservation([data], *outputs(cfg))


def test_symlinks_and_traversal_cannot_reach_outside_the_inbox(tmp_path: Path):
    cfg = config(tmp_path)
    secret = tmp_path / "outside.837"
    secret.write_bytes(demo_variant("S"))
    cfg.inbox.mkdir(parents=True)
    (cfg.inbox / "link.837").symlink_to(secret)
    (cfg.inbox / "dirlink").symlink_to(tmp_path)
    inputs = [drop(cfg, "real.837", demo_variant("R"))]
    done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["real.837"]
    assert (cfg.inbox / "link.837").is_symlink() and secret.exists()
    assert sorted(p.name for p in cfg.archive.iterdir()) == ["real.837"]
    assert_files_conservation(inputs, *outputs(cfg))
    assert_no_leftovers(cfg)


def test_a_claimed_name_swapped_for_a_symlink_is_not_followed(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    secret = tmp_path / "secret.837"
    secret.write_bytes(demo_variant("S"))
    drop(cfg, "swap.837", demo_variant("W"))
    real_rename = os.rename

    def rename_then_swap(src, dst, *args, **kwargs):
        real_rename(src, dst, *args, **kwargs)
        if Path(dst).parent == cfg.claimed_dir:  # the race: replaced right after the claim
            os.unlink(dst)
            os.symlink(secret, dst)

    monkeypatch.setattr(protocol.os, "rename", rename_then_swap)
    watcher(cfg).run(once=True)
    monkeypatch.setattr(protocol.os, "rename", real_rename)
    written = [p for d in (cfg.out, cfg.acks) if d.exists() for p in d.iterdir()]
    assert not any(b"-S-" in p.read_bytes() or b"DEMO-S" in p.read_bytes() for p in written)
    assert secret.read_bytes() == demo_variant("S")
    (quarantined,) = [p for p in cfg.quarantine.iterdir() if p.name == "swap.837"]
    assert quarantined.is_symlink()  # moved aside as the link it is, never read through
