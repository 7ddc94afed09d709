"""The watcher against a hostile partner, a careless operator and a failing disk (issue 14):
each test is one reproduced break, failing before the fix."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import structlog

from edi_gate.errors import ConfigError
from edi_gate.pipeline.partners import load_partners
from edi_gate.pipeline.watch import (
    WatchConfig,
    protocol,
    safe_base,
    stage,
)
from tests.pipeline.support import (
    EDI_GATE,
    assert_files_conservation,
    demo_variant,
)
from tests.pipeline.test_watch import config, drop, outputs, watcher


def prepared(cfg: WatchConfig) -> None:
    """Create and check the directories as a watcher would, then let go of the lock."""
    the_watcher = watcher(cfg)
    the_watcher.prepare()
    the_watcher.close()


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EDI_GATE), *args], capture_output=True, text=True, timeout=120, **kwargs
    )


def watch_args(root: Path, *extra: str) -> list[str]:
    return [
        "watch",
        str(root / "inbox"),
        *("--out", str(root / "out"), "--acks", str(root / "acks")),
        *("--archive", str(root / "archive"), "--quarantine", str(root / "quarantine")),
        *("--settle", "0", "--log-format", "json"),
        *extra,
    ]


# 1. the work area ------------------------------------------------------------------------------


def test_the_work_area_is_outside_the_inbox_and_private(tmp_path: Path):
    cfg = config(tmp_path)
    data = drop(cfg, "a.837", demo_variant("A"))
    watcher(cfg).run(once=True)
    assert cfg.work is not None and cfg.inbox not in cfg.work.parents
    assert list(cfg.inbox.iterdir()) == []
    assert stat.S_IMODE(cfg.work.stat().st_mode) == 0o700
    assert cfg.control_state is None  # control numbers: the state database, not the inbox
    assert_files_conservation([data], *outputs(cfg))


def test_a_work_area_inside_the_inbox_is_refused(tmp_path: Path):
    cfg = config(tmp_path, work=tmp_path / "inbox" / ".edi-gate")
    cfg.inbox.mkdir()
    with pytest.raises(ConfigError, match="inside the inbox"):
        watcher(cfg).prepare()


@pytest.mark.parametrize(
    ("role", "mode", "message"),
    [
        ("archive", 0o777, "writable by others"),
        ("out", 0o770, "writable by its group"),
        ("inbox", 0o777, "writable by others"),
        ("work", 0o755, "must be private"),
    ],
)
def test_directories_others_can_write_are_refused(tmp_path: Path, role, mode, message):
    cfg = config(tmp_path)
    prepared(cfg)  # creates them all, private
    path = cfg.work if role == "work" else getattr(cfg, role)
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match=message):
        watcher(cfg).prepare()


def test_the_inbox_may_be_group_writable_for_the_partner(tmp_path: Path):
    cfg = config(tmp_path)
    cfg.inbox.mkdir()
    os.chmod(cfg.inbox, 0o2770)
    watcher(cfg).prepare()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_directories_owned_by_another_user_are_refused(tmp_path: Path):
    cfg = config(tmp_path)
    prepared(cfg)
    os.chown(cfg.quarantine, 65534, -1)
    with pytest.raises(ConfigError, match="owned by another user"):
        watcher(cfg).prepare()


# 2. names and modes ------------------------------------------------------------------------------


def test_any_name_a_partner_can_create_is_handled(tmp_path: Path):
    cfg = config(tmp_path)
    cfg.inbox.mkdir()
    names = {
        "n" * 255: demo_variant("LONG"),  # NAME_MAX: the old staged name overflowed
        "a" * 200 + ".837": demo_variant("L200"),
        os.fsdecode(b"bad\xff\xfe.837"): demo_variant("BYTES"),
        "esc\x1b[31m\nnewline.837": demo_variant("ESC"),
        "-rf .837": demo_variant("DASH"),
    }
    for name, data in names.items():
        (cfg.inbox / name).write_bytes(data)
    done = watcher(cfg).run(once=True)
    assert len(done) == len(names)
    assert all(e["outcome"] == "archived" for e in done)
    for name in names:
        assert (cfg.archive / safe_base(name)).exists()
        assert len(os.fsencode(safe_base(name) + ".9.decisions.jsonl")) <= 255
    assert_files_conservation(list(names.values()), *outputs(cfg))
    logged = json.dumps(done)
    assert "\x1b" not in logged


def test_modes_and_kinds_are_quarantined_or_left_with_a_reason(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    cfg.inbox.mkdir()
    outside = tmp_path / "secret.837"
    outside.write_bytes(demo_variant("SECRET"))
    (cfg.inbox / "link.837").symlink_to(outside)
    os.mkfifo(cfg.inbox / "fifo.837")
    (cfg.inbox / "dir.837").mkdir()
    locked = drop(cfg, "locked.837", demo_variant("LOCK"))
    os.chmod(cfg.inbox / "locked.837", 0)
    good = drop(cfg, "good.837", demo_variant("GOOD"))
    real_open = os.open

    def as_unprivileged(path, flags, *args):  # root reads mode 000; the watcher's user cannot
        target = Path(os.fsdecode(path))
        if target.parent == cfg.claimed_dir and not os.stat(target).st_mode & 0o444:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(protocol.os, "open", as_unprivileged)
    with structlog.testing.capture_logs() as events:
        done = watcher(cfg).run(once=True)
    outcomes = {e["file"]: (e["outcome"], e.get("reason", "")) for e in done}
    assert outcomes["good.837"][0] == "archived"
    assert outcomes["locked.837"][0] == "quarantined"
    assert "cannot be read" in outcomes["locked.837"][1]
    skipped = {e["file"]: e["reason"] for e in events if e["event"] == "watch.skipped"}
    assert "symbolic link" in skipped["link.837"]
    assert "not a regular file" in skipped["fifo.837"]
    assert "directory" in skipped["dir.837"]
    assert outside.read_bytes() == demo_variant("SECRET")
    assert_files_conservation([good], *outputs(cfg))
    del locked
    # a restart with all of it still there does not crash either
    monkeypatch.setattr(protocol.os, "open", real_open)
    watcher(cfg).run(once=True)


def test_a_stuck_claimed_job_never_stops_a_restart(tmp_path: Path):
    cfg = config(tmp_path)
    prepared(cfg)
    os.mkfifo(cfg.claimed_dir / "0000000000000000005-1-1")  # a FIFO where a file should be
    (cfg.claimed_dir / "0000000000000000006-1-1").symlink_to("/etc/passwd")
    good = drop(cfg, "good.837", demo_variant("G"))
    done = watcher(cfg).run(once=True)
    assert [e["outcome"] for e in done] == ["quarantined", "quarantined", "archived"]
    assert_files_conservation([good], *outputs(cfg))


# 3. complete files only ---------------------------------------------------------------------


def two_interchanges(tag: str) -> tuple[bytes, bytes]:
    first = demo_variant(f"{tag}1")
    second = demo_variant(f"{tag}2").replace(b"000000101", b"000000102")
    return first, second


def test_a_file_written_in_place_with_a_pause_is_taken_whole(tmp_path: Path):
    """The break: settle 2 s, one interchange, a 4 s pause, a second interchange: the watcher
    took the file after the first and archived both. Now it waits for the writer to close."""
    cfg = config(tmp_path, settle=0.3, interval=0.05)
    the_watcher = watcher(cfg)
    the_watcher.prepare()
    thread = threading.Thread(target=the_watcher.run, daemon=True)
    thread.start()
    first, second = two_interchanges("P")
    try:
        time.sleep(0.3)
        with open(cfg.inbox / "inplace.837", "wb") as handle:
            handle.write(first)
            handle.flush()
            time.sleep(1.5)  # five times the settle time, the writer still holds the file
            assert not (cfg.archive / "inplace.837").exists()
            handle.write(second)
        deadline = time.monotonic() + 15
        while not (cfg.archive / "inplace.837").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        the_watcher.stop()
        thread.join(15)
    assert (cfg.archive / "inplace.837").read_bytes() == first + second
    counts = assert_files_conservation([first + second], *outputs(cfg))
    assert counts["claims"] == 16


def test_an_incomplete_tail_waits_then_is_quarantined_with_a_ta1(tmp_path: Path):
    cfg = config(tmp_path, max_wait=3600)
    whole = demo_variant("T")
    cut = whole[: len(whole) - 30]
    drop(cfg, "cut.837", cut)
    complete = drop(cfg, "whole.837", whole)
    done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["whole.837"]
    assert (cfg.inbox / "cut.837").exists()
    cfg.max_wait = 0
    done = watcher(cfg).run(once=True)
    assert [(e["file"], e["outcome"]) for e in done] == [("cut.837", "quarantined")]
    assert (cfg.quarantine / "cut.837").read_bytes() == cut
    assert b"TA1*" in (cfg.quarantine / "cut.837.999").read_bytes()
    assert_files_conservation([complete], *outputs(cfg))


def test_bytes_written_after_the_claim_roll_the_job_back(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    first, second = two_interchanges("W")
    drop(cfg, "late.837", first)
    real_run = stage.run_filter_file
    appended = []

    def write_more_meanwhile(*args, **kwargs):
        summary = real_run(*args, **kwargs)
        if not appended:  # the client appends to the claimed inode while it is decided
            claimed = next(cfg.claimed_dir.iterdir())
            with open(claimed, "ab") as handle:
                handle.write(second)
            appended.append(claimed)
        return summary

    monkeypatch.setattr(stage, "run_filter_file", write_more_meanwhile)
    the_watcher = watcher(cfg)
    done = the_watcher.run(once=True)
    assert [e["outcome"] for e in done] == ["archived"]
    assert (cfg.archive / "late.837").read_bytes() == first + second
    assert_files_conservation([first + second], *outputs(cfg))


# 4. a failed move ------------------------------------------------------------------------------


def test_a_move_that_fails_keeps_the_job_committed_and_retries_it(tmp_path: Path):
    cfg = config(tmp_path)
    data = drop(cfg, "a.837", demo_variant("A"))
    first = watcher(cfg)
    first.prepare()
    cfg.archive.rmdir()  # the operator removes archive/ mid-run
    with structlog.testing.capture_logs() as events:
        done = first.run(once=True)
    assert done[0]["outcome"] == "pending"
    assert first.unfinished == 1
    faults = [e for e in events if e["event"] == "watch.file_fault"]
    assert faults and "archive" in faults[0]["error"] and "missing" in faults[0]["error"]
    (manifest,) = cfg.jobs_dir.glob("*.json")
    assert json.loads(manifest.read_text())["state"] == "committed"
    cfg.archive.mkdir()
    watcher(cfg).run(once=True)  # restart: rolled forward, not decided again
    assert (cfg.archive / "a.837").read_bytes() == data
    counts = assert_files_conservation([data], *outputs(cfg))
    assert counts["claims"] == 8
    assert not list(cfg.jobs_dir.glob("*.json"))


def test_a_full_disk_while_staging_keeps_the_watcher_running(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    inputs = [drop(cfg, "a.837", demo_variant("A"))]
    time.sleep(0.01)
    inputs.append(drop(cfg, "b.837", demo_variant("B")))
    real_run = stage.run_filter_file
    full = [True]

    def disk_full_once(source, name, *args, **kwargs):
        if name == "a.837" and full[0]:
            full[0] = False
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_run(source, name, *args, **kwargs)

    monkeypatch.setattr(stage, "run_filter_file", disk_full_once)
    with structlog.testing.capture_logs() as events:
        done = watcher(cfg).run(once=True)
    assert sorted(e["file"] for e in done) == ["a.837", "b.837"]  # a.837 retried
    assert any(e["event"] == "watch.file_fault" for e in events)
    assert_files_conservation(inputs, *outputs(cfg))


# 5. routing on every interchange ---------------------------------------------------------------


def test_newline_terminated_interchanges_are_each_routed(tmp_path: Path):
    partners = tmp_path / "partners.toml"
    partners.write_text('[partners.DEMOSUB01]\noutbox = "demo"\n')
    cfg = config(tmp_path)
    known = demo_variant("K").replace(b"~\n", b"\n")
    stranger = (
        demo_variant("S", sender="STRANGER").replace(b"~\n", b"\n").replace(b"000000101", b"2" * 9)
    )
    drop(cfg, "mixed.837", known + stranger)
    done = watcher(cfg, load_partners(partners)).run(once=True)
    assert [e["outcome"] for e in done] == ["quarantined"]
    assert "STRANGER" in done[0]["reason"]
    assert not (cfg.acks / "demo").exists() or not list((cfg.acks / "demo").iterdir())
